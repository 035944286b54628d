"""Prometheus metrics (prometheus_client): what the bot counts, and how a scrape reads it.

The counters live in one registry of pulsebot's own (not the library's global one, which would
add the process and platform collectors to every test). Counting costs a lock and an addition;
the request middleware skips even that when metrics are off. Figures that several instances
share — survey DMs waiting or sent, who runs the scheduler — are read when Prometheus asks,
from the database and the leader, so each instance reports the same truth.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector
from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bot import __version__
from bot.logs import request_context
from storage.surveys import FAILED, PENDING, SENDING, SENT, SurveyDelivery

if TYPE_CHECKING:
    from apscheduler.events import JobExecutionEvent

    from bot.services import Services
    from storage.db import Database

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "pulsebot_requests",
    "Slack requests handled, by kind (slash command, block_actions, view_submission, an event's "
    "type) and outcome (ok, client_error, error).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
# Slack gives up after 3 s; the design aims at a few milliseconds.
ACK_SECONDS = Histogram(
    "pulsebot_ack_seconds",
    "Time from a Slack request reaching the listeners to its answer (the ack).",
    ["kind"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0),
    registry=REGISTRY,
)
REFUSED = Counter(
    "pulsebot_refused_requests",
    "Requests to /slack/events refused at the edge (unsigned, too large, malformed), by status.",
    ["status"],
    registry=REGISTRY,
)
WEB_API_CALLS = Counter(
    "pulsebot_slack_api_calls",
    "Slack Web API calls, by method and outcome (ok, Slack's error code, or exception).",
    ["method", "outcome"],
    registry=REGISTRY,
)
WEB_API_RETRIES = Counter(
    "pulsebot_slack_api_retries",
    "Slack Web API retries, by method and reason (rate_limited: a 429; server_error: a 5xx; "
    "connection_error: a timeout or a dropped connection).",
    ["method", "reason"],
    registry=REGISTRY,
)
JOBS = Counter(
    "pulsebot_jobs",
    "Scheduled job runs in this instance, by job and outcome (ok, failed, missed).",
    ["job", "outcome"],
    registry=REGISTRY,
)

RETRY_REASONS = {
    "RetryAfterHandler": "rate_limited",
    "RateLimitErrorRetryHandler": "rate_limited",
    "ServerErrorRetryHandler": "server_error",
    "ConnectionErrorRetryHandler": "connection_error",
}


def request_kind(body: Mapping[str, Any]) -> str:
    """What a Slack request is, in a few words from a fixed set: the label of its metrics."""
    command = body.get("command")
    if isinstance(command, str):
        return command
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        if isinstance(event, Mapping) and isinstance(event.get("type"), str):
            return f"event:{event['type']}"
        return "event"
    return kind if isinstance(kind, str) else "unknown"


def outcome_of(status: int) -> str:
    if status < 400:
        return "ok"
    return "client_error" if status < 500 else "error"


class ObservedApp(App):
    """The Bolt app, each request timed up to its answer, counted (when metrics are on), and
    its kind and team put in every log line written meanwhile.

    Around `dispatch` rather than in a middleware: Bolt runs the listener after the whole
    middleware chain has returned. Listeners ack before any Web API call
    (process_before_response), so this is the ack latency Slack sees, less the network.
    """

    def __init__(self, *args: Any, count_requests: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._count_requests = count_requests

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        kind = request_kind(req.body)
        token = request_context.set((kind, req.context.team_id))
        started = time.perf_counter()
        status = 500
        try:
            response: BoltResponse = super().dispatch(req)
            status = response.status
            return response
        finally:
            elapsed = time.perf_counter() - started
            if self._count_requests:
                REQUESTS.labels(kind, outcome_of(status)).inc()
                ACK_SECONDS.labels(kind).observe(elapsed)
            if log.isEnabledFor(logging.DEBUG):  # not even the dict on the ack path otherwise
                log.debug(
                    "answered %s with %d", kind, status, extra={"duration_ms": elapsed * 1000}
                )
            request_context.reset(token)


def api_method_of(url: str) -> str:
    """`chat.postMessage` from https://slack.com/api/chat.postMessage."""
    return url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or "unknown"


def count_api_call(method: str, outcome: str) -> None:
    WEB_API_CALLS.labels(method, outcome).inc()


def count_retry(url: str, handler: str) -> None:
    WEB_API_RETRIES.labels(api_method_of(url), RETRY_REASONS.get(handler, handler)).inc()


def count_job(event: JobExecutionEvent) -> None:
    """An APScheduler listener for executed, failed and missed runs."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED  # noqa: PLC0415

    if event.code == EVENT_JOB_ERROR:
        outcome = "failed"
    elif event.code == EVENT_JOB_MISSED:
        outcome = "missed"
    else:
        outcome = "ok"
    JOBS.labels(event.job_id, outcome).inc()


class SharedState(Collector):
    """Read at each scrape: survey DMs by state (from the database, so every instance says the
    same), whether this instance runs the scheduler, and the version."""

    def __init__(self, db: Database, leading: Callable[[], bool]) -> None:
        self._db = db
        self._leading = leading

    def collect(self) -> Iterable[Any]:
        yield InfoMetricFamily("pulsebot_build", "The running pulsebot.", {"version": __version__})
        leader = GaugeMetricFamily(
            "pulsebot_scheduler_leader", "1 when this instance runs the scheduler, else 0."
        )
        leader.add_metric([], 1.0 if self._leading() else 0.0)
        yield leader
        dms = GaugeMetricFamily(
            "pulsebot_survey_dms",
            "Survey DMs by state: pending (queued), sending, sent, failed; every instance's.",
            labels=["state"],
        )
        for state, count in self._survey_dms().items():
            dms.add_metric([state], float(count))
        yield dms

    def _survey_dms(self) -> dict[str, int]:
        counts = dict.fromkeys((PENDING, SENDING, SENT, FAILED), 0)
        try:
            with self._db.engine.connect() as connection:
                rows = connection.execute(
                    select(SurveyDelivery.state, func.count()).group_by(SurveyDelivery.state)
                ).all()
        except SQLAlchemyError as exc:
            log.warning("metrics: survey DMs not counted: %s", type(exc).__name__)
            return {}
        counts.update({str(state): int(count) for state, count in rows})
        return counts


def watch(services: Services, leading: Callable[[], bool]) -> Callable[[], None]:
    """Report the shared state of `services` at each scrape; returns how to stop."""
    collector = SharedState(services.db, leading)
    REGISTRY.register(collector)

    def unwatch() -> None:
        with suppress(KeyError):
            REGISTRY.unregister(collector)

    return unwatch


def exposition() -> tuple[bytes, str]:
    """The metrics as Prometheus scrapes them, and their content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def serve_metrics(host: str, port: int) -> Callable[[], None]:
    """Metrics on a port of their own (a thread); returns how to stop it."""
    server, thread = start_http_server(port, addr=host, registry=REGISTRY)
    log.info("metrics at http://%s:%d/metrics", host, port)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
