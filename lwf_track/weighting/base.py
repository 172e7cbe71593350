"""The interface every loss-weighting method implements."""

from abc import ABC, abstractmethod
from typing import Dict, Mapping, Optional, Sequence

from torch import Tensor, nn


class LossWeighting(nn.Module, ABC):
    """Turns the raw task losses (L_cls, L_reg, L_reid) into the terms the trainer sums.

    A method keeps its state (learned parameters, loss history) as parameters and buffers, so it
    is trained, checkpointed and resumed with the model that owns it.
    """

    @abstractmethod
    def forward(
        self,
        raw_losses: Mapping[str, Tensor],
        shared_parameters: Optional[Sequence[nn.Parameter]] = None,
    ) -> Dict[str, Tensor]:
        """``{key: w_i * L_i}`` for every key of ``TASK_LOSS_KEYS``, plus any loss of the method's
        own (a regulariser of its weights) under its own ``loss_*`` key.

        ``raw_losses`` holds the unweighted task losses (other keys are ignored);
        ``shared_parameters`` are the last parameters all tasks share, for methods that compare
        the tasks' gradients there (GradNorm); the others ignore them.
        """

    @abstractmethod
    def current_weights(self) -> Tensor:
        """(alpha, beta, gamma) as last used (or as the next forward will use them), detached,
        shape (3,): what training logs and plots."""
