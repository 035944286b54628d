"""Results under the threshold stay hidden in every path: the command, App Home, the weekly
summary, the CSV export and the logs (at DEBUG).

(No row holds both a user id and an answer: tests/test_surveys.py,
`test_anonymity_no_row_holds_a_user_id_and_an_answer`. Teams subtracted from the total within
one run: tests/test_surveys.py, `test_results_per_team_with_threshold_and_subtraction_guard`.)
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.actor import Actor
from bot.delivery import survey_dms as jobs
from bot.i18n import Texts
from bot.jobs import record_weekly_summary
from bot.summary import enps_trend
from bot.surveys.templates import TEMPLATES
from bot.views import surveys as survey_views
from storage import surveys as store
from tests.harness import BotHarness, block_text
from tests.reliability.helpers import MANAGER

COMMENT = "only-two-of-us-said-this"
ANSWERING = ["U04LROMAN", "U05OSMITH"]  # two people: under the threshold of three


def answer(bot: BotHarness, user: str, run_value: str, score: int) -> None:
    values: dict[str, Any] = {
        f"q{i}": {"answer": {"type": "radio_buttons", "selected_option": {"value": str(score)}}}
        for i in range(5)
    }
    values["q5"] = {"answer": {"type": "plain_text_input", "value": COMMENT}}
    response = bot.submit(user, survey_views.ANSWERS_CALLBACK, values, run_value)
    assert (response.status, response.body) == (200, "")


def enps_click(bot: BotHarness, user: str, score: int) -> None:
    dm = bot.standin.wait_for(
        lambda: next(
            (m for m in bot.dms(user) if "recommend" in block_text({"blocks": m.blocks})), None
        ),
        describe=f"the eNPS DM of {user}",
    )
    value = next(b for b in dm.blocks if b["type"] == "actions")["elements"][score]["value"]
    assert bot.click(user, f"pulse.enps.{score}", value, message=dm).status == 200


def test_results_under_the_threshold_are_hidden_everywhere(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # as production at PULSEBOT_LOG_LEVEL=DEBUG
    standin = bot.standin
    bot.command(MANAGER, "/pulse", "start pulse")
    bot.command(MANAGER, "/pulse", "start enps")
    standin.wait_for(
        lambda: all(len(bot.dms(u)) >= 2 for u in ANSWERING), describe="the two survey DMs"
    )
    assert bot.services.background.wait_idle()
    pulse_dm = next(
        m for m in bot.dms(ANSWERING[0]) if "recommend" not in block_text({"blocks": m.blocks})
    )
    run_value = next(b for b in pulse_dm.blocks if b["type"] == "actions")["elements"][0]["value"]
    for user, score in zip(ANSWERING, (1, 5), strict=True):
        answer(bot, user, run_value, score)
    for user, score in zip(ANSWERING, (0, 10), strict=True):
        enps_click(bot, user, score)
    assert bot.services.background.wait_idle()

    seen: dict[str, str] = {}
    for survey in ("pulse", "enps"):
        seen[f"command {survey}"] = BotHarness.reply_text(
            bot.command(MANAGER, "/pulse", f"results {survey}")
        )
    for survey in ("pulse", "enps"):
        bot.command(MANAGER, "/pulse", f"export {survey}")
        bot.command(MANAGER, "/pulse", f"close {survey}")
    jobs.close_due_runs(bot.services, bot.clock())
    bot.dispatch(bot.requests.app_home_opened(MANAGER))
    assert record_weekly_summary(bot.services, bot.clock() + timedelta(days=7)) == 1
    assert bot.services.background.wait_idle()
    standin.wait_for(lambda: len(standin.files) >= 3, describe="two CSVs and the chart")
    seen["app home"] = block_text(standin.home_view(MANAGER) or {})
    csvs = [f for f in standin.files if f.name.endswith(".csv")]
    assert len(csvs) == 2
    seen["csv"] = "\n".join(f.content.decode() for f in csvs)
    seen["messages"] = "\n".join(
        block_text({"text": m.text, "blocks": m.blocks})
        for m in standin.messages
        if m.recipient not in ANSWERING
    )
    seen["logs"] = caplog.text
    assert ":lock:" in seen["command pulse"] and ":lock:" in seen["command enps"]
    for path, text in seen.items():
        assert COMMENT not in text, path
        # The eNPS of the two (0 and 10: 50% promoters, 50% detractors) shows nowhere.
        assert "50%" not in text, path
    # Nor does any log line tie someone to what they answered.
    for record in caplog.records:
        message = record.getMessage()
        assert "you answered *" not in message, (record.name, message[:200])


def test_two_overlapping_audiences_cannot_be_subtracted(bot: BotHarness) -> None:
    # `enps` to #sales and a copy to #sales and Luca, at the same time. If both showed, the
    # difference of the two totals would be Luca's score: the shared question hides in both.
    bot.services.surveys.create(Actor(MANAGER, is_manager=True), "enps-copy", TEMPLATES["enps"])
    bot.command(MANAGER, "/pulse", "start enps to <#C02SALES|sales>")
    bot.command(MANAGER, "/pulse", "start enps-copy to <#C02SALES|sales> <@U04LROMAN>")
    reps = ["U02MBIANC", "U03FESPOS", "U05OSMITH", "U07JMILLE", "U09HSATO", "U15DGARCI"]
    bot.standin.wait_for(
        lambda: all(len(bot.dms(u)) == 2 for u in reps) and bot.dms("U04LROMAN"),
        describe="the DMs of both runs",
    )
    assert bot.services.background.wait_idle()

    def buttons(dm: Any) -> list[dict[str, Any]]:
        elements: list[dict[str, Any]] = next(b for b in dm.blocks if b["type"] == "actions")[
            "elements"
        ]
        return elements

    def run_of(dm: Any) -> str:
        return str(buttons(dm)[0]["value"]).split(":")[0]

    # The two fan-outs run side by side, so a person's DMs may come in either order: each
    # click picks its DM by run. Luca only had the copy, which names the copy's run.
    copy_run = run_of(bot.dms("U04LROMAN")[0])

    def click(user: str, copy: bool, score: int) -> None:
        dm = next(m for m in bot.dms(user) if (run_of(m) == copy_run) == copy)
        value = buttons(dm)[score]["value"]
        assert bot.click(user, f"pulse.enps.{score}", value, message=dm).status == 200

    for user in reps[:4]:  # in both runs
        click(user, False, 9)
        click(user, True, 9)
    click("U04LROMAN", True, 2)

    def results(survey: str) -> str:
        return BotHarness.reply_text(bot.command(MANAGER, "/pulse", f"results {survey}"))

    for survey in ("enps", "enps-copy"):
        text = results(survey)
        assert Texts("it")("pulse.results.question_withheld") in text, survey  # the manager's
        assert "eNPS +" not in text and "eNPS -" not in text, survey
    bot.command(MANAGER, "/pulse", "export enps-copy")
    export = bot.standin.wait_for(lambda: bot.standin.files)[-1].content.decode()
    assert "hidden_overlapping_run" in export and "promoters" not in export

    # Two more reps answer `enps` only: the two runs' people now differ by three, both show.
    click(reps[4], False, 10)
    click(reps[5], False, 10)
    assert "eNPS +100" in results("enps")
    assert "eNPS +60" in results("enps-copy")  # 9, 9, 9, 9 and 2


def test_a_question_withheld_for_an_overlap_gives_no_trend_point_and_no_change(
    bot: BotHarness,
) -> None:
    # The same two overlapping runs, closed. The withheld eNPS must not come back another way:
    # as a point of the summary's trend chart, or as next run's "change against the previous".
    bot.services.surveys.create(Actor(MANAGER, is_manager=True), "enps-copy", TEMPLATES["enps"])
    bot.command(MANAGER, "/pulse", "start enps to <#C02SALES|sales>")
    bot.command(MANAGER, "/pulse", "start enps-copy to <#C02SALES|sales> <@U04LROMAN>")
    reps = ["U02MBIANC", "U03FESPOS", "U05OSMITH", "U07JMILLE"]
    bot.standin.wait_for(
        lambda: all(len(bot.dms(u)) == 2 for u in reps) and bot.dms("U04LROMAN"),
        describe="the DMs of both runs",
    )
    assert bot.services.background.wait_idle()
    surveys = bot.services.surveys
    with bot.services.db.transaction() as session:
        runs = {r.id: r for r in store.resolved_open_runs(session)}
    for run_id in runs:
        for user in [*reps, "U04LROMAN"]:
            surveys.record_answers(run_id, user, {0: (9, None)}, replace_all=False)
    bot.clock.advance(timedelta(days=2))  # both runs were open, side by side, until now
    for survey in ("enps", "enps-copy"):
        bot.command(MANAGER, "/pulse", f"close {survey}")
    later = bot.clock() + timedelta(days=1)
    points = enps_trend(surveys, later, ZoneInfo("UTC"))
    assert [(p.survey_name, p.score) for p in points] == [("enps", None), ("enps-copy", None)]

    # A second run of `enps`, overlapping nothing: its figures show, with no change.
    bot.clock.advance(timedelta(days=1))
    bot.command(MANAGER, "/pulse", "start enps to <#C02SALES|sales>")
    bot.standin.wait_for(lambda: all(len(bot.dms(u)) == 3 for u in reps), describe="run 2")
    assert bot.services.background.wait_idle()
    with bot.services.db.transaction() as session:
        (second,) = store.resolved_open_runs(session)
    for user in reps:
        surveys.record_answers(second.id, user, {0: (10, None)}, replace_all=False)
    text = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "results enps"))
    assert "eNPS +100" in text
    assert "rispetto al turno precedente" not in text, text  # the manager reads Italian
