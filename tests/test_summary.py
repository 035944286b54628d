"""The weekly summary against a week worked out by hand, its limits, chart, posting and preview."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient

from bot.actor import Actor
from bot.chart import PNG_SIGNATURE, summary_chart
from bot.clock import FrozenClock
from bot.deals.arguments import DealRefByName, NewDealArgs
from bot.deals.service import DealService
from bot.deals.stages import DEFAULT_STAGES, Pipeline
from bot.directory import Directory
from bot.i18n import Texts
from bot.jobs import record_weekly_summary
from bot.oneonones.service import OneOnOneService
from bot.parsing.money import Money
from bot.standin import SlackStandIn, validate_blocks
from bot.summary import DealLine, WeeklySummary, weekly_summary_data
from bot.surveys.schedule import Audience
from bot.surveys.service import SurveyPolicy, SurveyService
from bot.views.summary import summary_blocks
from bot.weeks import SummaryWeek, iso_week, parse_week, reported_week
from storage.db import Database
from tests.conftest import TEST_SECRET, make_settings
from tests.harness import BotHarness, block_text

ROME = ZoneInfo("Europe/Rome")
PIPELINE = Pipeline.parse(DEFAULT_STAGES)
POLICY = SurveyPolicy(
    secret=TEST_SECRET, min_responses=3, reminder_hours=24, timezone="Europe/Rome"
)
BOSS = Actor("U01GROSSI", is_manager=True)
WEEK = iso_week(2026, 48, ROME)  # Monday 23 – Sunday 29 November 2026
NOW = datetime(2026, 12, 1, 11, tzinfo=UTC)  # the Tuesday after


def rome(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=ROME)


def summary_data(db: Database, week: SummaryWeek = WEEK) -> WeeklySummary:
    """The summary of `week` as computed on NOW, through the services the bot holds."""
    clock = FrozenClock(NOW)
    directory = Directory(
        db, WebClient(token="xoxb-unused"), managers=frozenset(), default_language="en"
    )
    return weekly_summary_data(
        week,
        surveys=SurveyService(db, POLICY, clock=clock),
        oneonones=OneOnOneService(db, directory, clock=clock),
        pipeline=PIPELINE,
        currency="EUR",
        now=NOW,
    )


def build_deals(db: Database) -> None:
    """Deals (lead 10%, qualified 20%, negotiation 70%), all in EUR.

    Before the week (10 Nov): A lead 10,000 · B qualified 20,000 · C negotiation 5,000 ·
    D lead 1,000 (never touched again: stale by 1 Dec, lead goes stale after 14 days).
    In the week: 24 Nov A lead → qualified (14.0 days in lead), B won (14.0 days in
    qualified), C lost "Budget cut"; 25 Nov E created in lead, 3,000; 26 Nov A amount 15,000.
    After the week: 1 Dec E lead → qualified.

    Weighted at the start: A 1,000 + B 4,000 + C 3,500 + D 100 = 8,600.
    At the end: A 3,000 + D 100 + E 300 = 3,400, so the change is −5,200.
    Now (1 Dec): A 3,000 + D 100 + E 600 = 3,700.
    """
    clock = FrozenClock(rome(1))
    deals = DealService(db, PIPELINE, currency="EUR", clock=clock)

    def new(name: str, amount: int, stage: str) -> None:
        deals.create(BOSS, NewDealArgs(name, Money(Decimal(amount), "EUR"), stage, BOSS.user_id))

    steps: list[tuple[datetime, Callable[[], object]]] = [
        (rome(10), lambda: new("A", 10_000, "lead")),
        (rome(10), lambda: new("B", 20_000, "qualified")),
        (rome(10), lambda: new("C", 5_000, "negotiation")),
        (rome(10), lambda: new("D", 1_000, "lead")),
        (rome(24), lambda: deals.advance(BOSS, DealRefByName("A"))),
        (rome(24), lambda: deals.won(BOSS, DealRefByName("B"))),
        (rome(24), lambda: deals.lost(BOSS, DealRefByName("C"), "Budget cut")),
        (rome(25), lambda: new("E", 3_000, "lead")),
        (rome(26), lambda: deals.set_amount(BOSS, DealRefByName("A"), Money(Decimal(15_000), "EUR"))),
        (rome(1, month=12), lambda: deals.advance(BOSS, DealRefByName("E"))),
    ]  # fmt: skip
    for when, step in steps:
        clock.now = when
        step()


PEOPLE = [f"U{n:02d}PERSON" for n in range(6)]


def run_survey(
    db: Database,
    name: str,
    opens: datetime,
    closes: datetime,
    answers: list[dict[int, tuple[int | None, str | None]]],
) -> None:
    """A run invited to all PEOPLE, answered by the first len(answers) of them."""
    clock = FrozenClock(opens)
    surveys = SurveyService(db, POLICY, clock=clock)
    run = surveys.start_run(BOSS, name, audience=Audience(), open_days=7)
    surveys.invite(run, [(p, "en", opens) for p in PEOPLE], {})
    clock.now = opens + timedelta(hours=1)
    for person, answer in zip(PEOPLE, answers, strict=False):
        surveys.record_answers(run.id, person, answer, replace_all=True)
    clock.now = closes
    surveys.close(BOSS, name)


def build_surveys(db: Database) -> None:
    """eNPS run 1 (closed 16 Nov): 10, 9, 6, 8, 7 → (2 − 1) / 5 = +20.
    eNPS run 2 (closed 26 Nov), the same five people: 10, 10, 9, 3, 7 → (3 − 1) / 5 = +40,
    change +20; 2 comments (hidden).
    Pulse run 1 (closed 27 Nov): 3 people; means workload 2.0, recognition 4.0, goals 3.0,
    collaboration 5.0 (highest), wellbeing 1.0 (lowest); 3 comments (shown).
    Engagement run 1 (closed 28 Nov): 2 people — everything hidden.
    """
    enps = [10, 9, 6, 8, 7]
    run_survey(db, "enps", rome(9), rome(16), [{0: (s, None)} for s in enps])
    second: list[dict[int, tuple[int | None, str | None]]] = [
        {0: (10, None), 1: (None, "Great team")},
        {0: (10, None), 1: (None, "Fair pay")},
        {0: (9, None)},
        {0: (3, None)},
        {0: (7, None)},
    ]
    run_survey(db, "enps", rome(23), rome(26), second)
    pulse = [
        [1, 4, 3, 5, 1],
        [2, 4, 3, 5, 1],
        [3, 4, 3, 5, 1],
    ]
    comments = ["Fewer meetings", "More coffee", "Love the <new> tools"]
    run_survey(
        db,
        "pulse",
        rome(23),
        rome(27),
        [
            {**{q: (s, None) for q, s in enumerate(scores)}, 5: (None, comment)}
            for scores, comment in zip(pulse, comments, strict=True)
        ],
    )
    engagement = {q: (4, None) for q in range(1, 9)}
    run_survey(db, "engagement", rome(23), rome(28), [{0: (9, None), **engagement}] * 2)


@pytest.fixture
def summary(db: Database) -> WeeklySummary:
    build_deals(db)
    build_surveys(db)
    return summary_data(db)


def test_pipeline_figures_match_the_hand_worked_week(summary: WeeklySummary) -> None:
    pipeline = summary.pipeline
    assert pipeline.created == 1 and pipeline.created_amount == {"EUR": Decimal(3000)}
    assert pipeline.advanced == 1
    assert [d.name for d in pipeline.won] == ["B"] and pipeline.won_amount == {
        "EUR": Decimal(20000)
    }
    assert [(d.name, d.detail) for d in pipeline.lost] == [("C", "Budget cut")]
    assert pipeline.lost_amount == {"EUR": Decimal(5000)}  # C: shown beside the won, as they are
    assert pipeline.weighted == {"EUR": Decimal(3400)}
    assert pipeline.weighted_change == {"EUR": Decimal(-5200)}
    funnel = {stage.stage: stage for stage in pipeline.funnel}
    assert (funnel["lead"].open_count, funnel["qualified"].open_count) == (1, 2)  # now
    assert (funnel["lead"].entered, funnel["lead"].left, funnel["lead"].conversion) == (1, 1, 1.0)
    assert funnel["qualified"].conversion == 1.0
    assert funnel["negotiation"].conversion == 0.0
    assert funnel["proposal"].conversion is None
    assert funnel["lead"].average_days == pytest.approx(14.0)
    assert funnel["qualified"].average_days == pytest.approx(14.0)
    assert funnel["negotiation"].average_days == pytest.approx(14.0)
    assert pipeline.stale_count == 1 and [d.name for d in pipeline.stale] == ["D"]


def test_pulse_figures_match_the_hand_worked_week(summary: WeeklySummary) -> None:
    enps, pulse, engagement = summary.runs
    assert (enps.survey_name, enps.run_number, enps.answered, enps.invited) == ("enps", 2, 5, 6)
    assert (enps.enps, enps.enps_change) == (40, 20)
    assert (enps.comment_count, enps.comments) == (2, ())  # 2 < 3: counted, not shown
    assert pulse.enps is None and not pulse.hidden
    assert pulse.lowest is not None and pulse.highest is not None
    assert (pulse.lowest.index, pulse.lowest.mean) == (4, 1.0)
    assert (pulse.highest.index, pulse.highest.mean) == (3, 5.0)
    assert sorted(pulse.comments) == ["Fewer meetings", "Love the <new> tools", "More coffee"]
    assert engagement.hidden and engagement.answered == 2
    assert engagement.enps is None and engagement.lowest is None and engagement.comments == ()
    # The trend: the two eNPS runs above the threshold, and the hidden engagement run as a gap.
    assert [(p.survey_name, p.score) for p in summary.enps_trend] == [
        ("enps", 20),
        ("enps", 40),
        ("engagement", None),
    ]


@pytest.mark.parametrize("language", ["en", "it"])
def test_blocks_are_valid_and_hide_what_the_threshold_hides(
    summary: WeeklySummary, language: str
) -> None:
    blocks = [b.to_dict() for b in summary_blocks(Texts(language), summary)]  # type: ignore[arg-type]
    assert validate_blocks(blocks, pointer="/blocks", limit=50) == []
    text = block_text({"blocks": blocks})
    assert "Great team" not in text and "Fair pay" not in text
    assert "Love the &lt;new&gt; tools" in text
    assert "+40" in text and "+20" in text
    if language == "en":
        assert "2 of the 3 responses needed" in text
        assert "Budget cut" in text and "€3,400" in text and "−€5,200" in text


def test_long_lists_are_cut_with_and_n_more(summary: WeeklySummary) -> None:
    lost = [
        DealLine(f"Deal {n}", "U1", "Someone", Decimal(n), "EUR", "lost", "x" * 190)
        for n in range(300)
    ]
    big = replace(summary, pipeline=replace(summary.pipeline, lost=lost), runs=summary.runs * 20)
    blocks = [b.to_dict() for b in summary_blocks(Texts("en"), big)]
    assert len(blocks) <= 50
    assert validate_blocks(blocks, pointer="/blocks", limit=50) == []
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert all(len(s) <= 3000 for s in sections)
    assert any("and 290 more" in s for s in sections)  # ten listed, the rest counted
    assert "and 52 more" in block_text({"blocks": blocks})  # 60 runs, 8 listed


def test_the_summary_shows_what_was_lost_beside_what_was_won(summary: WeeklySummary) -> None:
    text = block_text({"blocks": [b.to_dict() for b in summary_blocks(Texts("en"), summary)]})
    assert "*Won*\n1 · €20,000" in text
    assert "*Lost*\n1 · €5,000" in text  # the count alone before


def test_an_empty_week_says_so(db: Database) -> None:
    empty = summary_data(db)
    assert empty.empty
    text = block_text({"blocks": [b.to_dict() for b in summary_blocks(Texts("en"), empty)]})
    assert "A quiet week" in text


def test_the_chart_is_a_png(summary: WeeklySummary) -> None:
    png = summary_chart(Texts("it"), summary)
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 10_000  # drawn, not an empty canvas


def drawn_figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The figures summary_chart draws, kept when it closes them."""
    from matplotlib import pyplot

    figures: list[Any] = []
    close = pyplot.close

    def keep_and_close(figure: Any) -> None:
        figures.append(figure)
        close(figure)

    monkeypatch.setattr(pyplot, "close", keep_and_close)
    return figures


