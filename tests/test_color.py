"""The colour cue: HSV-histogram embeddings of boxes, their fusion with Re-ID embeddings, the
tracker using them, and the paths that add them to a frame's detections."""

import numpy as np
import pytest
import torch

from detectron2.config import get_cfg
from detectron2.structures import Boxes, Instances

from lwf_track import add_lwf_config
from lwf_track.evaluation.calibration import DetectionCollector
from lwf_track.tracking import OnlineTracker, TrackState, embedding_distance
from lwf_track.tracking.color import color_adder, color_histograms, fuse_appearance, with_colors

BINS = (8, 4, 4)
RED, BLUE, WHITE = (0, 0, 220), (220, 40, 0), (235, 235, 235)  # BGR


def painted(height=120, width=200, boxes=()):
    """A grey BGR image with each (box, top colour, bottom colour) painted in."""
    image = np.full((height, width, 3), 90, dtype=np.uint8)
    for (x1, y1, x2, y2), top, bottom in boxes:
        middle = (y1 + y2) // 2
        image[y1:middle, x1:x2] = top
        image[middle:y2, x1:x2] = bottom
    return image


def cosine(a, b):
    return 1.0 - embedding_distance(a[None], b[None])[0, 0]


def test_histograms_are_unit_hellinger_vectors_that_tell_clothes_apart():
    boxes = [[10, 10, 30, 70], [50, 10, 70, 70], [90, 10, 110, 70], [130, 10, 150, 70]]
    image = painted(
        boxes=[
            (boxes[0], RED, BLUE),
            (boxes[1], RED, BLUE),  # same clothes
            (boxes[2], BLUE, RED),  # same colours, swapped halves
            (boxes[3], WHITE, WHITE),
        ]
    )
    colors = color_histograms(image, np.array(boxes, dtype=float), BINS)
    assert colors.shape == (4, 2 * 8 * 4 * 4) and colors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(colors, axis=1), 1.0, rtol=1e-6)
    assert cosine(colors[0], colors[1]) == pytest.approx(1.0, abs=1e-6)
    assert cosine(colors[0], colors[2]) < 0.05  # halves are compared separately
    assert cosine(colors[0], colors[3]) < 0.05


def test_boxes_without_pixels_in_both_halves_get_nan_rows():
    image = painted()
    boxes = np.array(
        [[10, 10, 30, 70], [300, 10, 320, 70], [10, 10, 10, 70], [10, 10, 30, 11], [-5, -5, 4, 6]]
    )
    colors = color_histograms(image, boxes, BINS)
    assert np.isfinite(colors[[0, 4]]).all()  # the last is clipped to the image, not dropped
    assert np.isnan(colors[1:4]).all()
    assert color_histograms(image, np.zeros((0, 4)), BINS).shape == (0, 256)


def detections(boxes, image_size=(120, 200), embeddings=None):
    instances = Instances(image_size)
    instances.pred_boxes = Boxes(torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4))
    instances.scores = torch.full((len(boxes),), 0.9)
    if embeddings is not None:
        instances.pred_embeddings = torch.tensor(embeddings, dtype=torch.float32)
    return instances


def test_with_colors_scales_boxes_to_a_resized_input_and_reads_its_format():
    """The mapper resizes the frame; boxes stay in the sequence's pixels: colours taken from the
    half-size input equal those of the full frame. An RGB input is read as RGB. The input
    Instances keep their fields."""
    box = [40, 20, 80, 100]
    full = painted(boxes=[(box, RED, BLUE)])
    half = full[::2, ::2]
    instances = detections([box])
    expected = color_histograms(full, np.array([box], dtype=float), BINS)
    as_bgr = with_colors(instances, torch.from_numpy(half).permute(2, 0, 1), "BGR", BINS)
    rgb_input = torch.from_numpy(np.ascontiguousarray(half[:, :, ::-1])).permute(2, 0, 1)
    as_rgb = with_colors(instances, rgb_input, "RGB", BINS)
    for result in (as_bgr, as_rgb):
        assert cosine(result.pred_colors[0].numpy(), expected[0]) > 0.99
    assert not instances.has("pred_colors")
    unscored = with_colors(instances, rgb_input, "RGB", BINS, min_score=0.95)  # scores are 0.9
    assert torch.isnan(unscored.pred_colors).all()
    with pytest.raises(ValueError, match="BGR or RGB"):
        with_colors(instances, rgb_input, "L", BINS)


