"""`/pulse` and the survey DM's buttons and modals: parse, call bot.surveys, render, ack."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.i18n import Texts
from bot.services import Services
from bot.surveys import jobs, service
from bot.surveys.model import SurveyDefinition, SurveyError, parse_questions
from bot.surveys.schedule import parse_run_options, parse_schedule, split_command
from bot.views import surveys as views
from bot.views.common import error_blocks, notice
from bot.views.help import pulse_help
from handlers.home import refresh_home
from handlers.middleware import texts_for, user_of
from handlers.summary import summary_command

MANAGER_SUBCOMMANDS = frozenset(
    {"templates", "new", "schedule", "list", "start", "close", "pause", "resume", "results",
     "export"}
)  # fmt: skip
USAGE = {
    "schedule": "/pulse schedule <survey> <weekly|biweekly|monthly|quarterly> [on <weekday|day N>]"
    " [at HH:MM] [to #channel|@user…|everyone] [open <N>d]",
    "start": "/pulse start <survey> [to #channel|@user…|everyone] [open <N>d]",
    "close": "/pulse close <survey>",
    "pause": "/pulse pause <survey>",
    "resume": "/pulse resume <survey>",
    "results": "/pulse results <survey> [run N]",
    "export": "/pulse export <survey>",
}
AFTER = "pulse_after"  # what the lazy listener should do after the ack (small, plain values)


def _now() -> datetime:
    return datetime.now(UTC)


def _run_of(value: str) -> int:
    return int(value.split(":", 1)[0])


def _audience_text(texts: Texts, audience_json: str) -> str:
    return views._audience_text(texts, audience_json)


def _answers_from_state(
    definition: SurveyDefinition, values: dict[str, Any]
) -> dict[int, tuple[int | None, str | None]]:
    """The answer modal's state → question index → (number, text)."""
    answers: dict[int, tuple[int | None, str | None]] = {}
    for index, question in enumerate(definition.questions):
        state = (values.get(f"q{index}") or {}).get(views.ANSWER_ACTION) or {}
        selected = (state.get("selected_option") or {}).get("value")
        if question.kind in ("scale", "enps") and selected is not None and selected.isdigit():
            answers[index] = (int(selected), None)
        elif question.kind == "choice" and selected is not None and selected.isdigit():
            position = int(selected)
            if position < len(question.options):
                answers[index] = (None, question.options[position])
        elif question.kind == "text" and (state.get("value") or "").strip():
            answers[index] = (None, str(state["value"]).strip())
    return answers


