"""Loss weighting: how the three task losses L_cls, L_reg, L_reid become the trained total.

Every method derives from :class:`LossWeighting`; importing this package registers each in
``LOSS_WEIGHTING_REGISTRY``.
"""

from .base import LossWeighting
from .build import LOSS_WEIGHTING_REGISTRY, build_loss_weighting
from .dwa import DWA
from .fixed import Fixed
from .gradnorm import GradNorm
from .lwf import LWF
from .task_losses import TASK_LOSS_KEYS, TASKS
from .uncertainty import Uncertainty

__all__ = [
    "TASKS",
    "TASK_LOSS_KEYS",
    "LossWeighting",
    "LOSS_WEIGHTING_REGISTRY",
    "build_loss_weighting",
    "DWA",
    "Fixed",
    "GradNorm",
    "LWF",
    "Uncertainty",
]
