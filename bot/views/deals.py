"""Block Kit for deals: replies to `/deal`, the deal card, lists, the pipeline, modals, nudges."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.deals.commands import (
    CommandResult,
    DealChoice,
    DealListing,
    ExportRequested,
    Refusal,
    ShowHelp,
)
from bot.deals.metrics import MIN_CLOSED_DEALS, PipelineReport
from bot.deals.service import DealCard, DealChange, DealView, EventView
from bot.deals.stages import LOST, WON, Pipeline
from bot.i18n import Language, Texts
from bot.parsing.money import MoneyByCurrency, add_amount
from bot.views.common import clip, escape, line_sections, notice, when
from bot.views.help import deal_help
from bot.views.intervals import not_enough_closed, rate_interval

# Action and callback ids: the contract between these views and handlers/deals.py.
ADVANCE = "deal_advance"
WIN = "deal_won"
NOTE = "deal_note"
LOSE = "deal_lost"
SNOOZE = "deal_snooze"
NEW_MODAL = "deal_new_modal"
NOTE_MODAL = "deal_note_modal"
LOST_MODAL = "deal_lost_modal"
CHOOSE = "deal_choose"  # + "_<n>": one button per deal offered by deal_choice
MAX_BUTTON_VALUE = 2000  # Slack's limit on a button's value

MAX_LISTED = 30
MAX_DIGEST_DEALS = 10
MAX_HOME_DEALS = 12


def money(amount: Decimal | None, currency: str, language: str) -> str:
    return Texts(cast(Language, language)).money(amount, currency)


def totals(amounts: MoneyByCurrency, language: str, default_currency: str) -> str:
    if not amounts:
        return money(Decimal(0), default_currency, language)
    return " + ".join(money(v, c, language) for c, v in sorted(amounts.items()))


def stage_label(texts: Texts, stage: str) -> str:
    key = f"deal.stage.{stage}"
    return texts(key) if texts.has(key) else stage


def day(value: date, texts: Texts) -> str:
    """A date in lists and cards: `Thu 10 Dec 2026` / `gio 10 dic 2026`."""
    return texts.short_date(value)


def _button(
    texts: Texts, key: str, action_id: str, deal_id: int, style: str | None = None
) -> ButtonElement:
    return ButtonElement(text=texts(key), action_id=action_id, value=str(deal_id), style=style)


def deal_actions(texts: Texts, deal: DealView, *, snooze: bool = False) -> ActionsBlock:
    buttons = [
        _button(texts, "deal.button.advance", ADVANCE, deal.id, "primary"),
        _button(texts, "deal.button.note", NOTE, deal.id),
    ]
    if snooze:
        buttons.append(_button(texts, "deal.button.snooze", SNOOZE, deal.id))
    buttons += [
        _button(texts, "deal.button.won", WIN, deal.id),
        _button(texts, "deal.button.lost", LOSE, deal.id, "danger"),
    ]
    return ActionsBlock(block_id=f"deal_actions_{deal.id}", elements=buttons)


def deal_line(texts: Texts, deal: DealView, language: str) -> str:
    parts = [
        f"*{escape(deal.name)}* (#{deal.id})",
        stage_label(texts, deal.stage),
        money(deal.amount, deal.currency, language),
        f"<@{deal.owner_id}>",
    ]
    line = " · ".join(parts)
    if deal.stale:
        line += " · :hourglass: " + texts("deal.stale_flag")
    if deal.next_step:
        due = (
            f" ({texts('deal.due', date=day(deal.next_step_due, texts))})"
            if deal.next_step_due
            else ""
        )
        line += f"\n      ↳ {escape(deal.next_step)}{due}"
    return line


# -- replies to commands ------------------------------------------------------------------------


def change_reply(texts: Texts, change: DealChange, language: str) -> list[Block]:
    deal = change.deal
    name = escape(deal.name)
    params = {
        "name": name,
        "id": str(deal.id),
        "from": stage_label(texts, change.from_stage or ""),
        "to": stage_label(texts, change.to_stage or ""),
        "amount": money(deal.amount, deal.currency, language),
        "owner": f"<@{deal.owner_id}>",
        "detail": escape(change.detail or ""),
    }
    if change.kind == "snoozed" and change.detail:  # the day the reminders start again
        params["detail"] = texts.long_date(date.fromisoformat(change.detail))
    text = ":white_check_mark: " + texts(f"deal.changed.{change.kind}", **params)
    if change.kind in {"advanced", "back", "stage", "reopened", "won", "lost"} and change.detail:
        text += "\n> " + escape(change.detail)
    if change.kind == "next" and deal.next_step_due:
        text += f" ({texts('deal.due', date=day(deal.next_step_due, texts))})"
    if change.kind == "advanced" and deal.at_last_open_stage:
        text += "\n" + texts("deal.hint_close")
    blocks: list[Block] = [SectionBlock(text=clip(text))]
    if deal.is_open:
        blocks.append(deal_actions(texts, deal))
    return blocks


def card(texts: Texts, result: DealCard, language: str) -> list[Block]:
    deal = result.deal
    fields = [
        MarkdownTextObject(
            text=f"*{texts('deal.field.stage')}*\n{stage_label(texts, deal.stage)} ({deal.probability}%)"
        ),
        MarkdownTextObject(
            text=f"*{texts('deal.field.amount')}*\n{money(deal.amount, deal.currency, language)}"
        ),
        MarkdownTextObject(text=f"*{texts('deal.field.owner')}*\n<@{deal.owner_id}>"),
        MarkdownTextObject(
            text=f"*{texts('deal.field.last_activity')}*\n{when(texts, deal.last_activity_at)}"
            + (f"\n:hourglass: {texts('deal.stale_flag')}" if deal.stale else "")
        ),
    ]
    if deal.source:
        fields.append(
            MarkdownTextObject(text=f"*{texts('deal.field.source')}*\n{escape(deal.source)}")
        )
    if deal.close_date:
        fields.append(
            MarkdownTextObject(text=f"*{texts('deal.field.close')}*\n{day(deal.close_date, texts)}")
        )
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"{deal.name} (#{deal.id})", 150)),
        SectionBlock(fields=fields),
    ]
    if deal.next_step:
        due = (
            f" — {texts('deal.due', date=day(deal.next_step_due, texts))}"
            if deal.next_step_due
            else ""
        )
        blocks.append(
            SectionBlock(
                text=clip(f"*{texts('deal.field.next_step')}*\n{escape(deal.next_step)}{due}")
            )
        )
    if deal.lost_reason:
        blocks.append(
            SectionBlock(
                text=clip(f"*{texts('deal.field.lost_reason')}*\n{escape(deal.lost_reason)}")
            )
        )
    if result.history:
        lines = [history_line(texts, event) for event in result.history]
        blocks.append(DividerBlock())
        blocks.append(
            SectionBlock(text=clip(f"*{texts('deal.field.history')}*\n" + "\n".join(lines)))
        )
    if deal.is_open:
        blocks.append(deal_actions(texts, deal))
    return blocks


def history_line(texts: Texts, event: EventView) -> str:
    who = f"<@{event.actor_id}>"
    if event.kind in {"stage", "created"}:
        what = texts(
            f"deal.history.{event.kind}",
            from_=stage_label(texts, event.from_stage or ""),
            to=stage_label(texts, event.to_stage or ""),
        )
    else:
        what = texts(f"deal.history.{event.kind}")
    line = f"• {when(texts, event.at)} {who}: {what}"
    if event.note:
        line += f" — _{escape(clip(event.note, 200))}_"
    if event.changes and event.kind in {"amount", "owner", "next_step"}:
        shown = _changes(texts, event.changes)
        if shown:
            line += " (" + "; ".join(shown) + ")"
    return line


def _changes(texts: Texts, changes: dict[str, Any]) -> list[str]:
    """What an event changed, field by field, in the reader's words (not `next_step_due`)."""
    values: dict[str, tuple[object, object]] = {
        field: (old, new) for field, (old, new) in changes.items()
    }
    if "amount" in values:  # the amount and its currency read as one sum of money
        currencies = values.pop("currency", (None, None))
        before, after = (
            _money_text(texts, amount, str(currency or ""))
            for amount, currency in zip(values["amount"], currencies, strict=True)
        )
        values["amount"] = (before, after)
    shown = []
    for field, (old, new) in values.items():
        if old == new:
            continue
        label = (
            texts(f"deal.history_field.{field}")
            if texts.has(f"deal.history_field.{field}")
            else field
        )
        shown.append(
            f"{label}: {_changed_value(texts, field, old)} → {_changed_value(texts, field, new)}"
        )
    return shown


