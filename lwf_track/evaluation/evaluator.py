"""The dataset evaluation of lwf_track: a detectron2 DatasetEvaluator that, from one inference
pass, tracks (MOTChallenge result files scored by trackeval/motmetrics), scores the detections
(COCO AP) and the embeddings (Re-ID TPR@FAR), and writes one report."""

import logging
import os
from collections import OrderedDict
from itertools import chain

import numpy as np
import torch
from detectron2.evaluation import DatasetEvaluator
from detectron2.structures import Boxes, Instances
from detectron2.utils import comm

from ..tracking import has_embedding, tracks_to_mot_rows
from ..data.mot_format import write_mot_results
from ..utils.io import atomic_open
from .detection import DetectionScorer
from .ground_truth import load_sequence_truth
from .mot_metrics import NOT_EVALUATED, OVERALL, evaluate_sequences
from .reid import ReIDScorer, match_to_truth
from .report import format_table, save_metrics

logger = logging.getLogger(__name__)


class MOTEvaluator(DatasetEvaluator):
    """Track while inference runs; score tracks, detections and embeddings of what has gt.

    ``sequences``: dicts ``name, dir, frame_rate, width, height, first_frame, last_frame, has_gt``
    (``lwf_track.data.datasets.get_sequences``). ``tracker_factory(frame_rate)`` makes a fresh
    tracker per sequence, so track ids restart at 1 in every file. Frames must come in order within
    a sequence, one sequence after another, as detectron2's test loader gives them. Result files
    keep the sequence's own frame numbers (MOTChallenge submissions); a split sequence (half-split
    validation) is scored on ``first_frame..last_frame`` only. ``add_colors(instances, input)``
    (:func:`lwf_track.tracking.color.color_adder`), when given, adds each frame's colours to its
    detections before anything else sees them.

    ``output_dir`` receives ``tracks/<SEQ>.txt``, ``detections/<SEQ>.npz`` (what the detection and
    Re-ID scores need of the sequence's inference: every detection's box, score and class, and the
    gt-matched embeddings), COCOEvaluator's files and ``mot_metrics.json``/``.csv``. A sequence
    with both files is kept under ``overwrite=False``: its frames need no inference, and its
    per-task scores are computed from its ``.npz``.

    With several processes, each holds one contiguous chunk of the frames (InferenceSampler);
    tracking there would cut tracks at chunk borders. So each process keeps its detections and rank
    0 gathers them and handles them in order; only rank 0 writes and scores.
    """

    def __init__(
        self,
        sequences,
        output_dir,
        tracker_factory,
        min_box_area=0.0,
        overwrite=True,
        dataset_name="dataset",
        max_dets_per_image=100,
        add_colors=None,
    ):
        self._sequences = OrderedDict((s["name"], s) for s in sequences)
        self._output_dir = output_dir
        self._tracker_factory = tracker_factory
        self._min_box_area = min_box_area
        self._overwrite = overwrite
        self._dataset_name = dataset_name
        self._max_dets_per_image = max_dets_per_image
        self._add_colors = add_colors
        self._truths = {s["name"]: load_sequence_truth(s) for s in sequences if s["has_gt"]}
        self.reset()

    def reset(self):
        self._sequence = None  # the sequence being handled
        self._tracker = None  # None while no sequence is open or its files are kept
        self._last_frame = 0
        self._rows = []
        self._inference = _SequenceInference()
        self._started = set()
        self._held = []  # (sequence, frame, detections) for rank 0, under several processes
        self._detection = DetectionScorer(
            self._sequences.values(),
            self._truths,
            self._output_dir,
            self._dataset_name,
            self._max_dets_per_image,
        )
        self._reid = ReIDScorer()

    def process(self, inputs, outputs):
        for record, output in zip(inputs, outputs):
            sequence, frame = record["sequence"], int(record["frame"])
            if sequence not in self._sequences:
                raise ValueError(
                    f"a frame of {sequence}, which is not among the evaluator's sequences"
                )
            detections = output["instances"].to("cpu")
            if self._add_colors is not None:
                detections = self._add_colors(detections, record)
            if comm.get_world_size() > 1:
                self._held.append((sequence, frame, detections))
            else:
                self._handle(sequence, frame, detections)

    def evaluate(self):
        if comm.get_world_size() > 1:
            held = comm.gather(self._held, dst=0)
            if not comm.is_main_process():
                return {}
            order = {name: index for index, name in enumerate(self._sequences)}
            for item in sorted(chain.from_iterable(held), key=lambda i: (order[i[0]], i[1])):
                self._handle(*item)
        self._close_sequence()
        for sequence in self._sequences:
            if sequence not in self._started and self.keeps_results(sequence):
                self._replay(sequence)  # kept, and none of its frames came
        return self._score()

    def keeps_results(self, sequence: str) -> bool:
        """True when the sequence's result files exist and are kept (``overwrite=False``): its
        frames need neither inference nor tracking."""
        paths = (self._track_path(sequence), self._inference_path(sequence))
        return not self._overwrite and all(os.path.exists(p) for p in paths)

    def _handle(self, sequence: str, frame: int, detections: Instances) -> None:
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
        self._detection.add(sequence, frame, detections)
        truth = self._truths.get(sequence, {}).get(frame)
        self._inference.add(frame, detections, truth)

    def _open_sequence(self, sequence: str) -> None:
        self._close_sequence()
        if sequence in self._started:
            raise RuntimeError(
                f"{sequence}: frames came again after another sequence; the evaluator needs one "
                "sequence after another"
            )
        self._sequence, self._last_frame, self._rows = sequence, 0, []
        if self.keeps_results(sequence):
            logger.info(f"{sequence}: keeping {self._track_path(sequence)} (overwrite=False)")
            self._replay(sequence)
            return
        self._started.add(sequence)
        self._inference = _SequenceInference()
        self._tracker = self._tracker_factory(self._sequences[sequence]["frame_rate"])

    def _close_sequence(self) -> None:
        """Write the open sequence's results (atomically) and close it."""
        if self._tracker is not None:
            write_mot_results(self._track_path(self._sequence), self._rows)
            arrays = self._inference.arrays()
            with atomic_open(self._inference_path(self._sequence), "wb") as f:
                np.savez_compressed(f, **arrays)
            self._add_embeddings(self._sequence, arrays)
        self._sequence, self._tracker, self._rows = None, None, []

    def _replay(self, sequence: str) -> None:
        """The per-task scores of a kept sequence, from its saved inference."""
        self._started.add(sequence)
        with np.load(self._inference_path(sequence)) as saved:
            arrays = {key: saved[key] for key in saved.files}
        for frame, instances in _frames_of(arrays):
            self._detection.add(sequence, frame, instances)
        self._add_embeddings(sequence, arrays)

    def _add_embeddings(self, sequence: str, arrays: dict) -> None:
        if sequence in self._truths:
            self._reid.add(sequence, arrays["reid_embeddings"], arrays["reid_ids"])

    def _track_path(self, sequence: str) -> str:
        return os.path.join(self._output_dir, "tracks", sequence + ".txt")

    def _inference_path(self, sequence: str) -> str:
        return os.path.join(self._output_dir, "detections", sequence + ".npz")

    def _score(self) -> OrderedDict:
        """Scores of the sequences with gt, saved in ``output_dir``; the OVERALL row for logs."""
        os.makedirs(os.path.join(self._output_dir, "tracks"), exist_ok=True)
        with_gt = [s for s in self._sequences.values() if s["has_gt"]]
        metrics = {}
        tasks = {**self._detection.evaluate(), **self._reid.evaluate()}
        if with_gt:
            metrics = evaluate_sequences(
                {s["name"]: s["dir"] for s in with_gt},
                os.path.join(self._output_dir, "tracks"),
                frame_ranges={s["name"]: (s["first_frame"], s["last_frame"]) for s in with_gt},
            )
            metrics[OVERALL].update(tasks)
        metrics[NOT_EVALUATED] = [s["name"] for s in self._sequences.values() if not s["has_gt"]]
        save_metrics(metrics, self._output_dir)
        logger.info(f"Metrics of {self._output_dir}:\n{format_table(metrics)}")
        if not with_gt:
            return OrderedDict()
        overall = {name: value for name, value in metrics[OVERALL].items() if value is not None}
        return OrderedDict(MOT=overall)


