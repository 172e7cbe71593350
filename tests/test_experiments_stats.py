"""Seed-paired comparisons: the paired-t interval against a textbook case, verdicts, pairing."""

import pytest

from tools.experiments.stats import (
    BETTER,
    NO_DIFFERENCE,
    WORSE,
    pair_by_seed,
    paired_difference,
)

# Student's sleep data (Cushny & Peebles 1905): extra hours of sleep of 10 patients under two
# drugs. The paired t-test in R's documentation, t.test(extra ~ group, data = sleep, paired =
# TRUE), reports mean difference -1.58 and 95% CI [-2.4598858, -0.7001142] (t = -4.0621, df = 9).
DRUG_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
DRUG_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_paired_t_interval_matches_the_textbook_sleep_example():
    difference = paired_difference(DRUG_1, DRUG_2)
    assert difference.pairs == 10
    assert difference.mean == pytest.approx(-1.58)
    assert difference.low == pytest.approx(-2.4598858, abs=1e-6)
    assert difference.high == pytest.approx(-0.7001142, abs=1e-6)
    assert difference.verdict == WORSE
    assert paired_difference(DRUG_2, DRUG_1).verdict == BETTER


def test_verdicts_need_the_interval_to_exclude_zero():
    seed_luck = [0.0, 8.0, -6.0, 3.0, -4.0]  # large, but shared by both settings of a seed
    baseline = [50 + luck for luck in seed_luck]
    clearly_better = [b + gain for b, gain in zip(baseline, [1.9, 2.1, 2.0, 1.8, 2.2])]
    noise = [b + n for b, n in zip(baseline, [1.0, -1.2, 0.4, -0.5, 0.2])]
    assert paired_difference(clearly_better, baseline).verdict == BETTER
    assert paired_difference(noise, baseline).verdict == NO_DIFFERENCE
    assert paired_difference(baseline, baseline).verdict == NO_DIFFERENCE  # [0, 0] holds 0
    assert paired_difference([1.0], [0.0]) is None  # one pair: no spread, no interval
    with pytest.raises(ValueError, match="differ in length"):
        paired_difference([1.0, 2.0], [1.0])


def test_runs_are_paired_by_seed_not_by_position():
    def runs(values_by_seed):
        return [{"seed": s, "metrics": {"MOTA": v, "AP": None}} for s, v in values_by_seed]

    ours = runs([(3, 13.0), (1, 11.0), (5, 15.0)])
    baseline = runs([(1, 1.0), (2, 2.0), (3, 3.0)])
    assert pair_by_seed(ours, baseline, "MOTA") == ([11.0, 13.0], [1.0, 3.0])
    assert pair_by_seed(ours, baseline, "AP") == ([], [])  # missing values leave seeds out
    assert pair_by_seed(ours, baseline, "HOTA") == ([], [])  # a key older results lack
