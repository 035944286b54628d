"""Every released figure carries its interval and every change is called real or noise: the
release (bot.surveys.results.with_uncertainty), the pipeline metrics, and each surface that shows
them — /pulse results, App Home, the summary, the CSV, the chart, /deal pipeline — in both
languages. The figures are worked by hand in tests/test_statistics.py."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal

import pytest
from slack_sdk.models.blocks import Block

from bot.clock import FrozenClock
from bot.deals.metrics import MIN_CLOSED_DEALS, PipelineReport, StageLine
from bot.delivery.home import manager_glance
from bot.delivery.summary import compute_summary
from bot.i18n import Texts
from bot.standin import SlackStandIn
from bot.statistics import CORRECTED, SAMPLE, WHOLE
from bot.summary import EnpsPoint
from bot.surveys.model import Question, SurveyDefinition
from bot.surveys.results import (
    THRESHOLD,
    FigureInterval,
    RunResults,
    question_results,
    released,
    segment_results,
    with_uncertainty,
)
from bot.views import deals as deal_views
from bot.views import surveys as views
from bot.views.help import pulse_help
from bot.views.home import home_view
from bot.views.summary import summary_blocks
from bot.weeks import week_containing
from storage.db import Database
from storage.deals import SourceConversion
from tests.conftest import make_settings
from tests.harness import BotHarness, block_text

ENPS = SurveyDefinition(
    title="eNPS", questions=(Question("enps", text_key="pulse.questions.enps"),)
)
PULSE = SurveyDefinition(title="Pulse", questions=(Question("scale", text="My workload is fine"),))
# The worked example: 4 promoters, 2 passives, 2 detractors.
WORKED = [10, 9, 9, 10, 7, 8, 3, 6]


def release(
    definition: SurveyDefinition,
    numbers: list[int],
    *,
    invited: int,
    previous: RunResults | None = None,
    without_distribution: frozenset[int] = frozenset(),
    hidden: dict[int, str] | None = None,
    confidence: int = 95,
) -> RunResults:
    """A run's release as bot.surveys.releases.release_run makes it, minus the database."""
    answers = [(0, n, None) for n in numbers]
    before = {q.index: q for q in previous.questions} if previous else None
    computed = RunResults(
        run_number=1,
        invited=invited,
        answered=len(numbers),
        min_responses=3,
        questions=question_results(definition, answers, previous=before),
    )
    shown = released(computed, hidden or {}, {}, set(without_distribution))
    return with_uncertainty(shown, computed, confidence=confidence, previous=before)


# ---- the release ---------------------------------------------------------------------------


def test_enps_release_holds_the_worked_interval() -> None:
    q = release(ENPS, WORKED, invited=20).questions[0]
    assert q.enps is not None and q.enps.score == 25  # the plain score stays
    assert q.estimate is not None and round(q.estimate) == 18
    assert q.low is not None and q.high is not None
    assert (round(q.low), round(q.high)) == (-29, 66)
    assert q.coverage == SAMPLE


def test_withheld_bands_give_the_widest_interval_the_score_allows() -> None:
    q = release(ENPS, WORKED, invited=20, without_distribution=frozenset({0})).questions[0]
    assert q.enps is not None and q.enps.promoters is None  # bands not shown
    assert q.low is not None and q.high is not None
    assert (round(q.low), round(q.high)) == (-36, 72)  # see test_statistics


def test_a_hidden_figure_gets_no_interval() -> None:
    q = release(ENPS, WORKED, invited=20, hidden={0: THRESHOLD}).questions[0]
    assert q.hidden
    assert (q.estimate, q.low, q.high, q.standard_error, q.coverage) == (None,) * 5


def test_nearly_everyone_and_everyone() -> None:
    assert release(ENPS, WORKED, invited=9).questions[0].coverage == CORRECTED
    whole = release(ENPS, WORKED, invited=8).questions[0]
    assert whole.coverage == WHOLE and whole.low == whole.high == 25


def test_a_change_is_real_only_beyond_both_releases_noise() -> None:
    first = release(ENPS, WORKED, invited=20)  # +25, SE 24.3
    # Eight promoters: +100 (adjusted +73, SE 17.4). 75 > 1.96·√(24.3² + 17.4²) = 58.6: real.
    second = release(ENPS, [10] * 4 + [9] * 4, invited=20, previous=first)
    assert second.questions[0].change == 75 and second.questions[0].change_real is True
    # Seven promoters and a passive: +88, a drop of 12: noise.
    third = release(ENPS, [9] * 6 + [10, 7], invited=20, previous=second)
    assert third.questions[0].change == -12 and third.questions[0].change_real is False


