"""Releasing a closed run's results: every figure is computed, the anonymity rules decide which
may show, and the outcome is frozen as the snapshot every path that shows results reads.

Who answered each question is worked out in memory, from the run's deliveries and the secret,
for this run and for every earlier release it is compared with; it is never stored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy.orm import Session

from bot.i18n import Texts
from bot.surveys import anonymity
from bot.surveys.model import Question, SurveyDefinition
from bot.surveys.results import (
    OVERLAP,
    THRESHOLD,
    RunResults,
    question_results,
    released,
    segment_results,
    with_uncertainty,
)
from bot.surveys.templates import TEMPLATES
from storage import releases as release_store
from storage import surveys as store
from storage import upkeep as upkeep_store
from storage.releases import WHOLE_RUN, ReleaseRecord
from storage.surveys import RunRecord

# Teams are broken down for these kinds only (comments and choices could be told apart).
SEGMENTED_KINDS = ("scale", "enps")
# Counts per answer need twice the threshold: in a small group, a count of one is a person.
DISTRIBUTION_FACTOR = 2


@dataclass(frozen=True, slots=True)
class Figure:
    """What one release could show (a question, for everyone or one team), and who is behind
    it: user ids, held in memory only."""

    run_id: int
    question: int
    segment: str
    kind: str
    group: frozenset[str]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9]+", letters))


@cache
def _template_wordings() -> dict[str, str]:
    """Every wording of a template question, folded, → its catalog key."""
    keys = {q.text_key for t in TEMPLATES.values() for q in t.questions if q.text_key}
    return {_fold(Texts(lang)(key)): key for key in keys for lang in ("en", "it")}


def question_kind(question: Question) -> str:
    """The kind of question a figure is about, whatever the survey and the wording: every eNPS
    question is one kind; another is its type and its text, a template's words (in English or
    Italian) counting as the template question itself."""
    if question.kind == "enps":
        return "enps"
    key = question.text_key or _template_wordings().get(_fold(question.text), "")
    wording = _fold(Texts("en")(key)) if key else _fold(question.text)
    return f"{question.kind}:{wording}"[:300]


@dataclass(frozen=True, slots=True)
class RunGroups:
    """Who answered each question of a run, and each invited person's team."""

    answered: dict[int, frozenset[str]]
    segment_of: dict[str, str | None]

    def group(self, question: int, segment: str) -> frozenset[str]:
        people = self.answered.get(question, frozenset())
        if segment == WHOLE_RUN:
            return people
        return frozenset(p for p in people if self.segment_of.get(p) == segment)


def run_groups(session: Session, secret: str, run_id: int) -> RunGroups:
    segment_of = store.invited_segments(session, run_id)
    person_of = {anonymity.respondent_key(secret, run_id, u): u for u in segment_of}
    answered: dict[int, set[str]] = {}
    for answer in store.run_answers(session, run_id):
        person = person_of.get(answer.respondent)
        if person is not None and (answer.number is not None or answer.text):
            answered.setdefault(answer.question, set()).add(person)
    # A run whose answers the retention period deleted keeps who answered as marks.
    for respondent, question in upkeep_store.answer_marks(session, run_id):
        person = person_of.get(respondent)
        if person is not None:
            answered.setdefault(question, set()).add(person)
    return RunGroups({q: frozenset(p) for q, p in answered.items()}, segment_of)


def figures_of(run: RunRecord, definition: SurveyDefinition, groups: RunGroups) -> list[Figure]:
    """The run's possible figures: each question for everyone, then per team."""
    teams = sorted({s for s in groups.segment_of.values() if s is not None})
    figures = []
    for index, question in enumerate(definition.questions):
        kind = question_kind(question)
        figures.append(Figure(run.id, index, WHOLE_RUN, kind, groups.group(index, WHOLE_RUN)))
        if question.kind in SEGMENTED_KINDS:
            figures += [Figure(run.id, index, t, kind, groups.group(index, t)) for t in teams]
    return figures


