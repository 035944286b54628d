"""Logging set-up: one format, and no token or secret ever written to a log."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# Slack tokens have recognisable prefixes; redact them wherever they appear.
SLACK_TOKEN = re.compile(r"x(?:ox[abposre]|app)-[0-9A-Za-z-]+")
REDACTED = "[redacted]"
# slack_sdk's DEBUG lines hold whole request and response bodies: the DMs people get, the
# score they clicked ("you answered *3*") next to their DM's id. Never below INFO, then.
BODY_LOGGERS = ("slack_sdk",)


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        text = SLACK_TOKEN.sub(REDACTED, text)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback now, so the redacted text is what handlers print.
            cleaned += "\n" + logging.Formatter().formatException(record.exc_info)
            cleaned = self.redact(cleaned)
            record.exc_info = None
            record.exc_text = None
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in BODY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
