"""Block Kit for one-to-ones: replies, the three DMs of a meeting, modals, the Home section.

Every time is written in the reader's own zone: the series keeps the manager's wall-clock time,
each person reads it in theirs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.i18n import Texts
from bot.oneonones.commands import (
    DEFAULT_MINUTES,
    DEFAULT_TIME,
    EVERY_WEEKS,
    MAX_MINUTES,
    MIN_MINUTES,
    Cancelled,
    MeetingSkipped,
    OneOnOneResult,
    Refusal,
    Scheduled,
    SeriesList,
    ShowHelp,
    TopicAdded,
)
from bot.oneonones.model import MAX_TOPIC, OneOnOneError
from bot.oneonones.service import OutcomeForm, SeriesOverview, Skipped
from bot.oneonones.working_hours import OutsideWorkingDay
from bot.views.common import clip, error_blocks, escape, fallback_text, notice
from storage.oneonones import MAX_NOTE, OccurrenceRecord, SeriesRecord, TopicRecord

ADD_TOPIC = "oneonone.add_topic"
SKIP = "oneonone.skip"
OUTCOMES = "oneonone.outcomes"
TOPIC_MODAL = "oneonone.topic_modal"
NOTES_MODAL = "oneonone.notes_modal"
OUTCOMES_MODAL = "oneonone.outcomes_modal"
SCHEDULE_MODAL = "oneonone.schedule"
INPUT = "value"  # the action id of every input in these modals
MAX_AGENDA = 15
MAX_HOME_SERIES = 5
LABEL_LIMIT = 2000
OPTION_LIMIT = 75


def local_when(texts: Texts, moment: datetime, zone: ZoneInfo) -> str:
    """`Thursday 3 December, 10:00` / `giovedì 3 dicembre alle 10:00`, in the reader's zone."""
    return texts.day_time(moment.astimezone(zone))


def cadence_text(texts: Texts, series: SeriesRecord) -> str:
    key = "oneonone.cadence.weekly" if series.every_weeks == 1 else "oneonone.cadence.every"
    return texts(key, weeks=series.every_weeks, minutes=series.minutes)


def _next_text(texts: Texts, upcoming: OccurrenceRecord | None, zone: ZoneInfo) -> str:
    if upcoming is None:
        return texts("oneonone.no_next")
    return local_when(texts, upcoming.starts_at, zone)


def agenda_lines(texts: Texts, agenda: Sequence[TopicRecord]) -> list[str]:
    if not agenda:
        return [texts("oneonone.agenda_empty")]
    key = {"topic": "oneonone.topic_line", "followup": "oneonone.followup_line"}
    lines = [
        texts(key.get(topic.kind, key["topic"]), text=escape(topic.text), author=topic.author_id)
        for topic in agenda[:MAX_AGENDA]
    ]
    if len(agenda) > MAX_AGENDA:
        lines.append(texts("common.and_more", count=len(agenda) - MAX_AGENDA))
    return lines


def _agenda_block(texts: Texts, agenda: Sequence[TopicRecord]) -> SectionBlock:
    header = f"*{texts('oneonone.agenda_header')}*"
    return SectionBlock(text=clip("\n".join([header, *agenda_lines(texts, agenda)])))


def _private_context(texts: Texts) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=texts("oneonone.private_note"))])


# ---- the command's replies ---------------------------------------------------------------------


def help_blocks(texts: Texts) -> list[Block]:
    return [
        HeaderBlock(text=texts("oneonone.help.title")),
        SectionBlock(text=texts("oneonone.help.intro")),
        SectionBlock(text=clip(texts("oneonone.help.usage").strip())),
        DividerBlock(),
        ContextBlock(
            elements=[
                MarkdownTextObject(text=texts("oneonone.help.privacy")),
                MarkdownTextObject(text=texts("oneonone.help.rhythm")),
            ]
        ),
    ]


def scheduled_reply(
    texts: Texts, series: SeriesRecord, first: OccurrenceRecord, zone: ZoneInfo
) -> list[Block]:
    return notice(
        texts(
            "oneonone.reply.scheduled",
            person=series.person_id,
            cadence=cadence_text(texts, series),
            first=local_when(texts, first.starts_at, zone),
        )
    )


