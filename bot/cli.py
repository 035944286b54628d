"""The `pulsebot` command: run, serve, demo and database upkeep."""

from __future__ import annotations

import logging
import secrets
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError

from bot.app import (
    SchemaUpgradeFailed,
    build_services,
    freeze_startup_objects,
    start,
    start_leases,
)
from bot.chart import summary_chart
from bot.config import ConfigError, Settings, load_database_settings, load_settings
from bot.delivery.summary import compute_summary, post_summary, summary_destinations
from bot.i18n import Texts
from bot.leader import SchedulerLeader
from bot.logs import configure_logging
from bot.services import Services
from bot.slack_client import make_web_client
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
    )
    return settings


def _sync_directory_in_background(services: Services) -> None:
    def sync() -> None:
        try:
            services.directory.sync()
        except Exception:
            log.exception("could not synchronise the user directory; users are fetched one by one")

    threading.Thread(target=sync, name="directory-sync", daemon=True).start()


def _stop(services: Services, leader: SchedulerLeader, close: Callable[[], object]) -> None:
    """A graceful stop: work loops stop after their Slack call, the scheduler waits for its
    jobs, and then the claims still held are handed back at once (bot.leases)."""
    log.info("stopping")
    services.leases.begin_stop()
    leader.stop()
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
    server = make_server(make_wsgi_app(app, services), host=host, port=port or settings.port)
    # Every instance serves requests; the one that gets the lock also runs the scheduler. It
    # starts inside the `try`: a SIGTERM at any moment after it must still stop it cleanly.
    leader = SchedulerLeader(services)
    _exit_on_sigterm()
    try:
        start_leases(services)
        leader.start()
        freeze_startup_objects()
        log.info("pulsebot listening on http://%s:%s/slack/events", host, port or settings.port)
        server.run()  # returns on Ctrl-C or SIGTERM
    finally:
        _stop(services, leader, server.close)


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
    app_token = settings.slack_app_token.get_secret_value()
    handler = SocketModeHandler(
        app,
        app_token,
        web_client=make_web_client(app_token, settings.slack_api_url),
    )
    leader = SchedulerLeader(services)  # started inside the `try`, as in `serve`
    _exit_on_sigterm()
    try:
        start_leases(services)
        leader.start()
        freeze_startup_objects()
        log.info("pulsebot connected through Socket Mode")
        handler.start()  # type: ignore[no-untyped-call]
    except KeyboardInterrupt:
        pass
    finally:
        _stop(services, leader, handler.close)


@main.command()
def secret() -> None:
    """Print a new random PULSEBOT_SECRET (64 hex digits)."""
    click.echo(secrets.token_hex(32))


@main.command()
@click.option("--keep", is_flag=True, help="Keep the demo's database and files afterwards.")
def demo(keep: bool) -> None:
    """Run the real bot offline against a simulated Slack workspace and print what people see."""
    from bot.demo import run_demo  # noqa: PLC0415 (the stand-in stays out of the server)

    sys.exit(run_demo(keep=keep))


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
        result = compute_summary(services, week, now)
        texts = Texts(settings.language)
        blocks = [block.to_dict() for block in summary_blocks(texts, result)]
        click.echo(render_message({"blocks": blocks}))
        if chart_path:
            Path(chart_path).write_bytes(summary_chart(texts, result))
            click.echo(f"chart saved to {chart_path}")
        if post:
            posted = post_summary(services, result, summary_destinations(services))
            where = ", ".join(p.channel for p in posted) or "nobody (set PULSEBOT_MANAGERS_CHANNEL)"
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
    try:
        upgrade(database.engine, revision)
    except DBAPIError as exc:  # most often: the server is down or the URL is wrong
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        click.echo(f"pulsebot: cannot upgrade the database at DATABASE_URL: {reason}", err=True)
        sys.exit(1)
    click.echo(f"database at revision {current_revision(database.engine)}")


@db.command("current")
def db_current() -> None:
    """Print the schema revision of DATABASE_URL and the newest one available."""
    from storage.migrate import current_revision, head_revision  # noqa: PLC0415

    settings = _or_exit(load_database_settings)
    database = Database(settings.database_url)
    click.echo(f"current: {current_revision(database.engine)}  head: {head_revision()}")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
def db_revision(message: str) -> None:
    """Write a new migration from the models (for developers; upgrade the database first)."""
    from storage.migrate import new_revision  # noqa: PLC0415

    settings = _or_exit(load_database_settings)
    new_revision(Database(settings.database_url).engine, message)


if __name__ == "__main__":
    main()
