"""Summaries of runs and seed-paired comparisons between settings.

Every setting of a seed starts from the same network weights and sees the same data order, so the
difference of two settings within a seed cancels the seed's luck; the mean of those differences
gets a paired-t confidence interval, and a verdict only when the interval excludes 0.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

BETTER, WORSE, NO_DIFFERENCE = "better", "worse", "no difference detected"


def mean_std(values: Sequence[float]) -> tuple:
    """Mean and sample standard deviation (0 for a single value)."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std


@dataclass(frozen=True)
class PairedDifference:
    """Mean of the per-pair differences (a - b) and its confidence interval [low, high]."""

    pairs: int
    mean: float
    low: float
    high: float

    @property
    def verdict(self) -> str:
        """For a higher-is-better metric: a side only when the interval excludes 0."""
        if self.low > 0:
            return BETTER
        if self.high < 0:
            return WORSE
        return NO_DIFFERENCE


def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = 0.95):
    """Paired-t interval of mean(a - b): mean +- t_{n-1} * sd / sqrt(n) (scipy.stats.t).

    ``a[i]`` and ``b[i]`` are one pair (one seed). Returns None for fewer than two pairs, where
    the spread, and so the interval, is unknown.
    """
    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length: {len(a)} vs {len(b)}")
    if len(a) < 2:
        return None
    differences = [x - y for x, y in zip(a, b)]
    mean, std = mean_std(differences)
    half_width = (
        stats.t.ppf(0.5 + confidence / 2, len(differences) - 1) * std / math.sqrt(len(differences))
    )
    return PairedDifference(len(differences), mean, mean - half_width, mean + half_width)


def pair_by_seed(runs: Sequence[dict], baseline_runs: Sequence[dict], metric: str) -> tuple:
    """(values, baseline values) of ``metric`` over the seeds both have a number for, in seed
    order (a metric missing from older result files leaves its seed out)."""

    def by_seed(results):
        return {r["seed"]: r["metrics"].get(metric) for r in results}

    ours, theirs = by_seed(runs), by_seed(baseline_runs)
    seeds = sorted(s for s in ours.keys() & theirs.keys() if None not in (ours[s], theirs[s]))
    return [ours[s] for s in seeds], [theirs[s] for s in seeds]


def best_setting(results: dict, metric: str = "MOTA"):
    """The setting with the highest mean ``metric`` over its runs (how Table I picks the best
    HWF)."""
    scored = {s: mean_std([r["metrics"][metric] for r in rs])[0] for s, rs in results.items() if rs}
    if not scored:
        raise ValueError("no finished runs to choose the best setting from")
    return max(scored, key=scored.get)
