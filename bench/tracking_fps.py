#!/usr/bin/env python
"""Frames/s of the whole tracker (model + association + writing results) over detectron2's plain
RetinaNet inference with the same backbone and input size, paired in one run.

    python -m bench.tracking_fps [--config configs/lwf_synthetic_cpu.yaml] [--frames 30]
        [--weights output/demo/model_final.pth] [--sequence DIR]

Goal: ratio >= 0.95. Frames are a synthetic sequence generated into a temporary folder, or the
first ``--frames`` images of a MOTChallenge sequence folder (``--sequence``, e.g. real people). Both
models load the same trained weights (default: the demo's model, when it exists), so both see
real detections and the tracker has people to follow; plain RetinaNet ignores the Re-ID weights.
Without weights both are randomly initialised, which yields almost no detections and flatters the
tracker: the script says so.
"""

import argparse
import tempfile
from pathlib import Path

import cv2
import torch

from detectron2.checkpoint import DetectionCheckpointer
from detectron2.data import transforms as T
from detectron2.modeling import build_model

import lwf_track  # noqa: F401
from lwf_track.data.synthetic import generate_benchmark

from bench.common import load_cfg, tracker_vs_retinanet_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/lwf_synthetic_cpu.yaml")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--width", type=int, default=384)
    parser.add_argument("--height", type=int, default=216)
    parser.add_argument("--weights", default="output/demo/model_final.pth")
    parser.add_argument("--sequence", help="a sequence folder with img1/ (default: synthetic)")
    args = parser.parse_args()
    trained = Path(args.weights).is_file()
    weights = ["MODEL.WEIGHTS", args.weights, "MODEL.REID.NUM_IDENTITIES", 0] if trained else []
    cfg = load_cfg(args.config, weights)  # nID from the checkpoint
    tmp = Path(tempfile.mkdtemp())
    if args.sequence:
        seq = Path(args.sequence)
        if not sorted(seq.glob("img1/*.jpg")):
            raise SystemExit(f"{seq / 'img1'}: no .jpg frames (--sequence wants a sequence folder)")
    else:
        seq = generate_benchmark(
            tmp / "seqs", 1, args.frames, seed=5, width=args.width, height=args.height
        )[0]
    resize = T.ResizeShortestEdge(cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MAX_SIZE_TEST)
    frames = []
    for path in sorted(Path(seq, "img1").glob("*.jpg"))[: args.frames]:
        image = cv2.imread(str(path))
        resized = resize.get_transform(image).apply_image(image)
        tensor = torch.as_tensor(resized.transpose(2, 0, 1).astype("float32"))
        frames.append({"image": tensor, "height": image.shape[0], "width": image.shape[1]})

    models = {}
    for name, meta_arch in (("tracker", "LWFTracker"), ("RetinaNet", "RetinaNet")):
        model_cfg = cfg.clone()
        model_cfg.MODEL.META_ARCHITECTURE = meta_arch
        torch.manual_seed(0)
        models[name] = build_model(model_cfg).eval()
        if trained:
            DetectionCheckpointer(models[name]).load(args.weights)
    median = tracker_vs_retinanet_seconds(
        cfg,
        models["tracker"],
        models["RetinaNet"],
        frames,
        tmp / "tracks.txt",
        rounds=args.rounds,
        warmup=1,
    )
    fps = {name: len(frames) / seconds for name, seconds in median.items()}
    size = f"{frames[0]['width']}x{frames[0]['height']}"
    print(f"{args.config}: {len(frames)} frames {size} of {seq.name}, {args.rounds} rounds")
    if trained:
        print(f"  weights: {args.weights}")
    else:
        print(f"  no weights at {args.weights}: random init, few detections (flatters the tracker)")
    print(f"  plain RetinaNet inference: {fps['RetinaNet']:6.1f} frames/s")
    print(f"  full tracker (LWFTracker + association + writing): {fps['tracker']:6.1f} frames/s")
    ratio = fps["tracker"] / fps["RetinaNet"]
    print(f"tracker / RetinaNet frames/s ratio: {ratio:.3f} (goal >= 0.95)")


if __name__ == "__main__":
    main()
