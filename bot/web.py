"""The HTTP face of the bot: Slack requests at /slack/events, a health check at /healthz and,
when asked for, Prometheus metrics (PULSEBOT_METRICS_PATH).

Anyone on the internet can reach /slack/events, so a request is checked at the edge before
Bolt sees it: its size before its body is read, its signature before its body is parsed.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request.internals import parse_body
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from waitress.server import create_server

from bot import __version__, metrics
from bot.clock import Clock
from bot.services import Services

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from waitress.server import BaseWSGIServer, MultiSocketServer

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# The largest body Slack sends is an interaction that echoes a view we built: a modal or the
# Home tab, at most 100 blocks of at most 3,000 characters of text each (Block Kit's limits),
# with the form's answers (an input holds at most 3,000 characters) and private_metadata (at
# most 3,000): some 300,000 characters before URL-encoding, and pulsebot's own views are a
# small fraction of that. Slash commands and events are a few kilobytes. Anything larger is
# not from Slack, and waitress answers 413 before reading it.
MAX_REQUEST_BYTES = 512 * 1024
SERVER_THREADS = 16
# A connection that has sent nothing for this long is closed: Slack sends its request as soon
# as it connects, so only a client holding sockets open to starve others waits longer.
IDLE_TIMEOUT_SECONDS = 10
# How often waitress looks for such connections (its default, 30 s, lets them pile up).
IDLE_CHECK_SECONDS = 1
# Open connections waitress accepts at once (its default is 100). Idle ones cost a socket and
# no thread, so a few hundred of them must not lock Slack out; 500 stays clear of the usual
# limit of 1024 open files.
CONNECTION_LIMIT = 500

# Slack checks a slash command's certificate with a small POST of `ssl_check=1` that need not
# be signed; Bolt answers it (200, empty) before any listener runs.
SSL_CHECK_MAX_BYTES = 1024
# What Slack sends: a Unix time in seconds, and "v0=" and an HMAC-SHA256 in hex.
SLACK_TIMESTAMP = re.compile(r"[0-9]{1,12}")
SLACK_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class Refused(Exception):
    """A request stopped at the edge: its HTTP status, and what kind of junk it was."""

    def __init__(self, status: int, kind: str) -> None:
        super().__init__(kind)
        self.status = status
        self.kind = kind


class RefusalLog:
    """At most one short WARNING a minute per kind of refused request, however many come: junk
    from the internet must not flood the log. The line never shows the request itself."""

    INTERVAL = timedelta(minutes=1)

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._said_at: dict[str, datetime] = {}
        self._unsaid: Counter[str] = Counter()
        self._lock = threading.Lock()

    def refused(self, refusal: Refused) -> None:
        now = self._clock()
        with self._lock:
            said_at = self._said_at.get(refusal.kind)
            if said_at is not None and now - said_at < self.INTERVAL:
                self._unsaid[refusal.kind] += 1
                return
            self._said_at[refusal.kind] = now
            unsaid = self._unsaid.pop(refusal.kind, 0)
        log.warning(
            "refused a request to %s with %d: %s%s",
            SLACK_EVENTS_PATH,
            refusal.status,
            refusal.kind,
            f" (and {unsaid} more in the last minute or so)" if unsaid else "",
        )


def checked_slack_body(environ: WSGIEnvironment, verifier: SignatureVerifier) -> bytes:
    """The body of a POST to /slack/events, once it is known to be Slack's; else Refused."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or "0")
    except ValueError:
        raise Refused(400, "unreadable Content-Length") from None
    if length > MAX_REQUEST_BYTES:  # waitress refuses these first; this is for other servers
        raise Refused(413, f"body over {MAX_REQUEST_BYTES} bytes")
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE")
    if timestamp is None or signature is None:
        if length <= SSL_CHECK_MAX_BYTES:
            body: bytes = environ["wsgi.input"].read(length)
            if parse_qs(body.decode("latin-1")).get("ssl_check") == ["1"]:
                return body
        raise Refused(401, "no Slack signature headers")
    if not SLACK_TIMESTAMP.fullmatch(timestamp) or not SLACK_SIGNATURE.fullmatch(signature):
        raise Refused(401, "malformed Slack signature headers")
    body = environ["wsgi.input"].read(length)
    try:
        text = body.decode("utf-8")  # what the signature is computed over
    except UnicodeDecodeError:
        raise Refused(400, "body not UTF-8") from None
    if len(body) != length or not verifier.is_valid(text, timestamp, signature):
        raise Refused(401, "wrong or stale Slack signature")
    # Signed by Slack, so safe to parse: Bolt's own parser, which must not fail on it later.
    try:
        parsed = parse_body(text, environ.get("CONTENT_TYPE"))
    except ValueError:  # JSONDecodeError among them
        raise Refused(400, "malformed body") from None
    if not isinstance(parsed, dict):
        raise Refused(400, "malformed body")
    return body


