"""MOTChallenge metrics of tracker result files, computed by trackeval and by motmetrics.

The reported numbers (``result[seq]``, ``result["OVERALL"]``) come from **trackeval**, the
MOTChallenge reference code (and the only one of the two with HOTA), with the official
preprocessing of its benchmark. MOT16/17/20 (9-column gt): a tracker box matched (IoU >= 0.5) to
a distractor gt box (person on vehicle, static person, distractor, reflection; on MOT20 also
non-MOT vehicle) is removed, not counted as a false positive, and the gt is the class-1 boxes with
consider-flag not 0. MOT15 (10-column gt, chosen automatically): no classes and no distractor
removal; the gt is the rows with flag (MOT15's conf column) not 0, and a tracker box on a flag-0
row is a false positive.

**motmetrics** computes the CLEAR and identity metrics again as a cross-check
(``result["motmetrics"]``), set up like its own ``apps/eval_motchallenge.py`` but on trackeval's
gt rows: flag not 0 (its app keeps flag >= 1: the same on MOTChallenge files, whose flags are 0
or 1), no class filter, no distractor removal. On MOT15 gt it therefore sees exactly what
trackeval sees and the two agree; on MOT16/17/20 gt it counts a box on a static person or a
reflection as a false positive, so its FP can be higher and its MOTA lower. MT can differ for a
track covered exactly 80 % (trackeval needs more). motmetrics has no HOTA, DetA, AssA.

Percentages as MOTChallenge prints them: MOTA, IDF1, MOTP (mean IoU of matches), HOTA, DetA,
AssA in %; MT, ML, FP, FN, IDS are counts. Non-finite values (e.g. MOTA without any gt box in
motmetrics) become None.
"""

import contextlib
import io
import logging
import math
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import trackeval
from scipy.optimize import linear_sum_assignment

from ..data.mot_format import (
    MOT15_GT_COLUMNS,
    MOTTable,
    check_unique_ids,
    read_seq_length,
    read_table,
)
from ..utils.compat import import_motmetrics
from ..utils.errors import MOTFormatError

mm = import_motmetrics()
logger = logging.getLogger(__name__)

METRICS = ("MOTA", "IDF1", "MOTP", "MT", "ML", "FP", "FN", "IDS", "HOTA", "DetA", "AssA")
COUNTS = ("MT", "ML", "FP", "FN", "IDS")
OVERALL = "OVERALL"
MOTMETRICS = "motmetrics"
NOT_EVALUATED = "not_evaluated"
SECTIONS = (MOTMETRICS, NOT_EVALUATED)  # result keys that are not rows of the trackeval table
RESERVED_NAMES = (OVERALL, *SECTIONS)
_TRACKER = "lwf_track"  # the tracker folder name trackeval sees


def has_ground_truth(seq_dir) -> bool:
    """Whether a MOTChallenge sequence folder has ``gt/gt.txt``; test splits do not."""
    return (Path(seq_dir) / "gt" / "gt.txt").is_file()


def evaluate_mot(gt_root, tracks_dir, sequences=None, frame_ranges=None, benchmark=None) -> dict:
    """Score ``tracks_dir/<SEQ>.txt`` against ``gt_root/<SEQ>/gt/gt.txt`` (see the module doc).

    ``sequences``: names of folders in ``gt_root`` (default: every folder with a seqinfo.ini).
    ``frame_ranges``: optional ``{seq: (first, last)}``, 1-based inclusive; gt and results are cut
    to those frames and renumbered from 1 (the half-split validation). A missing result file counts
    as empty (every gt box a miss), with a warning; a sequence without gt raises FileNotFoundError.
    ``benchmark``: trackeval's distractor rules, by default "MOT15" for 10-column gt, "MOT20" when
    every name starts with MOT20, else "MOT17" (same rules as MOT16).
    """
    gt_root = _existing_dir(gt_root, "ground-truth root")
    names = list(sequences) if sequences is not None else sequence_names(gt_root)
    seq_dirs = {name: gt_root / name for name in names}
    return evaluate_sequences(seq_dirs, tracks_dir, frame_ranges, benchmark)


def evaluate_sequences(seq_dirs: Mapping, tracks_dir, frame_ranges=None, benchmark=None) -> dict:
    """:func:`evaluate_mot` for sequence folders anywhere: ``{name: seq_dir}``."""
    with _staged(seq_dirs, tracks_dir, frame_ranges) as (stage, widths):
        benchmark = benchmark or _default_benchmark(list(seq_dirs), widths)
        result = _run_trackeval(stage, list(seq_dirs), benchmark)
        result[MOTMETRICS] = _run_motmetrics(stage, list(seq_dirs))
    return result


