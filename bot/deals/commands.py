"""The `/deal` grammar: text in, a plain result out — the handler only renders it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.actor import Actor
from bot.deals.arguments import (
    DealRef,
    DealRefById,
    DealRefByName,
    parse_deal_ref,
    parse_new_deal_args,
    parse_next_step_args,
)
from bot.deals.matching import Ambiguous, Candidate, Found
from bot.deals.metrics import PipelineReport
from bot.deals.service import DealCard, DealChange, DealError, DealService, DealView
from bot.deals.stages import Pipeline
from bot.i18n import LANGUAGES, Phrase, Texts
from bot.parsing.money import Money, read_amount
from bot.parsing.text import ParseError, parse_user_mention, split_args

LIST_LIMIT = 30


@dataclass(frozen=True)
class ShowHelp:
    open_stages: tuple[str, ...]  # PULSEBOT_STAGES, which the help's intro walks through
    unknown: str | None = None  # the subcommand we did not understand, if any


@dataclass(frozen=True)
class OpenNewDealForm:
    pass


@dataclass(frozen=True)
class ExportRequested:
    pass


@dataclass(frozen=True)
class DealListing:
    title_key: str  # deal.list.title_* in the catalog
    deals: list[DealView]
    total: int
    subject: str | None = None  # the user or stage the list is about
    own_only: bool = False  # the asker's own deals only (PULSEBOT_PIPELINE_VISIBILITY=own)


@dataclass(frozen=True)
class Refusal:
    """Bad input or a refused change: `errors.<key>` with its parameters, and the usage line."""

    key: str
    params: dict[str, str]
    usage: Phrase | None = None


@dataclass(frozen=True)
class DealOption:
    """One deal offered in a DealChoice, and the words that follow its name (note, stage…)."""

    deal_id: int
    name: str
    rest: tuple[str, ...]


@dataclass(frozen=True)
class DealChoice:
    """The words fit several deals, or none but nearly some: ask which, one button each; a
    click carries out `subcommand` on that deal with its option's `rest`."""

    ambiguous: bool  # several fit (else: suggestions for a near miss)
    typed: str
    subcommand: str
    options: tuple[DealOption, ...]


CommandResult = (
    DealChoice
    | ShowHelp
    | OpenNewDealForm
    | ExportRequested
    | DealChange
    | DealCard
    | DealListing
    | PipelineReport
    | Refusal
)

# Each subcommand's usage line, written in the reader's language (the catalog's [usage.deal]).
USAGE = {
    name: Phrase(f"usage.deal.{name}")
    for name in (
        "new", "advance", "back", "stage", "won", "lost", "note", "next", "amount", "owner",
        "show", "list",
    )
}  # fmt: skip


class _Missing(Exception):
    def __init__(self, what: str) -> None:
        self.what = what


def _need(args: list[str], index: int, what: str) -> str:
    if len(args) <= index or not args[index].strip():
        raise _Missing(what)
    return args[index]


def _rest(args: list[str], start: int) -> str:
    return " ".join(args[start:]).strip()


_QUOTES = frozenset('"“”„‘')


def run_deal_command(
    service: DealService, actor: Actor, text: str, *, today: date, language: str
) -> CommandResult:
    """Parse one `/deal …` line and carry it out; never raises for bad input."""
    try:
        args = split_args(text)
    except ParseError as exc:
        return Refusal(exc.key, exc.params)
    if not args:
        return ShowHelp(tuple(service.pipeline.open_names))
    subcommand, args = args[0].lower(), args[1:]
    after = text.split(None, 1)[1:]
    # A quoted deal name is the name as typed: the words after it are never part of it.
    quoted = bool(after) and after[0][:1] in _QUOTES
    return _run(service, actor, subcommand, args, quoted=quoted, today=today, language=language)


def run_on_chosen_deal(
    service: DealService,
    actor: Actor,
    subcommand: str,
    deal_id: int,
    rest: list[str],
    *,
    today: date,
    language: str,
) -> CommandResult:
    """A DealChoice answered: the same command, on the deal picked, with the same words."""
    if subcommand not in USAGE or subcommand in {"new", "list"}:  # these name no deal
        return ShowHelp(tuple(service.pipeline.open_names), unknown=subcommand)
    args = [f"#{deal_id}", *rest]
    return _run(service, actor, subcommand, args, quoted=False, today=today, language=language)


