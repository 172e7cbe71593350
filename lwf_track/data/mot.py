"""MOTChallenge sequences as detectron2 records: the sequence folders of a split, their frames,
the half split, and the training boxes (the files themselves are read by :mod:`.mot_format`)."""

import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from detectron2.structures import BoxMode

from ..utils.errors import MOTFormatError
from .mot_format import SeqInfo, gt_values, read_seqinfo, read_table

PathLike = str | os.PathLike

FRAME_SPLITS = ("all", "first_half", "second_half", "first_half_fit", "first_half_holdout")
PEDESTRIAN_CLASS = 1


@dataclass(frozen=True)
class MOTSequence:
    """A sequence folder whose images 1..num_frames exist (``num_frames`` may be < seqLength)."""

    dir: Path
    info: SeqInfo
    num_frames: int

    @property
    def name(self) -> str:
        """The folder name: result files and the evaluator match sequences by it."""
        return self.dir.name

    @property
    def gt_path(self) -> Path:
        return self.dir / "gt" / "gt.txt"

    def image_path(self, frame: int) -> Path:
        return self.dir / self.info.im_dir / f"{frame:06d}{self.info.im_ext}"


def scan_sequence(seq_dir: PathLike) -> MOTSequence:
    """Read seqinfo.ini and count the images that exist (reads no image and no gt).

    Images must be consecutive from 000001. A seqLength larger than the images present (trimmed
    copies such as MOT17-mini) gives a warning, and only the present frames are used.
    """
    seq_dir = Path(seq_dir)
    info = read_seqinfo(seq_dir / "seqinfo.ini")
    sequence = MOTSequence(seq_dir, info, info.seq_length)
    image_dir = seq_dir / info.im_dir
    present = _frames_present(sequence)
    if not present:
        expected = f"{sequence.image_path(1).name}..{sequence.image_path(info.seq_length).name}"
        raise MOTFormatError(image_dir, f"expected images {expected}, found none")
    if present[-1] != len(present):
        missing = next(f for f, p in enumerate(present, start=1) if f != p)
        raise MOTFormatError(
            image_dir,
            f"expected consecutive frames, but {sequence.image_path(missing).name} is missing "
            f"while {sequence.image_path(present[-1]).name} exists",
        )
    if len(present) < info.seq_length:
        warnings.warn(
            f"{seq_dir / 'seqinfo.ini'}: seqLength is {info.seq_length} but {image_dir} holds only "
            f"{len(present)} images; using frames 1..{len(present)}",
            stacklevel=2,
        )
    return replace(sequence, num_frames=len(present))


def _frames_present(sequence: MOTSequence) -> list[int]:
    """Sorted frames 1..seqLength whose image file (``000001.jpg`` style) exists."""
    image_dir = sequence.dir / sequence.info.im_dir
    try:
        names = set(os.listdir(image_dir))
    except OSError:
        raise MOTFormatError(image_dir, "image folder not found (imDir of seqinfo.ini)") from None
    extension = sequence.info.im_ext
    stems = [name[: -len(extension)] for name in names if name.endswith(extension)]
    frames = {int(stem) for stem in stems if stem.isascii() and stem.isdigit()}
    return sorted(
        f
        for f in frames
        if 1 <= f <= sequence.info.seq_length and sequence.image_path(f).name in names
    )


def frame_range(num_frames: int, frames: str = "all") -> tuple[int, int]:
    """First and last frame (1-based, inclusive) of a split of a sequence of ``num_frames`` frames.

    ``first_half`` is 1..floor(n/2) and ``second_half`` floor(n/2)+1..n (the FairMOT/ByteTrack
    validation protocol): with n odd the middle frame validates; with n = 1 the first half is empty
    (last < first). The first half splits again, with h = floor(n/2), into ``first_half_fit``
    1..floor(3h/4) and ``first_half_holdout`` floor(3h/4)+1..h: a model trained on the fit part
    can have its tracker keys chosen on frames it has not seen, without touching the second half.
    """
    if frames not in FRAME_SPLITS:
        raise ValueError(f"frames must be one of {FRAME_SPLITS}, got {frames!r}")
    half = num_frames // 2
    fit = 3 * half // 4
    return {
        "all": (1, num_frames),
        "first_half": (1, half),
        "second_half": (half + 1, num_frames),
        "first_half_fit": (1, fit),
        "first_half_holdout": (fit + 1, half),
    }[frames]


def load_sequence(
    seq_dir: PathLike,
    frames: str = "all",
    id_offset: int = 0,
    require_gt: bool = True,
) -> tuple[list[dict], int]:
    """detectron2 records of one sequence, one per frame of the split (see :func:`frame_range`),
    and its number of identities.

    Annotations are the boxes trackeval scores: consider-flag not 0 and class 1 (MOT15 gt has no
    classes: every box is a pedestrian). Each keeps its visibility, which only the training
    mapper filters (``DATASETS.MOT.VISIBILITY_THRESH``). Their ``track_id`` is the local id mapped
    to a dense index (by increasing local id) plus ``id_offset``, so only identities seen in this
    split count. Frames without boxes keep an empty
    list. Without ``gt/gt.txt`` (test sets, ``require_gt=False``) records have no ``annotations``.
    """
    sequence = scan_sequence(seq_dir)
    first, last = frame_range(sequence.num_frames, frames)
    has_gt = sequence.gt_path.is_file()
    if require_gt and not has_gt:
        raise MOTFormatError(sequence.gt_path, "file not found; expected ground truth")
    records = [_record(sequence, frame, has_gt) for frame in range(first, last + 1)]
    if not has_gt:
        return records, 0
    table = read_table(sequence.gt_path, "gt")
    gt, lines = gt_values(table), table.lines
    _check_gt_frames(sequence, gt, lines)
    frame_column = gt[:, 0]
    training = (
        (gt[:, 7] == PEDESTRIAN_CLASS)
        & (gt[:, 6] != 0)
        & (frame_column >= first)
        & (frame_column <= last)
    )
    _warn_outside_image(sequence, gt, lines, training)
    boxes = gt[training]
    local_ids, dense_ids = np.unique(boxes[:, 1], return_inverse=True)
    order = np.lexsort((boxes[:, 1], boxes[:, 0]))
    for row, track_id in zip(boxes[order].tolist(), (dense_ids[order] + id_offset).tolist()):
        records[int(row[0]) - first]["annotations"].append(_annotation(row, track_id))
    return records, len(local_ids)


