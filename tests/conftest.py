"""Fixtures: databases (SQLite and PostgreSQL), the Slack stand-in and the whole bot."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.clock import FrozenClock
from bot.config import Settings, load_settings
from bot.logs import configure_logging
from bot.standin import SlackStandIn, Workspace
from storage.db import Database, normalise_url
from storage.migrate import upgrade
from storage.scratch import scratch_schema
from tests.faketime_compat import UNDER_FAKETIME, faked_start, rerun_ready_for_faketime
from tests.harness import BotHarness

PG_ENV = "PULSEBOT_TEST_DATABASE_URL"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_pg_skip_reason: list[str] = []

TEST_SIGNING_SECRET = "test-signing-secret-0123456789"
TEST_BOT_TOKEN = "xoxb-test-0000-pulsebot"
# A valid PULSEBOT_SECRET (`pulsebot secret` made it): weak ones are refused at start-up.
TEST_SECRET = "b6358d5e9702139886aa9dbec1781fe197ee057c23e26cc4d8b68d025880a02d"
SECRETS = (TEST_BOT_TOKEN, TEST_SIGNING_SECRET, TEST_SECRET)

# Where every test's clock stands unless the test sets it: Tuesday 1 December 2026, 09:00 UTC
# (10:00 in Rome, 04:00 in New York). `make test-any-day` moves it with PULSEBOT_TEST_NOW
# (and the machine's clock with faketime), so a test that quietly depends on the day fails.
PINNED_NOW_ENV = "PULSEBOT_TEST_NOW"
DEFAULT_PINNED_NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


# Under faketime (by hand: `faketime -f "@2027-03-28 01:30:00" .venv/bin/pytest`), tests pin
# the faked moment the run started at, so the whole suite runs on that day.
FAKED_START = faked_start() if UNDER_FAKETIME else None


def pinned_now() -> datetime:
    """The instant tests start at: PULSEBOT_TEST_NOW (ISO 8601, UTC when no offset) if set,
    else where faketime started the run, else DEFAULT_PINNED_NOW."""
    value = os.environ.get(PINNED_NOW_ENV)
    if not value:
        return FAKED_START or DEFAULT_PINNED_NOW
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    rerun_ready_for_faketime(config)


class SecretWatch(logging.Handler):
    """Sees every log record after production's redaction, and keeps any that shows a secret."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        if any(secret in text for secret in SECRETS):
            self.leaks.append(f"{record.name}: {text[:300]}")


@pytest.fixture(scope="session")
def secret_watch() -> Iterator[SecretWatch]:
    """The whole suite logs at DEBUG through the production set-up (bot.logs), and watches."""
    configure_logging("DEBUG", SECRETS)
    root = logging.getLogger()
    production = root.handlers[0]
    assert isinstance(production, logging.StreamHandler)
    with open(os.devnull, "w") as sink:
        production.setStream(sink)
        watch = SecretWatch()
        root.addHandler(watch)
        yield watch
        root.removeHandler(watch)
        root.removeHandler(production)


@pytest.fixture(autouse=True)
def no_secret_in_any_log_line(secret_watch: SecretWatch) -> Iterator[None]:
    secret_watch.leaks.clear()
    yield
    assert secret_watch.leaks == [], "a token or secret reached a log line"


def _postgres_url_or_skip() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        reason = f"PostgreSQL tests skipped: {PG_ENV} is not set"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true requires PostgreSQL)")
        _pg_skip_reason[:] = [reason]
        pytest.skip(reason)
    try:
        engine = create_engine(normalise_url(url))
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except OperationalError as exc:
        reason = f"PostgreSQL tests skipped: cannot connect to {PG_ENV} ({type(exc).__name__})"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true requires PostgreSQL)")
        _pg_skip_reason[:] = [reason]
        pytest.skip(reason)
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema, dropped afterwards."""
    with scratch_schema(_postgres_url_or_skip(), prefix="pulsebot_test") as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path}/pulsebot.db"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(Workspace.demo()) as server:
        yield server


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "SLACK_BOT_TOKEN": TEST_BOT_TOKEN,
        "SLACK_SIGNING_SECRET": TEST_SIGNING_SECRET,
        "PULSEBOT_SECRET": TEST_SECRET,
        # In memory: a test that builds services without a database of its own leaves no
        # file behind (a relative sqlite:///unused.db landed in whatever directory ran pytest).
        "DATABASE_URL": "sqlite:///:memory:",
        "PULSEBOT_TIMEZONE": "Europe/Rome",
    }
    values.update(overrides)
    return load_settings(_env_file=None, **values)


@pytest.fixture
def clock() -> FrozenClock:
    """What the code under test takes for now: pinned, and moved only by the test."""
    return FrozenClock(pinned_now())


@pytest.fixture
def bot(db: Database, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    """The whole bot, in memory, on both databases, talking to the stand-in."""
    settings = make_settings(
        SLACK_API_URL=standin.url,
        DATABASE_URL=make_url(str(db.engine.url)).render_as_string(hide_password=False),
    )
    harness = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
    yield harness
    harness.close()


def fold_skips_by_reason(reports: list[pytest.TestReport]) -> None:
    """Give every skip of one reason the same location, so `-ra` prints one line per reason
    with its count ("SKIPPED [300] tests: PostgreSQL tests skipped: …") instead of one line
    per test: a skip raised in a fixture is located at each test using it, so pytest's own
    folding (by file, line and reason) never joins them."""
    by_reason: dict[str, list[pytest.TestReport]] = {}
    for report in reports:
        if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
            by_reason.setdefault(str(report.longrepr[2]), []).append(report)
    for reason, group in by_reason.items():
        places = {(str(r.longrepr[0]), r.longrepr[1]) for r in group}  # type: ignore[index]
        if len(places) > 1:
            common = os.path.commonpath([path for path, _ in places])
            for report in group:
                report.longrepr = (common, None, reason)  # type: ignore[assignment]  # no line: several


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Runs before pytest's own short summary (`-ra`), which reads these same reports.
    fold_skips_by_reason(terminalreporter.stats.get("skipped", []))
    if _pg_skip_reason:
        terminalreporter.write_line(
            f"NOTE: {_pg_skip_reason[0]} — only SQLite was tested. "
            f"Set {PG_ENV}=postgresql://user@host/db to test PostgreSQL too.",
            yellow=True,
            bold=True,
        )
