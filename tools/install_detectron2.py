"""Install detectron2 v0.6 into the current Python environment, CPU-only, from PyPI.

This file is the ONE place where the project adapts detectron2 to today's stack. detectron2 is not
published on PyPI as a normal package; the official route is a source build from its GitHub
repository (compiled ops, newest code: use it on GPU machines, this script then does nothing).
Everywhere else we install the PyPI sdist ``pb1-detectron2==0.6`` (Python files byte-identical to
the official v0.6 tag, C++ sources missing), hash-checked, after applying these fixes:

* setup.py: no C++ extension; no ``black==21.4b2`` / ``future`` / ``pydot`` pins (not used at run
  time); no direct-URL ``panopticapi`` extra (PyPI forbids it); model-zoo YAMLs listed as package
  data (the original glob looks for a top-level ``configs/`` the sdist does not have);
* ``detectron2/_C.py``: a placeholder for the compiled module that answers the version queries of
  ``collect_env_info()`` and raises a clear error when a compiled op is used;
* ``PIL.Image.LINEAR`` (removed in Pillow 10) -> ``Image.BILINEAR``;
* ``pkg_resources`` (removed from setuptools >= 82) -> ``importlib.resources`` in the model zoo;
* ``detectron2.export`` imports caffe2 (gone from torch): its caffe2 parts become optional, so FLOP
  counting (``detectron2.utils.analysis``) works;
* ``np.int`` / ``np.float`` / ``np.bool`` (removed in numpy 1.24) -> builtins.

Idempotent: does nothing when a working detectron2 is importable (a source build, say). When that
detectron2 has compiled ops, they must load against the installed torch: a build against another
torch loses them (an ``undefined symbol`` at import), and this script stops and says how to fix it.
Usage: ``python tools/install_detectron2.py [--sdist PATH] [--force] [--wheel-dir DIR]``.
"""

import argparse
import hashlib
import html.parser
import importlib.util
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

SDIST_NAME = "pb1-detectron2-0.6.tar.gz"
SDIST_SHA256 = "5d2e9e51e523ec72f6a31cca04b0a515492e9514b773a3d134cedc0677170b29"
SDIST_SIZE = 518_688
PROJECT = "pb1-detectron2"

PLACEHOLDER_C = '''"""Placeholder for detectron2's compiled ops (installed by lwf_track's tools/install_detectron2.py).

The pure-Python parts of detectron2 work; ops that need the C++/CUDA extension (deformable conv,
rotated boxes, ROIAlignRotated, the fast COCO evaluator) are not available in this build. Install
detectron2 from source (https://github.com/facebookresearch/detectron2) to get them.
"""


def get_compiler_version():
    return "not compiled (pb1-detectron2 sdist, Python-only)"


def get_cuda_version():
    return "not compiled"


def has_cuda():
    return False


def __getattr__(name):
    raise ImportError(
        f"detectron2 compiled op '{name}' is not available: this detectron2 was installed without "
        "its C++/CUDA extension. Build detectron2 from source to use it."
    )
'''

EXPORT_INIT = """# -*- coding: utf-8 -*-
# Patched by lwf_track (tools/install_detectron2.py): caffe2 is gone from torch, so the caffe2
# export API is optional; TracingAdapter (used by FLOP counting) and TorchScript helpers stay.
try:
    from .api import *
except ImportError:  # caffe2 not available
    pass
from .flatten import TracingAdapter
from .torchscript import scripting_with_instances, dump_torchscript_IR

__all__ = [k for k in globals().keys() if not k.startswith("_")]
"""

MODEL_ZOO_OLD = """    cfg_file = pkg_resources.resource_filename(
        "detectron2.model_zoo", os.path.join("configs", config_path)
    )"""
MODEL_ZOO_NEW = """    cfg_file = os.path.join(os.path.dirname(__file__), "configs", config_path)"""

NUMPY_ALIAS = re.compile(r"\bnp\.(int|float|bool)\b(?![\d_])")


def detectron2_works() -> bool:
    """True when detectron2 imports with its config and modeling code (any install route)."""
    if importlib.util.find_spec("detectron2") is None:
        return False
    probe = "import detectron2.config, detectron2.modeling, detectron2.data, detectron2.engine"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


# Prints "none" (no compiled extension: this script's Python-only build), "ok", or fails with the
# import error of a compiled ``detectron2/_C*.so`` that does not load against this torch.
COMPILED_OPS_PROBE = """
import importlib.util
origin = importlib.util.find_spec("detectron2._C").origin
if origin.endswith(".py"):
    print("none")
else:
    import torch  # the extension links against torch's libraries, loaded first
    import detectron2._C
    print("ok")
"""


def check_compiled_ops() -> str:
    """'none' or 'ok' (see :data:`COMPILED_OPS_PROBE`); stops with what to do otherwise."""
    probe = subprocess.run(
        [sys.executable, "-c", COMPILED_OPS_PROBE], capture_output=True, text=True
    )
    if probe.returncode == 0:
        return probe.stdout.strip()
    import torch

    error = (probe.stderr.strip().splitlines() or ["(no message)"])[-1]
    raise SystemExit(
        f"detectron2 is installed but its compiled ops do not load against torch "
        f"{torch.__version__} ({error}), most likely built against another torch. Rebuild it "
        "against this one (README, Install: GPU machines) or install the Python-only build "
        "with: python tools/install_detectron2.py --force"
    )


