"""Real pedestrians (PETS09-S2L1 of ../shared/data): the CPU recipe trains on them, and their public
det.txt is tracked instead of the network (track_net.py --public-detections)."""

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from detectron2.data.detection_utils import build_augmentation

from e2e_helpers import make_synthetic_root, run_command

from lwf_track.data.mapper import MOTDatasetMapper
from lwf_track.data.mot import load_sequence
from lwf_track.data.mot_format import read_results, read_seqinfo, write_seqinfo
from lwf_track.engine import build_config
from tools.scale_sequence import scale_sequence

FRAMES = 12  # the first frames of PETS09-S2L1


# MOT15's download holds PETS09-S2L1 at 768x576; the shared copy is it at 480x360 (boxes x0.625)
ORIGINAL_SCALE = 1.6


def cut_sequence(
    source: Path, target: Path, frames: int, images: bool = True, scale: float = 1.0
) -> None:
    """A MOTChallenge copy of the first ``frames`` frames (images linked, text files cut);
    ``images=False`` leaves empty image files that no decoder reads; ``scale`` != 1: that copy
    at ``scale`` times its frame size (tools.scale_sequence), cut first beside the split folder
    (outside it, so that it is not one of the split's sequences)."""
    if scale != 1.0:
        cut = target.parent.with_name(f"{target.parent.name}_unscaled") / target.name
        cut_sequence(source, cut, frames, images)
        scale_sequence(cut, target, scale)
        return
    (target / "img1").mkdir(parents=True)
    (target / "gt").mkdir()
    (target / "det").mkdir()
    for frame in range(1, frames + 1):
        name = f"{frame:06d}.jpg"
        if images:
            (target / "img1" / name).symlink_to(source / "img1" / name)
        else:
            (target / "img1" / name).touch()
    info = read_seqinfo(source / "seqinfo.ini")
    write_seqinfo(target / "seqinfo.ini", dataclasses.replace(info, seq_length=frames))
    for kind in ("gt/gt.txt", "det/det.txt"):
        lines = (source / kind).read_text().splitlines()
        kept = [line for line in lines if int(float(line.split(",")[0])) <= frames]
        (target / kind).write_text("\n".join(kept) + "\n")


PUBLIC_ARGS = [
    "track_net.py",
    "--config-file",
    "configs/lwf_pets09_cpu_scratch.yaml",
    "--eval-only",
]


def public_detection_run(shared_data, tmp_path, images: bool, extra_opts=(), scale: float = 1.0):
    """``track_net.py --eval-only --public-detections`` on the first frames of PETS09-S2L1 (at
    ``scale`` times the shared copy's size): returns its command's opts, data root, results
    folder and OVERALL metrics, after checking that every frame has tracks."""
    root = tmp_path / "data"
    cut_sequence(
        shared_data / "MOT15" / "train" / "PETS09-S2L1",
        root / "PETSMINI" / "train" / "PETS09-S2L1",
        FRAMES,
        images=images,
        scale=scale,
    )
    out = tmp_path / "out"
    opts = [
        "DATASETS.TEST", "('petsmini_train',)", "TRACKER.CALIBRATION.DATASET", "",
        "MODEL.WEIGHTS", "", "DATALOADER.NUM_WORKERS", "0", "OUTPUT_DIR", out, *extra_opts,
    ]  # fmt: skip
    run_command([*PUBLIC_ARGS, "--public-detections", *opts], root)
    inference = out / "public_detections" / "inference"
    tracks = (inference / "tracks" / "PETS09-S2L1.txt").read_text().splitlines()
    assert {int(line.split(",")[0]) for line in tracks} == set(range(1, FRAMES + 1))
    overall = json.loads((inference / "mot_metrics.json").read_text())["OVERALL"]
    return opts, root, out, overall


