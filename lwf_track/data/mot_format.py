"""The MOTChallenge file formats: ``seqinfo.ini``, ``gt.txt``, ``det.txt`` and result files.

The one place that reads and writes them, for the data layer, the evaluator, the tracker's output
and the benchmarks. trackeval and motmetrics read these files too, but fail deep inside on a bad
line; every file is read here first, so that each problem is a :class:`MOTFormatError` naming the
file, the line and what was expected.

The rules (what trackeval and motmetrics accept, and what the data layer needs):

- **Separators**: values are separated by commas; blanks around a comma, blanks alone between
  values and one trailing comma are accepted too (motmetrics splits on commas and blanks,
  trackeval sniffs the separator of each file). Blank lines are skipped; UTF-8 (with or without
  a byte-order mark), any line ending.
- **Every row**: finite numbers and an integer frame >= 1; every row has as many columns as the
  first.
- **gt**: 9 columns (MOT16/17/20: frame, id, x, y, w, h, consider-flag, class, visibility) or 10
  (MOT15: frame, id, x, y, w, h, conf, world x, y, z; conf is the consider-flag and there are no
  classes). Integer id >= 0 and box width and height > 0 (a person has a size). Each (frame, id)
  once where it is scored: the evaluator checks it with :func:`check_unique_ids`, since trackeval
  refuses a repeat; training does not need it.
- **det**: at least 7 columns (frame, -1, x, y, w, h, score, ...); width and height > 0; any id
  and score.
- **results**: 7 to 10 columns (frame, id, x, y, w, h, score[, -1, -1, -1]); integer id >= 0,
  width and height >= 0 (a degenerate box from a tracker matches nothing, as in trackeval and
  motmetrics), each (frame, id) once.

The parsers read line by line (for the line numbers), then check the values in bulk with numpy,
keeping no per-row Python containers, so that large gt files stay fast.
"""

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..utils.errors import MOTFormatError
from ..utils.io import atomic_open, atomic_write_text

PathLike = str | os.PathLike
MOTRow = tuple[int, int, float, float, float, float, float]  # frame, id, x, y, w, h, score

MOT15_GT_COLUMNS = 10  # MOT15's gt layout; MOT16/17/20 have 9 columns
MAX_QUOTED_CHARS = 80  # error messages quote at most this much of a bad line
_BLANK = re.compile(r"[^\S\r\n]")  # white space within a line
_BLANK_SEPARATED = re.compile(r"\s*,\s*|\s+")


@dataclass(frozen=True)
class _Kind:
    """What one kind of text file holds."""

    min_columns: int
    max_columns: int | None  # None: any number
    columns: str  # the column count, as error messages say it
    layout: str  # the meaning of the columns, as error messages say it
    positive_size: bool  # boxes need width and height > 0 (else >= 0)
    has_ids: bool  # integer ids >= 0
    unique_ids: bool  # each (frame, id) once


_KINDS = {
    "gt": _Kind(
        min_columns=9,
        max_columns=10,
        columns="9 or 10",
        layout="frame,id,x,y,w,h,flag,class,visibility (MOT16/17/20) or "
        "frame,id,x,y,w,h,conf,x,y,z (MOT15)",
        positive_size=True,
        has_ids=True,
        unique_ids=False,  # checked where scored, see check_unique_ids
    ),
    "det": _Kind(
        min_columns=7,
        max_columns=None,
        columns="at least 7",
        layout="frame,-1,x,y,w,h,score",
        positive_size=True,
        has_ids=False,
        unique_ids=False,
    ),
    "results": _Kind(
        min_columns=7,
        max_columns=10,
        columns="7 to 10",
        layout="frame,id,x,y,w,h,score[,-1,-1,-1]",
        positive_size=False,
        has_ids=True,
        unique_ids=True,
    ),
}


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
    values = {
        field: _value(path, entries, key, is_integer)
        for key, (field, is_integer) in SEQINFO_KEYS.items()
    }
    if not values["im_ext"].startswith("."):
        line = entries["imext"][1]
        raise MOTFormatError(
            path, f"expected imExt to start with '.', got {values['im_ext']!r}", line
        )
    return SeqInfo(**values)


