"""Score MOTChallenge result files: prints the table, writes mot_metrics.json and mot_metrics.csv.

python -m lwf_track.evaluation --gt-root datasets/MOT17/train --tracks out/tracks \\
    --out out/mot_metrics.json [--seqs MOT17-02-FRCNN MOT17-04-FRCNN] [--frames second_half] \\
    [--compare other/tracks]

``--frames``: score part of every sequence (``second_half``: the half-split validation frames).
``--compare``: another tracker's result files for the same sequences; prints MOTA and IDF1 of
``--tracks`` minus theirs with a 95% interval over blocks of frames
(:mod:`lwf_track.evaluation.comparison`) and writes it to ``<out>_comparison.json``.
``--near-misses IOU``: how many false positives and misses are near misses (a tracker box and a
person left unmatched in one frame, IoU in [IOU, 0.5)), and MOTA were they hits; written to
``<out>_near_misses.json`` (:class:`~lwf_track.evaluation.mot_metrics.NearMisses`).
"""

import argparse
import dataclasses
import math
import os
import sys
from pathlib import Path

from ..data.mot import FRAME_SPLITS, frame_range
from ..data.mot_format import read_frame_rate, read_seq_length
from ..utils.io import atomic_write_json
from .comparison import BLOCK_SECONDS, paired_difference_ci
from .mot_metrics import (
    OVERALL,
    NearMisses,
    evaluate_mot,
    frame_counts,
    near_misses,
    sequence_names,
)
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
        "--frames", default="all", choices=FRAME_SPLITS, help="which frames of each sequence"
    )
    parser.add_argument(
        "--benchmark",
        choices=["MOT15", "MOT16", "MOT17", "MOT20"],
        help="trackeval's distractor rules (default: from the gt format and sequence names)",
    )
    parser.add_argument("--compare", help="another folder of <SEQ>.txt result files")
    parser.add_argument(
        "--block-seconds",
        type=float,
        default=BLOCK_SECONDS,
        help="length of the blocks of frames --compare resamples",
    )
    parser.add_argument(
        "--near-misses",
        type=float,
        metavar="IOU",
        help="also split FP and FN into near misses (IoU in [IOU, 0.5)) and the rest, e.g. 0.3",
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        names = args.seqs or sequence_names(args.gt_root)
        seq_dirs = {name: Path(args.gt_root, name) for name in names}
        ranges = {
            name: frame_range(read_seq_length(seq_dir / "seqinfo.ini"), args.frames)
            for name, seq_dir in seq_dirs.items()
        }
        metrics = evaluate_mot(args.gt_root, args.tracks, names, ranges, args.benchmark)
        if args.compare:
            comparison = compare(args, seq_dirs, ranges)
        if args.near_misses is not None:
            near = near_misses(seq_dirs, args.tracks, ranges, args.near_misses)
    except (OSError, ValueError, RuntimeError) as err:  # MOTFormatError is a ValueError
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_table(metrics))
    write_metrics_json(args.out, metrics)
    csv_path = os.path.splitext(args.out)[0] + ".csv"
    write_metrics_csv(csv_path, metrics)
    print(f"\nwrote {args.out} and {csv_path}")
    if args.compare:
        comparison_path = os.path.splitext(args.out)[0] + "_comparison.json"
        atomic_write_json(comparison_path, comparison)
        for metric, interval in comparison["difference"].items():
            print(
                f"{metric} {args.tracks} - {args.compare}: {interval['mean']:+.2f} "
                f"[{interval['low']:+.2f}, {interval['high']:+.2f}] "
                f"({comparison['confidence']:.0%}, blocks of {args.block_seconds:g} s): "
                f"{interval['verdict']}"
            )
        print(f"wrote {comparison_path}")
    if args.near_misses is not None:
        near_path = os.path.splitext(args.out)[0] + "_near_misses.json"
        atomic_write_json(near_path, near_misses_summary(near, args.near_misses))
        print(format_near_misses(near, args.near_misses))
        print(f"wrote {near_path}")
    return 0


def _with_overall(near: dict) -> dict:
    totals = NearMisses(*(sum(column) for column in zip(*near.values())))
    return {**near, OVERALL: totals} if len(near) > 1 else near


def near_misses_summary(near: dict, low_iou: float) -> dict:
    """JSON of :func:`near_misses`' counts per sequence (and overall), with both MOTAs."""
    return {
        "near_miss_iou": [low_iou, 0.5],
        "sequences": {
            name: {
                **counts._asdict(),
                "MOTA": _finite_or_none(counts.mota()),
                "MOTA_near_misses_as_hits": _finite_or_none(counts.mota(True)),
            }
            for name, counts in _with_overall(near).items()
        },
    }


def _finite_or_none(value: float):
    """JSON has no NaN (MOTA of a sequence without gt boxes)."""
    return value if math.isfinite(value) else None


def format_near_misses(near: dict, low_iou: float) -> str:
    header = f"near misses (a box and a person left unmatched, IoU in [{low_iou:g}, 0.5)):"
    lines = [header, f"{'Sequence':<14}{'FP':>7}{'FN':>7}{'near':>7}{'MOTA':>8}{'as hits':>9}"]
    for name, counts in _with_overall(near).items():
        lines.append(
            f"{name:<14}{counts.false_positives:>7}{counts.misses:>7}{counts.near_misses:>7}"
            f"{counts.mota():>8.1f}{counts.mota(True):>9.1f}"
        )
    return "\n".join(lines)


def compare(args, seq_dirs: dict, ranges: dict) -> dict:
    """The paired difference of ``--tracks`` and ``--compare`` on the scored frames."""
    ours, theirs = (frame_counts(seq_dirs, d, ranges) for d in (args.tracks, args.compare))
    frame_rates = {name: read_frame_rate(d / "seqinfo.ini") for name, d in seq_dirs.items()}
    difference = paired_difference_ci(ours, theirs, frame_rates, args.block_seconds)
    return {
        "tracks": args.tracks,
        "compare": args.compare,
        "frames": args.frames,
        "confidence": 0.95,
        "block_seconds": args.block_seconds,
        "difference": {
            metric: {**dataclasses.asdict(interval), "verdict": interval.verdict}
            for metric, interval in difference.items()
        },
    }


if __name__ == "__main__":
    sys.exit(main())
