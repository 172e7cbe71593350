"""The three task losses in the paper's order, and the tensor helpers every weighting uses."""

from typing import Dict, Mapping

import torch
from torch import Tensor

from detectron2.utils import comm

# The paper's three objectives, in the order of alpha, beta, gamma.
TASKS = ("cls", "reg", "reid")
# Keys of the raw task losses in the model's loss dict, same order as TASKS.
TASK_LOSS_KEYS = ("loss_cls", "loss_box_reg", "loss_reid")


def check_task_losses(raw_losses: Mapping[str, Tensor]) -> None:
    missing = [key for key in TASK_LOSS_KEYS if key not in raw_losses]
    if missing:
        raise KeyError(f"Loss weighting needs {TASK_LOSS_KEYS}; missing {missing}")


def stack_losses(raw_losses: Mapping[str, Tensor]) -> Tensor:
    """(L_cls, L_reg, L_reid) as one tensor of shape (3,), keeping their autograd graphs."""
    check_task_losses(raw_losses)
    return torch.stack([raw_losses[key].reshape(()) for key in TASK_LOSS_KEYS])


def weighted_terms(weights: Tensor, raw_losses: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """The dict {loss_key: w_i * L_i} the trainer sums."""
    check_task_losses(raw_losses)
    return {key: weights[i] * raw_losses[key] for i, key in enumerate(TASK_LOSS_KEYS)}


def mean_over_ranks(values: Tensor) -> Tensor:
    """Rank mean of a detached tensor, so buffers updated from it stay identical on every rank."""
    values = values.detach().clone()
    world_size = comm.get_world_size()
    if world_size > 1:
        torch.distributed.all_reduce(values)
        values /= world_size
    return values