def test_the_charts_deal_axis_counts_whole_deals(
    summary: WeeklySummary, monkeypatch: pytest.MonkeyPatch
) -> None:
    figures = drawn_figures(monkeypatch)
    summary_chart(Texts("en"), summary)
    deals = figures[0].axes[1]
    ticks = list(deals.get_xticks())
    assert ticks and all(float(t).is_integer() for t in ticks), ticks  # 0.25 of a deal before


def test_no_enps_yet_is_written_clear_of_the_zero_line(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_deals(db)
    figures = drawn_figures(monkeypatch)
    summary_chart(Texts("en"), summary_data(db))
    enps = figures[0].axes[0]
    (note,) = [t for t in enps.texts if t.get_text() == Texts("en")("summary.chart_no_enps")]
    # In axes fractions the zero line (of -100..100) is at 0.5: the note sits well above it.
    assert note.get_position()[1] >= 0.65


@pytest.mark.parametrize(
    ("now", "label", "hours"),
    [
        pytest.param(datetime(2026, 3, 30, 9, tzinfo=ROME), "2026-W13", 167, id="spring_forward_week"),
        pytest.param(datetime(2026, 10, 26, 9, tzinfo=ROME), "2026-W43", 169, id="fall_back_week"),
        pytest.param(datetime(2026, 11, 23, 9, tzinfo=ROME), "2026-W47", 168, id="normal_week"),
        pytest.param(datetime(2026, 11, 26, 9, tzinfo=ROME), "2026-W48", 168, id="thursday_preview"),
    ],
)  # fmt: skip
def test_week_bounds_follow_local_midnights(now: datetime, label: str, hours: int) -> None:
    week = reported_week(now, ROME)
    assert week.label == label
    assert week.end - week.start == timedelta(hours=hours)
    assert week.start.astimezone(ROME).hour == 0 and week.end.astimezone(ROME).hour == 0
    assert parse_week(label, ROME) == week


def test_a_bad_week_is_refused() -> None:
    with pytest.raises(ValueError, match="ISO week"):
        parse_week("2026-48", ROME)


# ---- posting and the preview, through the stand-in ------------------------------------------


MANAGER = "U06AJONES"


@pytest.fixture
def managed(db: Database, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    settings = make_settings(
        SLACK_API_URL=standin.url,
        DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
        PULSEBOT_MANAGERS=MANAGER,
        PULSEBOT_MANAGERS_CHANNEL="C03MANAGERS",
    )
    harness = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
    yield harness
    harness.close()


def test_the_job_posts_once_a_week_with_the_chart_in_the_thread(managed: BotHarness) -> None:
    build_deals(managed.services.db)
    monday = datetime(2026, 11, 30, 9, tzinfo=ROME)
    assert record_weekly_summary(managed.services, monday) == 1
    assert record_weekly_summary(managed.services, monday + timedelta(minutes=5)) == 0
    (message,) = [
        m for m in managed.standin.channel_messages("C03MANAGERS") if m.source == "chat.postMessage"
    ]
    assert "week of 23 November" in message.text  # 2026-W48, as people say it
    (chart,) = managed.standin.files
    assert chart.thread_ts == message.ts and chart.channel == "C03MANAGERS"
    assert chart.content.startswith(PNG_SIGNATURE)


def test_a_failed_post_releases_the_week_so_the_next_firing_retries(managed: BotHarness) -> None:
    monday = datetime(2026, 11, 30, 9, tzinfo=ROME)
    managed.standin.fail_next("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(Exception, match="channel_not_found"):
        record_weekly_summary(managed.services, monday)
    assert record_weekly_summary(managed.services, monday) == 1
    assert len(managed.standin.calls_to("chat.postMessage")) == 2


def test_pulse_summary_previews_for_a_manager_and_refuses_others(managed: BotHarness) -> None:
    reply = BotHarness.reply_text(managed.command(MANAGER, "/pulse", "summary"))
    assert "Preparing the weekly summary" in reply
    preview = managed.standin.wait_for(
        lambda: next((m for m in managed.standin.messages_for(MANAGER) if m.blocks), None),
        describe="the preview",
    )
    assert "Weekly summary" in block_text({"blocks": preview.blocks})
    assert "Preview" in block_text({"blocks": preview.blocks})
    refused = BotHarness.reply_text(managed.command("U05OSMITH", "/pulse", "summary"))
    assert "Only managers" in refused
    bad = BotHarness.reply_text(managed.command(MANAGER, "/pulse", "summary 2026-48"))
    assert "2026-W48" in bad  # the right form is named


def test_week_is_a_summary_week() -> None:
    assert isinstance(WEEK, SummaryWeek)


def test_app_home_for_an_employee_and_a_manager(managed: BotHarness) -> None:
    bot, person = managed, "U05OSMITH"
    bot.command(MANAGER, "/pulse", "start pulse")
    dm = bot.standin.wait_for(lambda: next(iter(bot.dms(person)), None), describe="the DM")
    run_id = next(e["value"] for b in dm.blocks if b["type"] == "actions" for e in b["elements"])

    def home_of(user_id: str, count: int) -> str:
        calls = bot.standin.wait_for(
            lambda: (
                [
                    c
                    for c in bot.standin.calls_to("views.publish")
                    if c.params["user_id"] == user_id
                ][count - 1 :]
                or None
            ),
            describe=f"home view {count} of {user_id}",
        )
        view = calls[-1].params["view"]
        assert isinstance(view, dict)
        return block_text(view)

    bot.dispatch(bot.requests.app_home_opened(person))
    assert "[Answer]" in home_of(person, 1)
    answers = {f"q{q}": {"answer": {"type": "radio_buttons", "selected_option": {"value": str(q + 1)}}}
               for q in range(5)}  # fmt: skip
    bot.submit(person, "pulse.answers", answers, run_id)
    # Not refreshed by the answer itself (nothing naming the person is read beside it): the
    # next time they open it.
    assert bot.services.background.wait_idle()
    assert (
        len([c for c in bot.standin.calls_to("views.publish") if c.params["user_id"] == person])
        == 1
    )
    bot.dispatch(bot.requests.app_home_opened(person))
    assert "[Change my answers]" in home_of(person, 2)
    bot.command(MANAGER, "/pulse", "close pulse")
    bot.clock.advance(timedelta(minutes=5))
    bot.dispatch(bot.requests.app_home_opened(person))
    past = home_of(person, 3)
    assert "Surveys you answered" in past and "*5*" not in past  # that they did, not what
    assert "For managers" not in past
    bot.dispatch(bot.requests.app_home_opened(MANAGER))
    manager = home_of(MANAGER, 1)
    assert "Latest results" in manager and "1 of" in manager
    assert "anonymity" in manager  # one answer: hidden below the threshold
    assert "[Full results]" in manager and "[Weekly summary preview]" in manager