def test_fused_distance_mixes_the_two_cues_by_the_weight():
    rng = np.random.default_rng(0)
    reid = rng.normal(size=(3, 8)) * 5.0  # not unit: normalised inside
    colors = np.abs(rng.normal(size=(3, 6)))
    colors /= np.linalg.norm(colors, axis=1, keepdims=True)
    reid_before, colors_before = reid.copy(), colors.copy()
    for weight in (0.0, 0.3, 1.0):
        fused = fuse_appearance(reid, colors, weight)
        expected = (1 - weight) * embedding_distance(reid, reid) + weight * embedding_distance(
            colors, colors
        )
        np.testing.assert_allclose(embedding_distance(fused, fused), expected, atol=1e-12)
    np.testing.assert_array_equal(reid, reid_before)
    np.testing.assert_array_equal(colors, colors_before)
    np.testing.assert_array_equal(fuse_appearance(None, colors, 0.3), colors)
    reid[0], colors[1] = np.nan, np.nan
    fused = fuse_appearance(reid, colors, 0.5)
    assert np.isnan(fused[:2]).all() and np.isfinite(fused[2]).all()


def walker(t, x0=20.0):
    return [x0 + 4.0 * t, 20.0, x0 + 4.0 * t + 20.0, 80.0]


def colored_frame(boxes, clothes):
    """Detections of ``boxes`` without Re-ID embeddings (as public detections), with the colours
    of a frame where each box wears its (top, bottom) ``clothes``."""
    image = painted(boxes=[(np.int32(b), *c) for b, c in zip(boxes, clothes)])
    instances = detections(boxes) if boxes else detections(np.zeros((0, 4)))
    return with_colors(instances, torch.from_numpy(image).permute(2, 0, 1), "BGR", BINS)


def color_tracker(weight):
    cfg = get_cfg()
    add_lwf_config(cfg)
    cfg.TRACKER.COLOR_WEIGHT = weight
    return OnlineTracker(cfg, frame_rate=30)


@pytest.mark.parametrize("weight, expected_ids", [(0.0, [1]), (1.0, [2])])
def test_colours_keep_a_stranger_from_taking_a_lost_id(weight, expected_ids):
    """Without embeddings a lost track comes back by IoU (ByteTrack), whoever stands there; with
    the colour cue it is matched by appearance first, and a person in other clothes at its
    predicted place starts a new identity."""
    tracker = color_tracker(weight)
    for t in range(1, 9):
        tracker.update(colored_frame([walker(t)], [(RED, BLUE)]))
    for t in (9, 10):
        tracker.update(colored_frame([], []))
    assert [t.state for t in tracker.tracks] == [TrackState.LOST]
    stranger = [(WHITE, WHITE)]
    tracker.update(colored_frame([walker(11)], stranger))
    tracks = tracker.update(colored_frame([walker(12)], stranger))
    assert tracks.track_ids.tolist() == expected_ids


def test_colour_weight_needs_colours_and_a_valid_config():
    with pytest.raises(ValueError, match="pred_colors"):
        color_tracker(0.5).update(detections([walker(1)]))
    with pytest.raises(ValueError, match="color_weight"):
        color_tracker(1.5)
    cfg = get_cfg()
    add_lwf_config(cfg)
    assert color_adder(cfg) is None  # off by default: the paper's tracker
    cfg.TRACKER.COLOR_WEIGHT = 0.5
    cfg.TRACKER.COLOR_BINS = [8, 4]
    with pytest.raises(ValueError, match="COLOR_BINS"):
        color_adder(cfg)


def test_collected_detections_carry_their_frame_colours():
    """The calibration keeps detections to track them again without images: they must hold
    their colours; a model input without its image is a clear error."""
    cfg = get_cfg()
    add_lwf_config(cfg)
    cfg.TRACKER.COLOR_WEIGHT = 0.5
    box = [40, 20, 80, 100]
    image = torch.from_numpy(painted(boxes=[(box, RED, BLUE)])).permute(2, 0, 1)
    collector = DetectionCollector(add_colors=color_adder(cfg))
    record = {"sequence": "S", "frame": 1, "image": image, "file_name": "S/000001.jpg"}
    collector.process([record], [{"instances": detections([box])}])
    collector.evaluate()
    [(frame, kept)] = collector.frames["S"]
    assert frame == 1 and kept.pred_colors.shape == (1, 256)
    assert not torch.isnan(kept.pred_colors).any()
    # below every HIGH_SCORE_THRESH the tracker may use (the calibration's candidates included)
    # appearance is never compared: no colours
    cfg.TRACKER.HIGH_SCORE_THRESH = 0.95
    cfg.TRACKER.CALIBRATION.DATASET = "a_training_set"
    cfg.TRACKER.CALIBRATION.HIGH_SCORE_THRESHS = [0.92, 0.97]
    unused = color_adder(cfg)(detections([box]), record)  # scores 0.9
    assert torch.isnan(unused.pred_colors).all()
    cfg.TRACKER.CALIBRATION.HIGH_SCORE_THRESHS = [0.5, 0.97]
    assert not torch.isnan(color_adder(cfg)(detections([box]), record).pred_colors).any()
    with pytest.raises(ValueError, match="S/000002.jpg.*no"):
        del record["image"]
        collector.process([{**record, "file_name": "S/000002.jpg"}], [{"instances": kept}])
