"""Synthetic MOTChallenge benchmark: walking pedestrians with identities, occlusion and detections.

The offline default for the demo and the tests (DESIGN section 6). A small CNN must learn it in
minutes on a CPU, yet a tracker with a Re-ID branch must be tested by it: people are block figures
with per-identity clothing, walk smoothly on a ground plane with perspective, enter and leave
through the left and right borders, occlude each other, and some look alike (more so in ``hard``).

    python -m lwf_track.data.synthetic --out DIR --num-seqs N --frames T --seed S \
        [--width 640 --height 360 --difficulty easy|medium|hard --fps 30]

From Python: ``generate_benchmark(...)`` writes the sequences and returns their folders;
``summarize_benchmark(folders)`` returns the counts the CLI prints (boxes, identities, visibility).

Conventions, the same as MOT16/17 ground truth:

- boxes are integer pixels and are NOT clipped to the image: a person entering through the left
  border has a negative x. A box is written while any part of it is inside the image;
- visibility is the share of the box area that is inside the image and not covered by the boxes
  of closer people (closer = lower foot point = drawn later). Boxes rather than silhouettes, as in
  MOT, so a loader's visibility threshold means the same on both. Fully hidden people stay in gt
  with visibility 0;
- ids count from 1 per sequence in order of first appearance; consider-flag 1, class 1;
  gt.txt is sorted by id then frame (like MOT17), det.txt (7 columns) by frame;
- everything follows from the seed through numpy Generators, with a fixed JPEG quality, so the same
  arguments give byte-identical files; other seeds give other sequences.
"""

import argparse
import colorsys
import json
import math
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

JPEG_QUALITY = 90
SUBPIXEL_BITS = 3  # cv2 drawing with fractional coordinates: smooth motion of small people
SUBPIXEL = 1 << SUBPIXEL_BITS
PERSON_ASPECT = 0.4  # width / height: pedestrians are about 1:2.5
FAR_GROUND = 0.36  # foot points stay between these fractions of the image height: people walk
NEAR_GROUND = 1.04  # on a street from the far sidewalk to just below the bottom edge (feet cut off)
FORESHORTENING = 0.35  # walking towards the camera moves the feet less than walking across
OCCLUDED_BELOW = 0.5  # the summary counts boxes under this visibility as occluded

Color = tuple[int, int, int]
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class DifficultyProfile:
    """The knobs of a benchmark; sizes are fractions of the image height, so any resolution works."""

    density: float  # people in the scene at once (mean)
    speed: float  # walking speed, body heights per second (a walker is about 0.7)
    standing_fraction: float  # share of the initial population standing still
    occlusion_rate: float  # share of people walking or standing in pairs: long occlusions
    lookalike_fraction: float  # share of identities dressed almost like someone in the scene
    scale_range: tuple[float, float]  # person height at the far ground line and at the bottom
    camera_jitter: float  # per-frame camera shake, fraction of the image height
    clutter: float  # amount of background structure and person-coloured distractor blobs
    detector_miss_rate: float  # det.txt: misses of fully visible people
    detector_false_positives: float  # det.txt: false positives per frame
    detector_box_noise: float  # det.txt: box jitter, fraction of the box size


DIFFICULTIES: dict[str, DifficultyProfile] = {
    "easy": DifficultyProfile(
        density=4,
        speed=0.6,
        standing_fraction=0.1,
        occlusion_rate=0.0,
        lookalike_fraction=0.0,
        scale_range=(0.11, 0.31),
        camera_jitter=0.0015,
        clutter=0.5,
        detector_miss_rate=0.05,
        detector_false_positives=0.3,
        detector_box_noise=0.03,
    ),
    "medium": DifficultyProfile(
        density=10,
        speed=0.7,
        standing_fraction=0.15,
        occlusion_rate=0.2,
        lookalike_fraction=0.1,
        scale_range=(30 / 360, 110 / 360),
        camera_jitter=0.004,
        clutter=1.0,
        detector_miss_rate=0.1,
        detector_false_positives=1.0,
        detector_box_noise=0.05,
    ),
    "hard": DifficultyProfile(
        density=24,
        speed=1.0,
        standing_fraction=0.15,
        occlusion_rate=0.5,
        lookalike_fraction=0.3,
        scale_range=(0.07, 0.33),
        camera_jitter=0.008,
        clutter=1.5,
        detector_miss_rate=0.15,
        detector_false_positives=2.0,
        detector_box_noise=0.07,
    ),
}


