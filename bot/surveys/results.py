"""Survey results from anonymous answers: eNPS, means, distributions, changes, teams; and
their JSON form, the snapshot frozen when a run's results are released."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from bot import statistics as stats
from bot.surveys import anonymity
from bot.surveys.model import SurveyDefinition

FAVOURABLE = (4, 5)
SCALE = (1, 5)  # the answers of a scale question


@dataclass(frozen=True, slots=True)
class Enps:
    score: int  # −100 … +100
    # The bands: None where too few people answered for counts to keep them anonymous.
    promoters: int | None
    passives: int | None
    detractors: int | None

    def without_bands(self) -> Enps:
        return Enps(self.score, None, None, None)


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


# Why a figure is not shown (see bot.surveys.anonymity).
THRESHOLD = "threshold"  # too few people behind it
OVERLAP = "overlap"  # an earlier release's group differs from its group by too few people


@dataclass(frozen=True, slots=True)
class QuestionResult:
    index: int
    kind: str
    answered: int
    hidden: bool
    reason: str | None = None  # why hidden: THRESHOLD or OVERLAP
    mean: float | None = None
    favourable: float | None = None  # share of 4–5, 0–1
    distribution: tuple[tuple[str, int], ...] = ()
    enps: Enps | None = None
    change: float | None = None  # mean (scale) or score (eNPS) against the previous release
    comments: tuple[str, ...] = ()
    # Uncertainty (bot.statistics), set on release for shown figures only: the estimate
    # (adjusted eNPS; a scale question's is its mean) and its interval at RunResults.confidence,
    # its standard error (to compare a later release with), the favourable share's interval,
    # how the figure covers the audience (SAMPLE, CORRECTED, WHOLE), and whether the change
    # against the previous release is beyond noise.
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    standard_error: float | None = None
    favourable_low: float | None = None
    favourable_high: float | None = None
    coverage: str | None = None
    change_real: bool | None = None

    @property
    def withheld(self) -> bool:
        """Hidden although enough people answered: another release could be subtracted."""
        return self.reason == OVERLAP


@dataclass(frozen=True, slots=True)
class RunResults:
    run_number: int
    invited: int
    answered: int
    min_responses: int
    questions: tuple[QuestionResult, ...]
    segments: tuple[SegmentResult, ...] = ()
    confidence: int | None = None  # of the intervals; None in releases made before them

    @property
    def hidden(self) -> bool:
        """Nothing of the run shows: too few people answered it at all."""
        return all(q.hidden and q.reason == THRESHOLD for q in self.questions) and (
            self.answered < self.min_responses
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunResults:
        data: dict[str, Any] = json.loads(text)
        questions = tuple(
            QuestionResult(
                **{
                    **q,
                    "distribution": tuple(tuple(pair) for pair in q["distribution"]),
                    "enps": None if q["enps"] is None else Enps(**q["enps"]),
                    "comments": tuple(q["comments"]),
                }
            )
            for q in data["questions"]
        )
        segments = tuple(
            SegmentResult(
                **{
                    **seg,
                    "questions": tuple(
                        SegmentQuestion(
                            **{**sq, "enps": None if sq["enps"] is None else Enps(**sq["enps"])}
                        )
                        for sq in seg["questions"]
                    ),
                }
            )
            for seg in data["segments"]
        )
        return cls(
            run_number=data["run_number"],
            invited=data["invited"],
            answered=data["answered"],
            min_responses=data["min_responses"],
            questions=questions,
            segments=segments,
            confidence=data.get("confidence"),
        )


@dataclass(frozen=True, slots=True)
class Participation:
    """What shows of a run while it is open: how many answered, never who, nothing else."""

    run_number: int
    invited: int
    answered: int
    closes_at: datetime


def _numbers(answers: Sequence[tuple[int, int | None, str | None]], index: int) -> list[int]:
    return [n for q, n, _ in answers if q == index and n is not None]


def _texts(answers: Sequence[tuple[int, int | None, str | None]], index: int) -> list[str]:
    return [t for q, _, t in answers if q == index and t]


def question_results(
    definition: SurveyDefinition,
    answers: Sequence[tuple[int, int | None, str | None]],
    *,
    previous: Mapping[int, QuestionResult] | None = None,
    shuffle_seed: int | None = None,
) -> tuple[QuestionResult, ...]:
    """Per question, every figure the answers give; what may show is decided on release.

    `answers` are (question, number, text) without respondent; comments come back shuffled
    so their order says nothing about who wrote them or when. `previous` holds the shown
    results of the previous release, by question: a change is given against those only.
    """
    results = []
    for index, question in enumerate(definition.questions):
        numbers = _numbers(answers, index)
        texts = _texts(answers, index)
        answered = len(texts) if question.kind in ("text", "choice") else len(numbers)
        if not answered:
            results.append(
                QuestionResult(index, question.kind, answered, hidden=True, reason=THRESHOLD)
            )
            continue
        before = (previous or {}).get(index)
        if before is not None and (before.hidden or before.kind != question.kind):
            before = None
        if question.kind == "scale":
            mean = sum(numbers) / len(numbers)
            counts = Counter(numbers)
            change = None
            if before is not None and before.mean is not None:
                change = round(mean, 1) - round(before.mean, 1)
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
            change = None
            if before is not None and before.enps is not None:
                change = score.score - before.enps.score
            results.append(
                QuestionResult(
                    index,
                    question.kind,
                    answered,
                    hidden=False,
                    enps=score,
                    mean=sum(numbers) / len(numbers),
                    distribution=tuple((str(v), counts[v]) for v in range(11)),
                    change=change,
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


# ---- what a release shows -------------------------------------------------------------------


def hide(result: QuestionResult, reason: str) -> QuestionResult:
    """The question with no figure left, and why."""
    return QuestionResult(result.index, result.kind, result.answered, hidden=True, reason=reason)


def _without_counts(result: QuestionResult) -> QuestionResult:
    bands = None if result.enps is None else result.enps.without_bands()
    return replace(result, distribution=(), enps=bands)


def released(
    results: RunResults,
    hidden: Mapping[int, str],
    hidden_in_segments: Mapping[tuple[str, int], str],
    without_distribution: set[int],
) -> RunResults:
    """`results` as released: the questions in `hidden` (index → reason) and the team figures
    in `hidden_in_segments` ((team, index) → reason) without figures, and the questions in
    `without_distribution` with their figures but no counts per answer."""
    questions = tuple(
        hide(q, hidden[q.index])
        if q.index in hidden
        else (_without_counts(q) if q.index in without_distribution else q)
        for q in results.questions
    )
    segments = tuple(
        replace(
            segment,
            questions=tuple(
                SegmentQuestion(sq.index, sq.kind, hidden=True)
                if (segment.segment, sq.index) in hidden_in_segments
                else sq
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
    # As in QuestionResult, from what a team's line shows only (its score or mean and share).
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    favourable_low: float | None = None
    favourable_high: float | None = None
    coverage: str | None = None


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


# ---- uncertainty -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FigureInterval:
    """A released figure's estimate and interval, as its release holds them
    (with_uncertainty): `coverage` is bot.statistics' SAMPLE, CORRECTED or
    WHOLE; `real` whether the change against the previous release is beyond noise."""

    estimate: float
    low: float
    high: float
    confidence: int
    coverage: str
    real: bool | None = None


def figure_interval(
    figure: QuestionResult | SegmentQuestion, confidence: int | None
) -> FigureInterval | None:
    """The interval of a released figure, None where the release holds none (a hidden figure,
    or a release made before intervals)."""
    low, high, estimate = figure.low, figure.high, figure.estimate
    if estimate is None or low is None or high is None or confidence is None:
        return None
    real = figure.change_real if isinstance(figure, QuestionResult) else None
    return FigureInterval(estimate, low, high, confidence, figure.coverage or stats.SAMPLE, real)


def _enps_estimate(
    full: Enps, n: int, audience: int, *, confidence: int, bands_withheld: bool
) -> stats.Estimate:
    assert full.promoters is not None and full.passives is not None
    assert full.detractors is not None
    return stats.enps_estimate(
        full.promoters,
        full.passives,
        full.detractors,
        confidence=confidence,
        audience=audience,
        bands_withheld=bands_withheld,
    )


def _scale_estimates(
    mean: float,
    favourable: float,
    n: int,
    audience: int,
    distribution: tuple[tuple[str, int], ...],
    *,
    confidence: int,
) -> tuple[stats.Estimate, stats.Estimate]:
    """The mean's t-interval and the favourable share's Wilson interval. Without the counts
    per answer (withheld in a small group) the standard deviation is taken at the largest the
    mean allows, so the interval tells nothing the counts would."""
    counts = {int(label): count for label, count in distribution if count}
    sd = stats.sample_sd(counts) if distribution else stats.largest_sd(mean, n, *SCALE)
    mean_estimate = stats.mean_estimate(
        mean, sd, n, confidence=confidence, audience=audience, scale=SCALE
    )
    share = stats.wilson_interval(
        round(favourable * n), n, confidence=confidence, audience=audience
    )
    return mean_estimate, share


def with_uncertainty(
    shown: RunResults,
    computed: RunResults,
    *,
    confidence: int,
    previous: Mapping[int, QuestionResult] | None = None,
) -> RunResults:
    """`shown` (a release) with an interval beside every figure it shows, and nothing beside a
    hidden one. `computed` holds the same run's figures before anything was hidden: an
    interval uses only what the release shows of them (see bot.statistics.enps_estimate's
    `bands_withheld`). A change is called real only beyond the noise of both releases."""
    questions = []
    for q in shown.questions:
        full = computed.questions[q.index]
        if q.hidden or q.answered < 2:
            questions.append(q)
            continue
        before = (previous or {}).get(q.index)
        before_se = None if before is None else before.standard_error
        if q.enps is not None and full.enps is not None:
            estimate = _enps_estimate(
                full.enps,
                q.answered,
                shown.invited,
                confidence=confidence,
                bands_withheld=q.enps.promoters is None,
            )
            share = None
        elif q.kind == "scale" and q.mean is not None and q.favourable is not None:
            estimate, share = _scale_estimates(
                q.mean,
                q.favourable,
                q.answered,
                shown.invited,
                q.distribution,
                confidence=confidence,
            )
        else:
            questions.append(q)
            continue
        real = None
        if q.change is not None and before_se is not None:
            real = stats.change_is_real(
                q.change, estimate.standard_error, before_se, confidence=confidence
            )
        questions.append(
            replace(
                q,
                estimate=estimate.value,
                low=estimate.low,
                high=estimate.high,
                standard_error=estimate.standard_error,
                favourable_low=None if share is None else share.low,
                favourable_high=None if share is None else share.high,
                coverage=estimate.coverage,
                change_real=real,
            )
        )
    segments = tuple(
        replace(
            segment,
            questions=tuple(
                _segment_uncertainty(sq, segment, confidence) for sq in segment.questions
            ),
        )
        for segment in shown.segments
    )
    return replace(shown, questions=tuple(questions), segments=segments, confidence=confidence)


def _segment_uncertainty(
    sq: SegmentQuestion, segment: SegmentResult, confidence: int
) -> SegmentQuestion:
    """A team's figure with its interval: its bands and counts never show, so the widest
    interval its score or mean allows."""
    if sq.hidden or segment.hidden:
        return sq
    n = segment.answered
    if sq.enps is not None and sq.enps.promoters is not None and n >= 2:
        n = sq.enps.promoters + (sq.enps.passives or 0) + (sq.enps.detractors or 0)
        estimate = _enps_estimate(
            sq.enps, n, segment.invited, confidence=confidence, bands_withheld=True
        )
        return replace(
            sq,
            estimate=estimate.value,
            low=estimate.low,
            high=estimate.high,
            coverage=estimate.coverage,
        )
    if sq.mean is not None and sq.favourable is not None and n >= 2:
        estimate, share = _scale_estimates(
            sq.mean, sq.favourable, n, segment.invited, (), confidence=confidence
        )
        return replace(
            sq,
            estimate=estimate.value,
            low=estimate.low,
            high=estimate.high,
            favourable_low=share.low,
            favourable_high=share.high,
            coverage=estimate.coverage,
        )
    return sq