def _run(
    service: DealService,
    actor: Actor,
    subcommand: str,
    args: list[str],
    *,
    quoted: bool,
    today: date,
    language: str,
) -> CommandResult:
    try:
        return _dispatch(
            service, actor, subcommand, args, quoted=quoted, today=today, language=language
        )
    except _Missing as missing:
        return Refusal("args.missing", {"what": missing.what}, USAGE.get(subcommand))
    except (ParseError, DealError) as exc:
        return Refusal(exc.key, exc.params, USAGE.get(subcommand))


def _which_deal(
    service: DealService, actor: Actor, subcommand: str, args: list[str], *, quoted: bool
) -> tuple[DealRef, list[str]] | DealChoice:
    """The deal the arguments begin with and the arguments after its name: `#12`, a quoted
    name, or as many unquoted words as make the longest deal name (bot.deals.matching).

    A quoted name or a lone word is handed on as a name: the service looks it up exactly in
    the command's own transaction (the common case costs no extra query on the ack path),
    and only a miss comes back to `_match_words`."""
    first = parse_deal_ref(args[0])  # refuses a malformed #id or name up front
    if isinstance(first, DealRefById) or quoted or len(args) == 1:
        return first, args[1:]
    return _match_words(service, actor, subcommand, args, width_limit=len(args))


def _match_words(
    service: DealService, actor: Actor, subcommand: str, args: list[str], *, width_limit: int
) -> tuple[DealRef, list[str]] | DealChoice:
    """Match the first `width_limit` arguments to a deal, or ask which, or suggest."""
    match = service.find_deal(actor, args[:width_limit])
    if isinstance(match, Found):
        return DealRefById(match.deal.id), args[match.width :]

    def option(candidate: Candidate) -> DealOption:
        deal = candidate.deal
        return DealOption(deal.id, deal.name, tuple(args[candidate.width :]))

    if isinstance(match, Ambiguous):
        options = tuple(option(c) for c in match.candidates)
        return DealChoice(True, match.typed, subcommand, options)
    if match.suggestions:
        options = tuple(option(c) for c in match.suggestions)
        return DealChoice(False, match.typed, subcommand, options)
    raise DealError("deal.not_found", name=match.typed)


def _dispatch(
    service: DealService,
    actor: Actor,
    subcommand: str,
    args: list[str],
    *,
    quoted: bool,
    today: date,
    language: str,
) -> CommandResult:
    pipeline = service.pipeline
    if subcommand in {"help", "aiuto", "?"}:
        return ShowHelp(tuple(pipeline.open_names))
    if subcommand in {"new", "nuovo", "nuova"}:
        if not args:
            return OpenNewDealForm()
        new = parse_new_deal_args(
            args,
            stages=stage_words(pipeline),
            default_currency=service.currency,
            today=today,
            language=language,
            quoted_name=quoted,
        )
        return service.create(actor, new)
    if subcommand == "pipeline":
        return service.pipeline_report(actor)
    if subcommand == "export":
        return ExportRequested()
    if subcommand in {"list", "stalled"}:
        return _listing(service, actor, ["stalled"] if subcommand == "stalled" else args)

    if subcommand not in USAGE:
        return ShowHelp(tuple(pipeline.open_names), unknown=subcommand)
    _need(args, 0, "deal")
    which = _which_deal(service, actor, subcommand, args, quoted=quoted)
    if isinstance(which, DealChoice):
        return which
    ref, after = which
    try:
        return _on_deal(
            service, actor, ref, [args[0], *after], subcommand, today=today, language=language
        )
    except DealError as exc:
        if not (isinstance(ref, DealRefByName) and exc.key == "deal.not_found"):
            raise
    # No deal has that exact name: parts of names, near misses (the name is one argument).
    which = _match_words(service, actor, subcommand, args, width_limit=1)
    if isinstance(which, DealChoice):
        return which
    ref, after = which
    return _on_deal(
        service, actor, ref, [args[0], *after], subcommand, today=today, language=language
    )