@contextlib.contextmanager
def _staged(seq_dirs: Mapping, tracks_dir, frame_ranges):
    """A temporary folder with every sequence's gt and results cut to its frame range, checked
    (:func:`_stage_sequence`); yields it and each sequence's gt column count."""
    tracks_dir = _existing_dir(tracks_dir, "tracks folder")
    frame_ranges = dict(frame_ranges or {})
    _check_names(seq_dirs, frame_ranges)
    with tempfile.TemporaryDirectory(prefix="lwf_track_eval_") as tmp:
        stage = Path(tmp)
        widths = [
            _stage_sequence(stage, name, Path(seq_dir), tracks_dir, frame_ranges.get(name))
            for name, seq_dir in seq_dirs.items()
        ]
        yield stage, widths


class FrameCounts(NamedTuple):
    """Per-frame counts of one sequence whose sums give motmetrics' MOTA and IDF1 (see
    :func:`mota_idf1`): arrays over the scored frames, in frame order. ``id_true_positives``
    counts the matches that agree with the sequence's global IDF1 assignment of gt to track ids,
    which is made once over all its frames."""

    objects: np.ndarray  # gt boxes
    predictions: np.ndarray  # tracker boxes
    misses: np.ndarray  # FN
    false_positives: np.ndarray  # FP
    switches: np.ndarray  # IDS
    id_true_positives: np.ndarray  # IDTP


def mota_idf1(counts: FrameCounts) -> tuple:
    """MOTA and IDF1 in % of summed counts (the last axis is summed, so block sums of resamples
    can be given as 2-D arrays)."""
    total = {name: np.sum(values, axis=-1) for name, values in counts._asdict().items()}
    errors = total["misses"] + total["false_positives"] + total["switches"]
    mota = 100 * (1 - errors / total["objects"])
    idf1 = 100 * 2 * total["id_true_positives"] / (total["objects"] + total["predictions"])
    return mota, idf1


def frame_counts(seq_dirs: Mapping, tracks_dir, frame_ranges=None) -> dict:
    """``{name: FrameCounts}`` of the result files in ``tracks_dir``, staged and cut to
    ``frame_ranges`` exactly as :func:`evaluate_sequences` does and matched as its motmetrics
    cross-check is; their sums reproduce that cross-check's MOTA and IDF1 (which on MOT15 gt
    equal trackeval's). For statistics over frames, such as a bootstrap over blocks of them."""
    with _staged(seq_dirs, tracks_dir, frame_ranges) as (stage, _):
        return {
            name: _frame_counts(
                _motmetrics_accumulator(stage, name),
                read_seq_length(stage / "gt" / name / "seqinfo.ini"),
            )
            for name in seq_dirs
        }


def _frame_counts(accumulator, length: int) -> FrameCounts:
    """Counts per frame 1..length of one motmetrics accumulator (its events; the global IDF1
    assignment maximises the matched frames of gt-track id pairs, as motmetrics' does)."""
    events = accumulator.events.reset_index()
    frames = events["FrameId"].to_numpy(dtype=np.int64)
    kind = events["Type"].to_numpy()

    def per_frame(selected: np.ndarray) -> np.ndarray:
        return np.bincount(frames[selected] - 1, minlength=length)[:length]

    matched = np.isin(kind, ("MATCH", "SWITCH"))
    # every gt box is matched or missed, every tracker box matched or a false positive;
    # RAW events are the pairs within the IoU threshold (and lone boxes, without D)
    matchable = (kind == "RAW") & events["D"].notna().to_numpy()
    object_ids, object_index = np.unique(events["OId"][matchable], return_inverse=True)
    hypothesis_ids, hypothesis_index = np.unique(events["HId"][matchable], return_inverse=True)
    overlaps = np.zeros((len(object_ids), len(hypothesis_ids)))
    np.add.at(overlaps, (object_index, hypothesis_index), 1)
    rows, columns = linear_sum_assignment(overlaps, maximize=True)
    assigned = np.zeros_like(overlaps, dtype=bool)
    assigned[rows, columns] = True
    agrees = np.zeros(len(events), dtype=bool)
    agrees[np.flatnonzero(matchable)] = assigned[object_index, hypothesis_index]
    return FrameCounts(
        objects=per_frame(matched | (kind == "MISS")),
        predictions=per_frame(matched | (kind == "FP")),
        misses=per_frame(kind == "MISS"),
        false_positives=per_frame(kind == "FP"),
        switches=per_frame(kind == "SWITCH"),
        id_true_positives=per_frame(agrees),
    )