def test_scale_mean_and_share_intervals() -> None:
    # 3, 3, 4, 4: mean 3.5, t-interval 2.58 … 4.42; 2 of 4 favourable, Wilson 15% … 85%.
    q = release(PULSE, [3, 3, 4, 4], invited=20).questions[0]
    assert q.low is not None and q.high is not None
    assert (round(q.low, 2), round(q.high, 2)) == (2.58, 4.42)
    assert q.favourable_low is not None and q.favourable_high is not None
    assert (round(100 * q.favourable_low), round(100 * q.favourable_high)) == (15, 85)


def test_scale_without_counts_takes_the_largest_spread() -> None:
    # Mean 3.5 of 4: s ≤ √(2.5·1.5·4/3) = 2.236, SE 1.118, t(3) = 3.182 → 3.5 ± 3.56, cut to 1–5.
    q = release(PULSE, [3, 3, 4, 4], invited=20, without_distribution=frozenset({0})).questions[0]
    assert (q.low, q.high) == (1, 5)


def test_a_team_figure_gets_the_widest_interval_its_score_allows() -> None:
    # Team C1: five of its ten answered 10, 10, 9, 7, 3 (+40); the three others in no team. Its
    # bands never show, so P − D = 2 of n = 5 with nobody passive: p̃ − d̃ = 2/8 = 0.25,
    # var = (6.5/8 − 0.0625)/8 = 0.09375, SE 30.6 → +25 ± 60.0 → −35 … +85.
    numbers = [10, 10, 9, 7, 3, 9, 9, 2]
    answers = [(0, n, None) for n in numbers]
    by_team = [("C1", f"r{i}", 0, n, None) for i, n in enumerate(numbers[:5])]
    computed = RunResults(
        run_number=1,
        invited=20,
        answered=8,
        min_responses=3,
        questions=question_results(ENPS, answers),
        segments=segment_results(ENPS, answers, by_team, {"C1": 10}, answered=8, min_responses=3),
    )
    results = with_uncertainty(computed, computed, confidence=95)
    team = results.segments[0].questions[0]
    assert team.enps is not None and team.enps.score == 40
    assert team.low is not None and team.high is not None
    assert (round(team.low), round(team.high)) == (-35, 85)
    line = text_of(views.results_blocks(Texts("en"), "enps", ENPS, results))
    assert "*eNPS +40* (-35 to +85)" in line


def test_the_snapshot_keeps_the_intervals_and_old_snapshots_still_read() -> None:
    results = release(ENPS, WORKED, invited=20, confidence=90)
    again = RunResults.from_json(results.to_json())
    assert again == results and again.confidence == 90
    old = RunResults.from_json(
        '{"run_number": 1, "invited": 5, "answered": 3, "min_responses": 3, "segments": [],'
        ' "questions": [{"index": 0, "kind": "enps", "answered": 3, "hidden": false,'
        ' "reason": null, "mean": 9.0, "favourable": null, "distribution": [],'
        ' "enps": {"score": 100, "promoters": null, "passives": null, "detractors": null},'
        ' "change": null, "comments": []}]}'
    )
    assert old.confidence is None and old.questions[0].low is None


def text_of(blocks: Sequence[Block]) -> str:
    return block_text({"blocks": [b.to_dict() for b in blocks]})


# ---- the views -----------------------------------------------------------------------------


def test_results_show_the_interval_and_the_verdict_in_both_languages() -> None:
    first = release(ENPS, WORKED, invited=20)
    second = release(ENPS, [9] * 6 + [10, 7], invited=20, previous=first)
    english = text_of(views.results_blocks(Texts("en"), "enps", ENPS, first))
    assert "*eNPS +25*" in english
    assert "estimate +18 (-29 to +66) · 95% interval" in english
    third = release(ENPS, [10] * 4 + [9] * 4, invited=20, previous=second)
    italian = text_of(views.results_blocks(Texts("it"), "enps", ENPS, third))
    assert "stima +73 (da +39 a +100) · intervallo al 95%" in italian
    assert "nella variabilità normale, non è un vero cambiamento" in italian  # +100 from +88
    real = text_of(views.results_blocks(Texts("en"), "enps", ENPS, second))
    assert "a real change, beyond normal variation" in real  # +88 from +25


