"""The `pulsebot` command: run, serve, demo and database upkeep."""

from __future__ import annotations

import logging
import secrets
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click
from slack_bolt import App
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot import __version__, metrics
from bot.app import (
    SchemaUpgradeFailed,
    build_services,
    freeze_startup_objects,
    start,
    start_leases,
)
from bot.backup import (
    BackupError,
    backup_sqlite,
    pg_dump_command,
    pg_restore_command,
    restore_sqlite,
    sqlite_path,
)
from bot.chart import summary_chart
from bot.clock import system_clock
from bot.config import ConfigError, Settings, load_database_settings, load_settings
from bot.delivery.summary import compute_summary, post_summary, summary_destinations
from bot.i18n import LANGUAGES, Language, Texts
from bot.leader import SchedulerLeader
from bot.logs import configure_logging
from bot.services import Services
from bot.socket_mode import socket_mode_handler
from bot.views.summary import summary_blocks
from bot.web import make_server, make_wsgi_app
from bot.weeks import parse_week, reported_week
from storage.db import Database

log = logging.getLogger("pulsebot")

T = TypeVar("T")


def _or_exit(load: Callable[[], T]) -> T:
    """Configuration errors end the program with one line and status 2, no traceback."""
    try:
        return load()
    except ConfigError as exc:
        click.echo(f"pulsebot: configuration error: {exc}", err=True)
        sys.exit(2)


def _settings() -> Settings:
    settings = _or_exit(load_settings)
    configure_logging(
        settings.log_level,
        secrets=[
            settings.slack_bot_token.get_secret_value(),
            settings.slack_signing_secret.get_secret_value(),
            settings.secret.get_secret_value(),
            settings.slack_app_token.get_secret_value() if settings.slack_app_token else "",
        ],
        log_format=settings.log_format,
    )
    return settings


