"""Pipeline metrics against a small history worked out by hand (see the comments)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.actor import Actor
from bot.deals.arguments import DealRefByName, NewDealArgs
from bot.deals.metrics import pipeline_report
from bot.deals.service import DealService
from bot.deals.stages import DEFAULT_STAGES, Pipeline
from bot.parsing.money import Money
from storage.db import Database

START = datetime(2026, 1, 1, tzinfo=UTC)
BOSS = Actor("U01GROSSI", is_manager=True)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def at_day(self, day: float) -> None:
        self.now = START + timedelta(days=day)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def history(db: Database) -> tuple[DealService, Clock]:
    """Five deals (lead 10%, qualified 20%, nurturing 30%, proposal 50%, negotiation 70%).

    A: lead d0 → qualified d2 → nurturing d5 → proposal d6 → won d10; 1,000, source web
    B: lead d0 → qualified d4 → lost d7;                             2,000, source web
    C: qualified d1 → nurturing d3 (open);                           3,000, referral
    D: proposal d2 (open);                                           4,000, referral
    E: lead d3 (open); no amount, no source
    """
    clock = Clock()
    service = DealService(db, Pipeline.parse(DEFAULT_STAGES), currency="EUR", clock=clock)
    steps: list[tuple[float, Callable[[], object]]] = [
        (0, lambda: new("A", 1000, "lead", "web")),
        (0, lambda: new("B", 2000, "lead", "web")),
        (1, lambda: new("C", 3000, "qualified", "referral")),
        (2, lambda: service.advance(BOSS, DealRefByName("A"))),
        (2, lambda: new("D", 4000, "proposal", "referral")),
        (3, lambda: service.advance(BOSS, DealRefByName("C"))),
        (3, lambda: new("E", None, "lead", None)),
        (4, lambda: service.advance(BOSS, DealRefByName("B"))),
        (5, lambda: service.advance(BOSS, DealRefByName("A"))),
        (6, lambda: service.advance(BOSS, DealRefByName("A"))),
        (7, lambda: service.lost(BOSS, DealRefByName("B"), "budget")),
        (10, lambda: service.won(BOSS, DealRefByName("A"))),
    ]

    def new(name: str, amount: int | None, stage: str, source: str | None) -> object:
        money = None if amount is None else Money(Decimal(amount), "EUR")
        return service.create(
            BOSS, NewDealArgs(name=name, amount=money, stage=stage, source=source)
        )

    for day, step in steps:
        clock.at_day(day)
        step()
    clock.at_day(12)
    return service, clock


def test_totals_per_stage(history: tuple[DealService, Clock]) -> None:
    service, clock = history
    report = pipeline_report(service.db, service.pipeline, clock())
    by_stage = {line.stage: line for line in report.stages}
    assert {s: line.count for s, line in by_stage.items()} == {
        "lead": 1, "qualified": 0, "nurturing": 1, "proposal": 1, "negotiation": 0,
    }  # fmt: skip
    assert by_stage["nurturing"].amounts == {"EUR": Decimal("3000.00")}
    assert by_stage["nurturing"].weighted == {"EUR": Decimal("900.00")}  # 3,000 × 30%
    assert by_stage["proposal"].weighted == {"EUR": Decimal("2000.00")}  # 4,000 × 50%
    assert report.open_count == 3
    assert report.open_amount == {"EUR": Decimal("7000.00")}
    assert report.weighted_total == {"EUR": Decimal("2900.00")}


def test_win_rate_cycle_and_velocity(history: tuple[DealService, Clock]) -> None:
    service, clock = history
    report = pipeline_report(service.db, service.pipeline, clock())
    assert (report.won, report.lost) == (1, 1)
    assert report.win_rate == 0.5
    assert report.average_won_amount == {"EUR": Decimal("1000.00")}
    assert report.average_cycle_days == pytest.approx(10.0)
    # 3 open deals × 1,000 average won × 50% win rate ÷ 10 days
    assert report.velocity_per_day == {"EUR": Decimal("150.00")}


def test_stage_to_stage_conversion(history: tuple[DealService, Clock]) -> None:
    service, clock = history
    report = pipeline_report(service.db, service.pipeline, clock())
    conversion = {line.stage: line.conversion for line in report.stages}
    # lead: A, B, E entered; A and B moved on.      qualified: A, B, C entered; A and C moved on.
    # nurturing: A, C entered; A moved on.          proposal: A, D entered; A (won) moved on.
    assert conversion == {
        "lead": (3, 2),
        "qualified": (3, 2),
        "nurturing": (2, 1),
        "proposal": (2, 1),
        "negotiation": (0, 0),
    }


def test_average_days_in_stage(history: tuple[DealService, Clock]) -> None:
    service, clock = history
    report = pipeline_report(service.db, service.pipeline, clock())
    days = {line.stage: line.average_days for line in report.stages}
    assert days["lead"] == pytest.approx(3.0)  # A 2 days, B 4 days (E still there)
    assert days["qualified"] == pytest.approx(8 / 3)  # A 3, B 3, C 2
    assert days["nurturing"] == pytest.approx(1.0)  # A 1 (C still there)
    assert days["proposal"] == pytest.approx(4.0)  # A 4 (D still there)
    assert days["negotiation"] is None


def test_conversion_by_source_and_stale(history: tuple[DealService, Clock]) -> None:
    service, clock = history
    report = pipeline_report(service.db, service.pipeline, clock())
    sources = [(s.source, s.total, s.won, s.lost) for s in report.sources]
    assert sources == [("referral", 2, 0, 0), ("web", 2, 1, 1), (None, 1, 0, 0)]
    # Day 12: D idles 10 days in proposal (stale after 7); C 9 of 21; E 9 of 14.
    assert report.stale_count == 1
    stale, total = service.list_deals(BOSS, stalled=True)
    assert [d.name for d in stale] == ["D"] and total == 1


def test_velocity_is_told_per_currency(history: tuple[DealService, Clock]) -> None:
    """Amounts in two currencies do not add up: each currency has its own velocity."""
    service, clock = history
    service.create(BOSS, NewDealArgs(name="F", amount=Money(Decimal(500), "USD"), stage="proposal"))
    service.won(BOSS, DealRefByName("F"))  # won on day 12, the day it was created
    service.create(BOSS, NewDealArgs(name="G", amount=Money(Decimal(900), "USD"), stage="lead"))
    report = pipeline_report(service.db, service.pipeline, clock())
    assert report.average_won_amount == {"EUR": Decimal("1000.00"), "USD": Decimal("500.00")}
    assert report.win_rate == pytest.approx(2 / 3)  # A and F won, B lost
    assert report.average_cycle_days == pytest.approx(5.0)  # A 10 days, F 0
    # EUR: C, D, E open × 1,000 × 2/3 ÷ 5 days;  USD: G open × 500 × 2/3 ÷ 5 days
    assert report.velocity_per_day == {"EUR": Decimal("400.00"), "USD": Decimal("66.67")}
