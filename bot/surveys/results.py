"""Survey results from anonymous answers: eNPS, means, distributions, change, threshold."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot.surveys import anonymity
from bot.surveys.model import SurveyDefinition

FAVOURABLE = (4, 5)


@dataclass(frozen=True, slots=True)
class Enps:
    score: int  # −100 … +100
    promoters: int
    passives: int
    detractors: int


def enps(scores: Sequence[int]) -> Enps:
    """% promoters (9–10) − % detractors (0–6), rounded half away from zero."""
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    passives = len(scores) - promoters - detractors
    if not scores:
        return Enps(0, 0, 0, 0)
    exact = 100 * (promoters - detractors) / len(scores)
    score = int(abs(exact) + 0.5) * (1 if exact >= 0 else -1)
    return Enps(score, promoters, passives, detractors)


def signed(value: float, digits: int = 0) -> str:
    """`+40`, `-12`, `0`: eNPS and changes are shown with their sign."""
    text = f"{value:+.{digits}f}"
    return text.replace("+0", "0", 1) if text.lstrip("+-").strip("0.") == "" else text


@dataclass(frozen=True, slots=True)
class QuestionResult:
    index: int
    kind: str
    answered: int
    hidden: bool  # fewer answers than the threshold, or withheld
    # Hidden because a run open at the same time asked the same question of almost the same
    # people: comparing the two could single someone out (see `differencing_risks`).
    withheld: bool = False
    mean: float | None = None
    favourable: float | None = None  # share of 4–5, 0–1
    distribution: tuple[tuple[str, int], ...] = ()
    enps: Enps | None = None
    change: float | None = None  # mean (scale) or score (eNPS) against the previous run
    comments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RunResults:
    run_number: int
    invited: int
    answered: int
    min_responses: int
    questions: tuple[QuestionResult, ...]
    segments: tuple[SegmentResult, ...] = ()

    @property
    def hidden(self) -> bool:
        return self.answered < self.min_responses


def _numbers(answers: Sequence[tuple[int, int | None, str | None]], index: int) -> list[int]:
    return [n for q, n, _ in answers if q == index and n is not None]


def _texts(answers: Sequence[tuple[int, int | None, str | None]], index: int) -> list[str]:
    return [t for q, _, t in answers if q == index and t]


def question_results(
    definition: SurveyDefinition,
    answers: Sequence[tuple[int, int | None, str | None]],
    *,
    min_responses: int,
    previous: Sequence[tuple[int, int | None, str | None]] | None = None,
    shuffle_seed: int | None = None,
) -> tuple[QuestionResult, ...]:
    """Per question: hidden below `min_responses` answers, figures otherwise.

    `answers` are (question, number, text) without respondent; comments come back shuffled
    so their order says nothing about who wrote them or when.
    """
    results = []
    for index, question in enumerate(definition.questions):
        numbers = _numbers(answers, index)
        texts = _texts(answers, index)
        answered = len(texts) if question.kind in ("text", "choice") else len(numbers)
        if answered < min_responses:
            results.append(QuestionResult(index, question.kind, answered, hidden=True))
            continue
        before = _numbers(previous, index) if previous is not None else []
        before_shown = len(before) >= min_responses
        if question.kind == "scale":
            mean = sum(numbers) / len(numbers)
            counts = Counter(numbers)
            change = None
            if before_shown:
                change = round(mean, 1) - round(sum(before) / len(before), 1)
            results.append(
                QuestionResult(
                    index,
                    question.kind,
                    answered,
                    hidden=False,
                    mean=mean,
                    favourable=sum(counts[v] for v in FAVOURABLE) / len(numbers),
                    distribution=tuple((str(v), counts[v]) for v in range(1, 6)),
                    change=change,
                )
            )
        elif question.kind == "enps":
            score = enps(numbers)
            counts = Counter(numbers)
            results.append(
                QuestionResult(
                    index,
                    question.kind,
                    answered,
                    hidden=False,
                    enps=score,
                    mean=sum(numbers) / len(numbers),
                    distribution=tuple((str(v), counts[v]) for v in range(11)),
                    change=(score.score - enps(before).score) if before_shown else None,
                )
            )
        elif question.kind == "choice":
            chosen = Counter(texts)
            results.append(
                QuestionResult(
                    index,
                    question.kind,
                    answered,
                    hidden=False,
                    distribution=tuple((o, chosen[o]) for o in question.options),
                )
            )
        else:
            shuffled = list(texts)
            random.Random(shuffle_seed).shuffle(shuffled)
            results.append(
                QuestionResult(
                    index, question.kind, answered, hidden=False, comments=tuple(shuffled)
                )
            )
    return tuple(results)


# ---- withheld questions ---------------------------------------------------------------------


def withhold(results: RunResults, risky: set[int]) -> RunResults:
    """`results` with the `risky` questions hidden, per team too."""
    if not risky:
        return results
    questions = tuple(
        QuestionResult(q.index, q.kind, q.answered, hidden=True, withheld=True)
        if q.index in risky
        else q
        for q in results.questions
    )
    segments = tuple(
        replace(
            segment,
            questions=tuple(
                SegmentQuestion(sq.index, sq.kind, hidden=True) if sq.index in risky else sq
                for sq in segment.questions
            ),
        )
        for segment in results.segments
    )
    return replace(results, questions=questions, segments=segments)


# ---- segments --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SegmentQuestion:
    index: int
    kind: str
    hidden: bool
    mean: float | None = None
    favourable: float | None = None
    enps: Enps | None = None


@dataclass(frozen=True, slots=True)
class SegmentResult:
    segment: str  # a channel id
    invited: int
    answered: int
    hidden: bool
    questions: tuple[SegmentQuestion, ...] = ()


def segment_results(
    definition: SurveyDefinition,
    answers: Sequence[tuple[int, int | None, str | None]],
    segment_answers: Sequence[tuple[str, str, int, int | None, str | None]],
    invited: Mapping[str, int],
    *,
    answered: int,
    min_responses: int,
) -> tuple[SegmentResult, ...]:
    """Per segment: eNPS and scale questions, each under `shown_segments` twice — once for who
    answered the run, once for who answered that question. Comments and choices are never
    broken down: a team's comments could be told apart by their wording.

    `answers` are every answer (question, number, text); `segment_answers` those filed under
    a segment, as (segment, respondent, question, number, text); `answered` is everybody who
    answered the run.
    """
    respondents: dict[str, set[str]] = {}
    for segment, respondent, *_ in segment_answers:
        respondents.setdefault(segment, set()).add(respondent)
    people = {segment: len(keys) for segment, keys in respondents.items()}
    for segment in invited:
        people.setdefault(segment, 0)
    shown = anonymity.shown_segments(people, answered, min_responses)
    per_question: dict[int, set[str]] = {}
    for index, question in enumerate(definition.questions):
        if question.kind not in ("scale", "enps"):
            continue
        counts = Counter(s for s, _, q, n, _ in segment_answers if q == index and n is not None)
        total = len(_numbers(answers, index))
        per_question[index] = shown & anonymity.shown_segments(
            {segment: counts[segment] for segment in people}, total, min_responses
        )
    results = []
    for segment in sorted(people, key=lambda s: (-people[s], s)):
        if segment not in shown:
            results.append(
                SegmentResult(segment, invited.get(segment, 0), people[segment], hidden=True)
            )
            continue
        questions = []
        for index, visible in per_question.items():
            kind = definition.questions[index].kind
            if segment not in visible:
                questions.append(SegmentQuestion(index, kind, hidden=True))
                continue
            numbers = [
                n
                for s, _, q, n, _ in segment_answers
                if s == segment and q == index and n is not None
            ]
            if kind == "enps":
                questions.append(SegmentQuestion(index, kind, hidden=False, enps=enps(numbers)))
            else:
                favourable = sum(1 for n in numbers if n in FAVOURABLE) / len(numbers)
                questions.append(
                    SegmentQuestion(
                        index,
                        kind,
                        hidden=False,
                        mean=sum(numbers) / len(numbers),
                        favourable=favourable,
                    )
                )
        results.append(
            SegmentResult(
                segment,
                invited.get(segment, 0),
                people[segment],
                hidden=False,
                questions=tuple(questions),
            )
        )
    return tuple(results)