def decide(
    figures: list[Figure], earlier: list[Figure], managers: frozenset[str], min_responses: int
) -> dict[tuple[int, str], str | None]:
    """(question, team) → None (released) or why not, by the anonymity rules:

    - THRESHOLD: fewer than `min_responses` people behind it who are not managers (a manager's
      own answer never counts towards what managers are shown);
    - OVERLAP: its group and the group of an earlier release of the same kind — in any run,
      survey or team, or earlier in this release — differ by at least one and fewer than
      `min_responses` people, so that subtracting one from the other would give them away.
    """
    decisions: dict[tuple[int, str], str | None] = {}
    shown = list(earlier)
    for figure in figures:
        reason: str | None = None
        if len(figure.group - managers) < min_responses:
            reason = THRESHOLD
        elif any(
            0 < len(figure.group ^ before.group) < min_responses
            for before in shown
            if before.kind == figure.kind
        ):
            reason = OVERLAP
        decisions[(figure.question, figure.segment)] = reason
        if reason is None:
            shown.append(figure)
    return decisions


def earlier_figures(session: Session, secret: str, kinds: set[str]) -> list[Figure]:
    """Every figure released so far of these kinds, with its group worked out again."""
    groups: dict[int, RunGroups] = {}
    figures = []
    for record in release_store.released_figures(session, kinds):
        if record.run_id not in groups:
            groups[record.run_id] = run_groups(session, secret, record.run_id)
        group = groups[record.run_id].group(record.question, record.segment)
        figures.append(Figure(record.run_id, record.question, record.segment, record.kind, group))
    return figures


def release_run(
    session: Session,
    run: RunRecord,
    *,
    secret: str,
    min_responses: int,
    managers: frozenset[str],
    previous: RunResults | None,
    confidence: int = 95,
    released_on: date,
) -> RunResults:
    """Compute a closed run's results, decide what shows, and store the snapshot and its
    ledger rows (call within one transaction, after release_store.lock_releases)."""
    definition = SurveyDefinition.from_json(run.definition)
    groups = run_groups(session, secret, run.id)
    figures = figures_of(run, definition, groups)
    earlier = earlier_figures(session, secret, {f.kind for f in figures})
    decisions = decide(figures, earlier, managers, min_responses)
    answers = [(a.question, a.number, a.text) for a in store.run_answers(session, run.id)]
    answered = store.respondent_count(session, run.id)
    previous_shown = {q.index: q for q in previous.questions} if previous else None
    computed = RunResults(
        run_number=run.number,
        invited=store.invited_count(session, run.id),
        answered=answered,
        min_responses=min_responses,
        questions=question_results(definition, answers, previous=previous_shown),
        segments=segment_results(
            definition,
            answers,
            store.segment_answers(session, run.id),
            store.invited_by_segment(session, run.id),
            answered=answered,
            min_responses=min_responses,
        ),
    )
    hidden = {q: r for (q, seg), r in decisions.items() if seg == WHOLE_RUN and r is not None}
    hidden_in_segments = {
        (seg, q): r for (q, seg), r in decisions.items() if seg != WHOLE_RUN and r is not None
    }
    few = {
        f.question
        for f in figures
        if f.segment == WHOLE_RUN and len(f.group - managers) < DISTRIBUTION_FACTOR * min_responses
    }
    results = with_uncertainty(
        released(computed, hidden, hidden_in_segments, few),
        computed,
        confidence=confidence,
        previous=previous_shown,
    )
    ledger = [
        ReleaseRecord(
            run.id,
            f.question,
            f.segment,
            f.kind,
            len(f.group),
            decisions[(f.question, f.segment)] is None,
            decisions[(f.question, f.segment)],
        )
        for f in figures
    ]
    release_store.save_release(session, run.id, released_on, results.to_json(), ledger)
    store.reorder_answers(session, run.id)
    return results
