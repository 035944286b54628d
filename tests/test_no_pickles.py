"""Rows planted by someone who can write to the database stay data: nothing read from it is
unpickled or evaluated (issue 14: a pickle planted in APScheduler's job table ran as code
inside pulsebot within a minute, and read its tokens and secret).

Every table with a text or binary column gets rows whose values would create a directory if
they were unpickled or evaluated, APScheduler's old job table included (an attacker can create
it again); then the scheduler starts through the leader, every job runs, and the bot answers
requests that read those tables. The directory must not exist afterwards.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import ref_to_obj
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    inspect,
    select,
)

from bot import jobs
from bot.leader import SchedulerLeader
from bot.scheduler import JOB_PROVIDERS, wanted_jobs
from tests.harness import BotHarness
from tests.reliability.helpers import MANAGER, REP

# Relative to the test's working directory (a temporary one), so that the payloads are short
# enough for most columns: the pickled text is 32 characters, as long as a Slack id column.
MARKER = "m"


class MakesTheMarker:
    """Pickles to a call of os.mkdir(MARKER): unpickling it is running it."""

    def __reduce__(self) -> tuple[Callable[[str], None], tuple[str]]:
        return (os.mkdir, (MARKER,))


PICKLED = pickle.dumps(MakesTheMarker(), protocol=pickle.HIGHEST_PROTOCOL)
# The same as text (protocol 0 is ASCII): what a text column can hold.
PICKLED_TEXT = pickle.dumps(MakesTheMarker(), protocol=0).decode("ascii")
EVALUATED_TEXT = f"__import__('os').mkdir({MARKER!r})"


def test_the_payloads_do_what_they_say(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test would see it: each payload, run the way an unsafe reader would, makes MARKER."""
    monkeypatch.chdir(tmp_path)
    runs: list[Callable[[], object]] = [
        lambda: pickle.loads(PICKLED),
        lambda: pickle.loads(PICKLED_TEXT.encode()),
        lambda: eval(EVALUATED_TEXT),
    ]
    for run in runs:
        run()
        assert (tmp_path / MARKER).is_dir()
        (tmp_path / MARKER).rmdir()


def planted_value(
    column: Column[Any], variant: int, text: str, planted_keys: dict[tuple[str, int], Any]
) -> Any:
    """What goes into `column` of the planted row `variant`: the payload where text fits."""
    for foreign_key in column.foreign_keys:  # the planted parent row of the same variant
        return planted_keys[(foreign_key.column.table.name, variant)][foreign_key.column.name]
    kind = column.type
    if isinstance(kind, LargeBinary):
        return PICKLED if variant == 0 else PICKLED_TEXT.encode()
    if isinstance(kind, JSON):
        return text
    if isinstance(kind, String):
        length = kind.length or len(text)
        return text[:length]  # a column shorter than any payload gets what fits
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return 1_000_000 + variant  # clear of real rows' numbers, and of the other variant's
    if isinstance(kind, Float):
        return 0.0  # APScheduler's next_run_time: long due
    if isinstance(kind, Numeric):
        return Decimal(1)
    if isinstance(kind, DateTime):
        return datetime(2026, 11, 30, 8, 0)
    if isinstance(kind, Date):
        return date(2026, 11, 30) + timedelta(days=variant)
    raise AssertionError(f"no planted value for {column} ({kind!r})")