def register(app: App, services: Services) -> None:
    db = services.db
    policy = jobs.policy_of(services)
    min_responses = services.settings.min_responses

    # ---- /pulse ------------------------------------------------------------------------------

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
            text, blocks = _manager_command(subcommand, words[1:], context, texts)
        except SurveyError as exc:
            message = texts(exc.key, **exc.params)
            ack(text=message, blocks=error_blocks(texts, exc.key, **exc.params))
            return
        if blocks:
            ack(text=text, blocks=blocks)
        else:
            ack()

    def _manager_command(
        subcommand: str, args: list[str], context: BoltContext, texts: Texts
    ) -> tuple[str, list[Any]]:
        user_id = user_of(context).user_id
        now = _now()
        if subcommand == "templates":
            return texts("pulse.list.templates_title"), views.templates_blocks(texts)
        if subcommand == "list":
            return texts("pulse.list.title"), views.list_blocks(texts, service.overview(db))
        if subcommand == "new":
            context[AFTER] = {"kind": "compose"}
            return "", []
        if not args:
            raise SurveyError("pulse.errors.missing_survey", usage=USAGE[subcommand])
        name, rest = args[0], args[1:]
        if subcommand == "schedule":
            schedule = parse_schedule(rest)
            survey, next_run = service.schedule_survey(
                db, policy, name, schedule, user_id=user_id, now=now
            )
            message = texts(
                "pulse.reply.scheduled",
                name=survey.name,
                cadence=texts(f"pulse.cadence.{schedule.cadence}", time=schedule.at_time),
                audience=_audience_text(texts, survey.audience),
                days=schedule.open_days,
                next=views.when(next_run, next_run.strftime("%Y-%m-%d %H:%M UTC")),
            )
            return message, notice(message)
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
            context[AFTER] = {"kind": "dispatch", "run_id": run.id}
            message = texts(
                "pulse.reply.started",
                number=run.number,
                name=name.casefold()
                if name.casefold() in ("pulse", "enps", "engagement")
                else name,
                closes=views.when(run.closes_at, run.closes_at.strftime("%Y-%m-%d %H:%M UTC")),
                audience=_audience_text(texts, run.audience),
            )
            return message, notice(message)
        if rest and subcommand != "results":
            raise SurveyError("pulse.errors.unexpected_word", value=rest[0])
        if subcommand == "close":
            run = service.close_survey(db, name, now)
            context[AFTER] = {"kind": "close_notices"}
            message = texts("pulse.reply.closed", number=run.number, name=name)
            return message, notice(message)
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
            return message, notice(message)
        if subcommand == "results":
            number: int | None = None
            if rest:
                if len(rest) != 2 or rest[0].casefold() != "run" or not rest[1].isdigit():
                    raise SurveyError("pulse.errors.bad_run_number", value=" ".join(rest))
                number = int(rest[1])
            survey, results, definition = service.run_results(db, policy, name, number)
            blocks = views.results_blocks(texts, survey.name, definition, results)
            return views.survey_title(texts, definition), blocks
        # export
        survey = service.find_existing(db, name)
        service.run_results(db, policy, name, None)  # refuses a survey that never ran
        context[AFTER] = {"kind": "export", "name": survey.name}
        message = texts("pulse.reply.export_started", name=survey.name)
        return message, notice(message)

    def pulse_after_ack(client: WebClient, body: dict[str, Any], context: BoltContext) -> None:
        after = context.get(AFTER) or {}
        kind = after.get("kind")
        texts = texts_for(context)
        if kind == "compose":
            client.views_open(trigger_id=body["trigger_id"], view=views.compose_modal(texts))
        elif kind == "dispatch":
            now = _now()
            jobs.resolve_audiences(services, now)
            jobs.dispatch_due_deliveries(services, now, run_id=int(after["run_id"]))
        elif kind == "close_notices":
            jobs.send_close_notices(services)
        elif kind == "export":
            _send_export(client, context, texts, str(after["name"]))

    def _send_export(client: WebClient, context: BoltContext, texts: Texts, name: str) -> None:
        user_id = user_of(context).user_id
        csv_text = service.export_csv(
            db, policy, name, lambda d: [views.question_text(texts, q) for q in d.questions]
        )
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(
            channel=channel,
            content=csv_text,
            filename=f"pulse-{name}.csv",
            title=f"{name}.csv",
            initial_comment=texts("pulse.reply.export_comment", name=name, needed=min_responses),
        )

    app.command("/pulse")(ack=pulse_command, lazy=[pulse_after_ack])

    # ---- the DM: one-click eNPS ------------------------------------------------------------

    def enps_click(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        action = body["actions"][0]
        run_id, _, score = str(action.get("value") or "").partition(":")
        if not (run_id.isdigit() and score.isdigit()):
            ack()
            return
        outcome = service.record_answers(
            db,
            policy,
            int(run_id),
            user_of(context).user_id,
            {0: (int(score), None)},
            now=_now(),
            replace_all=False,
        )
        context[AFTER] = {"run_id": int(run_id), "score": int(score), "recorded": outcome.recorded}
        ack()

    def enps_update(
        client: WebClient, body: dict[str, Any], context: BoltContext, respond: Respond
    ) -> None:
        after = context.get(AFTER) or {}
        texts = texts_for(context)
        if not after.get("recorded"):
            respond(text=texts("pulse.dm.closed_click"), replace_original=False)
            return
        run, _ = service.current_answers(db, policy, after["run_id"], user_of(context).user_id)
        assert run is not None
        container = body.get("container") or {}
        blocks = views.enps_answered_dm(
            texts, run.id, service.definition_of(run), after["score"], run.closes_at
        )
        client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            text=texts("pulse.dm.thanks_until", closes=run.closes_at.isoformat()),
            blocks=blocks,
        )

    app.action(re.compile(r"^pulse\.enps\.([0-9]|10)$"))(ack=enps_click, lazy=[enps_update])

    def acknowledge(ack: Ack) -> None:
        ack()

    def change_enps(
        client: WebClient, body: dict[str, Any], context: BoltContext, respond: Respond
    ) -> None:
        texts = texts_for(context)
        run, _ = service.current_answers(
            db, policy, _run_of(body["actions"][0]["value"]), user_of(context).user_id
        )
        if run is None or run.status != "open":
            respond(text=texts("pulse.dm.closed_click"), replace_original=False)
            return
        container = body.get("container") or {}
        definition = service.definition_of(run)
        client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            text=texts("pulse.dm.fallback", title=views.survey_title(texts, definition)),
            blocks=views.survey_dm(texts, run.id, definition, run.closes_at),
        )

    app.action(views.CHANGE_ENPS_ACTION)(ack=acknowledge, lazy=[change_enps])

    # ---- the DM: modals ---------------------------------------------------------------------

    def open_modal(
        client: WebClient, body: dict[str, Any], context: BoltContext, respond: Respond
    ) -> None:
        """Start / Change my answers / Add a comment: the modal with the current answers."""
        texts = texts_for(context)
        action = body["actions"][0]
        run, current = service.current_answers(
            db, policy, _run_of(action["value"]), user_of(context).user_id
        )
        if run is None or run.status != "open" or run.closes_at <= _now():
            respond(text=texts("pulse.dm.closed_click"), replace_original=False)
            return
        definition = service.definition_of(run)
        if action["action_id"] == views.COMMENT_ACTION:
            last = len(definition.questions) - 1
            view = views.comment_modal(
                texts, run.id, definition, current.get(last, (None, None))[1]
            )
        else:
            view = views.answer_modal(texts, run.id, definition, current)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    app.action(views.OPEN_ANSWERS_ACTION)(ack=acknowledge, lazy=[open_modal])
    app.action(views.COMMENT_ACTION)(ack=acknowledge, lazy=[open_modal])

    def submit_answers(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        texts = texts_for(context)
        run_id = int(view.get("private_metadata") or 0)
        run, _ = service.current_answers(db, policy, run_id, user_of(context).user_id)
        if run is None:
            ack()
            return
        definition = service.definition_of(run)
        answers = _answers_from_state(definition, view["state"]["values"])
        problems = service.validate_answers(definition, answers)
        if problems:
            ack(views.modal_errors({f"q{i}": texts(key) for i, key in problems.items()}))
            return
        outcome = service.record_answers(
            db, policy, run_id, user_of(context).user_id, answers, now=_now(), replace_all=True
        )
        if not outcome.recorded:
            ack(views.modal_errors({"q0": texts("pulse.dm.closed_click")}))
            return
        context[AFTER] = {"run_id": run_id}
        ack()
        refresh_home(services, context)  # the Home tab's survey list changed

    def update_answered_dm(client: WebClient, context: BoltContext) -> None:
        after = context.get(AFTER) or {}
        if "run_id" not in after:
            return
        texts = texts_for(context)
        user_id = user_of(context).user_id
        run, _ = service.current_answers(db, policy, after["run_id"], user_id)
        delivery = service.delivery_of(db, after["run_id"], user_id)
        if run is None or delivery is None or not (delivery.message_ts and delivery.channel_id):
            return
        client.chat_update(
            channel=delivery.channel_id,
            ts=delivery.message_ts,
            text=texts("pulse.dm.thanks_until", closes=run.closes_at.isoformat()),
            blocks=views.answered_dm(texts, run.id, service.definition_of(run), run.closes_at),
        )

    app.view(views.ANSWERS_CALLBACK)(ack=submit_answers, lazy=[update_answered_dm])

    def submit_comment(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        texts = texts_for(context)
        run_id = int(view.get("private_metadata") or 0)
        run, _ = service.current_answers(db, policy, run_id, user_of(context).user_id)
        if run is None:
            ack()
            return
        last = len(service.definition_of(run).questions) - 1
        state = view["state"]["values"].get(views.COMMENT_BLOCK, {}).get(views.ANSWER_ACTION, {})
        comment = (state.get("value") or "").strip() or None
        outcome = service.record_answers(
            db,
            policy,
            run_id,
            user_of(context).user_id,
            {last: (None, comment)},
            now=_now(),
            replace_all=False,
        )
        if not outcome.recorded:
            ack(views.modal_errors({views.COMMENT_BLOCK: texts("pulse.dm.closed_click")}))
            return
        ack()

    app.view(views.COMMENT_CALLBACK)(submit_comment)

    # ---- /pulse new: compose ----------------------------------------------------------------

    def submit_compose(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        texts = texts_for(context)
        values = view["state"]["values"]

        def field(block: str) -> str:
            return str(((values.get(block) or {}).get("value") or {}).get("value") or "").strip()

        name = field("name")
        try:
            definition = SurveyDefinition(
                title=field("title"), questions=parse_questions(field("questions"))
            )
            service.create_survey(db, name, definition, user_of(context).user_id)
        except SurveyError as exc:
            block = (
                "name"
                if exc.key in {"pulse.errors.bad_name", "pulse.errors.name_taken"}
                else ("title" if exc.key.startswith("pulse.errors.title") else "questions")
            )
            ack(views.modal_errors({block: texts(exc.key, **exc.params)}))
            return
        context[AFTER] = {"name": name}
        ack()

    def confirm_compose(client: WebClient, context: BoltContext) -> None:
        after = context.get(AFTER) or {}
        if "name" in after:
            texts = texts_for(context)
            message = texts("pulse.reply.created", name=after["name"])
            client.chat_postMessage(
                channel=user_of(context).user_id, text=message, blocks=notice(message)
            )

    app.view(views.COMPOSE_CALLBACK)(ack=submit_compose, lazy=[confirm_compose])
