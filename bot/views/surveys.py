"""Block Kit for surveys: the DM, the answer and compose modals, results and lists."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    ConversationFilter,
    ConversationMultiSelectElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.i18n import Texts
from bot.surveys.commands import (
    ExportRequested,
    Paused,
    PulseResult,
    Refusal,
    ResultsShown,
    Resumed,
    RunClosed,
    RunStarted,
    Scheduled,
    ShowHelp,
    ShowPrivacy,
    ShowTemplates,
    SummaryRequested,
    SurveyList,
)
from bot.surveys.model import MAX_QUESTIONS, Question, SurveyDefinition
from bot.surveys.releases import DISTRIBUTION_FACTOR
from bot.surveys.results import (
    Participation,
    QuestionResult,
    RunResults,
    SegmentQuestion,
    SegmentResult,
    figure_interval,
    signed,
)
from bot.surveys.schedule import (
    DEFAULT_OPEN_DAYS,
    DEFAULT_TIME,
    FORM_CADENCES,
    FORM_DAY_OF_MONTH,
    MAX_OPEN_DAYS,
    WEEK_NAMES,
    Schedule,
)
from bot.surveys.service import SurveyOverview, schedule_of
from bot.surveys.templates import TEMPLATES
from bot.views.common import clip, error_blocks, notice, when
from bot.views.help import privacy_blocks, pulse_help
from bot.views.intervals import change_verdict, enps_interval, scale_interval, short_interval
from bot.views.spreadsheet import csv_bytes
from storage.surveys import SurveyRecord

ENPS_ACTION_PREFIX = "pulse.enps."
OPEN_ANSWERS_ACTION = "pulse.open"
CHANGE_ENPS_ACTION = "pulse.change"
COMMENT_ACTION = "pulse.comment"
ANSWERS_CALLBACK = "pulse.answers"
COMMENT_SAVED_CALLBACK = "pulse.comment_saved"  # shown only; Close sends nothing back
COMMENT_CALLBACK = "pulse.comment"
COMPOSE_CALLBACK = "pulse.compose"
SCHEDULE_CALLBACK = "pulse.schedule"
SCHEDULE_BLOCKS = ("survey", "cadence", "weekday", "week", "day", "time", "zone", "audience",
                   "channels", "users", "open")  # fmt: skip
FORM_ACTION = "value"
MAX_OPTIONS = 100  # Slack's limit for a static select
OPTION_LIMIT = 75
ANSWER_ACTION = "answer"
COMMENT_BLOCK = "comment"
MODAL_TEXT_LIMIT = 3000
TITLE_LIMIT = 24  # a modal title
LABEL_LIMIT = 150


def escape(text: str) -> str:
    """User text inside mrkdwn: `<`, `>` and `&` would otherwise become markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def question_text(texts: Texts, question: Question) -> str:
    return texts(question.text_key) if question.text_key else question.text


def survey_title(texts: Texts, definition: SurveyDefinition) -> str:
    return texts(definition.title_key) if definition.title_key else definition.title


def _closes(texts: Texts, closes_at: datetime) -> str:
    return when(texts, closes_at)


# ---- the DM --------------------------------------------------------------------------------


def enps_buttons(run_id: int) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"enps:{run_id}",
        elements=[
            ButtonElement(text=str(n), action_id=f"{ENPS_ACTION_PREFIX}{n}", value=f"{run_id}:{n}")
            for n in range(11)
        ],
    )


def survey_dm(
    texts: Texts, run_id: int, definition: SurveyDefinition, closes_at: datetime
) -> list[Block]:
    """The invitation: eNPS buttons for a one-click survey, else a Start button."""
    title = escape(survey_title(texts, definition))
    blocks: list[Block] = [
        SectionBlock(text=texts("pulse.dm.intro", title=title, closes=_closes(texts, closes_at)))
    ]
    if definition.is_one_click:
        question = escape(question_text(texts, definition.questions[0]))
        blocks += [
            SectionBlock(text=f"*{question}*"),
            enps_buttons(run_id),
            ContextBlock(elements=[MarkdownTextObject(text=texts("pulse.dm.enps_scale"))]),
        ]
    else:
        blocks.append(
            ActionsBlock(
                block_id=f"open:{run_id}",
                elements=[
                    ButtonElement(
                        text=texts(
                            "pulse.dm.start",
                            questions=texts.plural("count.questions", len(definition.questions)),
                        ),
                        action_id=OPEN_ANSWERS_ACTION,
                        value=str(run_id),
                        style="primary",
                    )
                ],
            )
        )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=texts("pulse.dm.anonymous"))]))
    return blocks