def _on_deal(
    service: DealService,
    actor: Actor,
    ref: DealRef,
    args: list[str],
    subcommand: str,
    *,
    today: date,
    language: str,
) -> CommandResult:
    """Carry out `subcommand` on the deal `ref`; args[0] stands for the deal and args[1:]
    are the words after its name."""
    pipeline = service.pipeline
    if subcommand == "advance":
        return service.advance(actor, ref, _rest(args, 1) or None)
    if subcommand == "back":
        return service.back(actor, ref, _rest(args, 1) or None)
    if subcommand == "stage":
        word = _need(args, 1, "stage")
        stage = stage_words(pipeline).get(word.strip().lower(), word)
        return service.set_stage(actor, ref, stage, _rest(args, 2) or None)
    if subcommand == "won":
        return service.won(actor, ref, _rest(args, 1) or None)
    if subcommand == "lost":
        _need(args, 1, "reason")
        return service.lost(actor, ref, _rest(args, 1))
    if subcommand == "note":
        _need(args, 1, "text")
        return service.add_note(actor, ref, _rest(args, 1))
    if subcommand == "next":
        task, due = parse_next_step_args(args[1:], today=today, language=language)
        if not task:
            raise _Missing("task")
        return service.set_next_step(actor, ref, task, due)
    if subcommand == "amount":
        _need(args, 1, "amount")
        number, currency = read_amount(_rest(args, 1))
        # Without a currency the deal keeps its own (a USD deal stays USD in a EUR workspace).
        return service.set_amount(actor, ref, Money(number, currency) if currency else number)
    if subcommand == "owner":
        owner = parse_user_mention(_need(args, 1, "@user"))
        if owner is None:
            raise DealError("user.not_a_mention", value=args[1])
        return service.set_owner(actor, ref, owner)
    if subcommand == "show":
        return service.show(actor, ref)
    return ShowHelp(tuple(pipeline.open_names), unknown=subcommand)


def stage_words(pipeline: Pipeline) -> dict[str, str]:
    """Each word a stage may be typed as, lower case: its name, and the label help and cards
    show for it in each language (`proposta` is `proposal`)."""
    words: dict[str, str] = {}
    for language in LANGUAGES:
        texts = Texts(language)
        for name in pipeline.names:
            key = f"deal.stage.{name}"
            if texts.has(key):
                words.setdefault(texts(key).lower(), name)
    words.update({name: name for name in pipeline.names})  # a name always means itself
    return words


def _listing(service: DealService, actor: Actor, args: list[str]) -> DealListing:
    word = args[0] if args else "mine"
    folded = word.lower()
    own_only = not service.sees_every_deal(actor)  # PULSEBOT_PIPELINE_VISIBILITY=own
    open_stages = service.pipeline.open_names
    if folded in {"mine", "mie", "miei"} or (own_only and folded in {"all", "tutte", "tutti"}):
        deals, total = service.list_deals(
            actor, owner_id=actor.user_id, stages=open_stages, limit=LIST_LIMIT
        )
        return DealListing("mine", deals, total, own_only=own_only)
    if folded in {"all", "tutte", "tutti"}:
        deals, total = service.list_deals(actor, stages=open_stages, limit=LIST_LIMIT)
        return DealListing("all", deals, total)
    if folded in {"stalled", "stale", "ferme"}:
        deals, total = service.list_deals(actor, stalled=True, limit=LIST_LIMIT)
        return DealListing("stalled", deals, total, own_only=own_only)
    user = parse_user_mention(word)
    if user is not None:
        deals, total = service.list_deals(
            actor, owner_id=user, stages=open_stages, limit=LIST_LIMIT
        )
        return DealListing("user", deals, total, subject=user)
    stage = stage_words(service.pipeline).get(folded)
    if stage is not None:
        deals, total = service.list_deals(actor, stages=[stage], limit=LIST_LIMIT)
        return DealListing("stage", deals, total, subject=stage, own_only=own_only)
    raise DealError("list.unknown_filter", value=word, stages=", ".join(service.pipeline.names))
