"""PULSEBOT_RETENTION_MONTHS: what is older than that is deleted, by a nightly job."""

from __future__ import annotations

import calendar
import logging
from datetime import datetime

from storage.db import Database
from storage.upkeep import Pruned, prune_older_than

log = logging.getLogger(__name__)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (31 March less one month: the
    last day of February)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def apply_retention(db: Database, now: datetime, months: int) -> Pruned:
    """Delete what is older than `months` months, in one transaction, and say how much."""
    cutoff = months_before(now, months)
    with db.transaction() as session:
        pruned = prune_older_than(session, cutoff)
    log.info(
        "retention (%d months, before %s): deleted %d survey answers, %d comments, "
        "%d deal events of closed deals, %d 1:1 notes, %d 1:1 topics",
        months,
        cutoff.date().isoformat(),
        pruned.survey_answers,
        pruned.survey_comments,
        pruned.deal_events,
        pruned.oneonone_notes,
        pruned.oneonone_topics,
    )
    return pruned