def _money_text(texts: Texts, amount: object, currency: str) -> str | None:
    if amount in (None, ""):
        return None
    return texts.money(Decimal(str(amount)), currency) if currency else str(amount)


def _changed_value(texts: Texts, field: str, value: object) -> str:
    if not value:
        return "—"
    if field == "owner":  # a user id: as a mention Slack shows the person, not "U05OSMITH"
        return f"<@{escape(str(value))}>"
    if field in {"next_step_due", "snoozed_until"}:
        return texts.short_date(date.fromisoformat(str(value)[:10]))
    return escape(str(value))


def listing(texts: Texts, result: DealListing, language: str) -> list[Block]:
    subject = result.subject or ""
    if result.title_key == "user":
        subject = f"<@{subject}>"
    elif result.title_key == "stage":
        subject = stage_label(texts, subject)
    title = texts(f"deal.list.title_{result.title_key}", subject=subject, count=result.total)
    heading = f"*{title}*" + (f"\n{texts('deal.list.own_only')}" if result.own_only else "")
    if not result.deals:
        return [SectionBlock(text=f"{heading}\n{texts('deal.list.empty')}")]
    blocks: list[Block] = [SectionBlock(text=heading)]
    blocks += line_sections(
        ["• " + deal_line(texts, d, language) for d in result.deals[:MAX_LISTED]]
    )
    if result.total > len(result.deals):
        more = result.total - len(result.deals)
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=texts("common.and_more", count=more))])
        )
    return blocks


