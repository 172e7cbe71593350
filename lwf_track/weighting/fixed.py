"""Hand-tuned weighting factors (the paper's HWF baseline, Table I)."""

from typing import Dict, Optional, Sequence

import torch
from torch import Tensor, nn

from detectron2.config import configurable

from .base import LossWeighting
from .build import LOSS_WEIGHTING_REGISTRY
from .task_losses import weighted_terms


@LOSS_WEIGHTING_REGISTRY.register()
class Fixed(LossWeighting):
    """L = alpha*L_cls + beta*L_reg + gamma*L_reid with constant alpha, beta, gamma.

    The weights are a non-persistent buffer: the config, not a checkpoint, is their source of truth
    (fine-tuning a checkpoint with another HWF grid point must use the new weights).
    """

    @configurable
    def __init__(self, *, weights: Sequence[float] = (1.0, 1.0, 1.0)):
        super().__init__()
        if len(weights) != 3 or min(weights) < 0:
            raise ValueError(f"Fixed weights must be 3 non-negative numbers, got {list(weights)}")
        self.register_buffer("weights", torch.tensor(weights, dtype=torch.float32), False)

    @classmethod
    def from_config(cls, cfg):
        return {"weights": list(cfg.MODEL.LOSS_WEIGHTING.FIXED.WEIGHTS)}

    def forward(
        self,
        raw_losses: Dict[str, Tensor],
        shared_parameters: Optional[Sequence[nn.Parameter]] = None,
    ) -> Dict[str, Tensor]:
        return weighted_terms(self.weights, raw_losses)

    def current_weights(self) -> Tensor:
        return self.weights.clone()
