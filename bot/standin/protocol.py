"""What every Web API method shares: JSON objects, Slack's error answer, how arguments read."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs

JsonDict = dict[str, Any]
T = TypeVar("T")

MAX_PAGE_SIZE = 1000


class ApiError(Exception):
    """A Web API error answer: HTTP 200 with ok=false, as Slack does."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def payload(self) -> JsonDict:
        return {"ok": False, "error": self.error, **self.extra}


def invalid_arguments(messages: list[str]) -> ApiError:
    return ApiError(
        "invalid_arguments", response_metadata={"messages": [f"[ERROR] {m}" for m in messages]}
    )


def flag(value: object) -> bool:
    """Slack booleans arrive as true/false, 1/0 or "true"/"1" depending on the body kind."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def form_fields(text: str) -> JsonDict:
    fields = parse_qs(text, keep_blank_values=True)
    return {key: values[0] if len(values) == 1 else values for key, values in fields.items()}


def int_param(params: JsonDict, name: str, default: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError:
        raise invalid_arguments([f"must be an integer [json-pointer:/{name}]"]) from None


def paginate(
    items: list[T], params: JsonDict, *, default_limit: int, key: Callable[[T], str]
) -> tuple[list[T], str]:
    """Slack-style cursor pagination: the cursor is base64("user:<id of next item>")."""
    limit = min(int_param(params, "limit", default_limit), MAX_PAGE_SIZE)
    ids = [key(item) for item in items]
    start = 0
    cursor = params.get("cursor")
    if cursor:
        try:
            decoded = base64.b64decode(str(cursor), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError("invalid_cursor") from None
        kind, _, item_id = decoded.partition(":")
        if kind != "user" or item_id not in ids:
            raise ApiError("invalid_cursor")
        start = ids.index(item_id)
    end = len(items) if limit <= 0 else min(start + limit, len(items))
    next_cursor = base64.b64encode(f"user:{ids[end]}".encode()).decode() if end < len(items) else ""
    return items[start:end], next_cursor