def test_whole_team_and_nearly_everyone_are_said() -> None:
    whole = views.results_blocks(Texts("en"), "enps", ENPS, release(ENPS, WORKED, invited=8))
    assert "this is the whole team's figure, not an estimate" in text_of(whole)
    nearly = views.results_blocks(Texts("it"), "enps", ENPS, release(ENPS, WORKED, invited=9))
    assert "hanno risposto quasi tutti (8 su 9)" in text_of(nearly)


def test_csv_keeps_the_plain_enps_and_adds_estimate_and_interval() -> None:
    first = release(ENPS, WORKED, invited=20)
    second = release(ENPS, [10] * 4 + [9] * 4, invited=20, previous=first)
    rows = list(csv.reader(io.StringIO(views.export_file(Texts("en"), [(second, ENPS)]).decode())))
    metrics = {row[4]: row[5] for row in rows[1:]}
    assert metrics["enps"] == "100"
    assert metrics["enps_estimate"] == "72.7"
    assert (metrics["enps_low"], metrics["enps_high"]) == ("38.5", "100.0")
    assert metrics["confidence_percent"] == "95" and metrics["coverage"] == "sample"
    assert (metrics["change"], metrics["change_beyond_noise"]) == ("75", "yes")


def test_pulse_help_says_what_the_interval_means() -> None:
    english = text_of(pulse_help(Texts("en"), min_responses=3, confidence=90))
    assert "90 times out of 100" in english
    italian = text_of(pulse_help(Texts("it"), min_responses=3, confidence=90))
    assert "90 volte su 100" in italian


# ---- the pipeline --------------------------------------------------------------------------


def report(won: int, lost: int, *, cycle: float | None = 12.0) -> PipelineReport:
    line = StageLine("proposal", 50, 1, {"EUR": Decimal(1000)}, {"EUR": Decimal(500)}, (5, 3), 2.0)
    return PipelineReport(
        stages=[line],
        open_count=1,
        open_amount={"EUR": Decimal(1000)},
        weighted_total={"EUR": Decimal(500)},
        won=won,
        lost=lost,
        average_won_amount={"EUR": Decimal(1000)},
        average_cycle_days=cycle,
        open_count_by_currency={"EUR": 1},
        sources=[SourceConversion("webinar", 6, 3, 2)],
    )


def pipeline_text(language: str, value: PipelineReport) -> str:
    blocks = deal_views.pipeline(Texts(language), value, language, "EUR")  # type: ignore[arg-type]
    return text_of(blocks)


def test_win_rate_and_conversion_with_wilson_intervals() -> None:
    value = report(3, 2)
    win = value.win_rate_interval
    assert win is not None and (round(100 * win.low), round(100 * win.high)) == (23, 88)
    conversion = value.stages[0].conversion_interval  # 3 of 5 moved on
    assert conversion is not None and round(100 * conversion.low) == 23
    text = pipeline_text("en", value)
    assert "60% (23%–88%) (3/5)" in text
    assert "proposal 60% (23%–88%)" in text
    assert "webinar: 6 deals, 3 won — win rate 60% (23%–88%)" in text


def test_one_closed_deal_is_not_a_bare_hundred_percent() -> None:
    text = pipeline_text("en", report(1, 0, cycle=3.0))
    assert "100% (21%–100%)" in text
    assert "not enough data yet (1 closed deal)" in text  # velocity and cycle
    assert "3.0" not in text.split("Average sales cycle")[1].split("\n")[1]
    italian = pipeline_text("it", report(2, 1))
    assert "dati ancora insufficienti (3 trattative chiuse)" in italian


def test_velocity_and_cycle_show_from_the_minimum() -> None:
    enough = report(MIN_CLOSED_DEALS - 4, 4)
    assert enough.enough_closed and enough.shown_cycle_days == 12.0
    assert enough.shown_velocity == enough.velocity_per_day != {}
    few = report(MIN_CLOSED_DEALS - 5, 4)
    assert not few.enough_closed and few.shown_velocity is None and few.shown_cycle_days is None
    assert "12.0" in pipeline_text("en", enough)


# ---- the chart -----------------------------------------------------------------------------