# ----------------------------------------------------------------------------------- appearance
SKIN_TONES: Sequence[Color] = ((185, 215, 245), (150, 190, 230), (110, 150, 200), (75, 105, 150))
HAIR_COLORS: Sequence[Color] = ((25, 25, 30), (30, 50, 80), (60, 110, 160), (150, 150, 150))
TROUSER_COLORS: Sequence[Color] = (
    (125, 75, 40),  # denim
    (35, 35, 35),
    (110, 110, 110),
    (120, 170, 190),  # khaki
    (40, 60, 100),  # brown
    (75, 35, 25),  # navy
)
SHOE_COLORS: Sequence[Color] = ((20, 20, 20), (40, 40, 60), (225, 225, 225))


@dataclass(frozen=True)
class Appearance:
    """What tells one identity from another: the cues a Re-ID embedding can learn."""

    skin: Color
    hair: Color
    top: Color
    bottom: Color
    shoes: Color
    long_sleeves: bool
    stripes: Color | None  # a striped top in this second colour
    hat: Color | None
    bag: Color | None  # a shoulder bag on the left or right side
    bag_left: bool
    build: float  # width factor around the 1:2.5 aspect


def random_clothing_color(rng: np.random.Generator) -> Color:
    hue, saturation, value = rng.random(), rng.uniform(0.25, 0.95), rng.uniform(0.3, 0.95)
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
    return int(blue * 255), int(green * 255), int(red * 255)


def pick(rng: np.random.Generator, palette: Sequence[Color], spread: int = 12) -> Color:
    base = palette[int(rng.integers(len(palette)))]
    return perturb(rng, base, spread)


def perturb(rng: np.random.Generator, color: Color, spread: int) -> Color:
    noise = rng.integers(-spread, spread + 1, size=3)
    return tuple(int(np.clip(c + n, 0, 255)) for c, n in zip(color, noise))


def random_appearance(rng: np.random.Generator) -> Appearance:
    bottom = (
        random_clothing_color(rng) if rng.random() < 0.3 else pick(rng, TROUSER_COLORS, spread=15)
    )
    return Appearance(
        skin=pick(rng, SKIN_TONES),
        hair=pick(rng, HAIR_COLORS),
        top=random_clothing_color(rng),
        bottom=bottom,
        shoes=pick(rng, SHOE_COLORS),
        long_sleeves=bool(rng.random() < 0.6),
        stripes=random_clothing_color(rng) if rng.random() < 0.25 else None,
        hat=random_clothing_color(rng) if rng.random() < 0.15 else None,
        bag=random_clothing_color(rng) if rng.random() < 0.3 else None,
        bag_left=bool(rng.random() < 0.5),
        build=float(rng.uniform(0.9, 1.1)),
    )


def lookalike_of(rng: np.random.Generator, model: Appearance) -> Appearance:
    """The same outfit with colours off by a few levels: only position and motion tell them apart."""
    return replace(
        model,
        skin=pick(rng, SKIN_TONES),
        top=perturb(rng, model.top, 6),
        bottom=perturb(rng, model.bottom, 6),
        build=float(rng.uniform(0.9, 1.1)),
    )


# --------------------------------------------------------------------------------------- scene
@dataclass(frozen=True)
class Scene:
    """Image size and ground-plane perspective: the lower the feet, the closer and larger."""

    width: int
    height: int
    scale_range: tuple[float, float]
    pad: int  # background margin on each side that camera shake may reveal

    @property
    def far_y(self) -> float:
        return FAR_GROUND * self.height

    @property
    def near_y(self) -> float:
        return NEAR_GROUND * self.height

    def person_height(self, foot_y: float, size: float) -> float:
        far, near = self.scale_range
        depth = (foot_y - self.far_y) / (self.height - self.far_y)
        return self.height * (far + (near - far) * depth) * size


