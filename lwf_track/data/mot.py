"""MOTChallenge files (seqinfo.ini, gt.txt, det.txt, results) and sequences as detectron2 records.

The parsers read line by line so that every error is a :class:`MOTFormatError` naming the file, the
line and what was expected; the values are then checked in bulk with numpy, so a 100k-line gt file
parses in well under a second.
"""

import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from detectron2.structures import BoxMode

from ..utils.errors import MOTFormatError

PathLike = str | os.PathLike

FRAME_SPLITS = ("all", "first_half", "second_half")
PEDESTRIAN_CLASS = 1
GT_EXPECTED = "9 or 10 comma-separated numbers"
DET_EXPECTED = "at least 7 comma-separated numbers (frame,-1,x,y,w,h,score)"
RESULTS_EXPECTED = "at least 7 comma-separated numbers (frame,id,x,y,w,h,score)"
MAX_QUOTED_CHARS = 80  # error messages quote at most this much of a bad line


# ---------------------------------------------------------------------------------------------
# seqinfo.ini


@dataclass(frozen=True)
class SeqInfo:
    """The ``[Sequence]`` section of a MOTChallenge ``seqinfo.ini``."""

    name: str
    im_dir: str
    frame_rate: int
    seq_length: int
    im_width: int
    im_height: int
    im_ext: str


# seqinfo.ini key -> (SeqInfo field, whether the value is a positive integer)
SEQINFO_KEYS = {
    "name": ("name", False),
    "imDir": ("im_dir", False),
    "frameRate": ("frame_rate", True),
    "seqLength": ("seq_length", True),
    "imWidth": ("im_width", True),
    "imHeight": ("im_height", True),
    "imExt": ("im_ext", False),
}


def read_seqinfo(path: PathLike) -> SeqInfo:
    """Read ``seqinfo.ini``; every key of :data:`SEQINFO_KEYS` is required."""
    entries = _sequence_section(path, _read_text(path, "a seqinfo.ini file"))
    values = {}
    for key, (field, is_integer) in SEQINFO_KEYS.items():
        if key.lower() not in entries:
            raise MOTFormatError(path, f"expected key '{key}' in section [Sequence]")
        text, line = entries[key.lower()]
        if not text:
            raise MOTFormatError(path, f"expected a value for '{key}', got nothing", line)
        values[field] = _positive_int(path, key, text, line) if is_integer else text
    if not values["im_ext"].startswith("."):
        line = entries["imext"][1]
        raise MOTFormatError(
            path, f"expected imExt to start with '.', got {values['im_ext']!r}", line
        )
    return SeqInfo(**values)


