"""The HTTP face of the bot: Slack requests at /slack/events and a health check at /healthz."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from bot.services import Services

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from waitress.server import BaseWSGIServer, MultiSocketServer

SLACK_EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack's payloads are small; a large body is not from Slack.
MAX_REQUEST_BYTES = 1024 * 1024
SERVER_THREADS = 16


def make_wsgi_app(app: App, services: Services) -> WSGIApplication:
    slack = SlackRequestHandler(app, path=SLACK_EVENTS_PATH)

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in {
            "GET",
            "HEAD",
        }:
            healthy = services.db.ping()
            body = json.dumps({"status": "ok" if healthy else "unavailable"}).encode()
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(
                status,
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return slack(environ, start_response)

    return wsgi


def make_server(
    wsgi_app: WSGIApplication, *, host: str, port: int
) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server (production grade, threaded); port 0 picks a free port."""
    return create_server(
        wsgi_app,
        host=host,
        port=port,
        threads=SERVER_THREADS,
        max_request_body_size=MAX_REQUEST_BYTES,
        ident="pulsebot",
        clear_untrusted_proxy_headers=True,
    )


class ServerThread:
    """A waitress server on a background thread (demo, tests), stopped without a traceback."""

    def __init__(
        self, wsgi_app: WSGIApplication, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.server = make_server(wsgi_app, host=host, port=port)
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
