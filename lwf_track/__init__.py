"""lwf_track: one-stage multiple-object tracking on Detectron2 with learned loss weighting factors.

Importing the package registers its datasets, meta-architecture and loss-weighting modules.
"""

from . import data, modeling, weighting  # noqa: F401  (registration side effects)
from .config import add_lwf_config

__all__ = ["add_lwf_config"]