class SlackProbe:
    """Whether Slack's Web API answers auth.test, asked at most once a minute: a load balancer
    polling /healthz every few seconds must not become a stream of calls to Slack. No retries
    and a short timeout, so that a health check answers quickly when Slack does not."""

    INTERVAL = timedelta(minutes=1)
    TIMEOUT_SECONDS = 3

    def __init__(self, services: Services) -> None:
        settings = services.settings
        self._client = WebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_url,
            timeout=self.TIMEOUT_SECONDS,
            retry_handlers=[],
        )
        self._clock = services.clock
        self._lock = threading.Lock()
        self._checked_at: datetime | None = None
        self._reachable = False

    def reachable(self) -> bool:
        with self._lock:
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self.INTERVAL:
                self._reachable = self._ask()
                self._checked_at = now
            return self._reachable

    def _ask(self) -> bool:
        try:
            self._client.auth_test()
        except (SlackApiError, OSError) as exc:
            log.warning("health check: Slack's auth.test failed: %s", type(exc).__name__)
            return False
        return True


def health(
    services: Services, leading: Callable[[], bool], slack: SlackProbe
) -> tuple[bool, dict[str, object]]:
    """/healthz: healthy while the database answers. Slack being out of reach is reported but
    is not this instance's fault, and restarting it would not help."""
    database = services.db.ping()
    return database, {
        "status": "ok" if database else "unavailable",
        "version": __version__,
        "database": database,
        "scheduler_leader": leading(),
        "slack_reachable": slack.reachable(),
    }


def make_wsgi_app(
    app: App, services: Services, *, leading: Callable[[], bool] = lambda: False
) -> WSGIApplication:
    """`leading` says whether this instance runs the scheduler (SchedulerLeader.leading)."""
    slack = SlackRequestHandler(app, path=SLACK_EVENTS_PATH)
    verifier = SignatureVerifier(services.settings.slack_signing_secret.get_secret_value())
    refusals = RefusalLog(services.clock)
    probe = SlackProbe(services)
    metrics_path = services.settings.metrics_path

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == HEALTH_PATH and method in {"GET", "HEAD"}:
            healthy, report = health(services, leading, probe)
            body = json.dumps(report).encode()
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(
                status,
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if metrics_path is not None and path == metrics_path and method in {"GET", "HEAD"}:
            body, content_type = metrics.exposition()
            start_response(
                "200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))]
            )
            return [body]
        if path == SLACK_EVENTS_PATH and method == "POST":
            try:
                body = checked_slack_body(environ, verifier)
            except Refused as refusal:
                refusals.refused(refusal)
                metrics.REFUSED.labels(str(refusal.status)).inc()
                return _refuse(start_response, refusal.status)
            # Bolt reads the body again from here.
            environ["wsgi.input"] = io.BytesIO(body)
        return slack(environ, start_response)  # Bolt answers 404 to anything else

    return wsgi


REASONS = {400: "Bad Request", 401: "Unauthorized", 413: "Content Too Large"}


def _refuse(start_response: StartResponse, status: int) -> list[bytes]:
    body = REASONS[status].encode()
    start_response(
        f"{status} {REASONS[status]}",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
    )
    return [body]


def make_server(
    wsgi_app: WSGIApplication,
    *,
    host: str,
    port: int,
    idle_timeout: int = IDLE_TIMEOUT_SECONDS,
) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server (production grade, threaded); port 0 picks a free port."""
    return create_server(
        wsgi_app,
        host=host,
        port=port,
        threads=SERVER_THREADS,
        max_request_body_size=MAX_REQUEST_BYTES,
        channel_timeout=idle_timeout,
        cleanup_interval=IDLE_CHECK_SECONDS,
        connection_limit=CONNECTION_LIMIT,
        # poll() rather than select(), which cannot watch a socket numbered 1024 or above.
        asyncore_use_poll=True,
        ident="pulsebot",
        clear_untrusted_proxy_headers=True,
    )


class ServerThread:
    """A waitress server on a background thread (demo, tests), stopped without a traceback."""

    def __init__(
        self,
        wsgi_app: WSGIApplication,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        idle_timeout: int = IDLE_TIMEOUT_SECONDS,
    ) -> None:
        self.server = make_server(wsgi_app, host=host, port=port, idle_timeout=idle_timeout)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pulsebot-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.effective_port)  # type: ignore[union-attr]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        try:
            self.server.run()
        except OSError:
            # Closing the sockets under waitress's select loop ends it with EBADF.
            if not self._stopping.is_set():
                raise

    def __enter__(self) -> ServerThread:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopping.set()
        # Let the worker threads finish first: one still writing its last response wakes
        # the select loop through the trigger pipe, and would find it closed (EBADF).
        self.server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        self.server.close()
        self._thread.join(timeout=5)
