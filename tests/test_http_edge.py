"""The HTTP edge as an unauthenticated client meets it: oversized bodies, malformed signature
headers and bodies, floods of junk in the log, and idle connections held open, over real
sockets to the real server."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest

from bot import web
from bot.standin.requests import FORM, JSON, SignedRequest
from bot.views import deals as deal_views
from bot.web import (
    IDLE_TIMEOUT_SECONDS,
    MAX_REQUEST_BYTES,
    ServerThread,
    make_wsgi_app,
)
from tests.conftest import make_settings
from tests.harness import BotHarness
from tests.reliability.helpers import REP
from tests.test_web import get, post

EVENTS = "/slack/events"


@pytest.fixture
def dispatched(bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every request that reached Bolt."""
    seen: list[Any] = []
    dispatch = bot.app.dispatch

    def spy(request: Any) -> Any:
        seen.append(request)
        return dispatch(request)

    monkeypatch.setattr(bot.app, "dispatch", spy)
    return seen


@pytest.fixture
def server(bot: BotHarness, dispatched: list[Any]) -> Iterator[ServerThread]:
    with ServerThread(make_wsgi_app(bot.app, bot.services)) as running:
        yield running


def raw_exchange(port: int, head: bytes, body: bytes = b"", *, timeout: float = 5) -> bytes:
    """Send `head` (and `body`) on a socket of its own; what the server answers, to its close."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        with contextlib.suppress(OSError):  # the server may close before taking it all
            sock.sendall(body)
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                answer += chunk
        return answer


def post_head(length: int | None, **headers: str) -> bytes:
    lines = [f"POST {EVENTS} HTTP/1.1", "Host: pulsebot", f"Content-Type: {FORM}"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "Traceback" not in caplog.text


# -- size -----------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_before_it_is_read(
    bot: BotHarness, server: ServerThread, dispatched: list[Any]
) -> None:
    signed = bot.requests.slash_command("/deal", "help", user_id=REP)
    # Only the head is sent: the answer comes without waiting for half a megabyte.
    head = post_head(MAX_REQUEST_BYTES + 1, **signed.headers)
    assert status_of(raw_exchange(server.port, head)) == 413
    # Sent in chunks, without a length up front: refused once it passes the limit.
    chunked = post_head(None, **{"Transfer-Encoding": "chunked"})
    chunk = b"a" * 65536
    body = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * (MAX_REQUEST_BYTES // len(chunk) + 1)
    assert status_of(raw_exchange(server.port, chunked, body + b"0\r\n\r\n")) == 413
    assert dispatched == []


def test_the_edge_refuses_an_oversized_body_under_any_server(bot: BotHarness) -> None:
    """Without waitress in front (another WSGI server), the app itself answers 413 unread."""

    class Unreadable:
        def read(self, *_: object) -> bytes:
            raise AssertionError("the body was read")

    statuses: list[str] = []
    app = make_wsgi_app(bot.app, bot.services)
    environ = {
        "PATH_INFO": EVENTS,
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(MAX_REQUEST_BYTES + 1),
        "wsgi.input": Unreadable(),
    }
    app(environ, lambda status, headers, *_: statuses.append(status))  # type: ignore[arg-type]
    assert statuses == ["413 Content Too Large"]


def test_the_largest_real_payloads_fit_under_the_limit(
    bot: BotHarness, server: ServerThread
) -> None:
    """A Home tab of 100 blocks of 3,000 characters each (Block Kit's most), clicked."""
    view = {
        "id": "VHOME",
        "type": "home",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}} for _ in range(100)
        ],
    }
    request = bot.requests.block_action(
        user_id=REP, action_id=deal_views.ADVANCE, value="999", view=view
    )
    assert 300_000 < len(request.body) < MAX_REQUEST_BYTES
    assert post(server.url + EVENTS, request)[0] == 200


# -- signatures and bodies ------------------------------------------------------------------------

