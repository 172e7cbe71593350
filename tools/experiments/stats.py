"""Summaries of runs and seed-paired comparisons between settings.

Every setting of a seed starts from the same network weights and sees the same data order, so the
difference of two settings within a seed cancels the seed's luck; the mean of those differences
gets a paired-t confidence interval, and a verdict only when the interval excludes 0. Runs that
share nothing (two recipes with their own seeds and starting models) get Welch's interval instead.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

# the verdict rule is one for every comparison the project reports (seeds or frames)
from lwf_track.evaluation.comparison import BETTER, NO_DIFFERENCE, WORSE, Difference  # noqa: F401


def mean_std(values: Sequence[float]) -> tuple:
    """Mean and sample standard deviation (0 for a single value)."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std


@dataclass(frozen=True)
class PairedDifference(Difference):
    """Mean of the per-pair differences (a - b) over ``pairs`` pairs."""

    pairs: int = 0


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
    return PairedDifference(mean, mean - half_width, mean + half_width, pairs=len(differences))


def welch_difference(a: Sequence[float], b: Sequence[float], confidence: float = 0.95):
    """Welch's interval of mean(a) - mean(b) for runs that share no seed or starting point (two
    recipes): unequal variances, Welch-Satterthwaite degrees of freedom (scipy.stats.t). None
    when either side has fewer than two runs."""
    if len(a) < 2 or len(b) < 2:
        return None
    (mean_a, std_a), (mean_b, std_b) = mean_std(a), mean_std(b)
    var_a, var_b = std_a**2 / len(a), std_b**2 / len(b)
    mean = mean_a - mean_b
    if var_a + var_b == 0:
        return Difference(mean, mean, mean)
    dof = (var_a + var_b) ** 2 / (var_a**2 / (len(a) - 1) + var_b**2 / (len(b) - 1))
    half_width = stats.t.ppf(0.5 + confidence / 2, dof) * math.sqrt(var_a + var_b)
    return Difference(mean, mean - half_width, mean + half_width)


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