class NearMisses(NamedTuple):
    """The CLEAR-MOT errors of one sequence (matched as :func:`frame_counts` matches) and how
    many of its false positives and misses are near misses: a tracker box and a gt box of one
    frame, both left unmatched, that overlap at ``low_iou <= IoU < 0.5`` (paired one to one, as
    many pairs as possible). Each pair is one box put a little off its person, which MOTA counts
    as two errors: where many errors are pairs, better localisation, not detection or
    association, is what MOTA misses."""

    objects: int
    false_positives: int
    misses: int
    switches: int
    near_misses: int

    def mota(self, near_misses_as_hits: bool = False) -> float:
        """MOTA in %; with ``near_misses_as_hits``, as if each near-miss pair were a match (an
        upper estimate: identity switches such matches might add are not counted)."""
        errors = self.false_positives + self.misses + self.switches
        if near_misses_as_hits:
            errors -= 2 * self.near_misses
        return 100 * (1 - errors / self.objects) if self.objects else math.nan


def near_misses(seq_dirs: Mapping, tracks_dir, frame_ranges=None, low_iou: float = 0.3) -> dict:
    """``{name: NearMisses}`` of the result files in ``tracks_dir``, staged and cut to
    ``frame_ranges`` as :func:`evaluate_sequences` does and matched as its motmetrics
    cross-check is (IoU >= 0.5). Reads the gt: a diagnosis, not a way to choose keys."""
    if not 0.0 < low_iou < 0.5:
        raise ValueError(f"near-miss IoU must be in (0, 0.5), got {low_iou}")
    with _staged(seq_dirs, tracks_dir, frame_ranges) as (stage, _):
        return {name: _near_misses(stage, name, low_iou) for name in seq_dirs}


def _near_misses(stage: Path, name: str, low_iou: float) -> NearMisses:
    gt, tracks = _motmetrics_tables(stage, name)
    events = mm.utils.compare_to_groundtruth(gt, tracks, "iou", distth=0.5).events
    kind = events["Type"]
    box = ["X", "Y", "Width", "Height"]
    pairs = 0
    for frame, unmatched in events[kind.isin(("FP", "MISS"))].groupby(level="FrameId"):
        missed = unmatched.loc[unmatched["Type"] == "MISS", "OId"].to_numpy()
        spurious = unmatched.loc[unmatched["Type"] == "FP", "HId"].to_numpy()
        if len(missed) and len(spurious):
            # motmetrics' distance 1 - IoU, NaN beyond max_iou: the pairs with IoU >= low_iou
            distance = mm.distances.iou_matrix(
                gt.loc[frame].loc[missed, box].to_numpy(),
                tracks.loc[frame].loc[spurious, box].to_numpy(),
                max_iou=1.0 - low_iou,
            )
            close = ~np.isnan(distance)
            rows, columns = linear_sum_assignment(close, maximize=True)
            pairs += int(close[rows, columns].sum())
    return NearMisses(
        objects=int(len(gt)),
        false_positives=int((kind == "FP").sum()),
        misses=int((kind == "MISS").sum()),
        switches=int((kind == "SWITCH").sum()),
        near_misses=pairs,
    )


def _existing_dir(path, what: str) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{what} {path} is not a folder")
    return path


def sequence_names(gt_root) -> list:
    """The sequence folders (those with a seqinfo.ini) of a gt root, sorted."""
    gt_root = _existing_dir(gt_root, "ground-truth root")
    names = sorted(p.name for p in gt_root.iterdir() if (p / "seqinfo.ini").is_file())
    if not names:
        raise FileNotFoundError(f"no sequence folders (with a seqinfo.ini) in {gt_root}")
    return names


def _check_names(seq_dirs: Mapping, frame_ranges: dict) -> None:
    if not seq_dirs:
        raise ValueError("no sequences to evaluate")
    reserved = sorted(set(seq_dirs) & set(RESERVED_NAMES))
    if reserved:
        raise ValueError(f"sequence names {reserved} are reserved for the result table")
    unknown = sorted(set(frame_ranges) - set(seq_dirs))
    if unknown:
        raise ValueError(f"frame_ranges names sequences that are not evaluated: {unknown}")


