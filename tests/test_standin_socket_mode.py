"""The stand-in's Socket Mode on its own, with a bare WebSocket client as the app: envelopes as
Slack shapes them (and as slack_sdk reads them), acks, event retries, turns, disconnects."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.socket_mode.request import SocketModeRequest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from bot.standin import SlackStandIn
from bot.standin.requests import SlackRequests
from bot.standin.socket_mode import NoAck, NoConnection

APP_TOKEN = "xapp-1-A0PULSEBOT-1-standin"


@pytest.fixture
def team(standin: SlackStandIn) -> SlackRequests:
    workspace = standin.workspace
    return SlackRequests("unused", team_id=workspace.team_id, api_app_id=workspace.app_id)


@contextlib.contextmanager
def app_connection(standin: SlackStandIn) -> Iterator[ClientConnection]:
    url = WebClient(base_url=standin.url).apps_connections_open(app_token=APP_TOKEN)["url"]
    with connect(url) as websocket:
        hello = json.loads(websocket.recv(timeout=5))
        assert hello["type"] == "hello"
        assert hello["connection_info"] == {"app_id": standin.workspace.app_id}
        yield websocket


@pytest.fixture
def app(standin: SlackStandIn) -> Iterator[ClientConnection]:
    with app_connection(standin) as websocket:
        yield websocket


def receive(websocket: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(websocket.recv(timeout=5))
    return message


def test_envelopes_are_shaped_as_slack_sends_them(
    standin: SlackStandIn, app: ClientConnection, team: SlackRequests
) -> None:
    sockets = standin.socket_mode
    command = team.slash_command_payload("/deal", "help", user_id="U05OSMITH")
    click = team.block_action_payload(user_id="U05OSMITH", action_id="deal_advance", value="1")
    form = team.view_submission_payload(user_id="U05OSMITH", callback_id="x", values={})
    event = team.event_payload(team.app_home_opened_event("U05OSMITH"))
    sent = [
        (sockets.send("slash_commands", command, accepts_response_payload=True), True),
        (sockets.send("interactive", click), False),
        (sockets.send("interactive", form, accepts_response_payload=True), True),
        (sockets.send("events_api", event), False),
    ]
    for envelope, accepts in sent:
        message = receive(app)
        expected = {"envelope_id", "payload", "type", "accepts_response_payload"}
        if envelope.type == "events_api":
            expected |= {"retry_attempt", "retry_reason"}
            assert (message["retry_attempt"], message["retry_reason"]) == (0, "")
        assert set(message) == expected
        assert message["accepts_response_payload"] is accepts
        assert message["payload"] == envelope.payload
        # slack_sdk reads it as it reads Slack's.
        request = SocketModeRequest.from_dict(message)
        assert request is not None
        assert (request.type, request.envelope_id) == (envelope.type, envelope.envelope_id)
        app.send(json.dumps({"envelope_id": message["envelope_id"], "payload": {"n": 1}}))
        assert envelope.wait_ack() == {"n": 1}
        assert envelope.in_time and envelope.acks == 1
    app.send(json.dumps({"envelope_id": "nobody"}))
    standin.wait_for(lambda: sockets.unknown_acks == [{"envelope_id": "nobody"}])


def test_an_event_not_acknowledged_is_sent_again_a_command_is_not(
    standin: SlackStandIn, app: ClientConnection, team: SlackRequests
) -> None:
    sockets = standin.socket_mode
    sockets.ack_timeout = 0.2
    event = team.event_payload(team.app_home_opened_event("U05OSMITH"))
    first = sockets.send("events_api", event)
    assert receive(app)["envelope_id"] == first.envelope_id  # and no ack: a lost one
    retry = receive(app)
    assert retry["envelope_id"] != first.envelope_id
    assert (retry["retry_attempt"], retry["retry_reason"]) == (1, "timeout")
    assert retry["payload"] == event
    app.send(json.dumps({"envelope_id": retry["envelope_id"]}))
    with pytest.raises(NoAck):  # a slash command is not retried: the person sees an error
        sockets.slash_command(
            team.slash_command_payload("/deal", "help", user_id="U05OSMITH"), timeout=0.3
        )
    receive(app)  # the command's envelope
    with pytest.raises(TimeoutError):
        app.recv(
            timeout=0.5
        )  # nothing more: the event was acknowledged, the command not sent again


def test_connections_take_turns_and_disconnect_asks_for_new_ones(
    standin: SlackStandIn, app: ClientConnection, team: SlackRequests
) -> None:
    sockets = standin.socket_mode
    with app_connection(standin) as second:
        event = team.event_payload(team.app_home_opened_event("U05OSMITH"))
        for _ in range(4):
            sockets.send("events_api", event)
        assert [e.connection for e in sockets.envelopes] == [1, 2, 1, 2]
        for websocket in (app, second):
            for _ in range(2):
                envelope_id = receive(websocket)["envelope_id"]
                websocket.send(json.dumps({"envelope_id": envelope_id}))
        sockets.disconnect("refresh_requested", close_after=0.2)
        for websocket in (app, second):
            told = receive(websocket)
            assert told["type"] == "disconnect"
            assert told["reason"] == "refresh_requested"
            assert "host" in told["debug_info"]
        with pytest.raises(NoConnection):  # not to a connection told to go
            sockets.send("events_api", event, wait_for_connection=0.2)
        with pytest.raises(ConnectionClosed):
            app.recv(timeout=5)  # closed with a closing handshake, after close_after


def test_a_drop_ends_the_connection_without_a_closing_handshake(
    standin: SlackStandIn, app: ClientConnection
) -> None:
    standin.socket_mode.drop()
    assert standin.socket_mode.open_connections == 0
    with pytest.raises(ConnectionClosed) as closed:
        app.recv(timeout=5)
    assert closed.value.rcvd is None  # no close frame came: the network went
