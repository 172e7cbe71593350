"""MOTDatasetMapper: detectron2's DatasetMapper for MOT records, keeping identities (``gt_ids``)."""

import os
from collections.abc import Iterable

import numpy as np
import torch

from detectron2.config import configurable
from detectron2.data import detection_utils as utils
from detectron2.data import transforms as T

from ..utils.errors import MOTFormatError
from . import datasets as mot_datasets


def photometric_augmentations(brightness: float, contrast: float) -> list[T.Augmentation]:
    """Brightness and contrast factors drawn from [1-x, 1+x]; x = 0 leaves that one out."""
    augmentations = []
    if brightness > 0:
        augmentations.append(T.RandomBrightness(1 - brightness, 1 + brightness))
    if contrast > 0:
        augmentations.append(T.RandomContrast(1 - contrast, 1 + contrast))
    return augmentations


def read_frame(file_name: str, image_format: str) -> np.ndarray:
    """detectron2's ``read_image`` with errors that name the file."""
    if not os.path.isfile(file_name):
        raise FileNotFoundError(f"image not found: {file_name}")
    try:
        return utils.read_image(file_name, format=image_format)
    except (OSError, ValueError, SyntaxError) as error:
        raise MOTFormatError(file_name, f"expected a readable image, got {error}") from error


class MOTDatasetMapper:
    """Record -> model input: image tensor (CHW), the record's keys, and in training ``instances``
    with ``gt_boxes``, ``gt_classes`` and ``gt_ids`` (int64, the global identity of each box).

    Training: resize, flip and photometric jitter; boxes are clipped to the image and empty ones
    dropped together with their ids; boxes below ``min_visibility`` are left out (the one place
    visibility is filtered: records keep every box). Test: resize only, annotations dropped.
    """

    @configurable
    def __init__(
        self,
        is_train: bool,
        *,
        augmentations: list[T.Augmentation],
        image_format: str = "BGR",
        min_visibility: float = 0.0,
        identity_offsets: dict[str, int] | None = None,
        detection_only: Iterable[str] = (),
    ):
        """
        Args:
            augmentations: applied in order to the image and the boxes.
            min_visibility: training boxes need visibility >= this.
            identity_offsets: ``dataset_name -> shift`` of track ids when several sets are
                trained together (see :func:`lwf_track.data.datasets.identity_offsets`).
            detection_only: names of sets whose boxes get no identity (``gt_ids`` -1).
        """
        self.is_train = is_train
        self.augmentations = T.AugmentationList(augmentations)
        self.image_format = image_format
        self.min_visibility = min_visibility
        self.identity_offsets = dict(identity_offsets or {})
        self.detection_only = frozenset(detection_only)

    @classmethod
    def from_config(cls, cfg, is_train: bool = True) -> dict:
        augmentations = utils.build_augmentation(cfg, is_train)
        detection_only, offsets = (), {}
        if is_train:
            augmentations += photometric_augmentations(cfg.INPUT.BRIGHTNESS, cfg.INPUT.CONTRAST)
            detection_only = cfg.DATASETS.MOT.DETECTION_ONLY
            with_identities = mot_datasets.identity_sets(cfg.DATASETS.TRAIN, detection_only)
            offsets = mot_datasets.identity_offsets(with_identities)
        return {
            "is_train": is_train,
            "augmentations": augmentations,
            "image_format": cfg.INPUT.FORMAT,
            "min_visibility": cfg.DATASETS.MOT.VISIBILITY_THRESH,
            "identity_offsets": offsets,
            "detection_only": detection_only,
        }

    def __call__(self, dataset_dict: dict) -> dict:
        record = dict(dataset_dict)  # annotations are copied before being transformed
        annotations = record.pop("annotations", [])
        image = read_frame(record["file_name"], self.image_format)
        utils.check_image_size(record, image)
        aug_input = T.AugInput(image)
        transforms = self.augmentations(aug_input)
        image = aug_input.image
        record["image"] = torch.as_tensor(np.ascontiguousarray(image.transpose(2, 0, 1)))
        if self.is_train:
            name = record.get("dataset_name")
            offset = None if name in self.detection_only else self.identity_offsets.get(name, 0)
            record["instances"] = self._instances(
                annotations, transforms, image_size=image.shape[:2], offset=offset
            )
        return record

    def _instances(self, annotations, transforms, image_size, offset: int | None):
        """``offset`` None: the boxes get no identity (a detection-only set)."""
        kept = [
            utils.transform_instance_annotations(dict(a), transforms, image_size)
            for a in annotations
            if a.get("visibility", 1.0) >= self.min_visibility
        ]
        instances = utils.annotations_to_instances(kept, image_size)
        track_ids = [a.get("track_id", -1) for a in kept]
        instances.gt_ids = torch.tensor(
            [-1 if offset is None or t < 0 else t + offset for t in track_ids], dtype=torch.int64
        )
        return utils.filter_empty_instances(instances)
