"""Training batches whose images share one size.

With scale jitter (several ``INPUT.MIN_SIZE_TRAIN`` values) each image gets its own size, and a
batch is padded to its largest image: with 5 scales and batch 4 about a quarter of the compute
goes to padding. Batching images of one size together removes that padding while every image keeps
its own random scale.
"""

from torch.utils import data

from detectron2.data.common import AspectRatioGroupedDataset


class SizeGroupedBatches(data.IterableDataset):
    """Lists of ``batch_size`` mapped dicts with equal ``image`` height and width (detectron2's
    :class:`AspectRatioGroupedDataset` groups by orientation only). One bucket per size seen,
    each holding fewer than ``batch_size`` dicts, so memory stays bounded."""

    def __init__(self, dataset, batch_size: int):
        self.dataset = dataset
        self.batch_size = batch_size

    def __iter__(self):
        buckets = {}
        for d in self.dataset:
            bucket = buckets.setdefault(tuple(d["image"].shape[-2:]), [])
            bucket.append(d)
            if len(bucket) == self.batch_size:
                yield bucket[:]
                del bucket[:]


def group_by_image_size(loader):
    """The same per-image stream as detectron2's aspect-ratio grouped train ``loader``, batched by
    image size instead."""
    if not isinstance(loader, AspectRatioGroupedDataset):
        raise ValueError(
            "DATALOADER.GROUP_BY_IMAGE_SIZE needs detectron2's aspect-ratio grouped train loader "
            f"(DATALOADER.ASPECT_RATIO_GROUPING True), got {type(loader).__name__}"
        )
    return SizeGroupedBatches(loader.dataset, loader.batch_size)