@pytest.mark.slow
def test_public_detections_are_tracked_and_scored_without_weights(shared_data, tmp_path):
    # det.txt holds every box: tracking it must not decode a frame (the images are empty files)
    opts, root, out, overall = public_detection_run(shared_data, tmp_path, images=False)
    # SORT's Faster R-CNN detections find most of these people: a real, imperfect score
    assert 30 < overall["MOTA"] < 100 and overall["AP50"] > 50
    assert overall["TPR@FAR=0.1"] is None  # det.txt has no embeddings
    assert not (out / "inference").exists()  # never mixed with the network's results

    without_flag = run_command([*PUBLIC_ARGS, *opts], root, check=False)
    assert without_flag.returncode != 0 and "MODEL.WEIGHTS is empty" in without_flag.stderr


@pytest.mark.slow
def test_the_768x576_original_is_tracked_and_scored_as_the_shared_copy(shared_data, tmp_path):
    """MOT15's download (768x576): its public boxes are tracked and scored in its own pixels,
    with the same errors as the 480x360 copy's, since every cost (IoU, motion noise relative to
    the box height) and every metric is free of scale."""
    *_, native = public_detection_run(shared_data, tmp_path / "native", images=True)
    _, _, out, original = public_detection_run(
        shared_data, tmp_path / "original", images=True, scale=ORIGINAL_SCALE
    )
    for key in ("MOTA", "IDF1", "HOTA", "FP", "FN", "IDS", "AP"):
        assert original[key] == pytest.approx(native[key], abs=1e-6), key
    rows = read_results(out / "public_detections" / "inference" / "tracks" / "PETS09-S2L1.txt")
    assert (rows[:, 2] + rows[:, 4]).max() > 480  # in the original's pixels, not the copy's


def test_pets09_mappers_resize_the_768x576_original_to_the_recipes_input(shared_data, tmp_path):
    """The recipe's model works at 480x360: its test mapper gives it the original's frames at
    360 rows and its training mapper at one of the jittered sizes, boxes scaled alike, while the
    records keep 768x576, the size detectron2 maps the output boxes back to."""
    source = shared_data / "MOT15" / "train" / "PETS09-S2L1"
    cut_sequence(source, tmp_path / "original", 1, scale=ORIGINAL_SCALE)
    cut_sequence(source, tmp_path / "native", 1)
    (record,), _ = load_sequence(tmp_path / "original")
    (native,), _ = load_sequence(tmp_path / "native")
    assert (record["width"], record["height"]) == (768, 576)
    cfg = build_config("configs/lwf_pets09_cpu.yaml")

    assert tuple(MOTDatasetMapper(cfg, is_train=False)(record)["image"].shape) == (3, 360, 480)
    train_mapper = MOTDatasetMapper(True, augmentations=build_augmentation(cfg, is_train=True))
    mapped = train_mapper(record)
    rows = mapped["image"].shape[1]
    assert rows in cfg.INPUT.MIN_SIZE_TRAIN
    heights = sorted(
        mapped["instances"].gt_boxes.tensor[:, 3] - mapped["instances"].gt_boxes.tensor[:, 1]
    )
    expected = sorted(a["bbox"][3] * rows / 360 for a in native["annotations"])
    assert torch.tensor(heights) == pytest.approx(torch.tensor(expected), rel=1e-3)


@pytest.mark.slow
def test_public_detections_with_the_colour_cue_read_the_frames(shared_data, tmp_path):
    """TRACKER.COLOR_WEIGHT 1: public detections have no embeddings, so the tracker compares
    the colours of their boxes, which the evaluation path reads from each frame."""
    color = ["TRACKER.COLOR_WEIGHT", "1.0"]
    _, _, _, overall = public_detection_run(shared_data, tmp_path, images=True, extra_opts=color)
    assert 30 < overall["MOTA"] < 100


def training_root(shared_data, tmp_path) -> Path:
    """A data root with MOT15 (its training half is what the PETS09 configs train on) and a
    12-frame cut of PETS09-S2L1 as PETSMINI, to calibrate and evaluate on quickly."""
    root = tmp_path / "data"
    root.mkdir()
    (root / "MOT15").symlink_to(shared_data / "MOT15")
    cut_sequence(
        shared_data / "MOT15" / "train" / "PETS09-S2L1",
        root / "PETSMINI" / "train" / "PETS09-S2L1",
        FRAMES,
    )
    return root


