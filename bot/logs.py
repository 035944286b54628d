"""Logging set-up: plain text or one JSON object a line, and no token or secret ever written to
a log."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal

# The Slack request being handled on this thread, if any: its kind and team (bot.metrics sets
# it), so that every line a request causes says which request it was.
request_context: ContextVar[tuple[str, str | None] | None] = ContextVar(
    "pulsebot_request", default=None
)

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


class JsonFormatter(logging.Formatter):
    """One JSON object a line: timestamp (UTC, ISO 8601), level, logger, message, and, when a
    Slack request is being handled, its kind and team; duration_ms where a line measures one.

    The message is already redacted by RedactSecrets (a traceback is folded into it there).
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = request_context.get()
        if context is not None:
            entry["request_kind"], entry["team"] = context
        duration = getattr(record, "duration_ms", None)
        if isinstance(duration, int | float):
            entry["duration_ms"] = round(duration, 3)
        if record.exc_info:  # only when no RedactSecrets filter ran before
            entry["message"] = f"{entry['message']}\n{self.formatException(record.exc_info)}"
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    level: str, secrets: Iterable[str] = (), *, log_format: Literal["text", "json"] = "text"
) -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in BODY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