class _SequenceInference:
    """What the per-task scores need of one sequence's inference, frame by frame: every
    detection's frame, box (XYXY), score and class, and the gt-matched embeddings with their
    identities."""

    def __init__(self):
        self._detections = []  # (frame, boxes, scores, classes)
        self._embeddings, self._ids = [], []

    def add(self, frame: int, detections: Instances, truth) -> None:
        boxes = detections.pred_boxes.tensor.numpy()
        self._detections.append(
            (frame, boxes, detections.scores.numpy(), detections.pred_classes.numpy())
        )
        if truth is not None and detections.has("pred_embeddings"):  # public det.txt has none
            matched, people = match_to_truth(boxes, truth.boxes)
            embeddings = detections.pred_embeddings.numpy()[matched]
            computed = has_embedding(embeddings)
            self._embeddings.append(embeddings[computed])
            self._ids.append(truth.ids[people][computed])

    def arrays(self) -> dict:
        detections = self._detections
        frames = [np.full(len(boxes), frame) for frame, boxes, _, _ in detections]
        dim = self._embeddings[0].shape[1] if self._embeddings else 0
        return {
            "frames": np.concatenate(frames or [np.zeros(0)]).astype(np.int64),
            "boxes": np.concatenate([d[1] for d in detections] or [np.zeros((0, 4))]),
            "scores": np.concatenate([d[2] for d in detections] or [np.zeros(0)]),
            "classes": np.concatenate([d[3] for d in detections] or [np.zeros(0)]).astype(np.int64),
            "handled_frames": np.array([frame for frame, *_ in detections], dtype=np.int64),
            "reid_embeddings": np.concatenate(self._embeddings or [np.zeros((0, dim))]),
            "reid_ids": np.concatenate(self._ids or [np.zeros(0)]).astype(np.int64),
        }


def _frames_of(arrays: dict):
    """``(frame, Instances)`` of every handled frame of a saved sequence, in order (frames without
    detections included: their people count as misses in AP either way)."""
    for frame in arrays["handled_frames"].tolist():
        here = arrays["frames"] == frame
        yield frame, Instances(
            (0, 0),
            pred_boxes=Boxes(torch.as_tensor(arrays["boxes"][here])),
            scores=torch.as_tensor(arrays["scores"][here]),
            pred_classes=torch.as_tensor(arrays["classes"][here]),
        )
