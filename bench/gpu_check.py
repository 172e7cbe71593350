"""The first-GPU check: the paper's MOT16 recipe end to end on synthetic data, every figure in
one JSON.

    python -m bench.gpu_check [--out gpu_check.json]   # one GPU, about 3 minutes (goal <= 8)
    python -m bench.gpu_check --smoke                  # the same steps, tiny, on the CPU (CI)
    python -m bench.gpu_check --from-json R1.json R2.json --markdown R.md  # reports as a table

``--iters N`` trains longer than the check's 300 iterations; ``--markdown PATH`` writes the report
as the table of the README's generated block, ``--from-json`` makes it from reports GPU machines
wrote (no run; one column each).

Steps, through the user's own commands where there is one:

1. synthetic sequences laid out as ``MOT16/train`` and ``MOT16/test`` under a temporary root
   (``$LWF_DATASETS`` of the commands);
2. ``train_net.py --config-file configs/lwf_mot16.yaml --num-gpus 1`` from scratch
   (``MODEL.WEIGHTS ""``, BN): seconds per iteration and peak GPU memory, read from its log;
3. ``track_net.py --eval-only``, literally, in the same folder: the config's defaults and the
   weights training wrote; MOTA / IDF1 of the synthetic test set;
4. frames/s of the whole tracker over plain detectron2 RetinaNet of the same size (one paired
   run, as bench/tracking_fps.py measures it), both with the trained weights;
   and where a frame's time goes (model, association; GPU kernel time, kernel launches and memory
   copies from torch.profiler);
5. fvcore GFLOPs and parameters of both models (the paper's Table VI);
6. a few iterations with ``SOLVER.AMP.ENABLED True``: whether mixed precision trains.

It installs nothing: run it where ``make setup`` (or the README's GPU set-up) has run.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path

import cv2
import torch

import detectron2
from detectron2.data import transforms as T
from detectron2.utils.analysis import FlopCountAnalysis
from torch.profiler import ProfilerActivity, profile

import lwf_track  # noqa: F401  (registers the model)
from lwf_track.data.synthetic import generate_benchmark
from lwf_track.tracking import OnlineTracker
from lwf_track.utils.io import atomic_write_json, atomic_write_text

from .common import load_cfg, timed, tracker_and_retinanet, tracker_vs_retinanet_seconds

REPO = Path(__file__).resolve().parents[1]
CONFIG = "configs/lwf_mot16.yaml"
# What training from scratch needs (README, Troubleshooting): BN, nothing frozen, no weights.
FROM_SCRATCH = ["MODEL.WEIGHTS", "", "MODEL.RESNETS.NORM", "BN", "MODEL.BACKBONE.FREEZE_AT", "0"]
OVERALL = "OVERALL"
# torch.profiler's names of the host calls that start a GPU kernel
KERNEL_LAUNCHES = {"cudaLaunchKernel", "cudaLaunchKernelExC", "cuLaunchKernel"}
PROFILED_FRAMES = 30


@dataclass(frozen=True)
class Scale:
    """How big each step is."""

    width: int
    height: int
    train_seqs: int
    test_seqs: int
    frames: int
    iters: int
    batch: int
    amp_iters: int
    fps_frames: int
    # config overrides of every step (input size, device, loader)
    overrides: tuple = ()


# One GPU, the paper's recipe: R50-FPN at 608x1088, batch 8 (frames generated at that size).
FULL = Scale(1088, 608, 4, 2, 100, 300, 8, 30, 100)
# The same steps on 2 CPU cores in about 2 CPU minutes: the paper's R50-FPN on 160x96 frames;
# 4 iterations, the fewest after which detectron2 prints its training speed (3 are warm-up).
SMOKE = Scale(
    160,
    96,
    1,
    1,
    4,
    4,
    2,
    2,
    2,
    overrides=(
        *("MODEL.DEVICE", "cpu", "DATALOADER.NUM_WORKERS", "0"),
        *("INPUT.MIN_SIZE_TRAIN", "(96,)", "INPUT.MAX_SIZE_TRAIN", "160"),
        *("INPUT.MIN_SIZE_TEST", "96", "INPUT.MAX_SIZE_TEST", "160"),
    ),
)


def lay_out_mot16(root: Path, scale: Scale) -> dict:
    """Synthetic sequences as ``root/MOT16/{train,test}`` (test with gt, so it is evaluated)."""
    for split, num_seqs, seed in (("train", scale.train_seqs, 1), ("test", scale.test_seqs, 2)):
        generate_benchmark(
            root / "MOT16" / split, num_seqs, scale.frames, seed, scale.width, scale.height
        )
    return {"root": str(root), "frames_per_sequence": scale.frames, **asdict(scale)}


def run_command(args, work: Path, data_root: Path, log: Path, timeout: float) -> dict:
    """One of the project's commands, run as the user would (``work`` as the current folder),
    its output kept in ``log``; returns the exit status, seconds and output."""
    env = dict(os.environ, LWF_DATASETS=str(data_root), PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    try:
        result = subprocess.run(
            [sys.executable, *map(str, args)],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        output = error.output.decode() if isinstance(error.output, bytes) else error.output or ""
        raise SystemExit(f"{args[0]} ran past {timeout:.0f} s:\n{output[-3000:]}") from None
    log.write_text(result.stdout)
    return {
        "command": " ".join(map(str, args)),
        "returncode": result.returncode,
        "seconds": round(time.perf_counter() - start, 1),
        "output": result.stdout,
    }


def train_opts(scale: Scale, iters: int, output_dir: str) -> list:
    """Overrides of the training command: from scratch, ``iters`` iterations, no evaluation at
    the end (``track_net.py`` does it), one checkpoint at the end."""
    return [
        *FROM_SCRATCH,
        *scale.overrides,
        *("SOLVER.MAX_ITER", iters, "SOLVER.STEPS", f"({max(1, iters * 4 // 5)},)"),
        # a period past the last iteration: PeriodicCheckpointer writes model_final.pth alone
        *("SOLVER.WARMUP_ITERS", iters // 5, "SOLVER.CHECKPOINT_PERIOD", iters + 1),
        *("SOLVER.IMS_PER_BATCH", scale.batch, "DATASETS.TEST", "()", "OUTPUT_DIR", output_dir),
    ]


def training_figures(output: str) -> dict:
    """Seconds per iteration and peak GPU memory, as detectron2's training log prints them."""
    speed = re.search(
        r"Overall training speed: (\d+) iterations in \S+ \(([\d.]+) s / it\)", output
    )
    memory = re.findall(r"max_mem: (\d+)M", output)
    return {
        "timed_iterations": int(speed.group(1)) if speed else None,
        "seconds_per_iteration": float(speed.group(2)) if speed else None,
        "peak_gpu_memory_mib": int(memory[-1]) if memory else None,
    }