# Two iterations at a small input size; calibrated on the cut's first half, evaluated on its second
SHORT_REAL_RUN = [
    "SOLVER.MAX_ITER", "2", "SOLVER.IMS_PER_BATCH", "2", "DATALOADER.NUM_WORKERS", "0",
    "INPUT.MIN_SIZE_TRAIN", "(180,)", "INPUT.MAX_SIZE_TRAIN", "240",
    "INPUT.MIN_SIZE_TEST", "180", "INPUT.MAX_SIZE_TEST", "240",
    "DATASETS.TEST", "('petsmini_val_half',)",
    "TRACKER.CALIBRATION.DATASET", "petsmini_train_half",
]  # fmt: skip


def check_training_and_evaluation(out: Path) -> dict:
    """The run trained its two iterations, calibrated on the cut's training half and tracked only
    the val half's frames; returns the calibration record."""
    assert (out / "model_final.pth").is_file()
    log = [json.loads(line) for line in (out / "metrics.json").read_text().splitlines()]
    assert max(r["iteration"] for r in log if "weight/reid" in r) == 1  # MAX_ITER 2: 0, 1
    calibration = json.loads((out / "inference" / "calibration.json").read_text())
    assert calibration["settings"]["dataset"] == "petsmini_train_half"
    overall = json.loads((out / "inference" / "mot_metrics.json").read_text())["OVERALL"]
    assert {"MOTA", "IDF1", "HOTA", "AP", "TPR@FAR=0.1"} <= set(overall)
    tracks = out / "inference" / "tracks" / "PETS09-S2L1.txt"
    frames = {int(line.split(",")[0]) for line in tracks.read_text().splitlines()}
    assert frames <= set(range(FRAMES // 2 + 1, FRAMES + 1))  # the val half's own frame numbers
    return calibration


@pytest.mark.slow
def test_pets09_scratch_config_trains_and_evaluates_on_the_real_sequence(shared_data, tmp_path):
    """Two iterations of configs/lwf_pets09_cpu_scratch.yaml on mot15_train_half (the real 397
    frames, registered by convention) from random weights, then its end-of-training evaluation:
    calibration on training frames and tracking, here on a cut of the sequence to stay small."""
    root = training_root(shared_data, tmp_path)
    out = tmp_path / "out"
    args = ["train_net.py", "--config-file", "configs/lwf_pets09_cpu_scratch.yaml"]
    run_command([*args, *SHORT_REAL_RUN, "OUTPUT_DIR", out], root)
    check_training_and_evaluation(out)
    assert not (out / "pretrain").exists()


@pytest.mark.slow
def test_pets09_recipe_trains_its_synthetic_stage_then_the_real_frames(shared_data, tmp_path):
    """configs/lwf_pets09_cpu.yaml in one command: its synthetic stage (two iterations on tiny
    generated scenes), then two iterations on mot15_train_half plus the pets_mix scenes from the
    stage's model, then the evaluation with the colour cue and the 0.05 threshold grid."""
    root = training_root(shared_data, tmp_path)
    make_synthetic_root(root)
    (root / "synthetic" / "pets_mix").symlink_to(root / "synthetic" / "train")
    out = tmp_path / "out"
    stage = ["SOLVER.MAX_ITER", "2", "SOLVER.IMS_PER_BATCH", "2", "DATALOADER.NUM_WORKERS", "0"]
    stage += ["INPUT.MIN_SIZE_TRAIN", "(96,)", "INPUT.MAX_SIZE_TRAIN", "160"]
    args = ["train_net.py", "--config-file", "configs/lwf_pets09_cpu.yaml", *SHORT_REAL_RUN]
    run_command([*args, "PRETRAIN.OPTS", repr(stage), "OUTPUT_DIR", out], root)

    stage_log = (out / "pretrain" / "metrics.json").read_text().splitlines()
    assert max(json.loads(line)["iteration"] for line in stage_log) == 1
    assert (
        f"pretraining: 2 iterations of ('mot_synth_train',) into {out}"
        in (out / "log.txt").read_text()
    )
    calibration = check_training_and_evaluation(out)
    assert calibration["settings"]["candidates"] == [
        0.3,
        0.35,
        0.4,
        0.45,
        0.5,
        0.55,
        0.6,
        0.65,
        0.7,
    ]