def plant_everywhere(engine: Engine) -> dict[str, list[str]]:
    """Two planted rows in every table (one with pickled text, one with Python to evaluate);
    returns the columns of each table that hold a whole payload."""
    # An attacker may create APScheduler's job table again, as older pulsebots read it.
    SQLAlchemyJobStore(engine=engine).jobs_t.create(engine)
    metadata = MetaData()
    metadata.reflect(engine)
    planted_keys: dict[tuple[str, int], Any] = {}
    holding: dict[str, list[str]] = {}
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            for variant, text in enumerate((PICKLED_TEXT, EVALUATED_TEXT)):
                row = {
                    column.name: planted_value(column, variant, text, planted_keys)
                    for column in table.columns
                    if not _generated(table, column)
                }
                inserted = connection.execute(table.insert().values(row)).inserted_primary_key
                assert inserted is not None
                planted_keys[(table.name, variant)] = dict(
                    zip((c.name for c in table.primary_key.columns), inserted, strict=True)
                )
            holding[table.name] = [
                column.name
                for column in table.columns
                if isinstance(column.type, String | LargeBinary | JSON)
                and not column.foreign_keys
                and (getattr(column.type, "length", None) or 1000) >= len(PICKLED_TEXT)
            ]
    return holding


def _generated(table: Table, column: Column[Any]) -> bool:
    """An integer key the database numbers itself."""
    return (
        column.primary_key
        and isinstance(column.type, Integer)
        and not column.foreign_keys
        and len(table.primary_key.columns) == 1
    )


def workload(bot: BotHarness) -> None:
    """Real rows beside the planted ones, so that the paths below have their usual work."""
    bot.command(REP, "/deal", 'new "ACME Corp" 50k proposal')
    bot.command(REP, "/deal", "note ACME called back, wants a discount")
    bot.command(MANAGER, "/pulse", "start enps")
    bot.command(MANAGER, "/oneonone", f"schedule <@{REP}> every 2 weeks on thursday at 10:00")
    bot.command(MANAGER, "/oneonone", f"add <@{REP}> pay rise")
    assert bot.services.background.wait_idle()


def run_everything(bot: BotHarness) -> None:
    """The scheduler through the leader as `pulsebot serve` starts it, every job, and requests
    that read each table."""
    services = bot.services
    leader = SchedulerLeader(services)
    leader.step()
    assert leader.leading.is_set()
    leader.stop()  # waits for the jobs it ran as it started
    jobs.bind_services(services)
    try:
        for spec in wanted_jobs(services, JOB_PROVIDERS).values():
            # A planted row may well break a job: that is allowed, running it is not.
            with contextlib.suppress(Exception):
                ref_to_obj(spec.func)()
    finally:
        jobs.bind_services(None)
    for user, command, text in [
        (REP, "/deal", "list"),
        (REP, "/deal", "pipeline"),
        (REP, "/deal", "stalled"),
        (REP, "/deal", "show ACME Corp"),
        (MANAGER, "/deal", "export"),
        (MANAGER, "/pulse", "list"),
        (MANAGER, "/pulse", "results enps"),
        (MANAGER, "/pulse", "summary"),
        (MANAGER, "/pulse", "export enps"),
        (MANAGER, "/oneonone", "list"),
        (REP, "/oneonone", "list"),
    ]:
        bot.command(user, command, text)
    for user in (MANAGER, REP):
        bot.dispatch(bot.requests.app_home_opened(user))
    services.background.wait_idle()


def test_nothing_planted_in_the_database_is_unpickled_or_evaluated(
    bot: BotHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    workload(bot)
    holding = plant_everywhere(bot.services.db.engine)

    # Every table with a text or binary column holds a payload in one at least, but where no
    # column is long enough for any pickle that calls something.
    tables = inspect(bot.services.db.engine).get_table_names()
    assert "apscheduler_jobs" in tables and holding["apscheduler_jobs"] == ["id", "job_state"]
    short = {name for name, columns in holding.items() if not columns}
    assert short <= {"oneonone_occurrences"}, short  # its one text column is 16 characters
    with bot.services.db.engine.connect() as connection:
        table = Table("deals", MetaData(), autoload_with=connection)
        names = set(connection.scalars(select(table.c.name)))
    assert {PICKLED_TEXT, EVALUATED_TEXT, "ACME Corp"} <= names

    run_everything(bot)

    assert not (workdir / MARKER).exists(), "a value planted in the database ran as code"
