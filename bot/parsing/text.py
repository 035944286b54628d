"""Reading what people type: its errors, the tokenizer, numbers, user mentions, clock times."""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from typing import Final

# ParseError keys raised by bot.parsing and their params; bot.deals.arguments adds the deal.*
# ones. Keys are stable: the en/it catalog renders them.
# Params hold raw user text (Slack markup already unescaped): escape them when rendering.
#   args.unterminated_quote     -                a double quote was opened and never closed
#   amount.invalid              value, example   unreadable, negative, >15 integer digits,
#                                                sub-cent, or two currencies
#   date.invalid                value, example   unreadable or impossible date
#   date.past                   value, date      a close or due date before today (date: ISO)
ERROR_PARAMS: Final[Mapping[str, frozenset[str]]] = {
    "args.unterminated_quote": frozenset(),
    "amount.invalid": frozenset({"value", "example"}),
    "date.invalid": frozenset({"value", "example"}),
    "date.past": frozenset({"value", "date"}),
}

# Echoing a pasted essay back in an error message helps nobody.
_EXCERPT_MAX: Final = 50


def excerpt(text: str) -> str:
    """``text`` as an error message echoes it: stripped, and cut short when long."""
    text = text.strip()
    return text if len(text) <= _EXCERPT_MAX else text[: _EXCERPT_MAX - 1] + "…"


class ParseError(ValueError):
    """User input that cannot be read; ``key``/``params`` are rendered from the catalog."""

    def __init__(self, key: str, /, **params: str) -> None:
        super().__init__(key)
        self.key: str = key
        self.params: dict[str, str] = dict(params)

    def __str__(self) -> str:
        return f"{self.key} {self.params}" if self.params else self.key

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only params defeat Exception's default pickling (worker pools, log handlers).
        return (_rebuild_parse_error, (self.key, self.params))


def _rebuild_parse_error(key: str, params: dict[str, str]) -> ParseError:
    return ParseError(key, **params)


# --- 1. Tokenizing ------------------------------------------------------------------------

# macOS/Slack "smart quotes" turn " into “ or ” depending on position, so any of them opens
# and any of them closes.
_DOUBLE_QUOTES: Final = frozenset('"“”„')
# ’ doubles as the apostrophe (O’Brien, l’azienda): it closes a ‘ only before whitespace or
# the end, and a ‘ without such a partner stays literal. ASCII ' is never a quote for the
# same reason.
_SINGLE_OPEN: Final = "‘"
_SINGLE_CLOSE: Final = "’"
_ENTITY_RE: Final = re.compile(r"&(lt|gt|amp);")
_ENTITIES: Final[Mapping[str, str]] = {"lt": "<", "gt": ">", "amp": "&"}


def _unescape(token: str) -> str:
    # One pass, so "&amp;lt;" (a user typing "&lt;") comes back as "&lt;", not "<".
    return _ENTITY_RE.sub(lambda m: _ENTITIES[m[1]], token)


def _single_closers(text: str) -> list[int]:
    """Positions of every ’ that can close a ‘, computed once so scanning stays linear."""
    return [
        j
        for j, ch in enumerate(text)
        if ch == _SINGLE_CLOSE and (j + 1 == len(text) or text[j + 1].isspace())
    ]


def split_args(text: str) -> list[str]:
    """Split slash-command text into arguments, honouring quotes and Slack markup."""
    tokens: list[str] = []
    current: list[str] = []
    in_token = False
    closers: list[int] | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            if in_token:
                tokens.append("".join(current))
                current, in_token = [], False
            i += 1
            continue
        in_token = True
        end = -1
        if ch in _DOUBLE_QUOTES:
            end = next((j for j in range(i + 1, len(text)) if text[j] in _DOUBLE_QUOTES), -1)
            if end < 0:
                raise ParseError("args.unterminated_quote")
            current.append(text[i + 1 : end])
        elif ch == _SINGLE_OPEN:
            closers = _single_closers(text) if closers is None else closers
            k = bisect.bisect_right(closers, i)
            end = closers[k] if k < len(closers) else -1
            if end >= 0:
                current.append(text[i + 1 : end])
        elif ch == "<":
            # Slack escapes a typed "<", so a raw one opens markup such as <@U1|bob smith>
            # or <https://x|label>, which may hold spaces and must stay one token.
            end = text.find(">", i + 1)
            if end >= 0:
                current.append(text[i : end + 1])
        if end < 0:
            current.append(ch)
            end = i
        i = end + 1
    if in_token:
        tokens.append("".join(current))
    # Unescaping last keeps real markup apart from text a user typed as "&lt;@U1&gt;"
    # while splitting; afterwards both read the same.
    return [_unescape(token) for token in tokens]


