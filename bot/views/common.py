"""Small building blocks shared by every view."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, SectionBlock

from bot.i18n import Texts

# Slack's limits for one section's text; longer text is cut with an ellipsis.
SECTION_TEXT_LIMIT = 3000


def clip(text: str, limit: int = SECTION_TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def notice(text: str) -> list[Block]:
    """A one-section message: confirmations and errors."""
    return [SectionBlock(text=clip(text))]


def error_blocks(texts: Texts, key: str, **params: object) -> list[Block]:
    return notice(":warning: " + texts(key, **params))
