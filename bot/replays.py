"""Each Slack delivery is handled once, and a failed one is told apart by what failed.

Slack retries a delivery (`X-Slack-Retry-Num`) when our answer was slow or lost, and a replayed
or double-submitted payload carries the same id: its key is claimed before any listener runs,
and given back when the listener failed, so that Slack's retry is handled for real.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from storage.db import CommitInDoubt, Database
from storage.requests import claim_request, release_request

# DBAPIError covers OperationalError (connection refused, server gone) and its kin.
DATABASE_ERRORS = (DBAPIError, PoolTimeoutError, CommitInDoubt)


def claim_delivery(db: Database, key: str, now: datetime) -> bool:
    """True for the first delivery with this key; False for a retry or replay of it.

    The key is kept with its day only: the precise time of a click on a survey could be
    matched with other writes of that moment.
    """
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with db.single_statement() as connection:
        return claim_request(connection, key, day)


def release_delivery(db: Database, key: str) -> None:
    """Forget a delivery after it failed, so that Slack's retry of it is handled for real."""
    with db.transaction() as session:
        release_request(session, key)


def failure_kind(error: Exception) -> Literal["in_doubt", "unavailable", "bug"]:
    """A commit whose outcome is unknown, the database out of reach, or anything else."""
    if isinstance(error, CommitInDoubt):
        return "in_doubt"
    return "unavailable" if isinstance(error, DATABASE_ERRORS) else "bug"
