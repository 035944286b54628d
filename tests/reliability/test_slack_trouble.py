"""Slack Web API trouble: every method the bot calls is rate limited (429 + Retry-After), then
fails (500, 503), then times out, before it answers. The bot waits, retries within bounds,
delivers everything once, and logs what it gave up on; nothing crashes.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.delivery import survey_dms as jobs
from bot.jobs import record_weekly_summary, sync_user_directory
from bot.slack_client import FAILURE_RETRIES, retry_handlers
from bot.standin import RESPONSE_URL, UPLOAD, Fault, SlackStandIn
from bot.views import deals as deal_views
from bot.views import surveys as survey_views
from storage import surveys as store
from tests.harness import BotHarness
from tests.reliability.helpers import MANAGER, OTHER_REP, REP

pytestmark = pytest.mark.slow

CLIENT_TIMEOUT = 1
TROUBLE = [
    Fault(status=429, retry_after=1),
    Fault(status=429, retry_after=1),
    Fault(status=500),
    Fault(status=503),
    Fault(timeout=CLIENT_TIMEOUT + 0.5),
]
EVERY_METHOD = {
    "users.list", "users.info", "chat.postMessage", "chat.update", "chat.postEphemeral",
    "views.open", "views.publish", "conversations.open", "conversations.history",
    "conversations.members",
    "files.getUploadURLExternal", "files.completeUploadExternal", UPLOAD, RESPONSE_URL,
}  # fmt: skip
MANAGERS = ("U01GROSSI", "U06AJONES")  # the members of #managers
PEOPLE = ["U01GROSSI", "U02MBIANC", "U03FESPOS", "U04LROMAN", "U05OSMITH", "U06AJONES",
          "U07JMILLE", "U08EDAVIS", "U09HSATO"]  # fmt: skip


def impatient(bot: BotHarness) -> None:
    """Production's retry policy with short waits, so the test takes seconds, not minutes."""
    client = bot.services.client
    client.retry_handlers[:] = retry_handlers(backoff_seconds=0.05)
    client.timeout = CLIENT_TIMEOUT


def statuses(standin: SlackStandIn, method: str) -> Counter[int]:
    return Counter(call.status for call in standin.calls_to(method))


def survey_dms(bot: BotHarness, user_id: str, *, multi_question: bool = False) -> list[Any]:
    """`user_id`'s DMs of one-click eNPS surveys, or of surveys answered in a form."""

    def action_ids(message: Any) -> set[str]:
        return {e.get("action_id", "") for b in message.blocks if b["type"] == "actions"
                for e in b["elements"]}  # fmt: skip

    return [
        m
        for m in bot.dms(user_id)
        if action_ids(m) and (survey_views.OPEN_ANSWERS_ACTION in action_ids(m)) == multi_question
    ]


