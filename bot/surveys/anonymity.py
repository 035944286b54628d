"""The anonymity rules, in one place: who answered is known only through a keyed hash, and a
figure shows only when enough people are behind it and nothing else can be subtracted from it.

- The respondent key is HMAC-SHA256 of run and user under PULSEBOT_SECRET: answers carry no
  user id, and only the secret, held in memory, links a person to their answers.
- A run's figures show only with `min_responses` answers (`question_threshold`).
- A team shows only when it and everything left hidden are large enough (`shown_segments`).
- A released figure's group of respondents never differs from the group of an earlier release
  of the same kind of question by fewer than `min_responses` people (bot.surveys.releases).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from storage import summary as summary_store
from storage import surveys as store
from storage.summary import ClosedRun
from storage.surveys import AnswerRecord, RunRecord

# Below the threshold, no figure per question shows, whatever each question's own count.
NOTHING_SHOWS = 10**9


def respondent_key(secret: str, run_id: int, user_id: str) -> str:
    """Stable per run and person, so answers can be changed; meaningless without the secret.

    Keyed per run, so one person's answers to two runs cannot be linked either.
    """
    message = f"pulsebot.respondent.v1:{run_id}:{user_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def answered_among(
    secret: str, run_id: int, user_ids: Iterable[str], respondents: Collection[str]
) -> frozenset[str]:
    """Which of these people answered a run: those whose key is among its respondents.

    The only way from a person to their answers goes through the secret, held in memory.
    """
    return frozenset(u for u in user_ids if respondent_key(secret, run_id, u) in respondents)


def who_answered(session: Session, secret: str, run_id: int) -> frozenset[str]:
    """The people who answered a run: for participation and reminders, never beside answers."""
    return answered_among(
        secret, run_id, store.invited_ids(session, run_id), store.respondent_keys(session, run_id)
    )


def runs_of_person(
    session: Session, secret: str, user_id: str, now: datetime, past: int
) -> tuple[list[tuple[RunRecord, list[AnswerRecord]]], list[ClosedRun]]:
    """For a person's own Home tab: the open runs they were sent, with their answers so far
    (to know whether they answered), and up to `past` closed runs they answered, newest
    first.

    Their key is computed here from the secret and never leaves this function; answers are
    never found by user id, because none is stored with them.
    """
    opened = [
        (run, store.answers_of(session, run.id, respondent_key(secret, run.id, user_id)))
        for run in store.open_runs_for(session, user_id, now)
        if run.closes_at > now
    ]
    answered = summary_store.answered_runs(
        session, user_id, lambda run_id: respondent_key(secret, run_id, user_id), past
    )
    return opened, answered


# ---- teams -------------------------------------------------------------------------------------


def shown_segments(counts: Mapping[str, int], total: int, min_responses: int) -> set[str]:
    """Which segments' figures may show, given each one's count and the count of everybody.

    A segment shows with at least `min_responses` answers, and only when the total does. The
    total shows too, so whatever stays hidden — the total minus every shown segment, people in
    no segment included — could be worked out by subtraction: it must be none or at least
    `min_responses`. While it is not, the smallest shown segment is hidden as well
    (complementary suppression). Worked example with a threshold of 3: total 9, #sales 7,
    #support 2, nobody else → #support is hidden (2), and the rest hidden would be 2, so
    #sales is hidden too — else 9 − 7 would give #support's figures.
    """
    if total < min_responses:
        return set()
    shown = {segment for segment, count in counts.items() if count >= min_responses}
    while shown:
        rest = total - sum(counts[segment] for segment in shown)
        if rest == 0 or rest >= min_responses:
            break
        shown.remove(min(shown, key=lambda segment: (counts[segment], segment)))
    return shown
