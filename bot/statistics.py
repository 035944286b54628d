"""Small-sample statistics for every figure pulsebot shows: intervals and the noise test.

Plain functions of plain numbers, no dependency beyond the standard library; every surface
gets its intervals from here (the views only format them). Each formula cites its source and
is checked against a figure worked out by hand in tests/test_statistics.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

Confidence = Literal[90, 95]
CONFIDENCE_LEVELS: Final[tuple[Confidence, ...]] = (90, 95)

# Two-sided standard normal quantiles z(1 − α/2).
_Z: Final[dict[int, float]] = {90: 1.6448536269514722, 95: 1.959963984540054}

# Student's t quantiles t(1 − α/2, df) for df 1…30, from the standard table (e.g. NIST/SEMATECH
# e-Handbook of Statistical Methods, 1.3.6.7.2); above 30 the Cornish–Fisher series is exact to
# the third decimal.
_T: Final[dict[int, tuple[float, ...]]] = {
    90: (
        6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812,
        1.796, 1.782, 1.771, 1.761, 1.753, 1.746, 1.740, 1.734, 1.729, 1.725,
        1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701, 1.699, 1.697,
    ),
    95: (
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ),
}  # fmt: skip

# With at least this share of the audience answering, the interval is narrowed by the
# finite-population correction: the few who did not answer can move the team's figure only so
# far. Below it, non-response matters more than the correction and the interval is left whole.
NEARLY_ALL: Final = 0.8

# How a figure relates to the people it describes.
SAMPLE: Final = "sample"  # an estimate from part of the audience
CORRECTED: Final = "corrected"  # nearly everyone answered: finite-population correction
WHOLE: Final = "whole"  # everyone answered: the team's own figure, no interval


def z_value(confidence: int) -> float:
    """The two-sided normal quantile for a confidence level of 90 or 95 (%)."""
    try:
        return _Z[confidence]
    except KeyError:
        raise ValueError(
            f"confidence must be one of {CONFIDENCE_LEVELS}, not {confidence}"
        ) from None


def t_value(df: int, confidence: int) -> float:
    """The two-sided Student's t quantile with `df` degrees of freedom."""
    if df < 1:
        raise ValueError("a t quantile needs at least one degree of freedom")
    z = z_value(confidence)
    if df <= len(_T[confidence]):
        return _T[confidence][df - 1]
    # Cornish–Fisher expansion of t in powers of 1/df (Abramowitz & Stegun 26.7.5).
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


def coverage(answered: int, audience: int | None) -> str:
    """SAMPLE, CORRECTED (at least NEARLY_ALL of the audience answered) or WHOLE (everyone)."""
    if audience is None or audience <= 1 or answered < NEARLY_ALL * audience:
        return SAMPLE
    return WHOLE if answered >= audience else CORRECTED


def population_factor(answered: int, audience: int | None) -> float:
    """The finite-population correction √((N − n)/(N − 1)) that multiplies a standard error
    (Cochran, *Sampling Techniques*, 3rd ed. 1977, §2.6): 0 when everyone answered, 1 when
    too few did for it to apply (see `coverage`)."""
    kind = coverage(answered, audience)
    if kind == SAMPLE or audience is None:
        return 1.0
    if kind == WHOLE:
        return 0.0
    return math.sqrt((audience - answered) / (audience - 1))


@dataclass(frozen=True, slots=True)
class Estimate:
    """A figure with its standard error and its interval at `confidence` %; `coverage` says
    whether it is an estimate, a corrected one, or the whole team's own figure."""

    value: float
    standard_error: float
    low: float
    high: float
    confidence: int
    coverage: str = SAMPLE


