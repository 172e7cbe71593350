"""The fixed street behind the people of one sequence: sky, facades, pavement and clutter."""

import cv2
import numpy as np

from .appearance import perturb, pick, random_clothing_color
from .scene import Scene


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
    """The fixed street of one sequence, ``scene.pad`` pixels larger on each side for camera
    shake."""
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
