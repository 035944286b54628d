"""The `/pulse` grammar: text in, a plain result out — the handler only renders it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.actor import Actor
from bot.i18n import Phrase
from bot.parsing.text import parse_number_field
from bot.surveys.model import SurveyDefinition, SurveyError
from bot.surveys.results import Participation, RunResults
from bot.surveys.schedule import parse_run_options, parse_schedule, split_command
from bot.surveys.service import TEMPLATE_NAMES, SurveyOverview, SurveyService
from bot.weeks import SummaryWeek, parse_week, reported_week
from storage.surveys import RunRecord, SurveyRecord

# Each subcommand's usage line, written in the reader's language (the catalog's [usage.pulse]).
USAGE = {
    name: Phrase(f"usage.pulse.{name}")
    for name in ("schedule", "start", "close", "pause", "resume", "results", "export")
}
MANAGER_SUBCOMMANDS = frozenset({"templates", "new", "list", "summary", *USAGE})


@dataclass(frozen=True)
class ShowHelp:
    unknown: str | None = None  # the subcommand we did not understand, if any


@dataclass(frozen=True)
class Refusal:
    """Bad input or a refused request: a catalog key with its parameters."""

    key: str
    params: dict[str, object]


@dataclass(frozen=True)
class ShowPrivacy:
    pass


@dataclass(frozen=True)
class ShowTemplates:
    pass


@dataclass(frozen=True)
class OpenComposeForm:
    pass


@dataclass(frozen=True)
class OpenScheduleForm:
    choices: list[tuple[str, SurveyDefinition]]


@dataclass(frozen=True)
class SurveyList:
    surveys: list[SurveyOverview]
    now: datetime


@dataclass(frozen=True)
class Scheduled:
    survey: SurveyRecord
    next_run: datetime


@dataclass(frozen=True)
class RunStarted:
    run: RunRecord
    name: str  # as the manager typed it (a template's id in lower case)


@dataclass(frozen=True)
class RunClosed:
    run: RunRecord
    name: str


@dataclass(frozen=True)
class Paused:
    name: str


@dataclass(frozen=True)
class Resumed:
    survey: SurveyRecord
    name: str


@dataclass(frozen=True)
class ResultsShown:
    survey: SurveyRecord
    results: RunResults | Participation  # while a run is open, only how many answered
    definition: SurveyDefinition


@dataclass(frozen=True)
class ExportRequested:
    name: str


@dataclass(frozen=True)
class SummaryRequested:
    week: SummaryWeek
    now: datetime


PulseResult = (
    ShowHelp
    | ShowPrivacy
    | Refusal
    | ShowTemplates
    | OpenComposeForm
    | OpenScheduleForm
    | SurveyList
    | Scheduled
    | RunStarted
    | RunClosed
    | Paused
    | Resumed
    | ResultsShown
    | ExportRequested
    | SummaryRequested
)


def run_pulse_command(service: SurveyService, actor: Actor, text: str) -> PulseResult:
    """Parse one `/pulse …` line and carry it out; never raises for bad input."""
    try:
        words = split_command(text)
        subcommand = words[0].lower() if words else "help"
        if subcommand == "help":
            return ShowHelp()
        if subcommand == "privacy":  # for everyone: what is kept, who sees what
            return ShowPrivacy()
        if subcommand not in MANAGER_SUBCOMMANDS:
            return ShowHelp(unknown=words[0])
        service.authorize(actor, f"/pulse {subcommand}")
        return _dispatch(service, actor, subcommand, words[1:])
    except SurveyError as exc:
        return Refusal(exc.key, dict(exc.params))


def _dispatch(
    service: SurveyService, actor: Actor, subcommand: str, args: list[str]
) -> PulseResult:
    if subcommand == "templates":
        return ShowTemplates()
    if subcommand == "list":
        return SurveyList(service.overview(actor), service.clock())
    if subcommand == "new":
        return OpenComposeForm()
    if subcommand == "summary":
        return _summary(service, args)
    if not args and subcommand == "schedule":
        return OpenScheduleForm(service.schedule_choices(actor))
    if not args:
        raise SurveyError("pulse.errors.missing_survey", usage=USAGE[subcommand])
    name, rest = args[0], args[1:]
    if subcommand == "schedule":
        survey, next_run = service.schedule(actor, name, parse_schedule(rest))
        return Scheduled(survey, next_run)
    if subcommand == "start":
        audience, open_days = parse_run_options(rest)
        run = service.start_run(
            actor,
            name,
            audience=None if audience.everyone and not rest else audience,
            open_days=open_days,
        )
        return RunStarted(run, name.casefold() if name.casefold() in TEMPLATE_NAMES else name)
    if subcommand == "results":
        return ResultsShown(*service.results(actor, name, _run_number(rest)))
    if rest:
        raise SurveyError("pulse.errors.unexpected_word", value=rest[0])
    if subcommand == "close":
        return RunClosed(service.close(actor, name), name)
    if subcommand == "pause":
        service.set_paused(actor, name, True)
        return Paused(name)
    if subcommand == "resume":
        return Resumed(service.set_paused(actor, name, False), name)
    # export: refused here, before the ack, for a survey that never ran
    survey, _, _ = service.results(actor, name, None)
    return ExportRequested(survey.name)


def _run_number(rest: list[str]) -> int | None:
    """`run N` after a survey's name, or nothing (its latest run)."""
    if not rest:
        return None
    number = parse_number_field(rest[1]) if len(rest) == 2 else None
    if number is None or rest[0].casefold() != "run":
        raise SurveyError("pulse.errors.bad_run_number", value=" ".join(rest))
    return number


def _summary(service: SurveyService, args: list[str]) -> PulseResult:
    """`/pulse summary [YYYY-Www]`: the week asked for, else the one the summary reports."""
    now = service.clock()
    zone = service.zone
    try:
        if len(args) > 1:
            raise ValueError(args[1])
        week = parse_week(args[0], zone) if args else reported_week(now, zone)
    except ValueError:
        return Refusal("summary.bad_week", {"value": " ".join(args)})
    return SummaryRequested(week, now)
