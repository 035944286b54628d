"""Assembles the Bolt app from settings: client, directory, listeners."""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

import handlers
from bot.background import Background
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.deals.service import DealService
from bot.directory import Directory
from bot.jobs import take_over_lapsed
from bot.leases import Leases
from bot.metrics import ObservedApp
from bot.oneonones.service import OneOnOneService
from bot.services import Services
from bot.slack_client import make_web_client
from bot.surveys.service import SurveyPolicy, SurveyService
from storage.db import Database


def build_services(
    settings: Settings, *, db: Database | None = None, clock: Clock = system_clock
) -> Services:
    database = db or Database(settings.database_url)
    client = make_web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    directory = Directory(
        database,
        client,
        managers=settings.managers,
        default_language=settings.language,
        clock=clock,
    )
    return Services(
        settings=settings,
        db=database,
        client=client,
        directory=directory,
        deals=DealService(
            database,
            settings.pipeline,
            currency=settings.currency,
            visibility=settings.pipeline_visibility,
            clock=clock,
            confidence=settings.confidence,
        ),
        surveys=SurveyService(
            database,
            survey_policy(settings),
            managers=lambda: frozenset(
                u.user_id for u in directory.all_users() if directory.is_manager(u)
            ),
            clock=clock,
        ),
        oneonones=OneOnOneService(database, directory, clock=clock),
        background=Background(),
        leases=Leases(database, clock=clock, period=timedelta(seconds=settings.lease_seconds)),
        clock=clock,
    )


def start_leases(services: Services) -> None:
    """Renew this instance's leases on its work, and take over the work of any instance that
    stopped renewing (bot.leases): every long-running instance does, leading or not."""
    services.leases.start(lambda: take_over_lapsed(services, services.clock()))


def survey_policy(settings: Settings) -> SurveyPolicy:
    return SurveyPolicy(
        secret=settings.secret.get_secret_value(),
        min_responses=settings.min_responses,
        reminder_hours=settings.reminder_hours,
        timezone=settings.timezone,
        managers=settings.managers,
        confidence=settings.confidence,
    )


class _SameTokenWarning(logging.Filter):
    """Drops Bolt's "As you gave `client` as well, `token` will be unused" when the token it
    means is the client's own.

    Bolt reads SLACK_BOT_TOKEN from the environment by itself even when given a client, and
    our client (retries, SLACK_API_URL) was built from that very variable: nothing is unused,
    so the warning at every start only teaches people to ignore warnings. A different token
    in the environment would still be worth the warning, and keeps it.
    """

    def __init__(self, client_token: str | None) -> None:
        super().__init__()
        self.client_token = client_token

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() != warning_client_prioritized_and_token_skipped():
            return True
        return os.environ.get("SLACK_BOT_TOKEN") not in (None, "", self.client_token)


@contextmanager
def _quiet_same_token(logger: logging.Logger, client_token: str | None) -> Iterator[None]:
    quiet = _SameTokenWarning(client_token)
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def build_app(services: Services) -> App:
    settings = services.settings
    logger = logging.getLogger("slack_bolt.App")
    with _quiet_same_token(logger, services.client.token):
        app = ObservedApp(
            count_requests=settings.metrics_enabled,
            client=services.client,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            # Listeners ack from the request thread with database-only work and hand Web API
            # calls to services.background. This also skips Bolt's 10 ms ack-polling loop.
            process_before_response=True,
            logger=logger,
        )
    handlers.register(app, services)
    return app


def freeze_startup_objects() -> None:
    """Move everything built at start-up out of the garbage collector's sight.

    The app, its models and its caches live as long as the process; without this, each full
    collection walks them all again, which shows up as multi-millisecond pauses on requests.
    """
    gc.collect()
    gc.freeze()


def start(
    settings: Settings, *, db: Database | None = None, upgrade_in_child: bool = False
) -> tuple[App, Services]:
    """Everything `run`, `serve` and `demo` share: upgrade the schema, build the app.

    With `upgrade_in_child`, the upgrade runs in a child process (`pulsebot db upgrade`), so a
    long-running server never loads Alembic and its templates: about 7 MB it would keep for
    nothing.
    """
    services = build_services(settings, db=db)
    if upgrade_in_child:
        upgrade_in_child_process(settings.database_url)
    else:
        from storage.migrate import upgrade  # noqa: PLC0415 (only where it is needed)

        upgrade(services.db.engine)
    return build_app(services), services


class SchemaUpgradeFailed(RuntimeError):
    """`pulsebot db upgrade` ended in failure; it has said why on standard error."""


def upgrade_in_child_process(database_url: str) -> None:
    command = [sys.executable, "-m", "bot", "db", "upgrade"]
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        raise SchemaUpgradeFailed(f"the schema upgrade failed (exit status {done.returncode})")
