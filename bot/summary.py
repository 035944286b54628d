"""The weekly manager summary as plain values: the week's surveys and pipeline, computed in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from bot import statistics as stats
from bot.deals.stages import LOST, WON, Pipeline
from bot.oneonones.service import OneOnOneService, WeekCounts
from bot.parsing.money import MoneyByCurrency, add_amount
from bot.surveys.model import SurveyDefinition
from bot.surveys.results import FigureInterval, figure_interval
from bot.surveys.service import SurveyService
from bot.weeks import SummaryWeek
from storage import deals as deal_store
from storage import summary as store
from storage.db import Database
from storage.summary import ClosedRun, WeightEvent

ENPS_TREND_RUNS = 8  # points on the chart's eNPS line
ENPS_TREND_LOOKBACK = 60  # closed runs looked at to find them (other surveys close too)
STALE_LISTED = 10


# ---- the values ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuestionScore:
    index: int
    mean: float
    interval: FigureInterval | None = None


@dataclass(frozen=True, slots=True)
class TeamLine:
    """One team's part of a run, under the same threshold and subtraction rule as results."""

    channel: str
    invited: int
    answered: int
    hidden: bool
    enps: int | None = None
    enps_interval: FigureInterval | None = None


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One survey run closed in the week; figures are None where the threshold hides them."""

    survey_name: str
    definition: SurveyDefinition
    run_number: int
    closed_at: datetime
    invited: int
    answered: int
    hidden: bool  # fewer respondents than the threshold: only counts are shown
    enps: int | None = None
    enps_change: int | None = None
    enps_interval: FigureInterval | None = None
    lowest: QuestionScore | None = None
    highest: QuestionScore | None = None
    comment_count: int = 0
    comments: tuple[str, ...] = ()  # only when the comment question passes the threshold
    teams: tuple[TeamLine, ...] = ()  # with PULSEBOT_SEGMENT_CHANNELS

    @property
    def participation(self) -> float | None:
        return None if self.invited == 0 else self.answered / self.invited


@dataclass(frozen=True, slots=True)
class EnpsPoint:
    survey_name: str
    run_number: int
    closed_on: date
    score: int | None  # None: below the threshold
    interval: FigureInterval | None = None  # `real`: a change beyond noise from the point before


@dataclass(frozen=True, slots=True)
class DealLine:
    name: str
    owner_id: str
    owner_name: str | None
    amount: Decimal | None
    currency: str
    stage: str
    detail: str | None = None  # a lost deal's reason


@dataclass(frozen=True, slots=True)
class FunnelStage:
    """One open stage: deals in it now, and this week's flow through it."""

    stage: str
    probability: int
    open_count: int
    open_amount: MoneyByCurrency
    entered: int  # deals that moved into it this week
    left: int  # deals that moved out of it this week
    moved_on: int  # of those, to a later stage (won included)
    average_days: float | None  # mean stay of the stays that ended this week
    confidence: int = 95  # of conversion_interval

    @property
    def conversion(self) -> float | None:
        return None if self.left == 0 else self.moved_on / self.left

    @property
    def conversion_interval(self) -> stats.Estimate | None:
        """The week's conversion with its Wilson interval."""
        if self.left == 0:
            return None
        return stats.wilson_interval(self.moved_on, self.left, confidence=self.confidence)


@dataclass(frozen=True, slots=True)
class PipelineWeek:
    created: int
    created_amount: MoneyByCurrency
    advanced: int
    won: list[DealLine]
    won_amount: MoneyByCurrency
    lost: list[DealLine]
    lost_amount: MoneyByCurrency
    weighted: MoneyByCurrency  # at the end of the week (now, for the current week)
    weighted_change: MoneyByCurrency  # over the week
    funnel: list[FunnelStage]
    stale: list[DealLine]
    stale_count: int

    @property
    def has_activity(self) -> bool:
        return bool(self.created or self.advanced or self.won or self.lost)