def _stage_sequence(stage: Path, name: str, seq_dir: Path, tracks_dir: Path, frame_range):
    """Copy one sequence, cropped to its frame range, into trackeval's layout under ``stage``.

    Returns the gt's number of columns (None for an empty gt file).
    """
    if not seq_dir.is_dir():
        raise FileNotFoundError(f"sequence folder {seq_dir} does not exist")
    if not has_ground_truth(seq_dir):
        raise FileNotFoundError(
            f"{name}: no ground truth ({seq_dir / 'gt' / 'gt.txt'}); a test split cannot be "
            "evaluated (check has_ground_truth() first)"
        )
    ini_path = seq_dir / "seqinfo.ini"
    length = read_seq_length(ini_path)
    first, last = _checked_range(name, frame_range or (1, length), length)
    gt = read_table(seq_dir / "gt" / "gt.txt", "gt")
    check_unique_ids(gt)
    tracks = _read_tracks(name, tracks_dir / f"{name}.txt")
    for table in (gt, tracks):
        _check_frames_within(table, length, ini_path)
    gt_dir = stage / "gt" / name
    (gt_dir / "gt").mkdir(parents=True)
    (gt_dir / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nseqLength={last - first + 1}\n")
    _write_cropped(gt, gt_dir / "gt" / "gt.txt", first, last)
    (stage / "trackers" / _TRACKER).mkdir(parents=True, exist_ok=True)
    _write_cropped(tracks, stage / "trackers" / _TRACKER / f"{name}.txt", first, last)
    return gt.columns if len(gt.lines) else None


def _checked_range(name: str, frame_range, length: int) -> tuple:
    first, last = (int(frame) for frame in frame_range)
    if not 1 <= first <= last <= length:
        raise ValueError(
            f"{name}: frame range ({first}, {last}) must satisfy 1 <= first <= last <= {length} "
            "(seqLength)"
        )
    return first, last


def _read_tracks(name: str, path: Path) -> MOTTable:
    if path.is_file():
        return read_table(path, "results")
    logger.warning(f"{name}: no result file {path}; evaluated as empty (every gt box a miss)")
    return MOTTable(str(path), [], np.zeros((0, 7)), np.zeros(0, dtype=np.int64))


def _check_frames_within(table: MOTTable, length: int, ini_path: Path) -> None:
    beyond = np.flatnonzero(table.values[:, 0] > length)
    if len(beyond):
        index = int(beyond[0])
        frame = int(table.values[index, 0])
        message = f"frame {frame} is beyond seqLength {length} of {ini_path}"
        raise MOTFormatError(table.path, message, int(table.lines[index]))


def _write_cropped(table: MOTTable, path: Path, first: int, last: int) -> None:
    """Rows of frames ``first..last``, renumbered from 1; every other value exactly as read."""
    frames = table.values[:, 0].astype(np.int64)
    kept = np.flatnonzero((frames >= first) & (frames <= last))
    rest = (table.texts[i].split(",", 1)[1] for i in kept)
    lines = (f"{frame - first + 1},{values}\n" for frame, values in zip(frames[kept], rest))
    path.write_text("".join(lines))


def _default_benchmark(names: list, widths: list) -> str:
    kinds = {width for width in widths if width is not None}
    if len(kinds) > 1:
        raise ValueError(
            "the sequences mix MOT15-style (10-column) and MOT16/17/20 (9-column) ground truth; "
            "evaluate them separately"
        )
    if kinds == {MOT15_GT_COLUMNS}:
        return "MOT15"
    return "MOT20" if all(name.startswith("MOT20") for name in names) else "MOT17"


def _run_trackeval(stage: Path, names: list, benchmark: str) -> dict:
    """Per-sequence and combined trackeval metrics; its console output is kept quiet."""
    (stage / "seqmap.txt").write_text("name\n" + "".join(f"{name}\n" for name in names))
    dataset = {
        "GT_FOLDER": str(stage / "gt"),
        "TRACKERS_FOLDER": str(stage / "trackers"),
        "OUTPUT_FOLDER": str(stage / "output"),
        "TRACKERS_TO_EVAL": [_TRACKER],
        "TRACKER_SUB_FOLDER": "",
        "SEQMAP_FILE": str(stage / "seqmap.txt"),
        "SKIP_SPLIT_FOL": True,
        "BENCHMARK": benchmark,
        "DO_PREPROC": True,
        "PRINT_CONFIG": False,
    }
    evaluation = {
        "USE_PARALLEL": False,
        "BREAK_ON_ERROR": True,
        "LOG_ON_ERROR": str(stage / "trackeval_error.log"),
        "PRINT_RESULTS": False,
        "PRINT_CONFIG": False,
        "TIME_PROGRESS": False,
        "OUTPUT_SUMMARY": False,
        "OUTPUT_DETAILED": False,
        "PLOT_CURVES": False,
    }
    metric_config = {"THRESHOLD": 0.5, "PRINT_CONFIG": False}
    metrics = [
        trackeval.metrics.HOTA(),
        trackeval.metrics.CLEAR(metric_config),
        trackeval.metrics.Identity(metric_config),
    ]
    console = io.StringIO()
    try:
        with contextlib.redirect_stdout(console), contextlib.redirect_stderr(console):
            output, _ = trackeval.Evaluator(evaluation).evaluate(
                [trackeval.datasets.MotChallenge2DBox(dataset)], metrics
            )
    except trackeval.utils.TrackEvalException as err:
        raise RuntimeError(f"trackeval could not evaluate the results: {err}") from err
    by_sequence = output["MotChallenge2DBox"][_TRACKER]
    result = {name: _trackeval_row(by_sequence[name]["pedestrian"]) for name in names}
    result[OVERALL] = _trackeval_row(by_sequence["COMBINED_SEQ"]["pedestrian"])
    return result


def _trackeval_row(res: dict) -> dict:
    clear, hota = res["CLEAR"], res["HOTA"]
    row = {
        "MOTA": 100 * clear["MOTA"],
        "IDF1": 100 * res["Identity"]["IDF1"],
        "MOTP": 100 * clear["MOTP"],
        "MT": clear["MT"],
        "ML": clear["ML"],
        "FP": clear["CLR_FP"],
        "FN": clear["CLR_FN"],
        "IDS": clear["IDSW"],
        # HOTA, DetA, AssA are curves over IoU thresholds 0.05..0.95; trackeval reports the mean.
        "HOTA": 100 * np.mean(hota["HOTA"]),
        "DetA": 100 * np.mean(hota["DetA"]),
        "AssA": 100 * np.mean(hota["AssA"]),
    }
    return _plain(row)


def _run_motmetrics(stage: Path, names: list) -> dict:
    """The same staged files through motmetrics, as its ``apps/eval_motchallenge.py`` does but
    keeping the gt rows trackeval keeps (flag not 0)."""
    accumulators = [_motmetrics_accumulator(stage, name) for name in names]
    summary = mm.metrics.create().compute_many(
        accumulators, names=names, metrics=mm.metrics.motchallenge_metrics, generate_overall=True
    )
    return {str(name): _motmetrics_row(row) for name, row in summary.iterrows()}


def _motmetrics_tables(stage: Path, name: str) -> tuple:
    """One staged sequence's gt rows with flag not 0 and its tracks, as motmetrics reads them
    (indexed by frame and id)."""
    gt_path = stage / "gt" / name / "gt" / "gt.txt"
    gt = mm.io.loadtxt(gt_path, fmt="mot15-2D", min_confidence=-math.inf)
    tracks = mm.io.loadtxt(stage / "trackers" / _TRACKER / f"{name}.txt", fmt="mot15-2D")
    return gt[gt["Confidence"] != 0], tracks


def _motmetrics_accumulator(stage: Path, name: str):
    """One staged sequence's tracks matched to its gt rows with flag not 0 (IoU >= 0.5)."""
    return mm.utils.compare_to_groundtruth(*_motmetrics_tables(stage, name), "iou", distth=0.5)


def _motmetrics_row(row) -> dict:
    return _plain(
        {
            "MOTA": 100 * row["mota"],
            "IDF1": 100 * row["idf1"],
            # motmetrics' motp is the mean distance 1 - IoU; MOTChallenge prints the mean IoU.
            "MOTP": 100 * (1 - row["motp"]),
            "MT": row["mostly_tracked"],
            "ML": row["mostly_lost"],
            "FP": row["num_false_positives"],
            "FN": row["num_misses"],
            "IDS": row["num_switches"],
        }
    )


def _plain(row: dict) -> dict:
    """JSON-ready values: int counts, float percentages, None where not finite."""
    plain = {}
    for key, value in row.items():
        value = float(value)
        if not math.isfinite(value):
            plain[key] = None
        else:
            plain[key] = round(value) if key in COUNTS else value
    return plain