def stop_if_failed(step: dict, name: str, output: str) -> None:
    """A failed step stops the check with the end of its log."""
    if step["returncode"] != 0:
        raise SystemExit(f"{name} failed ({step['command']}):\n{output[-3000:]}")


def overall_metrics(output_dir: Path) -> dict:
    """The OVERALL row track_net.py wrote to ``inference/mot_metrics.json``."""
    path = output_dir / "inference" / "mot_metrics.json"
    table = json.loads(path.read_text()) if path.is_file() else {}
    if OVERALL not in table:
        raise SystemExit(f"track_net.py wrote no MOT metrics to {path}")
    keys = ("MOTA", "IDF1", "HOTA", "AP", "TPR@FAR=0.1")
    return {key: table[OVERALL].get(key) for key in keys}


def load_frames(cfg, sequence_dir: Path, count: int) -> list:
    """The first ``count`` frames of a sequence as the test loader feeds them to a model."""
    resize = T.ResizeShortestEdge(cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MAX_SIZE_TEST)
    frames = []
    for path in sorted((sequence_dir / "img1").glob("*.jpg"))[:count]:
        image = cv2.imread(str(path))
        resized = resize.get_transform(image).apply_image(image)
        tensor = torch.as_tensor(resized.transpose(2, 0, 1).astype("float32"))
        frames.append({"image": tensor, "height": image.shape[0], "width": image.shape[1]})
    return frames


def frames_per_second(cfg, models: dict, frames: list, work: Path) -> dict:
    """The whole tracker (model, association, writing results) and plain RetinaNet inference,
    paired in one run after one warm-up round."""
    seconds = tracker_vs_retinanet_seconds(
        cfg,
        models["LWFTracker"],
        models["RetinaNet"],
        frames,
        work / "fps_tracks.txt",
        rounds=1,
        warmup=1,
    )
    fps = {name: len(frames) / value for name, value in seconds.items()}
    return {
        "frames": len(frames),
        "tracker_fps": round(fps["tracker"], 2),
        "retinanet_fps": round(fps["RetinaNet"], 2),
        "ratio": round(fps["tracker"] / fps["RetinaNet"], 3),
    }


