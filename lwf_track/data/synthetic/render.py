"""Drawing the people of a frame and measuring how much of each is visible; the camera's sensor
noise."""

import math
from collections.abc import Sequence

import cv2
import numpy as np

from .appearance import Appearance, Color

SUBPIXEL_BITS = 3  # cv2 drawing with fractional coordinates: smooth motion of small people
SUBPIXEL = 1 << SUBPIXEL_BITS

Box = tuple[int, int, int, int]


class BoxPainter:
    """Draws shapes given in box-relative (u, v) coordinates, anti-aliased with sub-pixel precision
    so that small people move smoothly instead of jumping whole pixels."""

    def __init__(self, canvas: np.ndarray, box: Sequence[float]):
        self.canvas = canvas
        self.x0, self.y0, self.w, self.h = box

    def points(self, uv: Sequence[tuple[float, float]]) -> np.ndarray:
        uv = np.asarray(uv, dtype=np.float64)
        xy = np.stack([self.x0 + uv[:, 0] * self.w, self.y0 + uv[:, 1] * self.h], axis=1)
        return np.round(xy * SUBPIXEL).astype(np.int32)

    def polygons(self, shapes: Sequence[Sequence[tuple[float, float]]], color: Color) -> None:
        outlines = [self.points(shape) for shape in shapes]
        cv2.fillPoly(self.canvas, outlines, color, lineType=cv2.LINE_AA, shift=SUBPIXEL_BITS)

    def ellipse(self, center_uv, axes_uv, color: Color, arc=(0, 360)) -> None:
        ((cx, cy),), (ax, ay) = self.points([center_uv]), (axes_uv[0] * self.w, axes_uv[1] * self.h)
        axes = (max(1, round(ax * SUBPIXEL)), max(1, round(ay * SUBPIXEL)))
        cv2.ellipse(
            self.canvas,
            (int(cx), int(cy)),
            axes,
            0,
            arc[0],
            arc[1],
            color,
            -1,
            cv2.LINE_AA,
            SUBPIXEL_BITS,
        )


TORSO_TOP, TORSO_BOTTOM = 0.22, 0.55
TORSO = (
    (0.28, 0.17),
    (0.72, 0.17),
    (0.8, TORSO_TOP),
    (0.74, TORSO_BOTTOM),
    (0.26, TORSO_BOTTOM),
    (0.2, TORSO_TOP),
)


def torso_band(v_top: float, v_bottom: float):
    """A horizontal band of the torso (a stripe) that follows its tapering outline."""

    def edges(v):
        taper = 0.06 * (v - TORSO_TOP) / (TORSO_BOTTOM - TORSO_TOP)
        return 0.2 + taper, 0.8 - taper

    (left_top, right_top), (left_bottom, right_bottom) = edges(v_top), edges(v_bottom)
    return (
        (left_top, v_top),
        (right_top, v_top),
        (right_bottom, v_bottom),
        (left_bottom, v_bottom),
    )


def arm(shoulder_out: float, shoulder_in: float, hand_out: float, v_end: float):
    """An arm from the shoulder (v 0.2) towards the hand (v 0.5), cut at ``v_end`` (sleeves)."""
    hand_in = hand_out + math.copysign(0.11, shoulder_in - shoulder_out)
    reach = (v_end - 0.2) / 0.3
    end_out = shoulder_out + (hand_out - shoulder_out) * reach
    end_in = shoulder_in + (hand_in - shoulder_in) * reach
    return ((shoulder_out, 0.2), (shoulder_in, 0.21), (end_in, v_end), (end_out, v_end))