def pipeline(texts: Texts, report: PipelineReport, language: str, currency: str) -> list[Block]:
    rows = [texts("deal.pipeline.table_header")]
    for line in report.stages:
        conversion = texts.percent(line.conversion_rate) if line.conversion else "—"
        days = "—" if line.average_days is None else texts.number(line.average_days, 1)
        rows.append(
            f"{stage_label(texts, line.stage)[:12]:<12} {line.probability:>3}% {line.count:>4} "
            f"{totals(line.amounts, language, currency):>14} {totals(line.weighted, language, currency):>14} "
            f"{conversion:>5} {days:>6}"
        )
    table = "```" + "\n".join(rows) + "```"
    rates = [
        f"{stage_label(texts, line.stage)} {rate_interval(texts, line.conversion_interval)}"
        for line in report.stages
        if line.conversion_interval is not None
    ]
    if rates:
        table += "\n" + texts(
            "stats.stage_conversions", confidence=report.confidence, stages=" · ".join(rates)
        )
    velocity = report.shown_velocity
    summary = [
        MarkdownTextObject(
            text=f"*{texts('deal.pipeline.open')}*\n{report.open_count} · {totals(report.open_amount, language, currency)}"
        ),
        MarkdownTextObject(
            text=f"*{texts('deal.pipeline.weighted')}*\n{totals(report.weighted_total, language, currency)}"
        ),
        MarkdownTextObject(
            text=f"*{texts('deal.pipeline.win_rate')}*\n{rate_interval(texts, report.win_rate_interval)} ({report.won}/{report.won + report.lost})"
        ),
        MarkdownTextObject(
            text=f"*{texts('deal.pipeline.velocity')}*\n"
            + (
                texts("deal.pipeline.per_day", amount=totals(velocity, language, currency))
                if velocity
                else ("—" if report.enough_closed else not_enough_closed(texts, report.closed))
            )
        ),
        MarkdownTextObject(
            text=f"*{texts('deal.pipeline.cycle')}*\n"
            + (
                (not_enough_closed(texts, report.closed) if not report.enough_closed else "—")
                if report.shown_cycle_days is None
                else texts("deal.pipeline.days", days=texts.number(report.shown_cycle_days, 1))
            )
        ),
        MarkdownTextObject(text=f"*{texts('deal.pipeline.stale')}*\n{report.stale_count}"),
    ]
    blocks: list[Block] = [
        HeaderBlock(text=texts("deal.pipeline.title")),
        SectionBlock(text=clip(table)),
        SectionBlock(fields=summary),
    ]
    if report.sources:
        lines = []
        for source in report.sources[:10]:
            rate = rate_interval(texts, report.source_win_rate(source))
            name = escape(source.source) if source.source else texts("deal.pipeline.no_source")
            lines.append(
                texts(
                    "deal.pipeline.source_line",
                    source=name,
                    deals=texts.plural("count.deals", source.total),
                    won=texts.plural("count.won", source.won),
                    rate=rate,
                )
            )
        blocks.append(
            SectionBlock(text=clip(f"*{texts('deal.pipeline.sources')}*\n" + "\n".join(lines)))
        )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=texts("deal.pipeline.explain"))]))
    note = texts("stats.rates_note", confidence=report.confidence, minimum=MIN_CLOSED_DEALS)
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    return blocks


