"""Wilson 95% intervals for the run summary (`vlmbench.stats.wilson_interval`)."""

from __future__ import annotations

import pytest

from vlmbench.stats import Z95, wilson_interval


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
