"""Generate synthetic MOTChallenge sequences and print what they hold.

    python -m lwf_track.data.synthetic --out DIR --num-seqs N --frames T --seed S \\
        [--width 640 --height 360 --difficulty easy|medium|hard --fps 30]
"""

import argparse
import time

from .benchmark import OCCLUDED_BELOW, generate_benchmark, summarize_benchmark
from .scene import DIFFICULTIES


def format_summary(summary: dict[str, object]) -> str:
    return (
        f"{summary['sequences']} sequences, {summary['frames']} frames, {summary['boxes']} boxes "
        f"({summary['people_per_frame']:.1f} per frame), {summary['identities']} identities, "
        f"mean visibility {summary['mean_visibility']:.2f}, "
        f"{100 * summary['occluded_share']:.0f}% of boxes under {OCCLUDED_BELOW} visible, "
        f"{summary['detections']} detections"
    )


def main(argv=None) -> dict[str, object]:
    """The CLI: generate, print the summary, and return it (for callers that import main)."""
    parser = argparse.ArgumentParser(
        prog="python -m lwf_track.data.synthetic", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", required=True, help="folder that receives SYN-<seed>-NN/")
    parser.add_argument("--num-seqs", type=int, default=1)
    parser.add_argument("--frames", type=int, default=150, help="frames per sequence")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--difficulty", default="medium", choices=sorted(DIFFICULTIES))
    parser.add_argument(
        "--fps", type=int, default=30, help="seqinfo frameRate; sets the motion per frame"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    seq_dirs = generate_benchmark(
        args.out,
        args.num_seqs,
        args.frames,
        args.seed,
        width=args.width,
        height=args.height,
        difficulty=args.difficulty,
        fps=args.fps,
    )
    summary = summarize_benchmark(seq_dirs)
    print(f"synthetic {args.difficulty} -> {args.out}: {format_summary(summary)}")
    print(f"generated in {time.perf_counter() - start:.1f} s")
    return summary


if __name__ == "__main__":
    main()
