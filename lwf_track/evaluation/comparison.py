"""Whether two trackers' MOTA and IDF1 on the same frames differ beyond chance.

A deterministic tracker on one sequence gives one number: there are no seeds to repeat. The frames
are the samples instead. MOTA and IDF1 are ratios of per-frame counts
(:class:`~.mot_metrics.FrameCounts`), so their paired difference can be recomputed on resamples of
the frames, both trackers taking the same ones. Errors persist (a switched identity stays wrong,
a missed person stays missed for a while), so single frames are not independent: the resampled
units are blocks of consecutive frames (a block bootstrap), ``BLOCK_SECONDS`` long, never spanning
two sequences. The interval is scipy's bias-corrected and accelerated (BCa) bootstrap interval.
IDF1's identity assignment stays the one made on the full sequence, so the interval leaves out how
that assignment would change on other frames.
"""

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .mot_metrics import FrameCounts, mota_idf1

BETTER, WORSE, NO_DIFFERENCE = "better", "worse", "no difference detected"
BLOCK_SECONDS = 3.0  # a few seconds: about how long one association or detection error lasts
METRICS = ("MOTA", "IDF1")


@dataclass(frozen=True)
class Difference:
    """A difference (a - b) and its confidence interval [low, high]."""

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


def block_sums(counts: FrameCounts, block_frames: int) -> FrameCounts:
    """The counts summed over blocks of ``block_frames`` consecutive frames (the last block
    takes what is left)."""
    if block_frames < 1:
        raise ValueError(f"block_frames must be >= 1, got {block_frames}")
    starts = np.arange(0, len(counts.objects), block_frames)
    return FrameCounts(*(np.add.reduceat(values, starts) for values in counts))


def paired_difference_ci(
    counts_a: Mapping,
    counts_b: Mapping,
    frame_rates: Mapping,
    block_seconds: float = BLOCK_SECONDS,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
) -> dict:
    """``{"MOTA": Difference(a - b, low, high), "IDF1": ...}`` in points, for two trackers'
    counts of the same sequences and frames (``{sequence: FrameCounts}``, e.g. from
    :func:`~.mot_metrics.frame_counts`); ``frame_rates``: ``{sequence: frames per second}``.
    Where every resample gives the same difference, the interval is that difference; with fewer
    than two blocks there is nothing to resample and the interval is (-inf, inf)."""
    if counts_a.keys() != counts_b.keys():
        raise ValueError(f"different sequences: {sorted(counts_a)} vs {sorted(counts_b)}")
    blocks_a, blocks_b = [], []
    for name in counts_a:
        if len(counts_a[name].objects) != len(counts_b[name].objects):
            raise ValueError(f"{name}: the two trackers were scored on different frames")
        block_frames = max(1, round(block_seconds * float(frame_rates[name])))
        blocks_a.append(block_sums(counts_a[name], block_frames))
        blocks_b.append(block_sums(counts_b[name], block_frames))
    a = FrameCounts(*(np.concatenate(values) for values in zip(*blocks_a)))
    b = FrameCounts(*(np.concatenate(values) for values in zip(*blocks_b)))
    result = {}
    for index, metric in enumerate(METRICS):

        def difference(blocks, axis=-1):  # ``axis``: scipy then passes all resamples at once
            taken = [FrameCounts(*(values[blocks] for values in side)) for side in (a, b)]
            return mota_idf1(taken[0])[index] - mota_idf1(taken[1])[index]

        observed = float(difference(np.arange(len(a.objects))))
        if len(a.objects) < 2:
            result[metric] = Difference(observed, -np.inf, np.inf)
            continue
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            # identical blocks give every resample one value: no BCa interval, said below
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)
            interval = stats.bootstrap(
                (np.arange(len(a.objects)),),
                difference,
                confidence_level=confidence,
                n_resamples=n_resamples,
                rng=np.random.default_rng(seed),
            ).confidence_interval
        low, high = float(interval.low), float(interval.high)
        if not (np.isfinite(low) and np.isfinite(high)):
            low = high = observed
        result[metric] = Difference(observed, low, high)
    return result
