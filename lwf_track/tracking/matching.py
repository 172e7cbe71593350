"""Association costs and the assignment solver.

Pure functions on numpy arrays: no state, inputs are never modified. A cost matrix has one row per
track and one column per detection; lower is better and ``inf`` forbids a pair.
"""

from typing import Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment


def iou_distance(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """``1 - IoU`` between XYXY boxes (N, 4) and (M, 4) -> (N, M); 1 for disjoint or empty boxes."""
    boxes_a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    boxes_b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    top_left = np.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2])
    bottom_right = np.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    intersection = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_a = np.prod(np.clip(boxes_a[:, 2:] - boxes_a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(boxes_b[:, 2:] - boxes_b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - intersection
    iou = np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)
    return 1.0 - iou


def has_embedding(embeddings: np.ndarray) -> np.ndarray:
    """(N,) bool: which rows of (N, D) ``embeddings`` hold one. The detector marks a detection it
    computed no embedding for (below ``MODEL.REID.MIN_SCORE_TEST``) with a row of NaN."""
    return ~np.isnan(embeddings[:, 0])


def embedding_distance(embeddings_a: np.ndarray, embeddings_b: np.ndarray) -> np.ndarray:
    """Cosine distance ``1 - cos`` between embeddings (N, D) and (M, D) -> (N, M) in [0, 2].

    Rows are normalised here, so the EMA track embeddings and raw detections compare fairly."""
    a = np.asarray(embeddings_a, dtype=np.float64)
    b = np.asarray(embeddings_b, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        return np.zeros((len(a), len(b)))
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), np.finfo(np.float64).eps)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), np.finfo(np.float64).eps)
    return np.clip(1.0 - a @ b.T, 0.0, 2.0)


def fuse_motion(
    appearance_cost: np.ndarray,
    motion_distance: np.ndarray,
    embed_weight: float,
    gate_threshold: float,
) -> np.ndarray:
    """Appearance cost fused with motion, as in FairMOT / JDE.

    ``motion_distance`` is the squared Mahalanobis distance of every detection to every track's
    predicted state. Pairs beyond ``gate_threshold`` (a chi-square quantile) are impossible for
    the motion model and get ``inf``; the rest cost
    ``embed_weight * appearance + (1 - embed_weight) * motion``.
    """
    appearance_cost = np.asarray(appearance_cost, dtype=np.float64)
    motion_distance = np.asarray(motion_distance, dtype=np.float64)
    fused = embed_weight * appearance_cost + (1.0 - embed_weight) * motion_distance
    return np.where(motion_distance > gate_threshold, np.inf, fused)


def linear_assignment(cost: np.ndarray, thresh: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimum-cost matching where leaving a row or column unmatched costs ``thresh / 2``.

    So a pair is only matched when that is cheaper than leaving both ends unmatched (the
    ``cost_limit`` formulation of ByteTrack's LAPJV), and every match costs at most ``thresh``.
    Returns ``matches`` (K, 2) of (row, column), ``unmatched_rows``, ``unmatched_columns``.
    """
    cost = np.asarray(cost, dtype=np.float64)
    num_rows, num_cols = cost.shape
    if num_rows == 0 or num_cols == 0:
        return np.empty((0, 2), dtype=np.int64), np.arange(num_rows), np.arange(num_cols)
    # Forbidden or too expensive pairs are never worth it; a finite stand-in keeps the solver happy.
    too_expensive = thresh + 1.0
    bounded = np.where(np.isfinite(cost) & (cost <= thresh), cost, too_expensive)
    extended = np.full((num_rows + num_cols, num_cols + num_rows), thresh / 2.0)
    extended[:num_rows, :num_cols] = bounded
    extended[num_rows:, num_cols:] = 0.0
    rows, cols = linear_sum_assignment(extended)
    real = (rows < num_rows) & (cols < num_cols)
    matches = np.stack([rows[real], cols[real]], axis=1).astype(np.int64)
    matches = matches[cost[matches[:, 0], matches[:, 1]] <= thresh]
    return matches, _left_out(num_rows, matches[:, 0]), _left_out(num_cols, matches[:, 1])


def _left_out(size: int, taken: np.ndarray) -> np.ndarray:
    """The indices in ``range(size)`` that are not in ``taken``, ascending (a mask: np.setdiff1d
    sorts, and costs more than the whole assignment of a typical frame)."""
    free = np.ones(size, dtype=bool)
    free[taken] = False
    return np.flatnonzero(free)