def enps_answered_dm(
    texts: Texts, run_id: int, definition: SurveyDefinition, closes_at: datetime
) -> list[Block]:
    """After a one-click answer: that it is recorded, never what it was (the DM stays in
    Slack, readable with the bot's token); "Change" opens a form filled in at that moment."""
    title = escape(survey_title(texts, definition))
    buttons = [
        ButtonElement(
            text=texts("pulse.dm.change"), action_id=CHANGE_ENPS_ACTION, value=str(run_id)
        )
    ]
    if len(definition.questions) > 1:
        buttons.append(
            ButtonElement(
                text=texts("pulse.dm.add_comment"), action_id=COMMENT_ACTION, value=str(run_id)
            )
        )
    return [
        SectionBlock(text=texts("pulse.dm.enps_chosen", title=title)),
        ActionsBlock(block_id=f"answered:{run_id}", elements=buttons),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=texts("pulse.dm.thanks_until", closes=_closes(texts, closes_at))
                )
            ]
        ),
    ]


def answered_dm(
    texts: Texts, run_id: int, definition: SurveyDefinition, closes_at: datetime
) -> list[Block]:
    title = escape(survey_title(texts, definition))
    return [
        SectionBlock(text=texts("pulse.dm.answered", title=title)),
        ActionsBlock(
            block_id=f"open:{run_id}",
            elements=[
                ButtonElement(
                    text=texts("pulse.dm.change_answers"),
                    action_id=OPEN_ANSWERS_ACTION,
                    value=str(run_id),
                )
            ],
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=texts("pulse.dm.thanks_until", closes=_closes(texts, closes_at))
                )
            ]
        ),
    ]


def closed_dm(texts: Texts, definition: SurveyDefinition, *, answered: bool) -> list[Block]:
    key = "pulse.dm.closed_answered" if answered else "pulse.dm.closed"
    return [SectionBlock(text=texts(key, title=escape(survey_title(texts, definition))))]


def reminder_dm(texts: Texts, definition: SurveyDefinition, closes_at: datetime) -> list[Block]:
    title = escape(survey_title(texts, definition))
    return [
        SectionBlock(text=texts("pulse.dm.reminder", title=title, closes=_closes(texts, closes_at)))
    ]


# ---- modals --------------------------------------------------------------------------------


def _modal_title(texts: Texts, definition: SurveyDefinition) -> str:
    return clip(survey_title(texts, definition), TITLE_LIMIT)


def _scale_options(texts: Texts) -> list[Option]:
    return [Option(value=str(v), text=f"{v} · {texts(f'pulse.scale.{v}')}") for v in range(1, 6)]


def _answer_element(
    texts: Texts, question: Question, number: int | None, text: str | None
) -> RadioButtonsElement | StaticSelectElement | PlainTextInputElement:
    if question.kind == "scale":
        options = _scale_options(texts)
        initial = next((o for o in options if number is not None and o.value == str(number)), None)
        return RadioButtonsElement(action_id=ANSWER_ACTION, options=options, initial_option=initial)
    if question.kind == "enps":
        options = [Option(value=str(v), text=str(v)) for v in range(11)]
        initial = next((o for o in options if number is not None and o.value == str(number)), None)
        return StaticSelectElement(
            action_id=ANSWER_ACTION,
            placeholder=texts("pulse.modal.enps_placeholder"),
            options=options,
            initial_option=initial,
        )
    if question.kind == "choice":
        options = [Option(value=str(i), text=o) for i, o in enumerate(question.options)]
        initial = next((o for o in options if text == question.options[int(o.value)]), None)
        return RadioButtonsElement(action_id=ANSWER_ACTION, options=options, initial_option=initial)
    return PlainTextInputElement(
        action_id=ANSWER_ACTION, multiline=True, max_length=MODAL_TEXT_LIMIT, initial_value=text
    )


def modal_metadata(run_id: int, dm: tuple[str, str] | None) -> str:
    """What a survey modal carries: its run, and the DM it was opened from (channel, ts), so
    that the DM is updated after an answer without looking up whose it is."""
    return str(run_id) if dm is None else f"{run_id}:{dm[0]}:{dm[1]}"


def dm_of_metadata(metadata: object) -> tuple[str, str] | None:
    parts = str(metadata or "").split(":")
    return (parts[1], parts[2]) if len(parts) == 3 and parts[1] and parts[2] else None


