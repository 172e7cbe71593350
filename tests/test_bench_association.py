"""bench.association and bench.boxmot_runner without BoxMOT: detection synthesis, the detections
file, writing BoxMOT output as MOT results, and the public-detection mode end to end with a fake
BoxMOT."""

from pathlib import Path

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


# ------------------------------------------------------------------- public detections (real mode)
FAKE_BOXMOT = '''"""A stand-in for BoxMOT: every detection is a track numbered by its row in the frame."""
import numpy as np

__version__ = "fake"


class ByteTrack:
    def __init__(self, frame_rate=30, **options):
        self.track_buffer = frame_rate

    def update(self, dets, img):
        tracks = np.zeros((len(dets), 8), dtype=np.float32)
        tracks[:, :4] = dets[:, :4]
        tracks[:, 4] = np.arange(1, len(dets) + 1)
        tracks[:, 5] = dets[:, 4]
        tracks[:, 7] = np.arange(len(dets))
        return tracks
'''


def fake_boxmot_venv(root):
    """A folder the bench takes for an installed BoxMOT venv: its python is ours with the fake
    ``boxmot`` package on the path, and the install stamp is there."""
    import stat
    import sys

    package = root / "site" / "boxmot"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(FAKE_BOXMOT)
    python = association.venv_python(root / "venv")
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nPYTHONPATH={root / "site"} exec {sys.executable} "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    association.install_stamp(root / "venv").write_text("fake boxmot\n")
    return root / "venv"


def two_walkers(seq_dir, frames=30):
    """A MOTChallenge folder: two people walking apart, every box detected (score 0.95), rows of
    a frame always in the same order (so the fake ByteTrack keeps their identities)."""
    (seq_dir / "gt").mkdir(parents=True)
    (seq_dir / "det").mkdir()
    (seq_dir / "seqinfo.ini").write_text(
        "[Sequence]\nname=WALK\nimDir=img1\nframeRate=10\n"
        f"seqLength={frames}\nimWidth=320\nimHeight=180\nimExt=.jpg\n"
    )
    gt, det = [], []
    for frame in range(1, frames + 1):
        for person, (x, y) in enumerate([(20 + 2 * frame, 30), (200 - 2 * frame, 60)], start=1):
            gt.append(f"{frame},{person},{x},{y},20,50,1,1,1.0\n")
            det.append(f"{frame},-1,{x},{y},20,50,0.95\n")
    (seq_dir / "gt" / "gt.txt").write_text("".join(gt))
    (seq_dir / "det" / "det.txt").write_text("".join(reversed(det)))  # det.txt need not be sorted
    return seq_dir


def test_public_detections_are_det_txt_as_xyxy(tmp_path):
    dets = association.public_detections(two_walkers(tmp_path / "WALK"))
    assert len(dets) == 60 and dets.embeddings is None and dets.gt_ids is None
    first = dets.in_frame(1)
    np.testing.assert_allclose(dets.boxes[first], [[198, 60, 218, 110], [22, 30, 42, 80]])
    np.testing.assert_allclose(dets.scores[first], 0.95)
    np.testing.assert_array_equal(np.unique(dets.frame), np.arange(1, 31))


