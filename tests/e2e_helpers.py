"""Helpers for the end-to-end tests: tiny synthetic data and the real commands as subprocesses."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = "configs/lwf_synthetic_cpu.yaml"
# A tiny, fast variant of the CPU config: every e2e test trains on 160x96 frames.
TINY = [
    "INPUT.MIN_SIZE_TRAIN",
    "(96,)",
    "INPUT.MAX_SIZE_TRAIN",
    "160",
    "INPUT.MIN_SIZE_TEST",
    "96",
    "INPUT.MAX_SIZE_TEST",
    "160",
    "MODEL.FPN.OUT_CHANNELS",
    "32",
    "MODEL.REID.EMBED_DIM",
    "16",
    "SOLVER.IMS_PER_BATCH",
    "2",
    "DATALOADER.NUM_WORKERS",
    "0",
    "MODEL.RETINANET.SCORE_THRESH_TEST",
    "0.05",
]


def make_synthetic_root(root: Path, frames: int = 8) -> Path:
    """``root/synthetic/{train,val}`` with two tiny sequences each."""
    from lwf_track.data.synthetic import generate_benchmark

    for split, seed in (("train", 11), ("val", 12)):
        generate_benchmark(
            root / "synthetic" / split, num_seqs=2, frames=frames, seed=seed, width=160, height=96
        )
    return root


def run_command(args, data_root: Path, timeout: int = 300, check: bool = True, cwd: Path = REPO):
    env = dict(os.environ, LWF_DATASETS=str(data_root), OMP_NUM_THREADS="2")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} failed ({result.returncode}):\n{result.stderr[-4000:]}"
        )
    return result


def train_command(output_dir: Path, flags=(), opts=()):
    """train_net.py with the tiny settings; ``flags`` before the config overrides ``opts``."""
    return ["train_net.py", "--config-file", CONFIG, *flags, *TINY, "OUTPUT_DIR", output_dir, *opts]
