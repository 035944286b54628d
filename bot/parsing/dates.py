"""Reading the dates and weekday names people type, in English and Italian."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Final

from bot.parsing.text import ParseError, excerpt

DATE_EXAMPLES: Final[Mapping[str, str]] = {
    "en": "2026-12-01, 31/12, tomorrow, friday, in 3 days",
    "it": "2026-12-01, 31/12, domani, venerdì, tra 3 giorni",
}

_WEEKDAYS: Final[Mapping[str, int]] = {
    name: day
    for day, names in enumerate(
        [
            "monday mon lunedi lun",
            "tuesday tue tues martedi mar",
            "wednesday wed mercoledi mer",
            "thursday thu thur thurs giovedi gio",
            "friday fri venerdi ven",
            "saturday sat sabato sab",
            "sunday sun domenica dom",
        ]
    )
    for name in names.split()
}
_DAY_OFFSETS: Final[Mapping[str, int]] = {
    "yesterday": -1,
    "ieri": -1,
    "today": 0,
    "oggi": 0,
    "tomorrow": 1,
    "domani": 1,
}
_NEXT_WORDS: Final = frozenset({"next", "prossimo", "prossima"})
_ISO_RE: Final = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DMY_RE: Final = re.compile(r"([0-9]{1,2})/([0-9]{1,2})(?:/([0-9]{4}|[0-9]{2}))?")
# The shape admits a sign so "in -3 days" reads as a bad date rather than as stray words.
_RELATIVE_RE: Final = re.compile(r"(?:in|tra|fra) (-?[0-9]+) (days?|giorn[oi]|weeks?|settiman[ae])")
_MAX_RELATIVE: Final = 9999  # ~27 years of days; further out is a typo


def _fold(text: str) -> str:
    # Accents and apostrophes vary by keyboard (lunedì, lunedí, lunedi'): compare without them.
    # NFKD also maps full-width digits to ASCII.
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(word.rstrip("'") for word in plain.split())


def parse_weekday(text: str) -> int | None:
    """Monday = 0 … Sunday = 6, from an English or Italian day name or its short form, with
    or without its accent (`lunedì`, `lunedi`, `lun`); None when it is not one."""
    return _WEEKDAYS.get(_fold(text))


def _weekday(folded: str) -> int | None:
    words = folded.split()
    if len(words) == 2 and words[0] in _NEXT_WORDS:
        words = words[1:]
    elif len(words) == 2 and words[1] in _NEXT_WORDS:
        words = words[:1]
    return _WEEKDAYS.get(words[0]) if len(words) == 1 else None


def _resolve_date(folded: str, today: date) -> date | None:
    """Date for ``folded`` text, None if unreadable; impossible dates raise ValueError."""
    if folded in _DAY_OFFSETS:
        return today + timedelta(days=_DAY_OFFSETS[folded])
    weekday = _weekday(folded)
    if weekday is not None:
        # "friday" and "next friday" both mean the first one strictly after today.
        return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
    if match := _ISO_RE.fullmatch(folded):
        return date(int(match[1]), int(match[2]), int(match[3]))
    if match := _RELATIVE_RE.fullmatch(folded):
        count = int(match[1]) if len(match[1]) <= 4 else -1
        if not 0 <= count <= _MAX_RELATIVE:
            return None
        weeks = match[2].startswith(("week", "settiman"))
        return today + timedelta(weeks=count) if weeks else today + timedelta(days=count)
    if match := _DMY_RE.fullmatch(folded):
        day, month, year = int(match[1]), int(match[2]), match[3]
        if year is not None:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        # No year: the next such day from today on; 29/02 may wait for a leap year.
        for candidate_year in range(today.year, today.year + 8):
            try:
                candidate = date(candidate_year, month, day)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
    return None


def _date_error(text: str, language: str) -> ParseError:
    example = DATE_EXAMPLES.get(language[:2].lower(), DATE_EXAMPLES["en"])
    return ParseError("date.invalid", value=excerpt(text), example=example)


def parse_date(text: str, today: date, language: str = "en") -> date:
    """Read an ISO, day-first, or English/Italian relative date; ``language`` picks the example."""
    try:
        result = _resolve_date(_fold(text), today)
    except (ValueError, OverflowError):  # 2026-02-30, or past date.max
        result = None
    if result is None:
        raise _date_error(text, language)
    return result


def looks_like_date(token: str) -> bool:
    """True when ``token`` has the shape of a date, even an impossible one (2026-02-30)."""
    folded = _fold(token)
    return (
        folded in _DAY_OFFSETS
        or _weekday(folded) is not None
        or any(regex.fullmatch(folded) for regex in (_ISO_RE, _DMY_RE, _RELATIVE_RE))
    )


MAX_DATE_WORDS: Final = 3  # the longest date the parser reads: "in 3 days", "tra 3 giorni"
# Words that only begin a date: when the rest is unreadable ("in tre giorni") the error
# shows the words together, not a puzzling "in" alone.
_DATE_LEADS: Final = frozenset({"in", "tra", "fra", *_NEXT_WORDS})


def take_date(words: Sequence[str], today: date, language: str = "en") -> tuple[date, int]:
    """The date ``words`` begin with, and how many of them it spans.

    The date after ``due:`` or ``close:`` may be several words and need no quotes: the
    longest run of up to MAX_DATE_WORDS words that has a date's shape is the date, and the
    words after it are left to the caller (task text, an amount...). An impossible date of
    the right shape (2026-02-30, in -3 days) is refused rather than cut shorter.
    """
    head = list(words[:MAX_DATE_WORDS])
    for width in range(len(head), 0, -1):
        text = " ".join(head[:width])
        if looks_like_date(text):
            return parse_date(text, today, language), width
    leads = bool(head) and _fold(head[0]) in _DATE_LEADS
    raise _date_error(" ".join(head if leads else head[:1]), language)


def take_date_from_today(
    words: Sequence[str], today: date, language: str = "en"
) -> tuple[date, int]:
    """take_date for a date that must not be past (a close date, a due date): ``yesterday``
    or last month's date is read, then refused with the date named (``date.past``)."""
    found, width = take_date(words, today, language)
    if found < today:
        raise ParseError(
            "date.past", value=excerpt(" ".join(words[:width])), date=found.isoformat()
        )
    return found, width