def split_keyword(token: str) -> tuple[str, str] | None:
    """``close:2026-12-01`` -> ("close", "2026-12-01"); the keyword is casefolded."""
    word, sep, value = token.partition(":")
    # Requiring letters only and no "//" keeps URLs, times (10:30) and :emoji: out.
    if not sep or not word.isalpha() or value.startswith("//"):
        return None
    return word.casefold(), value


# --- 2. Numbers ---------------------------------------------------------------------------


def is_plain_number(text: str) -> bool:
    """ASCII digits only: "²" and "٣" pass str.isdigit(), and int() refuses the first."""
    return text.isascii() and text.isdigit()


MAX_INTEGER = 2**31 - 1  # ids and run numbers are INTEGER columns on PostgreSQL


def parse_number_field(value: object) -> int | None:
    """A plain decimal number that fits a database integer, from a payload; else None.

    Payload fields can be forged: "²" passes isdigit() and breaks int(), and ten digits
    can overflow PostgreSQL's INTEGER, which ids and run numbers are.
    """
    if isinstance(value, str) and is_plain_number(value) and len(value) <= 10:
        number = int(value)
        return number if number <= MAX_INTEGER else None
    return None


# --- 3. User mentions ---------------------------------------------------------------------

_USER_ID: Final = r"[UW][A-Z0-9]+"
_USER_ID_RE: Final = re.compile(_USER_ID)
_MENTION_RE: Final = re.compile(rf"<@({_USER_ID})(?:\|[^>]*)?>")


def is_user_id(text: str) -> bool:
    """True for a Slack user id: ``U123ABC`` or, on Enterprise Grid, ``W123ABC``."""
    return _USER_ID_RE.fullmatch(text) is not None


def take_user_mention(text: str) -> tuple[str, str] | None:
    """The user id of the mention ``text`` begins with (after any spaces) and the text after
    it, unstripped: ``<@U123|bob smith> hello`` -> ("U123", " hello"). None without one."""
    text = text.lstrip()
    match = _MENTION_RE.match(text)
    return (match[1], text[match.end() :]) if match else None


def parse_user_mention(token: str) -> str | None:
    """``<@U123|bob>``, ``<@U123>`` or ``<@W123>`` -> the user id; anything else None."""
    taken = take_user_mention(token)
    return taken[0] if taken is not None and not taken[1].strip() else None


# --- 4. Clock times -----------------------------------------------------------------------

# "9", "15", "9:30", "09:30", "9.30" (as Italians write it), "9h30" or "9h" (as the French
# and some Italians do), and the 12-hour "10am", "10 am", "2:30pm", "2:30 p.m.".
_CLOCK_TIME_RE: Final = re.compile(
    r"(?P<hour>[0-9]{1,2})(?:[:.](?P<minute>[0-9]{2})|h(?P<h_minute>[0-9]{2})?)?"
    r"\s*(?:(?P<half>[ap])\.?m\.?)?",
    re.IGNORECASE,
)
_HALF_DAY_RE: Final = re.compile(r"[ap]\.?m\.?", re.IGNORECASE)


def parse_clock_time(text: str) -> str | None:
    """A time of day as "HH:MM", from ``9``, ``15``, ``9:30``, ``9.30``, ``9h30``, ``10am``,
    ``10 am``, ``2:30pm``; None when ``text`` is not one (``25``, ``13pm``, ``9:7``)."""
    match = _CLOCK_TIME_RE.fullmatch(text)  # spaces around it are the caller's to strip
    if match is None:
        return None
    hour = int(match["hour"])
    minute = int(match["minute"] or match["h_minute"] or 0)
    half = (match["half"] or "").lower()
    if minute > 59:
        return None
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "p" else 0)
    elif hour > 23:
        return None
    return f"{hour:02d}:{minute:02d}"


def take_clock_time(words: list[str]) -> tuple[str, int] | None:
    """The time of day ``words`` begin with and how many words it spans: ``10 am`` is two;
    None when they do not begin with one."""
    if len(words) >= 2 and _HALF_DAY_RE.fullmatch(words[1]):
        joined = parse_clock_time(f"{words[0]} {words[1]}")
        if joined is not None:
            return joined, 2
    single = parse_clock_time(words[0]) if words else None
    return None if single is None else (single, 1)