def outside_working_day_blocks(
    texts: Texts, series: SeriesRecord, outside: OutsideWorkingDay
) -> list[Block]:
    """A warning under "scheduled": the meeting falls outside a working day, and the nearest
    time that fits both people."""

    def clock(moment: datetime) -> str:
        return f"{moment:%H:%M}"

    text = texts(
        "oneonone.working_day.outside",
        person=series.person_id,
        their_time=clock(outside.their_start),
        zone=outside.their_zone,
    )
    if outside.suggested is not None and outside.suggested_theirs is not None:
        text += " " + texts(
            "oneonone.working_day.suggest",
            time=clock(outside.suggested),
            their_time=clock(outside.suggested_theirs),
            person=series.person_id,
        )
    else:
        text += " " + texts("oneonone.working_day.no_overlap", person=series.person_id)
    return notice(text)


def scheduled_dm(
    texts: Texts, series: SeriesRecord, first: OccurrenceRecord, zone: ZoneInfo
) -> tuple[str, list[Block]]:
    """To the person: someone scheduled a regular 1:1 with them."""
    text = texts(
        "oneonone.dm.scheduled",
        manager=series.manager_id,
        cadence=cadence_text(texts, series),
        first=local_when(texts, first.starts_at, zone),
    )
    return text, [*notice(text), _private_context(texts)]


def list_blocks(
    texts: Texts, overviews: Sequence[SeriesOverview], viewer_id: str, zone: ZoneInfo
) -> list[Block]:
    if not overviews:
        return notice(texts("oneonone.list.empty"))
    blocks: list[Block] = [HeaderBlock(text=texts("oneonone.list.title"))]
    for item in overviews[:20]:
        series = item.series
        role = (
            "oneonone.list.you_manage" if series.manager_id == viewer_id else "oneonone.list.with"
        )
        lines = [
            texts(role, other=series.other(viewer_id), cadence=cadence_text(texts, series)),
            texts("oneonone.list.next", when=_next_text(texts, item.upcoming, zone)),
            *agenda_lines(texts, item.agenda),
        ]
        blocks.append(SectionBlock(text=clip("\n".join(lines))))
    blocks.append(_private_context(texts))
    return blocks


def topic_added_reply(
    texts: Texts,
    series: SeriesRecord,
    viewer_id: str,
    upcoming: OccurrenceRecord | None,
    zone: ZoneInfo,
) -> list[Block]:
    return notice(
        texts(
            "oneonone.reply.topic_added",
            other=series.other(viewer_id),
            when=_next_text(texts, upcoming, zone),
        )
    )


def skipped_text(texts: Texts, skipped: Skipped, viewer_id: str, zone: ZoneInfo) -> str:
    return texts(
        "oneonone.reply.skipped",
        other=skipped.series.other(viewer_id),
        skipped=local_when(texts, skipped.skipped.starts_at, zone),
        next=_next_text(texts, skipped.upcoming, zone),
    )


def skipped_dm(texts: Texts, skipped: Skipped, by_id: str, zone: ZoneInfo) -> str:
    """To the other person: the next meeting was skipped."""
    return texts(
        "oneonone.dm.skipped",
        by=by_id,
        skipped=local_when(texts, skipped.skipped.starts_at, zone),
        next=_next_text(texts, skipped.upcoming, zone),
    )


# ---- the meeting's DMs ------------------------------------------------------------------------


def day_before_dm(
    texts: Texts,
    series: SeriesRecord,
    occurrence: OccurrenceRecord,
    *,
    agenda: Sequence[TopicRecord],
    viewer_id: str,
    zone: ZoneInfo,
) -> tuple[str, list[Block]]:
    text = texts(
        "oneonone.dm.day_before",
        other=series.other(viewer_id),
        when=local_when(texts, occurrence.starts_at, zone),
        minutes=series.minutes,
    )
    blocks: list[Block] = [
        SectionBlock(text=text),
        _agenda_block(texts, agenda),
        ActionsBlock(
            block_id=f"oneonone:{occurrence.id}",
            elements=[
                ButtonElement(
                    text=texts("oneonone.button.add_topic"),
                    action_id=ADD_TOPIC,
                    value=str(series.id),
                    style="primary",
                ),
                ButtonElement(
                    text=texts("oneonone.button.skip"), action_id=SKIP, value=str(occurrence.id)
                ),
            ],
        ),
        _private_context(texts),
    ]
    return text, blocks


def hour_before_dm(
    texts: Texts,
    series: SeriesRecord,
    occurrence: OccurrenceRecord,
    *,
    agenda_size: int,
    viewer_id: str,
    zone: ZoneInfo,
) -> tuple[str, list[Block]]:
    text = texts(
        "oneonone.dm.hour_before",
        other=series.other(viewer_id),
        when=local_when(texts, occurrence.starts_at, zone),
        topics=texts.plural("count.topics", agenda_size),
    )
    return text, notice(text)


