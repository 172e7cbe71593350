"""The ground truth of the evaluated frames for the per-task metrics (detection AP, Re-ID TPR).

Which boxes count, per frame of a sequence's evaluated range (``first_frame..last_frame``: the
registered split, so a half-split validation set uses its second half only):

* **pedestrians**: class 1 with consider-flag 1 (every one, however occluded, as in MOTA);
* **ignore regions**: class-1 boxes with flag 0 (MOT15's "ignore" rows) and the distractor classes
  that trackeval removes matches to (person on vehicle, static person, distractor, reflection): a
  detection on one is neither a true nor a false positive (COCO ``iscrowd``);
* every other class (vehicles, occluders) is left out, so a detection there is a false positive.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.mot_format import read_gt

PEDESTRIAN = 1
DISTRACTOR_CLASSES = (2, 7, 8, 12)


@dataclass(frozen=True)
class FrameTruth:
    """One frame: pedestrian boxes (N, 4) XYWH with their identities (N,), ignore boxes (K, 4)."""

    boxes: np.ndarray
    ids: np.ndarray
    ignore: np.ndarray


def load_sequence_truth(sequence: dict) -> dict:
    """``{frame: FrameTruth}`` for every frame of ``sequence`` (a dict of
    :func:`lwf_track.data.datasets.get_sequences`, which must have gt)."""
    gt = read_gt(Path(sequence["dir"]) / "gt" / "gt.txt")
    frames, classes, flags = gt[:, 0].astype(np.int64), gt[:, 7], gt[:, 6]
    pedestrian = (classes == PEDESTRIAN) & (flags == 1)
    ignore = ((classes == PEDESTRIAN) & (flags == 0)) | np.isin(classes, DISTRACTOR_CLASSES)
    truth = {}
    for frame in range(sequence["first_frame"], sequence["last_frame"] + 1):
        here = frames == frame
        people = gt[here & pedestrian]
        truth[frame] = FrameTruth(
            boxes=people[:, 2:6], ids=people[:, 1].astype(np.int64), ignore=gt[here & ignore, 2:6]
        )
    return truth