def write_seqinfo(path: PathLike, info: SeqInfo) -> None:
    """Write ``info`` as a ``seqinfo.ini`` that :func:`read_seqinfo` reads back, atomically."""
    keys = (f"{key}={getattr(info, field)}" for key, (field, _) in SEQINFO_KEYS.items())
    atomic_write_text(str(path), "\n".join(["[Sequence]", *keys]) + "\n")


def read_seq_length(path: PathLike) -> int:
    """Only ``seqLength`` of a ``seqinfo.ini``: all that scoring needs (trackeval sizes a sequence
    by it), so result files can be scored against gt folders whose seqinfo.ini has no image keys."""
    return _read_integer_key(path, "seqLength")


def read_frame_rate(path: PathLike) -> int:
    """Only ``frameRate`` of a ``seqinfo.ini`` (what a comparison over seconds of frames needs)."""
    return _read_integer_key(path, "frameRate")


def _read_integer_key(path: PathLike, key: str) -> int:
    entries = _sequence_section(path, _read_text(path, "a seqinfo.ini file"))
    return _value(path, entries, key, True)


def _value(path: PathLike, entries: dict, key: str, is_integer: bool) -> str | int:
    if key.lower() not in entries:
        raise MOTFormatError(path, f"expected key '{key}' in section [Sequence]")
    text, line = entries[key.lower()]
    if not text:
        raise MOTFormatError(path, f"expected a value for '{key}', got nothing", line)
    return _positive_int(path, key, text, line) if is_integer else text


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


@dataclass(frozen=True)
class MOTTable:
    """The rows of a checked MOT text file: each row's values as written, joined by commas (so
    that a copy keeps every value exactly), the same as float64 ``values`` (N, columns), and the
    line number of every row."""

    path: str
    texts: list[str]
    values: np.ndarray
    lines: np.ndarray

    @property
    def columns(self) -> int:
        return self.values.shape[1]


def read_table(path: PathLike, kind: str) -> MOTTable:
    """A ``"gt"``, ``"det"`` or ``"results"`` file in file order, checked by the rules of its
    kind (see the module doc); :class:`MOTFormatError` on the first problem."""
    spec = _KINDS[kind]
    texts, values, lines = _parse_lines(path, spec)
    _check_values(path, spec, values, lines)
    table = MOTTable(str(path), texts, values, lines)
    if spec.unique_ids:
        check_unique_ids(table)
    return table


def check_unique_ids(table: MOTTable) -> None:
    """Each (frame, id) once: trackeval refuses a repeat; say where, before it does."""
    values, lines = table.values, table.lines
    order = np.lexsort((values[:, 1], values[:, 0]))  # stable: earlier lines first
    pairs = values[order, :2]
    repeated = order[1:][(pairs[1:] == pairs[:-1]).all(axis=1)]
    if len(repeated):
        index = int(repeated.min())
        first = int(np.flatnonzero((values[:, :2] == values[index, :2]).all(axis=1))[0])
        frame, track_id = _number(values[index, 0]), _number(values[index, 1])
        message = (
            f"expected one box per (frame, id), but frame {frame} id {track_id} repeats line "
            f"{lines[first]}"
        )
        raise MOTFormatError(table.path, message, int(lines[index]))


def gt_values(table: MOTTable) -> np.ndarray:
    """Ground truth as ``(N, 9)``: frame, id, x, y, w, h, flag, class, visibility.

    MOT15's 10 columns become these 9: conf is the flag, class and visibility are 1.
    """
    values = table.values
    if values.shape[1] == MOT15_GT_COLUMNS:
        return np.column_stack([values[:, :7], np.ones((len(values), 2))])
    return values


def read_gt(path: PathLike) -> np.ndarray:
    """Ground truth as float64 ``(N, 9)`` in file order (see :func:`gt_values`)."""
    return gt_values(read_table(path, "gt"))


def read_det(path: PathLike) -> np.ndarray:
    """Detections as float64 ``(N, 7)``: frame, -1, x, y, w, h, score; stably sorted by frame.

    Columns after the 7th (MOT16's world coordinates) are dropped; public det files are not sorted.
    """
    return _sorted_by_frame(read_table(path, "det").values[:, :7])


