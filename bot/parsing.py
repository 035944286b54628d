"""Slack-free parsing of the text reps type after ``/deal``: plain values in, plain values out."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Final, TypeAlias

__all__ = [
    "AMOUNT_EXAMPLE",
    "DATE_EXAMPLES",
    "ERROR_PARAMS",
    "MAX_DEAL_NAME",
    "NEW_DEAL_USAGE",
    "DealRef",
    "DealRefById",
    "DealRefByName",
    "Money",
    "NewDealArgs",
    "ParseError",
    "deal_name_key",
    "is_currency_code",
    "looks_like_amount",
    "looks_like_date",
    "parse_amount",
    "parse_date",
    "parse_deal_ref",
    "parse_new_deal_args",
    "parse_next_step_args",
    "parse_user_mention",
    "parse_weekday",
    "read_amount",
    "split_args",
    "split_keyword",
    "take_date",
]

# ParseError keys and their params. Keys are stable: the en/it catalog renders them.
# Params hold raw user text (Slack markup already unescaped): escape them when rendering.
#   args.unterminated_quote     -                a double quote was opened and never closed
#   amount.invalid              value, example   unreadable, negative, >15 integer digits,
#                                                sub-cent, or two currencies
#   date.invalid                value, example   unreadable or impossible date
#   deal.id_invalid             value            "#0" or an id beyond 64 bits
#   deal.name_empty             -
#   deal.name_too_long          max              max is "100"
#   deal.name_invalid           value            control characters (newline, NUL...)
#   deal.new.missing_name       usage            `/deal new` with no arguments
#   deal.new.unexpected         token, usage     a token that fits no optional part
#   deal.new.duplicate          part             amount | stage | owner | source | close
ERROR_PARAMS: Final[Mapping[str, frozenset[str]]] = {
    "args.unterminated_quote": frozenset(),
    "amount.invalid": frozenset({"value", "example"}),
    "date.invalid": frozenset({"value", "example"}),
    "deal.id_invalid": frozenset({"value"}),
    "deal.name_empty": frozenset(),
    "deal.name_too_long": frozenset({"max"}),
    "deal.name_invalid": frozenset({"value"}),
    "deal.new.missing_name": frozenset({"usage"}),
    "deal.new.unexpected": frozenset({"token", "usage"}),
    "deal.new.duplicate": frozenset({"part"}),
}

NEW_DEAL_USAGE: Final = "<name> [amount] [stage] [@owner] [source:<text>] [close:<date>]"
AMOUNT_EXAMPLE: Final = "50k, €50,000, 50.000,50 EUR"
DATE_EXAMPLES: Final[Mapping[str, str]] = {
    "en": "2026-12-01, 31/12, tomorrow, friday, in 3 days",
    "it": "2026-12-01, 31/12, domani, venerdì, tra 3 giorni",
}
MAX_DEAL_NAME: Final = 100

# Echoing a pasted essay back in an error message helps nobody.
_SHOWN_MAX: Final = 50


def _shown(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"


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


# --- 2. Users -----------------------------------------------------------------------------

_MENTION_RE: Final = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def parse_user_mention(token: str) -> str | None:
    """``<@U123|bob>``, ``<@U123>`` or ``<@W123>`` -> the user id; anything else None."""
    match = _MENTION_RE.fullmatch(token.strip())
    return match[1] if match else None


# --- 3. Amounts ---------------------------------------------------------------------------

# Active ISO 4217 currencies; fund, metal and test codes (XAU, XTS, XXX...) are left out
# because no deal is priced in them.
_CURRENCY_CODES: Final = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER
    ZAR ZMW ZWG
"""
_CURRENCIES: Final = frozenset(_CURRENCY_CODES.split())
_SYMBOLS: Final[Mapping[str, str]] = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY"}
_WORDS: Final[Mapping[str, str]] = {"EURO": "EUR", "EUROS": "EUR"}
_MULTIPLIERS: Final[Mapping[str, Decimal]] = {"k": Decimal(1000), "m": Decimal(1_000_000)}
_MAX_AMOUNT: Final = Decimal(10) ** 15  # 15 integer digits: fits NUMERIC(17, 2)
_CENT: Final = Decimal("0.01")
_MAX_AMOUNT_TEXT: Final = 64  # longer than any sane amount; bounds the work done on junk

