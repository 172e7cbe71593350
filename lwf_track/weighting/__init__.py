"""Loss weighting: how the three task losses L_cls, L_reg, L_reid become the trained total.

Importing this package registers every method in ``LOSS_WEIGHTING_REGISTRY``.
"""

from .base import TASK_LOSS_KEYS, TASKS
from .build import LOSS_WEIGHTING_REGISTRY, build_loss_weighting
from .dwa import DWA
from .fixed import Fixed
from .gradnorm import GradNorm
from .lwf import LWF
from .uncertainty import Uncertainty

__all__ = [
    "TASKS",
    "TASK_LOSS_KEYS",
    "LOSS_WEIGHTING_REGISTRY",
    "build_loss_weighting",
    "DWA",
    "Fixed",
    "GradNorm",
    "LWF",
    "Uncertainty",
]
