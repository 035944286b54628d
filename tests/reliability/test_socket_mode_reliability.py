"""Socket Mode when the connection goes and when instances share the work, with real
`pulsebot run` processes: nothing a person did is lost, nothing is done twice."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import __version__
from bot.standin import SlackStandIn
from bot.standin.socket_mode import ACK_TIMEOUT
from tests.faketime_compat import child_python_path
from tests.reliability.conftest import FIGURES
from tests.socket_bot import (
    LEADS,
    REPO,
    SECRETS,
    STANDS_BY,
    SocketBot,
    block_text,
    deals_named,
    people,
    wait_for_deals,
)

pytestmark = pytest.mark.slow

REP = "U05OSMITH"
ITALIAN = "U02MBIANC"


@pytest.fixture
def bots() -> Iterator[list[SocketBot]]:
    started: list[SocketBot] = []
    yield started
    for bot in started:
        output = bot.stop()
        for secret in SECRETS:
            assert secret not in output


def test_a_dropped_connection_is_replaced_and_nothing_is_lost_or_doubled(
    standin: SlackStandIn, bots: list[SocketBot], sqlite_url: str
) -> None:
    sockets = standin.socket_mode
    team = people(standin)
    bots.append(SocketBot(standin, sqlite_url))
    sockets.wait_for_connections(1, timeout=30)
    first = sockets.slash_command(
        team.slash_command_payload("/deal", 'new "Before the drop" 2k', user_id=REP)
    )
    assert "Before the drop" in block_text(first)
    publishes = len(standin.calls_to("views.publish"))

    # An event goes out and the network goes with it: its ack, if the bot even got it, is
    # lost. Slack sends it again once the bot is back, as a retry of the same event_id.
    body = team.event_payload(team.app_home_opened_event(ITALIAN))
    sent = sockets.send("events_api", body, wait_for_connection=1)
    sockets.drop()
    dropped_at = time.monotonic()
    assert sockets.open_connections == 0
    sockets.wait_for_connections(1, timeout=40)
    reconnected = time.monotonic() - dropped_at
    FIGURES.append(f"Socket Mode: a dropped connection was replaced after {reconnected:.1f} s")

    # Typed once the bot is back: answered, and made once.
    after = sockets.slash_command(
        team.slash_command_payload("/deal", 'new "After the drop" 3k', user_id=REP)
    )
    assert "After the drop" in block_text(after)

    def event_envelopes() -> list[object]:
        return [e for e in sockets.envelopes if e.payload.get("event_id") == body["event_id"]]

    standin.wait_for(
        lambda: any(e.acked.is_set() for e in sockets.envelopes if e.payload == sent.payload),
        timeout=ACK_TIMEOUT * 2 + 5,
        describe="an acknowledged delivery of the event",
    )
    standin.wait_for(lambda: standin.home_view(ITALIAN), timeout=10)
    time.sleep(1.0)  # a second publish, if there were one, would come now
    assert len(standin.calls_to("views.publish")) == publishes + 1
    attempts = [(e.retry_attempt, e.retry_reason) for e in event_envelopes()]  # type: ignore[attr-defined]
    assert attempts[0] == (0, "")
    assert attempts[1:] in ([], [(1, "timeout")]), attempts
    for name in ("Before the drop", "After the drop"):
        wait_for_deals(standin, sqlite_url, name, bool)
        assert len(deals_named(sqlite_url, name)) == 1
    assert all(envelope.acks <= 1 for envelope in sockets.envelopes)
    assert len(sockets.connections) == 2


@pytest.mark.postgres
def test_two_instances_each_hold_a_connection_share_the_envelopes_and_one_runs_the_scheduler(
    standin: SlackStandIn, bots: list[SocketBot], postgres_url: str
) -> None:
    sockets = standin.socket_mode
    team = people(standin)
    bots.extend([SocketBot(standin, postgres_url), SocketBot(standin, postgres_url)])
    sockets.wait_for_connections(2, timeout=40)
    for bot in bots:
        bot.wait_for_output(f"pulsebot {__version__} connected through Socket Mode")
    standin.wait_for(
        lambda: (
            sum(LEADS in b.output for b in bots) == 1
            and sum(STANDS_BY in b.output for b in bots) == 1
        ),
        timeout=20,
        describe="one instance leading the scheduler, the other standing by",
    )

    names = [f"Shared {n}" for n in range(12)]
    publishes = len(standin.calls_to("views.publish"))
    for name in names:
        answer = sockets.slash_command(
            team.slash_command_payload("/deal", f'new "{name}" 1k', user_id=REP)
        )
        assert name in block_text(answer)
    for _ in range(4):
        assert sockets.event(team.event_payload(team.app_home_opened_event(ITALIAN))) == {}

    # Slack takes turns between the app's connections: both instances did some of the work.
    used = {envelope.connection for envelope in sockets.envelopes}
    assert used == {link.number for link in sockets.connections}
    assert len(used) == 2
    assert all(envelope.acks == 1 for envelope in sockets.envelopes)
    for name in names:
        assert len(deals_named(postgres_url, name)) == 1
    standin.wait_for(lambda: len(standin.calls_to("views.publish")) >= publishes + 4, timeout=10)
    time.sleep(0.5)
    assert len(standin.calls_to("views.publish")) == publishes + 4
    assert sum(LEADS in b.output for b in bots) == 1


def test_the_demo_runs_over_socket_mode(tmp_path: Path) -> None:
    """`pulsebot demo --socket-mode`: the whole story, every action an envelope, all acked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PULSEBOT_"))}
    env.pop("DATABASE_URL", None)
    finished = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--socket-mode"],
        check=False,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": child_python_path(str(REPO))},
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = finished.stdout
    assert finished.returncode == 0, output + finished.stderr
    assert "bot connected through Socket Mode to ws://127.0.0.1:" in output
    for scene in ("/deal pipeline", "[Snooze 7 days]", "eNPS +", "Weighted pipeline"):
        assert scene in output, scene
    assert "no answer" not in output
    assert "all answered" in output.splitlines()[-1]
