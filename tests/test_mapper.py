"""MOTDatasetMapper: boxes and identities stay aligned through flip, resize, clipping and filtering;
config wiring; clear errors for unreadable images; one real MOT17 frame."""

import warnings

import cv2
import numpy as np
import pytest
import torch
from detectron2.config import get_cfg
from detectron2.data import transforms as T

from lwf_track.config import add_lwf_config
from lwf_track.data.mapper import MOTDatasetMapper
from lwf_track.data.mot import load_sequence
from lwf_track.utils.errors import MOTFormatError
from test_mot_parsers import write_sequence

WIDTH, HEIGHT = 64, 48
# frame 1: (id, x, y, w, h, visibility); each box painted with its own grey level
BOXES = [(3, 4, 6, 10, 20, 1.0), (8, 30, 10, 12, 30, 0.4), (5, 50, 2, 8, 16, 0.9)]


def painted_frame(frame: int) -> bytes:
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    for index, (_, x, y, w, h, _) in enumerate(BOXES):
        image[y : y + h, x : x + w] = 80 * (index + 1)
    return cv2.imencode(".png", image)[1].tobytes()


@pytest.fixture
def records(tmp_path):
    rows = [(1, i, x, y, w, h, 1, 1, v) for i, x, y, w, h, v in BOXES]
    seq = write_sequence(tmp_path / "S", 1, gt_rows=rows, image_bytes=painted_frame)
    return load_sequence(seq)[0]


def train_mapper(augmentations, **kwargs) -> MOTDatasetMapper:
    return MOTDatasetMapper(True, augmentations=augmentations, **kwargs)


def boxes_by_id(instances) -> dict:
    return {
        int(i): [round(v, 3) for v in b.tolist()]
        for i, b in zip(instances.gt_ids, instances.gt_boxes.tensor)
    }


def test_identity_mapping_keeps_boxes_ids_and_record_keys(records):
    output = train_mapper([])(records[0])
    for key in ("image", "height", "width", "sequence", "frame", "image_id", "file_name"):
        assert key in output
    assert "annotations" not in output
    assert output["image"].shape == (3, HEIGHT, WIDTH) and output["image"].dtype == torch.uint8
    instances = output["instances"]
    assert instances.gt_ids.dtype == torch.int64
    assert instances.gt_classes.tolist() == [0, 0, 0]
    # dense ids by increasing local id: 3 -> 0, 5 -> 1, 8 -> 2
    assert boxes_by_id(instances) == {0: [4, 6, 14, 26], 2: [30, 10, 42, 40], 1: [50, 2, 58, 18]}
    assert "instances" not in records[0] and len(records[0]["annotations"]) == 3  # not mutated


def test_flip_mirrors_x_and_keeps_ids_with_their_boxes(records):
    output = train_mapper([T.RandomFlip(prob=1.0, horizontal=True)])(records[0])
    flipped = boxes_by_id(output["instances"])
    assert flipped == {0: [50, 6, 60, 26], 2: [22, 10, 34, 40], 1: [6, 2, 14, 18]}
    image = output["image"][0].numpy()
    for track_id, grey in ((0, 80), (2, 160), (1, 240)):
        x0, y0, x1, y1 = map(int, flipped[track_id])
        assert (image[y0:y1, x0:x1] == grey).all()  # the pixels moved with the box


def test_resize_scales_boxes_and_keeps_ids(records):
    output = train_mapper([T.ResizeShortestEdge(96, 1000)])(records[0])
    assert output["image"].shape == (3, 96, 128)
    assert output["height"] == HEIGHT and output["width"] == WIDTH  # original size for outputs
    assert boxes_by_id(output["instances"]) == {
        0: [8, 12, 28, 52],
        2: [60, 20, 84, 80],
        1: [100, 4, 116, 36],
    }


def test_boxes_are_clipped_and_empty_ones_dropped_with_their_ids(records):
    record = dict(records[0])
    record["annotations"] = [dict(a) for a in record["annotations"]]
    by_id = {a["track_id"]: a for a in record["annotations"]}
    by_id[0]["bbox"] = [-6, 6, 10, 20]  # half outside: clipped
    by_id[1]["bbox"] = [70, 2, 8, 16]  # wholly outside: dropped
    instances = train_mapper([])(record)["instances"]
    assert boxes_by_id(instances) == {0: [0, 6, 4, 26], 2: [30, 10, 42, 40]}


