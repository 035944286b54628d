"""Text at and beyond Slack's limits never makes a message Slack would reject.

The judge is the stand-in's Block Kit validation (Slack's rules: 50 blocks a message, 3,000
characters a section, 150 a header, 2,000 a section field...), applied to every ack body here
and, by the stand-in itself, to every message, view and response_url post the bot sends.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.delivery import survey_dms as jobs
from bot.delivery.deal_digests import send_deal_digests
from bot.standin import validate_blocks
from bot.views import surveys as survey_views
from storage.deals import DealEvent
from tests.harness import BotHarness
from tests.reliability.helpers import MANAGER, REP, deal_count

# Characters that grow when escaped for mrkdwn (&amp; is five times "&").
AWKWARD = "&<>*_~`|"
PEOPLE = ["U01GROSSI", "U02MBIANC", "U03FESPOS", "U04LROMAN", "U05OSMITH", "U07JMILLE"]
REJECTIONS = {"invalid_blocks", "msg_too_long", "invalid_arguments", "invalid_blocks_format"}


def long_text(length: int, seed: str = "") -> str:
    unit = f"{seed}{AWKWARD} long text ✨ "
    return (unit * (length // len(unit) + 1))[:length]


def valid_reply(bot: BotHarness, user_id: str, command: str, text: str) -> dict[str, Any]:
    response = bot.command(user_id, command, text)
    body = BotHarness.reply(response)
    problems = validate_blocks(body.get("blocks", []))
    assert problems == [], (text[:60], problems[:3])
    assert len(body.get("text") or "") <= 40_000
    return body


def assert_slack_accepted_everything(bot: BotHarness) -> None:
    assert bot.services.background.wait_idle(timeout=30)
    rejected = [
        (call.method, call.error, (call.response or {}).get("errors", [])[:2])
        for call in bot.standin.calls
        if call.error in REJECTIONS or (call.method == "response_url" and call.status >= 400)
    ]
    assert rejected == []


def test_deals_at_and_beyond_the_limits(bot: BotHarness) -> None:
    for n in range(55):  # more deals than fit in one message
        name = f"{n:02d} " + long_text(97, seed=str(n))
        valid_reply(bot, REP, "/deal", f'new "{name}" 1k proposal source:webinar')
    big = "00 " + long_text(97, seed="0")
    for n in range(15):  # more history than fits, each note at its limit
        valid_reply(bot, REP, "/deal", f'note "{big}" {long_text(2000, seed=str(n))}')
    valid_reply(bot, REP, "/deal", f'next "{big}" {long_text(1900)} due:tomorrow')
    valid_reply(bot, REP, "/deal", f'lost "01 {long_text(97, seed="1")}" {long_text(2000)}')
    for text in ("list", "list all", f'show "{big}"', "pipeline", "stalled", "help",
                 f"note x {long_text(5000)}", f"new {long_text(300)}", long_text(3500)):  # fmt: skip
        valid_reply(bot, REP, "/deal", text)
        valid_reply(bot, MANAGER, "/deal", text)
    assert deal_count(bot) == 55
    with bot.services.db.transaction() as session:
        kinds = [e.kind for e in session.scalars(select(DealEvent))]
    assert kinds.count("note") == 15 and kinds.count("stage") >= 1, kinds
    bot.dispatch(bot.requests.app_home_opened(REP))
    # The stale-deal digest, weeks later (at 20:00 UTC, past 09:00 for the rep), lists them all.
    later = (bot.clock() + timedelta(days=40)).replace(hour=20, minute=0)
    send_deal_digests(bot.services, later)
    assert bot.standin.calls_to("chat.postMessage")
    assert_slack_accepted_everything(bot)


def test_survey_comments_and_results_at_the_limits(bot: BotHarness) -> None:
    settings = bot.services.settings
    assert settings.managers_channel is None  # the summary goes to managers' DMs
    valid_reply(bot, MANAGER, "/pulse", "start pulse")
    bot.standin.wait_for(lambda: all(bot.dms(p) for p in PEOPLE), describe="survey DMs")
    assert bot.services.background.wait_idle()
    dm = bot.dms(PEOPLE[0])[0]
    run_value = next(b for b in dm.blocks if b["type"] == "actions")["elements"][0]["value"]
    for n, user in enumerate(PEOPLE):
        values: dict[str, Any] = {
            f"q{i}": {"answer": {"type": "radio_buttons", "selected_option": {"value": "4"}}}
            for i in range(5)
        }
        values["q5"] = {"answer": {"type": "plain_text_input", "value": long_text(3000, str(n))}}
        response = bot.submit(user, survey_views.ANSWERS_CALLBACK, values, run_value)
        assert response.status == 200 and response.body == "", response.body
    for text in ("results pulse", "list", "templates", "help", "export pulse", "summary"):
        valid_reply(bot, MANAGER, "/pulse", text)
    valid_reply(bot, MANAGER, "/pulse", "close pulse")
    jobs.close_due_runs(bot.services, bot.clock())
    shown = valid_reply(bot, MANAGER, "/pulse", "results pulse")
    assert "long text" in BotHarness.reply_text(bot.command(MANAGER, "/pulse", "results pulse"))
    assert shown["blocks"]
    bot.dispatch(bot.requests.app_home_opened(MANAGER))
    from bot.jobs import record_weekly_summary

    assert record_weekly_summary(bot.services, bot.clock() + timedelta(days=7)) == 1
    summaries = [m for m in bot.dms(MANAGER) if m.text.startswith("Riepilogo settimanale")]
    assert summaries, [m.text for m in bot.dms(MANAGER)]
    assert_slack_accepted_everything(bot)


def test_a_composed_survey_at_its_limits(bot: BotHarness) -> None:
    questions = "\n".join(
        f"choice: {long_text(140, str(n))} | "
        + " | ".join(long_text(70, str(k)) for k in range(10))
        for n in range(10)
    )
    values = {
        "name": {"value": {"type": "plain_text_input", "value": "limits"}},
        "title": {"value": {"type": "plain_text_input", "value": long_text(60)}},
        "questions": {"value": {"type": "plain_text_input", "value": questions}},
    }
    response = bot.submit(MANAGER, survey_views.COMPOSE_CALLBACK, values)
    assert response.status == 200
    if response.body:  # refused: say why, under a field
        assert BotHarness.reply(response)["response_action"] == "errors"
        return
    valid_reply(bot, MANAGER, "/pulse", "start limits")
    bot.standin.wait_for(lambda: all(bot.dms(p) for p in PEOPLE), describe="survey DMs")
    dm = bot.dms(PEOPLE[0])[0]
    run_value = next(b for b in dm.blocks if b["type"] == "actions")["elements"][0]["value"]
    bot.click(PEOPLE[0], survey_views.OPEN_ANSWERS_ACTION, run_value, message=dm)
    bot.standin.wait_for_calls("views.open", count=1)
    assert_slack_accepted_everything(bot)