@dataclass(frozen=True, slots=True)
class WeeklySummary:
    week: SummaryWeek
    runs: list[RunSummary]
    enps_trend: list[EnpsPoint]  # oldest first
    pipeline: PipelineWeek
    min_responses: int
    currency: str
    computed_at: datetime = field(compare=False)
    oneonones: WeekCounts | None = None  # 1:1s held, skipped and overdue: counts only

    @property
    def empty(self) -> bool:
        return not self.runs and not self.pipeline.has_activity


# ---- surveys -----------------------------------------------------------------------------------


def run_summary(surveys: SurveyService, run: ClosedRun) -> RunSummary:
    """One run's figures through the survey results code and its threshold, nothing else."""
    results, definition = surveys.run_results(run.survey_name, run.number)
    enps_score = enps_change = None
    enps_interval: FigureInterval | None = None
    scale: list[QuestionScore] = []
    comment_count = 0
    comments: list[str] = []
    for q in results.questions:
        if q.kind == "text":
            comment_count += q.answered
            comments.extend(q.comments)  # empty when hidden
        if q.hidden:
            continue
        if q.enps is not None and enps_score is None:
            enps_score = q.enps.score
            enps_change = None if q.change is None else int(q.change)
            enps_interval = figure_interval(q, results.confidence)
        elif q.kind == "scale" and q.mean is not None:
            scale.append(QuestionScore(q.index, q.mean, figure_interval(q, results.confidence)))
    ranked = sorted(scale, key=lambda s: (s.mean, s.index))
    return RunSummary(
        survey_name=run.survey_name,
        definition=definition,
        run_number=results.run_number,
        closed_at=run.closes_at,
        invited=results.invited,
        answered=results.answered,
        hidden=results.hidden,
        enps=enps_score,
        enps_change=enps_change,
        enps_interval=enps_interval,
        lowest=ranked[0] if len(ranked) > 1 else None,
        highest=ranked[-1] if len(ranked) > 1 else None,
        comment_count=comment_count,
        comments=tuple(comments),
        teams=tuple(
            TeamLine(
                channel=team.segment,
                invited=team.invited,
                answered=team.answered,
                hidden=team.hidden,
                enps=next(
                    (q.enps.score for q in team.questions if q.enps is not None and not q.hidden),
                    None,
                ),
                enps_interval=next(
                    (
                        figure_interval(q, results.confidence)
                        for q in team.questions
                        if q.enps is not None and not q.hidden
                    ),
                    None,
                ),
            )
            for team in results.segments
        ),
    )


def enps_trend(surveys: SurveyService, end: datetime, zone: ZoneInfo) -> list[EnpsPoint]:
    """eNPS of the latest runs with an eNPS question, as each run's release shows it (None
    where it was withheld)."""
    points: list[EnpsPoint] = []
    with surveys.db.transaction() as session:
        closed = store.runs_closed_before(session, end, ENPS_TREND_LOOKBACK)
    for run in closed:
        definition = SurveyDefinition.from_json(run.definition)
        index = next((i for i, q in enumerate(definition.questions) if q.kind == "enps"), None)
        if index is None:
            continue
        results, _ = surveys.run_results(run.survey_name, run.number)
        question = results.questions[index]
        score = None if question.hidden or question.enps is None else question.enps.score
        interval = figure_interval(question, results.confidence)
        closed_on = run.closes_at.astimezone(zone).date()
        points.append(EnpsPoint(run.survey_name, run.number, closed_on, score, interval))
        if len(points) == ENPS_TREND_RUNS:
            break
    return points[::-1]


# ---- the pipeline ------------------------------------------------------------------------------


def _amount(text: object) -> Decimal | None:
    if text in (None, ""):
        return None
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return None


def _add(into: MoneyByCurrency, currency: str, amount: Decimal) -> None:
    # Zeros are left out: the summary shows a currency only where it has an amount to show.
    if amount:
        add_amount(into, currency, amount)


@dataclass
class _DealState:
    """What a deal weighs at one moment: its stage (None before it existed) and amount."""

    stage: str | None
    amount: Decimal | None
    currency: str

    def weight(self, probabilities: dict[str, int]) -> tuple[str, Decimal]:
        if self.stage not in probabilities or self.amount is None:
            return self.currency, Decimal(0)
        return self.currency, self.amount * probabilities[self.stage] / 100