def _record(sequence: MOTSequence, frame: int, has_gt: bool) -> dict:
    record = {
        "file_name": str(sequence.image_path(frame)),
        "height": sequence.info.im_height,
        "width": sequence.info.im_width,
        "image_id": f"{sequence.name}/{frame:06d}",
        "sequence": sequence.name,
        "frame": frame,
        "frame_rate": sequence.info.frame_rate,
    }
    if has_gt:
        record["annotations"] = []
    return record


def _annotation(row: list, track_id: int) -> dict:
    return {
        "bbox": row[2:6],
        "bbox_mode": BoxMode.XYWH_ABS,
        "category_id": 0,
        "track_id": track_id,
        "visibility": row[8],
    }


def _warn_outside_image(
    sequence: MOTSequence, gt: np.ndarray, lines: np.ndarray, rows: np.ndarray
) -> None:
    """Warn (once per sequence) about training boxes that lie entirely outside the image.

    Boxes partly outside are normal (people entering or leaving the view) and the mapper clips them;
    one wholly outside becomes empty there and is dropped, which usually means a wrong
    imWidth/imHeight or wrong coordinates. Both are kept in the records.
    """
    x, y, w, h = gt[:, 2], gt[:, 3], gt[:, 4], gt[:, 5]
    width, height = sequence.info.im_width, sequence.info.im_height
    outside = rows & ((x >= width) | (y >= height) | (x + w <= 0) | (y + h <= 0))
    if not outside.any():
        return
    first = int(np.argmax(outside))
    count = int(outside.sum())
    warnings.warn(
        f"{sequence.gt_path}: {count} training box{'es' if count > 1 else ''} entirely outside the "
        f"{width}x{height} image (imWidth x imHeight of seqinfo.ini), the first at line "
        f"{int(lines[first])} (w={w[first]:g} h={h[first]:g} at x={x[first]:g} "
        f"y={y[first]:g}); kept in the records, dropped in training (the mapper clips boxes "
        "to the image)",
        stacklevel=3,
    )


def _check_gt_frames(sequence: MOTSequence, gt: np.ndarray, lines: np.ndarray) -> None:
    """Every gt row must refer to a frame whose image exists."""
    beyond = gt[:, 0] > sequence.num_frames
    if not beyond.any():
        return
    index = int(np.argmax(beyond))
    frame = int(gt[index, 0])
    if frame > sequence.info.seq_length:
        problem = f"expected a frame <= seqLength {sequence.info.seq_length}, got {frame}"
    else:
        problem = (
            f"expected an image for frame {frame}, but {sequence.image_path(frame)} is missing"
        )
    raise MOTFormatError(sequence.gt_path, problem, int(lines[index]))


def list_sequences(split_dir: PathLike, detector: str | None = None) -> list[Path]:
    """Sequence folders (those with a seqinfo.ini) of a split, sorted by name.

    ``detector`` keeps only ``*-<detector>`` folders: MOT17 ships every sequence three times (DPM,
    FRCNN, SDP) with identical images and gt, and one person must be one training identity.
    """
    split_dir = Path(split_dir)
    if not split_dir.is_dir():
        raise FileNotFoundError(
            f"MOT split folder not found: {split_dir} (set LWF_DATASETS; see datasets/README.md)"
        )
    folders = sorted(p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    for folder in folders:
        if not (folder / "seqinfo.ini").is_file():
            warnings.warn(f"{folder}: no seqinfo.ini, not a sequence; skipped", stacklevel=2)
    sequences = [f for f in folders if (f / "seqinfo.ini").is_file()]
    if detector is not None:
        sequences = [f for f in sequences if f.name.endswith(f"-{detector}")]
    if not sequences:
        which = f"-{detector} " if detector else ""
        raise MOTFormatError(split_dir, f"expected {which}sequence folders with a seqinfo.ini")
    return sequences


def load_mot_split(
    split_dir: PathLike,
    frames: str = "all",
    require_gt: bool = True,
    detector: str | None = None,
) -> tuple[list[dict], int]:
    """Records of every sequence of a split and the number of identities of the split.

    Track ids are global and dense, 0..nID-1: each sequence is offset by the identities of the
    sequences before it (sorted by name).
    """
    records, num_ids = [], 0
    for seq_dir in list_sequences(split_dir, detector):
        seq_records, seq_ids = load_sequence(seq_dir, frames, num_ids, require_gt)
        records.extend(seq_records)
        num_ids += seq_ids
    return records, num_ids
