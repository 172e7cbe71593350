"""Score MOTChallenge result files: prints the table, writes mot_metrics.json and mot_metrics.csv.

python -m lwf_track.evaluation --gt-root datasets/MOT17/train --tracks out/tracks \\
    --out out/mot_metrics.json [--seqs MOT17-02-FRCNN MOT17-04-FRCNN]
"""

import argparse
import os
import sys

from .mot_metrics import evaluate_mot
from .report import format_table, write_metrics_csv, write_metrics_json


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m lwf_track.evaluation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--gt-root", required=True, help="folder of <SEQ>/{seqinfo.ini,gt/gt.txt}")
    parser.add_argument("--tracks", required=True, help="folder of <SEQ>.txt result files")
    parser.add_argument(
        "--out", required=True, help="JSON path, e.g. mot_metrics.json (the .csv beside it)"
    )
    parser.add_argument("--seqs", nargs="+", help="sequences to score (default: all in --gt-root)")
    parser.add_argument(
        "--benchmark",
        choices=["MOT15", "MOT16", "MOT17", "MOT20"],
        help="trackeval's distractor rules (default: from the gt format and sequence names)",
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        metrics = evaluate_mot(args.gt_root, args.tracks, args.seqs, benchmark=args.benchmark)
    except (OSError, ValueError, RuntimeError) as err:  # MOTFormatError is a ValueError
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_table(metrics))
    write_metrics_json(args.out, metrics)
    csv_path = os.path.splitext(args.out)[0] + ".csv"
    write_metrics_csv(csv_path, metrics)
    print(f"\nwrote {args.out} and {csv_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
