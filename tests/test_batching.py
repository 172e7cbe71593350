"""Training batches grouped by image size (DATALOADER.GROUP_BY_IMAGE_SIZE)."""

import itertools

import pytest
import torch

from detectron2.data import build_detection_train_loader

from lwf_track.data.batching import SizeGroupedBatches, group_by_image_size

SIZES = [(288, 384), (360, 480), (432, 576)]


def image_record(index):
    return {"index": index, "image": torch.zeros(3, *SIZES[index % 3]), "width": 480, "height": 360}


def test_batches_hold_one_size_and_lose_no_image():
    stream = [image_record(i) for i in range(36)]
    batches = list(SizeGroupedBatches(stream, batch_size=4))
    assert len(batches) == 9
    for batch in batches:
        assert len(batch) == 4 and len({tuple(d["image"].shape) for d in batch}) == 1
    assert sorted(d["index"] for b in batches for d in b) == list(range(36))


def test_detectron2_loader_regrouped_by_size():
    records = [{"index": i, "width": 480, "height": 360} for i in range(30)]
    loader = build_detection_train_loader(
        dataset=records,
        mapper=lambda r: image_record(r["index"]),
        total_batch_size=4,
        aspect_ratio_grouping=True,
        num_workers=0,
    )
    ungrouped = itertools.islice(loader, 5)  # grouped by orientation only: sizes mix
    assert any(len({tuple(d["image"].shape) for d in batch}) > 1 for batch in ungrouped)
    for batch in itertools.islice(group_by_image_size(loader), 10):
        assert len(batch) == 4 and len({tuple(d["image"].shape) for d in batch}) == 1

    plain = build_detection_train_loader(
        dataset=records, mapper=image_record, total_batch_size=4, aspect_ratio_grouping=False
    )
    with pytest.raises(ValueError, match="ASPECT_RATIO_GROUPING"):
        group_by_image_size(plain)
