"""Model: the LWFTracker meta-architecture (registered in detectron2's META_ARCH_REGISTRY) and
the builder every command uses."""

from .build import build_model
from .head import LWFTrackerHead
from .identities import check_weights_path, resolve_num_identities
from .meta_arch import LWFTracker
from .reid import IdentityClassifier, focal_identity_loss

__all__ = [
    "LWFTracker",
    "LWFTrackerHead",
    "build_model",
    "IdentityClassifier",
    "check_weights_path",
    "focal_identity_loss",
    "resolve_num_identities",
]
