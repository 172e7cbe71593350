"""Training and inference: Trainer, the dataset evaluation, hooks, atomic checkpoints and the CPU
multi-process launcher."""

from .checkpoint import AtomicCheckpointer
from .defaults import build_config
from .hooks import WeightingCurveHook, plot_weight_curves
from .inference import evaluate_datasets
from .launch import launch_cpu
from .trainer import Trainer, check_weights_path, resolve_num_identities

__all__ = [
    "AtomicCheckpointer",
    "Trainer",
    "WeightingCurveHook",
    "build_config",
    "check_weights_path",
    "evaluate_datasets",
    "launch_cpu",
    "plot_weight_curves",
    "resolve_num_identities",
]
