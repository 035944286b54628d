"""The stand-in's HTTP server: requests in, replies out, and Web API arguments decoded."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import urlsplit

from bot.standin.protocol import ApiError, JsonDict, form_fields

logger = logging.getLogger("bot.standin")  # one logger for the whole stand-in

# Fields slack_sdk sends as JSON strings inside form data; a broken one gets Slack's error.
_JSON_FIELD_ERRORS = {
    "blocks": "invalid_blocks_format",
    "attachments": "invalid_attachments",
    "view": "invalid_arguments",
    "files": "invalid_arguments",
    "metadata": "invalid_metadata_format",
}


@dataclass(frozen=True)
class Request:
    """An HTTP request as the handler read it."""

    verb: str
    path: str
    query: str
    headers: Mapping[str, str]  # lower-cased names
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()


@dataclass(frozen=True)
class Reply:
    """An HTTP answer; `payload` is the JSON body, kept for the recording."""

    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    payload: JsonDict | None = None

    @classmethod
    def json(
        cls, payload: JsonDict, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
    ) -> Reply:
        body = json.dumps(payload).encode()
        return cls(status, body, "application/json; charset=utf-8", headers, payload)

    @classmethod
    def text(cls, text: str, status: int = 200) -> Reply:
        return cls(status, text.encode(), "text/plain; charset=utf-8")


class StandInServer(ThreadingHTTPServer):
    """Serves each request in a daemon thread and answers it with `dispatch`."""

    daemon_threads = True
    # The default backlog of 5 drops connections when a bot fans out DMs in parallel.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], dispatch: Callable[[Request], Reply]) -> None:
        self.dispatch = dispatch
        super().__init__(address, _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        # The default prints a traceback to stderr; keep the stand-in quiet.
        logger.debug("Slack stand-in: error serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server_version = "SlackStandIn/1.0"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("Slack stand-in: %s " + format, self.address_string(), *args)

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "bad Content-Length")
            return
        split = urlsplit(self.path)
        request = Request(
            verb=self.command,
            path=split.path,
            query=split.query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length > 0 else b"",
        )
        reply = cast(StandInServer, self.server).dispatch(request)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            # Expected when a delay() outlasts the client's timeout.
            logger.debug("Slack stand-in: client went away before the answer")


def decode_params(request: Request) -> tuple[JsonDict, ApiError | None]:
    """Merge query string and body (form or JSON) and decode JSON-string fields."""
    params = form_fields(request.query)
    if request.body:
        if request.content_type == "application/json":
            try:
                body = json.loads(request.body)
            except (UnicodeDecodeError, json.JSONDecodeError):
                return params, ApiError("invalid_json")
            if not isinstance(body, dict):
                return params, ApiError("invalid_json")
            params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "text/plain", ""):
            try:
                params.update(form_fields(request.body.decode("utf-8")))
            except UnicodeDecodeError:
                return params, ApiError("invalid_form_data")
        else:
            return params, ApiError("invalid_post_type")
    for key, error in _JSON_FIELD_ERRORS.items():
        value = params.get(key)
        if isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError:
                return params, ApiError(error)
    return params, None


def bearer_token(request: Request) -> str:
    scheme, _, token = request.header("authorization").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
