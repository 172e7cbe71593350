"""GradNorm (Chen et al., ICML 2018): weights that equalise the tasks' gradient norms."""

from typing import Dict, Optional, Sequence

import torch
from torch import Tensor, nn

from detectron2.config import configurable

from .base import LossWeighting
from .build import LOSS_WEIGHTING_REGISTRY
from .task_losses import mean_over_ranks, stack_losses, weighted_terms


@LOSS_WEIGHTING_REGISTRY.register()
class GradNorm(LossWeighting):
    """Learnable w_i = 3 * softmax(logits)_i, trained by the GradNorm loss only.

    ``loss_gradnorm = sum_i |G_i - mean(G) * r_i^alpha|`` with G_i = w_i * ||d L_i / d W|| on the
    shared parameters W, r_i = (L_i / L_i(0)) / mean_j (L_j / L_j(0)), and the target treated as a
    constant, as in the paper. The gradient norms are detached and the task terms use detached
    weights, so the GradNorm loss moves only the weights and the task losses only the network.
    The softmax keeps the weights positive and summing to 3 (the paper renormalises each step).

    Cost: three extra partial backward passes per iteration, from each task loss through its head
    to the shared layer (``torch.autograd.grad(retain_graph=True)``); the backbone below the shared
    layer is not traversed. L_i(0) is each task's first positive loss (rank mean), kept in a buffer.
    """

    @configurable
    def __init__(self, *, alpha: float = 1.5):
        super().__init__()
        self.alpha = alpha
        self.logits = nn.Parameter(torch.zeros(3))
        self.register_buffer("initial_losses", torch.zeros(3))

    @classmethod
    def from_config(cls, cfg):
        return {"alpha": cfg.MODEL.LOSS_WEIGHTING.GRADNORM.ALPHA}

    def forward(
        self,
        raw_losses: Dict[str, Tensor],
        shared_parameters: Optional[Sequence[nn.Parameter]] = None,
    ) -> Dict[str, Tensor]:
        if shared_parameters is None:
            raise ValueError(
                "GradNorm needs shared_parameters (the last layer shared by all tasks, e.g. the "
                "last FPN output conv's weight) to measure the per-task gradient norms"
            )
        weights = 3.0 * torch.softmax(self.logits, dim=0)
        losses = stack_losses(raw_losses)
        terms = weighted_terms(weights.detach(), raw_losses)
        if self.training:
            mean_losses = mean_over_ranks(losses)
            self.initial_losses.copy_(
                torch.where(self.initial_losses > 0, self.initial_losses, mean_losses)
            )
        grad_norms = torch.stack([self._grad_norm(loss, shared_parameters) for loss in losses])
        norms = weights * grad_norms
        ratios = losses.detach() / self.initial_losses.clamp(min=1e-12)
        ratios = ratios / ratios.mean().clamp(min=1e-12)
        target = norms.detach().mean() * ratios**self.alpha
        terms["loss_gradnorm"] = (norms - target).abs().sum()
        return terms

    @staticmethod
    def _grad_norm(loss: Tensor, parameters: Sequence[nn.Parameter]) -> Tensor:
        """||d loss / d parameters|| (detached); 0 when the loss does not depend on them."""
        if not loss.requires_grad:
            return loss.new_zeros(())
        grads = torch.autograd.grad(loss, list(parameters), retain_graph=True, allow_unused=True)
        squares = [g.pow(2).sum() for g in grads if g is not None]
        return torch.stack(squares).sum().sqrt() if squares else loss.new_zeros(())

    def current_weights(self) -> Tensor:
        return 3.0 * torch.softmax(self.logits.detach(), dim=0)
