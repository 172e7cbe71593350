"""tools/association_bound.py: IDF1 as tracked, with perfect appearance, and its bound."""

import numpy as np
import pytest
import torch

from detectron2.modeling import build_model
from detectron2.structures import Boxes, Instances

from lwf_track.engine.defaults import build_config
from lwf_track.evaluation.ground_truth import FrameTruth
from tools.association_bound import first_frames, scores, with_perfect_appearance

from e2e_helpers import CONFIG, TINY, make_synthetic_root, run_command

NAN = float("nan")


def detections(boxes, scores_, embeddings):
    instances = Instances((200, 300))
    instances.pred_boxes = Boxes(torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4))
    instances.scores = torch.tensor(scores_, dtype=torch.float32)
    instances.pred_classes = torch.zeros(len(scores_), dtype=torch.int64)
    instances.pred_embeddings = torch.tensor(embeddings, dtype=torch.float32)
    return instances


def truth(boxes_xywh, ids):
    return FrameTruth(
        np.array(boxes_xywh, dtype=float).reshape(-1, 4), np.array(ids), np.zeros((0, 4))
    )


def test_perfect_appearance_gives_each_person_their_own_vector_and_keeps_the_input():
    """On a person: their one-hot; elsewhere: a random unit vector; no embedding: still none."""
    frame = detections(
        [[10, 10, 30, 60], [100, 20, 130, 90], [200, 100, 220, 150], [11, 11, 31, 61]],
        [0.9, 0.8, 0.7, 0.2],
        [[0.6, 0.8], [0.8, 0.6], [1.0, 0.0], [NAN, NAN]],
    )
    original = frame.pred_embeddings.clone()
    truths = {"SEQ": {1: truth([[10, 10, 20, 50], [100, 20, 30, 70]], [7, 3])}}
    replaced = with_perfect_appearance({"SEQ": (30, [(1, frame)])}, truths)
    ((frame_id, copy),) = replaced["SEQ"][1]
    embeddings = copy.pred_embeddings.numpy()
    assert frame_id == 1 and embeddings.shape == (4, 3)  # two people + one column for strangers
    assert embeddings[0].tolist() == [0.0, 1.0, 0.0]  # id 7: the second of (3, 7)
    assert embeddings[1].tolist() == [1.0, 0.0, 0.0]  # id 3
    assert np.isclose(np.linalg.norm(embeddings[2]), 1.0) and np.count_nonzero(embeddings[2]) == 3
    assert np.isnan(embeddings[3]).all()
    assert torch.equal(frame.pred_embeddings.nan_to_num(), original.nan_to_num())
    assert torch.equal(copy.pred_boxes.tensor, frame.pred_boxes.tensor)


def test_the_bound_is_the_idf1_of_the_written_boxes_with_the_right_identities():
    """A person found in all 4 frames, a static false positive in all 4, nobody missed: TP 4,
    FP 4, FN 0, so the bound is 8 / 12; with one track each, IDF1 as tracked is the same."""
    cfg = build_config(CONFIG, ["TRACKER.MIN_BOX_AREA", "0.0"])
    frames = [
        (
            t,
            detections(
                [[10 + 5 * t, 10, 30 + 5 * t, 60], [200, 100, 220, 150]],
                [0.9, 0.9],
                [[1.0, 0.0], [0.0, 1.0]],
            ),
        )
        for t in range(1, 5)
    ]
    truths = {"SEQ": {t: truth([[10 + 5 * t, 10, 20, 50]], [1]) for t in range(1, 5)}}
    result = scores(cfg, {"SEQ": (30, frames)}, truths)
    assert result["bound"] == pytest.approx(100 * 8 / 12)
    assert result["IDF1"] == pytest.approx(100 * 8 / 12)
    assert result["MOTA"] == pytest.approx(0.0)  # 4 FP against 4 gt boxes


def test_calibration_frames_are_the_first_of_each_sequence():
    kept = {name: (7, [(f, None) for f in range(1, 11)]) for name in ("A", "B")}
    chosen = first_frames(kept, 6)
    assert {name: [f for f, _ in frames] for name, (_, frames) in chosen.items()} == {
        "A": [1, 2, 3],
        "B": [1, 2, 3],
    }
    assert first_frames(kept, 0) == kept


@pytest.mark.slow
def test_the_command_writes_one_row_per_model_and_their_mean(tmp_path):
    root = make_synthetic_root(tmp_path / "data", frames=6)
    model = [*TINY, "MODEL.REID.NUM_IDENTITIES", "4", "MODEL.RETINANET.PRIOR_PROB", "0.9"]
    paths = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        paths.append(tmp_path / f"random{seed}.pth")
        torch.save({"model": build_model(build_config(CONFIG, model)).state_dict()}, paths[-1])
    table = tmp_path / "bound.md"
    args = [
        *("-m", "tools.association_bound", "--config-file", CONFIG, "--dataset", "mot_synth_val"),
        *("--weights", *paths, "--cache-dir", tmp_path / "cache", "--markdown", table),
        *model,
        *("TRACKER.CALIBRATION.DATASET", "mot_synth_train", "TRACKER.CALIBRATION.MAX_FRAMES", "0"),
    ]
    run_command(args, root)
    rows = [line for line in table.read_text().splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [str(p) for p in paths]
    assert "| **mean** (2 models) |" in table.read_text()
    for row in rows:
        threshold, mota, idf1, perfect, bound = (float(c) for c in row.split("|")[2:7])
        assert threshold in (0.3, 0.4, 0.5, 0.6, 0.7)
        assert mota < 0 and 0 < idf1 <= 100 and 0 < perfect <= 100 and 0 < bound <= 100
    assert len(list((tmp_path / "cache").iterdir())) == 4  # two sets per model
