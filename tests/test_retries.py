"""Slack retries and replays: acknowledged again, never handled twice."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_bolt import Ack, BoltContext
from slack_bolt.request import BoltRequest
from sqlalchemy import text

from bot.standin.requests import SignedRequest
from handlers.middleware import delivery_key
from storage.db import Database
from storage.requests import claim_request
from tests.harness import BotHarness

MOMENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

# A retried event, block action, form and command: tests/reliability/test_replays.py.


def test_replayed_slash_command_is_answered_once(bot: BotHarness) -> None:
    request = bot.requests.slash_command("/deal", "help", user_id="U05OSMITH", trigger_id="1.2.abc")
    first = bot.dispatch(request)
    replay = bot.dispatch(request)
    assert "/deal" in BotHarness.reply_text(first)
    assert replay.status == 200
    assert replay.body == ""


def test_failed_delivery_can_be_retried(bot: BotHarness) -> None:
    attempts: list[str] = []

    def flaky(ack: Ack, context: BoltContext, body: dict[str, Any]) -> None:
        attempts.append(body["trigger_id"])
        if len(attempts) == 1:
            raise RuntimeError("boom")
        ack(text="done")

    bot.app.command("/flaky")(flaky)
    request: SignedRequest = bot.requests.slash_command(
        "/flaky", "", user_id="U05OSMITH", trigger_id="9.9.flaky"
    )
    failed = bot.dispatch(request)
    assert "went wrong" in BotHarness.reply_text(failed)
    retried = bot.dispatch(request)
    assert BotHarness.reply(retried)["text"] == "done"
    assert attempts == ["9.9.flaky", "9.9.flaky"]


def test_delivery_keys() -> None:
    assert delivery_key({"event_id": "Ev1", "type": "event_callback"}) == "event:Ev1"
    assert delivery_key({"command": "/deal", "trigger_id": "t1"}) == "/deal:t1"
    assert delivery_key({"type": "block_actions", "trigger_id": "t2"}) == "block_actions:t2"
    assert delivery_key({"type": "url_verification"}) is None
    assert isinstance(BoltRequest(body="{}", headers={}).body, dict)


def test_a_delivery_key_commits_by_itself_and_leaves_durable_commits_alone(db: Database) -> None:
    """The claim is one statement with its own transaction; on PostgreSQL it turns off the
    WAL flush wait for that transaction only, never for the pooled connection afterwards."""
    with db.single_statement() as connection:
        assert claim_request(connection, "event:Ev-durable", MOMENT)
    with db.single_statement() as connection:
        assert not claim_request(connection, "event:Ev-durable", MOMENT)
        if db.dialect == "postgresql":
            setting = connection.execute(text("SHOW synchronous_commit")).scalar()
            assert setting == "on"
    with db.engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM handled_requests WHERE key = 'event:Ev-durable'")
        ).scalar()
    assert count == 1


def test_a_pooled_connection_killed_by_the_server_is_replaced_before_use(db: Database) -> None:
    """What pool_pre_ping did, without its round trip per checkout: a database restart (here,
    the server ending the pooled connection's backend) costs no request an error."""
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no server to restart")
    with db.engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    killer = Database(db.engine.url)
    try:
        with killer.engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        killer.dispose()
    time.sleep(0.2)  # the termination notice reaches the idle socket
    with db.single_statement() as connection:
        assert claim_request(connection, "event:Ev-after-restart", MOMENT)
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != pid
