"""Tracker score thresholds chosen without looking at the evaluated set's gt.

A score threshold that suits one model's score scale may not suit another's, so comparing models
at one fixed ``TRACKER.HIGH_SCORE_THRESH`` can favour one of them. Calibration picks it per model
on a set with gt that is not evaluated (``TRACKER.CALIBRATION.DATASET``, typically a slice of the
training set): the model's detections on those frames are computed once and kept, then only the
tracker runs again for every candidate of ``TRACKER.CALIBRATION.HIGH_SCORE_THRESHS``
(``BIRTH_THRESH`` keeps its configured offset from it). Each run is scored by motmetrics against
the pedestrian gt boxes (IoU >= 0.5, no ignore regions: fast, and the same for every candidate);
the best MOTA wins, ties go to the better IDF1, then to the earlier candidate.
"""

import logging
import math
from itertools import chain

import numpy as np
from detectron2.evaluation import DatasetEvaluator
from detectron2.utils import comm

from ..tracking import OnlineTracker, tracks_to_mot_rows
from ..utils.compat import import_motmetrics

logger = logging.getLogger(__name__)
CALIBRATION_FILE = "calibration.json"  # in the evaluation folder: the grid and the chosen keys


def with_thresholds(cfg, high_score_thresh: float):
    """A frozen copy of ``cfg`` with ``HIGH_SCORE_THRESH`` set, ``BIRTH_THRESH`` moved with it."""
    offset = cfg.TRACKER.BIRTH_THRESH - cfg.TRACKER.HIGH_SCORE_THRESH
    cfg = cfg.clone()
    cfg.defrost()
    cfg.TRACKER.HIGH_SCORE_THRESH = float(high_score_thresh)
    cfg.TRACKER.BIRTH_THRESH = float(high_score_thresh + offset)
    cfg.freeze()
    return cfg


def calibration_records(records: list, max_frames: int) -> list:
    """The records calibration runs on: with ``max_frames`` > 0, the first
    ``max(1, max_frames // number of sequences)`` frames of every sequence (whole, contiguous
    stretches, so the tracker sees real motion); else all of them."""
    by_sequence = {}
    for record in records:
        by_sequence.setdefault(record["sequence"], []).append(record)
    per_sequence = max(1, max_frames // len(by_sequence)) if max_frames > 0 and by_sequence else 0
    kept = []
    for frames in by_sequence.values():
        frames = sorted(frames, key=lambda r: r["frame"])
        kept.extend(frames[:per_sequence] if per_sequence else frames)
    return kept


def track_and_score(cfg, detections: dict, truths: dict) -> dict:
    """MOTA and IDF1 (in %) of the tracker of ``cfg`` over kept detections.

    ``detections``: ``{sequence: (frame_rate, [(frame, Instances), ...] in frame order)}``;
    ``truths``: ``{sequence: {frame: FrameTruth}}``.
    """
    mm = import_motmetrics()
    summary = mm.metrics.create().compute_many(
        track_accumulators(cfg, detections, truths), metrics=["mota", "idf1"], generate_overall=True
    )
    overall = summary.loc["OVERALL"]
    return {"MOTA": percent(overall["mota"]), "IDF1": percent(overall["idf1"])}


def track_accumulators(cfg, detections: dict, truths: dict) -> list:
    """One motmetrics accumulator per sequence: the tracker of ``cfg`` run over kept detections
    (arguments as :func:`track_and_score`), its written boxes matched to the gt boxes (IoU >= 0.5,
    no ignore regions)."""
    mm = import_motmetrics()
    accumulators = []
    for sequence, (frame_rate, frames) in detections.items():
        tracker = OnlineTracker(cfg, frame_rate=frame_rate)
        accumulator = mm.MOTAccumulator(auto_id=True)
        for frame, instances in frames:
            rows = tracks_to_mot_rows(frame, tracker.update(instances), cfg.TRACKER.MIN_BOX_AREA)
            tracks = np.array([row[1:6] for row in rows], dtype=np.float64).reshape(-1, 5)
            truth = truths[sequence][frame]
            distances = mm.distances.iou_matrix(truth.boxes, tracks[:, 1:], max_iou=0.5)
            accumulator.update(truth.ids.tolist(), tracks[:, 0].astype(int).tolist(), distances)
        accumulators.append(accumulator)
    return accumulators


def calibrate(cfg, detections: dict, truths: dict, candidates) -> dict:
    """Score every candidate ``HIGH_SCORE_THRESH`` (those below ``LOW_SCORE_THRESH`` are left
    out) and choose one. Returns ``{"grid": [rows], "chosen": row}``, a row holding the two
    thresholds and MOTA, IDF1."""
    grid = []
    for high in candidates:
        if high < cfg.TRACKER.LOW_SCORE_THRESH:
            logger.warning(
                f"calibration: HIGH_SCORE_THRESH {high} < LOW_SCORE_THRESH "
                f"{cfg.TRACKER.LOW_SCORE_THRESH}; left out"
            )
            continue
        candidate = with_thresholds(cfg, high)
        row = {
            "HIGH_SCORE_THRESH": candidate.TRACKER.HIGH_SCORE_THRESH,
            "BIRTH_THRESH": candidate.TRACKER.BIRTH_THRESH,
            **track_and_score(candidate, detections, truths),
        }
        logger.info(f"calibration: {row}")
        grid.append(row)
    if not grid:
        raise ValueError(
            "TRACKER.CALIBRATION.HIGH_SCORE_THRESHS has no value >= TRACKER.LOW_SCORE_THRESH "
            f"({cfg.TRACKER.LOW_SCORE_THRESH}); give candidates in [LOW_SCORE_THRESH, 1]"
        )
    chosen = max(grid, key=lambda r: (_rank(r["MOTA"]), _rank(r["IDF1"])))  # first of the best
    return {"grid": grid, "chosen": chosen}


def percent(value) -> float | None:
    """A motmetrics fraction in %; None where it is not finite (a set without people)."""
    value = float(value)
    return 100 * value if math.isfinite(value) else None


def _rank(value) -> float:
    return -math.inf if value is None else value


class DetectionCollector(DatasetEvaluator):
    """Keeps every frame's detections (on CPU) for :func:`calibrate`; under several processes
    rank 0 gathers them. :meth:`evaluate` returns nothing; :attr:`frames` holds
    ``{sequence: [(frame, Instances), ...] in frame order}`` (empty on other ranks)."""

    def __init__(self, add_colors=None):
        self._add_colors = add_colors  # as MOTEvaluator's: the tracker may need the colours
        self.reset()

    def reset(self):
        self._held = []
        self.frames = {}

    def process(self, inputs, outputs):
        for record, output in zip(inputs, outputs):
            instances = output["instances"].to("cpu")
            if self._add_colors is not None:
                instances = self._add_colors(instances, record)
            self._held.append((record["sequence"], int(record["frame"]), instances))

    def evaluate(self):
        held = comm.gather(self._held, dst=0) if comm.get_world_size() > 1 else [self._held]
        if comm.is_main_process():
            for sequence, frame, instances in sorted(
                chain.from_iterable(held), key=lambda i: i[:2]
            ):
                self.frames.setdefault(sequence, []).append((frame, instances))
        return {}
