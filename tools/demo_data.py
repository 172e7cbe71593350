"""The synthetic splits of the demo and of the experiments runner, generated under
``$LWF_DATASETS/synthetic/<split>/`` (registered as ``mot_synth_<split>``).

From the repository root this is ``tools.demo_data``; run as a script it generates the demo's
splits and the PETS09 configs' synthetic people (seconds; what `make demo` does first), for the
configs that train on them without the demo's model:

    python -m tools.demo_data [--data-root datasets]
"""

import argparse
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from lwf_track.data.synthetic import ensure_benchmark

FRAME_SIZE = {"width": 384, "height": 216}


@dataclass(frozen=True)
class SyntheticSplit:
    """The parameters of one generated split (``lwf_track.data.synthetic.ensure_benchmark``)."""

    num_seqs: int
    frames: int
    seed: int
    difficulty: str = "medium"

    def ensure(self, split_dir: Path) -> bool:
        """Generate the split into ``split_dir`` unless it is there; return whether it did."""
        return ensure_benchmark(split_dir, **asdict(self), **FRAME_SIZE)


# The demo trains on many short scenes: a detector that saw 6 backgrounds mistakes the
# person-coloured clutter of new ones for people (val MOTA 66.0 with 6 x 150 frames, 74.3 with
# 72 x 12; README, "The demo"). Its tracker thresholds are chosen on "calib", scenes it did not
# train on (not the val set): on its own training frames every threshold looks alike.
DEMO_SPLITS = {
    "train": SyntheticSplit(num_seqs=72, frames=12, seed=1),
    "calib": SyntheticSplit(num_seqs=3, frames=50, seed=4),
    "val": SyntheticSplit(num_seqs=3, frames=150, seed=2),
}
# The experiments runner keeps the training set its committed runs were made on (the demo's
# until 2026-12-03): 6 scenes of 150 frames.
EXPERIMENT_SPLITS = {
    "train_6seqs": SyntheticSplit(num_seqs=6, frames=150, seed=1),
    "val": DEMO_SPLITS["val"],
}

# Synthetic people that configs/lwf_pets09_cpu_from_demo_mix.yaml mixes into PETS09's 397 real
# training frames: 2 scenes x 150 frames (README, "Real data"). `make demo` generates them too.
PETS09_SPLITS = {"pets_mix": SyntheticSplit(num_seqs=2, frames=150, seed=1)}


def ensure_splits(data_root, splits: dict) -> dict:
    """Generate every missing split of ``splits`` under ``data_root/synthetic``; returns, per
    split, whether it was generated now."""
    root = Path(data_root) / "synthetic"
    return {name: split.ensure(root / name) for name, split in splits.items()}


def generate_demo_data(data_root) -> None:
    """The demo's splits and the PETS09 configs' synthetic people, each generated unless there,
    with a line per split."""
    splits = {**DEMO_SPLITS, **PETS09_SPLITS}
    for split, generated in ensure_splits(data_root, splits).items():
        done = "generated" if generated else "exists, with these parameters"
        print(f"=== {split} data {done}: {splits[split]}", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=os.environ.get("LWF_DATASETS", "datasets"))
    generate_demo_data(parser.parse_args(argv).data_root)


if __name__ == "__main__":
    main()
