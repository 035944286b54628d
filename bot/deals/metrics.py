"""Pipeline metrics: totals per stage, win rate, conversion, days in stage, velocity, sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bot import statistics as stats
from bot.deals.stages import LOST, WON, Pipeline
from bot.parsing.money import MoneyByCurrency, add_amount
from storage import deals as store
from storage.db import Database
from storage.deals import SourceConversion, StageTotals

# Velocity and the average cycle need this many closed deals (won or lost) before they show.
MIN_CLOSED_DEALS = 10


@dataclass(frozen=True)
class StageLine:
    stage: str
    probability: int
    count: int
    amounts: MoneyByCurrency
    weighted: MoneyByCurrency
    conversion: tuple[int, int] | None  # (entered, moved on) — None for the last stage
    average_days: float | None
    confidence: int = 95  # of conversion_interval

    @property
    def conversion_interval(self) -> stats.Estimate | None:
        """The conversion with its Wilson interval (a handful of deals says little)."""
        if not self.conversion or self.conversion[0] == 0:
            return None
        entered, moved_on = self.conversion
        return stats.wilson_interval(moved_on, entered, confidence=self.confidence)

    @property
    def conversion_rate(self) -> float | None:
        if not self.conversion or self.conversion[0] == 0:
            return None
        return self.conversion[1] / self.conversion[0]


@dataclass(frozen=True)
class PipelineReport:
    stages: list[StageLine]
    open_count: int
    open_amount: MoneyByCurrency
    weighted_total: MoneyByCurrency
    won: int
    lost: int
    average_won_amount: MoneyByCurrency
    average_cycle_days: float | None
    sources: list[SourceConversion] = field(default_factory=list)
    stale_count: int = 0
    open_count_by_currency: dict[str, int] = field(default_factory=dict)
    confidence: int = 95  # of the intervals

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def win_rate(self) -> float | None:
        closed = self.won + self.lost
        return None if closed == 0 else self.won / closed

    @property
    def win_rate_interval(self) -> stats.Estimate | None:
        """The win rate with its Wilson interval: one won deal of one is not "100%"."""
        if self.closed == 0:
            return None
        return stats.wilson_interval(self.won, self.closed, confidence=self.confidence)

    def source_win_rate(self, source: SourceConversion) -> stats.Estimate | None:
        """One lead source's win rate with its Wilson interval; None before any closed."""
        closed = source.won + source.lost
        if closed == 0:
            return None
        return stats.wilson_interval(source.won, closed, confidence=self.confidence)

    @property
    def enough_closed(self) -> bool:
        """Velocity and the average cycle are told only from MIN_CLOSED_DEALS closed deals:
        from two or three, one odd deal makes the figure."""
        return self.closed >= MIN_CLOSED_DEALS

    @property
    def shown_velocity(self) -> MoneyByCurrency | None:
        """The velocity to show, None while there are too few closed deals to tell it."""
        return self.velocity_per_day if self.enough_closed else None

    @property
    def shown_cycle_days(self) -> float | None:
        """The average cycle to show, None while there are too few closed deals to tell it."""
        return self.average_cycle_days if self.enough_closed else None

    @property
    def velocity_per_day(self) -> MoneyByCurrency:
        """Sales velocity per currency: open deals × average won amount × win rate ÷ average
        cycle days, the deals and the average in that currency; empty when it cannot be told."""
        rate = self.win_rate
        if rate is None or self.average_cycle_days is None:
            return {}
        # A deal won on the day it was created would make the velocity explode: count a sales
        # cycle as at least one day.
        cycle = max(Decimal(str(self.average_cycle_days)), Decimal(1))
        return {
            currency: (
                Decimal(self.open_count_by_currency.get(currency, 0))
                * average
                * Decimal(str(rate))
                / cycle
            ).quantize(Decimal("0.01"))
            for currency, average in self.average_won_amount.items()
        }


@dataclass(frozen=True)
class PipelineGlance:
    """The pipeline in three numbers, for a manager's Home tab."""

    open_count: int
    weighted: MoneyByCurrency
    stale_count: int


def pipeline_glance(db: Database, pipeline: Pipeline, now: datetime) -> PipelineGlance:
    with db.transaction() as session:
        totals = store.stage_totals(session, pipeline.probabilities)
        stale = store.stale_count(session, pipeline.stale_days, now)
    weighted: MoneyByCurrency = {}
    for row in totals:
        add_amount(weighted, row.currency, row.weighted)
    return PipelineGlance(sum(row.count for row in totals), weighted, stale)


def pipeline_report(
    db: Database, pipeline: Pipeline, now: datetime, *, confidence: int = 95
) -> PipelineReport:
    with db.transaction() as session:
        totals: list[StageTotals] = store.stage_totals(session, pipeline.probabilities)
        won, lost = store.closed_counts(session, WON, LOST)
        average_won, average_cycle = store.won_averages(session, WON)
        conversion = store.stage_conversion(session, pipeline.funnel_order)
        days = store.average_days_in_stage(session, now)
        sources = store.conversion_by_source(session, WON, LOST)
        stale = store.stale_count(session, pipeline.stale_days, now)
    lines = []
    open_amount: MoneyByCurrency = {}
    weighted_total: MoneyByCurrency = {}
    open_count = 0
    open_count_by_currency: dict[str, int] = {}
    for stage in pipeline.open_stages:
        rows = [t for t in totals if t.stage == stage.name]
        amounts: MoneyByCurrency = {}
        weighted: MoneyByCurrency = {}
        for row in rows:
            add_amount(amounts, row.currency, row.amount)
            add_amount(weighted, row.currency, row.weighted)
            add_amount(open_amount, row.currency, row.amount)
            add_amount(weighted_total, row.currency, row.weighted)
            open_count_by_currency[row.currency] = (
                open_count_by_currency.get(row.currency, 0) + row.count
            )
        count = sum(row.count for row in rows)
        open_count += count
        lines.append(
            StageLine(
                stage=stage.name,
                probability=stage.probability,
                count=count,
                amounts=amounts,
                weighted=weighted,
                conversion=conversion.get(stage.name),
                average_days=days.get(stage.name),
                confidence=confidence,
            )
        )
    return PipelineReport(
        stages=lines,
        open_count=open_count,
        open_amount=open_amount,
        weighted_total=weighted_total,
        won=won,
        lost=lost,
        average_won_amount=average_won,
        average_cycle_days=average_cycle,
        sources=[s for s in sources],
        stale_count=stale,
        open_count_by_currency=open_count_by_currency,
        confidence=confidence,
    )
