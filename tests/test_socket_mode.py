"""Socket Mode end to end: a real `pulsebot run` process, connected to the stand-in's WebSocket.

Everything goes as on Slack: `apps.connections.open` with the app-level token, `hello`,
envelopes, acks within 3 s carrying the response where Slack takes one, `disconnect`.
The slow cases (a dropped connection, two instances on PostgreSQL) are in
tests/reliability/test_socket_mode_reliability.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bot import __version__
from bot.standin import SlackStandIn, Workspace
from bot.standin.requests import SlackRequests
from bot.standin.socket_mode import ACK_TIMEOUT
from bot.views import deals as deal_views
from tests.socket_bot import (
    APP_TOKEN,
    BOT_TOKEN,
    SECRETS,
    SocketBot,
    block_text,
    deals_named,
    people,
    wait_for_deals,
)

REP = "U05OSMITH"
ITALIAN = "U02MBIANC"


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(Workspace.demo()) as server:
        yield server


@pytest.fixture(scope="module")
def team(slack: SlackStandIn) -> SlackRequests:
    """The people of the workspace, for the whole module: each trigger_id is new."""
    return people(slack)


@pytest.fixture(scope="module")
def running(slack: SlackStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SocketBot]:
    """One `pulsebot run` for the module (it takes a few seconds to start)."""
    folder: Path = tmp_path_factory.mktemp("socket-mode")
    bot = SocketBot(slack, f"sqlite:///{folder}/pulsebot.db")
    try:
        slack.socket_mode.wait_for_connections(1, timeout=30)
        yield bot
    finally:
        output = bot.stop()
        for secret in SECRETS:
            assert secret not in output
    assert f"pulsebot {__version__} connected through Socket Mode" in output


def test_apps_connections_open_takes_only_an_app_token(slack: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as refused:
        WebClient(base_url=slack.url, token=BOT_TOKEN).apps_connections_open(app_token=BOT_TOKEN)
    assert refused.value.response["error"] == "not_allowed_token_type"
    url = WebClient(base_url=slack.url).apps_connections_open(app_token=APP_TOKEN)["url"]
    assert url.startswith("ws://127.0.0.1:") and "/link/?ticket=" in url
    with connect(url) as websocket:  # a link opens once, and says hello first
        hello = websocket.recv(timeout=5)
        assert '"type": "hello"' in str(hello)
        assert '"app_id": "A0PULSEBOT"' in str(hello)
    with pytest.raises(InvalidStatus), connect(url):
        pass


def test_deal_command_is_answered_in_the_ack(
    running: SocketBot, slack: SlackStandIn, team: SlackRequests
) -> None:
    started = time.monotonic()
    answer = slack.socket_mode.slash_command(
        team.slash_command_payload(
            "/deal", 'new "Socket Co" 5k', user_id=REP, response_url=slack.response_url()
        )
    )
    assert time.monotonic() - started < ACK_TIMEOUT
    assert "Socket Co" in block_text(answer)
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    (made,) = wait_for_deals(slack, running.database_url, "Socket Co", bool)
    assert made[1:] == ("lead", None)
    help_answer = slack.socket_mode.slash_command(
        team.slash_command_payload("/deal", "help", user_id=REP)
    )
    assert "/deal advance" in block_text(help_answer)
    envelope = slack.socket_mode.envelopes[-1]
    assert (envelope.type, envelope.accepts_response_payload, envelope.acks) == (
        "slash_commands",
        True,
        1,
    )


def test_button_click_then_view_submission_with_errors(
    running: SocketBot, slack: SlackStandIn, team: SlackRequests
) -> None:
    slack.socket_mode.slash_command(
        team.slash_command_payload("/deal", "new Wavelength 9k", user_id=REP)
    )
    ((deal_id, _, _),) = wait_for_deals(slack, running.database_url, "Wavelength", bool)
    before = len(slack.calls_to("views.open"))
    # The "Mark lost" button: a bare ack, then the bot opens the reason form.
    click = team.block_action_payload(user_id=REP, action_id=deal_views.LOSE, value=str(deal_id))
    assert slack.socket_mode.interaction(click) == {}
    assert slack.socket_mode.envelopes[-1].accepts_response_payload is False
    opened = slack.wait_for_calls("views.open", before + 1)[-1]
    view = opened.params["view"]
    assert view["callback_id"] == deal_views.LOST_MODAL
    # A blank reason: the errors come back in the ack, and the deal stays as it was.
    blank = team.view_submission_payload(
        user_id=REP,
        callback_id=deal_views.LOST_MODAL,
        values={"reason": {"value": {"type": "plain_text_input", "value": "  "}}},
        private_metadata=view["private_metadata"],
    )
    answer = slack.socket_mode.interaction(blank)
    assert slack.socket_mode.envelopes[-1].accepts_response_payload is True
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"reason"}
    assert deals_named(running.database_url, "Wavelength") == [(deal_id, "lead", None)]
    done = team.view_submission_payload(
        user_id=REP,
        callback_id=deal_views.LOST_MODAL,
        values={"reason": {"value": {"type": "plain_text_input", "value": "chose a rival"}}},
        private_metadata=view["private_metadata"],
    )
    assert slack.socket_mode.interaction(done) == {}
    lost = [(deal_id, "lost", "chose a rival")]
    wait_for_deals(slack, running.database_url, "Wavelength", lambda found: found == lost)


def test_app_home_opened_event(
    running: SocketBot, slack: SlackStandIn, team: SlackRequests
) -> None:
    before = len(slack.calls_to("views.publish"))
    body = team.event_payload(team.app_home_opened_event(ITALIAN))
    assert slack.socket_mode.event(body) == {}
    slack.wait_for(lambda: slack.home_view(ITALIAN), timeout=10)
    time.sleep(0.5)  # nothing more comes: one publish for one event
    assert len(slack.calls_to("views.publish")) == before + 1
    sent = [e for e in slack.socket_mode.envelopes if e.payload.get("event_id") == body["event_id"]]
    assert [(e.type, e.retry_attempt, e.acks) for e in sent] == [("events_api", 0, 1)]


@pytest.mark.parametrize("reason", ["refresh_requested", "link_disabled"])
def test_disconnect_is_followed_by_a_new_connection_and_nothing_is_lost_or_doubled(
    running: SocketBot, slack: SlackStandIn, team: SlackRequests, reason: str
) -> None:
    links = slack.socket_mode.links_issued
    connections = len(slack.socket_mode.connections)
    slack.socket_mode.disconnect(reason, close_after=2.0)  # type: ignore[arg-type]
    # The bot asks for a new link and connects at once, then lets the old connection go.
    slack.socket_mode.wait_for_connections(1, timeout=10)
    assert slack.socket_mode.links_issued == links + 1
    assert len(slack.socket_mode.connections) == connections + 1
    name = f"After {reason}"
    answer = slack.socket_mode.slash_command(
        team.slash_command_payload("/deal", f'new "{name}" 1k', user_id=REP)
    )
    assert name in block_text(answer)
    assert slack.socket_mode.envelopes[-1].connection == connections + 1
    slack.wait_for(lambda: slack.socket_mode.open_connections == 1, timeout=10)
    wait_for_deals(slack, running.database_url, name, bool)
    assert len(deals_named(running.database_url, name)) == 1
    # Every envelope of the module so far: acknowledged once, within Slack's 3 s.
    assert all(envelope.acks == 1 for envelope in slack.socket_mode.envelopes)
    assert all(envelope.in_time for envelope in slack.socket_mode.envelopes)
    assert slack.socket_mode.unknown_acks == []
