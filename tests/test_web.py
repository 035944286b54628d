"""HTTP mode: /slack/events through waitress, /healthz both ways, and `pulsebot serve`."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from bot import __version__
from bot.standin import SlackStandIn
from bot.standin.requests import SignedRequest, SlackRequests
from bot.web import ServerThread, make_wsgi_app
from storage.db import Database
from tests.conftest import SECRETS, TEST_BOT_TOKEN, TEST_SECRET, TEST_SIGNING_SECRET
from tests.harness import BotHarness


def post(url: str, request: SignedRequest) -> tuple[int, str]:
    http_request = urllib.request.Request(
        url, data=request.body.encode(), headers=request.headers, method="POST"
    )
    try:
        with urllib.request.urlopen(http_request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def server_url(bot: BotHarness) -> Iterator[str]:
    with ServerThread(make_wsgi_app(bot.app, bot.services)) as server:
        yield server.url


def test_http_slash_command_and_health(bot: BotHarness, server_url: str) -> None:
    status, body = post(
        server_url + "/slack/events",
        bot.requests.slash_command("/deal", "help", user_id="U05OSMITH"),
    )
    assert status == 200
    assert "/deal advance" in body
    unsigned = SignedRequest(
        "command=%2Fdeal&text=help", {"content-type": "application/x-www-form-urlencoded"}
    )
    assert post(server_url + "/slack/events", unsigned)[0] == 401
    status, body = get(server_url + "/healthz")
    assert status == 200
    assert json.loads(body) == {
        "status": "ok",
        "version": __version__,
        "database": True,
        "scheduler_leader": False,
        "slack_reachable": True,
    }
    assert get(server_url + "/nowhere")[0] == 404


def test_health_is_503_when_the_database_does_not_answer(bot: BotHarness, tmp_path: str) -> None:
    broken = Database(f"sqlite:///{tmp_path}/missing-dir/x.db")
    services = dataclasses.replace(bot.services, db=broken)
    try:
        with ServerThread(make_wsgi_app(bot.app, services)) as server:
            status, body = get(server.url + "/healthz")
    finally:
        broken.dispose()  # its checkpoint thread would go on failing after the test
    assert status == 503
    report = json.loads(body)
    assert report["status"] == "unavailable"
    assert report["database"] is False
    assert report["version"] == __version__


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_pulsebot_serve_process(standin: SlackStandIn, tmp_path: str) -> None:
    """The acceptance check: a real `pulsebot serve` against the stand-in."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PULSEBOT_"))},
        "SLACK_BOT_TOKEN": TEST_BOT_TOKEN,
        "SLACK_SIGNING_SECRET": TEST_SIGNING_SECRET,
        "PULSEBOT_SECRET": TEST_SECRET,
        "SLACK_API_URL": standin.url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
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

        def healthy() -> bool:
            try:
                return get(base + "/healthz")[0] == 200
            except OSError:
                return False

        standin.wait_for(healthy, timeout=30)
        requests = SlackRequests(TEST_SIGNING_SECRET)
        status, body = post(
            base + "/slack/events", requests.slash_command("/deal", "help", user_id="U05OSMITH")
        )
        assert status == 200
        assert "/deal advance" in body
        bad = SlackRequests("wrong").slash_command("/deal", "help", user_id="U05OSMITH")
        assert post(base + "/slack/events", bad)[0] == 401
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    for secret in SECRETS:  # the bot token, the signing secret and PULSEBOT_SECRET
        assert secret not in output
    # Without --host or PULSEBOT_HOST, this machine only: a TLS proxy faces the world.
    assert f"pulsebot {__version__} listening on http://127.0.0.1:{port}/slack/events" in output
