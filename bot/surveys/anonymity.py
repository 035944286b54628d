"""The anonymity rules, in one place: who answered is known only through a keyed hash, and a
figure shows only when enough people are behind it and nothing else can be subtracted from it.

- The respondent key is HMAC-SHA256 of run and user under PULSEBOT_SECRET: answers carry no
  user id, and only the secret, held in memory, links a person to their answers.
- A run's figures show only with `min_responses` answers (`question_threshold`).
- A team shows only when it and everything left hidden are large enough (`shown_segments`).
- A question asked in two runs open at the same time of groups that differ by fewer than
  `min_responses` people is withheld in both (`differencing_risks`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot.surveys.model import Question, SurveyDefinition
from storage import summary as summary_store
from storage import surveys as store
from storage.summary import ClosedRun
from storage.surveys import AnswerRecord, DeliveryRecord, RunRecord

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


def unanswered(session: Session, secret: str, run_id: int, flag: str) -> list[DeliveryRecord]:
    """Sent DMs of people who have not answered, `flag` not yet done: each person's key is
    computed with the secret and looked for among the run's anonymous respondents."""
    respondents = store.respondent_keys(session, run_id)
    return [
        delivery
        for delivery in store.sent_deliveries(session, run_id, flag=flag)
        if respondent_key(secret, run_id, delivery.user_id) not in respondents
    ]


def runs_of_person(
    session: Session, secret: str, user_id: str, now: datetime, past: int
) -> tuple[list[tuple[RunRecord, list[AnswerRecord]]], list[tuple[ClosedRun, list[AnswerRecord]]]]:
    """For a person's own Home tab: the open runs they were sent, with their answers so far,
    and up to `past` closed runs they answered, with their answers, newest first.

    Their key is computed here from the secret and never leaves this function; answers are
    never found by user id, because none is stored with them.
    """
    opened = [
        (run, store.answers_of(session, run.id, respondent_key(secret, run.id, user_id)))
        for run in store.open_runs_for(session, user_id, now)
        if run.closes_at > now
    ]
    answered = [
        (
            closed,
            store.answers_of(
                session, closed.run_id, respondent_key(secret, closed.run_id, user_id)
            ),
        )
        for closed in summary_store.answered_runs(
            session, user_id, lambda run_id: respondent_key(secret, run_id, user_id), past
        )
    ]
    return opened, answered


def question_threshold(answered: int, min_responses: int) -> int:
    """The count each question needs to show: `min_responses`, once the run has that many
    respondents at all; before that, nothing shows."""
    return min_responses if answered >= min_responses else NOTHING_SHOWS


# ---- runs open at the same time ------------------------------------------------------------------


def _identity(question: Question) -> tuple[str, str, str, tuple[str, ...]]:
    return (question.kind, question.text_key, question.text, question.options)


def differencing_risks(
    definition: SurveyDefinition,
    respondents: frozenset[str],
    overlapping: Sequence[tuple[SurveyDefinition, frozenset[str]]],
    min_responses: int,
) -> set[int]:
    """Questions whose figures must stay hidden because another run could be subtracted.

    Two runs open at the same time that ask the same question (the eNPS question of `enps`
    and of `engagement`, say) of people who differ by fewer than `min_responses` — one run to
    #sales, one to #sales and Bob — would give Bob's answer as the difference of the two
    totals, since people tend to answer the same twice. Such a question is withheld in both
    runs. A difference of none (the same people) or of `min_responses` or more is safe.
    """
    risky: set[int] = set()
    for other, other_respondents in overlapping:
        differ = len(respondents ^ other_respondents)
        if differ == 0 or differ >= min_responses:
            continue
        shared = {_identity(q) for q in other.questions}
        risky.update(
            index for index, q in enumerate(definition.questions) if _identity(q) in shared
        )
    return risky


def withheld_questions(
    session: Session, secret: str, min_responses: int, run: RunRecord
) -> set[int]:
    """Questions of `run` hidden because a run open at the same time could be subtracted
    from it (see differencing_risks); usually none, and then nobody's key is computed."""
    overlapping = store.overlapping_runs(session, run)
    if not overlapping:
        return set()
    return differencing_risks(
        SurveyDefinition.from_json(run.definition),
        who_answered(session, secret, run.id),
        [
            (SurveyDefinition.from_json(o.definition), who_answered(session, secret, o.id))
            for o in overlapping
        ],
        min_responses,
    )


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
