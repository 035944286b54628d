"""Tokens and secrets never reach a log line."""

from __future__ import annotations

import logging

import pytest

from bot.logs import RedactSecrets


def test_tokens_and_secrets_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("pulsebot.test.redact")
    # The signing secret and PULSEBOT_SECRET have no prefix to recognise: only their values.
    redact = RedactSecrets(["my-signing-secret", "my-pulsebot-secret"])
    logger.addFilter(redact)
    try:
        with caplog.at_level(logging.DEBUG, logger="pulsebot.test.redact"):
            logger.info("headers %s", {"Authorization": "Bearer xoxb-123-456-abcdef"})
            logger.info("app token xapp-1-A0-99-ffff and my-signing-secret")
            logger.debug("respondent key hmac(%s, run 1)", "my-pulsebot-secret")
            try:
                raise ValueError("token xoxb-999-leak, key my-pulsebot-secret")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.removeFilter(redact)
    text = caplog.text
    assert "xoxb-" not in text
    assert "xapp-" not in text
    assert "my-signing-secret" not in text
    assert "my-pulsebot-secret" not in text
    assert "hmac([redacted], run 1)" in text
    assert text.count("[redacted]") >= 6
    assert "ValueError" in text
