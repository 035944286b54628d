"""Requests that are not from Slack get 401 and change nothing."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from bot.standin.requests import SignedRequest, SlackRequests
from storage.directory import DirectoryUser
from storage.requests import HandledRequest
from tests.harness import BotHarness


def row_counts(bot: BotHarness) -> tuple[int, int]:
    with bot.services.db.transaction() as session:
        handled = session.scalar(select(func.count()).select_from(HandledRequest))
        users = session.scalar(select(func.count()).select_from(DirectoryUser))
    return int(handled or 0), int(users or 0)


def forged(bot: BotHarness, kind: str) -> SignedRequest:
    good = bot.requests.slash_command("/deal", "help", user_id="U05OSMITH")
    if kind == "wrong_signature":
        return good.with_headers(**{"x-slack-signature": "v0=" + "0" * 64})
    if kind == "missing_signature":
        headers = {k: v for k, v in good.headers.items() if k != "x-slack-signature"}
        return SignedRequest(good.body, headers)
    if kind == "missing_timestamp":
        headers = {k: v for k, v in good.headers.items() if k != "x-slack-request-timestamp"}
        return SignedRequest(good.body, headers)
    if kind == "expired_timestamp":
        # Signed correctly, but six minutes ago: a replay.
        old = SlackRequests(bot.requests.signing_secret, clock=lambda: time.time() - 360)
        return old.slash_command("/deal", "help", user_id="U05OSMITH")
    if kind == "wrong_secret":
        return SlackRequests("not-the-secret").slash_command("/deal", "help", user_id="U05OSMITH")
    if kind == "tampered_body":
        return SignedRequest(good.body.replace("help", "list"), good.headers)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "wrong_signature",
        "missing_signature",
        "missing_timestamp",
        "expired_timestamp",
        "wrong_secret",
        "tampered_body",
    ],
)
def test_unsigned_requests_are_refused(bot: BotHarness, kind: str) -> None:
    before = row_counts(bot)
    response = bot.dispatch(forged(bot, kind))
    assert response.status == 401
    assert row_counts(bot) == before
    assert bot.standin.calls_to("users.info") == []


def test_signed_request_is_accepted(bot: BotHarness) -> None:
    response = bot.command("U05OSMITH", "/deal", "help")
    assert response.status == 200
    assert row_counts(bot)[0] == 1