@pytest.mark.slow
def test_public_detection_mode_scores_both_trackers_on_every_frame_and_the_val_half(tmp_path):
    seq_dir = two_walkers(tmp_path / "data" / "WALK")
    venv = fake_boxmot_venv(tmp_path / "boxmot")
    out = tmp_path / "out"
    argv = ["--mot-sequence", str(seq_dir), "--boxmot-venv", str(venv), "--out", str(out)]
    markdown = tmp_path / "table.md"
    results = association.main(
        [*argv, "--repeats", "2", "--warmup", "0", "--markdown", str(markdown)]
    )

    assert results["ours"]["config"] == association.PUBLIC_DETECTIONS_CONFIG
    assert results["detector_model"] is None
    saved = association.load_detections(out / "detections" / "WALK.npz")
    np.testing.assert_array_equal(saved.boxes, association.public_detections(seq_dir).boxes)
    scores = results["scores"]
    assert set(scores) == {association.ALL_FRAMES, association.VAL_HALF}
    assert scores[association.ALL_FRAMES]["frame_ranges"] == {}
    assert tuple(scores[association.VAL_HALF]["frame_ranges"]["WALK"]) == (16, 30)
    for score in scores.values():
        boxmot, ours = (score["metrics"][key]["OVERALL"] for key in ("boxmot", "ours"))
        assert boxmot["MOTA"] == pytest.approx(100.0) and boxmot["IDF1"] == pytest.approx(100.0)
        assert ours["IDS"] == 0 and ours["FP"] == 0 and ours["MOTA"] >= 90.0
        assert score["ours_minus_boxmot"]["MOTA"] == pytest.approx(ours["MOTA"] - boxmot["MOTA"])
        for metric, interval in score["ours_minus_boxmot_ci"].items():
            difference, low, high = (interval[k] for k in ("mean", "low", "high"))
            cross_check = (score["metrics"][k]["motmetrics"]["OVERALL"] for k in ("ours", "boxmot"))
            assert difference == pytest.approx(
                next(cross_check)[metric] - next(cross_check)[metric]
            )
            assert low <= difference <= high, metric
    # the val half is its 15 frames: every gt box of them, and none of the first half
    val_boxmot = scores[association.VAL_HALF]["metrics"]["boxmot"]["motmetrics"]["OVERALL"]
    assert val_boxmot["FN"] == 0 and val_boxmot["MT"] == 2
    assert results["timing"]["ours"]["frames_per_repeat"] == 30
    assert results["timing"]["boxmot"]["repeats"] == 2
    assert results["ratios"]["time_ours_over_boxmot"] > 0
    assert set(results["goals"]) == {"time", "MOTA", "IDF1"}
    assert (out / "tracks" / "boxmot" / "WALK.txt").is_file()
    assert (out / "results.json").is_file()
    # the markdown table: a row per scoring and tracker, with the numbers of results.json
    lines = markdown.read_text().splitlines()
    rows = [line.strip("| ").split(" | ") for line in lines if line.startswith("| ")][1:]
    assert [row[:2] for row in rows] == [
        ["all", "our tracker"],
        ["all", f"BoxMOT {association.BOXMOT_VERSION} ByteTrack"],
        ["16-30", "our tracker"],
        ["16-30", f"BoxMOT {association.BOXMOT_VERSION} ByteTrack"],
    ]
    val_ours = rows[2]
    val_mota = scores[association.VAL_HALF]["metrics"]["ours"]["OVERALL"]["MOTA"]
    assert val_ours[3] == f"{val_mota:.1f}"


def test_public_detection_mode_says_what_a_sequence_folder_lacks(tmp_path, capsys, monkeypatch):
    seq_dir = two_walkers(tmp_path / "WALK")
    (seq_dir / "det" / "det.txt").unlink()
    with pytest.raises(SystemExit):
        association.parse_args(["--mot-sequence", str(seq_dir)])
    assert f"{seq_dir}: not a MOTChallenge sequence folder" in capsys.readouterr().err
    monkeypatch.setenv("LWF_SHARED_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(SystemExit):
        association.parse_args(["--pets09"])
    assert "set LWF_SHARED_DATA" in capsys.readouterr().err


def test_pets09_public_detections(shared_data):
    seq_dir = shared_data / "MOT15" / "train" / "PETS09-S2L1"
    args = association.parse_args(["--pets09"])
    assert [Path(p).resolve() for p in args.mot_sequence] == [seq_dir.resolve()]
    assert args.config == association.PUBLIC_DETECTIONS_CONFIG
    (sequence,) = association.public_detection_sequences(args.mot_sequence)
    dets = sequence.detections
    rows = (seq_dir / "det" / "det.txt").read_text().split()
    assert len(dets) == len(rows) and sequence.num_frames == 795
    assert dets.frame.min() >= 1 and dets.frame.max() <= 795
    assert np.all(dets.boxes[:, 2:] > dets.boxes[:, :2])
    assert np.median(dets.scores) > 0.9  # SORT's Faster R-CNN scores
    val_half = association.half_split_scorings([sequence])[association.VAL_HALF]
    assert val_half == {"PETS09-S2L1": (398, 795)}