def per_frame_costs(cfg, models: dict, frames: list) -> dict:
    """Where a frame's time goes. Timed frame by frame (synchronized): the tracker's model, its
    association (``OnlineTracker.update``) and plain RetinaNet. From torch.profiler over the first
    frames: the GPU's own kernel time, kernel launches and memory copies of the whole tracker and
    of plain RetinaNet; at batch 1 a GPU model can wait on the host, not on its arithmetic."""
    milliseconds = {"model_ms": 0.0, "association_ms": 0.0, "plain_ms": 0.0}
    tracker = OnlineTracker(cfg, frame_rate=30)
    with torch.no_grad():
        for inputs in frames:
            milliseconds["plain_ms"] += timed(partial(models["RetinaNet"], [inputs]))[1]
            outputs, seconds = timed(partial(models["LWFTracker"], [inputs]))
            milliseconds["model_ms"] += seconds
            milliseconds["association_ms"] += timed(
                partial(tracker.update, outputs[0]["instances"])
            )[1]
    report = {key: round(1000 * value / len(frames), 2) for key, value in milliseconds.items()}
    report["timed_frames"] = len(frames)
    profiled = frames[:PROFILED_FRAMES]
    tracker = OnlineTracker(cfg, frame_rate=30)
    steps = {
        "tracker": lambda inputs: tracker.update(models["LWFTracker"]([inputs])[0]["instances"]),
        "RetinaNet": lambda inputs: models["RetinaNet"]([inputs]),
    }
    for name, step in steps.items():
        report[name] = _profile_counts(step, profiled)
    report["profiled_frames"] = len(profiled)
    return report


def _profile_counts(step, frames: list) -> dict:
    """Per frame of ``step``: GPU kernel milliseconds, kernel launches, memory copies."""
    activities = [ProfilerActivity.CPU]
    if torch.cuda.is_available():
        activities.append(ProfilerActivity.CUDA)
    with torch.no_grad(), profile(activities=activities) as profiler:
        for inputs in frames:
            step(inputs)
    events = profiler.key_averages()
    kernel_us = sum(getattr(event, "self_device_time_total", 0) for event in events)
    return {
        "gpu_kernel_ms": round(kernel_us / 1000 / len(frames), 2),
        "kernel_launches": round(
            sum(event.count for event in events if event.key in KERNEL_LAUNCHES) / len(frames), 1
        ),
        "memory_copies": round(
            sum(event.count for event in events if event.key == "cudaMemcpyAsync") / len(frames), 1
        ),
    }


def model_report(models: dict, frame: dict) -> dict:
    """Parameters (all, and without the training-only identity classifier) and fvcore GFLOPs."""
    report = {}
    with torch.no_grad():
        for name, model in models.items():
            flops = FlopCountAnalysis(model, [frame])
            flops.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            params = sum(p.numel() for p in model.parameters())
            classifier = getattr(model, "id_classifier", torch.nn.Identity())
            report[name] = {
                "params_m": round(params / 1e6, 2),
                "params_without_id_classifier_m": round(
                    (params - sum(p.numel() for p in classifier.parameters())) / 1e6, 2
                ),
                "gflops": round(flops.total() / 1e9, 1),
            }
    return report


def amp_check(scale: Scale, work: Path, data_root: Path, timeout: float) -> dict:
    """A short training with ``SOLVER.AMP.ENABLED True`` (fp16 on a GPU; bfloat16 autocast, or
    float32 with a warning, on a CPU)."""
    opts = [*train_opts(scale, scale.amp_iters, "./output/amp"), "SOLVER.AMP.ENABLED", "True"]
    args = [REPO / "train_net.py", "--config-file", REPO / CONFIG, "--num-gpus", "1", *opts]
    step = run_command(args, work, data_root, work / "amp.log", timeout)
    output = step.pop("output")
    lines = output.strip().splitlines()
    return {
        **step,
        "works": step["returncode"] == 0,
        **training_figures(output),
        "last_line": lines[-1] if lines else "",
    }


