"""Training and inference: Trainer, the dataset evaluation, hooks, atomic checkpoints and the CPU
multi-process launcher, the pretraining stage."""

from .checkpoint import AtomicCheckpointer
from .defaults import build_config
from .hooks import WeightingCurveHook
from .inference import evaluate_datasets
from .launch import launch_cpu
from .pretrain import with_pretrained_weights
from .trainer import Trainer

__all__ = [
    "AtomicCheckpointer",
    "Trainer",
    "WeightingCurveHook",
    "build_config",
    "evaluate_datasets",
    "launch_cpu",
    "with_pretrained_weights",
]
