#!/usr/bin/env python
"""Frames/s of the whole tracker (model + association + writing results) over detectron2's plain
RetinaNet inference with the same backbone and input size, paired in one run.

    python -m bench.tracking_fps [--config configs/lwf_synthetic_cpu.yaml] [--frames 30]
        [--weights output/demo/model_final.pth] [--sequence DIR] [--repeats 3] [--markdown PATH]
        [config overrides, e.g. MODEL.REID.NUM_CONVS 1 for a model trained with it]

Goal: ratio >= 0.95, judged on the median of ``--repeats`` paired measurements (each the median of
``--rounds`` rounds over the frames, the two alternating frame by frame): one measurement swings by
a few hundredths from run to run. Frames are a synthetic sequence generated into a temporary folder,
or the first ``--frames`` images of a MOTChallenge sequence folder (``--sequence``, e.g. real
people). Both models load the same trained weights (default: the demo's model, when it exists), so
both see real detections and the tracker has people to follow; plain RetinaNet ignores the Re-ID
weights. Without weights both are randomly initialised, which yields almost no detections and
flatters the tracker: the script says so. ``--markdown`` writes the result as the README's generated
table.
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import cv2
import torch

from detectron2.data import transforms as T

import lwf_track  # noqa: F401
from lwf_track.data.synthetic import generate_benchmark
from lwf_track.utils.io import atomic_write_text

from bench.common import cpu_name, load_cfg, tracker_and_retinanet, tracker_vs_retinanet_seconds

GOAL = 0.95


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/lwf_synthetic_cpu.yaml")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds over the frames per measurement"
    )
    parser.add_argument("--repeats", type=int, default=1, help="independent paired measurements")
    parser.add_argument("--width", type=int, default=384)
    parser.add_argument("--height", type=int, default=216)
    parser.add_argument("--weights", default="output/demo/model_final.pth")
    parser.add_argument("--sequence", help="a sequence folder with img1/ (default: synthetic)")
    parser.add_argument("--markdown", help="also write the result as a markdown table here")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides (both models)")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.rounds < 1 or args.repeats < 1:
        parser.error("need --frames, --rounds and --repeats >= 1")
    return args


def load_frames(cfg, args, tmp: Path):
    """Model inputs of the first ``--frames`` frames, resized as at test time; and the folder."""
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
    return frames, seq


def markdown_result(command: str, result: dict) -> str:
    """One setting's measurements as a table for the README's generated block."""
    header = ["config", "frames", "weights", "RetinaNet frames/s", "tracker frames/s"]
    header += ["added ms/frame", "ratio per measurement", "median ratio", f"goal >= {GOAL}"]
    ratios = result["ratios"]
    median_ratio = statistics.median(ratios)
    plain, tracker = (statistics.median(result["fps"][k]) for k in ("RetinaNet", "tracker"))
    cells = [
        f"`{result['config']}`",
        result["frames"],
        f"`{result['weights']}`" if result["weights"] else "none (random init)",
        f"{plain:.1f}",
        f"{tracker:.1f}",
        f"{1000 / tracker - 1000 / plain:.1f}",
        " / ".join(f"{r:.3f}" for r in ratios),
        f"**{median_ratio:.3f}**",
        "met" if median_ratio >= GOAL else "NOT met",
    ]
    lines = [f"`{command}`", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |", "", f"Machine: {result['machine']}."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    trained = Path(args.weights).is_file()
    weights = ["MODEL.WEIGHTS", args.weights, "MODEL.REID.NUM_IDENTITIES", 0] if trained else []
    cfg = load_cfg(args.config, [*args.opts, *weights])  # nID from the checkpoint
    tmp = Path(tempfile.mkdtemp())
    frames, seq = load_frames(cfg, args, tmp)
    models = tracker_and_retinanet(cfg, args.weights if trained else None)
    size = f"{frames[0]['width']}x{frames[0]['height']}"
    config = " ".join([args.config, *args.opts])
    print(f"{config}: {len(frames)} frames {size} of {seq.name}, {args.rounds} rounds")
    if trained:
        print(f"  weights: {args.weights}")
    else:
        print(f"  no weights at {args.weights}: random init, few detections (flatters the tracker)")
    fps = {"tracker": [], "RetinaNet": []}
    ratios = []
    for repeat in range(args.repeats):
        median = tracker_vs_retinanet_seconds(
            cfg,
            models["LWFTracker"],
            models["RetinaNet"],
            frames,
            tmp / "tracks.txt",
            rounds=args.rounds,
            warmup=1,
        )
        for name, seconds in median.items():
            fps[name].append(len(frames) / seconds)
        ratios.append(fps["tracker"][-1] / fps["RetinaNet"][-1])
        print(
            f"  measurement {repeat + 1}/{args.repeats}: plain RetinaNet inference "
            f"{fps['RetinaNet'][-1]:6.1f} frames/s, full tracker (LWFTracker + association + "
            f"writing) {fps['tracker'][-1]:6.1f} frames/s, ratio {ratios[-1]:.3f}",
            flush=True,
        )
    ratio = statistics.median(ratios)
    print(
        f"tracker / RetinaNet frames/s ratio: {ratio:.3f} (goal >= {GOAL}; median of {len(ratios)})"
    )
    if args.markdown:
        result = {
            "config": config,
            "frames": f"{len(frames)} {size} of {seq.name}",
            "weights": args.weights if trained else None,
            "fps": fps,
            "ratios": ratios,
            "machine": f"{cpu_name()}, "
            f"{torch.get_num_threads()} torch threads, {cfg.MODEL.DEVICE}",
        }
        command = " ".join(["python -m bench.tracking_fps", *(argv or sys.argv[1:])])
        atomic_write_text(args.markdown, markdown_result(command, result))
        print(f"wrote {args.markdown}")


if __name__ == "__main__":
    main()
