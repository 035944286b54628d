"""Small building blocks shared by every view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from slack_sdk.models.blocks import Block, SectionBlock

from bot.i18n import Texts

# Slack's limits for one section's text; longer text is cut with an ellipsis.
SECTION_TEXT_LIMIT = 3000


def escape(text: str) -> str:
    """User text inside mrkdwn: no accidental mentions, links or formatting control."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int = SECTION_TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def line_sections(lines: Sequence[str], limit: int = SECTION_TEXT_LIMIT) -> list[Block]:
    """Lines packed into as few sections as fit Slack's limit, in order; a line longer than
    a whole section is clipped, and no section is ever empty."""
    sections: list[Block] = []
    packed: list[str] = []
    for clipped in (clip(line, limit) for line in lines):
        if packed and len("\n".join([*packed, clipped])) > limit:
            sections.append(SectionBlock(text="\n".join(packed)))
            packed = []
        packed.append(clipped)
    if packed:
        sections.append(SectionBlock(text="\n".join(packed)))
    return sections


def notice(text: str) -> list[Block]:
    """A one-section message: confirmations and errors."""
    return [SectionBlock(text=clip(text))]


def error_blocks(texts: Texts, key: str, **params: object) -> list[Block]:
    return notice(":warning: " + texts(key, **params))


def fallback_text(blocks: list[Block], default: str = "pulsebot") -> str:
    """The notification text Slack shows beside blocks: the first header's or section's text."""
    for block in blocks:
        text = getattr(block, "text", None)
        value = getattr(text, "text", None) if text is not None else None
        if isinstance(value, str) and value.strip():
            # A message's `text` is read as mrkdwn: plain text from a header must be escaped.
            plain = getattr(text, "type", None) == "plain_text"
            return clip(escape(value.strip()) if plain else value.strip(), 300)
    return default


def when(texts: Texts, moment: datetime) -> str:
    """A moment Slack shows in each reader's own time zone; where Slack cannot (notifications,
    old clients) the reader sees it written in their language, in UTC."""
    fallback = texts.day_time(moment.astimezone(UTC))
    return f"<!date^{int(moment.timestamp())}^{{date_long_pretty}} {{time}}|{fallback} UTC>"