def answer_modal(
    texts: Texts,
    run_id: int,
    definition: SurveyDefinition,
    current: dict[int, tuple[int | None, str | None]],
    dm: tuple[str, str] | None = None,
) -> View:
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=texts("pulse.dm.anonymous"))])
    ]
    for index, question in enumerate(definition.questions):
        number, text = current.get(index, (None, None))
        blocks.append(
            InputBlock(
                block_id=f"q{index}",
                label=clip(question_text(texts, question), LABEL_LIMIT),
                element=_answer_element(texts, question, number, text),
                optional=question.optional,
            )
        )
    return View(
        type="modal",
        callback_id=ANSWERS_CALLBACK,
        private_metadata=modal_metadata(run_id, dm),
        title=_modal_title(texts, definition),
        submit=texts("pulse.modal.submit"),
        close=texts("pulse.modal.cancel"),
        blocks=blocks,
    )


def comment_modal(
    texts: Texts, run_id: int, definition: SurveyDefinition, current: str | None
) -> View:
    index = len(definition.questions) - 1
    question = definition.questions[index]
    return View(
        type="modal",
        callback_id=COMMENT_CALLBACK,
        private_metadata=str(run_id),
        title=_modal_title(texts, definition),
        submit=texts("pulse.modal.submit"),
        close=texts("pulse.modal.cancel"),
        blocks=[
            InputBlock(
                block_id=COMMENT_BLOCK,
                label=clip(question_text(texts, question), LABEL_LIMIT),
                element=PlainTextInputElement(
                    action_id=ANSWER_ACTION,
                    multiline=True,
                    max_length=MODAL_TEXT_LIMIT,
                    initial_value=current,
                ),
            ),
            ContextBlock(elements=[MarkdownTextObject(text=texts("pulse.dm.anonymous"))]),
        ],
    )


def comment_saved_modal(texts: Texts, definition: SurveyDefinition, *, removed: bool) -> View:
    """What the comment modal turns into once saved: a sign it went in (it says *that*, never
    repeats *what*), closed with one button."""
    key = "pulse.comment_saved.removed" if removed else "pulse.comment_saved.saved"
    return View(
        type="modal",
        callback_id=COMMENT_SAVED_CALLBACK,
        title=_modal_title(texts, definition),
        close=texts("pulse.comment_saved.close"),
        blocks=[
            SectionBlock(text=texts(key)),
            ContextBlock(elements=[MarkdownTextObject(text=texts("pulse.dm.anonymous"))]),
        ],
    )


def compose_modal(texts: Texts) -> View:
    return View(
        type="modal",
        callback_id=COMPOSE_CALLBACK,
        title=texts("pulse.compose.title"),
        submit=texts("pulse.modal.save"),
        close=texts("pulse.modal.cancel"),
        blocks=[
            InputBlock(
                block_id="name",
                label=texts("pulse.compose.name"),
                hint=texts("pulse.compose.name_hint"),
                element=PlainTextInputElement(action_id="value", max_length=40),
            ),
            InputBlock(
                block_id="title",
                label=texts("pulse.compose.survey_title"),
                element=PlainTextInputElement(action_id="value", max_length=60),
            ),
            InputBlock(
                block_id="questions",
                label=texts("pulse.compose.questions", limit=MAX_QUESTIONS),
                hint=texts("pulse.compose.questions_hint"),
                element=PlainTextInputElement(action_id="value", multiline=True),
            ),
        ],
    )


WEEKDAY_VALUES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ZONE_LIMIT = 64  # the longest IANA name is 32 characters; the column holds 64


def _options(pairs: Sequence[tuple[str, str]]) -> list[Option]:
    return [Option(value=value, text=clip(text, OPTION_LIMIT)) for value, text in pairs]


