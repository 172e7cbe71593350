"""Dynamic Weight Average (Liu et al., "End-to-End Multi-Task Learning with Attention", 2019)."""

from typing import Dict, Optional, Sequence

import torch
from torch import Tensor, nn

from detectron2.config import configurable

from .base import LossWeighting
from .build import LOSS_WEIGHTING_REGISTRY
from .task_losses import mean_over_ranks, stack_losses, weighted_terms


@LOSS_WEIGHTING_REGISTRY.register()
class DWA(LossWeighting):
    """w_i = K * softmax(r_i / T), r_i = mean L_i of the last window / mean of the window before.

    DWA compares epochs; here an epoch is a window of ``window`` training iterations. A task whose
    loss falls slowly (large r_i) gets a larger weight; until two windows are complete all are 1.
    Nothing is learned: the loss history is in buffers (so it survives resume), updated from the
    rank mean of the losses so that every DDP rank holds the same history.
    """

    @configurable
    def __init__(self, *, window: int = 20, temperature: float = 2.0):
        super().__init__()
        if window < 1 or temperature <= 0:
            raise ValueError(
                f"DWA needs WINDOW >= 1 and TEMPERATURE > 0, got {window}, {temperature}"
            )
        self.window = window
        self.temperature = temperature
        # Iterations seen in the current window, and the sum of their losses.
        self.register_buffer("window_iters", torch.zeros((), dtype=torch.long))
        self.register_buffer("window_sum", torch.zeros(3))
        # Mean losses of the last two complete windows (older first), and how many have completed.
        self.register_buffer("window_means", torch.zeros(2, 3))
        self.register_buffer("num_windows", torch.zeros((), dtype=torch.long))
        # The weights used until the next window completes.
        self.register_buffer("weights", torch.ones(3))

    @classmethod
    def from_config(cls, cfg):
        dwa = cfg.MODEL.LOSS_WEIGHTING.DWA
        return {"window": dwa.WINDOW, "temperature": dwa.TEMPERATURE}

    def forward(
        self,
        raw_losses: Dict[str, Tensor],
        shared_parameters: Optional[Sequence[nn.Parameter]] = None,
    ) -> Dict[str, Tensor]:
        # A copy: autograd saves the weights for backward and _update changes the buffer in place.
        terms = weighted_terms(self.weights.clone(), raw_losses)
        if self.training:
            self._update(mean_over_ranks(stack_losses(raw_losses)))
        return terms

    @torch.no_grad()
    def _update(self, losses: Tensor) -> None:
        self.window_sum += losses
        self.window_iters += 1
        if int(self.window_iters) < self.window:
            return
        self.window_means.copy_(torch.stack([self.window_means[1], self.window_sum / self.window]))
        self.num_windows += 1
        self.window_sum.zero_()
        self.window_iters.zero_()
        if int(self.num_windows) >= 2:
            ratios = self.window_means[1] / self.window_means[0].clamp(min=1e-12)
            self.weights.copy_(3.0 * torch.softmax(ratios / self.temperature, dim=0))

    def current_weights(self) -> Tensor:
        return self.weights.clone()