# -------------------------------------------------------------------------------------- drawing
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


# ----------------------------------------------------------------------------------- background
def smooth_noise(rng: np.random.Generator, height: int, width: int, cell: int) -> np.ndarray:
    """Low-frequency noise in [-1, 1]: uneven pavement and facades rather than flat colour."""
    coarse = rng.uniform(-1, 1, size=(height // cell + 2, width // cell + 2)).astype(np.float32)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)


def paint_facades(canvas: np.ndarray, rng: np.random.Generator, horizon: int):
    """Buildings with window grids above the far sidewalk."""
    height, width = canvas.shape[:2]
    x = -int(rng.integers(0, width // 8 + 1))
    while x < width:
        facade_w = int(rng.uniform(0.12, 0.35) * width)
        top = int(rng.uniform(0.0, 0.6) * horizon)
        color = pick(rng, ((150, 160, 170), (90, 110, 140), (120, 120, 120), (170, 190, 200)), 25)
        cv2.rectangle(canvas, (x, top), (x + facade_w, horizon), color, -1)
        window = max(2, int(0.03 * height))
        window_color = perturb(rng, (70, 60, 50), 20)
        step = max(3, int(window * rng.uniform(1.8, 2.6)))
        for wy in range(top + window, horizon - window, step):
            for wx in range(x + window, x + facade_w - window, step):
                cv2.rectangle(
                    canvas, (wx, wy), (wx + window - 1, wy + window - 1), window_color, -1
                )
        x += facade_w


def paint_ground(canvas: np.ndarray, rng: np.random.Generator, horizon: int, clutter: float):
    """Pavement with patches and kerb lines below the far sidewalk."""
    height, width = canvas.shape[:2]
    ground = np.array(pick(rng, ((120, 125, 130), (105, 120, 135), (135, 135, 130)), 15))
    canvas[horizon:] = ground
    for _ in range(int(10 * clutter)):
        cx, cy = int(rng.integers(width)), int(rng.integers(horizon, height))
        axes = (int(rng.uniform(0.02, 0.12) * width), int(rng.uniform(0.01, 0.05) * height))
        cv2.ellipse(canvas, (cx, cy), axes, 0, 0, 360, perturb(rng, tuple(ground), 25), -1)
    for _ in range(int(3 * clutter) + 1):
        y = int(rng.integers(horizon, height))
        cv2.line(canvas, (0, y), (width, y + int(rng.integers(-5, 6))), perturb(rng, (90,) * 3, 20))


def paint_objects(canvas: np.ndarray, rng: np.random.Generator, scene: Scene, clutter: float):
    """Trees, poles and person-coloured blobs (posters, bins, coats) that are not people.

    Objects stand on the ground with the perspective size of a person there. Tall ones line the
    far sidewalk, where people walking in front of them is plausible (the background never
    occludes anyone). Returns the distractor boxes (x, y, w, h) in world pixels: det.txt fires
    on some of them.
    """
    pad, count = scene.pad, clutter * scene.width * scene.height / (640 * 360)
    far_sidewalk = scene.far_y + 0.08 * scene.height

    def place(size_range, nearest=scene.height):
        foot = rng.uniform(scene.far_y, nearest)
        size = scene.person_height(foot, 1.0) * rng.uniform(*size_range)
        return rng.uniform(-pad, scene.width + pad) + pad, foot + pad, size

    for _ in range(int(4 * count)):  # trees: a trunk under a crown
        x, foot, size = place((1.5, 3.0), far_sidewalk)
        trunk = (int(x - 0.03 * size), int(foot - 0.5 * size)), (int(x + 0.03 * size), int(foot))
        cv2.rectangle(canvas, *trunk, perturb(rng, (40, 60, 80), 15), -1)
        center, axes = (int(x), int(foot - 0.7 * size)), (int(0.25 * size), int(0.3 * size))
        cv2.ellipse(canvas, center, axes, 0, 0, 360, perturb(rng, (50, 110, 60), 25), -1)
    for _ in range(int(3 * count)):  # poles: thin and tall
        x, foot, size = place((1.5, 3.0), far_sidewalk)
        corners = (int(x), int(foot - size)), (int(x + max(1, 0.04 * size)), int(foot))
        cv2.rectangle(canvas, *corners, perturb(rng, (60, 60, 60), 20), -1)
    distractors = []
    for _ in range(int(6 * count)):
        x, foot, size = place((0.4, 1.0))
        blob_w = size * rng.uniform(0.3, 0.8)
        color = random_clothing_color(rng)
        if rng.random() < 0.5:
            center, axes = (int(x), int(foot - size / 2)), (int(blob_w / 2), int(size / 2))
            cv2.ellipse(canvas, center, axes, 0, 0, 360, color, -1, cv2.LINE_AA)
        else:
            corners = (int(x - blob_w / 2), int(foot - size)), (int(x + blob_w / 2), int(foot))
            cv2.rectangle(canvas, *corners, color, -1)
        distractors.append((x - blob_w / 2 - pad, foot - size - pad, blob_w, size))
    return distractors


def make_background(rng: np.random.Generator, scene: Scene, clutter: float):
    """The fixed street of one sequence, ``scene.pad`` pixels larger on each side for camera shake."""
    height, width = scene.height + 2 * scene.pad, scene.width + 2 * scene.pad
    horizon = int(scene.far_y + scene.pad - 0.02 * scene.height)
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = pick(rng, ((215, 195, 170), (200, 200, 195), (225, 205, 185)), 10)  # sky
    paint_facades(canvas, rng, horizon)
    paint_ground(canvas, rng, horizon, clutter)
    distractors = paint_objects(canvas, rng, scene, clutter)
    shading = smooth_noise(rng, height, width, cell=max(4, height // 8)) * 18
    grain = rng.normal(0, 5, size=(height, width)).astype(np.float32)
    canvas = np.clip(canvas + (shading + grain)[..., None], 0, 255).astype(np.uint8)
    return canvas, distractors


# ------------------------------------------------------------------------------------ the crowd
@dataclass
class Person:
    key: int  # birth order; ids are renumbered by first appearance when written
    look: Appearance
    x: float  # centre x of the feet, world pixels (the image at zero camera shake)
    foot_y: float
    size: float  # personal height around the perspective height
    heading: float  # radians in the image plane, 0 = walking right, -pi/2 = away from camera
    preferred_heading: float
    speed: float  # body heights per second; 0 for people standing still
    preferred_speed: float
    phase: float  # walking cycle: swings arms and legs

    def box(self, scene: Scene) -> tuple[float, float, float, float]:
        height = scene.person_height(self.foot_y, self.size)
        width = height * PERSON_ASPECT * self.look.build
        return self.x - width / 2, self.foot_y - height, width, height


class Crowd:
    """People entering, walking with gentle turns, standing in pairs, and leaving the scene."""

    def __init__(self, scene: Scene, profile: DifficultyProfile, fps: float, rng):
        self.scene, self.profile, self.fps, self.rng = scene, profile, fps, rng
        self.people: list[Person] = []
        self.looks: list[Appearance] = []
        self.next_key = 1
        self.populate()

    def new_look(self) -> Appearance:
        """Most people dress their own way; look-alikes copy someone, preferably someone in view."""
        if self.looks and self.rng.random() < self.profile.lookalike_fraction:
            models = [person.look for person in self.people] or self.looks
            return lookalike_of(self.rng, models[int(self.rng.integers(len(models)))])
        return random_appearance(self.rng)

    def walking_speed(self) -> float:
        return self.profile.speed * float(np.clip(self.rng.normal(1.0, 0.2), 0.5, 1.6))

    def add(self, x: float, foot_y: float, heading: float, speed: float) -> Person:
        look = self.new_look()
        self.looks.append(look)
        person = Person(
            key=self.next_key,
            look=look,
            x=x,
            foot_y=foot_y,
            size=float(self.rng.uniform(0.88, 1.12)),
            heading=heading,
            preferred_heading=heading,
            speed=speed,
            preferred_speed=speed,
            phase=float(self.rng.uniform(0, 2 * math.pi)) if speed > 0 else 0.0,
        )
        self.next_key += 1
        self.people.append(person)
        return person

    def random_heading(self) -> float:
        """Mostly across the street; some diagonals that change depth (and so scale)."""
        across = 0.0 if self.rng.random() < 0.5 else math.pi
        spread = 0.35 if self.rng.random() < 0.8 else 0.9
        return across + float(self.rng.normal(0, spread))

    def add_companion(self, leader: Person) -> None:
        """A second person right beside the first, a little nearer or farther: long occlusions."""
        _, _, width, _ = leader.box(self.scene)
        depth_offset = self.rng.uniform(0.02, 0.08) * self.scene.height * self.rng.choice([-1, 1])
        # walkers follow half a step behind, so a pair entering the image is not born inside it
        behind = -math.cos(leader.heading) if leader.speed > 0 else self.rng.choice([-1, 1])
        lateral = self.rng.uniform(0.2, 0.7) * width * math.copysign(1, behind)
        self.add(
            x=leader.x + lateral,
            foot_y=float(
                np.clip(leader.foot_y + depth_offset, self.scene.far_y, self.scene.near_y)
            ),
            heading=leader.heading + float(self.rng.normal(0, 0.05)),
            speed=leader.speed * float(self.rng.uniform(0.95, 1.05)),
        )

    def populate(self) -> None:
        """The people already there at frame 1 (pairs included in the count)."""
        scene, target = self.scene, int(self.rng.poisson(self.profile.density))
        while len(self.people) < target:
            standing = self.rng.random() < self.profile.standing_fraction
            person = self.add(
                x=self.rng.uniform(0, scene.width),
                foot_y=self.rng.uniform(scene.far_y, scene.near_y),
                heading=self.random_heading(),
                speed=0.0 if standing else self.walking_speed(),
            )
            if self.rng.random() < self.profile.occlusion_rate:
                self.add_companion(person)

    def enter(self) -> None:
        """A walker (or a pair) entering through the left or right border."""
        scene, rng = self.scene, self.rng
        foot_y = rng.uniform(scene.far_y, scene.near_y)
        outside = 0.3 * scene.person_height(foot_y, 1.12)  # beyond half the widest person
        if rng.random() < 0.5:
            x, heading = -outside, float(rng.normal(0, 0.35))
        else:
            x, heading = scene.width + outside, math.pi + float(rng.normal(0, 0.35))
        person = self.add(x, foot_y, heading, self.walking_speed())
        if rng.random() < self.profile.occlusion_rate:
            self.add_companion(person)

    def walk(self, person: Person) -> None:
        """Constant velocity with small random acceleration and gentle turns (rates per second)."""
        rng, dt = self.rng, 1.0 / self.fps
        person.heading += 1.5 * dt * (person.preferred_heading - person.heading)
        person.heading += float(rng.normal(0, 0.5 * math.sqrt(dt)))
        person.speed += dt * (person.preferred_speed - person.speed)
        person.speed += float(rng.normal(0, 0.1 * person.preferred_speed * math.sqrt(dt)))
        step = max(person.speed, 0.0) * self.scene.person_height(person.foot_y, person.size) * dt
        person.x += math.cos(person.heading) * step
        person.foot_y += math.sin(person.heading) * step * FORESHORTENING
        towards_camera = math.sin(person.heading) > 0
        if (person.foot_y < self.scene.far_y and not towards_camera) or (
            person.foot_y > self.scene.near_y and towards_camera
        ):  # turn back along the street at its far and near edges
            person.heading, person.preferred_heading = -person.heading, -person.preferred_heading
        stride = 0.8 * self.scene.person_height(person.foot_y, person.size)
        person.phase += 2 * math.pi * step / stride

    def has_left(self, person: Person) -> bool:
        x, _, w, _ = person.box(self.scene)
        walking_left = math.cos(person.heading) < 0
        return (x + w < 0 and walking_left) or (x > self.scene.width and not walking_left)

    def step(self) -> None:
        for person in self.people:
            if person.preferred_speed > 0:
                self.walk(person)
        self.people = [person for person in self.people if not self.has_left(person)]
        shortfall = max(self.profile.density - len(self.people), 0.1)
        for _ in range(int(self.rng.poisson(shortfall / self.fps))):
            self.enter()


# ------------------------------------------------------------------------------------ rendering
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


def camera_path(rng: np.random.Generator, frames: int, scene: Scene, jitter: float) -> np.ndarray:
    """Integer (dx, dy) camera shake per frame: a mean-reverting random walk within the margin."""
    shake = np.zeros((frames, 2))
    for t in range(1, frames):
        shake[t] = 0.8 * shake[t - 1] + rng.normal(0, jitter * scene.height, size=2)
    return np.clip(np.round(shake), -scene.pad, scene.pad).astype(np.int64)


def margin_for(jitter: float, height: int) -> int:
    """Background margin: three stationary standard deviations of the shake, plus one pixel."""
    return math.ceil(3 * jitter * height / math.sqrt(1 - 0.8**2)) + 1


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


# ---------------------------------------------------------------------------------- detections
def detections(rng, frame: int, gt, distractors, scene: Scene, profile: DifficultyProfile):
    """det.txt rows of one frame: jittered true boxes (missing hidden and small people more often)
    and false positives, half of them on the person-coloured background blobs."""
    rows = []
    far = scene.scale_range[0] * scene.height
    for x, y, w, h, vis in gt:
        recall = (1 - profile.detector_miss_rate) * np.clip((vis - 0.1) / 0.5, 0, 1)
        recall *= np.clip(h / (1.5 * far), 0.5, 1)
        if rng.random() >= recall:
            continue
        noise = rng.normal(0, profile.detector_box_noise, size=4)
        box_w, box_h = w * math.exp(noise[2]), h * math.exp(noise[3])
        cx, cy = x + w / 2 + noise[0] * w, y + h / 2 + noise[1] * h / 2
        score = np.clip(0.55 + 0.4 * vis + rng.normal(0, 0.08), 0.01, 0.99)
        rows.append((cx - box_w / 2, cy - box_h / 2, box_w, box_h, score))
    for _ in range(int(rng.poisson(profile.detector_false_positives))):
        if distractors and rng.random() < 0.5:
            x, y, w, h = distractors[int(rng.integers(len(distractors)))]
        else:
            foot = rng.uniform(scene.far_y, scene.height)
            h = scene.person_height(foot, 1.0)
            w = h * PERSON_ASPECT
            x, y = rng.uniform(-w / 2, scene.width - w / 2), foot - h
        score = rng.uniform(0.05, 0.55) if rng.random() < 0.9 else rng.uniform(0.55, 0.8)
        rows.append((x, y, w, h, score))
    return [f"{frame},-1,{x:.2f},{y:.2f},{w:.2f},{h:.2f},{s:.3f}" for x, y, w, h, s in rows]


# ------------------------------------------------------------------------------------- writing
def seqinfo_text(name: str, frames: int, fps: int, width: int, height: int) -> str:
    return (
        f"[Sequence]\nname={name}\nimDir=img1\nframeRate={fps}\nseqLength={frames}\n"
        f"imWidth={width}\nimHeight={height}\nimExt=.jpg\n"
    )


def write_jpeg(path: Path, image: np.ndarray) -> None:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError(f"JPEG encoding failed for {path}")
    path.write_bytes(encoded.tobytes())


def gt_lines(rows) -> list[str]:
    """Rows (key, frame, x, y, w, h, vis) as MOT gt lines: ids 1.. by first appearance, id-major."""
    ids: dict[int, int] = {}
    for key, *_ in sorted(rows, key=lambda row: (row[1], row[0])):
        ids.setdefault(key, len(ids) + 1)
    lines = sorted((ids[key], frame, x, y, w, h, vis) for key, frame, x, y, w, h, vis in rows)
    return [f"{t},{i},{x},{y},{w},{h},1,1,{v:.3f}" for i, t, x, y, w, h, v in lines]


def generate_sequence(
    seq_dir: Path,
    frames: int,
    width: int,
    height: int,
    fps: int,
    profile: DifficultyProfile,
    seed_sequence: np.random.SeedSequence,
) -> None:
    """Simulate, render and write one sequence; separate random streams for scene, pixels and
    detections, so e.g. a different detector noise leaves the images unchanged."""
    scene_rng, pixel_rng, detector_rng = (np.random.default_rng(s) for s in seed_sequence.spawn(3))
    pad = margin_for(profile.camera_jitter, height)
    scene = Scene(width, height, profile.scale_range, pad)
    background, distractors = make_background(scene_rng, scene, profile.clutter)
    shake = camera_path(scene_rng, frames, scene, profile.camera_jitter)
    crowd = Crowd(scene, profile, fps, scene_rng)
    sensor = Sensor(pixel_rng, width, height)

    (seq_dir / "img1").mkdir(parents=True)
    gt_rows, det_rows = [], []
    for frame in range(1, frames + 1):
        if frame > 1:
            crowd.step()
        dx, dy = shake[frame - 1]
        canvas = background[pad + dy : pad + dy + height, pad + dx : pad + dx + width].copy()
        people = sorted(crowd.people, key=lambda person: (person.foot_y, person.key))
        boxes = [(x - dx, y - dy, w, h) for x, y, w, h in (p.box(scene) for p in people)]
        shares = render_people(canvas, boxes, [p.look for p in people], [p.phase for p in people])
        write_jpeg(seq_dir / "img1" / f"{frame:06d}.jpg", sensor(canvas))
        in_view = []
        for person, box, share in zip(people, boxes, shares):
            x, y, w, h = pixel_box(box)
            if x < width and y < height and x + w > 0 and y + h > 0:
                gt_rows.append((person.key, frame, x, y, w, h, share))
                in_view.append((x, y, w, h, share))
        shifted = [(x - dx, y - dy, w, h) for x, y, w, h in distractors]
        det_rows += detections(detector_rng, frame, in_view, shifted, scene, profile)

    (seq_dir / "gt").mkdir()
    (seq_dir / "det").mkdir()
    (seq_dir / "gt" / "gt.txt").write_text("".join(line + "\n" for line in gt_lines(gt_rows)))
    (seq_dir / "det" / "det.txt").write_text("".join(line + "\n" for line in det_rows))
    info = seqinfo_text(seq_dir.name, frames, fps, width, height)
    (seq_dir / "seqinfo.ini").write_text(info)


def generate_benchmark(
    out_dir,
    num_seqs: int,
    frames: int,
    seed: int,
    width: int = 640,
    height: int = 360,
    difficulty: str | DifficultyProfile = "medium",
    fps: int = 30,
) -> list[Path]:
    """Write ``num_seqs`` sequences ``SYN-<seed>-01..`` under ``out_dir``; return their folders.

    A sequence folder that already exists is replaced, so a rerun never mixes old frames in.
    """
    if isinstance(difficulty, str) and difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty {difficulty!r} is not one of {sorted(DIFFICULTIES)}")
    if num_seqs < 1 or frames < 1 or width < 16 or height < 16 or fps < 1:
        raise ValueError("need num_seqs >= 1, frames >= 1, width and height >= 16, fps >= 1")
    profile = DIFFICULTIES[difficulty] if isinstance(difficulty, str) else difficulty
    out_dir = Path(out_dir)
    root_seed = np.random.SeedSequence(seed)
    seq_dirs = []
    for index, seed_sequence in enumerate(root_seed.spawn(num_seqs), start=1):
        seq_dir = out_dir / f"SYN-{seed}-{index:02d}"
        if seq_dir.exists():
            shutil.rmtree(seq_dir)
        generate_sequence(seq_dir, frames, width, height, fps, profile, seed_sequence)
        seq_dirs.append(seq_dir)
    return seq_dirs


# The benchmark of the demo and the experiments: (sequences, seed) per split, and the frames.
DEMO_SPLITS = {"train": (6, 1), "val": (3, 2)}
DEMO_FRAMES = dict(frames=150, width=384, height=216, difficulty="medium")


def ensure_benchmark(out_dir, num_seqs: int, frames: int, seed: int, **options) -> bool:
    """Generate the benchmark under ``out_dir`` unless the same one is there already.

    A stamp file records the parameters of a finished generation, so an interrupted run or a
    change of parameters regenerates, and a rerun with the same parameters does nothing. Returns
    whether it generated.
    """
    out_dir = Path(out_dir)
    stamp = out_dir / ".complete.json"
    wanted = {"num_seqs": num_seqs, "frames": frames, "seed": seed, **options}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return False
    stamp.unlink(missing_ok=True)
    for stale in out_dir.glob("SYN-*"):  # sequences of an earlier, different generation
        shutil.rmtree(stale)
    generate_benchmark(out_dir, num_seqs, frames, seed, **options)
    stamp.write_text(json.dumps(wanted, sort_keys=True) + "\n")
    return True


def summarize_benchmark(seq_dirs: Sequence[Path]) -> dict[str, object]:
    """Counts that describe a generated set (read back from gt.txt and det.txt)."""
    frames = boxes = identities = detections_count = 0
    visibilities = []
    for seq_dir in map(Path, seq_dirs):
        info = dict(
            line.split("=", 1)
            for line in (seq_dir / "seqinfo.ini").read_text().splitlines()
            if "=" in line
        )
        frames += int(info["seqLength"])
        gt_text = (seq_dir / "gt" / "gt.txt").read_text()
        gt = np.array([line.split(",") for line in gt_text.splitlines()], float).reshape(-1, 9)
        boxes += len(gt)
        identities += len(np.unique(gt[:, 1]))
        visibilities.append(gt[:, 8])
        detections_count += len((seq_dir / "det" / "det.txt").read_text().splitlines())
    visibility_all = np.concatenate(visibilities) if visibilities else np.zeros(0)
    return {
        "sequences": len(seq_dirs),
        "frames": frames,
        "boxes": boxes,
        "identities": identities,
        "people_per_frame": boxes / max(frames, 1),
        "mean_visibility": float(visibility_all.mean()) if boxes else 0.0,
        "occluded_share": float((visibility_all < OCCLUDED_BELOW).mean()) if boxes else 0.0,
        "detections": detections_count,
    }


def format_summary(summary: dict[str, object]) -> str:
    return (
        f"{summary['sequences']} sequences, {summary['frames']} frames, {summary['boxes']} boxes "
        f"({summary['people_per_frame']:.1f} per frame), {summary['identities']} identities, "
        f"mean visibility {summary['mean_visibility']:.2f}, "
        f"{100 * summary['occluded_share']:.0f}% of boxes under {OCCLUDED_BELOW} visible, "
        f"{summary['detections']} detections"
    )


def main(argv=None) -> dict[str, object]:
    """The CLI: generate, print the summary, and return it (for callers that import main)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder that receives SYN-<seed>-NN/")
    parser.add_argument("--num-seqs", type=int, default=1)
    parser.add_argument("--frames", type=int, default=150, help="frames per sequence")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--difficulty", default="medium", choices=sorted(DIFFICULTIES))
    parser.add_argument(
        "--fps", type=int, default=30, help="seqinfo frameRate; sets the motion per frame"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    seq_dirs = generate_benchmark(
        args.out,
        args.num_seqs,
        args.frames,
        args.seed,
        width=args.width,
        height=args.height,
        difficulty=args.difficulty,
        fps=args.fps,
    )
    summary = summarize_benchmark(seq_dirs)
    print(f"synthetic {args.difficulty} -> {args.out}: {format_summary(summary)}")
    print(f"generated in {time.perf_counter() - start:.1f} s")
    return summary


if __name__ == "__main__":
    main()