_MARKER: Final = "|".join(
    [re.escape(s) for s in _SYMBOLS] + sorted([*_CURRENCIES, *_WORDS], key=len, reverse=True)
)
_SPACE: Final = r"[ \t\u00a0\u202f]*"  # NBSP and narrow NBSP: what "1 200 €" pastes carry
# re.ASCII keeps IGNORECASE from matching look-alikes such as the Kelvin sign for "k".
_AMOUNT_RE: Final = re.compile(
    rf"(?P<pre>{_MARKER})?{_SPACE}"
    r"(?P<num>[0-9][0-9.,]*)(?P<mult>[km])?"
    rf"{_SPACE}(?P<post>{_MARKER})?",
    re.IGNORECASE | re.ASCII,
)
_AMOUNT_START_RE: Final = re.compile(
    rf"[-+]?(?:{_MARKER})?{_SPACE}[-+]?[0-9]", re.IGNORECASE | re.ASCII
)


def is_currency_code(code: str) -> bool:
    """True for an upper-case ISO 4217 code this module accepts (e.g. for config checks)."""
    return code in _CURRENCIES


def _currency_of(marker: str) -> str | None:
    if marker in _SYMBOLS:
        return _SYMBOLS[marker]
    upper = marker.upper() if marker.isascii() else ""
    return _WORDS.get(upper) or (upper if upper in _CURRENCIES else None)


@dataclass(frozen=True, slots=True)
class Money:
    """A non-negative amount, exact to the cent, in an ISO 4217 currency."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise ValueError(f"amount must be a finite Decimal, got {self.amount!r}")
        if not Decimal(0) <= self.amount < _MAX_AMOUNT:
            raise ValueError(f"amount out of range: {self.amount}")
        cents = self.amount.quantize(_CENT)
        if cents != self.amount:
            # Silently rounding money hides bugs; callers round explicitly.
            raise ValueError(f"amount has sub-cent precision: {self.amount}")
        if self.currency not in _CURRENCIES:
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")
        object.__setattr__(self, "amount", cents.copy_abs())  # copy_abs turns -0.00 into 0.00


def _well_grouped(number: str, sep: str) -> bool:
    """``1,234,567``: a 1-3 digit head without a leading zero, then groups of three."""
    head, *groups = number.split(sep)
    return (
        1 <= len(head) <= 3
        and head.isdigit()
        and not head.startswith("0")
        and all(len(group) == 3 and group.isdigit() for group in groups)
    )


def _read_number(number: str, *, scaled: bool) -> Decimal | None:
    """Apply the separator rules; None when they do not give a single reading.

    Rules, because "1.234" is 1234 in Italy and 1.234 in the US:
    - one separator followed by exactly 3 digits groups thousands (50,000 and 50.000 = 50000),
      except before k/M, where "1.500k" could mean 1.5k or 1500k and is refused;
    - one separator followed by 1-2 digits is the decimal point (1200.50, 1200,5, 1,2M);
    - the same separator repeated groups thousands (1.000.000);
    - with both "," and "." the last one is the decimal point (1,200.50 and 1.200,50);
    - anything else (1,2,3.4.5, 50., 12345,678, 0.500) is refused.
    """
    seps = {c for c in number if c in ",."}
    if not seps:
        return Decimal(number)
    if len(seps) == 2:
        point = number[max(number.rfind(","), number.rfind("."))]
        whole, _, frac = number.rpartition(point)
        group = "," if point == "." else "."
        if point in whole or not _well_grouped(whole, group):
            return None
        whole = whole.replace(group, "")
    else:
        (sep,) = seps
        whole, _, frac = number.partition(sep)
        if number.count(sep) > 1 or len(frac) == 3:
            if scaled and number.count(sep) == 1:
                return None
            return Decimal(number.replace(sep, "")) if _well_grouped(number, sep) else None
    if not 1 <= len(frac) <= 2:
        return None
    return Decimal(f"{whole}.{frac}")


def parse_amount(text: str, default_currency: str) -> Money:
    """Read ``50k``, ``€50,000``, ``1.200,50 €``, ``USD 20000``... into Money."""
    number, currency = read_amount(text)
    return Money(number, currency or default_currency)


def read_amount(text: str) -> tuple[Decimal, str | None]:
    """The amount ``text`` gives and the currency it names, None when it names none.

    For a changed amount, where no currency means the deal's own, not the workspace's.
    """
    error = ParseError("amount.invalid", value=_shown(text), example=AMOUNT_EXAMPLE)
    match = _AMOUNT_RE.fullmatch(text.strip()) if len(text) <= _MAX_AMOUNT_TEXT else None
    if match is None or (match["pre"] and match["post"]):
        raise error
    mult = match["mult"]
    number = _read_number(match["num"], scaled=bool(mult))
    if number is None:
        raise error
    if mult:
        number *= _MULTIPLIERS[mult.lower()]
    marker = match["pre"] or match["post"]
    currency = _currency_of(marker) if marker else None
    if (marker and currency is None) or number >= _MAX_AMOUNT or number != number.quantize(_CENT):
        raise error
    return number, currency


def looks_like_amount(token: str) -> bool:
    """True when ``token`` is meant as an amount, even a malformed one (``12x``, ``-5``)."""
    return bool(_AMOUNT_START_RE.match(token.strip())) and not looks_like_date(token)


# --- 4. Dates -----------------------------------------------------------------------------

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
_DAY_OFFSETS: Final[Mapping[str, int]] = {"today": 0, "oggi": 0, "tomorrow": 1, "domani": 1}
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
    return ParseError("date.invalid", value=_shown(text), example=example)


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


# --- 5. Deal references -------------------------------------------------------------------

_DEAL_ID_RE: Final = re.compile(r"#([0-9]+)")
_MAX_DEAL_ID: Final = 2**63 - 1  # BIGINT


def deal_name_key(name: str) -> str:
    """Case- and spacing-insensitive key under which deal names are matched and stored."""
    # NFC so a macOS-decomposed "è" matches a composed one.
    return unicodedata.normalize("NFC", " ".join(name.casefold().split()))


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ParseError("deal.name_empty")
    if len(name) > MAX_DEAL_NAME:
        raise ParseError("deal.name_too_long", max=str(MAX_DEAL_NAME))
    # Quoted text may carry newlines or NUL, which PostgreSQL TEXT rejects outright.
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise ParseError("deal.name_invalid", value=_shown(name))
    return name


@dataclass(frozen=True, slots=True)
class DealRefById:
    """A deal named by its number, as in ``#12``."""

    id: int

    def __post_init__(self) -> None:
        if isinstance(self.id, bool) or not 1 <= self.id <= _MAX_DEAL_ID:
            raise ParseError("deal.id_invalid", value=f"#{self.id}")


