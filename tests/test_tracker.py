"""Online tracker, its Kalman filter and its matching functions, on hand-written frames."""

import numpy as np
import pytest
import torch

from detectron2.config import get_cfg
from detectron2.structures import Boxes, Instances

from lwf_track import add_lwf_config
from lwf_track.tracking import (
    KalmanFilter,
    OnlineTracker,
    TrackState,
    chi2_gating_threshold,
    embedding_distance,
    fuse_motion,
    iou_distance,
    linear_assignment,
    tracks_to_mot_rows,
)
from lwf_track.tracking.kalman_filter import xyah_to_xyxy, xyxy_to_xyah

IMAGE_SIZE = (480, 640)
EMBED_DIM = 16


def tracker_cfg():
    cfg = get_cfg()
    add_lwf_config(cfg)
    return cfg


def make_tracker(frame_rate=30):
    return OnlineTracker(tracker_cfg(), frame_rate=frame_rate)


def unit(vector):
    vector = np.asarray(vector, dtype=np.float64)
    return vector / np.linalg.norm(vector)


def appearance(seed):
    return unit(np.random.default_rng(seed).normal(size=EMBED_DIM))


def frame(boxes, scores, embeddings=None):
    """Detections of one frame; ``embeddings=None`` leaves out the pred_embeddings field."""
    instances = Instances(IMAGE_SIZE)
    instances.pred_boxes = Boxes(torch.tensor(np.reshape(boxes, (-1, 4)), dtype=torch.float32))
    instances.scores = torch.tensor(scores, dtype=torch.float32)
    if embeddings is not None:
        embeddings = np.reshape(embeddings, (-1, EMBED_DIM))
        instances.pred_embeddings = torch.tensor(embeddings, dtype=torch.float32)
    return instances


def empty_frame(with_embeddings):
    return frame(np.zeros((0, 4)), [], np.zeros((0, EMBED_DIM)) if with_embeddings else None)


def walker_box(t, x0=100.0, speed=4.0):
    """A 40x100 person walking right at constant speed: its box at frame t."""
    x = x0 + speed * t
    return [x, 150.0, x + 40.0, 250.0]


def walk_then_vanish(tracker, embedding):
    """Frames 1-8: one walker with ``embedding``; frames 9-11: nobody, so its track is lost."""
    for t in range(1, 9):
        tracker.update(frame([walker_box(t)], [0.9], [embedding]))
    for t in range(9, 12):
        tracker.update(empty_frame(with_embeddings=True))


def ids(output):
    return output.track_ids.tolist()


# ----------------------------------------------------------------------------------- matching


def test_iou_distance_on_known_boxes():
    a = [[0, 0, 10, 10], [0, 0, 0, 0]]
    b = [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]]
    expected = [[0.0, 1 - 50 / 150, 1.0], [1.0, 1.0, 1.0]]
    np.testing.assert_allclose(iou_distance(a, b), expected)
    assert iou_distance(np.zeros((0, 4)), b).shape == (0, 3)
    assert iou_distance(a, np.zeros((0, 4))).shape == (2, 0)


