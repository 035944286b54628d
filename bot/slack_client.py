"""The Slack Web API client every part of the bot uses: our base URL, bounded retries."""

from __future__ import annotations

from http.client import RemoteDisconnected
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator

WEB_API_TIMEOUT_SECONDS = 10
# 429s are Slack asking us to slow down, not failing: follow Retry-After patiently.
RATE_LIMIT_RETRIES = 8
FAILURE_RETRIES = 3


def make_web_client(token: str, base_url: str, *, backoff_seconds: float = 0.5) -> WebClient:
    """`backoff_seconds` is the first wait after a 5xx or a timeout; it doubles each retry."""
    backoff = BackoffRetryIntervalCalculator(backoff_factor=backoff_seconds)
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=WEB_API_TIMEOUT_SECONDS,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            ServerErrorRetryHandler(max_retry_count=FAILURE_RETRIES, interval_calculator=backoff),
            ConnectionErrorRetryHandler(
                max_retry_count=FAILURE_RETRIES,
                interval_calculator=backoff,
                error_types=[URLError, ConnectionResetError, RemoteDisconnected, TimeoutError],
            ),
        ],
    )
