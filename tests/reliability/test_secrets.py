"""No token, signing secret or PULSEBOT_SECRET in a log line or in an error message.

Every test of the suite logs at DEBUG through production's logging set-up, and
tests/conftest.py fails any test during which a secret reached a log line. The cases here
push secrets at the log and at Slack on purpose.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from slack_bolt import Ack

from bot.config import ConfigError, load_settings
from tests.conftest import SECRETS, TEST_BOT_TOKEN, SecretWatch
from tests.harness import BotHarness
from tests.reliability.helpers import REP


def test_a_failure_that_quotes_a_secret_is_redacted_in_the_log_and_hidden_from_slack(
    bot: BotHarness, secret_watch: SecretWatch
) -> None:
    settings = bot.services.settings

    def leaky(ack: Ack, body: dict[str, Any]) -> None:
        # What a careless library might do: put credentials in an exception's message.
        raise RuntimeError(
            f"auth failed for {settings.slack_bot_token.get_secret_value()} "
            f"signing {settings.slack_signing_secret.get_secret_value()} "
            f"hmac {settings.secret.get_secret_value()}"
        )

    bot.app.command("/leaky")(leaky)
    written = io.StringIO()
    production = logging.getLogger().handlers[0]
    assert isinstance(production, logging.StreamHandler)
    previous = production.setStream(written)
    try:
        response = bot.dispatch(bot.requests.slash_command("/leaky", "", user_id=REP))
    finally:
        production.setStream(previous)
    shown = BotHarness.reply_text(response)
    assert "went wrong" in shown
    for secret in SECRETS:
        assert secret not in shown
        assert secret not in written.getvalue()
    assert "auth failed for [redacted]" in written.getvalue()
    assert secret_watch.leaks == []


@pytest.mark.parametrize(
    "override",
    [
        {"PULSEBOT_SECRET": "short-secret"},
        {"SLACK_BOT_TOKEN": "xoxp-user-token-not-a-bot-token-123"},
        {"SLACK_SIGNING_SECRET": ""},
    ],
)
def test_configuration_errors_never_echo_a_value(override: dict[str, str]) -> None:
    values = {
        "SLACK_BOT_TOKEN": TEST_BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "a-signing-secret-0123",
        "PULSEBOT_SECRET": "cc198bb6d8f984991e2c3359b6b6d1f8a5e9ba5504a607b0ea025428f254b30b",
        **override,
    }
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None, **values)
    message = str(raised.value)
    assert next(iter(override)) in message
    for value in values.values():
        if value:
            assert value not in message
