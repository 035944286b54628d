"""Block Kit for the weekly manager summary, within Slack's limits (50 blocks, 3,000 a section)."""

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

from bot.i18n import Texts
from bot.parsing.money import MoneyByCurrency
from bot.summary import DealLine, RunSummary, TeamLine, WeeklySummary
from bot.surveys.results import signed
from bot.views.common import SECTION_TEXT_LIMIT, clip, escape
from bot.views.deals import money, stage_label, totals
from bot.views.intervals import (
    change_verdict,
    enps_interval,
    rate_interval,
    short_interval,
    trend_point,
)
from bot.views.surveys import question_text, survey_title

MAX_BLOCKS = 50  # Slack's limit for one message
MAX_RUNS = 8  # runs listed one by one; the rest are counted
MAX_LINES = 10  # deals per list (won, lost, stale)
MAX_COMMENTS = 5  # comments quoted per run
HEADER_LIMIT = 150


def capped_lines(
    texts: Texts,
    title: str,
    lines: Sequence[str],
    *,
    total: int | None = None,
    max_lines: int = MAX_LINES,
    limit: int = SECTION_TEXT_LIMIT,
) -> str:
    """A title and as many lines as fit (count and characters), then "…and N more"."""
    total = len(lines) if total is None else total
    shown: list[str] = []
    for line in lines[:max_lines]:
        candidate = "\n".join([title, *shown, line])
        # Leave room for the "and N more" line that may follow.
        if len(candidate) + 40 > limit:
            break
        shown.append(line)
    text = "\n".join([title, *shown])
    if total > len(shown):
        text += "\n" + texts("common.and_more", count=total - len(shown))
    return clip(text, limit)


def _deal_text(texts: Texts, deal: DealLine, language: str) -> str:
    owner = escape(deal.owner_name) if deal.owner_name else f"<@{deal.owner_id}>"
    amount = money(deal.amount, deal.currency, language) if deal.amount is not None else "—"
    return texts("summary.deal_line", name=escape(deal.name), amount=amount, owner=owner)


def _run_text(texts: Texts, run: RunSummary, min_responses: int) -> str:
    definition = run.definition
    title = escape(survey_title(texts, definition))
    lines = [
        texts(
            "summary.run_title", title=title, number=run.run_number, name=escape(run.survey_name)
        ),
        texts(
            "summary.participation",
            answered=run.answered,
            invited=run.invited,
            rate=texts.percent(run.participation),
        ),
    ]
    if run.hidden:
        lines.append(texts("summary.run_hidden", answered=run.answered, needed=min_responses))
        if run.comment_count:
            lines.append(
                texts(
                    "summary.comments_hidden",
                    comments=texts.plural("count.new_comments", run.comment_count),
                )
            )
        return "\n".join(lines)
    if run.enps is not None:
        change = (
            ""
            if run.enps_change is None
            else " " + texts("summary.change", change=signed(run.enps_change))
        )
        verdict = (
            change_verdict(texts, run.enps_interval.real) if change and run.enps_interval else ""
        )
        lines.append(texts("summary.enps", score=signed(run.enps)) + change + verdict)
        interval = enps_interval(
            texts, run.enps_interval, answered=run.answered, invited=run.invited
        )
        if interval:
            lines.append(f"_{interval}_")
    for team in run.teams:
        lines.append(_team_text(texts, team))
    for key, score in (("summary.lowest", run.lowest), ("summary.highest", run.highest)):
        if score is not None:
            question = escape(question_text(texts, definition.questions[score.index]))
            interval = short_interval(texts, score.interval, mean=True)
            lines.append(texts(key, question=question, mean=texts.number(score.mean, 1)) + interval)
    if run.comment_count and not run.comments:
        lines.append(
            texts(
                "summary.comments_hidden",
                comments=texts.plural("count.new_comments", run.comment_count),
            )
        )
    elif run.comments:
        lines.append(
            texts(
                "summary.comments", comments=texts.plural("count.new_comments", run.comment_count)
            )
        )
        quoted = ["> " + escape(clip(c, 300)).replace("\n", "\n> ") for c in run.comments]
        body = capped_lines(
            texts, "\n".join(lines), quoted, max_lines=MAX_COMMENTS, limit=SECTION_TEXT_LIMIT
        )
        return body
    return "\n".join(lines)


def _team_text(texts: Texts, team: TeamLine) -> str:
    name = f"<#{team.channel}>"
    if team.hidden:
        return "• " + texts("pulse.results.team_hidden", team=name)
    line = texts("pulse.results.team", team=name, answered=team.answered, invited=team.invited)
    if team.enps is None:
        return "• " + line
    return (
        "• " + line + f" · eNPS *{signed(team.enps)}*" + short_interval(texts, team.enps_interval)
    )


def _change(texts: Texts, change: MoneyByCurrency, language: str, currency: str) -> str:
    if not change:
        return texts("summary.no_change")
    parts = []
    for code, amount in sorted(change.items()):
        sign = "+" if amount > 0 else "−"
        parts.append(sign + money(abs(amount), code, language))
    return " ".join(parts)


