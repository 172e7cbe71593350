#!/usr/bin/env python
"""Track with a trained LWFTracker, detectron2 project style.

# every sequence of DATASETS.TEST -> OUTPUT_DIR/inference/: tracks/<SEQ>.txt, mot_metrics.json/.csv
python track_net.py --config-file configs/lwf_mot16.yaml --eval-only MODEL.WEIGHTS model.pth
# a video file or an image folder -> DIR/<name>.txt and a rendered DIR/<name>.mp4
python track_net.py --config-file ... --input clip.mp4 --output DIR MODEL.WEIGHTS model.pth
"""

import argparse
import logging
import os

from detectron2.engine import default_setup
from detectron2.utils.logger import setup_logger

import lwf_track  # noqa: F401  (registers datasets, model, weighting modules)
from lwf_track.engine import build_config
from lwf_track.engine.inference import track_datasets, track_video

logger = logging.getLogger("lwf_track")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--config-file", required=True, metavar="FILE")
    parser.add_argument("--eval-only", action="store_true", help="track DATASETS.TEST and evaluate")
    parser.add_argument("--input", help="a video file or a folder of images")
    parser.add_argument("--output", help="output folder for --input (default: OUTPUT_DIR/videos)")
    parser.add_argument("--overwrite", action="store_true", help="re-track sequences with results")
    parser.add_argument("--max-frames", type=int, help="stop --input after this many frames")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides: KEY VALUE ...")
    args = parser.parse_args(argv)
    if args.eval_only == bool(args.input):
        parser.error("give exactly one of --eval-only or --input PATH")
    return args


def setup(args):
    cfg = build_config(args.config_file, args.opts)
    if not cfg.MODEL.WEIGHTS:
        raise SystemExit(
            "MODEL.WEIGHTS is empty: give the trained model, e.g. MODEL.WEIGHTS out/model_final.pth"
        )
    cfg.freeze()
    default_setup(
        cfg, argparse.Namespace(config_file=args.config_file, eval_only=True, opts=args.opts)
    )
    setup_logger(cfg.OUTPUT_DIR, name="lwf_track")
    return cfg


def main(args):
    cfg = setup(args)
    if args.input:
        output_dir = args.output or os.path.join(cfg.OUTPUT_DIR, "videos")
        return track_video(cfg, args.input, output_dir, max_frames=args.max_frames)
    return track_datasets(cfg, overwrite=args.overwrite)


if __name__ == "__main__":
    main(parse_args())