def schedule_modal(
    texts: Texts, surveys: Sequence[tuple[str, SurveyDefinition]], *, zone: str
) -> View:
    """`/pulse schedule` alone: the typed command's fields as a form (a cron expression is
    typed only). `surveys` are the built-in templates and the workspace's own surveys, by
    name; `zone` is the workspace's time zone, the form's default.
    """
    survey_options = _options(
        [(name, f"{name} — {survey_title(texts, d)}") for name, d in surveys][:MAX_OPTIONS]
    )
    cadences = _options([(c, texts(f"pulse.schedule_form.{c}")) for c in FORM_CADENCES])
    weekdays = _options([(d, texts(f"pulse.schedule_form.{d}")) for d in WEEKDAY_VALUES])
    # The values are the typed command's words: `on first monday`, `on last friday`.
    weeks = _options(
        [(FORM_DAY_OF_MONTH, texts("pulse.schedule_form.week_day"))]
        + [(word, texts(f"pulse.schedule_form.week_{word}")) for word in WEEK_NAMES.values()]
    )
    days = _options([(str(n), str(n)) for n in range(1, 32)])
    audiences = _options(
        [(kind, texts(f"pulse.schedule_form.audience_{kind}")) for kind in
         ("everyone", "channels", "people")]
    )  # fmt: skip
    return View(
        type="modal",
        callback_id=SCHEDULE_CALLBACK,
        title=texts("pulse.schedule_form.title"),
        submit=texts("pulse.schedule_form.submit"),
        close=texts("pulse.modal.cancel"),
        blocks=[
            InputBlock(
                block_id="survey",
                label=texts("pulse.schedule_form.survey"),
                element=StaticSelectElement(action_id=FORM_ACTION, options=survey_options),
            ),
            InputBlock(
                block_id="cadence",
                label=texts("pulse.schedule_form.cadence"),
                element=StaticSelectElement(
                    action_id=FORM_ACTION, options=cadences, initial_option=cadences[0]
                ),
            ),
            InputBlock(
                block_id="weekday",
                label=texts("pulse.schedule_form.weekday"),
                hint=texts("pulse.schedule_form.weekday_hint"),
                optional=True,
                element=StaticSelectElement(
                    action_id=FORM_ACTION, options=weekdays, initial_option=weekdays[0]
                ),
            ),
            InputBlock(
                block_id="week",
                label=texts("pulse.schedule_form.week"),
                hint=texts("pulse.schedule_form.week_hint"),
                optional=True,
                element=StaticSelectElement(
                    action_id=FORM_ACTION, options=weeks, initial_option=weeks[0]
                ),
            ),
            InputBlock(
                block_id="day",
                label=texts("pulse.schedule_form.day"),
                hint=texts("pulse.schedule_form.day_hint"),
                optional=True,
                element=StaticSelectElement(action_id=FORM_ACTION, options=days),
            ),
            InputBlock(
                block_id="time",
                label=texts("pulse.schedule_form.time"),
                hint=texts("pulse.schedule_form.time_hint"),
                element=TimePickerElement(action_id=FORM_ACTION, initial_time=DEFAULT_TIME),
            ),
            InputBlock(
                block_id="zone",
                label=texts("pulse.schedule_form.zone"),
                hint=texts("pulse.schedule_form.zone_hint"),
                element=PlainTextInputElement(
                    action_id=FORM_ACTION, initial_value=zone, max_length=ZONE_LIMIT
                ),
            ),
            InputBlock(
                block_id="audience",
                label=texts("pulse.schedule_form.audience"),
                element=RadioButtonsElement(
                    action_id=FORM_ACTION, options=audiences, initial_option=audiences[0]
                ),
            ),
            InputBlock(
                block_id="channels",
                label=texts("pulse.schedule_form.channels"),
                optional=True,
                element=ConversationMultiSelectElement(
                    action_id=FORM_ACTION,
                    filter=ConversationFilter(include=["public", "private"]),
                ),
            ),
            InputBlock(
                block_id="users",
                label=texts("pulse.schedule_form.people"),
                optional=True,
                element=UserMultiSelectElement(action_id=FORM_ACTION),
            ),
            InputBlock(
                block_id="open",
                label=texts("pulse.schedule_form.open"),
                hint=texts("pulse.schedule_form.open_hint", limit=MAX_OPEN_DAYS),
                element=PlainTextInputElement(
                    action_id=FORM_ACTION, initial_value=str(DEFAULT_OPEN_DAYS), max_length=3
                ),
            ),
        ],
    )


def scheduled_modal(texts: Texts, message: str) -> View:
    """What the schedule modal turns into once saved: the same confirmation as the command's."""
    return View(
        type="modal",
        callback_id=SCHEDULE_CALLBACK,
        title=texts("pulse.schedule_form.title"),
        close=texts("pulse.schedule_form.done"),
        blocks=[SectionBlock(text=clip(message))],
    )


def modal_update(view: View) -> dict[str, object]:
    """The ack body that replaces the submitted modal with `view`."""
    return {"response_action": "update", "view": view.to_dict()}