def after_dm(
    texts: Texts, series: SeriesRecord, occurrence: OccurrenceRecord, viewer_id: str
) -> tuple[str, list[Block]]:
    text = texts("oneonone.dm.after", other=series.other(viewer_id))
    blocks: list[Block] = [
        SectionBlock(text=text),
        ActionsBlock(
            block_id=f"oneonone_after:{occurrence.id}",
            elements=[
                ButtonElement(
                    text=texts("oneonone.button.outcomes"),
                    action_id=OUTCOMES,
                    value=str(occurrence.id),
                    style="primary",
                )
            ],
        ),
        _private_context(texts),
    ]
    return text, blocks


# ---- modals -----------------------------------------------------------------------------------


def _metadata(**values: int) -> str:
    return json.dumps(values)


WEEKDAY_VALUES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def schedule_modal(texts: Texts, zone: ZoneInfo) -> View:
    """`/oneonone schedule` alone: the typed command's fields as a form (block ids as in
    SCHEDULE_FORM_BLOCKS), the time in the asker's zone."""
    every = [
        Option(
            value=str(weeks),
            text=texts("oneonone.form.every_week")
            if weeks == 1
            else texts("oneonone.form.every_weeks", weeks=weeks),
        )
        for weeks in EVERY_WEEKS
    ]
    # CLDR's weekday names, Monday first (Babel numbers them 0 = Monday, like WEEKDAY_VALUES).
    wide = texts.locale.days["format"]["wide"]
    names = [str(wide[day]).capitalize() for day in range(7)]
    weekdays = [
        Option(value=value, text=name) for value, name in zip(WEEKDAY_VALUES, names, strict=True)
    ]
    return View(
        type="modal",
        callback_id=SCHEDULE_MODAL,
        title=texts("oneonone.form.title"),
        submit=texts("oneonone.form.submit"),
        close=texts("common.cancel"),
        blocks=[
            InputBlock(
                block_id="person",
                label=texts("oneonone.form.person"),
                hint=texts("oneonone.form.person_hint"),
                element=UserSelectElement(action_id=INPUT),
            ),
            InputBlock(
                block_id="every",
                label=texts("oneonone.form.every"),
                element=StaticSelectElement(
                    action_id=INPUT, options=every, initial_option=every[0]
                ),
            ),
            InputBlock(
                block_id="weekday",
                label=texts("oneonone.form.weekday"),
                element=StaticSelectElement(action_id=INPUT, options=weekdays),
            ),
            InputBlock(
                block_id="time",
                label=texts("oneonone.form.time"),
                hint=texts("oneonone.form.time_hint", zone=zone.key),
                element=TimePickerElement(action_id=INPUT, initial_time=DEFAULT_TIME),
            ),
            InputBlock(
                block_id="minutes",
                label=texts("oneonone.form.minutes"),
                hint=texts("oneonone.form.minutes_hint", low=MIN_MINUTES, high=MAX_MINUTES),
                element=NumberInputElement(
                    action_id=INPUT,
                    is_decimal_allowed=False,
                    initial_value=str(DEFAULT_MINUTES),
                    min_value=str(MIN_MINUTES),
                    max_value=str(MAX_MINUTES),
                ),
            ),
        ],
    )


def topic_modal(texts: Texts, series_id: int, other_name: str) -> View:
    return View(
        type="modal",
        callback_id=TOPIC_MODAL,
        private_metadata=_metadata(series=series_id),
        title=texts("oneonone.modal.topic_title"),
        submit=texts("oneonone.modal.add"),
        close=texts("common.cancel"),
        blocks=[
            InputBlock(
                block_id="topic",
                label=clip(texts("oneonone.modal.topic_label", name=other_name), LABEL_LIMIT),
                element=PlainTextInputElement(action_id=INPUT, max_length=MAX_TOPIC),
            ),
            ContextBlock(elements=[MarkdownTextObject(text=texts("oneonone.modal.topic_hint"))]),
        ],
    )


