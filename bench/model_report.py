#!/usr/bin/env python
"""Parameters, GFLOPs (fvcore) and frames/s of plain RetinaNet and LWFTracker (paper Table VI).

    python -m bench.model_report [--config configs/lwf_mot16.yaml] [--height 608 --width 1088]

All models share backbone, input size and device; frames/s is measured paired in one run.
LWFTracker is reported twice: with the Re-ID tower run densely over every FPN position (what the
FLOPs of a joint-detection-and-embedding head usually count) and with the default sparse Re-ID
inference (``MODEL.REID.SPARSE_INFERENCE``: the tower only around the kept detections), whose cost
grows with the number of detections: the score threshold is 0 and every model keeps exactly
``--detections`` per frame (default 100; a MOT16 frame shows about 30 people, a MOT20 frame
about 170).
"""

import argparse

import torch

from detectron2.utils.analysis import FlopCountAnalysis

import lwf_track  # noqa: F401
from lwf_track.modeling import build_model

from bench.common import load_cfg, paired_times

PAPER_TABLE_VI = "paper Table VI: 36.25 M parameters for its model (R50-FPN)"


def build(cfg, meta_arch: str, sparse_reid: bool = True):
    cfg = cfg.clone()
    cfg.MODEL.META_ARCHITECTURE = meta_arch
    cfg.MODEL.REID.SPARSE_INFERENCE = sparse_reid
    torch.manual_seed(0)
    return build_model(cfg).eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/lwf_mot16.yaml")
    parser.add_argument("--height", type=int, default=608)
    parser.add_argument("--width", type=int, default=1088)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--num-identities", type=int, default=517, help="nID (MOT16 train: 517)")
    parser.add_argument("--detections", type=int, default=100, help="detections kept per frame")
    args = parser.parse_args()
    cfg = load_cfg(
        args.config,
        [
            *("MODEL.REID.NUM_IDENTITIES", args.num_identities),
            *("MODEL.RETINANET.SCORE_THRESH_TEST", 0.0),
            *("TEST.DETECTIONS_PER_IMAGE", args.detections),
        ],
    )
    image = torch.randint(0, 256, (3, args.height, args.width)).float()
    inputs = [{"image": image, "height": args.height, "width": args.width}]
    models = {
        "RetinaNet": build(cfg, "RetinaNet"),
        "LWFTracker (dense Re-ID)": build(cfg, "LWFTracker", sparse_reid=False),
        "LWFTracker": build(cfg, "LWFTracker"),
    }
    rows = {}
    with torch.no_grad():
        for name, model in models.items():
            flops = FlopCountAnalysis(model, inputs)
            flops.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            params = sum(p.numel() for p in model.parameters())
            inference_params = params - sum(
                p.numel() for p in getattr(model, "id_classifier", torch.nn.Identity()).parameters()
            )
            rows[name] = {
                "params": params,
                "inference_params": inference_params,
                "gflops": flops.total() / 1e9,
            }
        fps_fns = {name: (lambda m=model: m(inputs)) for name, model in models.items()}
        median = paired_times(fps_fns, rounds=args.rounds, warmup=1)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    print(
        f"{args.config} at {args.height}x{args.width}, device {device}, "
        f"nID {args.num_identities}, {args.detections} detections per frame, "
        f"{torch.get_num_threads()} threads"
    )
    print(f"{'model':<25} {'params (M)':>11} {'w/o ID clf':>11} {'GFLOPs':>8} {'frames/s':>9}")
    for name, row in rows.items():
        print(
            f"{name:<25} {row['params'] / 1e6:11.2f} {row['inference_params'] / 1e6:11.2f} "
            f"{row['gflops']:8.1f} {1 / median[name]:9.2f}"
        )
    for name in list(models)[1:]:
        print(f"{name} / RetinaNet frames/s ratio: {median['RetinaNet'] / median[name]:.3f}")
    print(PAPER_TABLE_VI)


if __name__ == "__main__":
    main()
