#!/usr/bin/env python
"""The main job on a CPU, end to end (what `make demo` runs):

generate the synthetic benchmark (train, calib, val; and pets_mix, see generate) -> train
LWFTracker -> track the val sequences with the score threshold chosen on calib -> evaluate ->
render one val sequence -> print the metrics table and, on the last line, the folder holding
everything (model_final.pth, the training log metrics.json, the weighting curves, inference/ with
tracks/, mot_metrics.json/.csv and the COCO files, videos/ with the mp4, demo_times.json with each
step's seconds).

Each step is the user-facing command itself (train_net.py, track_net.py), run as a subprocess.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tools.demo_data import generate_demo_data

from lwf_track.evaluation.calibration import CALIBRATION_FILE
from lwf_track.evaluation.report import MOT_METRICS_FILE
from lwf_track.utils.io import atomic_write_json

REPO = Path(__file__).resolve().parents[1]
CONFIG = "configs/lwf_synthetic_cpu.yaml"
DEMO_TIMES_FILE = "demo_times.json"  # seconds per step and in total, for tools/recipe_runs.py
CALIBRATION = [
    "TRACKER.CALIBRATION.DATASET",
    "mot_synth_calib",
    "TRACKER.CALIBRATION.MAX_FRAMES",
    150,
]


def run(step: str, command, env) -> float:
    print(f"\n=== {step}: {' '.join(map(str, command))}", flush=True)
    start = time.perf_counter()
    subprocess.run([str(c) for c in command], cwd=REPO, env=env, check=True)
    elapsed = time.perf_counter() - start
    print(f"=== {step} done in {elapsed:.0f} s", flush=True)
    return elapsed


def generate(data_root: str) -> float:
    """The demo's splits, and the synthetic people the PETS09 recipe that starts from the demo's
    model mixes in (a few seconds), so that recipe needs nothing else from this machine."""
    start = time.perf_counter()
    generate_demo_data(data_root)
    return time.perf_counter() - start


def calibrated_thresholds(output: Path) -> list:
    """The thresholds the evaluation chose (``inference/calibration.json``), as overrides for the
    rendered video, which tracks without calibrating."""
    chosen = json.loads((output / "inference" / CALIBRATION_FILE).read_text())["chosen"]
    overrides = []
    for key in ("HIGH_SCORE_THRESH", "BIRTH_THRESH"):
        overrides += [f"TRACKER.{key}", chosen[key]]
    return overrides


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="output/demo", help="folder for every result")
    parser.add_argument("--data-root", default=os.environ.get("LWF_DATASETS", "datasets"))
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="extra config overrides")
    args = parser.parse_args()

    env = dict(os.environ, LWF_DATASETS=str(Path(args.data_root).resolve()))
    output = Path(args.output)
    start = time.perf_counter()
    times = {"generate": generate(args.data_root)}
    # the tracker's score threshold is chosen on the calib scenes (never on the val gt)
    overrides = [*CALIBRATION, "OUTPUT_DIR", output, *args.opts]
    times["train"] = run(
        "train", [sys.executable, "train_net.py", "--config-file", CONFIG, *overrides], env
    )
    weights = output / "model_final.pth"
    track = [sys.executable, "track_net.py", "--config-file", CONFIG]
    # Training ends with detectron2's final evaluation, which tracks the val set with the same
    # code; track_net.py then finds those tracks (it re-tracks only with --overwrite) and reports.
    times["evaluate"] = run(
        "track_net --eval-only", [*track, "--eval-only", "MODEL.WEIGHTS", weights, *overrides], env
    )
    val_dir = Path(args.data_root) / "synthetic" / "val"
    first_seq = sorted(p for p in val_dir.iterdir() if p.is_dir())[0]
    times["render"] = run(
        "render",
        [
            *track,
            "--input",
            first_seq / "img1",
            "--output",
            output / "videos",
            "MODEL.WEIGHTS",
            weights,
            *overrides,
            *calibrated_thresholds(output),
        ],
        env,
    )
    times["total"] = time.perf_counter() - start
    atomic_write_json(str(output / DEMO_TIMES_FILE), times)
    metrics = json.loads((output / "inference" / MOT_METRICS_FILE).read_text())
    overall = metrics.get("OVERALL", {})
    print("\n=== Demo summary")
    for step, seconds in times.items():
        print(f"{step:>16}: {seconds:6.0f} s")
    print(
        "OVERALL "
        + "  ".join(f"{k} {v:.1f}" for k, v in overall.items() if isinstance(v, (int, float)))
    )
    print(output.resolve())


if __name__ == "__main__":
    main()
