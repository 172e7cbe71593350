"""The weighting factors' history of one run, in the small form a result file keeps."""

import math
from pathlib import Path

from lwf_track.utils.weight_curves import read_weight_history

# Result-file name of each factor -> its key in the training log.
FACTORS = {"alpha": "weight/cls", "beta": "weight/reg", "gamma": "weight/reid"}
HISTORY_POINTS = 100  # at most this many (iteration, value) points per factor in a result file


def read_factors(training_log: Path) -> dict:
    """{factor: [(iteration, value), ...]} from the training log ({} if it has none)."""
    if not training_log.exists():
        return {}
    history = read_weight_history(str(training_log))
    return {name: history[key] for name, key in FACTORS.items() if history.get(key)}


def summarize(history: dict) -> dict:
    """First, last, min and max of each factor (the whole history, before down-sampling)."""
    summary = {}
    for name, points in history.items():
        values = [value for _, value in points]
        summary[name] = {
            "first": values[0],
            "last": values[-1],
            "min": min(values),
            "max": max(values),
        }
    return summary


def downsample(history: dict, max_points: int = HISTORY_POINTS) -> dict:
    """Every k-th point of each factor plus the last one, k chosen so at most ``max_points``
    remain: a curve redrawn from it keeps its shape and ends where training ended."""
    sampled = {}
    for name, points in history.items():
        stride = max(1, math.ceil((len(points) - 1) / (max_points - 1)))
        sampled[name] = [list(point) for point in [*points[:-1][::stride], points[-1]]]
    return sampled


def as_log_history(saved: dict) -> dict:
    """A result file's history under the training log's keys (what the plotting helper draws)."""
    return {FACTORS[name]: [tuple(p) for p in points] for name, points in saved.items()}