def test_every_web_api_method_rides_out_limits_errors_and_timeouts(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    impatient(bot)
    standin = bot.standin
    for method in ("*", RESPONSE_URL):
        standin.outage(method, TROUBLE)
    # The chart's own upload POST: refused, failed, timed out (each attempt starts over).
    standin.outage(UPLOAD, [Fault(status=429), Fault(status=500), Fault(timeout=1.5)])
    services = bot.services
    caplog.set_level(logging.INFO)

    # users.info on the ack path gets one short try: the person is answered with defaults,
    # what was given up is logged, and the next request asks again.
    assert bot.command(OTHER_REP, "/deal", "help").status == 200
    assert "users.info failed for U07JMILLE: ratelimited" in caplog.text
    for _ in range(len(TROUBLE)):
        bot.command(OTHER_REP, "/deal", "help")
    assert services.directory.get(OTHER_REP).name == "james.miller"

    # users.list: the directory sync job.
    assert sync_user_directory(services, services.clock()) >= len(PEOPLE)

    # chat.postMessage: a survey fan-out to everyone.
    assert bot.command(MANAGER, "/pulse", "start enps").status == 200
    standin.wait_for(
        lambda: all(survey_dms(bot, p) for p in PEOPLE), timeout=60, describe="survey DMs"
    )
    assert services.background.wait_idle(timeout=60)

    # chat.update: a click on the DM edits it.
    dm = survey_dms(bot, REP)[0]
    value = next(b for b in dm.blocks if b["type"] == "actions")["elements"][9]["value"]
    assert bot.click(REP, "pulse.enps.9", value, message=dm).status == 200
    # views.open: a form; views.publish: the Home tab.
    assert bot.command(REP, "/deal", "new").status == 200
    assert bot.dispatch(bot.requests.app_home_opened(REP)).status == 200
    # response_url: a click answered privately (a deal that does not exist).
    assert bot.click(REP, deal_views.ADVANCE, "424242").status == 200
    # chat.postEphemeral: a manager's summary preview.
    assert bot.command(MANAGER, "/pulse", "summary").status == 200
    assert services.background.wait_idle(timeout=60)

    # conversations.open + conversations.history: a DM whose sender died mid-post is looked
    # up, found, and not sent again.
    with services.db.transaction() as session:
        session.execute(
            update(store.SurveyDelivery)
            .where(store.SurveyDelivery.user_id == REP)
            .values(state="sending", claimed_at=services.clock() - timedelta(hours=1))
        )
    jobs.dispatch_due_deliveries(services, services.clock())

    # conversations.members: a survey to the members of a channel (and one more person: no
    # survey goes to fewer than three).
    audience = (*MANAGERS, "U02MBIANC")
    start = "start pulse to <#C03MANAGERS|managers> <@U02MBIANC>"
    assert bot.command(MANAGER, "/pulse", start).status == 200
    standin.wait_for(
        lambda: all(survey_dms(bot, p, multi_question=True) for p in audience),
        timeout=60,
        describe="the pulse DMs of #managers and Marco",
    )
    assert services.background.wait_idle(timeout=60)
    assert all(not survey_dms(bot, p, multi_question=True) for p in PEOPLE if p not in audience)

    # chat.postMessage again, files upload: the weekly summary with its chart.
    assert record_weekly_summary(services, services.clock()) == 1

    # Every method met the whole outage, and got through. (A timed-out call is recorded when
    # the stand-in stops sleeping on it, after the client has moved on.)
    def missed_some() -> list[tuple[str, Counter[int]]]:
        missing = []
        for method in sorted(EVERY_METHOD):
            expected = {429, 500, 504, 200} if method == UPLOAD else {429, 500, 503, 504, 200}
            if not expected <= set(statuses(standin, method)):
                missing.append((method, statuses(standin, method)))
        return missing

    standin.wait_for(lambda: not missed_some(), timeout=5, describe="the whole outage")
    # Everything was delivered once.
    for person in PEOPLE:
        assert len(survey_dms(bot, person)) == 1, person
    assert len(standin.calls_to("views.open")) == len(TROUBLE) + 1
    assert statuses(standin, "views.publish")[200] >= 1
    answers = standin.response_posts()
    assert len(answers) == 1 and "424242" in (answers[0].text or str(answers[0].blocks))
    summaries = [
        m
        for m in standin.messages
        if m.source == "chat.postMessage"
        and (m.metadata or {}).get("event_type") == "pulsebot_summary"
    ]
    assert len({m.channel for m in summaries}) == len(summaries) >= 1
    assert len(standin.files) == len(summaries)
    # Nothing crashed.
    assert "work after the ack failed" not in caplog.text
    assert "listener failed" not in caplog.text


def test_what_is_given_up_is_logged_and_nothing_crashes(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    impatient(bot)
    standin = bot.standin
    services = bot.services
    sync_user_directory(services, services.clock())
    caplog.set_level(logging.INFO)
    standin.fail_next("chat.postMessage", count=1000, status=500)

    # The weekly summary: not posted, said so, released for the next firing.
    with pytest.raises(Exception, match="internal_error"):
        record_weekly_summary(services, services.clock())
    assert "could not be posted" in caplog.text and "released" in caplog.text
    # A survey fan-out: paused, said so, every DM still pending for the next minute's job.
    assert bot.command(MANAGER, "/pulse", "start enps").status == 200
    assert services.background.wait_idle(timeout=60)
    assert "survey DMs paused after a Slack error: internal_error" in caplog.text
    with services.db.transaction() as session:
        states = Counter(d.state for d in session.scalars(select(store.SurveyDelivery)))
    assert set(states) == {"pending"}
    # Bounded: each attempt is one call and its FAILURE_RETRIES retries.
    assert len(standin.calls_to("chat.postMessage")) % (FAILURE_RETRIES + 1) == 0
    standin.clear_faults()
    assert record_weekly_summary(services, services.clock()) == 1
    jobs.dispatch_due_deliveries(services, services.clock())
    for person in PEOPLE:
        assert len(survey_dms(bot, person)) == 1
    assert "listener failed" not in caplog.text
