"""`pulsebot run` in a process of its own, connected to the stand-in through Socket Mode."""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.standin import SlackStandIn
from bot.standin.requests import SlackRequests
from storage.db import Database
from storage.deals import Deal
from tests.faketime_compat import child_python_path

REPO = Path(__file__).resolve().parent.parent
# The test suite's settings (tests.conftest), and an app-level token for Socket Mode.
BOT_TOKEN = "xoxb-test-0000-pulsebot"
SIGNING_SECRET = "test-signing-secret-0123456789"
APP_TOKEN = "xapp-1-A0PULSEBOT-1-0123456789abcdef"
SECRET = "b6358d5e9702139886aa9dbec1781fe197ee057c23e26cc4d8b68d025880a02d"
SECRETS = (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, SECRET)

LEADS = "this instance now runs the scheduler"
STANDS_BY = "another instance runs the scheduler; this one stands by"


class SocketBot:
    """One `pulsebot run` process; its output is collected line by line."""

    def __init__(self, slack: SlackStandIn, database_url: str, **env: str) -> None:
        self.slack = slack
        self.database_url = database_url
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "bot", "run"],
            cwd=REPO,
            env={
                **{
                    k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PULSEBOT_"))
                },
                "PYTHONPATH": child_python_path(str(REPO)),
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_APP_TOKEN": APP_TOKEN,
                "PULSEBOT_SECRET": SECRET,
                "PULSEBOT_TIMEZONE": "Europe/Rome",
                "SLACK_API_URL": slack.url,
                "DATABASE_URL": database_url,
                **env,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))

    @property
    def output(self) -> str:
        with contextlib.suppress(queue.Empty):
            while True:
                self.lines.append(self._lines.get_nowait())
        return "\n".join(self.lines)

    def wait_for_output(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._reader.is_alive():
                raise AssertionError(f"no {text!r} within {timeout} s; output:\n{self.output}")
            with contextlib.suppress(queue.Empty):
                self.lines.append(self._lines.get(timeout=min(remaining, 0.1)))

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reader.join(timeout=5)  # it has read the last lines
        return self.output


def people(slack: SlackStandIn) -> SlackRequests:
    """Builds the payloads Slack would send for this workspace (no signing in Socket Mode)."""
    workspace = slack.workspace
    return SlackRequests(SIGNING_SECRET, team_id=workspace.team_id, api_app_id=workspace.app_id)


def deals_named(database_url: str, name: str) -> list[tuple[int, str, str | None]]:
    """The deals of that name (one, if nothing was done twice), with stage and lost reason."""
    database = Database(database_url)
    try:
        with database.transaction() as session:
            found = session.scalars(select(Deal).where(Deal.name == name)).all()
            return [(deal.id, deal.stage, deal.lost_reason) for deal in found]
    finally:
        database.dispose()


def wait_for_deals(
    slack: SlackStandIn,
    database_url: str,
    name: str,
    expected: Callable[[list[tuple[int, str, str | None]]], bool],
) -> list[tuple[int, str, str | None]]:
    """The deals of that name once `expected` holds for them (a button's effect comes after
    its ack: the bot acknowledges first, then works)."""
    found: list[tuple[int, str, str | None]] = []

    def settled() -> bool:
        found[:] = deals_named(database_url, name)
        return expected(found)

    slack.wait_for(settled, timeout=10, interval=0.1, describe=f"deals named {name!r}")
    return found


def block_text(payload: dict[str, Any]) -> str:
    return str(payload.get("text", "")) + " " + str(payload.get("blocks", ""))
