"""MOTChallenge text files: write tracker results; read results and ground truth with checks.

trackeval and motmetrics read these files themselves, but fail deep inside on a malformed line.
Reading them here first turns that into a :class:`MOTFormatError` naming the file, the line and
what was expected.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..utils.errors import MOTFormatError
from ..utils.io import atomic_open

MOTRow = tuple[int, int, float, float, float, float, float]  # frame, id, x, y, w, h, score

_RULES = "integer frame >= 1, integer id >= 0, w and h >= 0, finite numbers, (frame, id) unique"
RESULTS_EXPECTED = f"frame,id,x,y,w,h,score[,-1,-1,-1] ({_RULES})"
GT_EXPECTED = (
    "frame,id,x,y,w,h,flag,class,visibility (MOT16/17/20) or frame,id,x,y,w,h,conf,x,y,z "
    f"(MOT15) ({_RULES})"
)
# (fewest columns, most columns, description) of each kind of file.
_KINDS = {"results": (7, 10, RESULTS_EXPECTED), "gt": (9, 10, GT_EXPECTED)}
# What trackeval and motmetrics accept between values: a comma or blanks.
_SEPARATOR = re.compile(r"\s*,\s*|\s+")


@dataclass(frozen=True)
class MOTTable:
    """The rows of a MOT text file: the fields as written (so a cropped copy keeps every value
    exactly), the same as float64 ``values`` (N, columns), and the line number of every row."""

    path: str
    fields: list[list[str]]
    values: np.ndarray
    lines: np.ndarray


def write_mot_results(path, rows: Iterable[MOTRow]) -> None:
    """Write ``frame,id,x,y,w,h,score,-1,-1,-1`` lines (the MOTChallenge submission format),
    atomically: an interrupted run never leaves a truncated file that looks complete."""
    with atomic_open(str(path)) as f:
        for frame, track_id, x, y, w, h, score in rows:
            f.write(f"{int(frame)},{int(track_id)},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{score:.3f}")
            f.write(",-1,-1,-1\n")


def read_mot_results(path) -> np.ndarray:
    """A result file as float64 ``(N, 7)``: frame, id, x, y, w, h, score, in file order."""
    return read_mot_table(path, "results").values[:, :7]


def read_mot_table(path, kind: str) -> MOTTable:
    """A checked ``"results"`` or ``"gt"`` file; :class:`MOTFormatError` on the first bad line."""
    min_columns, max_columns, expected = _KINDS[kind]
    fields, lines = _split_lines(path)
    values = _to_numbers(path, fields, lines, min_columns, max_columns, expected)
    _check_values(path, fields, values, lines, expected)
    return MOTTable(str(path), fields, values, lines)


def _split_lines(path) -> tuple[list[list[str]], np.ndarray]:
    try:
        text = Path(path).read_text()
    except UnicodeDecodeError as err:
        raise MOTFormatError(path, f"not a text file ({err.reason})") from None
    fields, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip().rstrip(",")
        if line:
            fields.append(_SEPARATOR.split(line))
            lines.append(number)
    return fields, np.asarray(lines, dtype=np.int64)


def _to_numbers(path, fields, lines, min_columns, max_columns, expected) -> np.ndarray:
    """All rows as one float array; every row must have as many columns as the first."""
    if not fields:
        return np.zeros((0, min_columns))
    width = len(fields[0])
    numbers = []
    for row, line in zip(fields, lines):
        if len(row) != width or not min_columns <= width <= max_columns:
            problem = f"{len(row)} columns in {_quote(row)}"
            if len(row) != width:
                problem += f" (the first row has {width})"
            raise MOTFormatError(path, f"{problem}; expected {expected}", int(line))
        try:
            numbers.append([float(value) for value in row])
        except ValueError:
            message = f"not a number in {_quote(row)}; expected {expected}"
            raise MOTFormatError(path, message, int(line)) from None
    return np.array(numbers, dtype=np.float64)


def _check_values(path, fields, values, lines, expected) -> None:
    frames, ids, sizes = values[:, 0], values[:, 1], values[:, 4:6]
    checks = (
        (~np.isfinite(values).all(axis=1), "a value that is not finite"),
        ((frames < 1) | (frames != np.round(frames)), "a frame that is not an integer >= 1"),
        ((ids < 0) | (ids != np.round(ids)), "an id that is not an integer >= 0"),
        ((sizes < 0).any(axis=1), "a negative width or height"),
    )
    for bad, problem in checks:
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            message = f"{problem} in {_quote(fields[index])}; expected {expected}"
            raise MOTFormatError(path, message, int(lines[index]))
    _check_unique(path, fields, values, lines, expected)


def _check_unique(path, fields, values, lines, expected) -> None:
    """trackeval refuses an id twice in one frame; say where, before it does."""
    order = np.lexsort((values[:, 1], values[:, 0]))  # stable: earlier lines first
    pairs = values[order, :2]
    repeated = order[1:][(pairs[1:] == pairs[:-1]).all(axis=1)]
    if len(repeated):
        index = int(repeated.min())
        first = int(np.flatnonzero((values[:, :2] == values[index, :2]).all(axis=1))[0])
        message = (
            f"frame {fields[index][0]} id {fields[index][1]} repeats line {lines[first]}; "
            f"expected {expected}"
        )
        raise MOTFormatError(path, message, int(lines[index]))


def _quote(row: list[str]) -> str:
    text = ",".join(row)
    return repr(text if len(text) <= 80 else text[:77] + "...")
