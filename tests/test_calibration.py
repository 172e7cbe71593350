"""Tracker-threshold calibration: which frames, which candidate wins, and a hand-made case."""

import numpy as np
import pytest
import torch
from detectron2.config import get_cfg
from detectron2.structures import Boxes, Instances

from lwf_track import add_lwf_config
from lwf_track.evaluation import calibration
from lwf_track.evaluation.calibration import calibrate, calibration_records, with_thresholds
from lwf_track.evaluation.ground_truth import FrameTruth

FRAMES = 12
PEOPLE = {1: (20.0, 1.0), 2: (120.0, -1.0)}  # id: (start x, pixels per frame)
POSTER = (250.0, 30.0, 20.0, 50.0)  # a static non-person the detector finds every frame


def tracker_cfg(high=0.5, birth_offset=0.0):
    cfg = get_cfg()
    add_lwf_config(cfg)
    cfg.TRACKER.HIGH_SCORE_THRESH = high
    cfg.TRACKER.BIRTH_THRESH = high + birth_offset
    cfg.TRACKER.LOW_SCORE_THRESH = 0.1
    cfg.TRACKER.MIN_BOX_AREA = 0.0
    cfg.freeze()
    return cfg


def person_box(pid: int, frame: int) -> list:
    start, speed = PEOPLE[pid]
    return [start + speed * frame, 40.0, 20.0, 50.0]


def hand_made_case():
    """Two people detected at score 0.55 and a poster at 0.45 in every frame: a high threshold of
    0.4 tracks the poster too (a false positive per frame), 0.6 tracks nobody, 0.5 is right."""
    frames, truth = [], {}
    for frame in range(1, FRAMES + 1):
        people = np.array([person_box(pid, frame) for pid in PEOPLE])
        boxes = np.vstack([people, [POSTER]])
        xyxy = np.column_stack([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]])
        frames.append(
            (
                frame,
                Instances(
                    (240, 320),
                    pred_boxes=Boxes(torch.as_tensor(xyxy, dtype=torch.float32)),
                    scores=torch.tensor([0.55, 0.55, 0.45]),
                    pred_classes=torch.zeros(3, dtype=torch.int64),
                    pred_embeddings=torch.eye(3, 8),
                ),
            )
        )
        truth[frame] = FrameTruth(people, np.array(list(PEOPLE)), np.zeros((0, 4)))
    return {"SEQ": (10, frames)}, {"SEQ": truth}


def test_calibration_picks_the_threshold_the_case_calls_for():
    detections, truths = hand_made_case()
    result = calibrate(tracker_cfg(), detections, truths, [0.4, 0.5, 0.6])
    by_high = {row["HIGH_SCORE_THRESH"]: row for row in result["grid"]}
    assert by_high[0.5]["MOTA"] == pytest.approx(100.0)
    assert by_high[0.4]["MOTA"] < 100.0  # the poster's track
    assert by_high[0.6]["MOTA"] == pytest.approx(0.0)  # nobody tracked
    assert result["chosen"]["HIGH_SCORE_THRESH"] == 0.5


def test_ties_go_to_idf1_then_to_the_first_candidate(monkeypatch):
    scores = {0.3: (50.0, 90.0), 0.4: (60.0, 70.0), 0.5: (60.0, 75.0), 0.6: (60.0, 75.0)}

    def fake(cfg, detections, truths):
        mota, idf1 = scores[cfg.TRACKER.HIGH_SCORE_THRESH]
        return {"MOTA": mota, "IDF1": idf1}

    monkeypatch.setattr(calibration, "track_and_score", fake)
    result = calibrate(tracker_cfg(birth_offset=0.1), {}, {}, [0.05, 0.3, 0.4, 0.5, 0.6])
    assert [row["HIGH_SCORE_THRESH"] for row in result["grid"]] == [
        0.3,
        0.4,
        0.5,
        0.6,
    ]  # 0.05 < low
    assert result["chosen"]["HIGH_SCORE_THRESH"] == 0.5
    assert result["chosen"]["BIRTH_THRESH"] == pytest.approx(0.6)  # the offset kept
    with pytest.raises(ValueError, match="no value >= TRACKER.LOW_SCORE_THRESH"):
        calibrate(tracker_cfg(), {}, {}, [0.05])


def test_with_thresholds_moves_birth_with_high():
    cfg = with_thresholds(tracker_cfg(high=0.5, birth_offset=0.1), 0.3)
    assert cfg.TRACKER.HIGH_SCORE_THRESH == 0.3
    assert cfg.TRACKER.BIRTH_THRESH == pytest.approx(0.4)
    assert cfg.is_frozen()


def test_calibration_frames_are_the_first_of_every_sequence():
    records = [{"sequence": s, "frame": f} for s in ("A", "B") for f in range(5, 0, -1)]
    kept = calibration_records(records, max_frames=6)
    assert [(r["sequence"], r["frame"]) for r in kept] == [
        ("A", 1),
        ("A", 2),
        ("A", 3),
        ("B", 1),
        ("B", 2),
        ("B", 3),
    ]
    assert len(calibration_records(records, max_frames=0)) == 10
