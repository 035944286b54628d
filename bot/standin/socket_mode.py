"""Slack's Socket Mode for the stand-in: links, a WebSocket server, envelopes and their acks.

The bot calls `apps.connections.open` with its app-level token (xapp-…) and gets a one-use
`ws://…/link/?ticket=…` URL; on connecting it gets `hello`, then envelopes (`slash_commands`,
`interactive`, `events_api`) which it must acknowledge with their `envelope_id` within 3 s, with
the response payload where Slack accepts one (slash commands, view submissions). As on Slack:
envelopes go to one open connection each, taking turns; an event not acknowledged in time is sent
again as a new envelope with `retry_attempt` and `retry_reason` (slash commands and
interactions are not: the person sees an error); `disconnect` asks the bot to reconnect.

Tests and the demo drive it with `send_*` (which return the ack's payload), `disconnect` and
`drop` (the network goes: the TCP connection ends without a closing handshake).
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from bot.standin.protocol import JsonDict

logger = logging.getLogger("bot.standin")  # one logger for the whole stand-in

EnvelopeType = Literal["slash_commands", "interactive", "events_api"]
DisconnectReason = Literal["refresh_requested", "link_disabled", "warning"]

ACK_TIMEOUT = 3.0  # Slack's: an envelope not acknowledged by then has failed
EVENT_RETRIES = 3  # Slack retries an event three times
# Slack's retries of an event come minutes apart, so one of them finds the bot back after a
# lost connection; the stand-in's each wait this long for a connection instead.
RETRY_WAIT_FOR_CONNECTION = 60.0
LINK_PATH = "/link/"

# Interactions whose ack may carry a payload (`response_action`, options); the rest must not.
_PAYLOAD_INTERACTIONS = frozenset({"view_submission", "block_suggestion"})


class NoAck(AssertionError):
    """The bot did not acknowledge an envelope within Slack's 3 s."""


class NoConnection(AssertionError):
    """No Socket Mode connection was open to deliver an envelope to."""


