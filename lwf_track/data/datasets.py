"""MOTChallenge sets in detectron2's DatasetCatalog / MetadataCatalog.

Registration is lazy (it lists the root folder but reads no file): the records are loaded when a
set is first requested. The root is ``$LWF_DATASETS`` (default ``datasets/``, relative to the
current directory, like DETECTRON2_DATASETS); see datasets/README.md for the layout and the names.
Every benchmark folder ``<root>/<NAME>/{train,test}/<SEQ>/`` registers by convention, no code.

Identities of several sets never collide: the training sets are numbered one after another in the
order given, each shifted by the identities of the distinct sets before it (see
:func:`identity_offsets`). :func:`get_num_identities` sums them, and ``MOTDatasetMapper`` adds the
shift to every ``track_id`` using the record's ``dataset_name``. A name listed twice is the same
people and counts once. Sets in DATASETS.MOT.DETECTION_ONLY have no identities
(:func:`identity_sets`).
"""

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from detectron2.data import DatasetCatalog, MetadataCatalog

from .mot import FRAME_SPLITS, frame_range, list_sequences, load_mot_split, scan_sequence

ROOT_ENV = "LWF_DATASETS"
DEFAULT_ROOT = "datasets"
# Registered even when their folder is absent, so that configs naming them load; using one then
# says where to put it.
BENCHMARKS = ("MOT15", "MOT16", "MOT17", "MOT20")
DOWNLOAD_URL = "https://motchallenge.net/data/{}/"
SYNTHETIC = "synthetic"  # generated splits, registered as mot_synth_<split>
# Splits the shipped configs train or test on, registered even before they are generated so that
# using one says how to generate it (README, Data, gives each one's parameters).
CONFIG_SYNTHETIC_SPLITS = ("train", "calib", "val", "train_6seqs", "pets_mix")
# name suffix -> (split folder, frames, ground truth required)
BENCHMARK_SPLITS = {
    "train": ("train", "all", True),
    "train_half": ("train", "first_half", True),
    "val_half": ("train", "second_half", True),
    # the train half cut in two, to choose tracker keys on frames the model was not trained on
    "train_half_fit": ("train", "first_half_fit", True),
    "train_half_holdout": ("train", "first_half_holdout", True),
    "test": ("test", "all", False),
}
# MOT17 repeats every sequence for 3 detectors; training and validation use one copy (as
# ByteTrack), test keeps all 21 so that a submission is complete.
MOT17_TRAIN_DETECTOR = "FRCNN"


@dataclass(frozen=True)
class MOTSplit:
    """What a registered name loads."""

    split_dir: str
    frames: str = "all"
    require_gt: bool = True
    detector: str | None = None
    benchmark: str | None = None  # the root's benchmark folder, for registered-by-convention sets


_REGISTERED: dict[str, MOTSplit] = {}  # the sets registered here


def datasets_root(root: str | None = None) -> str:
    """``root``, else ``$LWF_DATASETS``, else ``datasets``."""
    return root or os.environ.get(ROOT_ENV, DEFAULT_ROOT)


def register_mot_split(
    name: str,
    split_dir: str | os.PathLike,
    frames: str = "all",
    require_gt: bool = True,
    detector: str | None = None,
    replace: bool = False,
) -> None:
    """Register a folder of MOTChallenge sequences as ``name`` (reads no file).

    Registering a name again with the same arguments does nothing; with other arguments it is an
    error unless ``replace``.
    """
    _register(name, MOTSplit(str(split_dir), frames, require_gt, detector), replace)


def _register(name: str, split: MOTSplit, replace: bool) -> None:
    if split.frames not in FRAME_SPLITS:
        raise ValueError(f"frames must be one of {FRAME_SPLITS}, got {split.frames!r}")
    previous = _REGISTERED.get(name)
    if previous == split:
        return
    if previous is not None:
        if not replace:
            raise ValueError(f"dataset {name!r} is already registered as {previous}, not {split}")
        DatasetCatalog.remove(name)
        MetadataCatalog.remove(name)
    DatasetCatalog.register(name, partial(_load, name, split))
    MetadataCatalog.get(name).set(
        thing_classes=["pedestrian"], evaluator_type="mot", **asdict(split)
    )
    _REGISTERED[name] = split


def register_all_mot(root: str | None = None) -> list:
    """Register the sets of every benchmark folder under ``root`` (see :func:`benchmark_folders`)
    and ``mot_synth_<split>`` for every folder ``root/synthetic/<split>`` that exists now and for
    :data:`CONFIG_SYNTHETIC_SPLITS`.

    A benchmark folder ``NAME`` gives ``<name>_train``, ``<name>_train_half``, ``<name>_val_half``,
    ``<name>_test``, ``<name>_train_half_fit`` and ``<name>_train_half_holdout`` (name lower-cased;
    see :data:`BENCHMARK_SPLITS`). Names already registered by an earlier call are re-pointed to
    this root. Returns the names.
    """
    root = datasets_root(root)
    names = []
    for benchmark in benchmark_folders(root):
        for suffix, (folder, frames, require_gt) in BENCHMARK_SPLITS.items():
            name = f"{benchmark.lower()}_{suffix}"
            one_copy = benchmark.upper() == "MOT17" and require_gt
            detector = MOT17_TRAIN_DETECTOR if one_copy else None
            split_dir = os.path.join(root, benchmark, folder)
            split = MOTSplit(split_dir, frames, require_gt, detector, benchmark)
            _register(name, split, replace=True)
            names.append(name)
    synthetic = Path(root) / SYNTHETIC
    generated = {p.name for p in synthetic.iterdir() if p.is_dir()} if synthetic.is_dir() else set()
    for split in sorted(generated | set(CONFIG_SYNTHETIC_SPLITS)):
        name = f"mot_synth_{split}"
        register_mot_split(name, str(synthetic / split), replace=True)
        names.append(name)
    return names


