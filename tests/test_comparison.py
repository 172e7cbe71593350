"""lwf_track.evaluation.comparison: block sums and the paired block-bootstrap interval of two
trackers' MOTA and IDF1 difference."""

from dataclasses import astuple

import numpy as np
import pytest

from lwf_track.evaluation.comparison import (
    NO_DIFFERENCE,
    WORSE,
    Difference,
    block_sums,
    paired_difference_ci,
)
from lwf_track.evaluation.mot_metrics import FrameCounts, mota_idf1

PEOPLE = 5


def tracker_counts(miss_probability: float, frames: int = 300, seed: int = 0) -> FrameCounts:
    """A tracker on a sequence with PEOPLE people in every frame that misses each of them with
    ``miss_probability``, never switches and never adds a box."""
    misses = np.random.default_rng(seed).binomial(PEOPLE, miss_probability, frames)
    found = PEOPLE - misses
    zeros = np.zeros(frames, dtype=np.int64)
    return FrameCounts(np.full(frames, PEOPLE), found, misses, zeros, zeros, found)


def test_block_sums_add_consecutive_frames_and_keep_the_rest():
    counts = FrameCounts(*(np.arange(10) + k for k in range(6)))
    blocks = block_sums(counts, 4)
    np.testing.assert_array_equal(blocks.objects, [0 + 1 + 2 + 3, 4 + 5 + 6 + 7, 8 + 9])
    np.testing.assert_array_equal(
        blocks.id_true_positives, [5 + 6 + 7 + 8, 9 + 10 + 11 + 12, 13 + 14]
    )
    assert mota_idf1(blocks) == pytest.approx(mota_idf1(counts))
    with pytest.raises(ValueError, match="block_frames"):
        block_sums(counts, 0)


def test_identical_trackers_differ_by_exactly_zero():
    counts = {"SEQ": tracker_counts(0.1)}
    result = paired_difference_ci(counts, counts, {"SEQ": 10})
    assert result == {"MOTA": Difference(0.0, 0.0, 0.0), "IDF1": Difference(0.0, 0.0, 0.0)}
    assert result["MOTA"].verdict == NO_DIFFERENCE


def test_a_tracker_missing_many_more_people_is_worse_beyond_the_interval():
    ours, theirs = {"SEQ": tracker_counts(0.3, seed=1)}, {"SEQ": tracker_counts(0.05, seed=2)}
    result = paired_difference_ci(ours, theirs, {"SEQ": 10})
    for metric, (difference, low, high) in ((k, astuple(v)) for k, v in result.items()):
        assert result[metric].verdict == WORSE
        index = ("MOTA", "IDF1").index(metric)
        expected = mota_idf1(ours["SEQ"])[index] - mota_idf1(theirs["SEQ"])[index]
        assert difference == pytest.approx(expected)
        assert low <= difference <= high < 0, metric


def test_a_difference_of_one_frame_is_inside_the_interval():
    theirs = tracker_counts(0.2, seed=3)
    misses = theirs.misses.copy()
    misses[100] += 1  # one more person missed in one frame
    found = PEOPLE - misses
    ours = theirs._replace(misses=misses, predictions=found, id_true_positives=found)
    result = paired_difference_ci({"S": ours}, {"S": theirs}, {"S": 10})
    difference, low, high = astuple(result["MOTA"])
    assert result["MOTA"].verdict == result["IDF1"].verdict == NO_DIFFERENCE
    assert difference == pytest.approx(-100 / (300 * PEOPLE))
    assert low < difference < 0 <= high  # resamples without that frame's block differ by 0
    assert result["IDF1"].low < result["IDF1"].mean < 0 <= result["IDF1"].high


def test_sequences_pool_into_one_difference_and_both_sides_must_match():
    a = {"A": tracker_counts(0.1, 50), "B": tracker_counts(0.2, 70, seed=4)}
    b = {"A": tracker_counts(0.1, 50, seed=5), "B": tracker_counts(0.2, 70, seed=6)}
    result = paired_difference_ci(a, b, {"A": 10, "B": 10}, block_seconds=3.0)
    pooled = [FrameCounts(*(np.concatenate(v) for v in zip(*side.values()))) for side in (a, b)]
    assert result["MOTA"].mean == pytest.approx(mota_idf1(pooled[0])[0] - mota_idf1(pooled[1])[0])
    one_block = [{"A": tracker_counts(p, 20)} for p in (0.1, 0.2)]  # 2 s at 10 fps
    interval = paired_difference_ci(*one_block, {"A": 10})["MOTA"]
    assert (interval.low, interval.high) == (-np.inf, np.inf)
    with pytest.raises(ValueError, match="different sequences"):
        paired_difference_ci(a, {"A": b["A"]}, {"A": 10, "B": 10})
    with pytest.raises(ValueError, match="different frames"):
        paired_difference_ci({"A": a["A"]}, {"A": b["B"]}, {"A": 10})