def modal_errors(errors: dict[str, str]) -> dict[str, object]:
    """The ack body that shows errors under the named input blocks."""
    return {"response_action": "errors", "errors": errors}


# ---- manager replies -----------------------------------------------------------------------


def templates_blocks(texts: Texts) -> list[Block]:
    lines = []
    for template_id, definition in TEMPLATES.items():
        lines.append(
            texts(
                "pulse.list.template_line",
                id=template_id,
                title=survey_title(texts, definition),
                questions=texts.plural("count.questions", len(definition.questions)),
            )
        )
    return [
        HeaderBlock(text=texts("pulse.list.templates_title")),
        SectionBlock(text=clip("\n".join(lines))),
        ContextBlock(elements=[MarkdownTextObject(text=texts("pulse.list.templates_hint"))]),
    ]


def audience_text(texts: Texts, audience_json: str) -> str:
    data = json.loads(audience_json)
    if data.get("everyone"):
        return texts("pulse.list.everyone")
    parts = [f"<#{c}>" for c in data.get("channels") or []]
    parts += [f"<@{u}>" for u in data.get("users") or []]
    return ", ".join(parts)


def cadence_text(texts: Texts, schedule: Schedule, zone: str) -> str:
    """How a schedule reads: `monthly on the first Monday at 10:00 (Europe/Rome)`."""
    weekday = WEEKDAY_VALUES[schedule.on_weekday or 0]
    at = schedule.at_time
    if schedule.cadence == "cron":
        text = texts("pulse.cadence.cron", expression=schedule.cron, time=at)
    elif schedule.cadence in ("weekly", "biweekly"):
        day = texts(f"pulse.weekday.{weekday}")
        text = texts(f"pulse.cadence.{schedule.cadence}", day=day, time=at)
    elif schedule.on_week is not None:
        nth = WEEK_NAMES[schedule.on_week]
        when = texts(
            f"pulse.nth_weekday.{weekday}",
            nth=texts(f"pulse.nth.{nth}"),
            nth_f=texts(f"pulse.nth_f.{nth}"),
        )
        text = texts(f"pulse.cadence.{schedule.cadence}_nth", when=when, time=at)
    else:
        text = texts(f"pulse.cadence.{schedule.cadence}", day=schedule.on_day or 1, time=at)
    return texts("pulse.cadence.in_zone", cadence=text, zone=schedule.zone or zone)


def list_blocks(
    texts: Texts, surveys: Sequence[SurveyOverview], *, zone: str, now: datetime
) -> list[Block]:
    """`/pulse list`; `zone` is the workspace's, for schedules made before they had one."""
    if not surveys:
        return [SectionBlock(text=texts("pulse.list.empty"))]
    blocks: list[Block] = [HeaderBlock(text=texts("pulse.list.title"))]
    for item in surveys[:45]:
        s = item.survey
        schedule = schedule_of(s)
        if schedule is None:
            cadence = texts("pulse.list.by_hand")
        else:
            cadence = cadence_text(texts, schedule, zone)
        if s.paused:
            status = texts("pulse.list.paused")
        elif item.open_run is not None and item.open_run.opens_at > now:
            # Created when its time first came anywhere (UTC+14): not everyone's DM is due yet.
            status = texts(
                "pulse.list.opening",
                number=item.open_run.number,
                time=item.open_run.at_time,
                closes=_closes(texts, item.open_run.closes_at),
            )
        elif item.open_run is not None:
            status = texts(
                "pulse.list.open",
                number=item.open_run.number,
                closes=_closes(texts, item.open_run.closes_at),
            )
        else:
            status = texts("pulse.list.idle")
        next_run = (
            _closes(texts, s.next_run_at) if s.next_run_at is not None and not s.paused else "—"
        )
        blocks.append(
            SectionBlock(
                text=clip(
                    texts(
                        "pulse.list.line",
                        name=escape(s.name),
                        title=escape(survey_title(texts, item.definition)),
                        cadence=cadence,
                        audience=audience_text(texts, s.audience),
                        next=next_run,
                        status=status,
                        runs=texts.plural("count.runs_so_far", item.runs),
                    )
                )
            )
        )
    return blocks


EIGHTHS = " ▏▎▍▌▋▊▉"  # a cell filled 0/8 … 7/8 from the left


def bar(count: int, total: int, width: int = 10) -> str:
    """A share as a bar in eighths of a cell: 2/13 and 3/13 differ (whole cells drew both as
    two), and the bar is always `width` cells long."""
    eighths = round(8 * width * count / total) if total else 0
    whole, part = divmod(eighths, 8)
    cells = "█" * whole + (EIGHTHS[part] if part else "")
    return cells + "░" * (width - len(cells))


