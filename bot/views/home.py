"""The App Home tab: what each person has waiting for them."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.i18n import Texts


def home_view(
    texts: Texts, *, name: str, is_manager: bool, deal_blocks: Sequence[Block] = ()
) -> View:
    blocks: list[Block] = [
        HeaderBlock(text=texts("home.title")),
        SectionBlock(text=texts("home.welcome", name=name)),
        DividerBlock(),
        SectionBlock(text=f"*{texts('home.surveys_header')}*\n{texts('home.surveys_empty')}"),
        DividerBlock(),
        *(
            deal_blocks
            or [SectionBlock(text=f"*{texts('home.deals_header')}*\n{texts('home.deals_empty')}")]
        ),
    ]
    if is_manager:
        blocks += [
            DividerBlock(),
            SectionBlock(text=f"*{texts('home.manager_header')}*\n{texts('home.manager_hint')}"),
        ]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=texts("home.help_hint"))]))
    return View(type="home", blocks=blocks)