def environment() -> dict:
    from detectron2 import _C

    return {
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "detectron2": detectron2.__version__,
        # a compiled extension, not the Python placeholder of tools/install_detectron2.py
        "detectron2_compiled_ops": not _C.__file__.endswith(".py"),
        "cpu_threads": torch.get_num_threads(),
    }


def run_check(scale: Scale, work: Path, timeout: float, save) -> dict:
    """Every step in turn; ``save(report)`` after each, so a step that fails or runs out of
    the machine's time leaves the figures of those before it."""
    data_root = work / "datasets"
    report = {"environment": environment()}
    start = time.perf_counter()
    report["data"] = lay_out_mot16(data_root, scale)
    report["data"]["seconds"] = round(time.perf_counter() - start, 1)
    save(report)

    train = [REPO / "train_net.py", "--config-file", REPO / CONFIG, "--num-gpus", "1"]
    step = run_command(
        [*train, *train_opts(scale, scale.iters, "./output/lwf_mot16")],
        work,
        data_root,
        work / "train.log",
        timeout,
    )
    output = step.pop("output")
    report["train"] = {**step, **training_figures(output)}
    save(report)
    stop_if_failed(step, "training", output)

    step = run_command(
        [REPO / "track_net.py", "--eval-only"], work, data_root, work / "track.log", timeout
    )
    output = step.pop("output")
    report["track"] = step
    save(report)
    stop_if_failed(step, "track_net.py --eval-only", output)
    output_dir = work / "output" / "lwf_mot16"
    report["track"]["metrics"] = overall_metrics(output_dir)
    save(report)

    weights = ["MODEL.WEIGHTS", str(output_dir / "model_final.pth"), "MODEL.REID.NUM_IDENTITIES", 0]
    cfg = load_cfg(REPO / CONFIG, [*scale.overrides, *weights])
    models = tracker_and_retinanet(cfg, str(output_dir / "model_final.pth"))
    test_sequence = min((data_root / "MOT16" / "test").iterdir())
    frames = load_frames(cfg, test_sequence, scale.fps_frames)
    report["fps"] = frames_per_second(cfg, models, frames, work)
    save(report)
    report["per_frame"] = per_frame_costs(cfg, models, frames)
    save(report)
    report["model"] = model_report(models, frames[0])
    report["model"]["input"] = list(frames[0]["image"].shape[1:])
    save(report)
    report["amp"] = amp_check(scale, work, data_root, timeout)
    report["seconds"] = round(time.perf_counter() - start, 1)
    return report


def _figure(report: dict, *keys):
    """``report[k0][k1]...``, or "not run" where a step is missing (a failed or partial check)."""
    value = report
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return "not run"
        value = value[key]
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1 else f"{value:.2f}".rstrip("0").rstrip(".")
    return value


def _option(command: str, key: str) -> str:
    """A config override's value as the training command was given it."""
    found = re.search(rf"{re.escape(key)} (\S+)", command)
    return found.group(1) if found else "?"


