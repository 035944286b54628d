"""The survey DM: the one-click eNPS, "change my answer", and the answers and comment modals.

The eNPS click is the hot path: one durable transaction, then the ack; the DM is edited after.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.delivery import survey_dms
from bot.delivery.replies import tell_privately
from bot.i18n import Language, Texts
from bot.parsing.text import parse_number_field
from bot.services import Services
from bot.surveys.model import SurveyDefinition
from bot.surveys.service import Answers, validate_answers
from bot.views import surveys as views
from handlers.middleware import services_of, texts_for, user_of

ENPS_CLICK = re.compile(r"^pulse\.enps\.([0-9]|10)$")


def run_id_of(value: object) -> int | None:
    """The run id at the front of a button value (`12` or `12:9`); None when malformed."""
    return parse_number_field(str(value or "").split(":", 1)[0])


def answers_from_state(definition: SurveyDefinition, values: dict[str, Any]) -> Answers:
    """The answer modal's state → question index → (number, text)."""
    answers: Answers = {}
    for index, question in enumerate(definition.questions):
        state = (values.get(f"q{index}") or {}).get(views.ANSWER_ACTION) or {}
        option = state.get("selected_option")
        selected = parse_number_field(option.get("value") if isinstance(option, dict) else None)
        text = state.get("value")
        if question.kind in ("scale", "enps") and selected is not None:
            answers[index] = (selected, None)
        elif question.kind == "choice" and selected is not None:
            if selected < len(question.options):
                answers[index] = (None, question.options[selected])
        elif question.kind == "text" and isinstance(text, str) and text.strip():
            answers[index] = (None, text.strip())
    return answers


# ---- the DM's buttons ----------------------------------------------------------------------------


def enps_click(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    services = services_of(context)
    surveys = services.surveys
    value = str(body["actions"][0].get("value") or "")
    run_text, _, score_text = value.partition(":")
    run_id, score = parse_number_field(run_text), parse_number_field(score_text)
    if run_id is None or score is None:
        ack()
        return
    definition = surveys.definitions.get(run_id)
    user_id = user_of(context).user_id
    language = context["language"]
    response_url = body.get("response_url")
    if definition is None:  # no such run: as good as closed
        ack()
        closed = Texts(language)("pulse.dm.closed_click")
        services.background.submit(tell_privately, services, user_id, response_url, closed)
        return
    first = definition.questions[0]
    if first.kind != "enps" or not first.accepts(score, None):
        ack()  # a forged or stale value: nothing to record
        return
    outcome = surveys.record_answers(run_id, user_id, {0: (score, None)}, replace_all=False)
    ack()
    if not outcome.recorded:
        closed = Texts(language)("pulse.dm.closed_click")
        services.background.submit(tell_privately, services, user_id, response_url, closed)
        return
    container = body.get("container") or {}
    services.background.submit_in_order(
        survey_dms.dm_lane(run_id, user_id),
        survey_dms.show_enps_answered,
        services,
        run_id=run_id,
        user_id=user_id,
        language=language,
        channel=container.get("channel_id"),
        ts=container.get("message_ts"),
    )


def answers_button(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Start / Change (my answers) / Add a comment: the modal, filled in with the person's
    answers at that moment, after the ack. Nothing in Slack keeps what they answered."""
    ack()
    action = body["actions"][0]
    run_id = run_id_of(action.get("value"))
    if run_id is None:
        return
    services = services_of(context)
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    services.background.submit(
        open_answers,
        services,
        action_id=str(action["action_id"]),
        run_id=run_id,
        user_id=user_of(context).user_id,
        language=context["language"],
        trigger_id=body["trigger_id"],
        response_url=body.get("response_url"),
        dm=(str(channel), str(ts)) if channel and ts else None,
    )


def open_answers(
    services: Services,
    *,
    action_id: str,
    run_id: int,
    user_id: str,
    language: Language,
    trigger_id: str,
    response_url: str | None,
    dm: tuple[str, str] | None,
) -> None:
    """The answers (or comment) modal, filled with the person's current answers."""
    texts = Texts(language)
    surveys = services.surveys
    run, current = surveys.current_answers(run_id, user_id)
    if run is None or not surveys.is_open(run):
        tell_privately(services, user_id, response_url, texts("pulse.dm.closed_click"))
        return
    definition = surveys.definitions.get(run_id)
    assert definition is not None  # the run exists
    if action_id == views.COMMENT_ACTION:
        last = len(definition.questions) - 1
        view = views.comment_modal(texts, run.id, definition, current.get(last, (None, None))[1])
    else:
        view = views.answer_modal(texts, run.id, definition, current, dm)
    services.client.views_open(trigger_id=trigger_id, view=view)


# ---- the modals ----------------------------------------------------------------------------------


def submit_answers(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    services = services_of(context)
    surveys = services.surveys
    texts = texts_for(context)
    run_id = run_id_of(view.get("private_metadata"))
    definition = None if run_id is None else surveys.definitions.get(run_id)
    if run_id is None or definition is None:
        ack()
        return
    answers = answers_from_state(definition, view["state"]["values"])
    problems = validate_answers(definition, answers)
    if problems:
        ack(views.modal_errors({f"q{i}": texts(key) for i, key in problems.items()}))
        return
    user_id = user_of(context).user_id
    outcome = surveys.record_answers(run_id, user_id, answers, replace_all=True)
    if not outcome.recorded:
        ack(views.modal_errors({"q0": texts("pulse.dm.closed_click")}))
        return
    ack()
    # The DM is found from the form itself, and the Home tab is not refreshed now: nothing
    # that names the person is read beside their answer (it updates when they open it).
    services.background.submit_in_order(
        survey_dms.dm_lane(run_id, user_id),
        survey_dms.show_answered,
        services,
        run_id=run_id,
        user_id=user_id,
        language=context["language"],
        dm=views.dm_of_metadata(view.get("private_metadata")),
    )


def submit_comment(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    surveys = services_of(context).surveys
    texts = texts_for(context)
    run_id = run_id_of(view.get("private_metadata"))
    definition = None if run_id is None else surveys.definitions.get(run_id)
    if run_id is None or definition is None:
        ack()
        return
    last = len(definition.questions) - 1
    state = view["state"]["values"].get(views.COMMENT_BLOCK, {}).get(views.ANSWER_ACTION, {})
    comment = (state.get("value") or "").strip() or None
    if comment is not None and not definition.questions[last].accepts(None, comment):
        ack(views.modal_errors({views.COMMENT_BLOCK: texts("pulse.errors.bad_answer")}))
        return
    outcome = surveys.record_answers(
        run_id, user_of(context).user_id, {last: (None, comment)}, replace_all=False
    )
    if not outcome.recorded:
        ack(views.modal_errors({views.COMMENT_BLOCK: texts("pulse.dm.closed_click")}))
        return
    # The modal stays open a moment longer and says it was saved: closing it silently left
    # people wondering whether the comment went in.
    saved = views.comment_saved_modal(texts, definition, removed=comment is None)
    ack(response_action="update", view=saved)


def register(app: App) -> None:
    app.action(ENPS_CLICK)(enps_click)
    app.action(views.CHANGE_ENPS_ACTION)(answers_button)
    app.action(views.OPEN_ANSWERS_ACTION)(answers_button)
    app.action(views.COMMENT_ACTION)(answers_button)
    app.view(views.ANSWERS_CALLBACK)(submit_answers)
    app.view(views.COMMENT_CALLBACK)(submit_comment)
