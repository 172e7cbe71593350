"""Colour appearance: a training-free cue beside the learned Re-ID embedding.

A Re-ID branch trained on a handful of identities (PETS09's training half has 10) does not tell
new people apart; the colours of their clothes often do. Each detection gets the HSV histogram of
its box's upper and lower half (clothes above and below the waist), each half's histogram
L1-normalised; the square root of the two side by side (halved, so the vector has unit norm) is
the Hellinger embedding: the cosine similarity of two such vectors is the mean Bhattacharyya
coefficient of their halves, so the tracker's cosine distance compares colours as it compares
Re-ID embeddings. ``TRACKER.COLOR_WEIGHT`` mixes the two (:func:`fuse_appearance`).

Colours are computed where the frame is at hand (:func:`color_adder`: the evaluator, the
calibration, the video path and the benches) and ride along in ``Instances.pred_colors``; the
tracker itself never sees images.
"""

from typing import Callable, Optional, Sequence

import cv2
import numpy as np
import torch

from detectron2.structures import Instances

HUE_RANGE = (0, 180)  # OpenCV's 8-bit hue
BYTE_RANGE = (0, 256)


def color_histograms(image_bgr: np.ndarray, boxes: np.ndarray, bins: Sequence[int]) -> np.ndarray:
    """(N, 2 * prod(bins)) unit-norm Hellinger embeddings of the HSV colours of XYXY ``boxes``
    (pixels of ``image_bgr``, an (H, W, 3) uint8 BGR image); ``bins``: hue, saturation and value
    bins. A box with less than one pixel row in a half inside the image gets a NaN row."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    size = 2 * int(np.prod(bins))
    out = np.full((len(boxes), size), np.nan, dtype=np.float32)
    if len(boxes) == 0:
        return out
    hsv = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2HSV)
    height, width = hsv.shape[:2]
    x1, y1 = np.floor(boxes[:, :2]).clip(0, [width, height]).astype(int).T
    x2, y2 = np.ceil(boxes[:, 2:]).clip(0, [width, height]).astype(int).T
    middle = (y1 + y2) // 2
    ranges = [*HUE_RANGE, *BYTE_RANGE, *BYTE_RANGE]
    for k in np.flatnonzero((x2 > x1) & (middle > y1) & (y2 > middle)):
        halves = [
            cv2.calcHist([hsv[top:bottom, x1[k] : x2[k]]], [0, 1, 2], None, list(bins), ranges)
            for top, bottom in ((y1[k], middle[k]), (middle[k], y2[k]))
        ]
        out[k] = np.sqrt(np.concatenate([h.ravel() / h.sum() for h in halves]) / 2.0)
    return out


def with_colors(
    instances: Instances,
    image: torch.Tensor,
    input_format: str,
    bins: Sequence[int],
    min_score: float = 0.0,
) -> Instances:
    """A copy of ``instances`` (boxes in its ``image_size``) with ``pred_colors`` from ``image``,
    the model input of that frame: a (3, h, w) uint8 tensor in ``input_format`` ("BGR" or
    "RGB"), possibly resized, as detectron2's mappers give it; boxes are scaled to it.
    Detections scoring below ``min_score`` get NaN rows (no work)."""
    pixels = image.permute(1, 2, 0).cpu().numpy()
    if input_format == "RGB":
        pixels = pixels[:, :, ::-1]
    elif input_format != "BGR":
        raise ValueError(
            f"colour histograms need a BGR or RGB input, got INPUT.FORMAT {input_format}"
        )
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = instances.image_size
    scale = np.array([pixels.shape[1] / width, pixels.shape[0] / height] * 2)
    boxes = instances.pred_boxes.tensor.detach().cpu().numpy() * scale
    wanted = instances.scores.detach().cpu().numpy() >= min_score
    colors = np.full((len(boxes), 2 * int(np.prod(bins))), np.nan, dtype=np.float32)
    colors[wanted] = color_histograms(pixels, boxes[wanted], bins)
    result = Instances(instances.image_size, **instances.get_fields())
    result.pred_colors = torch.from_numpy(colors)
    return result


def fuse_appearance(
    embeddings: Optional[np.ndarray], colors: np.ndarray, color_weight: float
) -> np.ndarray:
    """One appearance vector per detection whose cosine distance to another is
    ``(1 - w) * d_reid + w * d_colour`` (``w = color_weight``): the unit Re-ID embedding times
    ``sqrt(1 - w)`` beside the unit colour embedding times ``sqrt(w)``. A row missing either part
    is NaN (no appearance); without Re-ID embeddings (public detections), or at ``w = 1``, the
    colours alone. Inputs are not modified."""
    colors = np.asarray(colors, dtype=np.float64)
    if embeddings is None or color_weight >= 1.0:
        return colors.copy()
    embeddings = np.asarray(embeddings, dtype=np.float64)
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    unit = embeddings / np.maximum(norms, np.finfo(np.float64).eps)
    fused = np.concatenate(
        [np.sqrt(1.0 - color_weight) * unit, np.sqrt(color_weight) * colors], axis=1
    )
    fused[np.isnan(colors[:, 0]) | np.isnan(embeddings[:, 0])] = np.nan
    return fused


def color_min_score(cfg) -> float:
    """The lowest score whose detections get colours: the tracker compares appearance only at
    >= ``TRACKER.HIGH_SCORE_THRESH``, which the calibration may lower to any of its candidates."""
    calibration = cfg.TRACKER.CALIBRATION
    candidates = calibration.HIGH_SCORE_THRESHS if calibration.DATASET else ()
    return min([cfg.TRACKER.HIGH_SCORE_THRESH, *candidates])


def color_adder(cfg) -> Optional[Callable[[Instances, dict], Instances]]:
    """``add(instances, model_input[, image_format])``: a frame's detections with the colours of
    that frame (the mapped record's ``image``, in ``INPUT.FORMAT`` unless ``image_format`` says
    otherwise), for every path that feeds the tracker; None when ``TRACKER.COLOR_WEIGHT`` is 0.
    Detections below every ``HIGH_SCORE_THRESH`` the tracker may use get none (no work): it never
    compares their appearance."""
    if cfg.TRACKER.COLOR_WEIGHT <= 0:
        return None
    bins = tuple(cfg.TRACKER.COLOR_BINS)
    if len(bins) != 3 or min(bins) < 1:
        raise ValueError(f"TRACKER.COLOR_BINS: need 3 positive bin counts (H, S, V), got {bins}")
    input_format, min_score = cfg.INPUT.FORMAT, color_min_score(cfg)

    def add(instances: Instances, model_input: dict, image_format: Optional[str] = None):
        if "image" not in model_input:
            raise ValueError(
                f"{model_input.get('file_name', 'a frame')}: TRACKER.COLOR_WEIGHT > 0 needs the "
                "frame's image, and this model input has none"
            )
        image_format = image_format or input_format
        return with_colors(instances, model_input["image"], image_format, bins, min_score)

    return add