@dataclass(frozen=True, slots=True)
class DealRefByName:
    """A deal named by its name; ``key`` is what lookups compare."""

    name: str
    key: str = field(init=False)

    def __post_init__(self) -> None:
        name = _checked_name(self.name)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "key", deal_name_key(name))


DealRef: TypeAlias = DealRefById | DealRefByName


def parse_deal_ref(token: str) -> DealRef:
    """``#12`` -> DealRefById(12); anything else -> DealRefByName."""
    match = _DEAL_ID_RE.fullmatch(token.strip())
    if match is None:
        return DealRefByName(token)
    digits = match[1]
    if len(digits) > len(str(_MAX_DEAL_ID)):  # spare int() a million-digit string
        raise ParseError("deal.id_invalid", value=_shown(token))
    return DealRefById(int(digits))


# --- 6. /deal new -------------------------------------------------------------------------

_SOURCE_KEYWORDS: Final = frozenset({"source", "fonte"})
_CLOSE_KEYWORDS: Final = frozenset({"close", "chiusura"})


@dataclass(frozen=True, slots=True)
class NewDealArgs:
    """What ``/deal new`` was asked to create."""

    name: str
    amount: Money | None = None
    stage: str | None = None
    owner_id: str | None = None
    source: str | None = None
    close_date: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _checked_name(self.name))
        if self.owner_id is not None and not re.fullmatch(r"[UW][A-Z0-9]+", self.owner_id):
            raise ValueError(f"not a Slack user id: {self.owner_id!r}")
        if self.source is not None and not self.source.strip():
            raise ValueError("source must not be blank")


def _is_marker(token: str) -> bool:
    return _currency_of(token) is not None


