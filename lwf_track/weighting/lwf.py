"""LWF: the paper's learned weighting factors, a bias-free MLP from task losses to weights."""

from typing import Dict, Optional, Sequence

import torch
from torch import Tensor, nn

from detectron2.config import configurable

from .base import LossWeighting
from .build import LOSS_WEIGHTING_REGISTRY
from .task_losses import stack_losses, weighted_terms

CONSTRAINTS = ("log_barrier", "sum", "none")


class _ReviveReLU(torch.autograd.Function):
    """ReLU whose dead zone still passes gradients that would revive the unit.

    The forward pass is exactly ReLU. Backward is ReLU's, except that where z <= 0 a gradient
    asking z to grow (a negative one) passes through. So the log barrier's push-up (L_i - 1/w_i,
    about -1/EPS on a dead weight) brings a weight back after an optimiser step overshoots below 0,
    while a loss that only pushes weights down (CONSTRAINT none) meets ReLU's zero gradient and
    collapses as in the literal paper.
    """

    @staticmethod
    def forward(ctx, z: Tensor) -> Tensor:
        ctx.save_for_backward(z)
        return z.clamp(min=0)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        (z,) = ctx.saved_tensors
        return torch.where((z > 0) | (grad < 0), grad, torch.zeros_like(grad))


@LOSS_WEIGHTING_REGISTRY.register()
class LWF(LossWeighting):
    """(alpha, beta, gamma) = ReLU(MLP(L_cls, L_reg, L_reid)) + EPS, the MLP without biases.

    F -> FC(3,C) -> sigmoid -> N x [FC(C,C) -> sigmoid] -> FC(C,3) -> ReLU, so the parameter count
    is 6C + N*C^2 as in the paper's Tables IV and V. The MLP reads the *detached* losses, so the
    network is trained only through the weighted terms w_i * L_i.

    Minimising sum_i w_i L_i over the MLP alone drives every weight to 0, so ``constraint`` says
    what keeps the weights meaningful:

    * ``log_barrier`` adds ``loss_lwf_barrier = -sum_i log w_i``. The optimum of w_i L_i - log w_i
      is w_i = 1/L_i: every weighted loss tends to 1, whatever the raw scale of its task, so each
      task contributes equally (the larger L_reg is, the smaller beta, as in the paper's Fig. 3).
      The value can be negative; only its gradient matters.
    * ``sum`` rescales the weights to sum to 3 before use. Note that this alone still favours the
      task with the smallest loss (the optimum puts all weight on it).
    * ``none`` is the literal paper and collapses to w_i = EPS.
    """

    @configurable
    def __init__(
        self,
        *,
        hidden_dim: int = 32,
        num_hidden_layers: int = 1,
        constraint: str = "log_barrier",
        eps: float = 1e-3,
    ):
        super().__init__()
        if constraint not in CONSTRAINTS:
            raise ValueError(f"LWF constraint must be one of {CONSTRAINTS}, got {constraint!r}")
        if hidden_dim < 1 or num_hidden_layers < 0 or eps <= 0:
            raise ValueError("LWF needs HIDDEN_DIM >= 1, NUM_HIDDEN_LAYERS >= 0 and EPS > 0")
        self.constraint = constraint
        self.eps = eps
        layers = [nn.Linear(3, hidden_dim, bias=False), nn.Sigmoid()]
        for _ in range(num_hidden_layers):
            layers += [nn.Linear(hidden_dim, hidden_dim, bias=False), nn.Sigmoid()]
        layers.append(nn.Linear(hidden_dim, 3, bias=False))
        self.mlp = nn.Sequential(*layers)
        self._init_output_layer()
        # alpha, beta, gamma of the last forward (for logging; 1 before the first one).
        self.register_buffer("last_weights", torch.ones(3))

    def _init_output_layer(self) -> None:
        """Start at alpha = beta = gamma = 1 (exactly at unit losses, about 1 at any losses).

        Sigmoid outputs h lie in (0, 1), so a constant positive FC(C,3) starts every output equal
        and well inside ReLU's live region (a zero-mean random init would start some weights dead);
        the constant (1 - EPS) / sum(h(1, 1, 1)) scales them to 1 after the epsilon. The rows part
        as soon as the task gradients differ; the hidden layers keep PyTorch's random init, which
        breaks the symmetry between hidden units.
        """
        last = self.mlp[-1]
        with torch.no_grad():
            hidden = self.mlp[:-1](torch.ones(3))
            last.weight.fill_((1.0 - self.eps) / float(hidden.sum()))

    @classmethod
    def from_config(cls, cfg):
        lwf = cfg.MODEL.LOSS_WEIGHTING.LWF
        return {
            "hidden_dim": lwf.HIDDEN_DIM,
            "num_hidden_layers": lwf.NUM_HIDDEN_LAYERS,
            "constraint": lwf.CONSTRAINT,
            "eps": lwf.EPS,
        }

    def forward(
        self,
        raw_losses: Dict[str, Tensor],
        shared_parameters: Optional[Sequence[nn.Parameter]] = None,
    ) -> Dict[str, Tensor]:
        features = stack_losses(raw_losses).detach().to(self.last_weights.dtype)
        weights = _ReviveReLU.apply(self.mlp(features)) + self.eps
        if self.constraint == "sum":
            weights = 3.0 * weights / weights.sum()
        terms = weighted_terms(weights, raw_losses)
        if self.constraint == "log_barrier":
            terms["loss_lwf_barrier"] = -torch.log(weights).sum()
        self.last_weights.copy_(weights.detach())
        return terms

    def current_weights(self) -> Tensor:
        return self.last_weights.clone()
