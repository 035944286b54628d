"""How a figure's uncertainty reads, on every surface: the interval beside an eNPS, a mean, a
share or a rate, and the verdict on a change. Formatting only — the figures come worked out
from the domain (bot.statistics through results, summary and metrics)."""

from __future__ import annotations

from bot.i18n import Texts
from bot.statistics import CORRECTED, WHOLE, Estimate
from bot.surveys.results import FigureInterval, QuestionResult, signed


def _score(value: float) -> str:
    # As the eNPS beside it is written (bot.surveys.results.signed).
    return signed(round(value))


def enps_interval(
    texts: Texts, interval: FigureInterval | None, *, answered: int, invited: int
) -> str:
    """ "estimate +18 (−29 to +66) · 95% interval", or that the figure is the whole team's;
    empty when the release holds no interval."""
    if interval is None:
        return ""
    if interval.coverage == WHOLE:
        return texts("stats.whole_team")
    text = texts(
        "stats.enps_range",
        estimate=_score(interval.estimate),
        low=_score(interval.low),
        high=_score(interval.high),
        confidence=interval.confidence,
    )
    if interval.coverage == CORRECTED:
        text += " — " + texts("stats.nearly_all", answered=answered, invited=invited)
    return text


def short_interval(texts: Texts, interval: FigureInterval | None, *, mean: bool = False) -> str:
    """An interval in brief, for a team line or a list: " (−29 to +66)" for an eNPS,
    " (3.1 to 4.4)" for a mean; empty without one."""
    if interval is None or interval.coverage == WHOLE:
        return ""
    if mean:
        low, high = texts.number(interval.low, 1), texts.number(interval.high, 1)
    else:
        low, high = _score(interval.low), _score(interval.high)
    return " " + texts("stats.short_range", low=low, high=high)


def scale_interval(texts: Texts, q: QuestionResult, confidence: int | None, *, invited: int) -> str:
    """The mean's and the favourable share's intervals of a scale question; empty without."""
    if (
        confidence is None
        or q.low is None
        or q.high is None
        or q.favourable_low is None
        or q.favourable_high is None
    ):
        return ""
    if q.coverage == WHOLE:
        return texts("stats.whole_team")
    text = texts(
        "stats.scale_range",
        low=texts.number(q.low, 1),
        high=texts.number(q.high, 1),
        favourable_low=texts.number(q.favourable_low * 100),
        favourable_high=texts.number(q.favourable_high * 100),
        confidence=confidence,
    )
    if q.coverage == CORRECTED:
        text += " — " + texts("stats.nearly_all", answered=q.answered, invited=invited)
    return text


def change_verdict(texts: Texts, real: bool | None) -> str:
    """ " — within normal variation…" or " — a real change…" after a change; empty when
    it cannot be told (no interval in one of the two releases)."""
    if real is None:
        return ""
    return " — " + texts("stats.change_real" if real else "stats.change_noise")


def trend_point(texts: Texts, score: str, interval: FigureInterval | None) -> str:
    """A point of the eNPS trend line, marked when it changed beyond noise from the one before."""
    if interval is None or not interval.real:
        return score
    return texts("stats.trend_real", score=score)


def rate_interval(texts: Texts, estimate: Estimate | None) -> str:
    """A rate with its interval, "60% (23%–88%)"; "—" when there is nothing to rate."""
    if estimate is None:
        return "—"
    return texts(
        "stats.rate",
        rate=texts.percent(estimate.value),
        low=texts.percent(estimate.low),
        high=texts.percent(estimate.high),
    )


def not_enough_closed(texts: Texts, closed: int) -> str:
    """Instead of a velocity or a cycle told from a handful of deals."""
    return texts("stats.not_enough_closed", closed=texts.plural("count.closed_deals", closed))