def test_visibility_threshold_and_identity_offset(records):
    record = dict(records[0], dataset_name="second_set")
    mapper = train_mapper([], min_visibility=0.5, identity_offsets={"second_set": 10})
    assert sorted(mapper(record)["instances"].gt_ids.tolist()) == [
        10,
        11,
    ]  # id 2 (vis 0.4) left out


def test_a_detection_only_set_keeps_its_boxes_without_identities(records):
    mapper = train_mapper([], identity_offsets={"real": 0}, detection_only=("synthetic",))
    instances = mapper(dict(records[0], dataset_name="synthetic"))["instances"]
    assert len(instances) == 3 and instances.gt_ids.tolist() == [-1, -1, -1]
    assert sorted(mapper(dict(records[0], dataset_name="real"))["instances"].gt_ids.tolist()) == [
        0,
        1,
        2,
    ]


def test_test_mode_resizes_and_drops_annotations(records):
    output = MOTDatasetMapper(False, augmentations=[T.ResizeShortestEdge(24, 1000)])(records[0])
    assert output["image"].shape == (3, 24, 32)
    assert "instances" not in output and "annotations" not in output
    assert output["sequence"] == "S" and output["frame"] == 1


def small_cfg(brightness: float, contrast: float):
    cfg = get_cfg()
    add_lwf_config(cfg)
    cfg.DATASETS.TRAIN = ("unit_mapper_only_set",)  # one set: no offsets, nothing loaded
    cfg.INPUT.MIN_SIZE_TRAIN, cfg.INPUT.MAX_SIZE_TRAIN = (96,), 1000
    cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MAX_SIZE_TEST = 24, 1000
    cfg.INPUT.BRIGHTNESS, cfg.INPUT.CONTRAST = brightness, contrast
    return cfg


def test_from_config_builds_train_and_test_augmentations(records):
    mapper = MOTDatasetMapper(small_cfg(0.3, 0.0), is_train=True)
    kinds = [type(a).__name__ for a in mapper.augmentations.augs]
    assert kinds == ["ResizeShortestEdge", "RandomFlip", "RandomBrightness"]
    brightness = mapper.augmentations.augs[2]
    assert (brightness.intensity_min, brightness.intensity_max) == pytest.approx((0.7, 1.3))
    output = mapper(records[0])
    assert output["image"].shape == (3, 96, 128) and len(output["instances"]) == 3
    test_mapper = MOTDatasetMapper(small_cfg(0.3, 0.3), is_train=False)
    assert [type(a).__name__ for a in test_mapper.augmentations.augs] == ["ResizeShortestEdge"]


def test_visibility_threshold_comes_from_the_config_and_only_the_mapper_applies_it(records):
    """DATASETS.MOT.VISIBILITY_THRESH is applied in one place: the training mapper (records keep
    every box, with its visibility)."""
    assert sorted(a["visibility"] for a in records[0]["annotations"]) == [0.4, 0.9, 1.0]
    cfg = small_cfg(0.0, 0.0)
    cfg.DATASETS.MOT.VISIBILITY_THRESH = 0.5
    cfg.INPUT.MIN_SIZE_TRAIN, cfg.INPUT.RANDOM_FLIP = (HEIGHT,), "none"
    instances = MOTDatasetMapper(cfg, is_train=True)(records[0])["instances"]
    assert sorted(instances.gt_ids.tolist()) == [0, 1]  # local ids 3 and 5; 8 (vis 0.4) left out


def test_unreadable_images_name_the_file(records, tmp_path):
    missing = dict(records[0], file_name=str(tmp_path / "gone.jpg"))
    with pytest.raises(FileNotFoundError, match="gone.jpg"):
        train_mapper([])(missing)
    corrupt_path = tmp_path / "corrupt.jpg"
    corrupt_path.write_bytes(b"not an image at all")
    with pytest.raises(MOTFormatError, match="corrupt.jpg: expected a readable image"):
        train_mapper([])(dict(records[0], file_name=str(corrupt_path)))


def test_real_mot17_frame_keeps_every_box(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        records, _ = load_sequence(shared_data / "MOT17-mini" / "train" / "MOT17-09-FRCNN")
    mapper = train_mapper([T.ResizeShortestEdge(108, 192), T.RandomFlip(prob=1.0)])
    output = mapper(records[0])
    assert output["image"].shape == (3, 108, 192)
    instances = output["instances"]
    expected = {a["track_id"] for a in records[0]["annotations"]}
    assert len(instances) == len(expected) and set(instances.gt_ids.tolist()) == expected
    assert (instances.gt_boxes.tensor[:, 2] <= 192).all()
