"""`pulsebot demo`: the real bot, offline, against the Slack stand-in and a simulated team."""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app import start
from bot.config import load_settings
from bot.services import Services
from bot.slack_requests import SignedRequest, SlackRequests
from bot.standin import SlackStandIn, Workspace
from bot.transcript import render_message
from bot.web import ServerThread, make_wsgi_app

RULE = "─" * 72


def _indent(text: str, prefix: str = "    │ ") -> str:
    return "\n".join(prefix + line for line in (text.splitlines() or [""]))


@dataclass
class DemoTeam:
    """Simulated people sending signed HTTP requests to the running bot, as Slack would."""

    url: str
    requests: SlackRequests
    slack: SlackStandIn
    services: Services
    say: Callable[[str], None]

    def name(self, user_id: str) -> str:
        return self.services.directory.get(user_id).display_name

    def post(self, request: SignedRequest) -> tuple[int, str]:
        http_request = urllib.request.Request(
            self.url, data=request.body.encode(), headers=request.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(http_request, timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def types(self, user_id: str, command: str, text: str) -> None:
        self.say(f"\n▶ {self.name(user_id)} types: {command} {text}".rstrip())
        request = self.requests.slash_command(
            command, text, user_id=user_id, response_url=self.slack.response_url()
        )
        status, body = self.post(request)
        if status != 200:
            self.say(_indent(f"(HTTP {status})"))
            return
        if body:
            reply: dict[str, Any] = json.loads(body)
            self.say("  only you can see this:")
            self.say(_indent(render_message(reply)))

    def opens_home(self, user_id: str) -> None:
        self.say(f"\n▶ {self.name(user_id)} opens the pulsebot App Home")
        before = len(self.slack.calls_to("views.publish"))
        status, _ = self.post(self.requests.app_home_opened(user_id))
        if status != 200:
            self.say(_indent(f"(HTTP {status})"))
            return
        calls = self.slack.wait_for_calls("views.publish", count=before + 1, timeout=10)
        view = calls[-1].params["view"]
        self.say(_indent(render_message(view if isinstance(view, dict) else {})))


def run_demo(*, keep: bool = False, say: Callable[[str], None] = print) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="pulsebot-demo-"))
    logging.basicConfig(level=logging.WARNING)
    workspace = Workspace.demo()
    manager = next(user for user in workspace.users if user.is_admin)
    signing_secret = secrets.token_hex(16)
    try:
        with SlackStandIn(workspace) as slack:
            settings = load_settings(
                _env_file=None,
                SLACK_BOT_TOKEN="xoxb-demo-" + secrets.token_hex(8),
                SLACK_SIGNING_SECRET=signing_secret,
                PULSEBOT_SECRET=secrets.token_hex(16),
                SLACK_API_URL=slack.url,
                DATABASE_URL=f"sqlite:///{workdir / 'demo.db'}",
                PULSEBOT_TIMEZONE="Europe/Rome",
                PULSEBOT_MANAGERS=manager.id,
            )
            app, services = start(settings)
            synced = services.directory.sync()
            with ServerThread(make_wsgi_app(app, services)) as server:
                port = server.port
                say(RULE)
                say("pulsebot demo — the real bot, offline, against a simulated Slack workspace")
                say(f"workspace: {workspace.team_name}, {synced} members synchronised")
                say(f"bot listening on http://127.0.0.1:{port}/slack/events; data in {workdir}")
                say(RULE)
                team = DemoTeam(
                    url=f"http://127.0.0.1:{port}/slack/events",
                    requests=SlackRequests(signing_secret),
                    slack=slack,
                    services=services,
                    say=say,
                )
                play(team, workspace, manager.id)
                say("\n" + RULE)
                say(f"demo finished: {len(slack.calls)} Slack Web API calls, all answered")
                services.background.wait_idle()
            services.db.dispose()
    finally:
        if keep:
            say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def play(team: DemoTeam, workspace: Workspace, manager_id: str) -> None:
    """The story so far; each capability adds its scenes here."""
    people = [u for u in workspace.users if not (u.is_bot or u.deleted or u.is_admin)]
    english = next(u for u in people if (u.locale or "").startswith("en"))
    italian = next(u for u in people if (u.locale or "").startswith("it"))
    team.types(english.id, "/deal", "help")
    team.types(italian.id, "/pulse", "help")
    team.types(english.id, "/deal", "frobnicate")
    team.opens_home(italian.id)
    team.opens_home(manager_id)