def notes_modal(texts: Texts, series_id: int, other_name: str, current: str | None) -> View:
    return View(
        type="modal",
        callback_id=NOTES_MODAL,
        private_metadata=_metadata(series=series_id),
        title=texts("oneonone.modal.notes_title"),
        submit=texts("oneonone.modal.save"),
        close=texts("common.cancel"),
        blocks=[
            InputBlock(
                block_id="notes",
                label=clip(texts("oneonone.modal.notes_label", name=other_name), LABEL_LIMIT),
                optional=True,
                element=PlainTextInputElement(
                    action_id=INPUT, multiline=True, max_length=MAX_NOTE, initial_value=current
                ),
            ),
            ContextBlock(elements=[MarkdownTextObject(text=texts("oneonone.modal.notes_private"))]),
        ],
    )


def outcomes_modal(texts: Texts, form: OutcomeForm, other_name: str) -> View:
    blocks: list[Block] = [
        InputBlock(
            block_id="outcome",
            label=clip(texts("oneonone.modal.outcome_label", name=other_name), LABEL_LIMIT),
            optional=True,
            element=PlainTextInputElement(
                action_id=INPUT, multiline=True, max_length=MAX_NOTE, initial_value=form.outcome
            ),
        ),
        ContextBlock(elements=[MarkdownTextObject(text=texts("oneonone.modal.notes_private"))]),
        InputBlock(
            block_id="followups",
            label=texts("oneonone.modal.followups_label"),
            hint=texts("oneonone.modal.followups_hint"),
            optional=True,
            element=PlainTextInputElement(action_id=INPUT, multiline=True, max_length=2000),
        ),
    ]
    if form.open_followups:
        blocks.append(
            InputBlock(
                block_id="done",
                label=texts("oneonone.modal.done_label"),
                optional=True,
                element=CheckboxesElement(
                    action_id=INPUT,
                    options=[
                        Option(value=str(topic.id), text=clip(topic.text, OPTION_LIMIT))
                        for topic in form.open_followups[:10]
                    ],
                ),
            )
        )
    return View(
        type="modal",
        callback_id=OUTCOMES_MODAL,
        private_metadata=_metadata(occurrence=form.occurrence.id),
        title=texts("oneonone.modal.outcomes_title"),
        submit=texts("oneonone.modal.save"),
        close=texts("common.cancel"),
        blocks=blocks,
    )


# ---- App Home ---------------------------------------------------------------------------------


def home_section(
    texts: Texts, overviews: Sequence[SeriesOverview], viewer_id: str, zone: ZoneInfo
) -> list[Block]:
    """Upcoming 1:1s with their agendas; nothing at all for someone without any."""
    if not overviews:
        return []
    lines = [f"*{texts('oneonone.home.header')}*"]
    for item in overviews[:MAX_HOME_SERIES]:
        lines.append(
            texts(
                "oneonone.home.series",
                other=item.series.other(viewer_id),
                when=_next_text(texts, item.upcoming, zone),
            )
        )
        lines += ["    " + line for line in agenda_lines(texts, item.agenda)]
    return [SectionBlock(text=clip("\n".join(lines))), _private_context(texts)]


# ---- replies to /oneonone --------------------------------------------------------------------


def refusal_text(texts: Texts, error: Refusal | OneOnOneError) -> str:
    return ":warning: " + texts(f"oneonone.errors.{error.key}", **error.params)


def command_reply(
    texts: Texts, result: OneOnOneResult, viewer_id: str, zone: ZoneInfo
) -> tuple[str, list[Block]]:
    """The private answer to a `/oneonone` line, as text and blocks; none for a form."""
    if isinstance(result, ShowHelp):
        return texts("oneonone.help.title"), help_blocks(texts)
    if isinstance(result, Refusal):
        refused = error_blocks(texts, f"oneonone.errors.{result.key}", **result.params)
        return refusal_text(texts, result), refused + (
            help_blocks(texts) if result.with_help else []
        )
    blocks: list[Block] = []
    if isinstance(result, SeriesList):
        blocks = list_blocks(texts, result.series, viewer_id, zone)
    elif isinstance(result, Scheduled):
        blocks = scheduled_reply(texts, result.series, result.first, zone)
        if result.outside is not None:
            blocks += outside_working_day_blocks(texts, result.series, result.outside)
    elif isinstance(result, TopicAdded):
        blocks = topic_added_reply(texts, result.series, viewer_id, result.upcoming, zone)
    elif isinstance(result, MeetingSkipped):
        blocks = notice(skipped_text(texts, result.skipped, viewer_id, zone))
    elif isinstance(result, Cancelled):
        blocks = notice(texts("oneonone.reply.cancelled", other=result.other_id))
    return (fallback_text(blocks), blocks) if blocks else ("", [])