def read_results(path: PathLike) -> np.ndarray:
    """A result file as float64 ``(N, 7)``: frame, id, x, y, w, h, score; stably sorted by frame."""
    return _sorted_by_frame(read_table(path, "results").values[:, :7])


def write_table(path: PathLike, values: np.ndarray) -> None:
    """Rows of numbers (gt or det, as :attr:`MOTTable.values`) as comma-separated lines with
    six significant digits, atomically."""
    lines = (",".join(map(_number, row)) + "\n" for row in np.asarray(values, dtype=np.float64))
    atomic_write_text(str(path), "".join(lines))


def write_mot_results(path: PathLike, rows: Iterable[MOTRow]) -> None:
    """Write ``frame,id,x,y,w,h,score,-1,-1,-1`` lines (the MOTChallenge submission format),
    atomically: an interrupted run never leaves a truncated file that looks complete."""
    with atomic_open(str(path)) as f:
        for frame, track_id, x, y, w, h, score in rows:
            f.write(f"{int(frame)},{int(track_id)},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{score:.3f}")
            f.write(",-1,-1,-1\n")


def _parse_lines(path: PathLike, spec: _Kind):
    """Texts, float64 values and line numbers of the non-blank lines; every row has as many
    columns as the first."""
    text = _read_text(path, "a MOTChallenge text file")
    split = _split_on_blanks if _BLANK.search(text) else _split_on_commas  # one scan of the text
    expected = f"{spec.columns} comma-separated numbers"
    texts, numbers, lines, width = [], [], [], None  # flat lists of untracked objects: no GC
    for number, line in enumerate(text.splitlines(), 1):
        row = split(line)
        if row is None:
            continue
        if not spec.min_columns <= len(row) <= (spec.max_columns or len(row)):
            raise MOTFormatError(path, _expected(expected, _quote(line), spec.layout), number)
        width = width or len(row)
        if len(row) != width:
            as_first = f"{width} comma-separated numbers (as line {lines[0]})"
            raise MOTFormatError(path, _expected(as_first, _quote(line), spec.layout), number)
        try:
            numbers.extend(map(float, row))
        except ValueError:
            message = _expected(expected, _quote(line), spec.layout)
            raise MOTFormatError(path, message, number) from None
        texts.append(",".join(row))
        lines.append(number)
    values = np.array(numbers, dtype=np.float64).reshape(len(lines), width or spec.min_columns)
    return texts, values, np.asarray(lines, dtype=np.int64)


def _split_on_commas(line: str) -> list[str] | None:
    """The fields of a line without blanks (the common case, kept fast); None if it is empty."""
    if not line:
        return None
    row = line.split(",")
    if len(row) > 1 and not row[-1]:  # one trailing comma
        row.pop()
    return row


def _split_on_blanks(line: str) -> list[str] | None:
    """:func:`_split_on_commas` for a file with blanks around or instead of commas."""
    line = line.strip()
    return _split_on_commas(_BLANK_SEPARATED.sub(",", line)) if line else None


def _check_values(path: PathLike, spec: _Kind, values: np.ndarray, lines: np.ndarray) -> None:
    frames, ids, sizes = values[:, 0], values[:, 1], values[:, 4:6]
    too_small = sizes <= 0 if spec.positive_size else sizes < 0
    size_rule = f"box width and height {'>' if spec.positive_size else '>='} 0"
    checks = [
        (~np.isfinite(values).all(axis=1), "finite numbers", lambda i: _row(values[i])),
        (
            (frames < 1) | (frames != np.floor(frames)),
            "a frame number >= 1 (integer)",
            lambda i: _number(frames[i]),
        ),
        (too_small.any(axis=1), size_rule, lambda i: _size(sizes[i])),
    ]
    if spec.has_ids:
        bad_id = (ids < 0) | (ids != np.floor(ids))
        checks.append((bad_id, "an identity >= 0 (integer)", lambda i: _number(ids[i])))
    for bad, expected, describe in checks:
        if bad.any():
            first = int(np.argmax(bad))
            raise MOTFormatError(path, _expected(expected, describe(first)), int(lines[first]))


def _expected(expected: str, got: str, layout: str | None = None) -> str:
    message = f"expected {expected}, got {got}"
    return f"{message} (columns: {layout})" if layout else message


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
