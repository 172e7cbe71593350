"""The benchmarks the runner trains on: a config file each and the data it needs under the data
root (``$LWF_DATASETS``)."""

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tools.demo_data import EXPERIMENT_SPLITS, ensure_splits

from .settings import REPO

PETS09 = Path("MOT15") / "train" / "PETS09-S2L1"


@dataclass(frozen=True)
class Benchmark:
    name: str
    config_file: str
    prepare: Callable[[Path], None]  # makes the data available under the data root


def prepare_synthetic(data_root: Path) -> None:
    """The experiments' synthetic train set and the demo's val set, generated unless there."""
    ensure_splits(data_root, EXPERIMENT_SPLITS)


def shared_data_dir() -> Path:
    """``$LWF_SHARED_DATA``, else the real-data fixtures beside the checkout."""
    return Path(os.environ.get("LWF_SHARED_DATA", REPO.parent / "shared" / "data"))


def prepare_pets09(data_root: Path, shared_data: Path | None = None) -> None:
    """``<data root>/MOT15`` as a link to the shared MOT15 folder (registered as
    ``mot15_train_half`` / ``mot15_val_half``), unless it already holds PETS09-S2L1."""
    link = data_root / "MOT15"
    if (data_root / PETS09).is_dir():
        return
    source = (shared_data or shared_data_dir()) / "MOT15"
    if not (source.parent / PETS09).is_dir():
        raise FileNotFoundError(
            f"PETS09-S2L1 not found at {source.parent / PETS09}: set LWF_SHARED_DATA to the "
            "folder that holds MOT15/train/PETS09-S2L1"
        )
    if link.is_symlink() or link.exists():
        raise FileExistsError(f"{link} exists but holds no train/PETS09-S2L1: remove it or fix it")
    data_root.mkdir(parents=True, exist_ok=True)
    link.symlink_to(source.resolve(), target_is_directory=True)


BENCHMARKS = {
    "synthetic": Benchmark(
        "synthetic", "configs/experiments/synthetic_short.yaml", prepare_synthetic
    ),
    "pets09": Benchmark("pets09", "configs/experiments/pets09_short.yaml", prepare_pets09),
}
