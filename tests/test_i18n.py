"""The catalog: both languages have the same keys and the same placeholders."""

from __future__ import annotations

import string

from bot.i18n import LANGUAGES, Texts, language_for, load_catalog


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_exists_in_every_language() -> None:
    catalogs = {language: load_catalog(language) for language in LANGUAGES}
    english = set(catalogs["en"])
    for language, catalog in catalogs.items():
        assert set(catalog) - english == set(), f"only in {language}"
        assert english - set(catalog) == set(), f"missing in {language}"


def test_placeholders_agree_across_languages() -> None:
    english = load_catalog("en")
    for language in LANGUAGES:
        catalog = load_catalog(language)
        for key, template in english.items():
            assert placeholders(catalog[key]) == placeholders(template), (language, key)


def test_locale_chooses_language() -> None:
    assert language_for("it-IT", "en") == "it"
    assert language_for("en-GB", "it") == "en"
    assert language_for("fr-FR", "it") == "it"
    assert language_for(None, "en") == "en"


def test_texts_format_and_fall_back() -> None:
    assert "`/pulse start`" in Texts("it")("common.manager_only", command="/pulse start")
    assert Texts("en")("no.such.key") == "no.such.key"
