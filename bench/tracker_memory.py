#!/usr/bin/env python
"""Peak RSS while tracking 300 versus 3000 frames of one long synthetic sequence.

    python -m bench.tracker_memory

Each length runs in its own process (peak RSS is per process). Detections are the sequence's
ground truth with noise, misses and false positives, and per-identity embeddings with noise, so
only the tracker (and result writing) is measured. Goal: growth <= 5%.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from detectron2.config import get_cfg
from detectron2.structures import Boxes, Instances

from lwf_track import add_lwf_config
from lwf_track.data.mot_format import read_gt, write_mot_results
from lwf_track.tracking import OnlineTracker, tracks_to_mot_rows

REPO = Path(__file__).resolve().parents[1]


def track_sequence(seq_dir: Path, frames: int) -> int:
    cfg = get_cfg()
    add_lwf_config(cfg)
    gt = read_gt(seq_dir / "gt" / "gt.txt")
    rng = np.random.default_rng(0)
    identity_embeddings = rng.normal(size=(int(gt[:, 1].max()) + 1, 32))
    tracker = OnlineTracker(cfg, frame_rate=30)
    rows = []
    for frame in range(1, frames + 1):
        boxes = gt[(gt[:, 0] == frame) & (gt[:, 8] > 0.2)]
        boxes = boxes[rng.random(len(boxes)) > 0.1]
        xyxy = boxes[:, 2:6].copy()
        xyxy[:, 2:] += xyxy[:, :2]
        xyxy += rng.normal(scale=1.5, size=xyxy.shape)
        embeddings = identity_embeddings[boxes[:, 1].astype(int)]
        embeddings = embeddings + rng.normal(scale=0.3, size=embeddings.shape)
        embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
        detections = Instances((1080, 1920))
        detections.pred_boxes = Boxes(torch.as_tensor(xyxy, dtype=torch.float32))
        detections.scores = torch.as_tensor(rng.uniform(0.5, 1.0, len(boxes)), dtype=torch.float32)
        detections.pred_embeddings = torch.as_tensor(embeddings, dtype=torch.float32)
        rows.extend(tracks_to_mot_rows(frame, tracker.update(detections), 0.0))
    write_mot_results(str(seq_dir.parent / f"tracks_{frames}.txt"), rows)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("SEQ_DIR", "FRAMES"), help=argparse.SUPPRESS)
    parser.add_argument("--short", type=int, default=300)
    parser.add_argument("--long", type=int, default=3000)
    args = parser.parse_args()
    if args.child:
        print(json.dumps({"peak_rss_kb": track_sequence(Path(args.child[0]), int(args.child[1]))}))
        return
    from lwf_track.data.synthetic import generate_benchmark  # the parent's only: not in the RSS

    tmp = Path(tempfile.mkdtemp())
    seq = generate_benchmark(tmp / "seqs", 1, args.long, seed=3, width=320, height=180)[0]
    peaks = {}
    for frames in (args.short, args.long):
        out = subprocess.run(
            [sys.executable, "-m", "bench.tracker_memory", "--child", str(seq), str(frames)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        peaks[frames] = json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_kb"]
    growth = peaks[args.long] / peaks[args.short] - 1
    for frames, kb in peaks.items():
        print(f"  {frames:5d} frames: peak RSS {kb / 1024:7.1f} MiB")
    print(f"peak RSS growth {args.short} -> {args.long} frames: {growth * 100:+.2f}% (goal <= 5%)")


if __name__ == "__main__":
    main()