def _rows(report: dict) -> list:
    """(figure, value) rows of one report. Iterations and batch are read off the training
    command that ran."""
    fig = partial(_figure, report)
    data, train_command = report.get("data", {}), fig("train", "command")
    rows = [
        (
            "device; torch / CUDA",
            f"{fig('environment', 'device')}; {fig('environment', 'torch')}"
            f" / {fig('environment', 'cuda')}",
        ),
        ("detectron2 compiled ops", fig("environment", "detectron2_compiled_ops")),
        (
            "synthetic sequences (train, test) x frames, size",
            f"{data.get('train_seqs')}, {data.get('test_seqs')} x {data.get('frames')}, "
            f"{data.get('width')}x{data.get('height')}",
        ),
        (
            "training from scratch (BN): iterations x batch",
            f"{_option(train_command, 'SOLVER.MAX_ITER')} x "
            f"{_option(train_command, 'SOLVER.IMS_PER_BATCH')}",
        ),
        ("training: s / iteration", fig("train", "seconds_per_iteration")),
        ("training: peak GPU memory (MiB)", fig("train", "peak_gpu_memory_mib")),
        ("training: command wall (s)", fig("train", "seconds")),
    ]
    for metric in ("MOTA", "IDF1", "HOTA", "AP", "TPR@FAR=0.1"):
        rows.append((f"`track_net.py --eval-only`: {metric}", fig("track", "metrics", metric)))
    rows += [
        (
            "frames/s: tracker / plain RetinaNet (ratio, frames)",
            f"{fig('fps', 'tracker_fps')} / {fig('fps', 'retinanet_fps')} "
            f"({fig('fps', 'ratio')}, {fig('fps', 'frames')})",
        ),
        (
            "ms / frame: tracker's model, association, plain RetinaNet",
            ", ".join(str(fig("per_frame", k)) for k in ("model_ms", "association_ms", "plain_ms")),
        ),
    ]
    for key, name in (
        ("gpu_kernel_ms", "GPU kernel ms"),
        ("kernel_launches", "kernel launches"),
        ("memory_copies", "memory copies"),
    ):
        rows.append(
            (
                f"{name} / frame (torch.profiler): tracker, plain RetinaNet",
                f"{fig('per_frame', 'tracker', key)}, {fig('per_frame', 'RetinaNet', key)}",
            )
        )
    for name in ("LWFTracker", "RetinaNet"):
        rows.append(
            (
                f"{name}: parameters (M), fvcore GFLOPs",
                f"{fig('model', name, 'params_m')}, {fig('model', name, 'gflops')}",
            )
        )
    rows += [
        (
            "AMP: trains; s / iteration; peak GPU memory (MiB)",
            f"{fig('amp', 'works')}; {fig('amp', 'seconds_per_iteration')}; "
            f"{fig('amp', 'peak_gpu_memory_mib')}",
        ),
        ("whole check (s); complete", f"{fig('seconds')}; {report.get('complete')}"),
    ]
    return rows


def markdown_report(reports: list, command: str) -> str:
    """The reports as the README's table, one column each: ``command`` (the one that made the
    table) on top, then each report's own command and note."""
    columns = [dict(_rows(report)) for report in reports]
    lines = [f"`{command}`", ""]
    for number, report in enumerate(reports, start=1):
        note = f" {report['note']}" if report.get("note") else ""
        lines.append(f"{number}. `{report.get('command', 'python -m bench.gpu_check')}`.{note}")
    lines += [
        "",
        "| figure | " + " | ".join(str(n) for n in range(1, len(reports) + 1)) + " |",
        "|---" * (len(reports) + 1) + "|",
    ]
    for name in columns[0]:
        lines.append(f"| {name} | " + " | ".join(str(c[name]) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="the same steps, tiny, on the CPU")
    parser.add_argument("--out", default="gpu_check.json", help="the JSON with every figure")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per command")
    parser.add_argument("--iters", type=int, help="training iterations (default: the scale's)")
    parser.add_argument("--markdown", help="also write the report as a markdown table here")
    parser.add_argument(
        "--from-json", type=Path, nargs="+", help="no run: --markdown from these reports (a GPU's)"
    )
    args = parser.parse_args(argv)
    if args.from_json:
        if not args.markdown:
            parser.error("--from-json needs --markdown (where the table goes)")
        reports = [json.loads(path.read_text()) for path in args.from_json]
        command = " ".join(
            ["python -m bench.gpu_check --from-json", *map(str, args.from_json)]
            + ["--markdown", args.markdown]
        )
        atomic_write_text(args.markdown, markdown_report(reports, command))
        return reports
    scale = SMOKE if args.smoke else FULL
    if args.iters:
        scale = replace(scale, iters=args.iters)
    if not args.smoke and not torch.cuda.is_available():
        raise SystemExit("error: no CUDA GPU is visible; use --smoke for the CPU version")
    work = args.work or Path(tempfile.mkdtemp(prefix="gpu_check_"))
    work.mkdir(parents=True, exist_ok=True)
    mode = "smoke" if args.smoke else "full"
    command = " ".join(["python -m bench.gpu_check", *(argv if argv is not None else sys.argv[1:])])

    def save(report, complete=False):
        atomic_write_json(
            args.out, {"mode": mode, "complete": complete, "command": command, **report}
        )

    try:
        report = run_check(scale, work, args.timeout, save)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    save(report, complete=True)
    report = {"mode": mode, "complete": True, "command": command, **report}
    if args.markdown:
        atomic_write_text(args.markdown, markdown_report([report], command))
    print(json.dumps(report, indent=2))
    print(f"wrote {args.out}")
    return report


if __name__ == "__main__":
    main()
