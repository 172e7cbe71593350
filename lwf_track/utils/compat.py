"""Run-time shims that let third-party packages run on today's numpy, kept in this one place.

motmetrics 1.4.0 (the newest release) calls ``np.asfarray``, which numpy 2 removed; every IoU
distance goes through it. Import motmetrics through :func:`import_motmetrics`, never directly,
so the shim is in place first. site-packages stay untouched.
"""

import numpy as np


def _asfarray(a, dtype=np.float64):
    """numpy 1.x ``asfarray``: ``a`` as an array of ``dtype`` if that is inexact, else float64."""
    if not np.issubdtype(dtype, np.inexact):
        dtype = np.float64
    return np.asarray(a, dtype=dtype)


def import_motmetrics():
    """The motmetrics module, with ``np.asfarray`` restored where numpy lacks it (idempotent)."""
    if not hasattr(np, "asfarray"):
        np.asfarray = _asfarray
    import motmetrics

    return motmetrics
