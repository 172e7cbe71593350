"""Per-task metrics: detection AP through COCOEvaluator, Re-ID TPR@FAR, and both in the MOT
evaluator's report (on a tiny hand-made set)."""

import contextlib
import io

import numpy as np
import pytest
import torch
from detectron2.structures import Boxes, Instances
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from lwf_track.evaluation.detection import DetectionScorer
from lwf_track.evaluation.ground_truth import load_sequence_truth
from lwf_track.evaluation.reid import (
    ReIDScorer,
    match_to_truth,
    pair_similarities,
    tpr_at_far,
)

# (frame, id, x, y, w, h, flag, class, visibility): two people on frames 1..4, and on every frame
# a static person (class 7) and a flag-0 pedestrian, both ignore regions; a car (class 3) is not gt.
GT = [
    (f, pid, 20.0 * pid + 5 * f, 30.0, 20.0, 50.0, 1, 1, 1.0) for f in range(1, 5) for pid in (1, 2)
] + [(f, 9, 200.0, 40.0, 20.0, 50.0, 0, 7, 1.0) for f in range(1, 5)]
GT += [(f, 10, 250.0, 40.0, 20.0, 50.0, 0, 1, 1.0) for f in range(1, 5)]
GT += [(f, 11, 100.0, 120.0, 60.0, 30.0, 0, 3, 1.0) for f in range(1, 5)]


@pytest.fixture
def sequence(tmp_path):
    """One sequence of 4 frames evaluated on frames 2..4 (as a validation half would be)."""
    seq_dir = tmp_path / "SEQ-A"
    (seq_dir / "gt").mkdir(parents=True)
    lines = (",".join(f"{v:g}" for v in row) for row in GT)
    (seq_dir / "gt" / "gt.txt").write_text("\n".join(lines) + "\n")
    return {
        "name": "SEQ-A",
        "dir": str(seq_dir),
        "frame_rate": 10,
        "width": 320,
        "height": 240,
        "first_frame": 2,
        "last_frame": 4,
        "has_gt": True,
    }


def instances(boxes_xywh, scores) -> Instances:
    boxes = np.asarray(boxes_xywh, dtype=np.float32).reshape(-1, 4)
    xyxy = np.column_stack([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]])
    return Instances(
        (240, 320),
        pred_boxes=Boxes(torch.as_tensor(xyxy)),
        scores=torch.as_tensor(np.asarray(scores, dtype=np.float32)),
        pred_classes=torch.zeros(len(boxes), dtype=torch.int64),
    )


def score(sequence, out, detections_of_frame) -> dict:
    truths = {"SEQ-A": load_sequence_truth(sequence)}
    scorer = DetectionScorer([sequence], truths, str(out), "toy_val")
    for frame in range(2, 5):
        scorer.add("SEQ-A", frame, detections_of_frame(frame, truths["SEQ-A"][frame]))
    with contextlib.redirect_stdout(io.StringIO()):
        return scorer.evaluate()


def test_ground_truth_keeps_the_split_and_marks_ignore_regions(sequence):
    truth = load_sequence_truth(sequence)
    assert sorted(truth) == [2, 3, 4]  # the evaluated frames only
    assert truth[2].ids.tolist() == [1, 2]
    assert truth[2].ignore.tolist() == [[200, 40, 20, 50], [250, 40, 20, 50]]  # not the car


def test_a_perfect_detector_has_ap_100_and_a_shifted_one_less(sequence, tmp_path):
    perfect = score(sequence, tmp_path / "a", lambda f, t: instances(t.boxes, [0.9, 0.8]))
    assert perfect == {"AP": pytest.approx(100.0), "AP50": pytest.approx(100.0), "AP75": 100.0}

    def shifted(frame, truth):  # IoU 0.6 with its person: a hit at 0.5, a miss at 0.75
        return instances(truth.boxes + [0, 0, 0, 0] + [5, 0, 0, 0], [0.9, 0.8])

    worse = score(sequence, tmp_path / "b", shifted)
    assert worse["AP50"] == pytest.approx(100.0)
    assert worse["AP75"] == pytest.approx(0.0)
    assert 0 < worse["AP"] < 100


def test_detections_on_ignore_regions_are_not_false_positives(sequence, tmp_path):
    def with_extra(frame, truth):  # the people, plus high-scoring boxes on the ignore regions
        boxes = np.vstack([truth.ignore, truth.boxes])
        return instances(boxes, [0.99, 0.98, 0.9, 0.8])

    assert score(sequence, tmp_path / "a", with_extra)["AP"] == pytest.approx(100.0)

    def on_the_car(frame, truth):  # a box on the car (not gt) outscores the people: an FP
        return instances(np.vstack([[[100, 120, 60, 30]], truth.boxes]), [0.99, 0.9, 0.8])

    assert score(sequence, tmp_path / "b", on_the_car)["AP"] < 100


