"""Re-ID quality of the embeddings: JDE's TPR at a fixed FAR (Wang et al., "Towards Real-Time
Multi-Object Tracking", the embedding metric of their Table 1).

What is measured, exactly:

* **which embeddings**: per evaluated frame, the model's detections are matched one-to-one to the
  pedestrian gt boxes (:mod:`~lwf_track.evaluation.ground_truth`) by Hungarian assignment on IoU
  (scipy), a pair counting only at IoU >= 0.5; each matched detection's ``pred_embeddings`` row is
  kept with the identity of its gt box. Unmatched detections, missed people and detections without
  an embedding (NaN rows, below ``MODEL.REID.MIN_SCORE_TEST``) give nothing.
* **which pairs**: within a sequence, every unordered pair of its kept embeddings (i < j); a pair
  of the same identity is positive, of different identities negative. Pairs never cross sequences
  (identities are per sequence). A sequence with more than ``max_per_sequence`` embeddings keeps
  that many, evenly spaced in frame order (deterministic), so the pair count stays bounded.
* **score**: cosine similarity (the rows are L2-normalised first). The threshold at FAR = f is the
  similarity that at most a fraction f of the negatives, pooled over the sequences, exceed; TPR is
  the fraction of the positives that exceed it.
"""

import math

import numpy as np
from scipy.optimize import linear_sum_assignment

FARS = (0.1, 0.01)
MATCH_IOU = 0.5
MAX_PER_SEQUENCE = 3000  # at most ~4.5M pairs per sequence


def tpr_key(far: float) -> str:
    return f"TPR@FAR={far:g}"


TPR_KEYS = tuple(tpr_key(far) for far in FARS)


def match_to_truth(boxes_xyxy: np.ndarray, truth_xywh: np.ndarray, min_iou: float = MATCH_IOU):
    """Indices ``(detections, gt boxes)`` of the one-to-one matching with the largest total IoU,
    pairs below ``min_iou`` dropped."""
    if not len(boxes_xyxy) or not len(truth_xywh):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    truth = np.column_stack([truth_xywh[:, :2], truth_xywh[:, :2] + truth_xywh[:, 2:4]])
    iou = _iou(np.asarray(boxes_xyxy, dtype=np.float64), truth)
    rows, cols = linear_sum_assignment(iou, maximize=True)
    good = iou[rows, cols] >= min_iou
    return rows[good], cols[good]


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-12)


def pair_similarities(embeddings: np.ndarray, ids: np.ndarray, max_count=MAX_PER_SEQUENCE):
    """Cosine similarities of the positive and of the negative pairs of one sequence."""
    if len(ids) > max_count:
        keep = np.linspace(0, len(ids) - 1, max_count).round().astype(np.int64)
        embeddings, ids = embeddings[keep], ids[keep]
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    first, second = np.triu_indices(len(ids), k=1)
    similarity = np.einsum("ij,ij->i", unit[first], unit[second])
    same = ids[first] == ids[second]
    return similarity[same], similarity[~same]


def tpr_at_far(positives: np.ndarray, negatives: np.ndarray, far: float):
    """TPR at the threshold that at most ``far`` of the negatives exceed; None without pairs."""
    if not len(positives) or not len(negatives):
        return None
    descending = np.sort(negatives)[::-1]
    threshold = descending[min(int(math.floor(far * len(negatives))), len(negatives) - 1)]
    return float(np.mean(positives > threshold))


class ReIDScorer:
    """Collects the gt-matched embeddings of every sequence; TPR@FAR over their pairs (in %)."""

    def __init__(self, max_per_sequence: int = MAX_PER_SEQUENCE):
        self._max_per_sequence = max_per_sequence
        self._sequences = {}  # name -> (embeddings, ids)

    def add(self, sequence: str, embeddings: np.ndarray, ids: np.ndarray) -> None:
        """All matched embeddings (M, D) of a sequence with their gt identities (M,)."""
        self._sequences[sequence] = (np.asarray(embeddings, np.float32), np.asarray(ids))

    def evaluate(self) -> dict:
        pairs = [
            pair_similarities(e, i, self._max_per_sequence) for e, i in self._sequences.values()
        ]
        positives = np.concatenate([p for p, _ in pairs]) if pairs else np.zeros(0)
        negatives = np.concatenate([n for _, n in pairs]) if pairs else np.zeros(0)
        results = {}
        for far in FARS:
            tpr = tpr_at_far(positives, negatives, far)
            results[tpr_key(far)] = None if tpr is None else 100 * tpr
        return results
