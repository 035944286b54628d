"""The message catalog: every user-facing string, in English and Italian."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, get_args

log = logging.getLogger(__name__)

LOCALES = Path(__file__).parent / "locales"
Language = Literal["en", "it"]
LANGUAGES: tuple[Language, ...] = get_args(Language)


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
class Texts:
    """The catalog in one language: `texts("deal.help.title", name="ACME")`."""

    language: Language

    def __call__(self, key: str, **params: object) -> str:
        catalog = load_catalog(self.language)
        template = catalog.get(key)
        if template is None:
            log.error("missing catalog key %s (%s)", key, self.language)
            template = load_catalog("en").get(key, key)
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            log.error("catalog key %s has placeholders that were not given", key)
            return template

    def plural(self, key: str, count: int, **params: object) -> str:
        """`key.one` for a count of 1, else `key.other` (the rule of English and Italian),
        with the count as `{count}`."""
        return self(f"{key}.{'one' if count == 1 else 'other'}", count=count, **params)

    def has(self, key: str) -> bool:
        return key in load_catalog(self.language)