def draw_person(canvas: np.ndarray, box: Sequence[float], look: Appearance, phase: float) -> None:
    """A block pedestrian filling ``box`` (x, y, w, h); ``phase`` swings legs and arms."""
    paint = BoxPainter(canvas, box)
    swing = 0.16 * math.sin(phase)
    left_foot, right_foot = 0.38 + swing, 0.62 - swing
    paint.polygons(
        [
            ((0.26, 0.52), (0.5, 0.52), (left_foot + 0.08, 0.96), (left_foot - 0.08, 0.96)),
            ((0.5, 0.52), (0.74, 0.52), (right_foot + 0.08, 0.96), (right_foot - 0.08, 0.96)),
        ],
        look.bottom,
    )
    for foot in (left_foot, right_foot):
        paint.ellipse((foot, 0.965), (0.1, 0.035), look.shoes)

    paint.polygons([TORSO], look.top)
    if look.stripes is not None:
        paint.polygons([torso_band(v, v + 0.035) for v in (0.26, 0.33, 0.4, 0.47)], look.stripes)

    for shoulder_out, shoulder_in, side in ((0.1, 0.24, -1), (0.9, 0.76, 1)):
        hand_out = shoulder_out + side * (0.02 + 0.5 * swing)  # arms swing against the legs
        if not look.long_sleeves:
            paint.polygons([arm(shoulder_out, shoulder_in, hand_out, 0.5)], look.skin)
        sleeve_end = 0.5 if look.long_sleeves else 0.32
        paint.polygons([arm(shoulder_out, shoulder_in, hand_out, sleeve_end)], look.top)
        paint.ellipse((hand_out - side * 0.055, 0.52), (0.06, 0.025), look.skin)

    if look.bag is not None:  # a strap across the chest and the bag at the hip
        if look.bag_left:
            strap, bag_left = ((0.7, 0.18), (0.76, 0.18), (0.16, 0.45), (0.1, 0.45)), 0.0
        else:
            strap, bag_left = ((0.24, 0.18), (0.3, 0.18), (0.9, 0.45), (0.84, 0.45)), 0.82
        bag = ((bag_left, 0.44), (bag_left + 0.18, 0.44), (bag_left + 0.18, 0.6), (bag_left, 0.6))
        paint.polygons([strap, bag], look.bag)

    paint.ellipse((0.5, 0.085), (0.14, 0.065), look.skin)
    if look.hat is not None:
        paint.ellipse((0.5, 0.06), (0.17, 0.045), look.hat, arc=(180, 360))
        paint.polygons([((0.3, 0.055), (0.72, 0.055), (0.72, 0.07), (0.3, 0.07))], look.hat)
    else:
        paint.ellipse((0.5, 0.07), (0.15, 0.055), look.hair, arc=(180, 360))


def pixel_box(box: Sequence[float]) -> Box:
    """Integer box with rounded edges, at least one pixel wide and tall (what gt.txt holds)."""
    x0, y0 = round(box[0]), round(box[1])
    x1, y1 = round(box[0] + box[2]), round(box[1] + box[3])
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def visibility(boxes: Sequence[Box], width: int, height: int, depth=None) -> np.ndarray:
    """Share of each box inside the image and not covered by closer boxes.

    ``depth`` orders the boxes far to near (default: bottom edge, lower = closer); ties keep the
    given order. Painting box labels far to near leaves each pixel with its closest box.
    """
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    depth = boxes[:, 1] + boxes[:, 3] if depth is None else np.asarray(depth)
    order = np.argsort(depth, kind="stable")
    labels = np.zeros((height, width), np.int32)
    crops = []
    for label, (x, y, w, h) in enumerate(boxes[order], start=1):
        crop = np.s_[max(y, 0) : max(min(y + h, height), 0), max(x, 0) : max(min(x + w, width), 0)]
        labels[crop] = label
        crops.append(crop)
    shares = np.empty(len(boxes))
    for label, (index, crop) in enumerate(zip(order, crops), start=1):
        w, h = boxes[index, 2:]
        shares[index] = np.count_nonzero(labels[crop] == label) / float(w * h)
    return shares


def render_people(canvas: np.ndarray, boxes, looks, phases) -> np.ndarray:
    """Draw people given far to near onto ``canvas`` (in place); return their gt visibility."""
    for box, look, phase in zip(boxes, looks, phases):
        draw_person(canvas, box, look, phase)
    height, width = canvas.shape[:2]
    return visibility([pixel_box(box) for box in boxes], width, height, np.arange(len(boxes)))


class Sensor:
    """Per-frame brightness flicker and pixel noise, so that no two frames are pixel-identical."""

    def __init__(self, rng: np.random.Generator, width: int, height: int):
        self.rng = rng
        self.noise = rng.normal(0, 3, size=(4, height, width, 3)).astype(np.int16)
        self.flicker = 0.0

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        self.flicker = 0.8 * self.flicker + float(self.rng.normal(0, 6))
        noise = self.noise[int(self.rng.integers(len(self.noise)))]
        shifted = frame.astype(np.int16) + noise + round(self.flicker)
        return np.clip(shifted, 0, 255).astype(np.uint8)