def _replay(events: list[WeightEvent], end: datetime) -> tuple[_DealState, _DealState, _DealState]:
    """A deal's state at the window's start, at `end`, and now, from its events since the start."""
    current = events[0]
    stage_events = [e for e in events if e.kind in store.STAGE_KINDS]
    amount_events = [e for e in events if e.kind == "amount"]
    if stage_events:
        first = stage_events[0]
        start_stage = None if first.kind == "created" else first.from_stage
    else:
        start_stage = current.stage
    if amount_events:
        old = (amount_events[0].changes or {}).get("amount", [None])[0]
        old_currency = (amount_events[0].changes or {}).get("currency", [current.currency])[0]
        start = _DealState(start_stage, _amount(old), str(old_currency or current.currency))
    else:
        start = _DealState(start_stage, current.amount, current.currency)
    state = _DealState(start.stage, start.amount, start.currency)
    for event in events:
        if event.at >= end:
            break
        if event.kind in store.STAGE_KINDS:
            state.stage = event.to_stage
        if event.kind == "created":
            state.amount = _amount((event.changes or {}).get("amount", [None, None])[1])
            # Without a later amount event the deal's amount is still the one it was made with.
            if not amount_events:
                state.amount, state.currency = current.amount, current.currency
        elif event.kind == "amount":
            change = event.changes or {}
            state.amount = _amount(change.get("amount", [None, None])[1])
            state.currency = str(change.get("currency", [None, current.currency])[1])
    now = _DealState(current.stage, current.amount, current.currency)
    return start, state, now


def _days(start: datetime | None, end: datetime) -> float | None:
    return None if start is None else (end - start).total_seconds() / 86400


def _line(event: WeightEvent, detail: str | None = None) -> DealLine:
    return DealLine(
        name=event.name,
        owner_id=event.owner_id,
        owner_name=event.owner_name,
        amount=event.amount,
        currency=event.currency,
        stage=event.stage,
        detail=detail,
    )


