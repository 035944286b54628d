"""The bot's Web API client rides out 429s, 5xx answers and slow answers, within bounds."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack_client import FAILURE_RETRIES, make_web_client
from bot.standin import SlackStandIn
from tests.conftest import TEST_BOT_TOKEN


def test_retries_server_errors(standin: SlackStandIn) -> None:
    client = make_web_client(TEST_BOT_TOKEN, standin.url, backoff_seconds=0.01)
    standin.fail_next("chat.postMessage", count=2, status=503)
    response = client.chat_postMessage(channel="U05OSMITH", text="hello")
    assert response["ok"]
    statuses = [call.status for call in standin.calls_to("chat.postMessage")]
    assert statuses == [503, 503, 200]
    assert len(standin.messages_for("U05OSMITH")) == 1


def test_gives_up_after_bounded_server_errors(standin: SlackStandIn) -> None:
    client = make_web_client(TEST_BOT_TOKEN, standin.url, backoff_seconds=0.01)
    standin.fail_next("chat.postMessage", count=FAILURE_RETRIES + 1, status=500)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="U05OSMITH", text="hello")
    assert len(standin.calls_to("chat.postMessage")) == FAILURE_RETRIES + 1
    assert standin.messages_for("U05OSMITH") == []


def test_waits_out_rate_limits(standin: SlackStandIn) -> None:
    client = make_web_client(TEST_BOT_TOKEN, standin.url, backoff_seconds=0.01)
    standin.rate_limit("chat.postMessage", per_minute=2, window=1.0)
    for n in range(4):
        client.chat_postMessage(channel="U05OSMITH", text=f"message {n}")
    statuses = [call.status for call in standin.calls_to("chat.postMessage")]
    assert statuses.count(200) == 4
    assert 429 in statuses
    assert [m.text for m in standin.messages_for("U05OSMITH")] == [f"message {n}" for n in range(4)]


def test_retries_timeouts(standin: SlackStandIn) -> None:
    client = make_web_client(TEST_BOT_TOKEN, standin.url, backoff_seconds=0.01)
    client.timeout = 0.3  # type: ignore[assignment]
    standin.delay("auth.test", 0.6)
    calls_before = len(standin.calls_to("auth.test"))
    with pytest.raises(TimeoutError):
        client.auth_test()
    standin.wait_for_calls("auth.test", count=calls_before + FAILURE_RETRIES + 1, timeout=10)