def command_reply(texts: Texts, result: CommandResult, language: str, currency: str) -> list[Block]:
    """The blocks of the private reply to a `/deal` command."""
    if isinstance(result, ShowHelp):
        path = [stage_label(texts, stage) for stage in result.open_stages]
        closed = f"{stage_label(texts, WON)} / {stage_label(texts, LOST)}"
        blocks = deal_help(texts, stages=" → ".join([*path, closed]))
        if result.unknown:
            intro = texts("common.unknown_subcommand", command="/deal", subcommand=result.unknown)
            return notice(intro) + blocks
        return blocks
    if isinstance(result, Refusal):
        return refusal(texts, result)
    if isinstance(result, DealChoice):
        return deal_choice(texts, result)
    if isinstance(result, DealChange):
        return change_reply(texts, result, language)
    if isinstance(result, DealCard):
        return card(texts, result, language)
    if isinstance(result, DealListing):
        return listing(texts, result, language)
    if isinstance(result, PipelineReport):
        return pipeline(texts, result, language, currency)
    if isinstance(result, ExportRequested):
        return notice(texts("deal.export.preparing"))
    raise TypeError(f"no view for {type(result).__name__}")


def chosen_deal_value(subcommand: str, deal_id: int, rest: Sequence[str]) -> str:
    """What a DealChoice button carries: the command to carry out on its deal."""
    return json.dumps({"command": subcommand, "deal": deal_id, "rest": list(rest)})


def deal_choice(texts: Texts, choice: DealChoice) -> list[Block]:
    """ "Which deal?": one button per deal; the click answers in place of this message."""
    key = "deal.choose.ambiguous" if choice.ambiguous else "deal.choose.suggest"
    blocks: list[Block] = [SectionBlock(text=clip(texts(key, typed=escape(choice.typed))))]
    buttons = []
    for number, option in enumerate(choice.options):
        value = chosen_deal_value(choice.subcommand, option.deal_id, option.rest)
        if len(value) > MAX_BUTTON_VALUE:  # a note too long to carry: type it again
            value = chosen_deal_value(choice.subcommand, option.deal_id, [])
        label = f"{option.name} (#{option.deal_id})"
        buttons.append(
            ButtonElement(
                text=label if len(label) <= 75 else label[:74] + "…",
                action_id=f"{CHOOSE}_{number}",
                value=value,
            )
        )
    blocks.append(ActionsBlock(block_id="deal_choose", elements=buttons))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=texts("deal.choose.hint"))]))
    return blocks


def refusal(texts: Texts, result: Refusal) -> list[Block]:
    params = {key: escape(value) for key, value in result.params.items()}
    # The parts of a command are named in the reader's words (`what`: `deal`, `part`: `amount`).
    for name in ("what", "part"):
        word = params.get(name)
        if word and texts.has(f"words.{word}"):
            params[name] = texts(f"words.{word}")
    text = ":warning: " + texts(f"errors.{result.key}", **params)
    if result.usage:
        text += "\n" + texts("common.usage", usage=result.usage)
    return [SectionBlock(text=clip(text))]


# -- modals --------------------------------------------------------------------------------------


def _input(
    block_id: str, label: str, element: object, *, optional: bool = False, hint: str | None = None
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        element=element,  # type: ignore[arg-type]
        optional=optional,
        hint=hint,
    )


def new_deal_modal(texts: Texts, stages: Pipeline, *, owner_id: str, channel_id: str) -> View:
    options = [Option(value=name, text=stage_label(texts, name)) for name in stages.open_names]
    return View(
        type="modal",
        callback_id=NEW_MODAL,
        title=texts("deal.modal.new_title"),
        submit=texts("deal.modal.create"),
        close=texts("common.cancel"),
        private_metadata=json.dumps({"channel": channel_id}),
        blocks=[
            _input(
                "name",
                texts("deal.modal.name"),
                PlainTextInputElement(action_id="value", max_length=100),
            ),
            _input(
                "amount",
                texts("deal.modal.amount"),
                PlainTextInputElement(action_id="value", placeholder="50k, €50,000, 1.2M USD"),
                optional=True,
            ),
            _input(
                "stage",
                texts("deal.modal.stage"),
                StaticSelectElement(action_id="value", options=options, initial_option=options[0]),
            ),
            _input(
                "owner",
                texts("deal.modal.owner"),
                UserSelectElement(action_id="value", initial_user=owner_id),
            ),
            _input(
                "source",
                texts("deal.modal.source"),
                PlainTextInputElement(action_id="value", max_length=100),
                optional=True,
            ),
            _input(
                "close",
                texts("deal.modal.close"),
                DatePickerElement(action_id="value"),
                optional=True,
            ),
        ],
    )


