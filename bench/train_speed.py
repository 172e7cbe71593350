#!/usr/bin/env python
"""Training step time of the CPU speed keys, MODEL.CHANNELS_LAST and SOLVER.AMP.ENABLED (bfloat16
autocast on a CPU), against plain float32 NCHW: the same model (same initial weights) on the same
batches through the Trainer's own training loop, paired in one run.

    python -m bench.train_speed [--config configs/lwf_synthetic_cpu.yaml] [--steps 4]
        [--rounds 4]

Each round runs ``--steps`` steps of every set-up in turn (round 0 warms up; the alternation of
``bench.common.paired_times``); the median seconds per step are compared with the first. The
raw task losses of each set-up's first step are printed beside its time: channels-last changes
the order of the arithmetic, not its result; bfloat16 rounds. Needs the config's training sets
(`make demo` writes the synthetic ones; the PETS09 recipes also need ``datasets/MOT15``).
"""

import argparse

import torch

from detectron2.utils.events import EventStorage

import lwf_track  # noqa: F401
from lwf_track.engine import Trainer
from lwf_track.engine.trainer import training_loop_class
from lwf_track.modeling import build_model
from lwf_track.weighting import TASKS

from bench.common import load_cfg, paired_times

SETUPS = {  # name: (MODEL.CHANNELS_LAST, SOLVER.AMP.ENABLED)
    "float32 NCHW": (False, False),
    "float32 channels-last": (True, False),
    "bfloat16 channels-last": (True, True),
}


def build_loops(cfg, batches: list) -> dict:
    """One training loop per set-up, each over its own iterator of ``batches``; ``cfg`` is left
    as it was."""
    loops = {}
    for name, (channels_last, amp) in SETUPS.items():
        setup_cfg = cfg.clone()
        setup_cfg.MODEL.CHANNELS_LAST, setup_cfg.SOLVER.AMP.ENABLED = channels_last, amp
        torch.manual_seed(0)
        model = build_model(setup_cfg).train()
        optimizer = Trainer.build_optimizer(setup_cfg, model)
        loops[name] = training_loop_class(setup_cfg)(model, batches, optimizer)
    return loops


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/lwf_synthetic_cpu.yaml")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    if args.steps < 1 or args.rounds < 1:
        parser.error("need --steps and --rounds >= 1")
    cfg = load_cfg(args.config, ["MODEL.REID.NUM_IDENTITIES", 0])  # nID of the training sets
    loader = iter(Trainer.build_train_loader(cfg))
    # fetched before timing: only the steps are compared (round 0 warms up)
    batches = [next(loader) for _ in range((args.rounds + 1) * args.steps + 1)]
    loops = build_loops(cfg, batches)
    with EventStorage(0) as storage:
        first_losses = {}
        for name, loop in loops.items():
            loop.run_step()
            first_losses[name] = [storage.history(f"raw_loss/{t}").latest() for t in TASKS]

        def steps(loop):
            return lambda: [loop.run_step() for _ in range(args.steps)]

        seconds = paired_times({n: steps(loop) for n, loop in loops.items()}, args.rounds, 1)
    print(f"{args.config}: {args.rounds} rounds x {args.steps} steps per set-up")
    baseline = next(iter(SETUPS))
    for name, loop in loops.items():
        losses = ", ".join(f"{t} {v:.4f}" for t, v in zip(TASKS, first_losses[name]))
        print(
            f"  {name:23s} {type(loop).__name__:18s} {seconds[name] / args.steps:.3f} s/step, "
            f"x{seconds[name] / seconds[baseline]:.3f}; first step's raw losses {losses}"
        )


if __name__ == "__main__":
    main()
