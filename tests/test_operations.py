"""Running pulsebot as a product: its version, one-line database errors, JSON logs, metrics."""

from __future__ import annotations

import io
import json
import logging
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from click.testing import CliRunner

from bot import __version__, metrics
from bot.app import build_app
from bot.cli import main
from bot.clock import FrozenClock
from bot.config import ConfigError
from bot.logs import JsonFormatter, RedactSecrets, request_context
from bot.standin import SlackStandIn
from bot.web import ServerThread, make_wsgi_app
from storage.db import Database
from tests.conftest import TEST_BOT_TOKEN, make_settings
from tests.harness import BotHarness

UNREACHABLE_PG = "postgresql://pulsebot@127.0.0.1:9/nothing"


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


# ---- version ----------------------------------------------------------------------------------


def test_version_comes_from_the_package_metadata() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"pulsebot, version {__version__}\n"
    assert __version__ == "0.2.0"


def test_db_current_names_the_version(tmp_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/v.db")
    result = CliRunner().invoke(main, ["db", "current"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"pulsebot {__version__}  current: None  head: ")


# ---- a database out of reach: one line, no traceback ----------------------------------------


@pytest.mark.parametrize(
    ("url", "command"),
    [
        (UNREACHABLE_PG, ["db", "current"]),
        (UNREACHABLE_PG, ["db", "upgrade"]),
        ("sqlite:////nonexistent-folder/pulsebot.db", ["db", "current"]),
        ("sqlite:////nonexistent-folder/pulsebot.db", ["db", "upgrade"]),
    ],
    ids=["pg_current", "pg_upgrade", "sqlite_current", "sqlite_upgrade"],
)
def test_db_commands_say_one_line_when_the_database_is_out_of_reach(
    url: str, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pulsebot: cannot ")
    assert "at DATABASE_URL: " in lines[0]
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_summary_says_one_line_when_the_database_is_out_of_reach(
    monkeypatch: pytest.MonkeyPatch, standin: SlackStandIn
) -> None:
    settings = make_settings(DATABASE_URL=UNREACHABLE_PG, SLACK_API_URL=standin.url)
    monkeypatch.setattr("bot.cli.load_settings", lambda: settings)
    result = CliRunner().invoke(main, ["summary"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        line for line in result.stderr.splitlines() if line.startswith("pulsebot: cannot read")
    ]
    assert len(result.stderr.splitlines()) == 1, result.stderr


# ---- JSON logs ----------------------------------------------------------------------------------


def json_lines(
    records: Iterator[logging.LogRecord] | list[logging.LogRecord],
) -> list[dict[str, Any]]:
    formatter = JsonFormatter()
    redact = RedactSecrets(["my-pulsebot-secret"])
    out = []
    for record in records:
        redact.filter(record)
        line = formatter.format(record)
        assert "\n" not in line
        out.append(json.loads(line))
    return out


def test_json_logs_one_object_a_line_with_request_kind_team_and_duration() -> None:
    def record(
        message: str, *args: object, exc: bool = False, **extra: object
    ) -> logging.LogRecord:
        rec = logging.LogRecord("bot.test", logging.WARNING, __file__, 1, message, args, None)
        rec.created = datetime(2026, 3, 29, 1, 30).timestamp()
        rec.__dict__.update(extra)
        if exc:
            try:
                raise ValueError("key my-pulsebot-secret in xoxb-1-2-leak")
            except ValueError:
                import sys

                rec.exc_info = sys.exc_info()
        return rec

    lines = json_lines([record("token %s", "xoxb-123-456-abc")])
    token = request_context.set(("/deal", "T0001"))
    try:
        inside = record("answered %s", "/deal", duration_ms=1.23456)
        failed = record("failed", exc=True)
        lines += json_lines([inside, failed])
    finally:
        request_context.reset(token)
    assert lines[0] == {
        "timestamp": lines[0]["timestamp"],
        "level": "WARNING",
        "logger": "bot.test",
        "message": "token [redacted]",
    }
    assert lines[0]["timestamp"].endswith("+00:00")
    assert lines[1]["request_kind"] == "/deal"
    assert lines[1]["team"] == "T0001"
    assert lines[1]["duration_ms"] == 1.235
    assert "ValueError" in lines[2]["message"]
    assert "my-pulsebot-secret" not in json.dumps(lines)
    assert "xoxb-" not in json.dumps(lines)


def test_json_log_format_is_a_setting() -> None:
    assert make_settings().log_format == "text"
    assert make_settings(PULSEBOT_LOG_FORMAT="json").log_format == "json"
    with pytest.raises(ConfigError, match="PULSEBOT_LOG_FORMAT"):
        make_settings(PULSEBOT_LOG_FORMAT="xml")


def test_a_request_writes_json_lines_naming_it(bot: BotHarness) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("bot.metrics")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        assert bot.command("U05OSMITH", "/deal", "help").status == 200
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["message"] == "answered /deal with 200"
    assert line["request_kind"] == "/deal"
    assert line["team"]  # the stand-in workspace's id
    assert line["duration_ms"] > 0


# ---- metrics ------------------------------------------------------------------------------------


def test_metrics_settings_are_off_by_default() -> None:
    assert not make_settings().metrics_enabled
    assert make_settings(PULSEBOT_METRICS_PATH="/metrics").metrics_enabled
    assert make_settings(PULSEBOT_METRICS_PORT="9464").metrics_enabled
    assert not make_settings(PULSEBOT_METRICS_PATH="", PULSEBOT_METRICS_PORT="").metrics_enabled
    with pytest.raises(ConfigError, match="PULSEBOT_METRICS_PATH"):
        make_settings(PULSEBOT_METRICS_PATH="/slack/events")


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, "", ""


@pytest.fixture
def metered(db: Database, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    settings = make_settings(
        SLACK_API_URL=standin.url,
        DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
        PULSEBOT_METRICS_PATH="/metrics",
    )
    harness = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
    yield harness
    harness.close()


def test_metrics_count_requests_acks_api_calls_retries_and_jobs(metered: BotHarness) -> None:
    bot = metered
    before = {
        "requests": sample("pulsebot_requests_total", kind="/deal", outcome="ok"),
        "acks": sample("pulsebot_ack_seconds_count", kind="/deal"),
        "calls": sample("pulsebot_slack_api_calls_total", method="chat.postMessage", outcome="ok"),
        "retries": sample(
            "pulsebot_slack_api_retries_total", method="chat.postMessage", reason="server_error"
        ),
        "failed": sample("pulsebot_jobs_total", job="weekly_summary", outcome="failed"),
    }
    assert bot.command("U05OSMITH", "/deal", "help").status == 200
    assert bot.command("U05OSMITH", "/deal", 'new "Metrics Co"').status == 200
    bot.standin.fail_next("chat.postMessage", 1, status=503)
    bot.services.client.chat_postMessage(channel="U05OSMITH", text="hello")
    metrics.count_job(JobExecutionEvent(EVENT_JOB_ERROR, "weekly_summary", None, bot.clock()))
    metrics.count_job(JobExecutionEvent(EVENT_JOB_EXECUTED, "weekly_summary", None, bot.clock()))
    assert sample("pulsebot_requests_total", kind="/deal", outcome="ok") == before["requests"] + 2
    assert sample("pulsebot_ack_seconds_count", kind="/deal") == before["acks"] + 2
    assert sample("pulsebot_ack_seconds_sum", kind="/deal") > 0
    assert (
        sample("pulsebot_slack_api_calls_total", method="chat.postMessage", outcome="ok")
        >= before["calls"] + 1
    )
    assert (
        sample("pulsebot_slack_api_retries_total", method="chat.postMessage", reason="server_error")
        == before["retries"] + 1
    )
    assert (
        sample("pulsebot_jobs_total", job="weekly_summary", outcome="failed")
        == before["failed"] + 1
    )


def test_metrics_are_served_at_their_path_with_shared_state(metered: BotHarness) -> None:
    leading = True
    unwatch = metrics.watch(metered.services, lambda: leading)
    try:
        with ServerThread(
            make_wsgi_app(metered.app, metered.services, leading=lambda: leading)
        ) as server:
            status, content_type, body = get(server.url + "/metrics")
            health = json.loads(get(server.url + "/healthz")[2])
    finally:
        unwatch()
    assert status == 200
    assert content_type.startswith("text/plain")
    assert f'pulsebot_build_info{{version="{__version__}"}} 1.0' in body
    assert "pulsebot_scheduler_leader 1.0" in body
    assert 'pulsebot_survey_dms{state="pending"} 0.0' in body
    assert "# TYPE pulsebot_ack_seconds histogram" in body
    assert health["scheduler_leader"] is True


def test_no_metrics_path_unless_asked(bot: BotHarness) -> None:
    with ServerThread(make_wsgi_app(bot.app, bot.services)) as server:
        assert get(server.url + "/metrics")[0] == 404


def test_metrics_on_a_port_of_their_own() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop = metrics.serve_metrics("127.0.0.1", port)
    try:
        status, _, body = get(f"http://127.0.0.1:{port}/metrics")
    finally:
        stop()
    assert status == 200
    assert "pulsebot_requests_total" in body or "pulsebot_requests" in body


def test_requests_are_not_counted_with_metrics_off(bot: BotHarness) -> None:
    before = sample("pulsebot_ack_seconds_count", kind="/pulse")
    assert bot.command("U05OSMITH", "/pulse", "help").status == 200
    assert sample("pulsebot_ack_seconds_count", kind="/pulse") == before
    assert isinstance(build_app(bot.services), metrics.ObservedApp)


def test_slack_reachability_is_asked_once_a_minute(bot: BotHarness, clock: FrozenClock) -> None:
    from datetime import timedelta

    from bot.web import SlackProbe

    probe = SlackProbe(bot.services)

    def calls() -> int:
        return len(bot.standin.calls_to("auth.test"))

    first = calls()
    assert probe.reachable()
    assert probe.reachable()
    assert calls() == first + 1
    clock.advance(timedelta(minutes=1))
    assert probe.reachable()
    assert calls() == first + 2
    assert TEST_BOT_TOKEN.startswith("xoxb-")


# ---- a real `pulsebot serve`: JSON logs, metrics on a port of their own, /healthz ------------


def test_pulsebot_serve_with_json_logs_and_metrics(standin: SlackStandIn, tmp_path: str) -> None:
    import os
    import socket
    import subprocess
    import sys

    from bot.standin.requests import SlackRequests
    from tests.conftest import SECRETS, TEST_SECRET, TEST_SIGNING_SECRET

    def free_port() -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])

    port, metrics_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PULSEBOT_"))},
        "SLACK_BOT_TOKEN": TEST_BOT_TOKEN,
        "SLACK_SIGNING_SECRET": TEST_SIGNING_SECRET,
        "PULSEBOT_SECRET": TEST_SECRET,
        "SLACK_API_URL": standin.url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
        "PULSEBOT_LOG_FORMAT": "json",
        "PULSEBOT_METRICS_PORT": str(metrics_port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def leading() -> bool:
            try:
                return bool(json.loads(get(base + "/healthz")[2])["scheduler_leader"])
            except (OSError, ValueError):
                return False

        standin.wait_for(leading, describe="a healthy leader", timeout=30)
        signed = SlackRequests(TEST_SIGNING_SECRET).slash_command(
            "/deal", "help", user_id="U05OSMITH"
        )
        request = urllib.request.Request(
            base + "/slack/events", data=signed.body.encode(), headers=signed.headers
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        status, _, body = get(f"http://127.0.0.1:{metrics_port}/metrics")
        health = json.loads(get(base + "/healthz")[2])
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert status == 200
    assert 'pulsebot_requests_total{kind="/deal",outcome="ok"} 1.0' in body
    assert "pulsebot_scheduler_leader 1.0" in body
    assert health == {
        "status": "ok",
        "version": __version__,
        "database": True,
        "scheduler_leader": True,
        "slack_reachable": True,
    }
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert {"timestamp", "level", "logger", "message"} <= set(lines[0])
    assert any(
        line["message"] == f"pulsebot {__version__} listening on {base}/slack/events"
        for line in lines
    )
    for secret in SECRETS:
        assert secret not in output
