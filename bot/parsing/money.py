"""Money: an amount in an ISO 4217 currency, amounts per currency, and reading typed amounts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, TypeAlias

from bot.parsing.dates import looks_like_date
from bot.parsing.text import ParseError, excerpt

AMOUNT_EXAMPLE: Final = "50k, €50,000, 50.000,50 EUR"

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
# The symbols typed and written for the common currencies (others go by their code).
CURRENCY_SYMBOLS: Final[Mapping[str, str]] = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
_SYMBOLS: Final[Mapping[str, str]] = {symbol: code for code, symbol in CURRENCY_SYMBOLS.items()}
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


def is_currency_marker(token: str) -> bool:
    """True for what may name the currency beside an amount: ``€``, ``EUR``, ``usd``, ``euro``."""
    return _currency_of(token) is not None


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


# An amount per ISO 4217 currency (totals, averages, changes): amounts in two currencies are
# never added up, so each one is kept under its own code.
MoneyByCurrency: TypeAlias = dict[str, Decimal]


def add_amount(sums: MoneyByCurrency, currency: str, amount: Decimal) -> None:
    """Add ``amount`` to the sum in ``currency``, which starts at zero."""
    sums[currency] = sums.get(currency, Decimal(0)) + amount


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
    error = ParseError("amount.invalid", value=excerpt(text), example=AMOUNT_EXAMPLE)
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
