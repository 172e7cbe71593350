"""What the model needs to know before it is built: nID (the identity classifier's size) and
whether a local MODEL.WEIGHTS exists.

Both are settled when the model is built (``LWFTracker.from_config``), not when the config is set
up, so setting up a config reads no checkpoint and no dataset.
"""

import os
import zipfile

from ..utils.checkpoint_file import load_checkpoint_file


def check_weights_path(weights: str) -> None:
    """A clear error for a local MODEL.WEIGHTS that does not exist (URLs are fetched later)."""
    if weights and "://" not in weights and not os.path.exists(weights):
        raise FileNotFoundError(f"MODEL.WEIGHTS: checkpoint file not found: {weights}")


def resolve_num_identities(cfg) -> int:
    """nID: ``MODEL.REID.NUM_IDENTITIES`` when set (> 0), else the identity classifier's size in
    the checkpoint of MODEL.WEIGHTS (so a trained model runs without its training data), else the
    identities of ``DATASETS.TRAIN`` but DATASETS.MOT.DETECTION_ONLY. Reads, never changes, ``cfg``.
    """
    if cfg.MODEL.REID.NUM_IDENTITIES > 0:
        return cfg.MODEL.REID.NUM_IDENTITIES
    num_ids = num_identities_in_checkpoint(cfg.MODEL.WEIGHTS)
    if num_ids is not None:
        return num_ids
    from detectron2.data import DatasetCatalog

    from ..data.datasets import get_num_identities, identity_sets

    with_identities = identity_sets(cfg.DATASETS.TRAIN, cfg.DATASETS.MOT.DETECTION_ONLY)
    unknown = [name for name in with_identities if name not in DatasetCatalog]
    if unknown:
        raise ValueError(
            f"MODEL.REID.NUM_IDENTITIES is 0 and cannot be counted: DATASETS.TRAIN {unknown} is "
            "not registered (its folder under $LWF_DATASETS is missing?); give the training data, "
            "MODEL.WEIGHTS of a trained model, or set MODEL.REID.NUM_IDENTITIES"
        )
    return get_num_identities(with_identities)


def num_identities_in_checkpoint(weights: str):
    """Rows of ``id_classifier.fc.weight`` in a local ``.pth``; None when there is none."""
    if not weights or "://" in weights or not os.path.isfile(weights):
        return None
    if not weights.endswith(".pth"):
        return None
    # mmap: only the classifier's shape is needed, not the whole checkpoint read into memory (torch
    # maps only zip-format files; older ones and truncated ones are read plainly, the latter fail
    # with a CheckpointError naming the file). map_location: a checkpoint saved on a GPU is read
    # on a machine without one.
    mmap = zipfile.is_zipfile(weights)
    state = load_checkpoint_file(weights, map_location="cpu", weights_only=True, mmap=mmap)
    classifier = state.get("model", state).get("id_classifier.fc.weight")
    return None if classifier is None else int(classifier.shape[0])
