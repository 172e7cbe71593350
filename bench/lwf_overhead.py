#!/usr/bin/env python
"""Training step time of LWF over Fixed (HWF) for the same model, paired in one run.

    python -m bench.lwf_overhead [--config configs/lwf_synthetic_cpu.yaml] [--rounds 10]

Goal: ratio <= 1.01 (the paper: the LWF module adds negligible cost).
"""

import argparse

import torch

from detectron2.utils.events import EventStorage

import lwf_track  # noqa: F401
from lwf_track.engine import Trainer
from lwf_track.modeling import build_model

from bench.common import load_cfg, paired_times, random_batch


def make_step(cfg, batch):
    torch.manual_seed(0)
    model = build_model(cfg)
    model.train()
    optimizer = Trainer.build_optimizer(cfg, model)

    def step():
        losses = model(batch)
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/lwf_synthetic_cpu.yaml")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--height", type=int, default=216)
    parser.add_argument("--width", type=int, default=384)
    args = parser.parse_args()
    batch = random_batch(args.batch, args.height, args.width)
    steps = {}
    for name in ("Fixed", "LWF"):
        cfg = load_cfg(args.config, ["MODEL.LOSS_WEIGHTING.NAME", name])
        steps[name] = make_step(cfg, batch)
    with EventStorage(0):
        median = paired_times(steps, rounds=args.rounds)
    print(
        f"config {args.config}, batch {args.batch} x {args.height}x{args.width}, "
        f"{args.rounds} paired rounds, device {cfg.MODEL.DEVICE}"
    )
    for name, seconds in median.items():
        print(f"  {name:>6}: {seconds * 1000:8.1f} ms / step (median)")
    print(f"LWF / Fixed step time ratio: {median['LWF'] / median['Fixed']:.4f} (goal <= 1.01)")


if __name__ == "__main__":
    main()
