"""MOTEvaluator: tracks per sequence, writes MOTChallenge files, scores those with gt (tracks,
detections, embeddings)."""

import json

import numpy as np
import pytest
import torch
from detectron2.structures import Boxes, Instances
from detectron2.utils import comm

from lwf_track.data.mot_format import read_results
from lwf_track.evaluation import MOTEvaluator

FRAMES = {"SEQ-A": 6, "SEQ-B": 8, "SEQ-C": 4}


class EchoTracker:
    """A stand-in tracker: every detection keeps the gt id the fake model put on it."""

    def update(self, instances: Instances) -> Instances:
        return Instances(
            instances.image_size,
            pred_boxes=instances.pred_boxes,
            scores=instances.scores,
            track_ids=instances.gt_ids,
        )


# A sequence's saved inference without any detection (what a kept sequence needs besides tracks).
EMPTY_INFERENCE = {
    "frames": np.zeros(0, np.int64),
    "boxes": np.zeros((0, 4), np.float32),
    "scores": np.zeros(0, np.float32),
    "classes": np.zeros(0, np.int64),
    "handled_frames": np.zeros(0, np.int64),
    "reid_embeddings": np.zeros((0, 8), np.float32),
    "reid_ids": np.zeros(0, np.int64),
}


def gt_rows(name: str) -> np.ndarray:
    """Three people walking right, (frame, id, x, y, w, h), for every frame of the sequence."""
    return np.array(
        [
            (frame, pid, 10.0 * frame + 100 * pid, 20.0 * pid, 30.0, 70.0)
            for frame in range(1, FRAMES[name] + 1)
            for pid in (1, 2, 3)
        ]
    )


@pytest.fixture
def sequences(tmp_path):
    """SEQ-A (all frames), SEQ-B (frames 4..8 of 8: a validation half), SEQ-C (no gt: test)."""
    result = []
    for name, length in FRAMES.items():
        seq_dir = tmp_path / "data" / name
        seq_dir.mkdir(parents=True)
        (seq_dir / "seqinfo.ini").write_text(
            f"[Sequence]\nname={name}\nframeRate=10\nseqLength={length}\nimWidth=640\n"
            "imHeight=480\n"
        )
        has_gt = name != "SEQ-C"
        if has_gt:
            (seq_dir / "gt").mkdir()
            lines = (
                f"{f:.0f},{i:.0f},{x},{y},{w},{h},1,1,1.0\n" for f, i, x, y, w, h in gt_rows(name)
            )
            (seq_dir / "gt" / "gt.txt").write_text("".join(lines))
        first = 4 if name == "SEQ-B" else 1
        result.append(
            {
                "name": name,
                "dir": str(seq_dir),
                "frame_rate": 10 + len(result),
                "width": 640,
                "height": 480,
                "first_frame": first,
                "last_frame": length,
                "has_gt": has_gt,
            }
        )
    return result


def frames_of(sequences) -> list:
    """(input, output) pairs as the test loader and the model give them, in loader order."""
    pairs = []
    for seq in sequences:
        rows = gt_rows(seq["name"])
        for frame in range(seq["first_frame"], seq["last_frame"] + 1):
            here = rows[rows[:, 0] == frame]
            boxes = np.column_stack([here[:, 2:4], here[:, 2:4] + here[:, 4:6]])
            detections = Instances(
                (480, 640),
                pred_boxes=Boxes(torch.tensor(boxes, dtype=torch.float32)),
                scores=torch.full((len(here),), 0.9),
                pred_classes=torch.zeros(len(here), dtype=torch.int64),
                pred_embeddings=torch.randn(len(here), 8),
                gt_ids=torch.tensor(here[:, 1], dtype=torch.int64),
            )
            pairs.append(({"sequence": seq["name"], "frame": frame}, {"instances": detections}))
    return pairs


def run(evaluator, pairs) -> dict:
    evaluator.reset()
    for record, output in pairs:
        evaluator.process([record], [output])
    return evaluator.evaluate()


def make_evaluator(sequences, output_dir, **kwargs):
    frame_rates = []

    def factory(frame_rate):
        frame_rates.append(frame_rate)
        return EchoTracker()

    return MOTEvaluator(sequences, str(output_dir), factory, **kwargs), frame_rates


