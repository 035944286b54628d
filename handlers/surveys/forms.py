"""The survey modals a manager fills in: the schedule (`/pulse schedule` alone) and a new
survey of their own questions (`/pulse new`). Problems show under their fields."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.i18n import Language, Texts
from bot.services import Services
from bot.surveys.model import SurveyDefinition, SurveyError, parse_questions
from bot.surveys.schedule import Audience, Schedule, audience_from_form, schedule_from_form
from bot.views import surveys as views
from bot.views.common import notice
from handlers.middleware import actor_of, services_of, texts_for, user_of

# Which field of the schedule modal each problem belongs to.
SCHEDULE_FIELDS = {
    "common.manager_only": "survey",
    "pulse.errors.unknown_survey": "survey",
    "pulse.errors.bad_cadence": "cadence",
    "pulse.errors.bad_weekday": "weekday",
    "pulse.errors.bad_nth": "week",
    "pulse.errors.no_fifth": "week",
    "pulse.errors.bad_day": "day",
    "pulse.errors.bad_time": "time",
    "pulse.errors.bad_zone": "zone",
    "pulse.errors.no_channels": "channels",
    "pulse.errors.no_people": "users",
    "pulse.errors.bad_open": "open",
    "pulse.errors.open_too_long": "open",
}
# The typed command's wording does not fit a form field: these say it the form's way.
FORM_MESSAGES = {
    "pulse.errors.bad_open": "pulse.errors.bad_open_days",
    "pulse.errors.bad_zone": "pulse.errors.bad_zone_form",
    "pulse.errors.open_too_long": "pulse.errors.open_too_long_form",
}


class SurveyFormErrors(Exception):
    """Problems of a modal's fields, by input block."""

    def __init__(self, errors: dict[str, SurveyError]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def form_text(texts: Texts, exc: SurveyError) -> str:
    return texts(FORM_MESSAGES.get(exc.key, exc.key), **exc.params)


def schedule_from_state(values: dict[str, Any]) -> tuple[str, Audience, Schedule]:
    """The schedule modal's state → survey name, audience and schedule, or per-field errors
    (a SurveyFormErrors); checked by the same rules as the typed command."""

    def state(block: str) -> dict[str, Any]:
        return dict((values.get(block) or {}).get(views.FORM_ACTION) or {})

    def selected(block: str) -> str | None:
        option = state(block).get("selected_option")
        value = option.get("value") if isinstance(option, dict) else None
        return value if isinstance(value, str) else None

    def chosen(block: str, key: str) -> list[str]:
        found = state(block).get(key)  # a list, unless the payload was forged
        return [str(item) for item in found] if isinstance(found, list) else []

    def typed(block: str, key: str) -> str | None:
        found = state(block).get(key)
        return found if isinstance(found, str) else None

    errors: dict[str, SurveyError] = {}
    audience = Audience()
    try:
        audience = audience_from_form(
            selected("audience") or "everyone",
            chosen("channels", "selected_conversations"),
            chosen("users", "selected_users"),
        )
    except SurveyError as exc:
        errors[SCHEDULE_FIELDS.get(exc.key, "audience")] = exc
    try:
        schedule = schedule_from_form(
            selected("cadence") or "",
            weekday=selected("weekday"),
            week=selected("week"),
            day=selected("day"),
            at_time=typed("time", "selected_time"),
            zone=typed("zone", "value"),
            audience=audience,
            open_days=typed("open", "value"),
        )
    except SurveyError as exc:
        errors[SCHEDULE_FIELDS.get(exc.key, "cadence")] = exc
    if errors:
        raise SurveyFormErrors(errors)
    return selected("survey") or "", audience, schedule


def submit_schedule(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """Database work only, then the ack: its errors or the confirmation, in the modal."""
    surveys = services_of(context).surveys
    texts = texts_for(context)
    actor = actor_of(context)
    try:
        # Only managers get the modal, but a submission can be forged by anyone who can sign
        # one (or come from someone no longer a manager): refused in the form, which an empty
        # ack would close as if it were saved.
        surveys.authorize(actor, "/pulse schedule")
        name, _, schedule = schedule_from_state(view["state"]["values"])
        survey, next_run = surveys.schedule(actor, name, schedule)
    except SurveyError as exc:
        ack(views.modal_errors({SCHEDULE_FIELDS.get(exc.key, "survey"): form_text(texts, exc)}))
        return
    except SurveyFormErrors as problems:
        ack(views.modal_errors({b: form_text(texts, e) for b, e in problems.errors.items()}))
        return
    message = views.scheduled_message(texts, survey, next_run)
    ack(views.modal_update(views.scheduled_modal(texts, message)))


def typed_text(values: dict[str, Any], block: str) -> str:
    """What was typed in one of the compose modal's text fields."""
    return str(((values.get(block) or {}).get("value") or {}).get("value") or "").strip()


def submit_compose(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    services = services_of(context)
    texts = texts_for(context)
    actor = actor_of(context)
    values = view["state"]["values"]
    try:
        services.surveys.authorize(actor, "/pulse new")  # a forged submission: check again
    except SurveyError as exc:
        ack(views.modal_errors({"name": texts(exc.key, **exc.params)}))
        return
    try:
        definition = SurveyDefinition(
            title=typed_text(values, "title"),
            questions=parse_questions(typed_text(values, "questions")),
        )
        name = services.surveys.create(actor, typed_text(values, "name"), definition)
    except SurveyError as exc:
        block = (
            "name"
            if exc.key in {"pulse.errors.bad_name", "pulse.errors.name_taken"}
            else ("title" if exc.key.startswith("pulse.errors.title") else "questions")
        )
        ack(views.modal_errors({block: texts(exc.key, **exc.params)}))
        return
    ack()
    services.background.submit(
        confirm_created, services, user_of(context).user_id, context["language"], name
    )


def confirm_created(services: Services, user_id: str, language: Language, name: str) -> None:
    message = Texts(language)("pulse.reply.created", name=name)
    services.client.chat_postMessage(channel=user_id, text=message, blocks=notice(message))


def register(app: App) -> None:
    app.view(views.SCHEDULE_CALLBACK)(submit_schedule)
    app.view(views.COMPOSE_CALLBACK)(submit_compose)
