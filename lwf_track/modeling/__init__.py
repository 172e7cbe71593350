"""Model: the LWFTracker meta-architecture (registered in detectron2's META_ARCH_REGISTRY)."""

from .head import LWFTrackerHead
from .meta_arch import LWFTracker
from .reid import IdentityClassifier, focal_identity_loss

__all__ = ["LWFTracker", "LWFTrackerHead", "IdentityClassifier", "focal_identity_loss"]