def test_embedding_distance_is_cosine_and_scale_free():
    a = np.array([[1.0, 0.0], [0.0, 2.0]])
    b = np.array([[3.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    np.testing.assert_allclose(embedding_distance(a, b), [[0, 1, 2], [1, 0, 1]], atol=1e-12)
    assert embedding_distance(np.zeros((0, 2)), b).shape == (0, 3)
    assert embedding_distance(a, np.zeros((0, 2))).shape == (2, 0)


def test_fuse_motion_weights_and_gates_without_touching_inputs():
    appearance_cost = np.array([[0.1, 0.2]])
    motion = np.array([[1.0, 20.0]])
    before = appearance_cost.copy(), motion.copy()
    fused = fuse_motion(appearance_cost, motion, embed_weight=0.9, gate_threshold=9.49)
    np.testing.assert_allclose(fused, [[0.9 * 0.1 + 0.1 * 1.0, np.inf]])
    np.testing.assert_array_equal(appearance_cost, before[0])
    np.testing.assert_array_equal(motion, before[1])


def test_linear_assignment_respects_thresh():
    cost = np.array([[0.1, 0.9, np.inf], [0.8, 0.2, 0.95], [0.7, 0.6, 0.55]])
    original = cost.copy()
    matches, unmatched_rows, unmatched_cols = linear_assignment(cost, thresh=0.5)
    assert sorted(map(tuple, matches.tolist())) == [(0, 0), (1, 1)]
    assert unmatched_rows.tolist() == [2] and unmatched_cols.tolist() == [2]
    np.testing.assert_array_equal(cost, original)
    matches, _, _ = linear_assignment(cost, thresh=0.6)
    assert sorted(map(tuple, matches.tolist())) == [(0, 0), (1, 1), (2, 2)]
    matches, unmatched_rows, unmatched_cols = linear_assignment(cost, thresh=0.05)
    assert len(matches) == 0 and len(unmatched_rows) == 3 and len(unmatched_cols) == 3


def test_linear_assignment_empty_inputs():
    matches, unmatched_rows, unmatched_cols = linear_assignment(np.zeros((0, 3)), 0.5)
    assert matches.shape == (0, 2) and unmatched_rows.size == 0
    assert unmatched_cols.tolist() == [0, 1, 2]
    matches, unmatched_rows, unmatched_cols = linear_assignment(np.zeros((2, 0)), 0.5)
    assert matches.shape == (0, 2) and unmatched_rows.tolist() == [0, 1]
    assert unmatched_cols.size == 0


# ------------------------------------------------------------------------------ Kalman filter


def test_chi2_gating_threshold_matches_deepsort_table():
    assert chi2_gating_threshold(0.95, 4) == pytest.approx(9.4877, abs=1e-4)
    assert chi2_gating_threshold(0.95, 2) == pytest.approx(5.9915, abs=1e-4)


def test_box_conversions_round_trip():
    boxes = np.array([[10.0, 20.0, 50.0, 120.0], [0.0, 0.0, 30.0, 60.0]])
    np.testing.assert_allclose(xyxy_to_xyah(boxes)[0], [30.0, 70.0, 0.4, 100.0])
    np.testing.assert_allclose(xyah_to_xyxy(xyxy_to_xyah(boxes)), boxes)


def test_kalman_converges_on_constant_velocity_target():
    rng = np.random.default_rng(0)
    kalman = KalmanFilter()

    def truth(t):
        return np.array([100.0 + 3.0 * t, 200.0 - 2.0 * t, 0.5, 100.0])

    mean, covariance = kalman.initiate(truth(0))
    means, covariances = mean[None], covariance[None]  # one track
    for t in range(1, 40):
        means, covariances = kalman.multi_predict(means, covariances)
        measured = truth(t) + rng.normal(scale=[1.0, 1.0, 0.005, 1.0])
        means, covariances = kalman.multi_update(means, covariances, measured[None])
    np.testing.assert_allclose(means[0, 4:6], [3.0, -2.0], atol=0.3)
    assert np.all(np.abs(means[0, :4] - truth(39)) <= [2.0, 2.0, 0.02, 2.0])

    predicted_means, predicted_covs = kalman.multi_predict(means, covariances)
    candidates = [truth(40), truth(40) + 60]
    (distances,) = kalman.multi_gating_distance(predicted_means, predicted_covs, candidates)
    gate = chi2_gating_threshold(0.95)
    assert distances[0] < 1.0 < gate < distances[1]


def test_kalman_multi_predict_equals_one_track_at_a_time_and_keeps_inputs():
    kalman = KalmanFilter()
    states = [kalman.initiate(np.array([50.0 * i, 80.0, 0.4, 90.0 + i])) for i in range(3)]
    means = np.stack([m for m, _ in states])
    covariances = np.stack([c for _, c in states])
    means_before, covariances_before = means.copy(), covariances.copy()
    batch_means, batch_covs = kalman.multi_predict(means, covariances)
    for i, (mean, covariance) in enumerate(states):
        single_means, single_covs = kalman.multi_predict(mean[None], covariance[None])
        np.testing.assert_allclose(batch_means[i], single_means[0])
        np.testing.assert_allclose(batch_covs[i], single_covs[0])
    np.testing.assert_array_equal(means, means_before)
    np.testing.assert_array_equal(covariances, covariances_before)


def test_kalman_batched_update_and_gating_follow_the_textbook_formulas():
    kalman = KalmanFilter()
    rng = np.random.default_rng(3)
    states = [kalman.initiate(np.array([40.0 * i, 70.0, 0.45, 80.0 + 5 * i])) for i in range(4)]
    means, covariances = kalman.multi_predict(
        np.stack([m for m, _ in states]), np.stack([c for _, c in states])
    )
    measurements = means[:, :4] + rng.normal(scale=[2.0, 2.0, 0.01, 2.0], size=(4, 4))
    inputs = [a.copy() for a in (means, covariances, measurements)]
    new_means, new_covs = kalman.multi_update(means, covariances, measurements)
    distances = kalman.multi_gating_distance(means, covariances, measurements)
    observation = np.eye(4, 8)
    for i in range(4):
        (measured_mean,), (measured_cov,) = kalman.multi_project(
            means[i : i + 1], covariances[i : i + 1]
        )
        np.testing.assert_allclose(measured_mean, observation @ means[i])
        gain = covariances[i] @ observation.T @ np.linalg.inv(measured_cov)
        innovation = measurements[i] - measured_mean
        np.testing.assert_allclose(new_means[i], means[i] + gain @ innovation)
        expected_cov = (np.eye(8) - gain @ observation) @ covariances[i]
        np.testing.assert_allclose(new_covs[i], expected_cov, atol=1e-9)
        for j in range(4):
            offset = measurements[j] - measured_mean
            expected = offset @ np.linalg.inv(measured_cov) @ offset
            np.testing.assert_allclose(distances[i, j], expected)
    for before, after in zip(inputs, (means, covariances, measurements)):
        np.testing.assert_array_equal(before, after)


# ------------------------------------------------------------------------------------ tracker


def test_config_and_keyword_construction_agree():
    cfg = tracker_cfg()
    from_cfg = OnlineTracker(cfg, frame_rate=25)
    explicit = OnlineTracker(**OnlineTracker.from_config(cfg, frame_rate=25))
    assert from_cfg.max_lost_frames == explicit.max_lost_frames == 25
    assert from_cfg.motion_gate == pytest.approx(9.4877, abs=1e-4)
    with pytest.raises(ValueError):
        OnlineTracker(**{**OnlineTracker.from_config(cfg), "low_score_thresh": 0.9})
    with pytest.raises(ValueError, match="motion_noise_scale"):
        OnlineTracker(**{**OnlineTracker.from_config(cfg), "motion_noise_scale": 0.0})


def test_identity_survives_full_occlusion():
    tracker = make_tracker()
    person = appearance(1)
    seen = []
    for t in range(1, 21):
        if 9 <= t <= 13:  # fully occluded: no detection at all for 5 frames
            assert len(tracker.update(empty_frame(with_embeddings=True))) == 0
            continue
        seen.append(ids(tracker.update(frame([walker_box(t)], [0.9], [person]))))
    assert seen == [[1]] * 15
    assert len(tracker.tracks) == 1


def test_stranger_at_the_predicted_place_does_not_take_a_lost_id():
    """A lost track is only recovered by appearance (stage 1): a detection whose embedding is far
    from the track's starts a new identity even at the predicted position. (While a track is
    still *tracked*, the IoU stage 2 would give it the id, as in FairMOT.)"""
    tracker = make_tracker()
    stranger = appearance(2)
    walk_then_vanish(tracker, appearance(1))
    assert len(tracker.update(frame([walker_box(12)], [0.9], [stranger]))) == 0  # unconfirmed
    assert ids(tracker.update(frame([walker_box(13)], [0.9], [stranger]))) == [2]
    states = sorted((t.track_id, t.state) for t in tracker.tracks)
    assert states == [(1, TrackState.LOST), (2, TrackState.TRACKED)]


def test_lost_by_iou_recovers_a_track_whose_appearance_no_longer_matches():
    """With ``lost_by_iou`` (ByteTrack's stage 2 over tracked + lost tracks) the same detection as
    above keeps the lost id: the motion model vouches for it where the embedding cannot."""
    cfg = tracker_cfg()
    cfg.TRACKER.LOST_BY_IOU = True
    tracker = OnlineTracker(cfg, frame_rate=30)
    changed = appearance(2)
    walk_then_vanish(tracker, appearance(1))
    assert [t.state for t in tracker.tracks] == [TrackState.LOST]
    assert ids(tracker.update(frame([walker_box(12)], [0.9], [changed]))) == [1]
    far_away = [500.0, 150.0, 540.0, 250.0]  # no IoU with the prediction: still a new identity
    for t in range(13, 16):
        tracker.update(empty_frame(with_embeddings=True))
    tracker.update(frame([far_away], [0.9], [changed]))
    assert ids(tracker.update(frame([far_away], [0.9], [changed]))) == [2]


@pytest.mark.parametrize("appearance_cascade, expected_ids", [(False, [2]), (True, [1])])
def test_appearance_cascade_keeps_a_followed_person_from_a_lost_look_alike(
    appearance_cascade, expected_ids
):
    """Two people walk together; B is hidden behind A for two frames (its track lost). A's next
    detection looks more like B than like A, within the match threshold for both, and sits where
    both are predicted: one assignment gives it to lost B (an identity transfer, A's track is
    then lost); the cascade lets the followed track A match first and keep it."""
    cfg = tracker_cfg()
    cfg.TRACKER.APPEARANCE_CASCADE = appearance_cascade
    tracker = OnlineTracker(cfg, frame_rate=30)
    person_a, person_b = appearance(1), appearance(2)
    for t in range(1, 9):
        boxes = [walker_box(t), walker_box(t, x0=104.0)]
        tracker.update(frame(boxes, [0.9, 0.9], [person_a, person_b]))
    for t in (9, 10):
        tracker.update(frame([walker_box(t)], [0.9], [person_a]))
    assert [t.state for t in tracker.tracks] == [TrackState.TRACKED, TrackState.LOST]
    ambiguous = unit(person_a + 2.0 * person_b)
    distances = embedding_distance(np.stack([person_a, person_b]), ambiguous[None])[:, 0]
    assert distances[1] < distances[0] < cfg.TRACKER.EMBED_MATCH_THRESH
    assert ids(tracker.update(frame([walker_box(11)], [0.9], [ambiguous]))) == expected_ids


@pytest.mark.parametrize("motion_noise_scale, expected_ids", [(1.0, [2]), (3.0, [1])])
def test_motion_noise_scale_widens_the_motion_gate(motion_noise_scale, expected_ids):
    """A walker jumps 40 px ahead of its predicted box (no overlap, same appearance), as people
    do between frames at a low frame rate: outside the motion gate of DeepSORT's noise (squared
    Mahalanobis distance 21 > 9.49), so it becomes a new identity; inside it with the noise x3
    (2.3), so stage 1 keeps its id."""
    cfg = tracker_cfg()
    cfg.TRACKER.MOTION_NOISE_SCALE = motion_noise_scale
    tracker = OnlineTracker(cfg, frame_rate=30)
    person = appearance(1)
    for t in range(1, 9):
        tracker.update(frame([walker_box(t)], [0.9], [person]))
    jumped = [walker_box(t, x0=140.0) for t in (9, 10)]
    tracker.update(frame([jumped[0]], [0.9], [person]))
    assert ids(tracker.update(frame([jumped[1]], [0.9], [person]))) == expected_ids


def test_without_embeddings_lost_tracks_are_recovered_by_iou():
    tracker = make_tracker()
    for t in range(1, 9):
        assert ids(tracker.update(frame([walker_box(t)], [0.9]))) == [1]
    for t in range(9, 12):
        tracker.update(empty_frame(with_embeddings=False))
    assert ids(tracker.update(frame([walker_box(12)], [0.9]))) == [1]


def test_detections_without_an_embedding_are_tracked_by_iou_only():
    """NaN rows (the model skips Re-ID below MODEL.REID.MIN_SCORE_TEST): a low-band detection's
    missing embedding changes nothing; a high one is matched by IoU and leaves the track's
    appearance as it was, and a track born from one has none until it is matched with one."""
    person, other = appearance(1), appearance(2)
    nan = np.full(EMBED_DIM, np.nan)
    outputs = {}
    for low_embedding in ("given", "missing"):
        tracker = make_tracker()
        outputs[low_embedding] = []
        for t in range(1, 12):
            boxes = [walker_box(t), walker_box(t, x0=400.0)]
            low = appearance(3) if low_embedding == "given" else nan
            scores, embeddings = (
                ([0.9, 0.3], [person, low]) if t % 3 else ([0.3, 0.9], [low, other])
            )
            out = tracker.update(frame(boxes, scores, embeddings))
            outputs[low_embedding].append((ids(out), out.pred_boxes.tensor.tolist()))
    assert outputs["given"] == outputs["missing"]

    tracker = make_tracker()
    for t in range(1, 6):
        tracker.update(frame([walker_box(t)], [0.9], [person]))
    kept = tracker.tracks[0].embedding.copy()
    assert ids(tracker.update(frame([walker_box(6)], [0.9], [nan]))) == [1]
    np.testing.assert_array_equal(tracker.tracks[0].embedding, kept)
    tracker.update(frame([walker_box(7), walker_box(7, x0=400.0)], [0.9, 0.9], [person, nan]))
    newborn = [t for t in tracker.tracks if not t.is_confirmed]
    assert len(newborn) == 1 and newborn[0].embedding is None


def test_byte_keeps_a_track_through_a_low_score_frame():
    tracker = make_tracker()
    person = appearance(3)
    for t in range(1, 6):
        tracker.update(frame([walker_box(t)], [0.9], [person]))
    low = tracker.update(frame([walker_box(6)], [0.3], [appearance(4)]))  # low band: BYTE only
    assert ids(low) == [1]
    assert low.scores.tolist() == [pytest.approx(0.3)]
    assert [t.state for t in tracker.tracks] == [TrackState.TRACKED]
    assert ids(tracker.update(frame([walker_box(7)], [0.9], [person]))) == [1]


def test_below_the_low_band_a_track_is_lost():
    tracker = make_tracker()
    for t in range(1, 4):
        tracker.update(frame([walker_box(t)], [0.9]))
    assert len(tracker.update(frame([walker_box(4)], [0.05]))) == 0
    assert [t.state for t in tracker.tracks] == [TrackState.LOST]


@pytest.mark.parametrize("frame_rate, limit_frames", [(30, 15), (7, 3), (30, 0)])
def test_a_track_on_low_scores_alone_is_lost_after_the_limit(frame_rate, limit_frames):
    """TRACKER.MAX_LOW_SCORE_FRAMES 15 (at 30 fps): a person walks off and a post the detector
    scores in the low band stays under the track; 0 keeps it as long as the post is seen."""
    cfg = tracker_cfg()
    cfg.TRACKER.MAX_LOW_SCORE_FRAMES = 15 if limit_frames else 0
    tracker = OnlineTracker(cfg, frame_rate=frame_rate)
    post = [200.0, 150.0, 240.0, 250.0]
    for _ in range(3):
        assert len(tracker.update(frame([post], [0.9], [appearance(7)]))) <= 1
    # long enough to pass the limit, short of the lost-track buffer (30 at 30 fps, 7 at 7 fps)
    for k in range(1, limit_frames + 5 if limit_frames else 40):
        output = tracker.update(frame([post], [0.3], [appearance(8)]))  # BYTE only
        if limit_frames and k > limit_frames:
            assert len(output) == 0 and [t.state for t in tracker.tracks] == [TrackState.LOST]
        else:
            assert ids(output) == [1]
    assert ids(tracker.update(frame([post], [0.9], [appearance(7)]))) == [1]  # a high score again


def test_births_need_the_birth_threshold():
    cfg = tracker_cfg().TRACKER
    between = (cfg.HIGH_SCORE_THRESH + cfg.BIRTH_THRESH) / 2
    tracker = make_tracker()
    for t in range(1, 6):
        assert len(tracker.update(frame([walker_box(t)], [between], [appearance(5)]))) == 0
    assert tracker.tracks == ()
    # Above the threshold, after the first frame: unconfirmed first, an id on the second match.
    assert len(tracker.update(frame([walker_box(6)], [0.9], [appearance(5)]))) == 0
    assert ids(tracker.update(frame([walker_box(7)], [0.9], [appearance(5)]))) == [1]


@pytest.mark.parametrize("frame_rate, buffer_frames", [(30, 30), (15, 15)])
def test_lost_tracks_die_after_the_buffer_scaled_by_frame_rate(frame_rate, buffer_frames):
    tracker = make_tracker(frame_rate=frame_rate)
    last_seen = 3
    for t in range(1, last_seen + 1):
        tracker.update(frame([walker_box(t)], [0.9], [appearance(6)]))
    for t in range(last_seen + 1, last_seen + buffer_frames + 1):
        tracker.update(empty_frame(with_embeddings=True))
    assert [t.state for t in tracker.tracks] == [TrackState.LOST]
    tracker.update(empty_frame(with_embeddings=True))
    assert tracker.tracks == ()


def test_each_tracker_counts_ids_from_one():
    first, second = make_tracker(), make_tracker()
    boxes = [walker_box(1, x0=0), walker_box(1, x0=300)]
    assert ids(first.update(frame(boxes, [0.9, 0.8], [appearance(7), appearance(8)]))) == [1, 2]
    assert ids(second.update(frame(boxes[:1], [0.9], [appearance(7)]))) == [1]
    newcomer = [100.0, 300.0, 140.0, 400.0]
    embeddings = [appearance(7), appearance(8), appearance(9)]
    first.update(frame(boxes + [newcomer], [0.9, 0.8, 0.9], embeddings))
    assert ids(first.update(frame(boxes + [newcomer], [0.9, 0.8, 0.9], embeddings))) == [1, 2, 3]


@pytest.mark.parametrize("with_embeddings", [True, False])
def test_empty_frames_and_empty_sequences(with_embeddings):
    tracker = make_tracker()
    for _ in range(5):
        output = tracker.update(empty_frame(with_embeddings))
        assert output.image_size == IMAGE_SIZE
        assert output.pred_boxes.tensor.shape == (0, 4) and output.scores.shape == (0,)
        assert output.track_ids.dtype == torch.int64 and output.track_ids.shape == (0,)
    embeddings = [appearance(10)] if with_embeddings else None
    for t in range(6, 9):
        assert ids(tracker.update(frame([walker_box(t)], [0.9], embeddings))) in ([], [1])
    assert ids(tracker.update(empty_frame(with_embeddings))) == []


def test_input_is_not_modified_and_output_is_the_detection_box():
    tracker = make_tracker()
    for t in range(1, 6):
        detections = frame(
            [walker_box(t), walker_box(t, x0=400)], [0.9, 0.3], [appearance(11), appearance(12)]
        )
        before = {name: value.clone() for name, value in detections.get_fields().items()}
        before["pred_boxes"] = detections.pred_boxes.tensor.clone()
        output = tracker.update(detections)
        assert output is not detections and set(detections.get_fields()) == set(before)
        assert torch.equal(detections.pred_boxes.tensor, before["pred_boxes"])
        assert torch.equal(detections.scores, before["scores"])
        assert torch.equal(detections.pred_embeddings, before["pred_embeddings"])
        assert torch.equal(output.pred_boxes.tensor, before["pred_boxes"][:1])


def test_kalman_output_box_smooths_jittery_detections():
    """With OUTPUT_BOX "kalman" a track reports its corrected Kalman state: on noisy detections
    of a person walking at constant speed it lies closer to the true box than the detections."""
    cfg = tracker_cfg()
    cfg.TRACKER.OUTPUT_BOX = "kalman"
    kalman, plain = OnlineTracker(cfg), make_tracker()
    noise = np.random.default_rng(0).normal(scale=3.0, size=(40, 4))
    errors = {"detection": [], "kalman": []}
    for t in range(1, 41):
        truth = np.array(walker_box(t))
        detections = frame([truth + noise[t - 1]], [0.9])
        for name, tracker in (("detection", plain), ("kalman", kalman)):
            output = tracker.update(detections)
            assert ids(output) == [1]
            if t > 10:  # after the filter has settled
                errors[name].append(np.abs(output.pred_boxes.tensor[0].numpy() - truth).mean())
    assert np.mean(errors["kalman"]) < 0.8 * np.mean(errors["detection"])
    with pytest.raises(ValueError, match="output_box"):
        OnlineTracker(**{**OnlineTracker.from_config(cfg), "output_box": "mean"})


def person_box(person, age):
    """Person ``person`` walks diagonally from one of four corners of a grid; no two overlap."""
    x = 20.0 + 120 * (person % 4) + 3 * age
    y = 30.0 + 80 * (person % 4)
    return [x, y, x + 40.0, y + 100.0]


def test_memory_stays_bounded_over_a_long_sequence():
    """2000 frames, a person entering every 10 frames and walking out after 40: the tracker must
    keep only live and recently lost tracks."""
    tracker = make_tracker()
    rng = np.random.default_rng(0)
    largest, seen_ids = 0, set()
    for t in range(1, 2001):
        people = range(max(0, (t - 40) // 10 + 1), t // 10 + 1)
        boxes = [person_box(p, age=t - 10 * p) for p in people]
        boxes = np.reshape(boxes, (-1, 4)) + rng.normal(scale=0.5, size=(len(boxes), 4))
        embeddings = [appearance(p) for p in people]
        seen_ids.update(ids(tracker.update(frame(boxes, [0.9] * len(boxes), embeddings))))
        largest = max(largest, len(tracker.tracks))
    assert largest <= 12
    assert len(seen_ids) >= 190 and seen_ids == set(range(1, len(seen_ids) + 1))


def test_tracks_to_mot_rows_filters_small_boxes():
    output = Instances(IMAGE_SIZE)
    output.pred_boxes = Boxes(torch.tensor([[10.0, 20.0, 50.0, 120.0], [0.0, 0.0, 5.0, 5.0]]))
    output.scores = torch.tensor([0.9, 0.8])
    output.track_ids = torch.tensor([3, 4], dtype=torch.int64)
    rows = tracks_to_mot_rows(7, output, min_box_area=100.0)
    assert rows == [(7, 3, 10.0, 20.0, 40.0, 100.0, pytest.approx(0.9))]
    assert len(tracks_to_mot_rows(7, output, min_box_area=0.0)) == 2