def _question_result(
    texts: Texts,
    q: QuestionResult,
    question: Question,
    min_responses: int,
    *,
    confidence: int | None = None,
    invited: int = 0,
) -> str:
    title = f"*{escape(question_text(texts, question))}*"
    if q.withheld:
        return f"{title}\n" + texts("pulse.results.question_withheld")
    if q.hidden:
        return f"{title}\n" + texts("pulse.results.question_hidden", needed=min_responses)
    lines = [title]
    if q.enps is not None:
        change = (
            "" if q.change is None else " " + texts("pulse.results.change", change=signed(q.change))
        )
        if q.enps.promoters is None:  # too few people for counts per band
            figure = texts("pulse.results.enps_score", score=signed(q.enps.score))
        else:
            figure = texts(
                "pulse.results.enps",
                score=signed(q.enps.score),
                promoters=q.enps.promoters,
                passives=q.enps.passives,
                detractors=q.enps.detractors,
            )
        lines.append(figure + change + (change_verdict(texts, q.change_real) if change else ""))
        interval = enps_interval(
            texts, figure_interval(q, confidence), answered=q.answered, invited=invited
        )
        if interval:
            lines.append(f"_{interval}_")
    elif q.kind == "scale" and q.mean is not None and q.favourable is not None:
        change = (
            ""
            if q.change is None
            else " " + texts("pulse.results.change", change=signed(q.change, 1))
        )
        lines.append(
            texts(
                "pulse.results.scale",
                mean=texts.number(q.mean, 1),
                favourable=round(q.favourable * 100),
                answers=texts.plural("count.answers", q.answered),
            )
            + change
            + (change_verdict(texts, q.change_real) if change else "")
        )
        interval = scale_interval(texts, q, confidence, invited=invited)
        if interval:
            lines.append(f"_{interval}_")
    if q.kind in ("scale", "choice"):
        total = sum(count for _, count in q.distribution)
        lines += [
            f"`{bar(count, total)}` {count} · {escape(label)}" for label, count in q.distribution
        ]
    if q.comments:
        lines += [f"> {escape(c)}".replace("\n", "\n> ") for c in q.comments]
    return "\n".join(lines)


def results_blocks(
    texts: Texts, name: str, definition: SurveyDefinition, results: RunResults | Participation
) -> list[Block]:
    title = escape(survey_title(texts, definition))
    blocks: list[Block] = [
        HeaderBlock(
            text=clip(
                texts(
                    "pulse.results.title",
                    title=survey_title(texts, definition),
                    number=results.run_number,
                ),
                150,
            )
        ),
        SectionBlock(
            text=texts(
                "pulse.results.participation",
                answered=results.answered,
                invited=results.invited,
                name=escape(name),
                title=title,
            )
        ),
    ]
    if isinstance(results, Participation):
        closes = results.closes_at
        open_text = texts(
            "pulse.results.open",
            closes=when(texts, closes),
            answered=results.answered,
            invited=results.invited,
        )
        return [*blocks, SectionBlock(text=open_text)]
    if results.hidden:
        blocks.append(
            SectionBlock(
                text=texts(
                    "pulse.results.hidden",
                    answered=results.answered,
                    needed=results.min_responses,
                )
            )
        )
        return blocks
    blocks.append(DividerBlock())
    for q in results.questions:
        blocks.append(
            SectionBlock(
                text=clip(
                    _question_result(
                        texts,
                        q,
                        definition.questions[q.index],
                        results.min_responses,
                        confidence=results.confidence,
                        invited=results.invited,
                    )
                )
            )
        )
    if results.segments:
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=texts("pulse.results.by_team")))
        for segment in results.segments[:20]:
            blocks.append(
                SectionBlock(
                    text=clip(_segment_result(texts, segment, definition, results.confidence))
                )
            )
        note = texts("pulse.results.teams_rule", needed=results.min_responses)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=texts(
                        "pulse.results.footer",
                        needed=results.min_responses,
                        double=DISTRIBUTION_FACTOR * results.min_responses,
                    )
                )
            ]
        )
    )
    return blocks


