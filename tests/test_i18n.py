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


def plural_groups(catalog: dict[str, str]) -> dict[str, set[str]]:
    """Each plural key (`count.deals`) with the CLDR forms it has (`one`, `other`)."""
    forms = {"zero", "one", "two", "few", "many", "other"}
    groups: dict[str, set[str]] = {}
    for key in catalog:
        stem, _, form = key.rpartition(".")
        if form in forms:
            groups.setdefault(stem, set()).add(form)
    return groups


def test_every_plural_key_has_the_forms_each_language_needs() -> None:
    # English and Italian both need `one` and `other` (CLDR); Italian's `many` is for
    # millions in words and falls back to `other`.
    for language in LANGUAGES:
        for stem, forms in plural_groups(load_catalog(language)).items():
            assert {"one", "other"} <= forms, (language, stem, forms)
            assert "{count}" in load_catalog(language)[f"{stem}.other"], (language, stem)


def test_plurals_follow_cldr_in_both_languages() -> None:
    english, italian = Texts("en"), Texts("it")
    assert english.plural("count.deals", 1) == "1 deal"
    assert english.plural("count.deals", 0) == "0 deals"
    assert english.plural("count.runs_so_far", 1) == "1 run so far"
    assert italian.plural("count.deals", 1) == "1 trattativa"
    assert italian.plural("count.won", 1) == "1 vinta"
    assert italian.plural("count.won", 2) == "2 vinte"
    # Italian's CLDR `many` (a million) has no entry of its own: `other`, number grouped.
    assert italian.plural("count.deals", 1_000_000) == "1.000.000 trattative"
    assert english.plural("count.deals", 1234) == "1,234 deals"


def test_numbers_amounts_and_dates_are_written_as_each_language_writes_them() -> None:
    from datetime import date, datetime
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    english, italian = Texts("en"), Texts("it")
    assert english.number(2.8, 1) == "2.8"
    assert italian.number(2.8, 1) == "2,8"  # `media *2.8*` before
    assert english.money(Decimal(50000), "EUR") == "€50,000"
    assert italian.money(Decimal(50000), "EUR") == "50.000\u00a0€"
    assert italian.money(Decimal("1200.5"), "USD") == "1.200,50\u00a0$"
    assert english.money(Decimal(1200), "CHF") == "CHF\u00a01,200"
    assert english.signed_number(-3) == "−3" and english.signed_number(4) == "+4"
    assert english.signed_number(0) == "0"
    meeting = datetime(2026, 12, 10, 10, 0, tzinfo=ZoneInfo("Europe/Rome"))
    assert english.day_time(meeting) == "Thursday 10 December, 10:00"
    assert italian.day_time(meeting) == "giovedì 10 dicembre alle 10:00"
    assert english.week_of(date(2026, 11, 30)) == "week of 30 November"
    assert italian.week_of(date(2026, 11, 30)) == "settimana del 30 novembre"
    assert italian.short_date(date(2026, 12, 10)) == "gio 10 dic 2026"
    # A date given to the catalog is written in words, not ISO.
    assert english("deal.due", date=date(2026, 12, 10)) == "due Thursday 10 December"


# Keys shown in Slack's plain_text fields, where `<` is just a character.
PLAIN_TEXT_KEYS = {"pulse.compose.name_hint"}


def test_angle_brackets_that_are_not_slack_markup_are_escaped() -> None:
    import re

    # Slack reads `<deal>` in mrkdwn as a link and shows `deal`: the help said `/deal lost reason`.
    raw = re.compile(r"<(?![@#!{])")
    for language in LANGUAGES:
        for key, template in load_catalog(language).items():
            if key not in PLAIN_TEXT_KEYS:
                assert not raw.search(template), (language, key, template)