@dataclass
class Envelope:
    """One envelope as sent, and its acknowledgement once it came."""

    envelope_id: str
    type: EnvelopeType
    payload: JsonDict
    accepts_response_payload: bool
    retry_attempt: int = 0
    retry_reason: str = ""
    connection: int | None = None  # which connection (see `SocketModeServer.connections`)
    sent_at: float = 0.0
    acked_at: float | None = None
    ack_payload: JsonDict | None = None
    acks: int = 0  # how many acks arrived for it (more than one is the bot's bug)
    acked: threading.Event = field(default_factory=threading.Event, repr=False)

    def message(self) -> JsonDict:
        """The JSON object sent on the WebSocket, in Slack's field order."""
        body: JsonDict = {
            "envelope_id": self.envelope_id,
            "payload": self.payload,
            "type": self.type,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.type == "events_api":
            body["retry_attempt"] = self.retry_attempt
            body["retry_reason"] = self.retry_reason
        return body

    @property
    def in_time(self) -> bool:
        return self.acked_at is not None and self.acked_at - self.sent_at <= ACK_TIMEOUT

    def wait_ack(self, timeout: float = ACK_TIMEOUT) -> JsonDict:
        """The ack's payload ({} for a bare ack); NoAck if it does not come in `timeout` s."""
        if not self.acked.wait(timeout):
            raise NoAck(f"no ack for {self.type} envelope {self.envelope_id} in {timeout:.1f} s")
        return copy.deepcopy(self.ack_payload) or {}


@dataclass
class Link:
    """One WebSocket connection of the app."""

    number: int
    websocket: ServerConnection
    opened_at: float
    closed_at: float | None = None
    disconnect_sent: str | None = None  # the reason, once told to reconnect

    @property
    def open(self) -> bool:
        return self.closed_at is None

    @property
    def takes_envelopes(self) -> bool:
        return self.open and self.disconnect_sent is None


class SocketModeServer:
    """The WebSocket side of the stand-in; `SlackStandIn.socket_mode` hands out the one it has."""

    def __init__(self, app_id: str, *, host: str = "127.0.0.1") -> None:
        self._app_id = app_id
        self._host = host
        self._lock = threading.Condition(threading.RLock())
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._tickets: set[str] = set()
        self._links: list[Link] = []
        self._turn = itertools.count()
        self._envelopes: dict[str, Envelope] = {}
        self._unknown_acks: list[JsonDict] = []
        self.links_issued = 0
        # When an unacknowledged event is sent again: Slack's 3 s, then at once (Slack waits
        # a minute, then five, before its later retries: tests cannot).
        self.ack_timeout = ACK_TIMEOUT
        self.retry_delay = 0.0

    # ---- lifecycle ---------------------------------------------------------------------

    def _ensure_started(self) -> Server:
        with self._lock:
            if self._server is None:
                self._server = serve(
                    self._serve_connection,
                    self._host,
                    0,
                    process_request=self._check_ticket,
                    compression=None,  # slack_sdk's built-in client speaks no extension
                    ping_interval=None,  # the client pings; Slack's servers answer
                    logger=logging.getLogger("bot.standin.websockets"),
                )
                self._thread = threading.Thread(
                    target=self._server.serve_forever,
                    name=f"slack-standin-socket-mode-{self.port}",
                    daemon=True,
                )
                self._thread.start()
                logger.info("Slack stand-in: Socket Mode on ws://%s:%s", self._host, self.port)
            return self._server

    @property
    def port(self) -> int:
        server = self._server
        if server is None:
            raise RuntimeError("the Socket Mode server has not started")
        return int(server.socket.getsockname()[1])

    def stop(self) -> None:
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None:
            return
        self.drop()
        server.shutdown()
        if thread is not None:
            thread.join(timeout=5)

    # ---- apps.connections.open and the handshake ----------------------------------------

    def open_link(self) -> str:
        """A one-use WebSocket URL, as `apps.connections.open` returns it."""
        self._ensure_started()
        ticket = str(uuid.uuid4())
        with self._lock:
            self._tickets.add(ticket)
            self.links_issued += 1
        return f"ws://{self._host}:{self.port}{LINK_PATH}?ticket={ticket}&app_id={self._app_id}"

    def _check_ticket(self, websocket: ServerConnection, request: Request) -> Response | None:
        split = urlsplit(request.path)
        ticket = parse_qs(split.query).get("ticket", [""])[0]
        with self._lock:
            known = split.path == LINK_PATH and ticket in self._tickets
            self._tickets.discard(ticket)
        if not known:
            return Response(401, "Unauthorized", Headers(), b"invalid or used ticket\n")
        return None

    # ---- one connection ------------------------------------------------------------------

    def _serve_connection(self, websocket: ServerConnection) -> None:
        with self._lock:
            link = Link(len(self._links) + 1, websocket, time.monotonic())
            self._links.append(link)
            count = sum(1 for each in self._links if each.open)
            self._lock.notify_all()
        logger.info("Slack stand-in: Socket Mode connection %s opened", link.number)
        try:
            websocket.send(json.dumps(self._hello(count)))
            for message in websocket:
                self._receive(link, message)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                link.closed_at = link.closed_at or time.monotonic()
                self._lock.notify_all()
            logger.info("Slack stand-in: Socket Mode connection %s closed", link.number)

    def _hello(self, num_connections: int) -> JsonDict:
        return {
            "type": "hello",
            "num_connections": num_connections,
            "debug_info": {
                "host": "applink-standin",
                "started": "2026-01-01 00:00:00.000",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self._app_id},
        }

    def _receive(self, link: Link, message: str | bytes) -> None:
        try:
            ack = json.loads(message)
        except (UnicodeDecodeError, json.JSONDecodeError):
            logger.warning("Slack stand-in: connection %s sent non-JSON %r", link.number, message)
            return
        envelope_id = ack.get("envelope_id") if isinstance(ack, dict) else None
        with self._lock:
            envelope = self._envelopes.get(str(envelope_id))
            if envelope is None:
                self._unknown_acks.append(ack if isinstance(ack, dict) else {"ack": ack})
                return
            envelope.acks += 1
            if envelope.acks == 1:
                # Slack takes an ack on any of the app's connections: the bot may answer on
                # the new one after a reconnect.
                envelope.acked_at = time.monotonic()
                payload = ack.get("payload")
                envelope.ack_payload = payload if isinstance(payload, dict) else None
                envelope.acked.set()

    # ---- sending envelopes -----------------------------------------------------------

    def wait_for_connections(self, count: int = 1, timeout: float = 30.0) -> None:
        """Wait until `count` connections take envelopes (a bot has started, or reconnected)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while sum(1 for link in self._links if link.takes_envelopes) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise NoConnection(
                        f"fewer than {count} Socket Mode connection(s) after {timeout} s"
                    )
                self._lock.wait(remaining)

    def send(
        self,
        envelope_type: EnvelopeType,
        payload: Mapping[str, Any],
        *,
        accepts_response_payload: bool = False,
        wait_for_connection: float = 10.0,
    ) -> Envelope:
        """Send one envelope to the next open connection (waiting for one up to the given s).

        Events not acknowledged in time are retried in the background, as Slack does.
        """
        envelope = Envelope(
            envelope_id=str(uuid.uuid4()),
            type=envelope_type,
            payload=copy.deepcopy(dict(payload)),
            accepts_response_payload=accepts_response_payload,
        )
        self._deliver(envelope, wait_for_connection)
        if envelope_type == "events_api":
            threading.Thread(
                target=self._retry_until_acked,
                args=(envelope, wait_for_connection),
                name=f"socket-mode-retry-{envelope.envelope_id[:8]}",
                daemon=True,
            ).start()
        return envelope

    def _deliver(self, envelope: Envelope, wait_for_connection: float) -> None:
        deadline = time.monotonic() + wait_for_connection
        while True:
            self.wait_for_connections(1, max(0.0, deadline - time.monotonic()))
            with self._lock:
                ready = [link for link in self._links if link.takes_envelopes]
                if not ready:
                    continue
                link = ready[next(self._turn) % len(ready)]
                envelope.connection = link.number
                envelope.sent_at = time.monotonic()
                self._envelopes[envelope.envelope_id] = envelope
            try:
                link.websocket.send(json.dumps(envelope.message()))
                return
            except ConnectionClosed:
                # Gone between the choice and the send: Slack would pick another.
                with self._lock:
                    self._envelopes.pop(envelope.envelope_id, None)
                    link.closed_at = link.closed_at or time.monotonic()
                if time.monotonic() >= deadline:
                    raise NoConnection("every Socket Mode connection closed") from None

    def _retry_until_acked(self, first: Envelope, wait_for_connection: float) -> None:
        envelope = first
        for attempt in range(1, EVENT_RETRIES + 1):
            if envelope.acked.wait(self.ack_timeout):
                return
            time.sleep(self.retry_delay)
            retry = Envelope(
                envelope_id=str(uuid.uuid4()),
                type=envelope.type,
                payload=envelope.payload,
                accepts_response_payload=envelope.accepts_response_payload,
                retry_attempt=attempt,
                retry_reason="timeout",
            )
            try:
                self._deliver(retry, max(wait_for_connection, RETRY_WAIT_FOR_CONNECTION))
            except NoConnection:
                logger.warning("Slack stand-in: event retry %s found no connection", attempt)
                return
            envelope = retry

    # ---- what people do, as the bot receives it --------------------------------------------

    def slash_command(self, fields: Mapping[str, str], *, timeout: float = ACK_TIMEOUT) -> JsonDict:
        """Send a slash command (`SlackRequests.slash_command_payload`); the ack's payload."""
        envelope = self.send("slash_commands", fields, accepts_response_payload=True)
        return envelope.wait_ack(timeout)

    def interaction(self, payload: Mapping[str, Any], *, timeout: float = ACK_TIMEOUT) -> JsonDict:
        """Send a block action, view submission…; the ack's payload ({} for a bare ack)."""
        accepts = payload.get("type") in _PAYLOAD_INTERACTIONS
        envelope = self.send("interactive", payload, accepts_response_payload=accepts)
        return envelope.wait_ack(timeout)

    def event(self, body: Mapping[str, Any], *, timeout: float = ACK_TIMEOUT) -> JsonDict:
        """Send an Events API `event_callback` (`SlackRequests.event_payload`)."""
        return self.send("events_api", body).wait_ack(timeout)

    # ---- what the server did --------------------------------------------------------------

    @property
    def envelopes(self) -> list[Envelope]:
        """Every envelope sent, retries included, in the order sent."""
        with self._lock:
            return sorted(self._envelopes.values(), key=lambda e: e.sent_at)

    @property
    def unknown_acks(self) -> list[JsonDict]:
        """Acks naming no envelope the server sent."""
        with self._lock:
            return list(self._unknown_acks)

    @property
    def connections(self) -> list[Link]:
        """Every connection made, open or closed, in the order opened."""
        with self._lock:
            return list(self._links)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return sum(1 for link in self._links if link.open)

    # ---- trouble -----------------------------------------------------------------------

    def disconnect(
        self, reason: DisconnectReason = "refresh_requested", *, close_after: float = 10.0
    ) -> None:
        """Tell every open connection to reconnect, as Slack does before it closes them.

        New envelopes go to connections opened afterwards; the old ones are closed (with a
        closing handshake) `close_after` seconds later unless the bot closed them first.
        """
        message = json.dumps(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-standin"}}
        )
        with self._lock:
            told = [link for link in self._links if link.takes_envelopes]
            for link in told:
                link.disconnect_sent = reason
        for link in told:
            with contextlib.suppress(ConnectionClosed):
                link.websocket.send(message)
        timer = threading.Timer(close_after, self._close, args=(told,))
        timer.daemon = True
        timer.start()

    def _close(self, links: list[Link]) -> None:
        for link in links:
            if link.open:
                link.websocket.close(1001, "going away")

    def drop(self) -> None:
        """The network goes: every open connection ends without a closing handshake."""
        with self._lock:
            dropped = [link for link in self._links if link.open]
            for link in dropped:
                link.closed_at = time.monotonic()
        for link in dropped:
            with contextlib.suppress(OSError):
                link.websocket.socket.shutdown(socket.SHUT_RDWR)
            link.websocket.close_socket()