def index_url() -> str:
    """The simple index pip is configured with (no host name hard-coded in the project)."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
        capture_output=True,
        text=True,
    )
    url = out.stdout.strip() if out.returncode == 0 else ""
    if not url:
        from pip._internal.models.index import PyPI

        url = PyPI.simple_url
    return url.rstrip("/") + "/"


class _LinkParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.extend(v for k, v in attrs if k == "href")


def download_sdist(dest: Path) -> Path:
    page_url = urllib.parse.urljoin(index_url(), PROJECT + "/")
    with urllib.request.urlopen(page_url, timeout=120) as resp:
        parser = _LinkParser()
        parser.feed(resp.read().decode("utf-8", "replace"))
    for href in parser.links:
        if urllib.parse.urlparse(href).path.endswith("/" + SDIST_NAME):
            url = urllib.parse.urljoin(page_url, href)
            break
    else:
        raise SystemExit(f"{SDIST_NAME} not listed on {page_url}")
    target = dest / SDIST_NAME
    with urllib.request.urlopen(url, timeout=300) as resp, open(target, "wb") as f:
        shutil.copyfileobj(resp, f)
    return target


def verify(sdist: Path) -> None:
    data = sdist.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != SDIST_SIZE or digest != SDIST_SHA256:
        raise SystemExit(
            f"{sdist}: expected {SDIST_SIZE} bytes with sha256 {SDIST_SHA256}, "
            f"got {len(data)} bytes with sha256 {digest}"
        )


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if old not in text:
        raise SystemExit(f"{path}: expected text to patch not found:\n{old}")
    path.write_text(text.replace(old, new, 1))


def patch_setup_py(setup_py: Path) -> None:
    text = setup_py.read_text()
    text = re.sub(r"\n\s*ext_modules=get_extensions\(\),", "", text)
    text = re.sub(r"\n\s*cmdclass=\{[^}]*\},", "", text)
    for pin in ('"future",', '"pydot",', '"black==21.4b2",'):
        text = re.sub(r"\n\s*" + re.escape(pin) + r"[^\n]*", "", text)
    text = re.sub(r'\n\s*"panopticapi @ [^\n]*', "", text)
    text = text.replace(
        'package_data={"detectron2.model_zoo": get_model_zoo_configs()}',
        'package_data={"detectron2.model_zoo": ["configs/**/*.yaml", "configs/**/*.py"]}',
    )
    for leftover in ("get_extensions()", "black==", "panopticapi @", "get_model_zoo_configs()}"):
        if leftover in text.split("setup(", 1)[1]:
            raise SystemExit(f"{setup_py}: patch incomplete, '{leftover}' still present")
    setup_py.write_text(text)


def patch_tree(src: Path) -> None:
    pkg = src / "detectron2"
    patch_setup_py(src / "setup.py")
    (pkg / "_C.py").write_text(PLACEHOLDER_C)
    replace_once(pkg / "data/transforms/transform.py", "Image.LINEAR", "Image.BILINEAR")
    zoo = pkg / "model_zoo/model_zoo.py"
    replace_once(zoo, MODEL_ZOO_OLD, MODEL_ZOO_NEW)
    replace_once(zoo, "import pkg_resources\n", "")
    (pkg / "export/__init__.py").write_text(EXPORT_INIT)
    for py in sorted(pkg.rglob("*.py")):
        text = py.read_text()
        fixed = NUMPY_ALIAS.sub(r"\1", text)
        if fixed != text:
            py.write_text(fixed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, help=f"local {SDIST_NAME} (default: download)")
    parser.add_argument("--force", action="store_true", help="reinstall even if importable")
    parser.add_argument(
        "--wheel-dir", type=Path, help="build the patched wheel into DIR instead (offline machines)"
    )
    args = parser.parse_args()
    if args.wheel_dir is None and not args.force and detectron2_works():
        compiled = check_compiled_ops()
        ops = "its compiled ops load" if compiled == "ok" else "Python-only build"
        print(f"detectron2 already installed and importable ({ops}); nothing to do")
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sdist = args.sdist or download_sdist(tmp)
        verify(sdist)
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
        src = tmp / "pb1-detectron2-0.6"
        patch_tree(src)
        if args.wheel_dir is not None:
            pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
            subprocess.run(pip + ["-w", str(args.wheel_dir), str(src)], check=True)
            return
        pip = [sys.executable, "-m", "pip", "install", "--no-build-isolation"]
        subprocess.run(pip + [str(src)], check=True)
    if not detectron2_works():
        raise SystemExit("detectron2 installed but does not import; see the messages above")
    print("detectron2 0.6 installed (Python-only build)")


if __name__ == "__main__":
    main()
