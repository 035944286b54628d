"""The Slack Web API client every part of the bot uses: our base URL, bounded retries."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.client import RemoteDisconnected
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient

from bot import metrics

WEB_API_TIMEOUT_SECONDS = 10
# 429s are Slack asking us to slow down, not failing: follow Retry-After patiently.
RATE_LIMIT_RETRIES = 8
FAILURE_RETRIES = 3
BACKOFF_SECONDS = 0.5
# Spread of the wait after a 429 beyond Retry-After, so that several instances do not all
# come back in the same instant. slack_sdk's own handler adds up to a whole second, which
# at Retry-After: 1 makes a rate-limited fan-out take half as long again as Slack allows.
RATE_LIMIT_JITTER_SECONDS = 0.05
# Where Slack's response_urls live (scheme, host): https://hooks.slack.com/commands/…, /actions/….
SLACK_RESPONSE_URL_ORIGIN = ("https", "hooks.slack.com")
UPLOAD_ATTEMPTS = 4
UPLOAD_BACKOFF_SECONDS = 0.5


class RetryAfterHandler(RateLimitErrorRetryHandler):
    """Retries a 429 after exactly Retry-After seconds, plus a few milliseconds of jitter."""

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("a 429 retry without a response")
        retry_after = 1.0
        for name, values in response.headers.items():
            if name.lower() == "retry-after" and values:
                # An unreadable header keeps the one second Slack most often asks for.
                with contextlib.suppress(ValueError):
                    retry_after = max(0.0, float(values[0]))
                break
        state.next_attempt_requested = True
        time.sleep(retry_after + random.uniform(0, RATE_LIMIT_JITTER_SECONDS))
        state.increment_current_attempt()


class OwnBudget(RetryHandler):
    """A retry handler with a retry count of its own.

    slack_sdk counts every retry of a call together, so a call that waited out two 429s would
    have only one retry left for a 5xx answer: each kind of trouble gets its own budget here.
    """

    def __init__(self, inner: RetryHandler) -> None:
        super().__init__(
            max_retry_count=inner.max_retry_count, interval_calculator=inner.interval_calculator
        )
        self._inner = inner
        self._key = f"retries:{type(inner).__name__}"

    def _used(self, state: RetryState) -> int:
        return int((state.custom_values or {}).get(self._key, 0))

    def can_retry(self, *, state: RetryState, **call: Any) -> bool:
        if self._used(state) >= self.max_retry_count:
            return False
        return bool(self._inner._can_retry(state=state, **call))

    def prepare_for_next_attempt(self, *, state: RetryState, **call: Any) -> None:
        request = call.get("request")
        if request is not None:
            metrics.count_retry(request.url, type(self._inner).__name__)
        used = self._used(state)
        # The inner handler waits (Retry-After, or backoff by its own attempt number).
        self._inner.prepare_for_next_attempt(state=RetryState(current_attempt=used), **call)
        state.custom_values = {**(state.custom_values or {}), self._key: used + 1}
        state.next_attempt_requested = True
        state.increment_current_attempt()


def retry_handlers(backoff_seconds: float = BACKOFF_SECONDS) -> list[RetryHandler]:
    """`backoff_seconds` is the first wait after a 5xx or a timeout; it doubles each retry."""
    backoff = BackoffRetryIntervalCalculator(backoff_factor=backoff_seconds)
    return [
        OwnBudget(RetryAfterHandler(max_retry_count=RATE_LIMIT_RETRIES)),
        OwnBudget(
            ServerErrorRetryHandler(max_retry_count=FAILURE_RETRIES, interval_calculator=backoff)
        ),
        OwnBudget(
            ConnectionErrorRetryHandler(
                max_retry_count=FAILURE_RETRIES,
                interval_calculator=backoff,
                error_types=[URLError, ConnectionResetError, RemoteDisconnected, TimeoutError],
            )
        ),
    ]


class CountingWebClient(WebClient):
    """A WebClient that counts each call by method and outcome (bot.metrics), after its
    retries: a call that waited out two 429s and then succeeded is one `ok`."""

    def api_call(self, api_method: str, *args: Any, **kwargs: Any) -> SlackResponse:
        try:
            response = super().api_call(api_method, *args, **kwargs)
        except SlackApiError as exc:
            metrics.count_api_call(api_method, str(exc.response.get("error") or "error"))
            raise
        except Exception as exc:
            metrics.count_api_call(api_method, type(exc).__name__)
            raise
        metrics.count_api_call(api_method, "ok")
        return response


def make_web_client(
    token: str, base_url: str, *, backoff_seconds: float = BACKOFF_SECONDS
) -> WebClient:
    return CountingWebClient(
        token=token,
        base_url=base_url,
        timeout=WEB_API_TIMEOUT_SECONDS,
        retry_handlers=retry_handlers(backoff_seconds),
    )


def is_slack_response_url(url: str, api_url: str) -> bool:
    """Whether `url` is under https://hooks.slack.com/, where every response_url Slack hands out
    is, or under the scheme and host of `api_url` (SLACK_API_URL: a proxy, the stand-in).

    A request's response_url is only as trustworthy as its signature; posting to one anywhere
    else would send a person's private reply there, or reach into the network pulsebot is in.
    """
    target, api = urlsplit(url), urlsplit(api_url)
    origin = (target.scheme, target.netloc)
    return target.path.startswith("/") and origin in {
        SLACK_RESPONSE_URL_ORIGIN,
        (api.scheme, api.netloc),
    }


def make_webhook_client(url: str, client: WebClient | None = None) -> WebhookClient:
    """A response_url poster with the same retries (and timeout) as `client`."""
    handlers = client.retry_handlers if client is not None else retry_handlers()
    timeout = client.timeout if client is not None else WEB_API_TIMEOUT_SECONDS
    return WebhookClient(url, timeout=timeout, retry_handlers=handlers)


def upload_file(client: WebClient, **kwargs: Any) -> SlackResponse:
    """files_upload_v2, with the whole upload started over when it fails.

    The file's own POST (to the upload URL Slack hands out) has none of the client's retry
    handlers in slack_sdk: a refused or timed-out upload is tried again from the start,
    with a new upload URL, a bounded number of times.
    """
    for attempt in range(UPLOAD_ATTEMPTS):
        try:
            return client.files_upload_v2(**kwargs)
        except (SlackApiError, OSError):
            if attempt + 1 == UPLOAD_ATTEMPTS:
                raise
            time.sleep(UPLOAD_BACKOFF_SECONDS * 2**attempt)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class FoundMessage:
    channel: str
    ts: str
    payload: dict[str, Any]  # its metadata's event_payload


def find_message_by_metadata(
    client: WebClient,
    conversation: str,
    event_type: str,
    payload_matches: Callable[[dict[str, Any]], bool],
    *,
    limit: int = 200,
) -> FoundMessage | None:
    """The newest message among the latest `limit` of a conversation whose metadata is
    `event_type` with a payload `payload_matches` accepts; None when there is none.

    How a job that died mid-send learns whether its message reached Slack. `conversation` is
    a channel id, or a user id for the app's DM with them. Raises SlackApiError when Slack
    will not tell (a missing history scope, the conversation gone).
    """
    channel = conversation
    if not channel.startswith(("C", "G", "D")):
        channel = str(client.conversations_open(users=conversation)["channel"]["id"])
    history = client.conversations_history(channel=channel, limit=limit, include_all_metadata=True)
    for message in history.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == event_type and payload_matches(payload):
            return FoundMessage(channel, str(message["ts"]), payload)
    return None
