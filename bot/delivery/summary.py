"""Sending the weekly summary: to the managers' channel (or each manager's DM), chart in the thread."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject

from bot.chart import summary_chart
from bot.i18n import Language, Texts
from bot.services import Services
from bot.slack_client import find_message_by_metadata, upload_file
from bot.summary import WeeklySummary, weekly_summary_data
from bot.views.summary import MAX_BLOCKS, summary_blocks, summary_fallback
from bot.weeks import SummaryWeek

log = logging.getLogger(__name__)

# The summary message carries its week's key, so a restarted bot can tell whether it went out.
SUMMARY_EVENT = "pulsebot_summary"


@dataclass(frozen=True, slots=True)
class SummaryDestination:
    channel: str  # a channel id, or a manager's user id (their DM with the bot)
    language: Language


@dataclass(frozen=True, slots=True)
class PostedSummary:
    channel: str
    ts: str
    chart_file_id: str | None


def compute_summary(services: Services, week: SummaryWeek, now: datetime) -> WeeklySummary:
    settings = services.settings
    return weekly_summary_data(
        week,
        surveys=services.surveys,
        oneonones=services.oneonones,
        pipeline=settings.pipeline,
        currency=settings.currency,
        now=now,
    )


def summary_destinations(services: Services) -> list[SummaryDestination]:
    """PULSEBOT_MANAGERS_CHANNEL, else every manager known without asking Slack."""
    settings = services.settings
    if settings.managers_channel:
        return [SummaryDestination(settings.managers_channel, settings.language)]
    directory = services.directory
    known = {user.user_id: user for user in directory.all_users()}
    managers = set(settings.managers) | {
        user.user_id for user in known.values() if user.is_person and directory.is_manager(user)
    }
    return [
        SummaryDestination(
            user_id,
            directory.language(known[user_id]) if user_id in known else settings.language,
        )
        for user_id in sorted(managers)
    ]


def post_to(
    services: Services,
    summary: WeeklySummary,
    destination: SummaryDestination,
    *,
    key: str | None = None,
) -> PostedSummary:
    """The message, then the chart threaded under it. A failed chart leaves the message be."""
    texts = Texts(destination.language)
    client = services.client
    response = client.chat_postMessage(
        channel=destination.channel,
        text=summary_fallback(texts, summary),
        blocks=summary_blocks(texts, summary),
        unfurl_links=False,
        metadata={"event_type": SUMMARY_EVENT, "event_payload": {"key": key or ""}},
    )
    channel, ts = str(response["channel"]), str(response["ts"])
    file_id: str | None = None
    try:
        chart = summary_chart(texts, summary)
        upload = upload_file(
            client,
            channel=channel,
            file=chart,
            filename=f"pulsebot-summary-{summary.week.label}.png",
            title=texts("summary.chart_title", week=texts.week_of(summary.week.first_day)),
            initial_comment=texts(
                "summary.chart_comment", week=texts.week_of(summary.week.first_day)
            ),
            thread_ts=ts,
        )
        files = upload.get("files") or [upload.get("file") or {}]
        file_id = str(files[0].get("id")) if files and files[0].get("id") else None
    except Exception:
        # The figures are in the message; a missing chart must not make the week post twice.
        log.exception("weekly summary %s: the chart could not be uploaded", summary.week.label)
    return PostedSummary(channel, ts, file_id)


def post_summary(
    services: Services,
    summary: WeeklySummary,
    destinations: list[SummaryDestination],
    *,
    key: str | None = None,
) -> list[PostedSummary]:
    """Post to every destination; raise only when none of them got it (so a retry is right)."""
    posted: list[PostedSummary] = []
    failure: Exception | None = None
    for destination in destinations:
        try:
            posted.append(post_to(services, summary, destination, key=key))
        except SlackApiError as exc:
            failure = exc
            log.warning(
                "weekly summary %s could not be posted to %s: %s",
                summary.week.label,
                destination.channel,
                exc.response.get("error"),
            )
    if destinations and not posted and failure is not None:
        raise failure
    return posted


def already_posted(services: Services, destination: SummaryDestination, key: str) -> bool | None:
    """Whether the summary `key` is among the destination's latest messages; None when Slack
    would not say (a missing history scope, the channel gone)."""
    try:
        found = find_message_by_metadata(
            services.client,
            destination.channel,
            SUMMARY_EVENT,
            lambda payload: payload.get("key") == key,
            limit=100,
        )
    except SlackApiError as exc:
        log.warning(
            "cannot tell whether summary %s reached %s: %s",
            key,
            destination.channel,
            exc.response.get("error"),
        )
        return None
    return found is not None


def preview_blocks(texts: Texts, summary: WeeklySummary) -> list[Block]:
    blocks = summary_blocks(texts, summary)
    note = ContextBlock(elements=[MarkdownTextObject(text=texts("summary.preview_note"))])
    return [blocks[0], note, *blocks[1:]][:MAX_BLOCKS]


def send_preview(
    services: Services,
    *,
    user_id: str,
    channel_id: str | None,
    language: Language,
    week: SummaryWeek,
    now: datetime,
) -> None:
    """A manager's private preview: an ephemeral in the channel they asked from, else a DM."""
    texts = Texts(language)
    summary = compute_summary(services, week, now)
    blocks = preview_blocks(texts, summary)
    text = summary_fallback(texts, summary)
    if channel_id:
        try:
            services.client.chat_postEphemeral(
                channel=channel_id, user=user_id, text=text, blocks=blocks
            )
            return
        except SlackApiError as exc:  # e.g. the bot is not in that channel
            log.info("summary preview as an ephemeral failed (%s); sending a DM", exc)
    services.client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
