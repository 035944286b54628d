"""The `/deal help` and `/pulse help` command references."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.i18n import Texts
from bot.views.common import clip


def deal_help(texts: Texts, *, stages: str) -> list[Block]:
    """`stages` is the configured pipeline as the reader sees it, e.g. `lead → … → won / lost`."""
    return [
        HeaderBlock(text=texts("deal.help.title")),
        SectionBlock(text=clip(texts("deal.help.intro", stages=stages))),
        SectionBlock(text=clip(texts("deal.help.usage").strip())),
        DividerBlock(),
        ContextBlock(
            elements=[
                MarkdownTextObject(text=texts("deal.help.examples")),
                MarkdownTextObject(text=texts("deal.help.formats")),
            ]
        ),
    ]


def pulse_help(texts: Texts, *, min_responses: int, confidence: int = 95) -> list[Block]:
    return [
        HeaderBlock(text=texts("pulse.help.title")),
        SectionBlock(text=texts("pulse.help.intro")),
        SectionBlock(text=clip(texts("pulse.help.usage").strip())),
        DividerBlock(),
        ContextBlock(
            elements=[
                MarkdownTextObject(text=texts("pulse.help.anonymity", min_responses=min_responses)),
                MarkdownTextObject(text=texts("pulse.help.managers_note")),
                MarkdownTextObject(text=texts("stats.help", confidence=confidence)),
            ]
        ),
    ]


def privacy_blocks(texts: Texts, *, min_responses: int, double: int) -> list[Block]:
    """`/pulse privacy`: what is stored, who sees what, what an operator could do."""
    parts = ("stored", "managers", "slack", "operator")
    return [
        HeaderBlock(text=texts("pulse.privacy.title")),
        *(
            SectionBlock(
                text=clip(texts(f"pulse.privacy.{part}", needed=min_responses, double=double))
            )
            for part in parts
        ),
        ContextBlock(elements=[MarkdownTextObject(text=texts("pulse.privacy.footer"))]),
    ]
