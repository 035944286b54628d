"""The bot's Web API client rides out 429s, 5xx answers and slow answers, within bounds."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.slack_client import (
    FAILURE_RETRIES,
    RATE_LIMIT_JITTER_SECONDS,
    RetryAfterHandler,
    make_web_client,
)
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


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"Retry-After": "2"}, 2.0), ({"retry-after": "0"}, 0.0), ({"Retry-After": "soon"}, 1.0)],
    ids=["two_seconds", "lower_case_zero", "unreadable_means_one"],
)
def test_rate_limit_wait_is_retry_after_plus_small_jitter(
    monkeypatch: pytest.MonkeyPatch, headers: dict[str, str | list[str]], expected: float
) -> None:
    # slack_sdk's own handler adds up to a whole second; at Retry-After: 1 that is 50% slower.
    slept: list[float] = []
    monkeypatch.setattr("bot.slack_client.time.sleep", slept.append)
    handler = RetryAfterHandler(max_retry_count=1)
    state = RetryState()
    request = HttpRequest(method="POST", url="http://x/api/chat.postMessage", headers={})
    response = HttpResponse(status_code=429, headers=dict(headers.items()), body={})
    handler.prepare_for_next_attempt(state=state, request=request, response=response)
    assert len(slept) == 1
    assert expected <= slept[0] <= expected + RATE_LIMIT_JITTER_SECONDS
    assert state.next_attempt_requested and state.current_attempt == 1
