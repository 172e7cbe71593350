"""The pure parts of bench.association and bench.boxmot_runner (no BoxMOT needed): detection
synthesis, the detections file, and writing BoxMOT output as MOT results."""

import numpy as np
import pytest

from lwf_track.data.mot_format import read_gt, read_results
from lwf_track.data.synthetic import generate_benchmark

from bench import association
from bench import boxmot_runner as runner

WIDTH, HEIGHT, FRAMES = 320, 180, 60


@pytest.fixture(scope="module")
def gt(tmp_path_factory):
    seq = generate_benchmark(tmp_path_factory.mktemp("seqs"), 1, FRAMES, 3, WIDTH, HEIGHT)[0]
    return read_gt(seq / "gt" / "gt.txt")


def synthesize(gt, seed=0, **model):
    return association.synthesize_detections(
        gt, FRAMES, WIDTH, HEIGHT, seed, association.DetectorModel(**model)
    )


def test_synthesis_is_deterministic_in_the_seed(gt):
    first, again, other = synthesize(gt, 1), synthesize(gt, 1), synthesize(gt, 2)
    for field in ("frame", "boxes", "scores", "embeddings", "gt_ids"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))
    assert not np.array_equal(first.boxes, other.boxes) or len(first) != len(other)


def test_synthesized_detections_are_plausible(gt):
    dets = synthesize(gt, recall=1.0, false_positives=3.0)
    assert dets.frame.min() >= 1 and dets.frame.max() <= FRAMES
    assert np.all(np.diff(dets.frame) >= 0)  # grouped by frame
    assert np.all(dets.boxes[:, [0, 1]] >= 0)
    assert np.all(dets.boxes[:, 2] <= WIDTH) and np.all(dets.boxes[:, 3] <= HEIGHT)
    assert np.all(dets.boxes[:, 2:] - dets.boxes[:, :2] >= 2)
    assert np.all((dets.scores > 0) & (dets.scores < 1))
    np.testing.assert_allclose(np.linalg.norm(dets.embeddings, axis=1), 1.0, atol=1e-5)
    assert dets.embeddings.shape[1] == 64
    false_positives = dets.gt_ids < 0
    assert 0 < false_positives.sum() < len(dets)
    assert set(dets.gt_ids[~false_positives]) <= set(gt[:, 1].astype(int))
    # hidden people are never detected, well visible ones are (recall 1)
    visible = gt[gt[:, 8] >= 0.5]
    assert np.sum(~false_positives) >= 0.9 * len(visible)
    # at most one detection per gt box
    pairs = np.stack([dets.frame[~false_positives], dets.gt_ids[~false_positives]], axis=1)
    assert len(np.unique(pairs, axis=0)) == len(pairs)


def test_embeddings_tell_identities_apart(gt):
    dets = synthesize(gt)
    true = dets.gt_ids >= 0
    ids, emb = dets.gt_ids[true], dets.embeddings[true]
    cos = emb @ emb.T
    same = ids[:, None] == ids[None, :]
    off_diagonal = ~np.eye(len(ids), dtype=bool)
    assert cos[same & off_diagonal].mean() > 0.5
    assert abs(cos[~same].mean()) < 0.1


def test_occluded_people_score_lower_and_are_missed_more(gt):
    dets = synthesize(gt, false_positives=0.0)
    visibility = {(int(f), int(i)): v for f, i, v in gt[:, [0, 1, 8]]}
    vis = np.array([visibility[(int(f), int(i))] for f, i in zip(dets.frame, dets.gt_ids)])
    assert np.corrcoef(vis, dets.scores)[0, 1] > 0.3
    assert np.all(vis > 0.1)  # below min_visibility nobody is detected
    hidden = gt[gt[:, 8] < 0.3]
    if len(hidden):
        found = {(int(f), int(i)) for f, i in zip(dets.frame, dets.gt_ids)}
        rate = np.mean([(int(f), int(i)) in found for f, i in hidden[:, :2]])
        assert rate < 0.6


def test_detections_file_round_trip(tmp_path, gt):
    dets = synthesize(gt)
    path = tmp_path / "dets.npz"
    association.save_detections(path, dets)
    back = association.load_detections(path)
    for field in ("frame", "boxes", "scores", "embeddings", "gt_ids"):
        np.testing.assert_array_equal(getattr(back, field), getattr(dets, field))
    np.savez(tmp_path / "bad.npz", frame=np.ones(2), boxes=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="scores"):
        association.load_detections(tmp_path / "bad.npz")


def test_runner_detection_rows_cover_every_frame(gt):
    dets = synthesize(gt)
    rows = runner.detection_rows(dets.frame, dets.boxes, dets.scores, FRAMES + 2)
    assert len(rows) == FRAMES + 2 and rows[-1].shape == (0, 6)
    assert sum(len(r) for r in rows) == len(dets)
    first = rows[0]
    np.testing.assert_array_equal(first[:, :4], dets.boxes[dets.frame == 1])
    np.testing.assert_array_equal(first[:, 5], 0)
    assert first.dtype == np.float32


def test_runner_writes_mot_results_our_reader_accepts(tmp_path):
    tracks = np.array(
        [
            [10, 20, 30, 70, 1, 0.9, 0, 0],  # 20 x 50 = 1000 px
            [0, 0, 5, 5, 2, 0.8, 0, 1],  # 25 px: under min_box_area
        ],
        dtype=np.float32,
    )
    rows = runner.mot_rows(3, tracks, min_box_area=50.0) + runner.mot_rows(4, tracks[:0], 50.0)
    path = tmp_path / "out" / "SEQ.txt"
    runner.write_mot_tracks(path, rows)
    values = read_results(path)
    np.testing.assert_allclose(values, [[3, 1, 10, 20, 20, 50, 0.9]], atol=1e-3)
    assert path.read_text().strip().endswith(",-1,-1,-1")


def test_timing_summary_uses_median_per_frame():
    times = {"a": [[0.001, 0.001, 0.010], [0.002, 0.002, 0.002]], "b": [[0.001], [0.001]]}
    summary = association.timing_summary(times)
    assert summary["ms_per_frame"] == pytest.approx(1.5)
    assert summary["repeats"] == 2 and summary["frames_per_repeat"] == 4
    assert summary["repeat_mean_ms"][0] == pytest.approx(13.0 / 4)