def test_writes_tracks_and_metrics_and_lists_sequences_without_gt(sequences, tmp_path):
    out = tmp_path / "out"
    evaluator, frame_rates = make_evaluator(sequences, out)
    results = run(evaluator, frames_of(sequences))

    assert frame_rates == [10, 11, 12]  # one fresh tracker per sequence, at its frame rate
    for seq in sequences:  # every sequence written, in its own frame numbers
        values = read_results(out / "tracks" / f"{seq['name']}.txt")
        frames = np.unique(values[:, 0])
        np.testing.assert_array_equal(frames, np.arange(seq["first_frame"], seq["last_frame"] + 1))
    assert list(results) == ["MOT"]
    assert results["MOT"]["MOTA"] == pytest.approx(100.0)
    assert results["MOT"]["HOTA"] == pytest.approx(100.0)
    # SEQ-B scored on frames 4..8 only: its 3 gt frames before the split are not misses.
    assert results["MOT"]["FN"] == 0
    assert all(isinstance(v, (int, float)) for v in results["MOT"].values())

    metrics = json.loads((out / "mot_metrics.json").read_text())
    assert metrics["not_evaluated"] == ["SEQ-C"]
    assert set(metrics) == {"SEQ-A", "SEQ-B", "OVERALL", "motmetrics", "not_evaluated"}
    assert metrics["SEQ-B"]["MOTA"] == pytest.approx(100.0)
    assert "SEQ-A" in (out / "mot_metrics.csv").read_text()


def test_only_test_sequences_give_no_metrics(sequences, tmp_path):
    test_only = [s for s in sequences if not s["has_gt"]]
    evaluator, _ = make_evaluator(test_only, tmp_path / "out")
    assert run(evaluator, frames_of(test_only)) == {}
    assert (tmp_path / "out" / "tracks" / "SEQ-C.txt").is_file()
    assert json.loads((tmp_path / "out" / "mot_metrics.json").read_text()) == {
        "not_evaluated": ["SEQ-C"]
    }


def test_missing_frames_are_misses(sequences, tmp_path):
    evaluator, _ = make_evaluator(sequences, tmp_path / "out")
    pairs = [p for p in frames_of(sequences) if p[0]["sequence"] != "SEQ-A"]
    results = run(evaluator, pairs)  # SEQ-A never tracked: no file, every box a miss
    assert results["MOT"]["FN"] == 3 * FRAMES["SEQ-A"]


def test_frames_out_of_order_or_sequence_revisited_are_refused(sequences, tmp_path):
    evaluator, _ = make_evaluator(sequences, tmp_path / "out")
    pairs = frames_of(sequences)
    evaluator.process([pairs[1][0]], [pairs[1][1]])
    with pytest.raises(RuntimeError, match="SEQ-A: frame 1 came after frame 2"):
        evaluator.process([pairs[0][0]], [pairs[0][1]])
    evaluator.reset()
    seq_b = next(p for p in pairs if p[0]["sequence"] == "SEQ-B")
    for record, output in (pairs[0], seq_b):
        evaluator.process([record], [output])
    with pytest.raises(RuntimeError, match="SEQ-A: frames came again after another sequence"):
        evaluator.process([pairs[1][0]], [pairs[1][1]])


def test_overwrite_false_keeps_existing_results(sequences, tmp_path):
    out = tmp_path / "out"
    kept = out / "tracks" / "SEQ-A.txt"
    kept.parent.mkdir(parents=True)
    kept.write_text("")
    (out / "detections").mkdir()
    np.savez(out / "detections" / "SEQ-A.npz", **EMPTY_INFERENCE)
    evaluator, frame_rates = make_evaluator(sequences, out, overwrite=False)
    results = run(evaluator, frames_of(sequences))
    assert kept.read_text() == "" and frame_rates == [11, 12]
    assert results["MOT"]["FN"] == 3 * FRAMES["SEQ-A"]


def test_several_processes_rank0_tracks_the_gathered_frames_in_order(
    sequences, tmp_path, monkeypatch
):
    pairs = frames_of(sequences)
    single, _ = make_evaluator(sequences, tmp_path / "single")
    expected = run(single, pairs)

    monkeypatch.setattr(comm, "get_world_size", lambda: 2)
    rank0, _ = make_evaluator(sequences, tmp_path / "multi")
    rank1, _ = make_evaluator(sequences, tmp_path / "multi")
    for evaluator, chunk in ((rank0, pairs[:7]), (rank1, pairs[7:])):  # InferenceSampler chunks
        for record, output in chunk:
            evaluator.process([record], [output])
    assert not (tmp_path / "multi" / "tracks").exists()  # nothing tracked before gathering

    monkeypatch.setattr(comm, "gather", lambda data, dst=0: [rank1._held, data])
    monkeypatch.setattr(comm, "is_main_process", lambda: False)
    assert rank1.evaluate() == {}
    monkeypatch.setattr(comm, "is_main_process", lambda: True)
    assert rank0.evaluate() == expected
    for seq in sequences:
        name = f"{seq['name']}.txt"
        assert (tmp_path / "multi" / "tracks" / name).read_text() == (
            tmp_path / "single" / "tracks" / name
        ).read_text()
