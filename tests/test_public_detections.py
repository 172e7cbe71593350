"""Tracking the public det.txt of a set instead of the network (track_net.py --public-detections)."""

import json
from pathlib import Path

import pytest

from e2e_helpers import run_command

FRAMES = 12  # the first frames of PETS09-S2L1


def cut_sequence(source: Path, target: Path, frames: int) -> None:
    """A MOTChallenge copy of the first ``frames`` frames (images linked, text files cut)."""
    (target / "img1").mkdir(parents=True)
    (target / "gt").mkdir()
    (target / "det").mkdir()
    for frame in range(1, frames + 1):
        name = f"{frame:06d}.jpg"
        (target / "img1" / name).symlink_to(source / "img1" / name)
    info = (source / "seqinfo.ini").read_text().replace("seqLength=795", f"seqLength={frames}")
    (target / "seqinfo.ini").write_text(info)
    for kind in ("gt/gt.txt", "det/det.txt"):
        lines = (source / kind).read_text().splitlines()
        kept = [line for line in lines if int(float(line.split(",")[0])) <= frames]
        (target / kind).write_text("\n".join(kept) + "\n")


@pytest.mark.slow
def test_public_detections_are_tracked_and_scored_without_weights(shared_data, tmp_path):
    root = tmp_path / "data"
    cut_sequence(
        shared_data / "MOT15" / "train" / "PETS09-S2L1",
        root / "PETSMINI" / "train" / "PETS09-S2L1",
        FRAMES,
    )
    out = tmp_path / "out"
    args = ["track_net.py", "--config-file", "configs/lwf_pets09_cpu.yaml", "--eval-only"]
    opts = [
        "DATASETS.TEST", "('petsmini_train',)", "TRACKER.CALIBRATION.DATASET", "",
        "MODEL.WEIGHTS", "", "DATALOADER.NUM_WORKERS", "0", "OUTPUT_DIR", out,
    ]  # fmt: skip
    run_command([*args, "--public-detections", *opts], root)

    inference = out / "public_detections" / "inference"
    tracks = (inference / "tracks" / "PETS09-S2L1.txt").read_text().splitlines()
    assert {int(line.split(",")[0]) for line in tracks} == set(range(1, FRAMES + 1))
    overall = json.loads((inference / "mot_metrics.json").read_text())["OVERALL"]
    # SORT's Faster R-CNN detections find most of these people: a real, imperfect score
    assert 30 < overall["MOTA"] < 100 and overall["AP50"] > 50
    assert overall["TPR@FAR=0.1"] is None  # det.txt has no embeddings
    assert not (out / "inference").exists()  # never mixed with the network's results

    without_flag = run_command([*args, *opts], root, check=False)
    assert without_flag.returncode != 0 and "MODEL.WEIGHTS is empty" in without_flag.stderr
