"""HTTP mode: a missing, wrong or expired signature is a 401 on every kind of request, and no
row anywhere changes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest

from bot.standin.requests import SignedRequest, SlackRequests
from bot.views import deals as deal_views
from bot.web import ServerThread, make_wsgi_app
from tests.harness import BotHarness
from tests.reliability.helpers import REP
from tests.test_web import post

Build = Callable[[SlackRequests], SignedRequest]
ROUTES: dict[str, Build] = {
    "slash_command": lambda r: r.slash_command("/deal", "new Forged 1k", user_id=REP),
    "block_action": lambda r: r.block_action(
        user_id=REP, action_id=deal_views.ADVANCE, value="1", channel_id="DREP"
    ),
    "view_submission": lambda r: r.view_submission(
        user_id=REP,
        callback_id=deal_views.NEW_MODAL,
        values={"name": {"value": {"type": "plain_text_input", "value": "Forged"}}},
    ),
    "event": lambda r: r.app_home_opened(REP),
    "url_verification": lambda r: r.sign(
        json.dumps({"type": "url_verification", "token": "t", "challenge": "c0ffee"}),
        "application/json",
    ),
}


def unsigned(good: SignedRequest, fault: str, builder: Build, secret: str) -> SignedRequest:
    if fault == "missing":
        headers = {k: v for k, v in good.headers.items() if k != "x-slack-signature"}
        return SignedRequest(good.body, headers)
    if fault == "wrong":
        return builder(SlackRequests("not-our-signing-secret"))
    if fault == "expired":  # correctly signed, 5 minutes and 1 second ago: a replay
        return builder(SlackRequests(secret, clock=lambda: time.time() - 301))
    raise AssertionError(fault)


@pytest.fixture
def server_url(bot: BotHarness) -> Iterator[str]:
    with ServerThread(make_wsgi_app(bot.app, bot.services)) as server:
        yield server.url + "/slack/events"


@pytest.mark.parametrize("fault", ["missing", "wrong", "expired"])
def test_bad_signatures_are_refused_on_every_route(
    bot: BotHarness, server_url: str, fault: str
) -> None:
    bot.command(REP, "/deal", "new Existing 1k")  # something a forged click could change
    assert bot.services.background.wait_idle()
    before = bot.table_rows()  # every row's content: an UPDATE counts too
    secret = bot.requests.signing_secret
    for route, builder in ROUTES.items():
        forged = unsigned(builder(bot.requests), fault, builder, secret)
        status, _ = post(server_url, forged)
        assert status == 401, (route, fault)
    assert bot.services.background.wait_idle()
    assert bot.table_rows() == before
    assert bot.standin.calls_to("views.publish") == []
    assert bot.standin.calls_to("views.open") == []


def test_the_same_requests_signed_are_accepted(bot: BotHarness, server_url: str) -> None:
    """The other half: the refusals above are the signature's doing, nothing else."""
    for route, builder in ROUTES.items():
        status, body = post(server_url, builder(bot.requests))
        assert status == 200, (route, body)
    assert bot.services.background.wait_idle()
