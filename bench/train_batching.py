#!/usr/bin/env python
"""Training step time with batches grouped by image size over detectron2's orientation-only
grouping, on the same model and data, paired in one run (DATALOADER.GROUP_BY_IMAGE_SIZE).

    python -m bench.train_batching [--config configs/lwf_pets09_cpu.yaml] [--steps 6] [--rounds 4]

Each round trains ``--steps`` steps on batches of each loader in turn (round 0 warms up) and the
median seconds per step are compared, with the padded pixels per batch that explain them. Needs
the config's training sets (the PETS09 recipe: ``datasets/MOT15``).
"""

import argparse
import statistics
import time

import torch

from detectron2.modeling import build_model
from detectron2.utils.events import EventStorage

import lwf_track  # noqa: F401
from lwf_track.engine import Trainer

from bench.common import load_cfg


def padded_pixels(batch) -> int:
    """Pixels the model computes on: every image padded to the batch's largest height and width."""
    height = max(d["image"].shape[1] for d in batch)
    width = max(d["image"].shape[2] for d in batch)
    return len(batch) * height * width


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/lwf_pets09_cpu.yaml")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    loaders, cfg = {}, None
    for name, grouped in (("orientation", False), ("size", True)):
        cfg = load_cfg(args.config, ["DATALOADER.GROUP_BY_IMAGE_SIZE", grouped])
        loaders[name] = iter(Trainer.build_train_loader(cfg))
    torch.manual_seed(0)
    model = build_model(cfg).train()
    optimizer = Trainer.build_optimizer(cfg, model)
    seconds = {name: [] for name in loaders}
    pixels = {name: [] for name in loaders}
    with EventStorage(0):
        for round_ in range(args.rounds + 1):
            for name, loader in loaders.items():
                batches = [next(loader) for _ in range(args.steps)]
                start = time.perf_counter()
                for batch in batches:
                    loss = sum(model(batch).values())
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                if round_:
                    seconds[name].append((time.perf_counter() - start) / args.steps)
                    pixels[name] += map(padded_pixels, batches)
    print(f"{args.config}: {args.rounds} rounds x {args.steps} steps per loader")
    for name in loaders:
        step, area = statistics.median(seconds[name]), statistics.mean(pixels[name])
        print(f"  grouped by {name:11s}: {step:.3f} s/step, {area:,.0f} padded pixels per batch")
    ratio = statistics.median(seconds["size"]) / statistics.median(seconds["orientation"])
    print(f"size-grouped / orientation-grouped step time: {ratio:.3f}")


if __name__ == "__main__":
    main()