def test_chart_draws_intervals_and_rings_real_changes() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    from bot.chart import _draw_uncertainty

    day = date(2026, 3, 2)
    trend = [
        EnpsPoint("enps", 1, day, 25, FigureInterval(18.2, -29.4, 65.8, 95, SAMPLE)),
        EnpsPoint("enps", 2, day, 100, FigureInterval(72.7, 38.5, 100.0, 95, SAMPLE, True)),
        EnpsPoint("enps", 3, day, None),  # withheld: no point, no bar
    ]
    figure, axes = pyplot.subplots()
    try:
        _draw_uncertainty(axes, Texts("it"), trend)
        _, labels = axes.get_legend_handles_labels()
        assert sorted(labels) == ["cambiamento reale", "intervallo al 95%"]
        ring = axes.collections[-1]
        assert ring.get_offsets().tolist() == [[1.0, 100.0]]  # type: ignore[union-attr]
    finally:
        pyplot.close(figure)


# ---- end to end: signed requests, both surfaces a manager reads -------------------------------

MANAGER = "U06AJONES"
PEOPLE = ["U02MBIANC", "U03FESPOS", "U04LROMAN", "U05OSMITH", "U07JMILLE", "U08EDAVIS",
          "U09HSATO", "U13ACOLOM", "U14SBROWN", "U15DGARCI", "U16YTANAK"]  # fmt: skip


@pytest.fixture
def bot(db: Database, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    settings = make_settings(
        SLACK_API_URL=standin.url,
        DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
        PULSEBOT_MANAGERS=MANAGER,
    )
    harness = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
    yield harness
    harness.close()


def enps_round(bot: BotHarness, number: int, scores: dict[str, int]) -> None:
    bot.command(MANAGER, "/pulse", "start enps")
    bot.standin.wait_for(
        lambda: all(len(bot.dms(p)) >= number for p in scores), describe="DMs", timeout=10
    )
    assert bot.services.background.wait_idle()
    for user, score in scores.items():
        dm = bot.dms(user)[number - 1]
        actions = next(b["elements"] for b in dm.blocks if b["type"] == "actions")
        assert (
            bot.click(user, f"pulse.enps.{score}", actions[score]["value"], message=dm).status
            == 200
        )
    bot.command(MANAGER, "/pulse", "close enps")
    bot.clock.advance(timedelta(days=7))


def test_results_summary_and_home_tell_noise_from_a_real_change(bot: BotHarness) -> None:
    # Run 1: the worked example from eight people; run 2: eight promoters from eight others
    # (+100, a real change); run 3: the first eight again, +88 (a drop of 12: noise).
    enps_round(bot, 1, dict(zip(PEOPLE[:8], WORKED, strict=True)))
    enps_round(bot, 2, dict.fromkeys(PEOPLE[3:], 10))
    enps_round(bot, 3, dict(zip(PEOPLE[:8], [9] * 6 + [10, 7], strict=True)))
    text = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "results enps run 1"))
    assert "estimate +18 (-29 to +66) · 95% interval" in text
    text = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "results enps run 2"))
    assert "(+75 against the previous run) — a real change, beyond normal variation" in text
    text = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "results enps"))
    assert "(-12 against the previous run) — within normal variation, not a real change" in text

    now = bot.clock()
    glance = manager_glance(bot.services, now)
    assert glance.latest is not None and glance.latest.enps_interval is not None
    assert glance.latest.enps_interval.real is False
    home = text_of(
        home_view(
            Texts("it"),
            name="Amelia",
            is_manager=True,
            deal_blocks=[],
            open_surveys=[],
            answered=[],
            glance=glance,
            oneonone_blocks=[],
        ).blocks
    )
    # Run 3: 7 promoters, 1 passive: p̃ = 7.75/11, d̃ = 0.75/11 → +64, SE 18.3 → +28 … +99.
    assert "stima +64 (da +28 a +99) · intervallo al 95%" in home
    week = week_containing(now - timedelta(days=7), bot.services.settings.zone)
    summary = compute_summary(bot.services, week, now)
    assert [p.interval.real if p.interval else None for p in summary.enps_trend] == [
        None,
        True,
        False,
    ]
    text = text_of(summary_blocks(Texts("en"), summary))
    assert "(-12 against the previous run) — within normal variation, not a real change" in text
    assert "estimate +64 (+28 to +99) · 95% interval" in text
    assert "eNPS over the latest runs: +25 → +100 (real change) → +88" in text
