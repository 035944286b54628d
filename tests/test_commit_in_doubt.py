"""A connection lost during COMMIT: the user is told the change may have been kept, not that
nothing changed (a second `/deal advance` after "try again" would advance twice)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_bolt import Ack
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from bot.actor import Actor
from bot.deals.arguments import NewDealArgs
from bot.deals.service import DealService
from bot.deals.stages import DEFAULT_STAGES, Pipeline
from bot.i18n import Texts
from storage.db import CommitInDoubt, Database
from storage.deals import Deal
from storage.requests import HandledRequest
from tests.harness import BotHarness

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


@pytest.fixture
def commit_then_lose_connection(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[int]]:
    """The next COMMITs reach the server, then the connection drops before the answer comes
    back (what a network cut at the wrong moment does). Yields the count of such commits."""
    dialect = db.engine.dialect
    real_commit = dialect.do_commit
    lost: list[int] = []

    def commit_and_drop(dbapi_connection: Any) -> None:
        real_commit(dbapi_connection)
        lost.append(1)
        raise dialect.loaded_dbapi.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(dialect, "do_commit", commit_and_drop)
    monkeypatch.setattr(dialect, "is_disconnect", lambda *_args, **_kw: True)
    yield lost


def test_a_connection_lost_at_commit_is_in_doubt_and_the_change_may_be_kept(
    db: Database, commit_then_lose_connection: list[int]
) -> None:
    with pytest.raises(CommitInDoubt), db.transaction() as session:
        session.add(HandledRequest(key="k1", handled_at=NOW))
    with pytest.raises(CommitInDoubt), db.begin() as connection:
        connection.execute(insert(HandledRequest).values(key="k2", handled_at=NOW))
    assert len(commit_then_lose_connection) == 2
    with db.engine.connect() as connection:
        kept = connection.execute(text("SELECT key FROM handled_requests ORDER BY key")).scalars()
        assert list(kept) == ["k1", "k2"]  # this time the server had committed


def test_a_connection_lost_before_commit_is_a_plain_outage(db: Database) -> None:
    # Lost in the middle of the work: no COMMIT was sent, the server rolls back. Not in doubt.
    lost = DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    with pytest.raises(DBAPIError) as raised, db.transaction() as session:
        session.add(HandledRequest(key="k3", handled_at=NOW))
        raise lost
    assert raised.value is lost
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM handled_requests")).scalar() == 0


def test_a_deal_created_as_the_connection_drops_is_in_doubt(
    db: Database, commit_then_lose_connection: list[int]
) -> None:
    service = DealService(db, Pipeline.parse(DEFAULT_STAGES), currency="EUR")
    with pytest.raises(CommitInDoubt):
        service.create(Actor("U05OSMITH"), NewDealArgs(name="Doubtful"))
    with db.engine.connect() as connection:  # a read: no COMMIT to lose
        assert connection.scalars(select(Deal.name)).all() == ["Doubtful"]


def test_the_user_is_told_to_look_before_doing_it_again(bot: BotHarness) -> None:
    def committed_maybe(ack: Ack) -> None:
        raise CommitInDoubt("server closed the connection unexpectedly")

    bot.app.command("/doubt")(committed_maybe)
    reply = BotHarness.reply_text(bot.command("U05OSMITH", "/doubt"))
    assert Texts("en")("common.error_in_doubt") in reply
    assert "Nothing was changed" not in reply
