"""Intervals and paired tests (`vlmbench.stats`): Wilson, clustered Wilson, bootstrap, McNemar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vlmbench.stats import (
    Z95,
    bootstrap_ci,
    bootstrap_ratios,
    design_effect,
    mcnemar_exact,
    paired_bootstrap,
    paired_proportion_interval,
    wilson_interval,
    wilson_interval_clustered,
)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),  # the upper end is z^2 / (n + z^2)
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),  # the lower end is n / (n + z^2)
        (1, 2, 0.0945, 0.9055),
        (1, 1, 0.2065, 1.0),
    ],
)
def test_known_values(successes: float, n: int, low: float, high: float) -> None:
    """Published Wilson score intervals (4 decimals)."""
    assert wilson_interval(successes, n) == pytest.approx((low, high), abs=5e-5)


def test_the_ends_of_all_or_nothing_have_closed_forms() -> None:
    z2 = Z95 * Z95
    assert wilson_interval(0, 25) == pytest.approx((0.0, z2 / (25 + z2)))
    assert wilson_interval(25, 25) == pytest.approx((25 / (25 + z2), 1.0))


def test_no_samples_is_the_empty_interval() -> None:
    assert wilson_interval(0, 0) == (0.0, 0.0)


def test_z95_is_the_two_sided_95_percent_quantile() -> None:
    assert abs(Z95 - 1.959964) < 1e-6


@pytest.mark.parametrize("n", [1, 7, 40, 1000])
def test_the_interval_contains_the_estimate_and_stays_in_0_1(n: int) -> None:
    for successes in range(n + 1):
        low, high = wilson_interval(successes, n)
        assert 0.0 <= low <= successes / n <= high <= 1.0


def test_it_narrows_as_n_grows_at_a_fixed_proportion() -> None:
    widths = [high - low for low, high in (wilson_interval(0.3 * n, n) for n in (10, 100, 1000, 10000))]
    assert widths == sorted(widths, reverse=True) and widths[-1] < 0.02


def test_fractional_successes_are_a_mean_score() -> None:
    """Mean scores in 0..1 (e.g. relaxed accuracy with partial credit) read as successes = mean * n."""
    low, high = wilson_interval(0.5 * 10, 10)
    assert (low, high) == wilson_interval(5, 10)
    assert wilson_interval(2.5, 10)[0] < 0.25 < wilson_interval(2.5, 10)[1]


def test_it_is_symmetric_around_one_half() -> None:
    low, high = wilson_interval(3, 20)
    mirror_low, mirror_high = wilson_interval(17, 20)
    assert (low, high) == pytest.approx((1 - mirror_high, 1 - mirror_low))


# --- bootstrap, clustering, McNemar, paired bootstrap ------------------------------------------------


@pytest.fixture
def scipy_stats() -> Any:
    return pytest.importorskip("scipy.stats", reason="p-values are checked against scipy (a dev dependency)")


@pytest.mark.parametrize(
    ("b", "c"),
    [(0, 0), (0, 1), (1, 0), (3, 3), (0, 10), (12, 4), (7, 25), (40, 60), (400, 460), (5000, 5200)],
)
def test_mcnemar_exact_equals_scipys_two_sided_binomial_test(b: int, c: int, scipy_stats: Any) -> None:
    expected = 1.0 if b + c == 0 else scipy_stats.binomtest(b, b + c, 0.5).pvalue
    assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_mcnemar_survives_a_million_discordant_pairs(scipy_stats: Any) -> None:
    """Log-space sums: no overflow in the binomial coefficients, no underflow to a wrong zero."""
    p = mcnemar_exact(500_000, 502_000)
    assert p == pytest.approx(scipy_stats.binomtest(500_000, 1_002_000, 0.5).pvalue, rel=1e-6)
    assert 0.0 < mcnemar_exact(1000, 1400) < 1e-9
    assert mcnemar_exact(10, 10) == 1.0


def test_mcnemar_is_symmetric_and_refuses_negative_counts() -> None:
    assert mcnemar_exact(3, 11) == mcnemar_exact(11, 3)
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 3)


def test_bootstrap_ci_is_seeded_and_holds_the_mean() -> None:
    values = [float(i % 7) for i in range(200)]
    first = bootstrap_ci(values, seed=1)
    assert first == bootstrap_ci(values, seed=1)  # deterministic
    assert first != bootstrap_ci(values, seed=2)
    low, high = first
    assert low < sum(values) / len(values) < high


def test_bootstrap_ci_width_matches_the_normal_theory_for_a_large_sample() -> None:
    import random

    rng = random.Random(0)
    values = [rng.gauss(10, 2) for _ in range(2000)]
    low, high = bootstrap_ci(values, n_boot=2000)
    half = Z95 * 2 / 2000**0.5
    assert high - low == pytest.approx(2 * half, rel=0.1)


def test_bootstrap_ci_skips_missing_values_and_is_none_without_any() -> None:
    assert bootstrap_ci([None, None]) is None
    assert bootstrap_ci([1.0, None, 3.0, None]) == bootstrap_ci([1.0, 3.0])
    assert bootstrap_ci([2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_cluster_bootstrap_widens_the_interval_when_clusters_are_alike() -> None:
    """20 images with 10 questions each, answers alike within an image: 20 independent units, not 200."""
    values = [float(image % 2) for image in range(20) for _ in range(10)]
    clusters = [image for image in range(20) for _ in range(10)]
    naive = bootstrap_ci(values)
    clustered = bootstrap_ci(values, clusters)
    assert (clustered[1] - clustered[0]) > 2 * (naive[1] - naive[0])
    singletons = bootstrap_ci(values, list(range(200)))
    assert singletons == pytest.approx(naive, abs=0.03)


def test_design_effect_and_the_clustered_wilson_interval() -> None:
    values = [float(image % 2) for image in range(20) for _ in range(10)]
    clusters = [image for image in range(20) for _ in range(10)]
    assert design_effect(values, clusters) == pytest.approx(10 * 20 / 19)  # m * G / (G - 1)
    assert design_effect(values, list(range(200))) == 1.0
    assert wilson_interval_clustered(values) == pytest.approx(wilson_interval(100, 200))
    low, high = wilson_interval_clustered(values, clusters)
    naive_low, naive_high = wilson_interval(100, 200)
    assert low < naive_low and high > naive_high
    assert wilson_interval_clustered([]) == (0.0, 0.0)


def test_bootstrap_ratios_resample_numerator_and_denominator_together() -> None:
    num = np.array([1.0, 2.0, 0.0, 3.0])
    den = np.array([2.0, 2.0, 1.0, 3.0])
    draws = bootstrap_ratios(num, den, n_boot=500)
    assert draws.shape == (500, 1)
    assert np.nanmin(draws) >= 0.0 and np.nanmax(draws) <= 1.0
    assert np.median(draws) == pytest.approx(6 / 8, abs=0.1)


def test_paired_bootstrap_difference_interval_and_p_value() -> None:
    a = [1.0] * 60 + [0.0] * 40
    same = paired_bootstrap(a, a)
    assert (same.diff, same.ci95, same.p_value) == (0.0, (0.0, 0.0), 1.0)
    better = paired_bootstrap(a, [0.0] * 30 + a[30:])  # B lost the first 30 right answers
    assert better.diff == pytest.approx(0.3)
    assert better.ci95[0] > 0.15 and better.p_value < 0.01
    assert better.to_json()["ci95"] == list(better.ci95)


def test_paired_bootstrap_p_value_agrees_with_a_paired_t_test_on_continuous_data(scipy_stats: Any) -> None:
    import random

    rng = random.Random(3)
    a = [rng.gauss(100, 15) for _ in range(300)]
    b = [x - 2.5 + rng.gauss(0, 10) for x in a]
    result = paired_bootstrap(a, b, n_boot=4000)
    expected = scipy_stats.ttest_rel(a, b).pvalue
    assert result.p_value == pytest.approx(expected, abs=0.01 + 0.25 * expected)


def test_paired_bootstrap_refuses_unpaired_input() -> None:
    with pytest.raises(ValueError):
        paired_bootstrap([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        paired_bootstrap([], [])


def test_stats_never_imports_scipy() -> None:
    import vlmbench.stats

    source = Path(vlmbench.stats.__file__).read_text(encoding="utf-8")
    assert "import scipy" not in source and "from scipy" not in source


def test_newcombe_paired_interval_matches_the_wald_interval_for_large_samples() -> None:
    both, only_a, only_b, neither = 5000, 300, 200, 4500
    n = both + only_a + only_b + neither
    diff = (only_a - only_b) / n
    half = Z95 * ((only_a + only_b) - (only_a - only_b) ** 2 / n) ** 0.5 / n
    assert paired_proportion_interval(both, only_a, only_b, neither) == pytest.approx(
        (diff - half, diff + half), abs=2e-4
    )


def test_newcombe_paired_interval_with_few_discordant_pairs() -> None:
    low, high = paired_proportion_interval(0, 0, 2, 198)  # two flips of 200: no evidence
    assert low < -0.01 < 0.0 < high
    low, high = paired_proportion_interval(50, 0, 0, 50)  # no flips at all: no difference
    assert low <= 0.0 <= high
    low, high = paired_proportion_interval(40, 55, 5, 100)  # A clearly better
    assert 0.0 < low < 0.25 < high
    assert paired_proportion_interval(0, 0, 0, 0) == (0.0, 0.0)
    # all ten flipped to A, phi = 0: the lower end is 1 - sqrt(2) * (1 - Wilson's lower end of 10/10)
    gap = 1 - wilson_interval(10, 10)[0]
    assert paired_proportion_interval(0, 10, 0, 0) == pytest.approx((1 - 2**0.5 * gap, 1.0))


def test_integer_cluster_codes_of_a_subset_count_only_the_clusters_present() -> None:
    values = [0.0, 1.0, 0.0, 1.0]
    codes = np.array([7, 7, 3, 3])
    assert design_effect(values, codes) == design_effect(values, ["a", "a", "b", "b"])
    assert bootstrap_ci(values, codes) == bootstrap_ci(values, ["a", "a", "b", "b"])
