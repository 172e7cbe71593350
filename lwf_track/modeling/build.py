"""The one model builder of the project's commands and benchmarks."""

import torch

from detectron2.modeling import build_model as build_detectron2_model


def build_model(cfg) -> torch.nn.Module:
    """detectron2's ``build_model`` (any ``MODEL.META_ARCHITECTURE``), its parameters then in the
    memory format of ``MODEL.CHANNELS_LAST``. Convolutions follow their weights' format, so the
    whole network runs channels-last without touching the inputs; checkpoints load either way
    (``load_state_dict`` copies values into the existing tensors)."""
    model = build_detectron2_model(cfg)
    if cfg.MODEL.CHANNELS_LAST:
        model.to(memory_format=torch.channels_last)
    return model
