#!/usr/bin/env python
"""Train (or evaluate) LWFTracker, detectron2 project style.

python train_net.py --config-file configs/lwf_mot16.yaml --num-gpus 1
python train_net.py --config-file configs/lwf_synthetic_cpu.yaml            # CPU demo model
python train_net.py --config-file ... --resume                             # continue a run
python train_net.py --config-file ... --eval-only MODEL.WEIGHTS out/model_final.pth
python train_net.py --config-file ... --num-cpu-procs 2                    # gloo, no GPU
"""

import torch

from detectron2.engine import default_argument_parser, default_setup, launch
from detectron2.utils.logger import setup_logger

import lwf_track  # noqa: F401  (registers datasets, model, weighting modules)
from lwf_track.engine import (
    AtomicCheckpointer,
    Trainer,
    build_config,
    launch_cpu,
    with_pretrained_weights,
)
from lwf_track.engine.defaults import exit_on_user_error


def setup(args):
    cfg = build_config(args.config_file, args.opts)
    default_setup(cfg, args)
    setup_logger(cfg.OUTPUT_DIR, name="lwf_track")
    return cfg


def check_devices(cfg, args) -> None:
    """Stop, before any process starts, with what to do when the config or ``--num-gpus`` asks
    for GPUs this machine does not have (torch's own error is a traceback about drivers)."""
    num_visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    wants_cuda = cfg.MODEL.DEVICE.startswith("cuda")
    if num_visible == 0 and (wants_cuda or args.num_gpus > 1):
        raise SystemExit(
            f"error: no CUDA GPU is visible (MODEL.DEVICE {cfg.MODEL.DEVICE}, --num-gpus "
            f"{args.num_gpus}): add MODEL.DEVICE cpu to train on the CPU (--num-cpu-procs N for "
            "several processes)"
        )
    if wants_cuda and args.num_gpus > num_visible:
        raise SystemExit(f"error: --num-gpus {args.num_gpus} but {num_visible} GPU(s) are visible")


def main(args):
    cfg = setup(args)
    if args.eval_only:
        model = Trainer.build_model(cfg)
        AtomicCheckpointer(model, save_dir=cfg.OUTPUT_DIR).resume_or_load(
            cfg.MODEL.WEIGHTS, resume=args.resume
        )
        return Trainer.test(cfg, model)
    trainer = Trainer(with_pretrained_weights(cfg, resume=args.resume))
    trainer.resume_or_load(resume=args.resume)
    return trainer.train()


def parse_args(argv=None):
    parser = default_argument_parser()
    parser.add_argument(
        "--num-cpu-procs", type=int, default=1, help="training processes on CPU (gloo backend)"
    )
    return parser.parse_args(argv)


def run(args):
    check_devices(build_config(args.config_file, args.opts), args)
    if args.num_cpu_procs > 1:
        launch_cpu(main, args.num_cpu_procs, args=(args,), dist_url=args.dist_url)
    else:
        launch(
            main,
            args.num_gpus,
            num_machines=args.num_machines,
            machine_rank=args.machine_rank,
            dist_url=args.dist_url,
            args=(args,),
        )


if __name__ == "__main__":
    args = parse_args()
    print("Command Line Args:", args)
    exit_on_user_error(run, args)
