"""Registry and builder of the loss-weighting modules."""

from detectron2.utils.registry import Registry

from .base import LossWeighting

LOSS_WEIGHTING_REGISTRY = Registry("LOSS_WEIGHTING")
LOSS_WEIGHTING_REGISTRY.__doc__ = """
Registry for loss-weighting modules, which turn the raw task losses (L_cls, L_reg, L_reid) into the
dict of weighted ``loss_*`` terms the trainer sums (plus any regulariser under its own key).

A registered class derives from :class:`LossWeighting` and is called with a config (it reads its
own section of ``MODEL.LOSS_WEIGHTING``).
"""


def build_loss_weighting(cfg) -> LossWeighting:
    """Build the module named by ``cfg.MODEL.LOSS_WEIGHTING.NAME``."""
    name = cfg.MODEL.LOSS_WEIGHTING.NAME
    if name not in LOSS_WEIGHTING_REGISTRY:
        registered = sorted(key for key, _ in LOSS_WEIGHTING_REGISTRY)
        raise KeyError(
            f"MODEL.LOSS_WEIGHTING.NAME={name!r} is not registered; choose one of {registered}"
        )
    return LOSS_WEIGHTING_REGISTRY.get(name)(cfg)
