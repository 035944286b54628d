"""Slack retries and replays: the same delivery three more times changes nothing more.

Each kind of delivery is sent once, then again with X-Slack-Retry-Num 1 and 2 (as Slack retries
when our answer was slow), then once more as a plain duplicate (a replay, a double submit).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.standin.requests import SignedRequest
from bot.views import deals as deal_views
from storage.deals import DealEvent
from tests.harness import BotHarness
from tests.reliability.helpers import REP, deal_id, stage_moves


def deliver_four_times(bot: BotHarness, request: SignedRequest) -> list[int]:
    """The delivery, its two retries and a plain duplicate; the HTTP statuses Slack got."""
    retries = [
        request.with_headers(**{"x-slack-retry-num": n, "x-slack-retry-reason": "http_timeout"})
        for n in ("1", "2")
    ]
    statuses = [bot.dispatch(r).status for r in (request, *retries, request)]
    assert bot.services.background.wait_idle()
    return statuses


def slash_command(bot: BotHarness) -> SignedRequest:
    return bot.requests.slash_command("/deal", "advance Replay", user_id=REP)


def block_action(bot: BotHarness) -> SignedRequest:
    return bot.requests.block_action(
        user_id=REP,
        action_id=deal_views.ADVANCE,
        value=str(deal_id(bot, "Replay")),
        channel_id=bot.standin.dm_channel_id(REP),
        response_url=bot.standin.response_url(user_id=REP),
    )


KINDS: dict[str, Callable[[BotHarness], SignedRequest]] = {
    "slash_command": slash_command,
    "block_action": block_action,
}


@pytest.mark.parametrize("kind", KINDS)
def test_a_stage_change_delivered_four_times_happens_once(bot: BotHarness, kind: str) -> None:
    bot.command(REP, "/deal", "new Replay 10k")
    statuses = deliver_four_times(bot, KINDS[kind](bot))
    assert statuses == [200] * 4
    assert stage_moves(bot) == [("lead", "qualified")]


def test_a_view_submission_delivered_four_times_is_recorded_once(bot: BotHarness) -> None:
    bot.command(REP, "/deal", "new Replay 10k")
    request = bot.requests.view_submission(
        user_id=REP,
        callback_id=deal_views.NOTE_MODAL,
        values={"note": {"value": {"type": "plain_text_input", "value": "Called them"}}},
        private_metadata=json.dumps({"deal": deal_id(bot, "Replay")}),
    )
    assert deliver_four_times(bot, request) == [200] * 4
    with bot.services.db.transaction() as session:
        notes = session.scalars(select(DealEvent).where(DealEvent.kind == "note")).all()
    assert len(notes) == 1
    assert len([m for m in bot.dms(REP) if "Replay" in m.text]) == 1  # one confirmation


def test_an_event_delivered_four_times_is_handled_once(bot: BotHarness) -> None:
    request = bot.requests.app_home_opened(REP, event_id="Ev0REPLAY4")
    assert deliver_four_times(bot, request) == [200] * 4
    # A different event is still handled: the three copies above had every chance to run.
    bot.dispatch(bot.requests.app_home_opened(REP, event_id="Ev0REPLAY5"))
    bot.standin.wait_for_calls("views.publish", count=2)
    assert bot.services.background.wait_idle()
    assert len(bot.standin.calls_to("views.publish")) == 2