def _funnel_table(texts: Texts, summary: WeeklySummary, language: str) -> str:
    rows = [texts("summary.funnel_header")]
    for stage in summary.pipeline.funnel:
        days = "—" if stage.average_days is None else texts.number(stage.average_days, 1)
        rows.append(
            f"{stage_label(texts, stage.stage)[:12]:<12} {stage.open_count:>5} "
            f"{totals(stage.open_amount, language, summary.currency):>14} "
            f"{stage.entered:>5} {texts.percent(stage.conversion):>5} {days:>6}"
        )
    table = "```" + "\n".join(rows) + "```"
    rates = [
        f"{stage_label(texts, stage.stage)} {rate_interval(texts, stage.conversion_interval)}"
        for stage in summary.pipeline.funnel
        if stage.conversion_interval is not None
    ]
    if not rates:
        return table
    confidence = summary.pipeline.funnel[0].confidence
    return (
        table + "\n" + texts("stats.conversions", confidence=confidence, stages=" · ".join(rates))
    )


def summary_blocks(texts: Texts, summary: WeeklySummary) -> list[Block]:
    """The summary message: pulse, then pipeline; an empty week says so in one line."""
    language = texts.language
    currency = summary.currency
    week = summary.week
    pipeline = summary.pipeline
    blocks: list[Block] = [
        HeaderBlock(
            text=clip(
                texts("summary.title", week=texts.week_of(week.first_day)),
                HEADER_LIMIT,
            )
        )
    ]
    weighted_line = texts(
        "summary.weighted",
        amount=totals(pipeline.weighted, language, currency),
        change=_change(texts, pipeline.weighted_change, language, currency),
    )
    if summary.empty:
        blocks.append(SectionBlock(text=texts("summary.empty")))
        blocks.append(SectionBlock(text=weighted_line))
        return blocks + _oneonone_blocks(texts, summary)

    # Pulse
    blocks.append(SectionBlock(text=f"*{texts('summary.pulse_header')}*"))
    if not summary.runs:
        blocks.append(SectionBlock(text=texts("summary.no_runs")))
    for run in summary.runs[:MAX_RUNS]:
        blocks.append(SectionBlock(text=clip(_run_text(texts, run, summary.min_responses))))
    if len(summary.runs) > MAX_RUNS:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=texts("common.and_more", count=len(summary.runs) - MAX_RUNS)
                    )
                ]
            )
        )
    trend = [p for p in summary.enps_trend if p.score is not None]
    if len(trend) > 1:
        points = " → ".join(trend_point(texts, signed(p.score or 0), p.interval) for p in trend)
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=texts("summary.enps_trend", points=points))]
            )
        )

    # Pipeline
    blocks.append(DividerBlock())
    blocks.append(SectionBlock(text=f"*{texts('summary.pipeline_header')}*\n{weighted_line}"))
    blocks.append(
        SectionBlock(
            fields=[
                MarkdownTextObject(
                    text=texts(
                        "summary.created",
                        count=pipeline.created,
                        amount=totals(pipeline.created_amount, language, currency),
                    )
                ),
                MarkdownTextObject(text=texts("summary.advanced", count=pipeline.advanced)),
                MarkdownTextObject(
                    text=texts(
                        "summary.won",
                        count=len(pipeline.won),
                        amount=totals(pipeline.won_amount, language, currency),
                    )
                ),
                MarkdownTextObject(
                    text=texts(
                        "summary.lost",
                        count=len(pipeline.lost),
                        amount=totals(pipeline.lost_amount, language, currency),
                    )
                ),
            ]
        )
    )
    if pipeline.won:
        blocks.append(
            SectionBlock(
                text=capped_lines(
                    texts,
                    f"*{texts('summary.won_header')}*",
                    [_deal_text(texts, d, language) for d in pipeline.won],
                )
            )
        )
    if pipeline.lost:
        lines = [
            _deal_text(texts, d, language)
            + " — "
            + escape(clip(d.detail or texts("summary.no_reason"), 200))
            for d in pipeline.lost
        ]
        blocks.append(
            SectionBlock(text=capped_lines(texts, f"*{texts('summary.lost_header')}*", lines))
        )
    blocks.append(
        SectionBlock(
            text=clip(
                f"*{texts('summary.funnel_title')}*\n" + _funnel_table(texts, summary, language)
            )
        )
    )
    if pipeline.stale_count:
        lines = [
            _deal_text(texts, d, language)
            + " · "
            + texts(
                "summary.idle",
                stage=stage_label(texts, d.stage),
                days=texts.plural("count.days", int(d.detail or 0)),
            )
            for d in pipeline.stale
        ]
        blocks.append(
            SectionBlock(
                text=capped_lines(
                    texts,
                    f"*{texts('summary.stale_header', count=pipeline.stale_count)}*",
                    lines,
                    total=pipeline.stale_count,
                )
            )
        )
    blocks += _oneonone_blocks(texts, summary)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(text=texts("summary.footer", needed=summary.min_responses))
            ]
        )
    )
    return blocks[:MAX_BLOCKS]


def _oneonone_blocks(texts: Texts, summary: WeeklySummary) -> list[Block]:
    """One line of 1:1 counts (never whose), when there are any 1:1s to count."""
    counts = summary.oneonones
    if counts is None or not (counts.held or counts.skipped or counts.overdue):
        return []
    line = texts(
        "oneonone.summary_line", held=counts.held, skipped=counts.skipped, overdue=counts.overdue
    )
    return [SectionBlock(text=line)]


def summary_fallback(texts: Texts, summary: WeeklySummary) -> str:
    return texts("summary.fallback", week=texts.week_of(summary.week.first_day))