def _sequence_section(path: PathLike, text: str) -> dict:
    """``key.lower() -> (value, line number)`` of the [Sequence] section (ini syntax, '=' only)."""
    section, found, entries = None, False, {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            found = found or section == "sequence"
            continue
        key, separator, value = line.partition("=")
        if not separator:
            raise MOTFormatError(
                path, f"expected '[Section]' or 'key=value', got {_quote(line)}", number
            )
        key = key.strip().lower()
        if section != "sequence":
            continue
        if key in entries:
            raise MOTFormatError(path, f"expected each key once, got '{key}' again", number)
        entries[key] = (value.strip(), number)
    if not found:
        raise MOTFormatError(path, "expected a [Sequence] section")
    return entries


def _positive_int(path: PathLike, key: str, text: str, line: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise MOTFormatError(
            path, f"expected '{key}' to be an integer >= 1, got {_quote(text)}", line
        )
    return value


# ---------------------------------------------------------------------------------------------
# gt.txt, det.txt, result files


def read_gt(path: PathLike) -> np.ndarray:
    """Ground truth as float64 ``(N, 9)``: frame, id, x, y, w, h, flag, class, visibility.

    MOT16/17/20 files have these 9 columns. MOT15-style files have 10 (frame, id, x, y, w, h,
    conf, world x, y, z): conf becomes the flag, class and visibility become 1.
    """
    return _parse_gt(path)[0]


def read_det(path: PathLike) -> np.ndarray:
    """Detections as float64 ``(N, 7)``: frame, -1, x, y, w, h, score; stably sorted by frame.

    Columns after the 7th (MOT16's world coordinates) are dropped; public det files are not sorted.
    """
    values, lines = _read_table(path, DET_EXPECTED, 7)
    _check_boxes(path, values, lines)
    return _sorted_by_frame(values[:, :7])


def read_results(path: PathLike) -> np.ndarray:
    """A MOTChallenge result file (frame, id, x, y, w, h, score, -1, -1, -1) as ``(N, 7)`` float64,
    stably sorted by frame."""
    values, lines = _read_table(path, RESULTS_EXPECTED, 7)
    _check_boxes(path, values, lines)
    _check_ids(path, values, lines)
    return _sorted_by_frame(values[:, :7])


def _parse_gt(path: PathLike):
    """:func:`read_gt` plus the line number of every row (for errors found later)."""
    values, lines = _read_table(path, GT_EXPECTED, 9, 10)
    _check_boxes(path, values, lines)
    _check_ids(path, values, lines)
    if values.shape[1] == 10:
        values = np.column_stack([values[:, :7], np.ones((len(values), 2))])
    return values, lines


def _read_table(path: PathLike, expected: str, min_columns: int, max_columns: int | None = None):
    """Non-blank lines as a float64 array, every line with as many columns as the first, and the
    line number of every row."""
    rows, lines, width = [], [], None
    for number, line in enumerate(_read_text(path, "a MOTChallenge text file").splitlines(), 1):
        fields = line.split(",")
        if len(fields) == 1 and not line.strip():
            continue
        if not min_columns <= len(fields) <= (max_columns or len(fields)):
            raise MOTFormatError(path, f"expected {expected}, got {_quote(line)}", number)
        width = width or len(fields)
        if len(fields) != width:
            expected_here = f"{width} comma-separated numbers (as line {lines[0]})"
            raise MOTFormatError(path, f"expected {expected_here}, got {_quote(line)}", number)
        try:
            rows.append(list(map(float, fields)))
        except ValueError:
            raise MOTFormatError(path, f"expected {expected}, got {_quote(line)}", number) from None
        lines.append(number)
    values = np.array(rows, dtype=np.float64).reshape(len(rows), width or min_columns)
    return values, np.array(lines, dtype=np.int64)


def _check_boxes(path: PathLike, values: np.ndarray, lines: np.ndarray) -> None:
    """Finite numbers, integer frames >= 1, positive box sizes."""
    not_finite = ~np.isfinite(values).all(axis=1)
    _fail_on_first(path, lines, not_finite, "finite numbers", values, _row)
    frames = values[:, 0]
    bad_frame = (frames < 1) | (frames != np.floor(frames))
    _fail_on_first(path, lines, bad_frame, "a frame number >= 1 (integer)", frames, _number)
    bad_size = (values[:, 4] <= 0) | (values[:, 5] <= 0)
    sizes = values[:, 4:6]
    _fail_on_first(path, lines, bad_size, "box width and height > 0", sizes, _size)


def _check_ids(path: PathLike, values: np.ndarray, lines: np.ndarray) -> None:
    ids = values[:, 1]
    bad = (ids < 0) | (ids != np.floor(ids))
    _fail_on_first(path, lines, bad, "an identity >= 0 (integer)", ids, _number)


def _fail_on_first(path, lines, bad: np.ndarray, expected: str, values, describe) -> None:
    if bad.any():
        first = int(np.argmax(bad))
        got = describe(values[first])
        raise MOTFormatError(path, f"expected {expected}, got {got}", int(lines[first]))


def _number(value: float) -> str:
    return f"{value:g}"


def _row(row: np.ndarray) -> str:
    return repr(",".join(map(_number, row)))


def _size(size: np.ndarray) -> str:
    return f"w={_number(float(size[0]))} h={_number(float(size[1]))}"


def _sorted_by_frame(values: np.ndarray) -> np.ndarray:
    return values[np.argsort(values[:, 0], kind="stable")]


def _read_text(path: PathLike, what: str) -> str:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise MOTFormatError(path, f"file not found; expected {what}") from None
    except OSError as error:
        raise MOTFormatError(path, f"cannot read {what}: {error.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise MOTFormatError(
            path, f"expected UTF-8 text, got byte {data[error.start]:#04x}"
        ) from None


def _quote(text: str) -> str:
    text = text.strip()
    return repr(text if len(text) <= MAX_QUOTED_CHARS else text[:MAX_QUOTED_CHARS] + "...")


# ---------------------------------------------------------------------------------------------
# sequences


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
    (last < first).
    """
    if frames not in FRAME_SPLITS:
        raise ValueError(f"frames must be one of {FRAME_SPLITS}, got {frames!r}")
    half = num_frames // 2
    return {
        "all": (1, num_frames),
        "first_half": (1, half),
        "second_half": (half + 1, num_frames),
    }[frames]


def load_sequence(
    seq_dir: PathLike,
    frames: str = "all",
    visibility_thresh: float = 0.0,
    id_offset: int = 0,
    require_gt: bool = True,
) -> tuple[list[dict], int]:
    """detectron2 records of one sequence, one per frame of the split (see :func:`frame_range`),
    and its number of identities.

    Annotations are the class-1, flag-1 boxes with visibility >= ``visibility_thresh``; their
    ``track_id`` is the local id mapped to a dense index (by increasing local id) plus
    ``id_offset``, so only identities seen in this split count. Frames without boxes keep an empty
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
    gt, lines = _parse_gt(sequence.gt_path)
    _check_gt_frames(sequence, gt, lines)
    frame_column = gt[:, 0]
    training = (
        (gt[:, 7] == PEDESTRIAN_CLASS)
        & (gt[:, 6] == 1)
        & (gt[:, 8] >= visibility_thresh)
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
        f"{int(lines[first])} ({_size(gt[first, 4:6])} at x={_number(x[first])} "
        f"y={_number(y[first])}); kept in the records, dropped in training (the mapper clips boxes "
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
    visibility_thresh: float = 0.0,
    require_gt: bool = True,
    detector: str | None = None,
) -> tuple[list[dict], int]:
    """Records of every sequence of a split and the number of identities of the split.

    Track ids are global and dense, 0..nID-1: each sequence is offset by the identities of the
    sequences before it (sorted by name).
    """
    records, num_ids = [], 0
    for seq_dir in list_sequences(split_dir, detector):
        seq_records, seq_ids = load_sequence(
            seq_dir, frames, visibility_thresh, num_ids, require_gt
        )
        records.extend(seq_records)
        num_ids += seq_ids
    return records, num_ids