def _deal_text_modal(
    texts: Texts,
    deal: DealView,
    *,
    callback_id: str,
    title: str,
    submit: str,
    block_id: str,
    label: str,
    channel_id: str | None,
) -> View:
    """A modal asking one piece of text about one deal (a note, a lost reason)."""
    return View(
        type="modal",
        callback_id=callback_id,
        title=texts(title),
        submit=texts(submit),
        close=texts("common.cancel"),
        private_metadata=json.dumps({"deal": deal.id, "channel": channel_id}),
        blocks=[
            SectionBlock(text=f"*{escape(deal.name)}* · {stage_label(texts, deal.stage)}"),
            _input(
                block_id,
                texts(label),
                PlainTextInputElement(action_id="value", multiline=True, max_length=2000),
            ),
        ],
    )


def note_modal(texts: Texts, deal: DealView, *, channel_id: str | None) -> View:
    return _deal_text_modal(
        texts,
        deal,
        callback_id=NOTE_MODAL,
        title="deal.modal.note_title",
        submit="deal.modal.save",
        block_id="note",
        label="deal.modal.note",
        channel_id=channel_id,
    )


def lost_modal(texts: Texts, deal: DealView, *, channel_id: str | None) -> View:
    return _deal_text_modal(
        texts,
        deal,
        callback_id=LOST_MODAL,
        title="deal.modal.lost_title",
        submit="deal.modal.mark_lost",
        block_id="reason",
        label="deal.modal.reason",
        channel_id=channel_id,
    )


# -- announcements, nudges, home -----------------------------------------------------------------


def announcement(texts: Texts, change: DealChange, language: str) -> tuple[str, list[Block]]:
    deal = change.deal
    key = {
        "created": "deal.announce.created",
        "won": "deal.announce.won",
        "lost": "deal.announce.lost",
    }[change.kind]
    text = texts(
        key,
        name=escape(deal.name),
        owner=f"<@{deal.owner_id}>",
        amount=money(deal.amount, deal.currency, language),
        stage=stage_label(texts, deal.stage),
        reason=escape(deal.lost_reason or ""),
    )
    return text, [SectionBlock(text=clip(text))]


def stale_digest(
    texts: Texts,
    stale: Sequence[DealView],
    due: Sequence[DealView],
    language: str,
    now: datetime,
) -> tuple[str, list[Block]]:
    fallback = texts("deal.nudge.fallback", stale=len(stale), due=len(due))
    blocks: list[Block] = [HeaderBlock(text=texts("deal.nudge.title"))]
    if stale:
        blocks.append(SectionBlock(text=texts("deal.nudge.stale_intro", count=len(stale))))
        for deal in stale[:MAX_DIGEST_DEALS]:
            idle = (now - deal.last_activity_at).days
            blocks.append(
                SectionBlock(
                    text=clip(
                        deal_line(texts, deal, language)
                        + "\n"
                        + texts(
                            "deal.nudge.idle",
                            days=texts.plural("count.days", idle),
                            stage=stage_label(texts, deal.stage),
                        )
                    )
                )
            )
            blocks.append(deal_actions(texts, deal, snooze=True))
        if len(stale) > MAX_DIGEST_DEALS:
            blocks.append(
                ContextBlock(
                    elements=[
                        MarkdownTextObject(
                            text=texts("common.and_more", count=len(stale) - MAX_DIGEST_DEALS)
                        )
                    ]
                )
            )
    if due:
        lines = [
            f"• *{escape(d.name)}* (#{d.id}): {escape(d.next_step or '')}"
            + (
                f" — {texts('deal.due', date=day(d.next_step_due, texts))}"
                if d.next_step_due
                else ""
            )
            for d in due[:20]
        ]
        blocks.append(
            SectionBlock(text=clip(f"*{texts('deal.nudge.due_title')}*\n" + "\n".join(lines)))
        )
    return fallback, blocks


def home_section(
    texts: Texts, deals: Sequence[DealView], total: int, language: str, currency: str
) -> list[Block]:
    if not deals:
        return [SectionBlock(text=f"*{texts('home.deals_header')}*\n{texts('home.deals_empty')}")]
    open_amounts: MoneyByCurrency = {}
    for deal in deals:
        if deal.amount is not None:
            add_amount(open_amounts, deal.currency, deal.amount)
    blocks: list[Block] = [
        SectionBlock(
            text=f"*{texts('home.deals_header')}* · "
            + texts(
                "home.deals_summary", count=total, amount=totals(open_amounts, language, currency)
            )
        )
    ]
    for deal in deals[:MAX_HOME_DEALS]:
        blocks.append(SectionBlock(text=clip(deal_line(texts, deal, language))))
        blocks.append(deal_actions(texts, deal, snooze=deal.stale))
    if total > MAX_HOME_DEALS:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(text=texts("common.and_more", count=total - MAX_HOME_DEALS))
                ]
            )
        )
    return blocks
