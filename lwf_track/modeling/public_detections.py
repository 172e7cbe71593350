"""Public detections as a detector: each sequence's ``det/det.txt`` in place of the network.

MOTChallenge ships the same detections to every tracker so that trackers can be compared on equal
input. :class:`PublicDetections` answers detectron2's model call (a batch of mapped records in,
``[{"instances": Instances}]`` out) from those files, so the one dataset-evaluation path tracks and
scores them unchanged. There are no embeddings: the tracker then associates by motion and IoU only.
"""

from pathlib import Path

import numpy as np
import torch
from torch import nn

from detectron2.structures import Boxes, Instances

from ..data.datasets import get_sequences
from ..data.mot_format import read_det


class PublicDetections(nn.Module):
    """Per-frame detections of every sequence of ``dataset_names``, read lazily from det.txt.

    Boxes go out in the image size of the record (``height``, ``width``), as the network's do;
    det.txt is in the sequence's own pixels, so a record resized by the mapper keeps its boxes.
    """

    def __init__(self, dataset_names, image_mapper=None):
        """``image_mapper``: a test mapper that also reads each frame (for the tracker's colour
        cue); None = no image is read."""
        super().__init__()
        self._image_mapper = image_mapper
        self._det_paths = {}
        for name in dataset_names:
            for sequence in get_sequences(name):
                self._det_paths[sequence["name"]] = Path(sequence["dir"]) / "det" / "det.txt"
        self._by_frame = {}  # sequence -> {frame: (N, 5) x1, y1, x2, y2, score}

    def test_mapper(self, record: dict) -> dict:
        """The record as this model needs it: no image is read (det.txt holds every box), so
        tracking public detections costs what the tracker costs; with ``image_mapper``, the
        record as that mapper gives it."""
        if self._image_mapper is not None:
            return self._image_mapper(record)
        mapped = dict(record)
        mapped.pop("annotations", None)
        return mapped

    def forward(self, batched_inputs):
        return [{"instances": self._instances(record)} for record in batched_inputs]

    def _instances(self, record) -> Instances:
        frames = self._frames(record["sequence"])
        rows = frames.get(int(record["frame"]), np.zeros((0, 5)))
        instances = Instances((record["height"], record["width"]))
        instances.pred_boxes = Boxes(torch.as_tensor(rows[:, :4], dtype=torch.float32))
        instances.scores = torch.as_tensor(rows[:, 4], dtype=torch.float32)
        instances.pred_classes = torch.zeros(len(rows), dtype=torch.int64)
        return instances

    def _frames(self, sequence: str) -> dict:
        if sequence not in self._by_frame:
            if sequence not in self._det_paths:
                raise KeyError(f"{sequence}: not a sequence of the sets given to PublicDetections")
            path = self._det_paths[sequence]
            if not path.is_file():
                raise FileNotFoundError(
                    f"{path}: no public detections for {sequence} (--public-detections needs "
                    "det/det.txt in every sequence)"
                )
            det = read_det(path)
            boxes = np.column_stack([det[:, 2:4], det[:, 2:4] + det[:, 4:6], det[:, 6]])
            frames = det[:, 0].astype(int)
            starts = np.flatnonzero(np.r_[True, frames[1:] != frames[:-1]])
            ends = np.r_[starts[1:], len(frames)]
            self._by_frame[sequence] = {int(frames[s]): boxes[s:e] for s, e in zip(starts, ends)}
        return self._by_frame[sequence]
