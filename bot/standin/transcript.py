"""Block Kit messages and views rendered as plain text, the way a person reads them."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# Slack's markup in message text: <@U123>, <#C123|name>, <!date^…|fallback>, <url|label>.
_MARKUP = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")


def readable(text: str, name_of: Callable[[str], str] | None = None) -> str:
    """Message text as a person sees it in Slack: names, not `<@U05OSMITH>`; the date, not
    `<!date^…>`; `<` and `&`, not `&lt;` and `&amp;`."""

    def shown(match: re.Match[str]) -> str:
        sigil, target, label = match.groups()
        if sigil == "@":
            return "@" + (label or (name_of(target) if name_of else target))
        if sigil == "#":
            return "#" + (label or target)
        if sigil == "!":  # <!date^…|fallback>, <!here>
            return label if label is not None else "@" + target
        return label or target  # a link

    return html.unescape(_MARKUP.sub(shown, text))


def _text(node: Any) -> str:
    if isinstance(node, Mapping):
        value = node.get("text")
        if isinstance(value, str):
            return value
        if isinstance(value, Mapping):
            return _text(value)
    return ""


def _element(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{_text(element)}]"
    if kind in {"static_select", "users_select", "conversations_select", "channels_select"}:
        return f"[{_text(element.get('placeholder')) or 'choose'} ▾]"
    if kind in {"mrkdwn", "plain_text"}:
        return _text(element)
    if kind == "image":
        return f"(image: {element.get('alt_text', '')})"
    return f"({kind})"


def render_blocks(blocks: Iterable[Mapping[str, Any]]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"# {_text(block)}")
        elif kind == "section":
            if block.get("text"):
                lines.extend(_text(block).splitlines())
            for field in block.get("fields") or []:
                lines.append(_text({"text": field}))
            if block.get("accessory"):
                lines.append(_element(block["accessory"]))
        elif kind == "divider":
            lines.append("────")
        elif kind in {"context", "actions"}:
            lines.append("  ".join(_element(e) for e in block.get("elements") or []))
        elif kind == "input":
            label = _text(block.get("label"))
            lines.append(f"{label}: {_element(block.get('element') or {})}")
        elif kind == "image":
            lines.append(f"(image: {block.get('alt_text', '')})")
        else:
            lines.append(f"({kind})")
    return [line for line in lines if line.strip()]


def render_message(message: Mapping[str, Any], name_of: Callable[[str], str] | None = None) -> str:
    """A message (or a view) as text; falls back to `text` when there are no blocks. With
    `name_of` (a user id to a name), as a person reads it: see `readable`."""
    blocks = message.get("blocks") or []
    text = "\n".join(render_blocks(blocks)) if blocks else str(message.get("text") or "")
    return text if name_of is None else readable(text, name_of)