def parse_new_deal_args(
    args: Sequence[str],
    *,
    stages: Sequence[str] | Mapping[str, str],
    default_currency: str,
    today: date,
    language: str = "en",
) -> NewDealArgs:
    """Read ``<name> [amount] [stage] [@owner] [source:<text>] [close:<date>]``.

    The optional parts may come in any order. Unquoted multi-word values are joined where
    unambiguous: ``50.000 EUR``, ``USD 20000``, ``closed won``, ``close:in 3 days`` (see
    take_date). ``language`` picks the example in a date error.
    """
    if not args:
        raise ParseError("deal.new.missing_name", usage=NEW_DEAL_USAGE)
    # `stages`: the stage names, or each word a stage may be typed as mapped to its name.
    words = stages if isinstance(stages, Mapping) else {stage: stage for stage in stages}
    stage_by_key = {deal_name_key(word): stage for word, stage in words.items()}
    max_stage_words = max((len(key.split()) for key in stage_by_key), default=0)

    def stage_at(i: int) -> tuple[str, int] | None:
        """The stage starting at args[i] (longest first) and how many tokens it spans."""
        for width in range(min(max_stage_words, len(args) - i), 0, -1):
            stage = stage_by_key.get(deal_name_key(" ".join(args[i : i + width])))
            if stage is not None:
                return stage, width
        return None

    seen: set[str] = set()

    def claim(part: str) -> None:
        if part in seen:
            raise ParseError("deal.new.duplicate", part=part)
        seen.add(part)

    amount: Money | None = None
    stage: str | None = None
    owner_id: str | None = None
    source: str | None = None
    close_date: date | None = None
    i = 1
    while i < len(args):
        token = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else ""
        keyword = split_keyword(token)
        found_stage = stage_at(i)
        if keyword and keyword[0] in _CLOSE_KEYWORDS:
            claim("close")
            # "close: friday" and "close:in 3 days" spill into the next tokens.
            head = [keyword[1]] if keyword[1] else []
            close_date, width = take_date([*head, *args[i + 1 :]], today, language)
            i += 1 + width - len(head)
        elif keyword and keyword[0] in _SOURCE_KEYWORDS:
            claim("source")
            value, used = (keyword[1], 1) if keyword[1] else (nxt, 2)
            if not value.strip():
                raise _unexpected(token)
            source = value.strip()
            i += used
        elif (mention := parse_user_mention(token)) is not None:
            claim("owner")
            owner_id = mention
            i += 1
        elif found_stage is not None:
            claim("stage")
            stage, used = found_stage
            i += used
        elif looks_like_amount(token) or (_is_marker(token) and looks_like_amount(nxt)):
            claim("amount")
            text, used = token, 1
            # A currency split off by a space: "USD 20000", "€ 50", "50.000 EUR", "1.200,50 €".
            # A stage that happens to be a currency code ("TOP") stays a stage.
            if not looks_like_amount(token) or (_is_marker(nxt) and stage_at(i + 1) is None):
                text, used = f"{token} {nxt}", 2
            amount = parse_amount(text, default_currency)
            i += used
        else:
            raise _unexpected(token)
    return NewDealArgs(args[0], amount, stage, owner_id, source, close_date)


def _unexpected(token: str) -> ParseError:
    return ParseError("deal.new.unexpected", token=_shown(token), usage=NEW_DEAL_USAGE)


# --- 7. /deal next ------------------------------------------------------------------------

_DUE_KEYWORDS: Final = frozenset({"due", "scadenza", "entro"})


def parse_next_step_args(
    args: Sequence[str], *, today: date, language: str = "en"
) -> tuple[str, date | None]:
    """Read ``<task> [due:<date>]`` into the task text and its due date.

    ``due:`` may stand anywhere and its date may be several words (``due:in 3 days``, see
    take_date); the words before and after the date are the task, in their order. With
    ``due:`` given twice the last one counts.
    """
    words: list[str] = []
    due: date | None = None
    i = 0
    while i < len(args):
        keyword = split_keyword(args[i])
        if keyword is None or keyword[0] not in _DUE_KEYWORDS:
            words.append(args[i])
            i += 1
            continue
        # "due: friday" (a space after the colon) and "due:in 3 days" spill into the next tokens.
        head = [keyword[1]] if keyword[1] else []
        due, width = take_date([*head, *args[i + 1 :]], today, language)
        i += 1 + width - len(head)
    return " ".join(words).strip(), due