def _segment_result(
    texts: Texts, segment: SegmentResult, definition: SurveyDefinition, confidence: int | None
) -> str:
    """One team's line: its participation and its eNPS and scale figures, or a lock."""
    if segment.hidden:
        return texts("pulse.results.team_hidden", team=f"<#{segment.segment}>")
    lines = [
        texts(
            "pulse.results.team",
            team=f"<#{segment.segment}>",
            answered=segment.answered,
            invited=segment.invited,
        )
    ]
    for q in segment.questions:
        name = escape(question_text(texts, definition.questions[q.index]))
        if q.hidden:
            lines.append(f"{name}: " + texts("pulse.results.team_question_hidden"))
        elif q.enps is not None:
            interval = short_interval(texts, figure_interval(q, confidence))
            lines.append(f"{name}: *eNPS {signed(q.enps.score)}*{interval}")
        elif q.mean is not None and q.favourable is not None:
            figures = texts(
                "pulse.results.team_scale",
                mean=texts.number(q.mean, 1),
                favourable=round(q.favourable * 100),
            )
            interval = short_interval(texts, figure_interval(q, confidence), mean=True)
            lines.append(f"{name}: {figures}{interval}")
    return "\n".join(lines)


# ---- replies to /pulse -----------------------------------------------------------------------


def command_reply(
    texts: Texts, result: PulseResult, *, min_responses: int, zone: str, confidence: int = 95
) -> list[Block]:
    """The private answer to a `/pulse` line (a form to open gets none: see the handler)."""
    if isinstance(result, ShowHelp):
        if result.unknown is None:
            return pulse_help(texts, min_responses=min_responses, confidence=confidence)
        return notice(reply_message(texts, result)) + pulse_help(
            texts, min_responses=min_responses, confidence=confidence
        )
    if isinstance(result, Refusal):
        return error_blocks(texts, result.key, **result.params)
    if isinstance(result, ShowPrivacy):
        return privacy_blocks(
            texts, min_responses=min_responses, double=DISTRIBUTION_FACTOR * min_responses
        )
    if isinstance(result, ShowTemplates):
        return templates_blocks(texts)
    if isinstance(result, SurveyList):
        return list_blocks(texts, result.surveys, zone=zone, now=result.now)
    if isinstance(result, ResultsShown):
        return results_blocks(texts, result.survey.name, result.definition, result.results)
    return notice(reply_message(texts, result))


def reply_message(texts: Texts, result: PulseResult) -> str:
    """A reply of one sentence, or the title a longer reply is known by."""
    if isinstance(result, ShowHelp):
        if result.unknown is None:
            return texts("pulse.help.title")
        return texts("common.unknown_subcommand", command="/pulse", subcommand=result.unknown)
    if isinstance(result, Refusal):
        return texts(result.key, **result.params)
    if isinstance(result, ShowPrivacy):
        return texts("pulse.privacy.title")
    if isinstance(result, ShowTemplates):
        return texts("pulse.list.templates_title")
    if isinstance(result, SurveyList):
        return texts("pulse.list.title")
    if isinstance(result, ResultsShown):
        return survey_title(texts, result.definition)
    if isinstance(result, Scheduled):
        return scheduled_message(texts, result.survey, result.next_run)
    if isinstance(result, RunStarted):
        closes = result.run.closes_at
        return texts(
            "pulse.reply.started",
            number=result.run.number,
            name=result.name,
            closes=when(texts, closes),
            audience=audience_text(texts, result.run.audience),
        )
    if isinstance(result, RunClosed):
        return texts("pulse.reply.closed", number=result.run.number, name=result.name)
    if isinstance(result, Paused):
        return texts("pulse.reply.paused", name=result.name)
    if isinstance(result, Resumed):
        next_run = result.survey.next_run_at
        assert next_run is not None  # a resumed schedule has its next occurrence
        return texts("pulse.reply.resumed", name=result.name, next=when(texts, next_run))
    if isinstance(result, ExportRequested):
        return texts("pulse.reply.export_started", name=result.name)
    if isinstance(result, SummaryRequested):
        return texts("summary.preparing", week=texts.week_of(result.week.first_day))
    return ""  # a form opens instead: the ack is empty


def scheduled_message(texts: Texts, survey: SurveyRecord, next_run: datetime) -> str:
    """The confirmation of a schedule, from the schedule as saved (with its zone)."""
    schedule = schedule_of(survey)
    assert schedule is not None and schedule.zone is not None  # SurveyService.schedule set them
    return texts(
        "pulse.reply.scheduled",
        name=survey.name,
        cadence=cadence_text(texts, schedule, schedule.zone),
        audience=audience_text(texts, survey.audience),
        open_for=texts.plural("pulse.reply.open_for", schedule.open_days),
        next=when(texts, next_run),
    )