def pipeline_week(
    db: Database, pipeline: Pipeline, week: SummaryWeek, now: datetime, *, confidence: int = 95
) -> PipelineWeek:
    """The week's deal flow from its events, and the pipeline at the week's end.

    The weighted pipeline at the end is today's minus what changed since; its change over
    the week is replayed from the week's events only. Nothing reads the whole history.
    """
    probabilities = pipeline.probabilities
    rank = {stage: index for index, stage in enumerate(pipeline.funnel_order)}
    with db.transaction() as session:
        events = store.weight_events_since(session, week.start)
        totals = deal_store.stage_totals(session, probabilities)
        stale_rows = deal_store.stale_deals(session, pipeline.stale_days, now, limit=STALE_LISTED)
        stale_count = deal_store.stale_count(session, pipeline.stale_days, now)
        names = store.owner_names(session, sorted({d.owner_id for d in stale_rows}))
    by_deal: dict[int, list[WeightEvent]] = {}
    for event in events:
        by_deal.setdefault(event.deal_id, []).append(event)

    weighted_now: MoneyByCurrency = {}
    open_count: dict[str, int] = {}
    open_amount: dict[str, MoneyByCurrency] = {}
    for row in totals:
        _add(weighted_now, row.currency, row.weighted)
        open_count[row.stage] = open_count.get(row.stage, 0) + row.count
        _add(open_amount.setdefault(row.stage, {}), row.currency, row.amount)

    since_end: MoneyByCurrency = {}  # weight gained after the week, to take off today's total
    change: MoneyByCurrency = {}
    for deal_events in by_deal.values():
        start, end, current = _replay(deal_events, week.end)
        for state, sign, into in (
            (current, 1, since_end),
            (end, -1, since_end),
            (end, 1, change),
            (start, -1, change),
        ):
            currency, weight = state.weight(probabilities)
            _add(into, currency, sign * weight)
    weighted: MoneyByCurrency = dict(weighted_now)
    for currency, amount in since_end.items():
        _add(weighted, currency, -amount)

    created: set[int] = set()
    created_amount: MoneyByCurrency = {}
    advanced: set[int] = set()
    won: dict[int, DealLine] = {}
    lost: dict[int, DealLine] = {}
    entered: dict[str, set[int]] = {}
    left: dict[str, int] = {}
    moved_on: dict[str, int] = {}
    stays: dict[str, list[float]] = {}
    for event in events:
        if not week.start <= event.at < week.end:
            continue
        if event.kind == "created":
            created.add(event.deal_id)
            _add(created_amount, event.currency, event.amount or Decimal(0))
        if event.kind not in store.STAGE_KINDS or event.to_stage is None:
            continue
        entered.setdefault(event.to_stage, set()).add(event.deal_id)
        if event.kind != "stage" or event.from_stage is None:
            continue
        source, target = event.from_stage, event.to_stage
        forward = target != LOST and rank.get(target, -1) > rank.get(source, len(rank))
        left[source] = left.get(source, 0) + 1
        moved_on[source] = moved_on.get(source, 0) + forward
        stay = _days(event.previous_stage_at, event.at)
        if stay is not None:
            stays.setdefault(source, []).append(stay)
        if target == WON:
            won[event.deal_id] = _line(event)
            lost.pop(event.deal_id, None)
        elif target == LOST:
            lost[event.deal_id] = _line(event, event.note)
            won.pop(event.deal_id, None)
        elif forward:
            advanced.add(event.deal_id)
    won_amount: MoneyByCurrency = {}
    for line in won.values():
        _add(won_amount, line.currency, line.amount or Decimal(0))
    lost_amount: MoneyByCurrency = {}
    for line in lost.values():
        _add(lost_amount, line.currency, line.amount or Decimal(0))
    funnel = [
        FunnelStage(
            stage=stage.name,
            probability=stage.probability,
            open_count=open_count.get(stage.name, 0),
            open_amount=open_amount.get(stage.name, {}),
            entered=len(entered.get(stage.name, ())),
            left=left.get(stage.name, 0),
            moved_on=moved_on.get(stage.name, 0),
            average_days=(
                sum(stays[stage.name]) / len(stays[stage.name]) if stays.get(stage.name) else None
            ),
            confidence=confidence,
        )
        for stage in pipeline.open_stages
    ]
    stale = [
        DealLine(
            name=d.name,
            owner_id=d.owner_id,
            owner_name=names.get(d.owner_id),
            amount=d.amount,
            currency=d.currency,
            stage=d.stage,
            detail=f"{_days(d.last_activity_at, now) or 0:.0f}",
        )
        for d in stale_rows
    ]
    return PipelineWeek(
        created=len(created),
        created_amount=created_amount,
        advanced=len(advanced),
        won=_by_amount(won.values()),
        won_amount=won_amount,
        lost=_by_amount(lost.values()),
        lost_amount=lost_amount,
        weighted=weighted,
        weighted_change={c: a for c, a in change.items() if a},
        funnel=funnel,
        stale=stale,
        stale_count=stale_count,
    )


def _by_amount(lines: Iterable[DealLine]) -> list[DealLine]:
    return sorted(lines, key=lambda d: (-(d.amount or 0), d.name))


# ---- everything ----------------------------------------------------------------------------


def weekly_summary_data(
    week: SummaryWeek,
    *,
    surveys: SurveyService,
    oneonones: OneOnOneService,
    pipeline: Pipeline,
    currency: str,
    now: datetime,
) -> WeeklySummary:
    db = surveys.db
    with db.transaction() as session:
        closed = store.runs_closed_between(session, week.start, week.end)
    return WeeklySummary(
        week=week,
        runs=[run_summary(surveys, run) for run in closed],
        enps_trend=enps_trend(surveys, week.end, surveys.zone),
        pipeline=pipeline_week(db, pipeline, week, now, confidence=surveys.policy.confidence),
        min_responses=surveys.policy.min_responses,
        currency=currency,
        computed_at=now,
        oneonones=oneonones.week_counts(week.start, week.end, now),
    )