def benchmark_folders(root: str) -> list:
    """:data:`BENCHMARKS` (present or not) and every other folder of ``root`` that holds a
    ``train`` or ``test`` folder, except ``synthetic``; a folder present keeps its own spelling."""
    by_name = {benchmark.lower(): benchmark for benchmark in BENCHMARKS}
    if os.path.isdir(root):
        for folder in sorted(Path(root).iterdir()):
            splits = (folder / "train", folder / "test")
            if folder.name != SYNTHETIC and any(split.is_dir() for split in splits):
                by_name[folder.name.lower()] = folder.name
    return sorted(by_name.values())


def _load(name: str, split: MOTSplit) -> list:
    """The DatasetCatalog loader: records tagged with ``dataset_name``; nID goes to the metadata."""
    _check_split_dir(name, split)
    records, num_ids = load_mot_split(
        split.split_dir, split.frames, split.require_gt, split.detector
    )
    metadata = MetadataCatalog.get(name)
    if not hasattr(metadata, "num_identities"):
        metadata.set(num_identities=num_ids)
    for record in records:
        record["dataset_name"] = name
    return records


def _check_split_dir(name: str, split: MOTSplit) -> None:
    """A one-line error naming the folder and what to do, when a registered set's folder is
    absent (registration does not look)."""
    split_dir = Path(split.split_dir)
    if split_dir.is_dir():
        return
    problem = f"dataset {name!r}: {split_dir} does not exist"
    if split_dir.parent.name == SYNTHETIC:
        raise FileNotFoundError(
            f"{problem}; generate it: python -m tools.demo_data (the demo's splits and the "
            f"PETS09 configs' pets_mix, seconds), or python -m lwf_track.data.synthetic --out "
            f"{split_dir} (README, Data, gives the parameters of each split the configs use)"
        )
    if split.benchmark is None:
        raise FileNotFoundError(f"{problem}; register it with the folder of its sequences")
    root = split_dir.parent.parent
    todo = f"set {ROOT_ENV} to the folder that holds {split.benchmark}/ (now {root})"
    if split.benchmark.upper() in BENCHMARKS:
        url = DOWNLOAD_URL.format(split.benchmark.upper())
        todo += f", or download {split.benchmark} from {url} and unpack it there"
    raise FileNotFoundError(f"{problem}; {todo} (see datasets/README.md)")


def _distinct(dataset_names: str | Iterable[str]) -> list:
    names = [dataset_names] if isinstance(dataset_names, str) else list(dataset_names)
    return list(dict.fromkeys(names))


def _num_identities(name: str) -> int:
    """nID of one set: from its metadata, else by loading it (which records it)."""
    metadata = MetadataCatalog.get(name)
    if not hasattr(metadata, "num_identities"):
        records = DatasetCatalog.get(name)
        if not hasattr(metadata, "num_identities"):  # a set registered outside lwf_track
            track_ids = [a["track_id"] for r in records for a in r.get("annotations", [])]
            metadata.set(num_identities=max(track_ids, default=-1) + 1)
    return metadata.num_identities


def get_num_identities(dataset_names: str | Iterable[str]) -> int:
    """Total identities of the sets combined: the sum over distinct names (no collisions)."""
    return sum(_num_identities(name) for name in _distinct(dataset_names))


def identity_offsets(dataset_names: str | Iterable[str]) -> dict:
    """``name -> shift`` added to that set's track ids when the sets are trained together.

    A single set needs no shift and is not loaded.
    """
    names = _distinct(dataset_names)
    offsets, total = {}, 0
    for index, name in enumerate(names):
        offsets[name] = total
        if index < len(names) - 1:
            total += _num_identities(name)
    return offsets


def identity_sets(train_names: Iterable[str], detection_only: Iterable[str]) -> list:
    """The training sets whose people are identities: ``train_names`` less ``detection_only``
    (DATASETS.MOT.DETECTION_ONLY), which must all be among them."""
    train_names, detection_only = _distinct(train_names), _distinct(detection_only)
    strangers = [name for name in detection_only if name not in train_names]
    if strangers:
        raise ValueError(
            f"DATASETS.MOT.DETECTION_ONLY {strangers} not in DATASETS.TRAIN {tuple(train_names)}: "
            "list only training sets there"
        )
    return [name for name in train_names if name not in detection_only]


def get_sequences(dataset_name: str) -> list:
    """The sequences of a registered set, for the evaluator (reads seqinfo.ini, not gt).

    Each: ``name, dir, frame_rate, width, height, first_frame, last_frame`` (the set's frame range,
    inclusive, to which the evaluator crops the gt) and ``has_gt``.
    """
    if dataset_name not in _REGISTERED:
        raise KeyError(f"{dataset_name!r} is not a MOT set registered by lwf_track")
    split = _REGISTERED[dataset_name]
    _check_split_dir(dataset_name, split)
    sequences = []
    for seq_dir in list_sequences(split.split_dir, split.detector):
        sequence = scan_sequence(seq_dir)
        first, last = frame_range(sequence.num_frames, split.frames)
        sequences.append(
            {
                "name": sequence.name,
                "dir": str(seq_dir),
                "frame_rate": sequence.info.frame_rate,
                "width": sequence.info.im_width,
                "height": sequence.info.im_height,
                "first_frame": first,
                "last_frame": last,
                "has_gt": sequence.gt_path.is_file(),
            }
        )
    return sequences
