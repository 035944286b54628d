"""The message catalog: every user-facing string, in English and Italian."""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal, get_args

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal, format_percent

from bot.parsing.money import CURRENCY_SYMBOLS

log = logging.getLogger(__name__)

LOCALES = Path(__file__).parent / "locales"
Language = Literal["en", "it"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
# The CLDR locale each language is written in: British English (a day before its month, a
# 24-hour clock, as European teams write) and Italian.
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
CLDR_LOCALES: dict[Language, str] = {"en": "en_GB", "it": "it_IT"}


def _flatten(table: dict[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        elif isinstance(value, str):
            flat[name] = value
        else:
            raise TypeError(f"catalog entry {name} must be text")
    return flat


@cache
def load_catalog(language: Language) -> dict[str, str]:
    with (LOCALES / f"{language}.toml").open("rb") as handle:
        return _flatten(tomllib.load(handle))


def language_for(locale: str | None, default: Language) -> Language:
    """Slack locales look like `it-IT`; anything we do not speak falls back to the default."""
    if locale:
        prefix = locale.split("-")[0].lower()
        for language in LANGUAGES:
            if prefix == language:
                return language
    return default


@dataclass(frozen=True, slots=True)
class Phrase:
    """A catalog key the domain names without knowing the reader's language (a usage line):
    given to `Texts` as a parameter, it is written in the reader's language."""

    key: str


@cache
def cldr_locale(language: Language) -> Locale:
    return Locale.parse(CLDR_LOCALES[language])


@dataclass(frozen=True, slots=True)
class Texts:
    """The catalog in one language: `texts("deal.help.title", name="ACME")`, with numbers,
    amounts and dates written the way that language writes them (CLDR, through Babel).

    A `date` or `datetime` given as a parameter is written with the catalog's `format.date`
    pattern unless the caller formatted it first."""

    language: Language

    @property
    def locale(self) -> Locale:
        return cldr_locale(self.language)

    def __call__(self, key: str, **params: object) -> str:
        catalog = load_catalog(self.language)
        template = catalog.get(key)
        if template is None:
            log.error("missing catalog key %s (%s)", key, self.language)
            template = load_catalog("en").get(key, key)
        values = {name: self._written(value) for name, value in params.items()}
        # Errors carry a date as ISO text (they must pickle): written as the language writes dates.
        if isinstance(day := params.get("date"), str) and ISO_DAY.fullmatch(day):
            values["date"] = self.date_with_year(date.fromisoformat(day))
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            log.error("catalog key %s has placeholders that were not given", key)
            return template

    def _written(self, value: object) -> object:
        if isinstance(value, Phrase):
            return self(value.key)
        if isinstance(value, datetime):
            return self.day_time(value)
        if isinstance(value, date):
            return self.long_date(value)
        return value

    def plural(self, key: str, count: int, **params: object) -> str:
        """The CLDR plural form of `key` for `count` (`key.one`, `key.other`, and `key.many`
        where the language has it, falling back to `key.other`), with the count written as the
        language writes numbers in `{count}`."""
        form = self.locale.plural_form(count)
        name = f"{key}.{form}"
        if not self.has(name):
            name = f"{key}.other"
        return self(name, count=self.number(count), **params)

    def written(self, value: object) -> str:
        """A parameter as it reads in this language (a Phrase, a date, a number...)."""
        return str(self._written(value))

    def has(self, key: str) -> bool:
        return key in load_catalog(self.language)

    # ---- numbers ------------------------------------------------------------------------

    def number(self, value: float | Decimal, digits: int = 0) -> str:
        """`1,234.5` / `1.234,5`, with exactly `digits` decimals."""
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def signed_number(self, value: float | Decimal, digits: int = 0) -> str:
        """A change: `+3`, `−2` (the minus sign, not a hyphen), `0`."""
        text = self.number(-value if value < 0 else value, digits)
        if text.strip("0.,") == "":
            return text
        return ("+" if value > 0 else "−") + text

    def percent(self, share: float | None) -> str:
        """A share from 0 to 1: `60%` / `60%`; None is a dash."""
        if share is None:
            return "—"
        return format_percent(share, format="#,##0%", locale=self.locale)

    def money(self, amount: Decimal | None, currency: str) -> str:
        """`€50,000` / `50.000 €`: the language's currency pattern with the short symbol teams
        write (`$`, not CLDR's `US$` for British English), cents only when there are any."""
        if amount is None:
            return "—"
        pattern = self.locale.currency_formats["standard"].pattern
        if amount == amount.to_integral_value():
            pattern = pattern.replace(".00", "")
        symbol = CURRENCY_SYMBOLS.get(currency)
        # A code stands apart from the number on both sides: `CHF 1,200`, `1.200 CHF`.
        written = (
            f"'{symbol}'"
            if symbol
            else f"'{currency}'\u00a0"
            if pattern.startswith("¤")
            else f"'{currency}'"
        )
        return format_decimal(amount, format=pattern.replace("¤", written), locale=self.locale)

    # ---- dates --------------------------------------------------------------------------

    def long_date(self, value: date) -> str:
        """`Thursday 10 December` / `giovedì 10 dicembre` (the year only when it is not the
        current one is for the caller to decide: `date_with_year`)."""
        return format_date(value, self("format.date"), locale=self.locale)

    def date_with_year(self, value: date) -> str:
        return format_date(value, self("format.date_year"), locale=self.locale)

    def short_date(self, value: date) -> str:
        """`Thu 10 Dec 2026` / `gio 10 dic 2026`: lists and cards."""
        return format_date(value, self("format.short_date"), locale=self.locale)

    def time(self, value: datetime) -> str:
        return format_time(value, "HH:mm", locale=self.locale)

    def day_time(self, value: datetime) -> str:
        """`Thursday 10 December, 10:00` / `giovedì 10 dicembre alle 10:00`, in `value`'s own
        time zone."""
        return format_datetime(value, self("format.day_time"), locale=self.locale)

    def week_of(self, first_day: date) -> str:
        """`week of 30 November` / `settimana del 30 novembre`."""
        return self("format.week_of", day=format_date(first_day, "d MMMM", locale=self.locale))
