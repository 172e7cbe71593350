"""The simulated detector behind det.txt: noisy true boxes, misses and false positives."""

import math

import numpy as np

from .scene import PERSON_ASPECT, DifficultyProfile, Scene


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
