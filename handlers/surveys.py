"""`/pulse` and the survey DM's buttons and modals: parse, call bot.surveys, render, ack."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError

from bot.config import Language
from bot.i18n import Texts
from bot.parsing.text import parse_number_field
from bot.services import Services
from bot.surveys import jobs, service
from bot.surveys.model import SurveyDefinition, SurveyError, parse_questions
from bot.surveys.schedule import (
    Audience,
    Schedule,
    audience_from_form,
    parse_run_options,
    parse_schedule,
    schedule_from_form,
    split_command,
)
from bot.views import surveys as views
from bot.views.common import error_blocks, notice
from bot.views.help import pulse_help
from handlers.home import refresh_home
from handlers.middleware import texts_for, user_of
from handlers.replies import send_file_by_dm, tell_privately
from handlers.summary import summary_command
from storage.surveys import SENDING, SurveyRecord

MANAGER_SUBCOMMANDS = frozenset(
    {"templates", "new", "schedule", "list", "start", "close", "pause", "resume", "results",
     "export"}
)  # fmt: skip
USAGE = {
    "schedule": "/pulse schedule <survey> <weekly|biweekly|monthly|quarterly>"
    " [on <weekday|day N|first…last weekday>] [at HH:MM] [in <time zone>]"
    ' [to #channel|@user…|everyone] [open <N>d] · /pulse schedule <survey> cron "0 10 * * 1-5"'
    " [in <time zone>] [to …] [open <N>d]",
    "start": "/pulse start <survey> [to #channel|@user…|everyone] [open <N>d]",
    "close": "/pulse close <survey>",
    "pause": "/pulse pause <survey>",
    "resume": "/pulse resume <survey>",
    "results": "/pulse results <survey> [run N]",
    "export": "/pulse export <survey>",
}

# Which field of the schedule modal each problem belongs to.
SCHEDULE_FIELDS = {
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

log = logging.getLogger(__name__)

# How long an update waits for the fan-out to record where a DM went (see dm_of).
DM_RECORD_PATIENCE = 30.0

# Work for after the ack: a function and the plain values it needs (see Background.submit).
After = tuple[Callable[..., object], tuple[object, ...]]


def _scheduled_message(texts: Texts, survey: SurveyRecord, next_run: datetime) -> str:
    """The confirmation, from the schedule as saved (with its zone)."""
    schedule = service.schedule_of(survey)
    assert schedule is not None and schedule.zone is not None  # schedule_survey set them
    return texts(
        "pulse.reply.scheduled",
        name=survey.name,
        cadence=views.cadence_text(texts, schedule, schedule.zone),
        audience=views.audience_text(texts, survey.audience),
        open_for=texts.plural("pulse.reply.open_for", schedule.open_days),
        next=views.when(next_run, next_run.strftime("%Y-%m-%d %H:%M UTC")),
    )


def _schedule_from_state(values: dict[str, Any]) -> tuple[str, Audience, Schedule]:
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


class SurveyFormErrors(Exception):
    """Problems of a modal's fields, by input block."""

    def __init__(self, errors: dict[str, SurveyError]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def _answers_from_state(
    definition: SurveyDefinition, values: dict[str, Any]
) -> dict[int, tuple[int | None, str | None]]:
    """The answer modal's state → question index → (number, text)."""
    answers: dict[int, tuple[int | None, str | None]] = {}
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


def _form_text(texts: Texts, exc: SurveyError) -> str:
    return texts(FORM_MESSAGES.get(exc.key, exc.key), **exc.params)


def _run_id(value: object) -> int | None:
    """The run id at the front of a button value (`12` or `12:9`); None when malformed."""
    return parse_number_field(str(value or "").split(":", 1)[0])


def update_dm(services: Services, channel: str, ts: str, text: str, blocks: list[Any]) -> None:
    """Edit a survey DM; a DM Slack no longer has is logged, not an error of the bot."""
    try:
        services.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        log.warning("survey DM not updated: %s", exc.response.get("error"))


def _dm_lane(run_id: int, user_id: str) -> str:
    """Updates of one person's survey DM go in the order of their clicks: the newest shows."""
    return f"dm:{run_id}:{user_id}"


def register(app: App, services: Services) -> None:
    db = services.db
    policy = jobs.policy_of(services)
    min_responses = services.settings.min_responses
    definitions = service.RunDefinitions(db)
    later = services.background.submit
    in_order = services.background.submit_in_order

    # ---- /pulse ------------------------------------------------------------------------------

    @app.command("/pulse")
    def pulse_command(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
        texts = texts_for(context)
        try:
            words = split_command(command.get("text") or "")
        except SurveyError as exc:
            ack(
                text=texts(exc.key, **exc.params), blocks=error_blocks(texts, exc.key, **exc.params)
            )
            return
        subcommand = words[0].lower() if words else "help"
        if subcommand == "help":
            ack(
                text=texts("pulse.help.title"),
                blocks=pulse_help(texts, min_responses=min_responses),
            )
            return
        if subcommand == "summary":  # the weekly summary's preview lives in handlers/summary.py
            summary_command(ack, services, command, context, words[1:])
            return
        if subcommand not in MANAGER_SUBCOMMANDS:
            unknown = texts("common.unknown_subcommand", command="/pulse", subcommand=words[0])
            ack(
                text=unknown,
                blocks=notice(unknown) + pulse_help(texts, min_responses=min_responses),
            )
            return
        if not context.get("is_manager"):
            refused = texts("common.manager_only", command=f"/pulse {subcommand}")
            ack(text=refused, blocks=notice(refused))
            return
        try:
            text, blocks, after = _manager_command(subcommand, words[1:], command, context, texts)
        except SurveyError as exc:
            message = texts(exc.key, **exc.params)
            ack(text=message, blocks=error_blocks(texts, exc.key, **exc.params))
            return
        if blocks:
            ack(text=text, blocks=blocks)
        else:
            ack()
        if after is not None:
            later(after[0], *after[1])

    def _manager_command(
        subcommand: str,
        args: list[str],
        command: dict[str, str],
        context: BoltContext,
        texts: Texts,
    ) -> tuple[str, list[Any], After | None]:
        """Database work and the reply; what needs Slack's Web API is returned for later."""
        user_id = user_of(context).user_id
        now = services.clock()
        if subcommand == "templates":
            return texts("pulse.list.templates_title"), views.templates_blocks(texts), None
        if subcommand == "list":
            surveys = service.overview(db)
            blocks = views.list_blocks(texts, surveys, zone=policy.timezone, now=now)
            return texts("pulse.list.title"), blocks, None
        if subcommand == "new":
            return "", [], (open_view, (command["trigger_id"], views.compose_modal(texts)))
        if not args and subcommand == "schedule":
            view = views.schedule_modal(texts, service.schedule_choices(db), zone=policy.timezone)
            return "", [], (open_view, (command["trigger_id"], view))
        if not args:
            raise SurveyError("pulse.errors.missing_survey", usage=USAGE[subcommand])
        name, rest = args[0], args[1:]
        if subcommand == "schedule":
            schedule = parse_schedule(rest)
            survey, next_run = service.schedule_survey(
                db, policy, name, schedule, user_id=user_id, now=now
            )
            message = _scheduled_message(texts, survey, next_run)
            return message, notice(message), None
        if subcommand == "start":
            audience, open_days = parse_run_options(rest)
            run = service.start_run(
                db,
                policy,
                name,
                user_id,
                now,
                audience=None if audience.everyone and not rest else audience,
                open_days=open_days,
            )
            message = texts(
                "pulse.reply.started",
                number=run.number,
                name=name.casefold()
                if name.casefold() in ("pulse", "enps", "engagement")
                else name,
                closes=views.when(run.closes_at, run.closes_at.strftime("%Y-%m-%d %H:%M UTC")),
                audience=views.audience_text(texts, run.audience),
            )
            return message, notice(message), (send_run, (run.id,))
        if rest and subcommand != "results":
            raise SurveyError("pulse.errors.unexpected_word", value=rest[0])
        if subcommand == "close":
            run = service.close_survey(db, name, now)
            message = texts("pulse.reply.closed", number=run.number, name=name)
            return message, notice(message), (jobs.send_close_notices_soon, (services,))
        if subcommand in ("pause", "resume"):
            service.set_paused(db, policy, name, subcommand == "pause", now)
            if subcommand == "pause":
                message = texts("pulse.reply.paused", name=name)
            else:
                survey = service.find_existing(db, name)
                assert survey.next_run_at is not None
                message = texts(
                    "pulse.reply.resumed",
                    name=name,
                    next=views.when(survey.next_run_at, survey.next_run_at.isoformat()),
                )
            return message, notice(message), None
        if subcommand == "results":
            number: int | None = None
            if rest:
                number = parse_number_field(rest[1]) if len(rest) == 2 else None
                if number is None or rest[0].casefold() != "run":
                    raise SurveyError("pulse.errors.bad_run_number", value=" ".join(rest))
            survey, results, definition = service.run_results(db, policy, name, number)
            blocks = views.results_blocks(texts, survey.name, definition, results)
            return views.survey_title(texts, definition), blocks, None
        # export
        survey = service.find_existing(db, name)
        service.run_results(db, policy, name, None)  # refuses a survey that never ran
        message = texts("pulse.reply.export_started", name=survey.name)
        return message, notice(message), (send_export, (user_id, texts.language, survey.name))

    # ---- after the ack: Web API calls, on services.background ---------------------------------

    def open_view(trigger_id: str, view: Any) -> None:
        services.client.views_open(trigger_id=trigger_id, view=view)

    def send_run(run_id: int) -> None:
        now = services.clock()
        jobs.resolve_audiences(services, now)
        jobs.dispatch_due_deliveries(services, now, run_id=run_id)

    def send_export(user_id: str, language: Language, name: str) -> None:
        texts = Texts(language)
        csv_text = service.export_csv(
            db, policy, name, lambda d: [views.question_text(texts, q) for q in d.questions]
        )
        send_file_by_dm(
            services,
            user_id,
            texts,
            "/pulse export",
            content=csv_text,
            filename=f"pulse-{name}.csv",
            title=f"{name}.csv",
            initial_comment=texts("pulse.reply.export_comment", name=name, needed=min_responses),
        )

    def dm_of(
        run_id: int, user_id: str, channel: str | None, ts: str | None
    ) -> tuple[str, str] | None:
        """The DM to update: the message clicked, else the one the fan-out sent.

        The fan-out records where a DM went a batch at a time: someone quick may answer
        before their DM's row says so. Its row is `sending` then; wait for it (bounded).
        """
        if channel and ts:
            return channel, ts
        deadline = time.monotonic() + DM_RECORD_PATIENCE
        while True:
            delivery = service.delivery_of(db, run_id, user_id)
            if delivery is None:
                return None
            if delivery.channel_id and delivery.message_ts:
                return delivery.channel_id, delivery.message_ts
            if delivery.state != SENDING or time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    def show_enps_answered(
        *,
        run_id: int,
        score: int,
        user_id: str,
        language: Language,
        channel: str | None,
        ts: str | None,
    ) -> None:
        texts = Texts(language)
        # The answer was just accepted, so the run was open: its cached facts are current.
        facts = definitions.facts(run_id)
        where = dm_of(run_id, user_id, channel, ts)
        if facts is None or where is None:
            return
        closes_at = facts.closes_at
        blocks = views.enps_answered_dm(texts, run_id, facts.definition, score, closes_at)
        text = texts("pulse.dm.thanks_until", closes=closes_at.isoformat())
        update_dm(services, where[0], where[1], text, blocks)

    def show_enps_buttons(
        *,
        run_id: int,
        user_id: str,
        language: Language,
        channel: str | None,
        ts: str | None,
        response_url: str | None,
    ) -> None:
        texts = Texts(language)
        run = service.get_run(db, run_id)
        definition = definitions.get(run_id)
        if run is None or definition is None or not service.is_open(run, services.clock()):
            tell_privately(services, user_id, response_url, texts("pulse.dm.closed_click"))
            return
        where = dm_of(run_id, user_id, channel, ts)
        if where is None:
            return
        text = texts("pulse.dm.fallback", title=views.survey_title(texts, definition))
        blocks = views.survey_dm(texts, run_id, definition, run.closes_at)
        update_dm(services, where[0], where[1], text, blocks)

    def open_answers(
        *,
        action_id: str,
        run_id: int,
        user_id: str,
        language: Language,
        trigger_id: str,
        response_url: str | None,
    ) -> None:
        """Start / Change my answers / Add a comment: the modal with the current answers."""
        texts = Texts(language)
        run, current = service.current_answers(db, policy, run_id, user_id)
        if run is None or not service.is_open(run, services.clock()):
            tell_privately(services, user_id, response_url, texts("pulse.dm.closed_click"))
            return
        definition = definitions.get(run_id)
        assert definition is not None  # the run exists
        if action_id == views.COMMENT_ACTION:
            last = len(definition.questions) - 1
            view = views.comment_modal(
                texts, run.id, definition, current.get(last, (None, None))[1]
            )
        else:
            view = views.answer_modal(texts, run.id, definition, current)
        services.client.views_open(trigger_id=trigger_id, view=view)

    def show_answered(run_id: int, user_id: str, language: Language) -> None:
        texts = Texts(language)
        run = service.get_run(db, run_id)
        definition = definitions.get(run_id)
        where = dm_of(run_id, user_id, None, None)
        if run is None or definition is None or where is None:
            return
        text = texts("pulse.dm.thanks_until", closes=run.closes_at.isoformat())
        blocks = views.answered_dm(texts, run_id, definition, run.closes_at)
        update_dm(services, where[0], where[1], text, blocks)

    def confirm_created(user_id: str, language: Language, name: str) -> None:
        message = Texts(language)("pulse.reply.created", name=name)
        services.client.chat_postMessage(channel=user_id, text=message, blocks=notice(message))

    # ---- the DM: one-click eNPS ------------------------------------------------------------

    @app.action(re.compile(r"^pulse\.enps\.([0-9]|10)$"))
    def enps_click(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        """The hot path: one durable transaction, then the ack; the DM is edited after."""
        value = str(body["actions"][0].get("value") or "")
        run_text, _, score_text = value.partition(":")
        run_id, score = parse_number_field(run_text), parse_number_field(score_text)
        if run_id is None or score is None:
            ack()
            return
        definition = definitions.get(run_id)
        user_id = user_of(context).user_id
        language = context["language"]
        response_url = body.get("response_url")
        if definition is None:  # no such run: as good as closed
            ack()
            closed = Texts(language)("pulse.dm.closed_click")
            later(tell_privately, services, user_id, response_url, closed)
            return
        first = definition.questions[0]
        if first.kind != "enps" or not first.accepts(score, None):
            ack()  # a forged or stale value: nothing to record
            return
        outcome = service.record_answers(
            db, policy, run_id, user_id, {0: (score, None)}, now=services.clock(), replace_all=False
        )
        ack()
        if not outcome.recorded:
            closed = Texts(language)("pulse.dm.closed_click")
            later(tell_privately, services, user_id, response_url, closed)
            return
        container = body.get("container") or {}
        in_order(
            _dm_lane(run_id, user_id),
            show_enps_answered,
            run_id=run_id,
            score=score,
            user_id=user_id,
            language=language,
            channel=container.get("channel_id"),
            ts=container.get("message_ts"),
        )

    @app.action(views.CHANGE_ENPS_ACTION)
    def change_enps(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        run_id = _run_id(body["actions"][0].get("value"))
        if run_id is None:
            return
        container = body.get("container") or {}
        in_order(
            _dm_lane(run_id, user_of(context).user_id),
            show_enps_buttons,
            run_id=run_id,
            user_id=user_of(context).user_id,
            language=context["language"],
            channel=container.get("channel_id"),
            ts=container.get("message_ts"),
            response_url=body.get("response_url"),
        )

    # ---- the DM: modals ---------------------------------------------------------------------

    @app.action(views.OPEN_ANSWERS_ACTION)
    @app.action(views.COMMENT_ACTION)
    def answers_button(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        action = body["actions"][0]
        run_id = _run_id(action.get("value"))
        if run_id is None:
            return
        later(
            open_answers,
            action_id=str(action["action_id"]),
            run_id=run_id,
            user_id=user_of(context).user_id,
            language=context["language"],
            trigger_id=body["trigger_id"],
            response_url=body.get("response_url"),
        )

    @app.view(views.ANSWERS_CALLBACK)
    def submit_answers(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        texts = texts_for(context)
        run_id = _run_id(view.get("private_metadata"))
        definition = None if run_id is None else definitions.get(run_id)
        if run_id is None or definition is None:
            ack()
            return
        answers = _answers_from_state(definition, view["state"]["values"])
        problems = service.validate_answers(definition, answers)
        if problems:
            ack(views.modal_errors({f"q{i}": texts(key) for i, key in problems.items()}))
            return
        user_id = user_of(context).user_id
        outcome = service.record_answers(
            db, policy, run_id, user_id, answers, now=services.clock(), replace_all=True
        )
        if not outcome.recorded:
            ack(views.modal_errors({"q0": texts("pulse.dm.closed_click")}))
            return
        ack()
        in_order(_dm_lane(run_id, user_id), show_answered, run_id, user_id, context["language"])
        refresh_home(services, context)  # the Home tab's survey list changed

    @app.view(views.COMMENT_CALLBACK)
    def submit_comment(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        texts = texts_for(context)
        run_id = _run_id(view.get("private_metadata"))
        definition = None if run_id is None else definitions.get(run_id)
        if run_id is None or definition is None:
            ack()
            return
        last = len(definition.questions) - 1
        state = view["state"]["values"].get(views.COMMENT_BLOCK, {}).get(views.ANSWER_ACTION, {})
        comment = (state.get("value") or "").strip() or None
        if comment is not None and not definition.questions[last].accepts(None, comment):
            ack(views.modal_errors({views.COMMENT_BLOCK: texts("pulse.errors.bad_answer")}))
            return
        outcome = service.record_answers(
            db,
            policy,
            run_id,
            user_of(context).user_id,
            {last: (None, comment)},
            now=services.clock(),
            replace_all=False,
        )
        if not outcome.recorded:
            ack(views.modal_errors({views.COMMENT_BLOCK: texts("pulse.dm.closed_click")}))
            return
        ack()

    # ---- /pulse schedule alone: the schedule modal ------------------------------------------

    @app.view(views.SCHEDULE_CALLBACK)
    def submit_schedule(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        """Database work only, then the ack: its errors or the confirmation, in the modal."""
        texts = texts_for(context)
        if not context.get("is_manager"):  # only managers get the modal, but a submission can
            # be forged by anyone who can sign one (or come from someone no longer a manager):
            # refuse it in the form, which an empty ack would close as if it were saved
            refused = texts("common.manager_only", command="/pulse schedule")
            ack(views.modal_errors({"survey": refused}))
            return
        try:
            name, _, schedule = _schedule_from_state(view["state"]["values"])
            survey, next_run = service.schedule_survey(
                db, policy, name, schedule, user_id=user_of(context).user_id, now=services.clock()
            )
        except SurveyError as exc:
            ack(
                views.modal_errors({SCHEDULE_FIELDS.get(exc.key, "survey"): _form_text(texts, exc)})
            )
            return
        except SurveyFormErrors as problems:
            errors = {block: _form_text(texts, exc) for block, exc in problems.errors.items()}
            ack(views.modal_errors(errors))
            return
        message = _scheduled_message(texts, survey, next_run)
        ack(views.modal_update(views.scheduled_modal(texts, message)))

    # ---- /pulse new: compose ----------------------------------------------------------------

    @app.view(views.COMPOSE_CALLBACK)
    def submit_compose(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        texts = texts_for(context)
        if not context.get("is_manager"):  # only `/pulse new` opens this form, but a
            # submission can be forged by anyone who can sign one: check again
            refused = texts("common.manager_only", command="/pulse new")
            ack(views.modal_errors({"name": refused}))
            return
        values = view["state"]["values"]

        def field(block: str) -> str:
            return str(((values.get(block) or {}).get("value") or {}).get("value") or "").strip()

        name = field("name")
        try:
            definition = SurveyDefinition(
                title=field("title"), questions=parse_questions(field("questions"))
            )
            service.create_survey(db, name, definition, user_of(context).user_id, services.clock())
        except SurveyError as exc:
            block = (
                "name"
                if exc.key in {"pulse.errors.bad_name", "pulse.errors.name_taken"}
                else ("title" if exc.key.startswith("pulse.errors.title") else "questions")
            )
            ack(views.modal_errors({block: texts(exc.key, **exc.params)}))
            return
        ack()
        later(confirm_created, user_of(context).user_id, context["language"], name)
