"""Synthetic benchmark: MOT layout, determinism, well-formed gt/det, visibility, difficulty, CLI."""

import configparser
import hashlib
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from lwf_track.data.synthetic import (
    DIFFICULTIES,
    ensure_benchmark,
    generate_benchmark,
    summarize_benchmark,
)
from lwf_track.data.synthetic.__main__ import main
from lwf_track.data.synthetic.appearance import Appearance
from lwf_track.data.synthetic.render import render_people, visibility

REPO = Path(__file__).resolve().parents[1]
TINY = {"num_seqs": 2, "frames": 8, "width": 160, "height": 96}


def read_rows(path: Path, columns: int) -> np.ndarray:
    lines = path.read_text().splitlines()
    assert all(len(line.split(",")) == columns for line in lines), path
    return np.array([line.split(",") for line in lines], float).reshape(-1, columns)


def file_hashes(root: Path) -> dict:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def iou(box, boxes) -> np.ndarray:
    x0, y0 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[0] + box[2], boxes[:, 0] + boxes[:, 2])
    y1 = np.minimum(box[1] + box[3], boxes[:, 1] + boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    return inter / (box[2] * box[3] + boxes[:, 2] * boxes[:, 3] - inter)


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    return root, generate_benchmark(root, seed=3, **TINY)


def test_layout_and_seqinfo(tiny_set):
    _, seq_dirs = tiny_set
    assert [d.name for d in seq_dirs] == ["SYN-3-01", "SYN-3-02"]
    for seq_dir in seq_dirs:
        info = configparser.ConfigParser()
        info.optionxform = str
        info.read(seq_dir / "seqinfo.ini")
        assert dict(info["Sequence"]) == {
            "name": seq_dir.name,
            "imDir": "img1",
            "frameRate": "30",
            "seqLength": "8",
            "imWidth": "160",
            "imHeight": "96",
            "imExt": ".jpg",
        }
        images = sorted((seq_dir / "img1").iterdir())
        assert [p.name for p in images] == [f"{t:06d}.jpg" for t in range(1, 9)]
        assert cv2.imread(str(images[0])).shape == (96, 160, 3)
        assert (seq_dir / "gt" / "gt.txt").is_file() and (seq_dir / "det" / "det.txt").is_file()


def test_same_arguments_give_identical_files_and_other_seeds_differ(tmp_path, tiny_set):
    root, _ = tiny_set
    generate_benchmark(tmp_path / "again", seed=3, **TINY)
    assert file_hashes(tmp_path / "again") == file_hashes(root)

    other = generate_benchmark(tmp_path / "other", seed=4, **TINY)
    assert other[0].name == "SYN-4-01"
    theirs, ours = file_hashes(tmp_path / "other" / "SYN-4-01"), file_hashes(root / "SYN-3-01")
    assert theirs["gt/gt.txt"] != ours["gt/gt.txt"]
    assert all(theirs[f"img1/{t:06d}.jpg"] != ours[f"img1/{t:06d}.jpg"] for t in range(1, 9))


def test_gt_rows_are_well_formed_and_identities_consistent(tiny_set):
    _, seq_dirs = tiny_set
    for seq_dir in seq_dirs:
        gt = read_rows(seq_dir / "gt" / "gt.txt", 9)
        assert len(gt) > 0
        frame, ids, x, y, w, h, flag, cls, vis = gt.T
        assert set(frame) <= set(range(1, 9))
        assert sorted(set(ids)) == list(range(1, int(ids.max()) + 1))
        assert (w > 0).all() and (h > 0).all() and (flag == 1).all() and (cls == 1).all()
        assert ((vis >= 0) & (vis <= 1)).all()
        assert len({(f, i) for f, i in zip(frame, ids)}) == len(gt)
        assert ((x < 160) & (x + w > 0) & (y < 96) & (y + h > 0)).all()  # never fully outside
        assert np.all(np.abs(w / h - 0.4) <= 0.05 + 1 / h)  # about 1:2.5, up to rounding
        for person in np.unique(ids):  # one id is one person: small steps between frames
            track = gt[ids == person]
            centers = track[:, 2:4] + track[:, 4:6] / 2
            assert np.all(np.abs(np.diff(centers, axis=0)) < 0.25 * track[1:, 5:6])


def test_people_lower_in_the_image_are_larger(tiny_set):
    _, seq_dirs = tiny_set
    gt = np.concatenate([read_rows(d / "gt" / "gt.txt", 9) for d in seq_dirs])
    bottom, height = gt[:, 3] + gt[:, 5], gt[:, 5]
    assert np.corrcoef(bottom, height)[0, 1] > 0.8


def test_visibility_of_controlled_boxes():
    size = {"width": 100, "height": 100}
    hidden = visibility([(10, 10, 20, 50), (10, 10, 20, 50)], depth=[0, 1], **size)
    np.testing.assert_allclose(hidden, [0, 1])
    covered = visibility([(20, 20, 20, 50), (15, 15, 30, 75)], **size)  # lower bottom is closer
    np.testing.assert_allclose(covered, [0, 1])
    np.testing.assert_allclose(visibility([(10, 10, 20, 50), (40, 10, 20, 50)], **size), [1, 1])
    half = visibility([(10, 10, 20, 50), (20, 10, 20, 60)], **size)
    np.testing.assert_allclose(half, [0.5, 1])
    np.testing.assert_allclose(visibility([(-10, 10, 20, 50)], **size), [0.5])
    np.testing.assert_allclose(visibility([(60, 70, 20, 60)], **size), [0.5])


def test_rendering_draws_the_closer_person_on_top():
    def dressed(top):
        grey = (128, 128, 128)
        plain = {"long_sleeves": True, "stripes": None, "hat": None, "bag": None, "bag_left": False}
        return Appearance(
            skin=grey, hair=grey, top=top, bottom=grey, shoes=grey, build=1.0, **plain
        )

    red, blue = (0, 0, 255), (255, 0, 0)
    canvas = np.zeros((120, 120, 3), np.uint8)
    boxes = [(40.0, 10.0, 40.0, 100.0), (40.0, 10.0, 40.0, 100.0)]  # far to near
    shares = render_people(canvas, boxes, [dressed(red), dressed(blue)], [0.0, 0.0])
    np.testing.assert_allclose(shares, [0, 1])
    assert tuple(canvas[45, 60]) == blue  # torso centre of the front person
    assert not np.all(canvas == 0)


def test_detections_are_well_formed_and_near_the_ground_truth(tiny_set):
    _, seq_dirs = tiny_set
    for seq_dir in seq_dirs:
        det = read_rows(seq_dir / "det" / "det.txt", 7)
        gt = read_rows(seq_dir / "gt" / "gt.txt", 9)
        frame, minus_one, _, _, w, h, score = det.T
        assert (minus_one == -1).all() and (np.diff(frame) >= 0).all()
        assert set(frame) <= set(range(1, 9))
        assert (w > 0).all() and (h > 0).all() and ((score > 0) & (score < 1)).all()
        matched = [
            len(gt[gt[:, 0] == row[0]]) and iou(row[2:6], gt[gt[:, 0] == row[0], 2:6]).max() > 0.5
            for row in det
        ]
        assert 0.5 < np.mean(matched) < 1  # mostly jittered true boxes, some false positives
        assert len(det) < len(gt) + 8 * 3  # misses outnumber false positives at most modestly


def test_hard_is_more_crowded_and_more_occluded_than_easy(tmp_path):
    summaries = {
        difficulty: summarize_benchmark(
            generate_benchmark(tmp_path / difficulty, seed=5, difficulty=difficulty, **TINY)
        )
        for difficulty in ("easy", "hard")
    }
    easy, hard = summaries["easy"], summaries["hard"]
    assert hard["people_per_frame"] > 2 * easy["people_per_frame"]
    assert hard["mean_visibility"] < easy["mean_visibility"]
    assert hard["occluded_share"] > easy["occluded_share"]


def test_custom_profile_and_bad_arguments(tmp_path):
    empty_street = replace(DIFFICULTIES["easy"], density=0, detector_false_positives=0)
    seq_dirs = generate_benchmark(
        tmp_path, 1, 2, seed=1, width=64, height=48, difficulty=empty_street
    )
    summary = summarize_benchmark(seq_dirs)
    assert summary["frames"] == 2 and summary["boxes"] == 0 and summary["detections"] == 0
    with pytest.raises(ValueError, match="difficulty"):
        generate_benchmark(tmp_path, 1, 2, seed=1, difficulty="extreme")


def test_main_returns_the_printed_summary(tmp_path, capsys):
    argv = ["--out", str(tmp_path), "--num-seqs", "1", "--frames", "4", "--seed", "2"]
    summary = main(argv + ["--width", "96", "--height", "64", "--difficulty", "easy"])
    assert summary["sequences"] == 1 and summary["frames"] == 4
    assert f"{summary['boxes']} boxes" in capsys.readouterr().out


def test_cli_runs_as_a_module(tmp_path):
    command = [sys.executable, "-m", "lwf_track.data.synthetic", "--out", str(tmp_path)]
    command += ["--num-seqs", "1", "--frames", "3", "--seed", "7", "--width", "96"]
    command += ["--height", "64", "--difficulty", "hard", "--fps", "14"]
    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "1 sequences, 3 frames" in result.stdout
    assert "frameRate=14" in (tmp_path / "SYN-7-01" / "seqinfo.ini").read_text()
    assert len(list((tmp_path / "SYN-7-01" / "img1").glob("*.jpg"))) == 3


def test_ensure_benchmark_generates_once_per_parameter_set(tmp_path):
    options = {"frames": 3, "seed": 5, "width": 96, "height": 64}
    assert ensure_benchmark(tmp_path, 2, **options)
    first = (tmp_path / "SYN-5-01" / "gt" / "gt.txt").stat().st_mtime_ns
    assert not ensure_benchmark(tmp_path, 2, **options)  # same parameters: nothing to do
    assert (tmp_path / "SYN-5-01" / "gt" / "gt.txt").stat().st_mtime_ns == first
    assert ensure_benchmark(tmp_path, 1, **options)  # fewer sequences: the stale one goes
    assert sorted(p.name for p in tmp_path.glob("SYN-*")) == ["SYN-5-01"]
    (tmp_path / ".complete.json").unlink()  # as after an interrupted generation
    assert ensure_benchmark(tmp_path, 1, **options)
