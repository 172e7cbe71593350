"""Evaluation by tracking: a detectron2 DatasetEvaluator that runs the online tracker over the
model's detections, writes MOTChallenge result files and scores them with trackeval/motmetrics."""

import logging
import os
from collections import OrderedDict
from itertools import chain

from detectron2.evaluation import DatasetEvaluator
from detectron2.utils import comm

from ..tracking import tracks_to_mot_rows
from ..data.mot_format import write_mot_results
from .mot_metrics import NOT_EVALUATED, OVERALL, evaluate_sequences
from .report import format_table, save_metrics

logger = logging.getLogger(__name__)


class MOTEvaluator(DatasetEvaluator):
    """Track while inference runs; write ``output_dir/tracks/<SEQ>.txt``; score what has gt.

    ``sequences``: dicts ``name, dir, frame_rate, width, height, first_frame, last_frame, has_gt``
    (``lwf_track.data.datasets.get_sequences``). ``tracker_factory(frame_rate)`` makes a fresh
    tracker per sequence, so track ids restart at 1 in every file. Frames must come in order within
    a sequence, one sequence after another, as detectron2's test loader gives them. Result files
    keep the sequence's own frame numbers (MOTChallenge submissions); a split sequence (half-split
    validation) is scored on ``first_frame..last_frame`` only. ``overwrite=False`` keeps an existing
    result file and ignores that sequence's frames.

    With several processes, each holds one contiguous chunk of the frames (InferenceSampler);
    tracking there would cut tracks at chunk borders. So each process keeps its detections and rank
    0 gathers them and tracks them in order; only rank 0 writes and scores.
    """

    def __init__(self, sequences, output_dir, tracker_factory, min_box_area=0.0, overwrite=True):
        self._sequences = OrderedDict((s["name"], s) for s in sequences)
        self._output_dir = output_dir
        self._tracks_dir = os.path.join(output_dir, "tracks")
        self._tracker_factory = tracker_factory
        self._min_box_area = min_box_area
        self._overwrite = overwrite
        self.reset()

    def reset(self):
        self._sequence = None  # the sequence being tracked
        self._tracker = None  # None while no sequence is open or its file is kept
        self._last_frame = 0
        self._rows = []
        self._started = set()
        self._held = []  # (sequence, frame, detections) for rank 0, under several processes

    def process(self, inputs, outputs):
        for record, output in zip(inputs, outputs):
            sequence, frame = record["sequence"], int(record["frame"])
            if sequence not in self._sequences:
                raise ValueError(
                    f"a frame of {sequence}, which is not among the evaluator's sequences"
                )
            detections = output["instances"].to("cpu")
            if comm.get_world_size() > 1:
                self._held.append((sequence, frame, detections))
            else:
                self._track(sequence, frame, detections)

    def evaluate(self):
        if comm.get_world_size() > 1:
            held = comm.gather(self._held, dst=0)
            if not comm.is_main_process():
                return {}
            order = {name: index for index, name in enumerate(self._sequences)}
            for item in sorted(chain.from_iterable(held), key=lambda i: (order[i[0]], i[1])):
                self._track(*item)
        self._close_sequence()
        return self._score()

    def _track(self, sequence: str, frame: int, detections) -> None:
        if sequence != self._sequence:
            self._open_sequence(sequence)
        if self._tracker is None:
            return
        if frame <= self._last_frame:
            raise RuntimeError(
                f"{sequence}: frame {frame} came after frame {self._last_frame}; the evaluator "
                "needs every sequence's frames in order"
            )
        self._last_frame = frame
        tracks = self._tracker.update(detections)
        self._rows.extend(tracks_to_mot_rows(frame, tracks, self._min_box_area))

    def _open_sequence(self, sequence: str) -> None:
        self._close_sequence()
        if sequence in self._started:
            raise RuntimeError(
                f"{sequence}: frames came again after another sequence; the evaluator needs one "
                "sequence after another"
            )
        self._started.add(sequence)
        self._sequence, self._last_frame, self._rows = sequence, 0, []
        if self.keeps_results(sequence):
            logger.info(f"{sequence}: keeping {self._track_path(sequence)} (overwrite=False)")
            return
        self._tracker = self._tracker_factory(self._sequences[sequence]["frame_rate"])

    def _close_sequence(self) -> None:
        """Write the open sequence's results (atomically) and close it."""
        if self._tracker is not None:
            write_mot_results(self._track_path(self._sequence), self._rows)
        self._sequence, self._tracker, self._rows = None, None, []

    def keeps_results(self, sequence: str) -> bool:
        """True when the sequence's result file exists and is kept (``overwrite=False``): its
        frames need neither inference nor tracking."""
        return not self._overwrite and os.path.exists(self._track_path(sequence))

    def _track_path(self, sequence: str) -> str:
        return os.path.join(self._tracks_dir, sequence + ".txt")

    def _score(self) -> OrderedDict:
        """Scores of the sequences with gt, saved beside the tracks; the OVERALL row for logs."""
        os.makedirs(self._tracks_dir, exist_ok=True)
        with_gt = [s for s in self._sequences.values() if s["has_gt"]]
        metrics = {}
        if with_gt:
            metrics = evaluate_sequences(
                {s["name"]: s["dir"] for s in with_gt},
                self._tracks_dir,
                frame_ranges={s["name"]: (s["first_frame"], s["last_frame"]) for s in with_gt},
            )
        metrics[NOT_EVALUATED] = [s["name"] for s in self._sequences.values() if not s["has_gt"]]
        save_metrics(metrics, self._output_dir)
        logger.info(f"MOT metrics of {self._tracks_dir}:\n{format_table(metrics)}")
        if not with_gt:
            return OrderedDict()
        overall = {name: value for name, value in metrics[OVERALL].items() if value is not None}
        return OrderedDict(MOT=overall)
