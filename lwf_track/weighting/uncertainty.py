"""Uncertainty weighting (Kendall et al., CVPR 2018), the JDE / FairMOT baseline."""

from typing import Dict, Optional, Sequence

import torch
from torch import Tensor, nn

from detectron2.config import configurable

from .base import LossWeighting
from .build import LOSS_WEIGHTING_REGISTRY
from .task_losses import weighted_terms


@LOSS_WEIGHTING_REGISTRY.register()
class Uncertainty(LossWeighting):
    """L = 0.5 * sum_i (exp(-s_i) L_i + s_i) with learnable log-variances s_i.

    The task terms are 0.5*exp(-s_i)*L_i and the regulariser 0.5*sum(s_i) is returned as
    ``loss_uncertainty_reg``; the optimum is s_i = log L_i, i.e. the weight 0.5 / L_i.
    """

    @configurable
    def __init__(self, *, init_log_vars: Sequence[float] = (0.0, 0.0, 0.0)):
        super().__init__()
        if len(init_log_vars) != 3:
            raise ValueError(f"Uncertainty needs 3 initial log-variances, got {init_log_vars}")
        self.log_vars = nn.Parameter(torch.tensor(init_log_vars, dtype=torch.float32))

    @classmethod
    def from_config(cls, cfg):
        return {"init_log_vars": list(cfg.MODEL.LOSS_WEIGHTING.UNCERTAINTY.INIT_LOG_VARS)}

    def forward(
        self,
        raw_losses: Dict[str, Tensor],
        shared_parameters: Optional[Sequence[nn.Parameter]] = None,
    ) -> Dict[str, Tensor]:
        terms = weighted_terms(0.5 * torch.exp(-self.log_vars), raw_losses)
        terms["loss_uncertainty_reg"] = 0.5 * self.log_vars.sum()
        return terms

    def current_weights(self) -> Tensor:
        """0.5 * exp(-s_i): the parameters are the state, so this is also right before a forward."""
        return 0.5 * torch.exp(-self.log_vars.detach())
