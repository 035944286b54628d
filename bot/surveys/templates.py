"""The built-in surveys: weekly pulse, eNPS and quarterly engagement (texts in the catalog)."""

from __future__ import annotations

from bot.surveys.model import Question, SurveyDefinition


def _scale(key: str) -> Question:
    return Question(kind="scale", text_key=f"pulse.questions.{key}")


def _comment(key: str = "comment") -> Question:
    return Question(kind="text", text_key=f"pulse.questions.{key}", optional=True)


ENPS_QUESTION = Question(kind="enps", text_key="pulse.questions.enps")

TEMPLATES: dict[str, SurveyDefinition] = {
    "pulse": SurveyDefinition(
        title_key="pulse.templates.pulse",
        questions=(
            _scale("workload"),
            _scale("recognition"),
            _scale("goals"),
            _scale("collaboration"),
            _scale("wellbeing"),
            _comment(),
        ),
    ),
    "enps": SurveyDefinition(
        title_key="pulse.templates.enps",
        questions=(ENPS_QUESTION, _comment("enps_reason")),
    ),
    "engagement": SurveyDefinition(
        title_key="pulse.templates.engagement",
        questions=(
            ENPS_QUESTION,
            _scale("purpose"),
            _scale("growth"),
            _scale("manager_support"),
            _scale("tools"),
            _scale("recognition"),
            _scale("workload"),
            _scale("belonging"),
            _scale("future"),
            _comment("improve"),
        ),
    ),
}
