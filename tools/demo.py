#!/usr/bin/env python
"""The main job on a CPU, end to end (what `make demo` runs):

generate the synthetic benchmark (train + val) -> train LWFTracker -> track the val sequences ->
evaluate -> render one val sequence -> print the metrics table and, on the last line, the folder
holding everything (metrics.json, metrics.csv, model_final.pth, tracks/, the mp4, the weighting
curves).

Each step is the user-facing command itself (train_net.py, track_net.py), run as a subprocess.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = "configs/lwf_synthetic_cpu.yaml"


def run(step: str, command, env) -> float:
    print(f"\n=== {step}: {' '.join(map(str, command))}", flush=True)
    start = time.perf_counter()
    subprocess.run([str(c) for c in command], cwd=REPO, env=env, check=True)
    elapsed = time.perf_counter() - start
    print(f"=== {step} done in {elapsed:.0f} s", flush=True)
    return elapsed


def generate(split: str, args, seed: int, num_seqs: int, env) -> float:
    out = Path(args.data_root) / "synthetic" / split
    if (out / ".complete").exists() and not args.regenerate:
        print(f"=== {split} data exists in {out} (use --regenerate to rebuild)")
        return 0.0
    command = [sys.executable, "-m", "lwf_track.data.synthetic", "--out", out]
    command += ["--num-seqs", num_seqs, "--frames", args.frames, "--seed", seed]
    command += ["--width", args.width, "--height", args.height, "--difficulty", args.difficulty]
    elapsed = run(f"generate {split}", command, env)
    (out / ".complete").write_text("ok\n")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="output/demo", help="folder for every result")
    parser.add_argument("--data-root", default=os.environ.get("LWF_DATASETS", "datasets"))
    parser.add_argument("--difficulty", default="medium", choices=["easy", "medium", "hard"])
    parser.add_argument("--train-seqs", type=int, default=6)
    parser.add_argument("--val-seqs", type=int, default=3)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--width", type=int, default=384)
    parser.add_argument("--height", type=int, default=216)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="extra config overrides")
    args = parser.parse_args()

    env = dict(os.environ, LWF_DATASETS=str(Path(args.data_root).resolve()))
    output = Path(args.output)
    start = time.perf_counter()
    times = {
        "generate": generate("train", args, 1, args.train_seqs, env)
        + generate("val", args, 2, args.val_seqs, env)
    }
    overrides = ["OUTPUT_DIR", output, *args.opts]
    times["train"] = run(
        "train", [sys.executable, "train_net.py", "--config-file", CONFIG, *overrides], env
    )
    weights = output / "model_final.pth"
    track = [sys.executable, "track_net.py", "--config-file", CONFIG]
    times["track+evaluate"] = run(
        "track + evaluate",
        [*track, "--eval-only", "--overwrite", "MODEL.WEIGHTS", weights, *overrides],
        env,
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
        ],
        env,
    )
    metrics = json.loads((output / "metrics.json").read_text())
    overall = metrics.get("OVERALL", {})
    print("\n=== Demo summary")
    for step, seconds in times.items():
        print(f"{step:>16}: {seconds:6.0f} s")
    print(f"{'total':>16}: {time.perf_counter() - start:6.0f} s")
    print(
        "OVERALL "
        + "  ".join(f"{k} {v:.1f}" for k, v in overall.items() if isinstance(v, (int, float)))
    )
    print(output.resolve())


if __name__ == "__main__":
    main()