BAD_HEADERS = [
    pytest.param({"x-slack-request-timestamp": "abc"}, id="timestamp_abc"),
    pytest.param({"x-slack-request-timestamp": ""}, id="timestamp_empty"),
    pytest.param({"x-slack-request-timestamp": None}, id="timestamp_missing"),
    pytest.param({"x-slack-request-timestamp": "1.7e9"}, id="timestamp_not_an_integer"),
    pytest.param({"x-slack-request-timestamp": "9" * 400}, id="timestamp_huge"),
    pytest.param({"x-slack-request-timestamp": "-1"}, id="timestamp_negative"),
    pytest.param({"x-slack-signature": ""}, id="signature_empty"),
    pytest.param({"x-slack-signature": None}, id="signature_missing"),
    pytest.param({"x-slack-signature": "v0=xyz"}, id="signature_not_hex"),
    pytest.param({"x-slack-signature": "v1=" + "0" * 64}, id="signature_other_version"),
]


@pytest.mark.parametrize("bad", BAD_HEADERS)
def test_malformed_signature_headers_are_401_without_a_traceback(
    bot: BotHarness,
    server: ServerThread,
    dispatched: list[Any],
    caplog: pytest.LogCaptureFixture,
    bad: dict[str, str | None],
) -> None:
    signed = bot.requests.slash_command("/deal", "new Forged 1k", user_id=REP)
    headers = {k: v for k, v in {**signed.headers, **bad}.items() if v is not None}
    with caplog.at_level(logging.WARNING):
        assert post(server.url + EVENTS, SignedRequest(signed.body, headers)) == (
            401,
            "Unauthorized",
        )
    no_traceback(caplog)
    assert dispatched == []


def signed_bytes(bot: BotHarness, body: bytes, content_type: str) -> tuple[bytes, dict[str, str]]:
    """Signed as Slack signs: over the bytes, whatever they are."""
    secret, stamp = bot.requests.signing_secret, str(int(bot.requests.clock()))
    mac = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return body, {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + mac.hexdigest(),
    }


MALFORMED = [
    pytest.param((b'{"type": "event_callback", ', JSON), id="json_cut_short"),
    pytest.param((b"[1, 2, 3]", JSON), id="json_not_an_object"),
    pytest.param((b"payload=" + quote('{"type": "block_actions"').encode(), FORM), id="payload_cut_short"),
    pytest.param((b"payload=" + quote('"just a string"').encode(), FORM), id="payload_not_an_object"),
    pytest.param((b"command=%2Fdeal&text=\xff\xfe", FORM), id="not_utf8"),
]  # fmt: skip


@pytest.mark.parametrize("malformed", MALFORMED)
def test_malformed_bodies_are_400_without_a_traceback(
    bot: BotHarness,
    server: ServerThread,
    dispatched: list[Any],
    caplog: pytest.LogCaptureFixture,
    malformed: tuple[bytes, str],
) -> None:
    """Signed (only Slack and whoever holds the signing secret can send these), yet broken."""
    body, headers = signed_bytes(bot, *malformed)
    head = (
        f"POST {EVENTS} HTTP/1.1\r\nHost: pulsebot\r\nContent-Length: {len(body)}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + "Connection: close\r\n\r\n"
    ).encode()
    with caplog.at_level(logging.WARNING):
        assert status_of(raw_exchange(server.port, head, body)) == 400
    no_traceback(caplog)
    assert dispatched == []


def test_an_unsigned_ssl_check_is_answered_as_slack_expects(
    server: ServerThread, dispatched: list[Any]
) -> None:
    check = SignedRequest("ssl_check=1&token=abc", {"content-type": FORM})
    assert post(server.url + EVENTS, check)[0] == 200
    assert len(dispatched) == 1  # Bolt answers it before any listener
    smuggled = SignedRequest("ssl_check=1&payload=%7B%7D" + "x" * 2000, {"content-type": FORM})
    assert post(server.url + EVENTS, smuggled)[0] == 401


