#!/usr/bin/env python
"""Training step time with batches grouped by image size over detectron2's orientation-only
grouping, on the same model and data, paired in one run (DATALOADER.GROUP_BY_IMAGE_SIZE).

    python -m bench.train_batching [--config configs/lwf_pets09_cpu_scratch.yaml] [--steps 6]
        [--rounds 4]

Each round trains ``--steps`` steps on batches of each loader in turn (round 0 warms up; the
alternation of ``bench.common.paired_times``) and the median seconds per step are compared, with
the padded pixels per batch that explain them. Needs
the config's training sets (the PETS09 recipe: ``datasets/MOT15``).
"""

import argparse
import statistics

import torch

from detectron2.utils.events import EventStorage

import lwf_track  # noqa: F401
from lwf_track.engine import Trainer
from lwf_track.modeling import build_model

from bench.common import load_cfg, paired_times


def padded_pixels(batch) -> int:
    """Pixels the model computes on: every image padded to the batch's largest height and width."""
    height = max(d["image"].shape[1] for d in batch)
    width = max(d["image"].shape[2] for d in batch)
    return len(batch) * height * width


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/lwf_pets09_cpu_scratch.yaml")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    batches, cfg = {}, None
    for name, grouped in (("orientation", False), ("size", True)):
        cfg = load_cfg(args.config, ["DATALOADER.GROUP_BY_IMAGE_SIZE", grouped])
        loader = iter(Trainer.build_train_loader(cfg))
        # fetched before timing: only the steps are compared (round 0 warms up)
        batches[name] = [next(loader) for _ in range((args.rounds + 1) * args.steps)]
    torch.manual_seed(0)
    model = build_model(cfg).train()
    optimizer = Trainer.build_optimizer(cfg, model)

    def train_on(stream):
        def steps():
            for _ in range(args.steps):
                loss = sum(model(next(stream)).values())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

        return steps

    functions = {name: train_on(iter(listed)) for name, listed in batches.items()}
    with EventStorage(0):
        seconds = paired_times(functions, rounds=args.rounds, warmup=1)
    print(f"{args.config}: {args.rounds} rounds x {args.steps} steps per loader")
    for name, listed in batches.items():
        step, area = seconds[name] / args.steps, statistics.mean(map(padded_pixels, listed))
        print(f"  grouped by {name:11s}: {step:.3f} s/step, {area:,.0f} padded pixels per batch")
    ratio = seconds["size"] / seconds["orientation"]
    print(f"size-grouped / orientation-grouped step time: {ratio:.3f}")


if __name__ == "__main__":
    main()
