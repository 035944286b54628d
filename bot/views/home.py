"""The App Home tab: what each person has waiting for them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.i18n import Texts
from bot.parsing.money import MoneyByCurrency
from bot.summary import RunSummary
from bot.surveys.results import signed
from bot.surveys.service import AnsweredSurvey, OpenSurvey
from bot.views.common import clip, escape, when
from bot.views.deals import totals
from bot.views.intervals import enps_interval
from bot.views.surveys import OPEN_ANSWERS_ACTION, survey_title

HOME_SUMMARY_ACTION = "home.summary"
HOME_RESULTS_ACTION = "home.results"
MAX_OPEN_SURVEYS = 5


@dataclass(frozen=True, slots=True)
class ManagerGlance:
    latest: RunSummary | None
    min_responses: int
    open_count: int
    weighted: MoneyByCurrency
    stale_count: int
    currency: str


def _open_survey_blocks(texts: Texts, surveys: Sequence[OpenSurvey]) -> list[Block]:
    header = f"*{texts('home.surveys_header')}*"
    if not surveys:
        return [SectionBlock(text=f"{header}\n{texts('home.surveys_empty')}")]
    blocks: list[Block] = [SectionBlock(text=header)]
    for survey in surveys[:MAX_OPEN_SURVEYS]:
        closes = when(texts, survey.closes_at)
        key = "home.survey_answered" if survey.answered else "home.survey_open"
        blocks.append(
            SectionBlock(
                block_id=f"home_survey:{survey.run_id}",
                text=texts(
                    key, title=escape(survey_title(texts, survey.definition)), closes=closes
                ),
                accessory=ButtonElement(
                    text=texts("home.change" if survey.answered else "home.answer"),
                    action_id=OPEN_ANSWERS_ACTION,
                    value=str(survey.run_id),
                    style=None if survey.answered else "primary",
                ),
            )
        )
    return blocks


def _answered_blocks(texts: Texts, answered: Sequence[AnsweredSurvey]) -> list[Block]:
    if not answered:
        return []
    lines = [f"*{texts('home.past_header')}*"]
    for survey in answered:
        lines.append(
            texts(
                "home.past_survey",
                title=escape(survey_title(texts, survey.definition)),
                closed=texts.short_date(survey.closed_at),
            )
        )
    return [
        SectionBlock(text=clip("\n".join(lines))),
        ContextBlock(elements=[MarkdownTextObject(text=texts("home.past_private"))]),
    ]


def _manager_blocks(texts: Texts, glance: ManagerGlance) -> list[Block]:
    language = texts.language
    lines = [f"*{texts('home.manager_header')}*"]
    latest = glance.latest
    buttons = [
        ButtonElement(
            text=texts("home.summary_button"), action_id=HOME_SUMMARY_ACTION, value="latest"
        )
    ]
    if latest is None:
        lines.append(texts("home.no_results"))
    else:
        lines.append(
            texts(
                "home.latest_run",
                title=escape(survey_title(texts, latest.definition)),
                number=latest.run_number,
                answered=latest.answered,
                invited=latest.invited,
                rate=texts.percent(latest.participation),
            )
        )
        if latest.hidden:
            lines.append(
                texts("summary.run_hidden", answered=latest.answered, needed=glance.min_responses)
            )
        elif latest.enps is not None:
            lines.append(texts("summary.enps", score=signed(latest.enps)))
            interval = enps_interval(
                texts, latest.enps_interval, answered=latest.answered, invited=latest.invited
            )
            if interval:
                lines.append(f"_{interval}_")
        buttons.insert(
            0,
            ButtonElement(
                text=texts("home.results_button"),
                action_id=HOME_RESULTS_ACTION,
                value=latest.survey_name,
            ),
        )
    lines.append(
        texts(
            "home.pipeline_glance",
            open_deals=texts.plural("count.open_deals", glance.open_count),
            weighted=totals(glance.weighted, language, glance.currency),
            stale=glance.stale_count,
        )
    )
    return [
        SectionBlock(text=clip("\n".join(lines))),
        ActionsBlock(block_id="home_manager", elements=buttons),
        ContextBlock(elements=[MarkdownTextObject(text=texts("home.manager_hint"))]),
    ]


def home_view(
    texts: Texts,
    *,
    name: str,
    is_manager: bool,
    deal_blocks: Sequence[Block] = (),
    open_surveys: Sequence[OpenSurvey] = (),
    answered: Sequence[AnsweredSurvey] = (),
    glance: ManagerGlance | None = None,
    oneonone_blocks: Sequence[Block] = (),
) -> View:
    blocks: list[Block] = [
        HeaderBlock(text=texts("home.title")),
        SectionBlock(text=texts("home.welcome", name=name)),
        DividerBlock(),
        *_open_survey_blocks(texts, open_surveys),
        *_answered_blocks(texts, answered),
        *([DividerBlock(), *oneonone_blocks] if oneonone_blocks else []),
        DividerBlock(),
        *(
            deal_blocks
            or [SectionBlock(text=f"*{texts('home.deals_header')}*\n{texts('home.deals_empty')}")]
        ),
    ]
    if is_manager and glance is not None:
        blocks += [DividerBlock(), *_manager_blocks(texts, glance)]
    elif is_manager:
        blocks += [
            DividerBlock(),
            SectionBlock(text=f"*{texts('home.manager_header')}*\n{texts('home.manager_hint')}"),
        ]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=texts("home.help_hint"))]))
    return View(type="home", blocks=blocks[:100])


def unavailable_home(texts: Texts, message: str) -> View:
    """The Home tab when it cannot be built (the database is down): what happened, no data."""
    return View(
        type="home",
        blocks=[HeaderBlock(text=texts("home.title")), SectionBlock(text=message)],
    )
