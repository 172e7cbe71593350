#!/usr/bin/env python
"""Track with a trained LWFTracker, detectron2 project style.

# after `train_net.py --config-file configs/lwf_mot16.yaml`: its config, the weights it wrote
python track_net.py --eval-only
# every sequence of DATASETS.TEST -> OUTPUT_DIR/inference/: tracks/<SEQ>.txt, mot_metrics.json/.csv
python track_net.py --config-file configs/lwf_mot16.yaml --eval-only MODEL.WEIGHTS model.pth
# each sequence's public det/det.txt instead of the network (no weights)
python track_net.py --config-file ... --eval-only --public-detections
# a video file or an image folder -> DIR/<name>.txt and a rendered DIR/<name>.mp4
python track_net.py --config-file ... --input clip.mp4 --output DIR MODEL.WEIGHTS model.pth

Without MODEL.WEIGHTS among the overrides, the weights are the last checkpoint training wrote to
the config's OUTPUT_DIR (detectron2's ``last_checkpoint`` file). Without a GPU it runs on the CPU.
"""

import argparse
import logging
import os
from pathlib import Path

import torch
from torch import nn

from detectron2.engine import default_setup
from detectron2.utils.logger import setup_logger

import lwf_track  # noqa: F401  (registers datasets, model, weighting modules)
from lwf_track.engine import AtomicCheckpointer, build_config
from lwf_track.engine.defaults import exit_on_user_error
from lwf_track.engine.inference import PUBLIC_DETECTIONS_DIR, track_datasets, track_video

logger = logging.getLogger("lwf_track")
DEFAULT_CONFIG = "configs/lwf_mot16.yaml"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--config-file", default=DEFAULT_CONFIG, metavar="FILE", help="default: %(default)s"
    )
    parser.add_argument("--eval-only", action="store_true", help="track DATASETS.TEST and evaluate")
    parser.add_argument(
        "--public-detections",
        action="store_true",
        help="with --eval-only: track each sequence's det/det.txt instead of the network's\n"
        "detections (no weights needed; results in OUTPUT_DIR/public_detections/inference)",
    )
    parser.add_argument("--input", help="a video file or a folder of images")
    parser.add_argument("--output", help="output folder for --input (default: OUTPUT_DIR/videos)")
    parser.add_argument("--overwrite", action="store_true", help="re-track sequences with results")
    parser.add_argument("--max-frames", type=int, help="stop --input after this many frames")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides: KEY VALUE ...")
    args = parser.parse_args(argv)
    if args.eval_only == bool(args.input):
        parser.error("give exactly one of --eval-only or --input PATH")
    if args.public_detections and not args.eval_only:
        parser.error("--public-detections goes with --eval-only")
    if args.config_file == DEFAULT_CONFIG and not os.path.exists(DEFAULT_CONFIG):
        args.config_file = str(Path(__file__).resolve().parent / DEFAULT_CONFIG)  # other cwd
    return args


def trained_weights(output_dir: str):
    """The checkpoint named by ``OUTPUT_DIR/last_checkpoint`` (what training wrote last)."""
    checkpointer = AtomicCheckpointer(nn.Module(), save_dir=output_dir)
    return checkpointer.get_checkpoint_file() if checkpointer.has_checkpoint() else None


def setup(args):
    cfg = build_config(args.config_file, args.opts)
    extra = []
    needs_weights = not args.public_detections  # det.txt replaces the network
    if needs_weights and "MODEL.WEIGHTS" not in args.opts[::2]:
        weights = trained_weights(cfg.OUTPUT_DIR)
        if weights is None:
            raise SystemExit(
                f"error: no trained model in {cfg.OUTPUT_DIR} (no last_checkpoint file): train "
                f"first (python train_net.py --config-file {args.config_file}) or give "
                "MODEL.WEIGHTS path/to/model_final.pth"
            )
        extra += ["MODEL.WEIGHTS", weights]
    elif needs_weights and not cfg.MODEL.WEIGHTS:
        raise SystemExit(
            "error: MODEL.WEIGHTS is empty: give the trained model, e.g. "
            "MODEL.WEIGHTS out/model_final.pth"
        )
    on_cpu_instead = cfg.MODEL.DEVICE.startswith("cuda") and not torch.cuda.is_available()
    if on_cpu_instead:
        extra += ["MODEL.DEVICE", "cpu"]
    if extra:
        cfg = build_config(args.config_file, [*args.opts, *extra])
    # detectron2's default_setup writes config.yaml and log.txt into the folder it is given: give
    # it the results' inference/, so that OUTPUT_DIR/config.yaml stays the one training wrote (how
    # the model was made; tools/recipe_runs.py records runs from it)
    results = os.path.join(cfg.OUTPUT_DIR, PUBLIC_DETECTIONS_DIR if args.public_detections else "")
    tracking = cfg.clone()
    tracking.defrost()
    tracking.OUTPUT_DIR = os.path.join(results, "inference")
    tracking.freeze()
    default_setup(
        tracking, argparse.Namespace(config_file=args.config_file, eval_only=True, opts=args.opts)
    )
    setup_logger(tracking.OUTPUT_DIR, name="lwf_track")
    if on_cpu_instead:
        logger.warning("no CUDA GPU is visible: tracking on the CPU (MODEL.DEVICE cpu)")
    return cfg


def main(args):
    cfg = setup(args)
    if args.input:
        output_dir = args.output or os.path.join(cfg.OUTPUT_DIR, "videos")
        return track_video(cfg, args.input, output_dir, max_frames=args.max_frames)
    return track_datasets(cfg, overwrite=args.overwrite, public_detections=args.public_detections)


if __name__ == "__main__":
    exit_on_user_error(main, parse_args())