# ---- the CSV export --------------------------------------------------------------------------

EXPORT_HEADER = ["run", "question", "type", "answered", "metric", "value"]


def export_file(texts: Texts, releases: Sequence[tuple[RunResults, SurveyDefinition]]) -> bytes:
    """`/pulse export`: every released run of a survey, aggregates only."""
    rows = [
        row
        for results, definition in releases
        for row in export_rows(results, [question_text(texts, q) for q in definition.questions])
    ]
    return csv_bytes(EXPORT_HEADER, rows)


def export_rows(results: RunResults, question_texts: list[str]) -> list[list[object]]:
    """Aggregates only, and only what the release let through: never a row per person."""
    rows: list[list[object]] = [
        [results.run_number, "", "", results.answered, "invited", results.invited]
    ]
    for q in results.questions:
        text = question_texts[q.index]
        base = [results.run_number, text, q.kind, q.answered]
        if q.withheld:
            rows.append([*base, "hidden_overlap", ""])
            continue
        if q.hidden:
            rows.append([*base, "hidden_below_threshold", results.min_responses])
            continue
        if q.enps is not None:
            rows.append([*base, "enps", q.enps.score])
            if q.enps.promoters is not None:  # too few people for counts per band otherwise
                rows.append([*base, "promoters", q.enps.promoters])
                rows.append([*base, "passives", q.enps.passives])
                rows.append([*base, "detractors", q.enps.detractors])
        if q.kind == "scale" and q.mean is not None and q.favourable is not None:
            rows.append([*base, "mean", f"{q.mean:.2f}"])
            rows.append([*base, "favourable_share", f"{q.favourable:.2f}"])
        rows += [[*base, metric, value] for metric, value in interval_rows(q, results.confidence)]
        for label, count in q.distribution:
            rows.append([*base, f"count_{label}", count])
        for comment in q.comments:
            rows.append([*base, "comment", comment])
    for segment in results.segments:  # the same rule as /pulse results: hidden teams say so
        team = f"team:{segment.segment}"
        if segment.hidden:
            rows.append([results.run_number, "", "", "", f"{team}:hidden_by_threshold", ""])
            continue
        rows.append([results.run_number, "", "", segment.answered, f"{team}:invited",
                         segment.invited])  # fmt: skip
        for sq in segment.questions:
            base = [results.run_number, question_texts[sq.index], sq.kind, segment.answered]
            if sq.hidden:
                rows.append([*base, f"{team}:hidden_by_threshold", ""])
            elif sq.enps is not None:
                rows.append([*base, f"{team}:enps", sq.enps.score])
            elif sq.mean is not None and sq.favourable is not None:
                rows.append([*base, f"{team}:mean", f"{sq.mean:.2f}"])
                rows.append([*base, f"{team}:favourable_share", f"{sq.favourable:.2f}"])
            if not sq.hidden:
                rows += [
                    [*base, f"{team}:{metric}", value]
                    for metric, value in interval_rows(sq, results.confidence)
                ]
    return rows


def interval_rows(
    q: QuestionResult | SegmentQuestion, confidence: int | None
) -> list[tuple[str, object]]:
    """The export's metrics for a figure's uncertainty, beside the plain figure: the estimate
    (adjusted eNPS) and its interval, the favourable share's, the level, how the answers cover
    the audience, and whether the change against the previous run is beyond noise."""
    if confidence is None or q.low is None or q.high is None or q.estimate is None:
        return []
    digits = 1 if q.kind == "enps" else 2
    prefix = "enps" if q.kind == "enps" else "mean"
    rows: list[tuple[str, object]] = []
    if q.kind == "enps":
        rows.append(("enps_estimate", round(q.estimate, digits)))
    rows += [
        (f"{prefix}_low", round(q.low, digits)),
        (f"{prefix}_high", round(q.high, digits)),
    ]
    if q.favourable_low is not None and q.favourable_high is not None:
        rows += [
            ("favourable_low", round(q.favourable_low, 2)),
            ("favourable_high", round(q.favourable_high, 2)),
        ]
    rows += [("confidence_percent", confidence), ("coverage", q.coverage or "")]
    if isinstance(q, QuestionResult) and q.change is not None:
        rows.append(("change", round(q.change, digits)))
        if q.change_real is not None:
            rows.append(("change_beyond_noise", "yes" if q.change_real else "no"))
    return rows
