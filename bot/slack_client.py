"""The Slack Web API client every part of the bot uses: our base URL, bounded retries."""

from __future__ import annotations

import contextlib
import random
import time
from http.client import RemoteDisconnected
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

WEB_API_TIMEOUT_SECONDS = 10
# 429s are Slack asking us to slow down, not failing: follow Retry-After patiently.
RATE_LIMIT_RETRIES = 8
FAILURE_RETRIES = 3
# Spread of the wait after a 429 beyond Retry-After, so that several instances do not all
# come back in the same instant. slack_sdk's own handler adds up to a whole second, which
# at Retry-After: 1 makes a rate-limited fan-out take half as long again as Slack allows.
RATE_LIMIT_JITTER_SECONDS = 0.05


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


def make_web_client(token: str, base_url: str, *, backoff_seconds: float = 0.5) -> WebClient:
    """`backoff_seconds` is the first wait after a 5xx or a timeout; it doubles each retry."""
    backoff = BackoffRetryIntervalCalculator(backoff_factor=backoff_seconds)
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=WEB_API_TIMEOUT_SECONDS,
        retry_handlers=[
            RetryAfterHandler(max_retry_count=RATE_LIMIT_RETRIES),
            ServerErrorRetryHandler(max_retry_count=FAILURE_RETRIES, interval_calculator=backoff),
            ConnectionErrorRetryHandler(
                max_retry_count=FAILURE_RETRIES,
                interval_calculator=backoff,
                error_types=[URLError, ConnectionResetError, RemoteDisconnected, TimeoutError],
            ),
        ],
    )
