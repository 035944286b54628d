"""What building the Bolt app says in the log at every start."""

from __future__ import annotations

import logging

import pytest

from bot.app import build_app, build_services
from bot.standin import SlackStandIn
from tests.conftest import TEST_BOT_TOKEN, make_settings


def _warnings_building_app(standin: SlackStandIn, caplog: pytest.LogCaptureFixture) -> list[str]:
    services = build_services(make_settings(SLACK_API_URL=standin.url))
    try:
        with caplog.at_level(logging.WARNING):
            build_app(services)
    finally:
        services.background.shutdown()
        services.db.dispose()
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_no_token_unused_warning_when_the_environment_holds_the_clients_token(
    monkeypatch: pytest.MonkeyPatch, standin: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    # As in production: SLACK_BOT_TOKEN is in the environment, and Bolt reads it by itself.
    monkeypatch.setenv("SLACK_BOT_TOKEN", TEST_BOT_TOKEN)
    assert not [m for m in _warnings_building_app(standin, caplog) if "will be unused" in m]


def test_a_different_token_in_the_environment_still_warns(
    monkeypatch: pytest.MonkeyPatch, standin: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-another-workspace")
    assert [m for m in _warnings_building_app(standin, caplog) if "will be unused" in m]
