"""What a survey is: its questions, validated at construction, and their JSON form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal, cast, get_args

QuestionKind = Literal["scale", "enps", "choice", "text"]
QUESTION_KINDS: tuple[QuestionKind, ...] = get_args(QuestionKind)

MAX_QUESTIONS = 10  # the seed's rule: a pulse survey is short
MAX_OPTIONS = 10
MAX_QUESTION_TEXT = 150  # Slack's limit for an input label
MAX_OPTION_TEXT = 75  # Slack's limit for an option's text
MAX_TITLE = 60
SCALE_VALUES = range(1, 6)
ENPS_VALUES = range(11)


class SurveyError(ValueError):
    """A survey definition or command that cannot be accepted; `key` names the message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True, slots=True)
class Question:
    """One question; template questions name catalog keys, composed ones carry their text."""

    kind: QuestionKind
    text: str = ""
    text_key: str = ""
    options: tuple[str, ...] = ()
    optional: bool = False

    def __post_init__(self) -> None:
        if self.kind not in QUESTION_KINDS:
            raise SurveyError("pulse.errors.question_kind", kind=self.kind)
        if not (self.text or self.text_key):
            raise SurveyError("pulse.errors.question_empty")
        if len(self.text) > MAX_QUESTION_TEXT:
            raise SurveyError("pulse.errors.question_long", limit=MAX_QUESTION_TEXT)
        if self.kind == "choice":
            if not 2 <= len(self.options) <= MAX_OPTIONS:
                raise SurveyError("pulse.errors.choice_options", limit=MAX_OPTIONS)
            if any(not o or len(o) > MAX_OPTION_TEXT for o in self.options):
                raise SurveyError("pulse.errors.option_long", limit=MAX_OPTION_TEXT)
        elif self.options:
            raise SurveyError("pulse.errors.options_not_choice")

    def accepts(self, number: int | None, text: str | None) -> bool:
        if self.kind == "scale":
            return number in SCALE_VALUES
        if self.kind == "enps":
            return number in ENPS_VALUES
        if self.kind == "choice":
            return text in self.options
        return text is not None

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"kind": self.kind, "optional": self.optional}
        if self.text:
            data["text"] = self.text
        if self.text_key:
            data["text_key"] = self.text_key
        if self.options:
            data["options"] = list(self.options)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Question:
        options = data.get("options") or []
        return cls(
            kind=cast(QuestionKind, data["kind"]),
            text=str(data.get("text") or ""),
            text_key=str(data.get("text_key") or ""),
            options=tuple(str(o) for o in cast(list[object], options)),
            optional=bool(data.get("optional")),
        )


@dataclass(frozen=True, slots=True)
class SurveyDefinition:
    """A title and 1–10 questions."""

    title: str = ""
    title_key: str = ""
    questions: tuple[Question, ...] = field(default=())

    def __post_init__(self) -> None:
        if not (self.title or self.title_key):
            raise SurveyError("pulse.errors.title_empty")
        if len(self.title) > MAX_TITLE:
            raise SurveyError("pulse.errors.title_long", limit=MAX_TITLE)
        if not self.questions:
            raise SurveyError("pulse.errors.no_questions")
        if len(self.questions) > MAX_QUESTIONS:
            raise SurveyError(
                "pulse.errors.too_many_questions", count=len(self.questions), limit=MAX_QUESTIONS
            )

    @property
    def is_one_click(self) -> bool:
        """An eNPS question alone (perhaps with an optional comment) is answered with a click."""
        required = [q for q in self.questions if not q.optional]
        return (
            self.questions[0].kind == "enps"
            and required == [self.questions[0]]
            and all(q.kind == "text" for q in self.questions[1:])
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "title": self.title,
                "title_key": self.title_key,
                "questions": [q.to_dict() for q in self.questions],
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> SurveyDefinition:
        data = json.loads(text)
        return cls(
            title=str(data.get("title") or ""),
            title_key=str(data.get("title_key") or ""),
            questions=tuple(Question.from_dict(q) for q in data["questions"]),
        )


def parse_questions(text: str) -> tuple[Question, ...]:
    """The compose modal's one-question-per-line form.

    `scale: Workload is sustainable` · `enps: Would you recommend us?` ·
    `choice: Best day for the retro? | Monday | Friday` · `text?: Anything else?`
    (a `?` after the type makes the question optional).
    """
    questions: list[Question] = []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_QUESTIONS:
        raise SurveyError("pulse.errors.too_many_questions", count=len(lines), limit=MAX_QUESTIONS)
    for number, line in enumerate(lines, start=1):
        kind_part, sep, rest = line.partition(":")
        kind = kind_part.strip().lower()
        optional = kind.endswith("?")
        kind = kind.removesuffix("?").strip()
        if not sep or kind not in QUESTION_KINDS:
            raise SurveyError("pulse.errors.question_line", line=number)
        parts = [p.strip() for p in rest.split("|")]
        question_text, options = parts[0], tuple(p for p in parts[1:] if p)
        questions.append(
            Question(
                kind=kind,
                text=question_text,
                options=options,
                optional=optional,
            )
        )
    return tuple(questions)