def test_junk_is_logged_once_a_minute_per_kind_in_one_short_line(
    bot: BotHarness, server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    signed = bot.requests.slash_command("/deal", "new Forged 1k", user_id=REP)
    forged = signed.with_headers(**{"x-slack-signature": "v0=" + "0" * 64})
    malformed = signed.with_headers(**{"x-slack-request-timestamp": "abc"})
    with caplog.at_level(logging.DEBUG):
        for _ in range(30):
            assert post(server.url + EVENTS, forged)[0] == 401
            assert post(server.url + EVENTS, malformed)[0] == 401
        first = [r.getMessage() for r in caplog.records if r.name == "bot.web"]
        bot.clock.advance(timedelta(minutes=1))
        assert post(server.url + EVENTS, forged)[0] == 401
        lines = [r.getMessage() for r in caplog.records if r.name == "bot.web"]
    assert first == [
        f"refused a request to {EVENTS} with 401: wrong or stale Slack signature",
        f"refused a request to {EVENTS} with 401: malformed Slack signature headers",
    ]
    assert lines[2:] == [
        f"refused a request to {EVENTS} with 401: wrong or stale Slack signature "
        "(and 29 more in the last minute or so)"
    ]
    assert all(len(line) < 120 for line in lines)
    assert not any("Forged" in r.getMessage() for r in caplog.records)  # never the body


# -- idle connections -----------------------------------------------------------------------------

HOGS = 200


def test_idle_and_half_open_connections_do_not_lock_slack_out(
    bot: BotHarness, server: ServerThread
) -> None:
    """Two hundred connections held open doing nothing, or stopped half-way through a request:
    health and a signed command are still answered within a second."""
    hogs: list[socket.socket] = []
    try:
        for n in range(HOGS):
            hog = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            if n % 2:  # half-open: a request that stops in its headers
                hog.sendall(f"POST {EVENTS} HTTP/1.1\r\nHost: pulsebot\r\nContent-".encode())
            hogs.append(hog)
        started = time.monotonic()
        status, _ = get_within(server.url + "/healthz", seconds=1)
        assert status == 200
        assert time.monotonic() - started < 1
        started = time.monotonic()
        command = bot.requests.slash_command("/deal", "help", user_id=REP)
        status, body = post_within(server.url + EVENTS, command, seconds=1)
        assert (status, "/deal advance" in body) == (200, True)
        assert time.monotonic() - started < 1
    finally:
        for hog in hogs:
            hog.close()


def get_within(url: str, *, seconds: float) -> tuple[int, str]:
    with _timeout(seconds):
        return get(url)


def post_within(url: str, request: SignedRequest, *, seconds: float) -> tuple[int, str]:
    with _timeout(seconds):
        return post(url, request)


@contextlib.contextmanager
def _timeout(seconds: float) -> Iterator[None]:
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def test_an_idle_connection_is_closed_after_the_idle_timeout(bot: BotHarness) -> None:
    assert IDLE_TIMEOUT_SECONDS <= 10  # what `pulsebot serve` uses
    with ServerThread(make_wsgi_app(bot.app, bot.services), idle_timeout=1) as short:
        for opening in (b"", f"POST {EVENTS} HTTP/1.1\r\nHost: pulse".encode()):
            with socket.create_connection(("127.0.0.1", short.port), timeout=10) as sock:
                sock.sendall(opening)
                started = time.monotonic()
                assert sock.recv(1) == b""  # closed by the server
                assert time.monotonic() - started < 1 + web.IDLE_CHECK_SECONDS + 1


def test_serve_listens_on_this_machine_only_unless_told() -> None:
    assert make_settings().host == "127.0.0.1"
    assert make_settings(PULSEBOT_HOST="0.0.0.0").host == "0.0.0.0"