def _reason(exc: Exception) -> str:
    """The first line of what the driver said, which names no password."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


@contextmanager
def _database_or_exit(doing: str) -> Iterator[None]:
    """A database out of reach (server down, wrong URL, missing folder) ends the command with
    one line and status 1, not a traceback."""
    try:
        yield
    except (SQLAlchemyError, sqlite3.Error) as exc:
        click.echo(
            f"pulsebot: cannot {doing} the database at DATABASE_URL: {_reason(exc)}", err=True
        )
        sys.exit(1)


def _watch_metrics(services: Services, leader: SchedulerLeader) -> Callable[[], None]:
    """Metrics on their own port, if asked for, and the shared state at each scrape."""
    settings = services.settings
    if not settings.metrics_enabled:
        return lambda: None
    unwatch = metrics.watch(services, leader.leading.is_set)
    stop_server: Callable[[], None] = lambda: None  # noqa: E731
    if settings.metrics_port is not None:
        try:
            stop_server = metrics.serve_metrics(settings.metrics_host, settings.metrics_port)
        except OSError as exc:
            click.echo(
                f"pulsebot: cannot serve metrics on {settings.metrics_host}:"
                f"{settings.metrics_port}: {exc.strerror or exc}",
                err=True,
            )
            sys.exit(1)

    def stop() -> None:
        stop_server()
        unwatch()

    return stop


def _sync_directory_in_background(services: Services) -> None:
    def sync() -> None:
        try:
            services.directory.sync()
        except Exception:
            log.exception("could not synchronise the user directory; users are fetched one by one")

    threading.Thread(target=sync, name="directory-sync", daemon=True).start()


def _stop(
    services: Services,
    leader: SchedulerLeader,
    close: Callable[[], object],
    stop_metrics: Callable[[], object],
) -> None:
    """A graceful stop: work loops stop after their Slack call, the scheduler waits for its
    jobs, and then the claims still held are handed back at once (bot.leases)."""
    log.info("stopping")
    services.leases.begin_stop()
    leader.stop()
    stop_metrics()
    close()
    services.background.shutdown()
    services.leases.stop()
    services.db.dispose()


def _exit_on_sigterm() -> None:
    # A container or systemd stops us with SIGTERM: leave through the same `finally` as Ctrl-C,
    # so the scheduler stops and its lock is given up at once instead of when the session dies.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))


def _start_server(settings: Settings) -> tuple[App, Services]:
    """The app of a long-running process, or one line saying why it cannot start."""
    try:
        return start(settings, upgrade_in_child=True)
    except SchemaUpgradeFailed as exc:
        click.echo(f"pulsebot: {exc}", err=True)
        sys.exit(1)
    except (SlackApiError, OSError) as exc:
        # Bolt checks the token with auth.test as it is built: Slack down, a wrong
        # SLACK_API_URL or a revoked token ends here rather than in a traceback.
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else exc
        click.echo(
            f"pulsebot: Slack's auth.test failed at {settings.slack_api_url}: {error}", err=True
        )
        sys.exit(1)


@click.group()
@click.version_option(__version__, "--version", "-V", prog_name="pulsebot")
def main() -> None:
    """pulsebot: pulse and eNPS surveys and a sales pipeline, in Slack."""


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), help="HTTP port (default PULSEBOT_PORT).")
@click.option("--host", help="Address to listen on (default PULSEBOT_HOST, else 127.0.0.1).")
def serve(port: int | None, host: str | None) -> None:
    """Serve Slack's HTTP requests at /slack/events (health at /healthz)."""
    settings = _settings()
    app, services = _start_server(settings)
    _sync_directory_in_background(services)
    host = host or settings.host
    # Every instance serves requests; the one that gets the lock also runs the scheduler. It
    # starts inside the `try`: a SIGTERM at any moment after it must still stop it cleanly.
    leader = SchedulerLeader(services)
    server = make_server(
        make_wsgi_app(app, services, leading=leader.leading.is_set),
        host=host,
        port=port or settings.port,
    )
    stop_metrics = _watch_metrics(services, leader)
    _exit_on_sigterm()
    try:
        start_leases(services)
        leader.start()
        freeze_startup_objects()
        log.info(
            "pulsebot %s listening on http://%s:%s/slack/events",
            __version__,
            host,
            port or settings.port,
        )
        server.run()  # returns on Ctrl-C or SIGTERM
    finally:
        _stop(services, leader, server.close, stop_metrics)


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the bot: Socket Mode when SLACK_APP_TOKEN is set, else the HTTP server."""
    settings = _settings()
    if settings.slack_app_token is None:
        ctx.invoke(serve)
        return
    app, services = _start_server(settings)
    _sync_directory_in_background(services)
    handler = socket_mode_handler(app, settings)
    leader = SchedulerLeader(services)  # started inside the `try`, as in `serve`
    stop_metrics = _watch_metrics(services, leader)
    _exit_on_sigterm()
    try:
        start_leases(services)
        leader.start()
        freeze_startup_objects()
        log.info("pulsebot %s connected through Socket Mode", __version__)
        handler.start()  # type: ignore[no-untyped-call]
    except KeyboardInterrupt:
        pass
    finally:
        _stop(services, leader, handler.close, stop_metrics)


@main.command()
def secret() -> None:
    """Print a new random PULSEBOT_SECRET (64 hex digits)."""
    click.echo(secrets.token_hex(32))


@main.command()
@click.option("--keep", is_flag=True, help="Keep the demo's database and files afterwards.")
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    help="Everyone uses Slack in this language, and the story is told in it (default: each "
    "person's own, English and Italian).",
)
@click.option(
    "--socket-mode", is_flag=True, help="Reach the bot over Socket Mode, as `run` does, not HTTP."
)
def demo(keep: bool, language: Language | None, socket_mode: bool) -> None:
    """Run the real bot offline against a simulated Slack workspace and print what people see."""
    from bot.demo import run_demo  # noqa: PLC0415 (the stand-in stays out of the server)

    sys.exit(run_demo(keep=keep, language=language, socket_mode=socket_mode))


@main.command()
@click.option("--post", is_flag=True, help="Post it to the managers (channel or DMs) as well.")
@click.option("--week", "week_label", metavar="YYYY-Www", help="An ISO week (default: the latest).")
@click.option("--chart", "chart_path", type=click.Path(dir_okay=False), help="Save the PNG here.")
def summary(post: bool, week_label: str | None, chart_path: str | None) -> None:
    """Print the weekly manager summary; with --post, send it to Slack too."""
    # Imported here, as in `demo`: the stand-in package stays out of `run` and `serve`.
    from bot.standin.transcript import render_message  # noqa: PLC0415

    settings = _settings()
    services = build_services(settings)
    now = services.clock()
    try:
        week = (
            parse_week(week_label, settings.zone)
            if week_label
            else reported_week(now, settings.zone)
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    try:
        with _database_or_exit("read"):
            result = compute_summary(services, week, now)
            texts = Texts(settings.language)
            blocks = [block.to_dict() for block in summary_blocks(texts, result)]
            click.echo(render_message({"blocks": blocks}))
            if chart_path:
                Path(chart_path).write_bytes(summary_chart(texts, result))
                click.echo(f"chart saved to {chart_path}")
            if post:
                posted = post_summary(services, result, summary_destinations(services))
                where = (
                    ", ".join(p.channel for p in posted) or "nobody (set PULSEBOT_MANAGERS_CHANNEL)"
                )
                click.echo(f"posted to {where}")
    finally:
        services.background.shutdown()
        services.db.dispose()


@main.group()
def db() -> None:
    """Database schema upkeep (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the schema of DATABASE_URL to REVISION (default: the newest)."""
    from storage.migrate import current_revision, upgrade  # noqa: PLC0415 (see bot.app.start)

    settings = _or_exit(load_database_settings)
    database = Database(settings.database_url)
    with _database_or_exit("upgrade"):  # most often: the server is down or the URL is wrong
        upgrade(database.engine, revision)
        click.echo(f"database at revision {current_revision(database.engine)}")


@db.command("current")
def db_current() -> None:
    """Print the schema revision of DATABASE_URL and the newest one available."""
    from storage.migrate import current_revision, head_revision  # noqa: PLC0415

    settings = _or_exit(load_database_settings)
    database = Database(settings.database_url)
    with _database_or_exit("read"):
        current = current_revision(database.engine)
    click.echo(f"pulsebot {__version__}  current: {current}  head: {head_revision()}")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
def db_revision(message: str) -> None:
    """Write a new migration from the models (for developers; upgrade the database first)."""
    from storage.migrate import new_revision  # noqa: PLC0415

    settings = _or_exit(load_database_settings)
    new_revision(Database(settings.database_url).engine, message)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Back up DATABASE_URL to FILE, safely while pulsebot runs (SQLite; PostgreSQL: pg_dump)."""
    settings = _or_exit(load_database_settings)
    try:
        source = sqlite_path(settings.database_url)
        if source is None:
            click.echo(
                "pulsebot: PostgreSQL is backed up with its own pg_dump, consistent while "
                "pulsebot runs. Run (the password from PGPASSWORD or ~/.pgpass):",
                err=True,
            )
            click.echo(pg_dump_command(settings.database_url, str(file)))
            sys.exit(1)
        copy = backup_sqlite(source, file)
    except (BackupError, sqlite3.Error, OSError) as exc:
        click.echo(f"pulsebot: backup failed: {exc}", err=True)
        sys.exit(1)
    click.echo(f"backed up {source} to {file}: {copy.summary()}")
    click.echo("keep PULSEBOT_SECRET with it: without it, survey answers cannot be changed")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
def restore(file: Path, force: bool) -> None:
    """Restore the backup FILE into DATABASE_URL (stop pulsebot first)."""
    from storage.migrate import upgrade  # noqa: PLC0415

    settings = _or_exit(load_database_settings)
    try:
        target = sqlite_path(settings.database_url)
        if target is None:
            click.echo("pulsebot: restore a PostgreSQL dump with pg_restore:", err=True)
            click.echo(pg_restore_command(settings.database_url, str(file)))
            sys.exit(1)
        restore_sqlite(file, target, force=force)
    except (BackupError, sqlite3.Error, OSError) as exc:
        click.echo(f"pulsebot: restore failed: {exc}", err=True)
        sys.exit(1)
    database = Database(settings.database_url)
    try:
        with _database_or_exit("upgrade"):
            upgrade(database.engine)  # a backup from an older pulsebot gets today's schema
    finally:
        database.dispose()
    from bot.backup import describe  # noqa: PLC0415

    click.echo(f"restored {file} into {target}: {describe(target).summary()}")
    click.echo("start pulsebot with the PULSEBOT_SECRET it had when the backup was made")


@main.command()
@click.argument("user_id")
@click.option(
    "--deals-to",
    "deals_to",
    required=True,
    metavar="MANAGER_ID",
    help="Who gets the person's open deals (a Slack user id).",
)
def forget(user_id: str, deals_to: str) -> None:
    """Forget a person who left: directory entry, 1:1s, unsent survey DMs; hand over deals."""
    from bot.forget import forget_person  # noqa: PLC0415

    for value, name in ((user_id, "USER_ID"), (deals_to, "--deals-to")):
        if value[:1] not in {"U", "W"} or not value.isalnum():
            raise click.BadParameter("must be a Slack user id like U012ABC", param_hint=name)
    settings = _or_exit(load_database_settings)
    database = Database(settings.database_url)
    try:
        with _database_or_exit("change"):
            done = forget_person(database, user_id, deals_to=deals_to, now=system_clock())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--deals-to") from None
    finally:
        database.dispose()
    for line in done.lines():
        click.echo(line)


@main.command()
@click.option(
    "--months",
    type=click.IntRange(1, 1200),
    help="Delete what is older than this (default PULSEBOT_RETENTION_MONTHS).",
)
def prune(months: int | None) -> None:
    """Apply the retention period now, as the nightly job does."""
    from bot.retention import apply_retention  # noqa: PLC0415

    settings = _settings()
    months = months or settings.retention_months
    if months is None:
        click.echo("pulsebot: no retention period: set PULSEBOT_RETENTION_MONTHS or --months")
        sys.exit(2)
    database = Database(settings.database_url)
    try:
        with _database_or_exit("prune"):
            pruned = apply_retention(database, system_clock(), months)
    finally:
        database.dispose()
    click.echo(
        f"deleted {pruned.survey_answers} survey answers, {pruned.survey_comments} comments, "
        f"{pruned.deal_events} deal events, {pruned.oneonone_notes} 1:1 notes, "
        f"{pruned.oneonone_topics} 1:1 topics"
    )


if __name__ == "__main__":
    main()