def test_the_written_files_rescore_with_pycocotools(sequence, tmp_path):
    def noisy(frame, truth):
        return instances(truth.boxes + [[3, 0, 0, 0], [0, 9, 0, 0]], [0.9, 0.6])

    expected = score(sequence, tmp_path, noisy)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(tmp_path / "toy_val_coco_format.json"))
        detections = gt.loadRes(str(tmp_path / "coco_instances_results.json"))
        evaluation = COCOeval(gt, detections, "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    assert len(gt.getImgIds()) == 3
    assert 100 * evaluation.stats[0] == pytest.approx(expected["AP"])
    assert 100 * evaluation.stats[1] == pytest.approx(expected["AP50"])


def test_tpr_at_far_on_known_similarities():
    negatives = np.arange(10) / 10.0  # 0.0 .. 0.9; at FAR 0.1 one negative may pass: t = 0.8
    positives = np.array([0.95, 0.85, 0.8, 0.5])
    assert tpr_at_far(positives, negatives, 0.1) == pytest.approx(0.5)  # 0.95, 0.85 > 0.8
    assert tpr_at_far(positives, negatives, 0.01) == pytest.approx(0.25)  # only > 0.9
    assert tpr_at_far(positives, np.zeros(0), 0.1) is None


def test_pairs_are_drawn_within_a_sequence_by_identity():
    # identity 1: two unit vectors 60 degrees apart (cos 0.5); identity 2: along y (cos 0 to x)
    embeddings = np.array([[1.0, 0.0], [0.5, np.sqrt(3) / 2], [0.0, 3.0]])
    positives, negatives = pair_similarities(embeddings, np.array([1, 1, 2]))
    assert positives.tolist() == pytest.approx([0.5])
    assert sorted(negatives.tolist()) == pytest.approx([0.0, np.sqrt(3) / 2])

    scorer = ReIDScorer()
    scorer.add("A", embeddings, np.array([1, 1, 2]))
    scorer.add("B", np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1, 2]))  # one negative: -1
    # negatives -1, 0, 0.866: at FAR 0.1 the threshold is the largest (0.866); 0.5 is below it
    assert scorer.evaluate() == {"TPR@FAR=0.1": 0.0, "TPR@FAR=0.01": 0.0}
    # B again (replaced): now one positive, ~0.995 > 0.866; A's 0.5 stays below
    scorer.add("B", np.array([[1.0, 0.0], [1.0, 0.1]]), np.array([1, 1]))
    assert scorer.evaluate()["TPR@FAR=0.1"] == pytest.approx(50.0)


def test_long_sequences_are_thinned_deterministically():
    rng = np.random.default_rng(0)
    embeddings, ids = rng.normal(size=(50, 4)), rng.integers(0, 5, 50)
    first = pair_similarities(embeddings, ids, max_count=10)
    second = pair_similarities(embeddings, ids, max_count=10)
    assert len(first[0]) + len(first[1]) == 45  # 10 embeddings, 45 pairs
    np.testing.assert_array_equal(first[1], second[1])


def test_matching_is_one_to_one_at_iou_half():
    truth = np.array([[0, 0, 10, 10], [100, 0, 10, 10]], dtype=float)  # XYWH
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [100, 0, 104, 10]], dtype=float)  # XYXY
    detections, people = match_to_truth(boxes, truth)
    # both of the first two overlap person 0; one is taken. The third has IoU 0.4 with person 1.
    assert people.tolist() == [0] and detections.tolist() == [0]


def test_detections_without_an_embedding_give_no_reid_pair():
    """A NaN row (no Re-ID work below MODEL.REID.MIN_SCORE_TEST) is left out of TPR@FAR, even
    when its detection matches a gt box; the detection still counts for AP."""
    from types import SimpleNamespace

    from lwf_track.evaluation.evaluator import _SequenceInference

    truth = SimpleNamespace(
        boxes=np.array([[0, 0, 10, 20], [50, 0, 10, 20], [100, 0, 10, 20]], dtype=float),
        ids=np.array([7, 8, 9]),
    )
    detections = Instances((200, 200))
    detections.pred_boxes = Boxes(
        torch.tensor([[0, 0, 10, 20], [50, 0, 60, 20], [100, 0, 110, 20]])
    )
    detections.scores = torch.tensor([0.9, 0.2, 0.8])
    detections.pred_classes = torch.zeros(3, dtype=torch.int64)
    detections.pred_embeddings = torch.tensor([[1.0, 0.0], [float("nan")] * 2, [0.0, 1.0]])
    inference = _SequenceInference()
    inference.add(1, detections, truth)
    arrays = inference.arrays()
    assert arrays["reid_ids"].tolist() == [7, 9]
    np.testing.assert_array_equal(arrays["reid_embeddings"], [[1.0, 0.0], [0.0, 1.0]])
    assert len(arrays["scores"]) == 3