def enps_estimate(
    promoters: int,
    passives: int,
    detractors: int,
    *,
    confidence: int,
    audience: int | None = None,
    bands_withheld: bool = False,
) -> Estimate:
    """eNPS (−100…+100) by the adjusted Wald method: add ¾ to promoters and to detractors and
    3 to n, score = 100·(p̃ − d̃), var = (p̃ + d̃ − (p̃ − d̃)²)/(n + 3) (Rocks, "Interval
    estimation for the 'net promoter score'", The American Statistician 70(4), 2016; confirmed
    by Lewis & Sauro, Journal of User Experience 16(4), 2021).

    `bands_withheld`: the release hides the band counts (too few people), so the interval may
    depend on nothing but n and promoters − detractors, which the score already tells. Then
    p̃ + d̃ takes its largest value (nobody passive) and the interval is the widest the score
    allows — a little wider than it could be, and it gives no one away.

    When everyone in `audience` answered, the figure is the team's own: the raw score, no
    interval; when nearly everyone did, the standard error carries the finite-population
    correction.
    """
    n = promoters + passives + detractors
    if n == 0:
        raise ValueError("an eNPS needs at least one answer")
    kind = coverage(n, audience)
    if kind == WHOLE:
        raw = 100 * (promoters - detractors) / n
        return Estimate(raw, 0.0, raw, raw, confidence, WHOLE)
    p = (promoters + 0.75) / (n + 3)
    d = (detractors + 0.75) / (n + 3)
    both = (n + 1.5) / (n + 3) if bands_withheld else p + d
    variance = max(both - (p - d) ** 2, 0.0) / (n + 3)
    se = 100 * math.sqrt(variance) * population_factor(n, audience)
    value = 100 * (p - d)
    margin = z_value(confidence) * se
    return Estimate(
        value, se, max(value - margin, -100.0), min(value + margin, 100.0), confidence, kind
    )


def largest_sd(mean: float, n: int, low: float = 1, high: float = 5) -> float:
    """The largest sample standard deviation n answers between `low` and `high` can have with
    this mean: (high − mean)(mean − low) bounds the variance (Bhatia & Davis, "A better bound on
    the variance", American Mathematical Monthly 107(4), 2000), times n/(n − 1) for a sample.
    For a figure whose distribution is withheld: its interval then tells nothing new."""
    spread = max((high - mean) * (mean - low), 0.0)
    return math.sqrt(spread * n / (n - 1))


def sample_sd(counts: dict[int, int]) -> float:
    """The sample standard deviation (n − 1) of answers given as value → count."""
    n = sum(counts.values())
    mean = sum(v * c for v, c in counts.items()) / n
    return math.sqrt(sum(c * (v - mean) ** 2 for v, c in counts.items()) / (n - 1))


def mean_estimate(
    mean: float,
    sd: float,
    n: int,
    *,
    confidence: int,
    audience: int | None = None,
    scale: tuple[float, float] = (-math.inf, math.inf),
) -> Estimate:
    """A mean with its t-interval, mean ± t(n − 1)·s/√n (Student 1908; any introductory text,
    e.g. Moore, McCabe & Craig, *Introduction to the Practice of Statistics*, §7.1), with the
    finite-population correction when nearly the whole audience answered. The interval is
    cut to the `scale` the answers lie on: a 1–5 mean cannot be 5.1."""
    if n < 2:
        raise ValueError("a t-interval needs at least two answers")
    kind = coverage(n, audience)
    se = sd / math.sqrt(n) * population_factor(n, audience)
    margin = t_value(n - 1, confidence) * se
    low, high = max(mean - margin, scale[0]), min(mean + margin, scale[1])
    return Estimate(mean, se, low, high, confidence, kind)


def wilson_interval(
    successes: int, n: int, *, confidence: int, audience: int | None = None
) -> Estimate:
    """A proportion with its Wilson score interval (Wilson, "Probable inference…", JASA 22,
    1927; recommended for small n by Agresti & Coull, The American Statistician 52, 1998):
    (p̂ + z²/2n ± z·√(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n).

    When nearly the whole audience answered, n is replaced by the effective size n / f², f the
    finite-population factor (Kish, *Survey Sampling*, 1965): the interval narrows the same
    way a standard error does. When everyone answered, the share is the team's own.
    """
    if n == 0:
        raise ValueError("a proportion needs at least one case")
    share = successes / n
    kind = coverage(n, audience)
    if kind == WHOLE:
        return Estimate(share, 0.0, share, share, confidence, WHOLE)
    factor = population_factor(n, audience)
    size = n / factor**2
    z = z_value(confidence)
    denominator = 1 + z**2 / size
    centre = (share + z**2 / (2 * size)) / denominator
    half = z * math.sqrt(share * (1 - share) / size + z**2 / (4 * size**2)) / denominator
    se = math.sqrt(share * (1 - share) / size)
    return Estimate(share, se, max(centre - half, 0.0), min(centre + half, 1.0), confidence, kind)


def change_is_real(
    change: float, standard_error_now: float, standard_error_before: float, *, confidence: int
) -> bool:
    """Whether a change between two independent figures exceeds what noise explains:
    |Δ| > z·√(SE₁² + SE₂²) (the two-sample z test for a difference, e.g. Rocks 2016 §4 for
    NPS; Altman & Bland, "Interaction revisited", BMJ 326, 2003)."""
    threshold = z_value(confidence) * math.hypot(standard_error_now, standard_error_before)
    return abs(change) > threshold
