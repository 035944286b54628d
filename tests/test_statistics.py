"""bot.statistics against figures worked out by hand (each worked below, with its source)."""

from __future__ import annotations

import math

import pytest

from bot import statistics as stats


def test_enps_adjusted_wald_worked_example() -> None:
    # Rocks 2016 / Lewis & Sauro 2021. 4 promoters, 2 passives, 2 detractors, n = 8:
    # raw = 100·(4 − 2)/8 = +25; p̃ = 4.75/11 = 0.43182, d̃ = 2.75/11 = 0.25,
    # score = 100·(0.43182 − 0.25) = +18.18; var = (0.68182 − 0.18182²)/11 = 0.058978,
    # SE = 24.285 points; 95%: 18.18 ± 1.96·24.285 = 18.18 ± 47.60 → −29.4 … +65.8.
    estimate = stats.enps_estimate(4, 2, 2, confidence=95)
    assert round(estimate.value) == 18
    assert estimate.standard_error == pytest.approx(24.285, abs=0.001)
    assert (round(estimate.low), round(estimate.high)) == (-29, 66)
    assert estimate.coverage == stats.SAMPLE


def test_enps_at_90_percent_is_narrower() -> None:
    # 18.18 ± 1.6449·24.285 = 18.18 ± 39.95 → −21.8 … +58.1.
    estimate = stats.enps_estimate(4, 2, 2, confidence=90)
    assert (round(estimate.low), round(estimate.high)) == (-22, 58)


def test_enps_with_bands_withheld_assumes_nobody_passive() -> None:
    # p̃ + d̃ taken at its largest, (8 + 1.5)/11 = 0.86364: var = (0.86364 − 0.03306)/11
    # = 0.075507, SE = 27.479; 95%: 18.18 ± 53.86 → −35.7 … +72.0. Only n and P − D enter.
    estimate = stats.enps_estimate(4, 2, 2, confidence=95, bands_withheld=True)
    assert estimate.standard_error == pytest.approx(27.479, abs=0.001)
    assert (round(estimate.low), round(estimate.high)) == (-36, 72)
    # The same n and P − D with other bands give the very same interval: nothing leaks.
    other = stats.enps_estimate(3, 4, 1, confidence=95, bands_withheld=True)
    assert (other.low, other.high) == pytest.approx((estimate.low, estimate.high))


def test_enps_nearly_everyone_answered_is_corrected() -> None:
    # Cochran 1977 §2.6: 8 of 9 answered, f = √((9 − 8)/(9 − 1)) = 0.35355,
    # SE = 24.285·0.35355 = 8.586; 95%: 18.18 ± 16.83 → +1.4 … +35.0.
    estimate = stats.enps_estimate(4, 2, 2, confidence=95, audience=9)
    assert estimate.coverage == stats.CORRECTED
    assert estimate.standard_error == pytest.approx(8.586, abs=0.001)
    assert (round(estimate.low), round(estimate.high)) == (1, 35)


def test_enps_everyone_answered_is_the_team_figure() -> None:
    estimate = stats.enps_estimate(4, 2, 2, confidence=95, audience=8)
    assert estimate.coverage == stats.WHOLE
    assert (estimate.value, estimate.low, estimate.high, estimate.standard_error) == (25, 25, 25, 0)


def test_coverage_threshold() -> None:
    assert stats.coverage(7, 10) == stats.SAMPLE  # 70% answered
    assert stats.coverage(8, 10) == stats.CORRECTED  # 80%
    assert stats.coverage(10, 10) == stats.WHOLE
    assert stats.coverage(5, None) == stats.SAMPLE


def test_wilson_three_of_five() -> None:
    # Wilson 1927: p̂ = 0.6, z² = 3.8415, n = 5: denominator 1 + 3.8415/5 = 1.7683;
    # centre (0.6 + 0.38415)/1.7683 = 0.55655; half 1.96·√(0.048 + 0.038415)/1.7683 = 0.32583
    # → 0.2307 … 0.8824: 23%–88%.
    estimate = stats.wilson_interval(3, 5, confidence=95)
    assert estimate.value == 0.6
    assert (round(100 * estimate.low), round(100 * estimate.high)) == (23, 88)


def test_wilson_one_of_one_is_far_from_certain() -> None:
    # 1 of 1: centre (1 + 1.92)/4.8415 = 0.6033, half 1.96·√(0.96)/4.8415 = 0.3967 → 21%–100%.
    estimate = stats.wilson_interval(1, 1, confidence=95)
    assert (round(100 * estimate.low), round(100 * estimate.high)) == (21, 100)


def test_mean_t_interval() -> None:
    # Answers 3, 3, 4, 4: mean 3.5, s = √(4·0.25/3) = 0.57735, SE = 0.28868, t(3) = 3.182
    # → 3.5 ± 0.9186 → 2.58 … 4.42.
    sd = stats.sample_sd({3: 2, 4: 2})
    assert sd == pytest.approx(0.57735, abs=1e-5)
    estimate = stats.mean_estimate(3.5, sd, 4, confidence=95)
    assert (round(estimate.low, 2), round(estimate.high, 2)) == (2.58, 4.42)


def test_mean_interval_is_cut_to_the_scale() -> None:
    # Answers 4, 5, 5, 5: mean 4.75, s = 0.5, SE 0.25, t(3) = 3.182 → 3.95 … 5.55, cut at 5.
    estimate = stats.mean_estimate(4.75, 0.5, 4, confidence=95, scale=(1, 5))
    assert (round(estimate.low, 2), estimate.high) == (3.95, 5)


def test_largest_sd_bhatia_davis() -> None:
    # Mean 3 on 1–5: variance ≤ (5 − 3)(3 − 1) = 4, sample ×4/3 → s ≤ √(16/3) = 2.3094;
    # the answers 1, 1, 5, 5 reach it.
    assert stats.largest_sd(3.0, 4) == pytest.approx(2.3094, abs=1e-4)
    assert stats.sample_sd({1: 2, 5: 2}) == pytest.approx(stats.largest_sd(3.0, 4))


def test_t_table_meets_the_series_beyond_30() -> None:
    # Above df 30 the Cornish–Fisher series takes over; at 30 it gives the table's 2.042.
    assert stats.t_value(30, 95) == 2.042
    assert stats.t_value(31, 95) == pytest.approx(2.040, abs=0.001)
    assert stats.t_value(120, 95) == pytest.approx(1.980, abs=0.001)
    assert stats.t_value(120, 90) == pytest.approx(1.658, abs=0.001)


def test_change_against_noise() -> None:
    # Two eNPS of 8 people, SE 24.285 each: 1.96·√2·24.285 = 67.3 points. A swing of 20 is
    # noise; with SEs of 5 and 6 the threshold is 1.96·7.81 = 15.3, so 20 is a real change.
    assert not stats.change_is_real(20, 24.285, 24.285, confidence=95)
    assert stats.change_is_real(20, 5, 6, confidence=95)
    assert not stats.change_is_real(-15, 5, 6, confidence=95)
    assert math.isclose(1.96 * math.hypot(5, 6), 15.3, abs_tol=0.05)


def test_unknown_confidence_is_refused() -> None:
    with pytest.raises(ValueError, match="confidence"):
        stats.z_value(99)
