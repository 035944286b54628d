"""Tests for bot.parsing: every accepted and refused form of typed words, money and dates."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.parsing.dates import DATE_EXAMPLES, looks_like_date, parse_date, take_date
from bot.parsing.money import (
    AMOUNT_EXAMPLE,
    Money,
    MoneyByCurrency,
    add_amount,
    is_currency_code,
    looks_like_amount,
    parse_amount,
)
from bot.parsing.text import (
    ERROR_PARAMS,
    ParseError,
    is_user_id,
    parse_clock_time,
    parse_user_mention,
    split_args,
    split_keyword,
    take_user_mention,
)

TODAY = date(2026, 6, 10)  # a Wednesday


def raises(
    key: str,
    call: Callable[[], object],
    documented: Mapping[str, frozenset[str]] = ERROR_PARAMS,
) -> ParseError:
    """Run ``call``, assert it raised ParseError ``key`` with the ``documented`` params."""
    with pytest.raises(ParseError) as info:
        call()
    error = info.value
    assert error.key == key
    assert set(error.params) == documented[key]
    return error


# --- ParseError ---------------------------------------------------------------------------


def test_parse_error_is_a_value_error_with_key_and_params() -> None:
    error = ParseError("amount.invalid", value="12x", example=AMOUNT_EXAMPLE)
    assert isinstance(error, ValueError)
    assert error.key == "amount.invalid"
    assert error.params == {"value": "12x", "example": AMOUNT_EXAMPLE}
    assert str(error).startswith("amount.invalid ")
    assert str(ParseError("deal.name_empty")) == "deal.name_empty"


def test_parse_error_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(ParseError("deal.name_too_long", max="100")))
    assert (error.key, error.params) == ("deal.name_too_long", {"max": "100"})


# --- split_args ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("ACME 50k", ["ACME", "50k"], id="plain"),
        pytest.param("", [], id="empty"),
        pytest.param("  \t\n ", [], id="only_whitespace"),
        pytest.param("a \t b\n c\u00a0d", ["a", "b", "c", "d"], id="any_whitespace_incl_nbsp"),
        pytest.param('"ACME Corp" 50k', ["ACME Corp", "50k"], id="double_quotes"),
        pytest.param("“ACME Corp” 50k", ["ACME Corp", "50k"], id="typographic_double_quotes"),
        pytest.param("”ACME Corp” 50k", ["ACME Corp", "50k"], id="smart_quotes_wrong_way_round"),
        pytest.param("‘ACME Corp’ 50k", ["ACME Corp", "50k"], id="typographic_single_quotes"),
        pytest.param("‘Tom’s deal’ 5", ["Tom’s deal", "5"], id="apostrophe_inside_single_quotes"),
        pytest.param("O’Brien 5", ["O’Brien", "5"], id="typographic_apostrophe_is_literal"),
        pytest.param("O'Brien L'Oréal", ["O'Brien", "L'Oréal"], id="ascii_apostrophe_is_literal"),
        pytest.param("‘90s band", ["‘90s", "band"], id="unpaired_single_open_is_literal"),
        pytest.param('""', [""], id="empty_quotes_give_empty_token"),
        pytest.param('source:"Trade show" x', ["source:Trade show", "x"], id="quote_mid_token"),
        pytest.param('"ACME"Corp', ["ACMECorp"], id="adjacent_quoted_and_bare"),
        pytest.param('"50" "k"', ["50", "k"], id="two_quoted_tokens"),
        pytest.param("🚀 deal 🎉", ["🚀", "deal", "🎉"], id="emoji"),
        pytest.param("شركة عربية 10k", ["شركة", "عربية", "10k"], id="right_to_left_arabic"),
        pytest.param('"חברה בע״מ" 5', ["חברה בע״מ", "5"], id="right_to_left_hebrew_quoted"),
        pytest.param(
            "'; DROP TABLE deals; --",
            ["';", "DROP", "TABLE", "deals;", "--"],
            id="sql_looking_text_verbatim",
        ),
        pytest.param(
            '"\'; DROP TABLE deals; --"', ["'; DROP TABLE deals; --"], id="sql_quoted_verbatim"
        ),
        pytest.param("R&amp;D &lt;Ltd&gt;", ["R&D", "<Ltd>"], id="html_unescape"),
        pytest.param("&amp;lt;", ["&lt;"], id="unescape_is_single_pass"),
        pytest.param("&quot;x&quot;", ["&quot;x&quot;"], id="only_slack_entities_unescaped"),
        pytest.param("<@U123ABC|bob> 5", ["<@U123ABC|bob>", "5"], id="mention_kept"),
        pytest.param("<@U1|bob smith> 5", ["<@U1|bob smith>", "5"], id="mention_label_spaces"),
        pytest.param(
            "<https://x.io?a=1&amp;b=2|our site>",
            ["<https://x.io?a=1&b=2|our site>"],
            id="link_markup_kept_whole",
        ),
        pytest.param('"<@U1>" x', ["<@U1>", "x"], id="mention_inside_quotes"),
        pytest.param("a<b", ["a<b"], id="unclosed_angle_is_literal"),
    ],
)
def test_split_args(text: str, expected: list[str]) -> None:
    assert split_args(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('"ACME Corp 50k', id="ascii"),
        pytest.param("“ACME Corp 50k", id="typographic"),
        pytest.param('ACME source:"web', id="mid_token"),
        pytest.param('"a" "b', id="second_quote"),
    ],
)
def test_split_args_refuses_unterminated_quote(text: str) -> None:
    raises("args.unterminated_quote", lambda: split_args(text))


@given(st.text())
def test_split_args_raises_only_parse_error(text: str) -> None:
    try:
        tokens = split_args(text)
    except ParseError as error:
        assert error.key == "args.unterminated_quote"
    else:
        assert all(isinstance(token, str) for token in tokens)


_PLAIN = st.text(st.characters(exclude_characters='"“”„‘<&'))


@given(_PLAIN)
def test_split_args_without_quotes_or_markup_is_str_split(text: str) -> None:
    assert split_args(text) == text.split()


@given(st.lists(_PLAIN, max_size=6))
def test_split_args_quoting_round_trips(tokens: list[str]) -> None:
    assert split_args(" ".join(f'"{token}"' for token in tokens)) == tokens


# --- split_keyword ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        pytest.param("close:2026-12-01", ("close", "2026-12-01"), id="close_iso"),
        pytest.param("due:tomorrow", ("due", "tomorrow"), id="due"),
        pytest.param("scadenza:domani", ("scadenza", "domani"), id="italian"),
        pytest.param("Close:Friday", ("close", "Friday"), id="keyword_casefolded_value_kept"),
        pytest.param("chiusura:", ("chiusura", ""), id="empty_value"),
        pytest.param("source:https://x.io", ("source", "https://x.io"), id="url_value"),
        pytest.param("note:a:b", ("note", "a:b"), id="value_with_colon"),
        pytest.param("https://x.io", None, id="url_is_not_keyword"),
        pytest.param("10:30", None, id="time"),
        pytest.param(":tada:", None, id="emoji_shortcode"),
        pytest.param("close2:x", None, id="non_alphabetic_word"),
        pytest.param("close", None, id="no_colon"),
        pytest.param("", None, id="empty"),
    ],
)
def test_split_keyword(token: str, expected: tuple[str, str] | None) -> None:
    assert split_keyword(token) == expected


# --- user mentions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        pytest.param("<@U123ABC|bob>", "U123ABC", id="with_label"),
        pytest.param("<@U123ABC>", "U123ABC", id="bare"),
        pytest.param("<@W123>", "W123", id="enterprise_user"),
        pytest.param("<@U1|bob smith>", "U1", id="label_with_space"),
        pytest.param("@bob", None, id="plain_at_name"),
        pytest.param("<@u123>", None, id="lower_case_id"),
        pytest.param("<@C123>", None, id="not_a_user_prefix"),
        pytest.param("<#C123|general>", None, id="channel"),
        pytest.param("<!channel>", None, id="special_mention"),
        pytest.param("<@U123", None, id="unterminated"),
        pytest.param("<@U123> x", None, id="trailing_text"),
        pytest.param("U123", None, id="bare_id"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_user_mention(token: str, expected: str | None) -> None:
    assert parse_user_mention(token) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("<@U1|bob smith> Q1 plan", ("U1", " Q1 plan"), id="label_with_space"),
        pytest.param("  <@U1>  every week", ("U1", "  every week"), id="leading_spaces"),
        pytest.param("<@W1>", ("W1", ""), id="nothing_after"),
        pytest.param("<@U1>x", ("U1", "x"), id="no_space_after"),
        pytest.param("bob <@U1>", None, id="not_first"),
        pytest.param("@bob hello", None, id="plain_at_name"),
        pytest.param("<@U1", None, id="unterminated"),
        pytest.param("", None, id="empty"),
    ],
)
def test_take_user_mention(text: str, expected: tuple[str, str] | None) -> None:
    assert take_user_mention(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("U123ABC", True, id="user"),
        pytest.param("W123", True, id="enterprise_user"),
        pytest.param("u123", False, id="lower_case"),
        pytest.param("C123", False, id="channel"),
        pytest.param("bob", False, id="name"),
        pytest.param("<@U123>", False, id="mention"),
        pytest.param("U", False, id="prefix_only"),
    ],
)
def test_is_user_id(text: str, expected: bool) -> None:
    assert is_user_id(text) is expected


# --- parse_clock_time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("09:30", "09:30", id="hh_mm"),
        pytest.param("9:30", "09:30", id="one_digit_hour"),
        pytest.param("9.30", "09:30", id="dot"),
        pytest.param("00:00", "00:00", id="midnight"),
        pytest.param("23:59", "23:59", id="last_minute"),
        pytest.param("24:00", None, id="hour_24"),
        pytest.param("12:60", None, id="minute_60"),
        pytest.param("12:5", None, id="one_digit_minute"),
        pytest.param("123:00", None, id="three_digit_hour"),
        pytest.param("10", "10:00", id="hour_only"),
        pytest.param("10am", "10:00", id="am"),
        pytest.param("24", None, id="hour_24"),
        pytest.param(" 10:00", None, id="spaces_are_the_callers"),
        pytest.param("１０:００", None, id="full_width_digits"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_clock_time(text: str, expected: str | None) -> None:
    assert parse_clock_time(text) == expected


# --- parse_amount -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        pytest.param("50000", "50000", "EUR", id="plain_integer_default_currency"),
        pytest.param("50k", "50000", "EUR", id="k_suffix"),
        pytest.param("50K", "50000", "EUR", id="upper_k_suffix"),
        pytest.param("1.2M", "1200000", "EUR", id="m_suffix_decimal_point"),
        pytest.param("1,2M", "1200000", "EUR", id="m_suffix_italian_decimal_comma"),
        pytest.param("2.5k", "2500", "EUR", id="k_suffix_decimal"),
        pytest.param("1,000,000k", "1000000000", "EUR", id="k_suffix_grouped"),
        pytest.param("€50,000", "50000", "EUR", id="euro_symbol_thousands_comma"),
        pytest.param("50.000 EUR", "50000", "EUR", id="thousands_dot_code_after"),
        pytest.param("50000 usd", "50000", "USD", id="lower_case_code"),
        pytest.param("50000USD", "50000", "USD", id="code_glued_after"),
        pytest.param("$1,200.50", "1200.50", "USD", id="dollar_thousands_and_decimal_point"),
        pytest.param("1.200,50 €", "1200.50", "EUR", id="italian_with_symbol_after"),
        pytest.param("1.200,50€", "1200.50", "EUR", id="symbol_glued_after"),
        pytest.param("50.000,50", "50000.50", "EUR", id="italian_thousands_and_decimal_comma"),
        pytest.param("£3k", "3000", "GBP", id="pound_k"),
        pytest.param("¥1,000", "1000", "JPY", id="yen"),
        pytest.param("CHF 1000", "1000", "CHF", id="chf_code_before"),
        pytest.param("USD 20000", "20000", "USD", id="code_before"),
        pytest.param("usd20000", "20000", "USD", id="code_glued_before"),
        pytest.param("€ 50", "50", "EUR", id="symbol_then_space"),
        pytest.param("50 euro", "50", "EUR", id="euro_word"),
        pytest.param("1200.50", "1200.50", "EUR", id="decimal_point_two_digits"),
        pytest.param("1200,5", "1200.50", "EUR", id="decimal_comma_one_digit"),
        pytest.param("0,50", "0.50", "EUR", id="below_one"),
        pytest.param("0", "0", "EUR", id="zero"),
        pytest.param("1.000.000", "1000000", "EUR", id="repeated_dot_thousands"),
        pytest.param("1,000,000.25", "1000000.25", "EUR", id="english_millions"),
        pytest.param("  50k  ", "50000", "EUR", id="surrounding_whitespace"),
        pytest.param("50\u00a0€", "50", "EUR", id="nbsp_before_symbol"),
        pytest.param("50MXN", "50", "MXN", id="code_starting_with_m_is_not_million"),
        pytest.param("999999999999999.99", "999999999999999.99", "EUR", id="largest"),
        pytest.param("50mEUR", "50000000", "EUR", id="m_suffix_then_code"),
    ],
)
def test_parse_amount(text: str, amount: str, currency: str) -> None:
    assert parse_amount(text, "EUR") == Money(Decimal(amount), currency)


def test_parse_amount_quantises_to_cents() -> None:
    assert str(parse_amount("50k", "USD").amount) == "50000.00"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("1,2,3.4.5", id="mixed_separators_soup"),
        pytest.param("12x", id="trailing_letter"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("-50", id="negative"),
        pytest.param("€-50", id="negative_after_symbol"),
        pytest.param("+50", id="explicit_plus"),
        pytest.param("1e9", id="exponent"),
        pytest.param("1234567890123456", id="sixteen_integer_digits"),
        pytest.param("1000000000M", id="too_big_after_multiplier"),
        pytest.param("k", id="k_alone"),
        pytest.param("M", id="m_alone"),
        pytest.param("€", id="symbol_alone"),
        pytest.param("EUR", id="code_alone"),
        pytest.param("$50 EUR", id="two_currencies"),
        pytest.param("€50€", id="same_currency_twice"),
        pytest.param("50 XYZ", id="unknown_currency_code"),
        pytest.param("50 XAU", id="metal_code"),
        pytest.param("50.", id="trailing_separator"),
        pytest.param(".5", id="leading_separator"),
        pytest.param("1.2345", id="four_decimals"),
        pytest.param("1,234.567", id="sub_cent_after_both_separators"),
        pytest.param("12345,678", id="bad_thousands_head"),
        pytest.param("1.00.000", id="bad_thousands_group"),
        pytest.param("0.500", id="leading_zero_thousands"),
        pytest.param("1.500k", id="three_digits_before_multiplier_ambiguous"),
        pytest.param("1.2.3,45", id="decimal_after_short_group"),
        pytest.param("1,200.5,0", id="decimal_separator_twice"),
        pytest.param("50 k", id="space_before_multiplier"),
        pytest.param("50kk", id="double_multiplier"),
        pytest.param("50km", id="two_multipliers"),
        pytest.param("NaN", id="nan"),
        pytest.param("Infinity", id="infinity"),
        pytest.param("1_000", id="underscore_grouping"),
        pytest.param("٥٠", id="arabic_indic_digits"),
        pytest.param("５０", id="fullwidth_digits"),
        pytest.param("50 000", id="space_grouping"),
        pytest.param("1" * 200, id="very_long"),
        pytest.param("fifty", id="words"),
    ],
)
def test_parse_amount_refuses(text: str) -> None:
    error = raises("amount.invalid", lambda: parse_amount(text, "EUR"))
    assert error.params["example"] == AMOUNT_EXAMPLE
    assert len(error.params["value"]) <= 50


def test_parse_amount_echoes_value() -> None:
    error = raises("amount.invalid", lambda: parse_amount(" 12x ", "EUR"))
    assert error.params["value"] == "12x"


_CENTS = st.decimals(
    min_value=0, max_value=Decimal("999999999999999.99"), places=2, allow_nan=False
)


@given(_CENTS, st.sampled_from(["plain", "english", "italian", "whole"]), st.booleans())
def test_formatted_decimal_round_trips(value: Decimal, style: str, symbol: bool) -> None:
    whole = value.to_integral_value(rounding=ROUND_FLOOR)  # rounding up could pass 10**15
    english = f"{value:,.2f}"
    text = {
        "plain": f"{value:.2f}",
        "english": english,
        "italian": english.translate(str.maketrans(",.", ".,")),
        "whole": f"{whole:,}",
    }[style]
    money = parse_amount(f"€{text}" if symbol else f"{text} GBP", "USD")
    assert money == Money(whole if style == "whole" else value, "EUR" if symbol else "GBP")


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        pytest.param("50k", True, id="amount"),
        pytest.param("€50", True, id="symbol_first"),
        pytest.param("USD20000", True, id="code_first"),
        pytest.param("50.000,50", True, id="italian"),
        pytest.param("12x", True, id="malformed_but_meant"),
        pytest.param("-5", True, id="negative_is_meant"),
        pytest.param("1e9", True, id="exponent_is_meant"),
        pytest.param("ACME", False, id="word"),
        pytest.param("EUR", False, id="code_alone"),
        pytest.param("€", False, id="symbol_alone"),
        pytest.param("k", False, id="k_alone"),
        pytest.param("2026-12-01", False, id="iso_date"),
        pytest.param("31/12", False, id="day_month"),
        pytest.param("#12", False, id="deal_id"),
        pytest.param("", False, id="empty"),
    ],
)
def test_looks_like_amount(token: str, expected: bool) -> None:
    assert looks_like_amount(token) is expected


def test_is_currency_code() -> None:
    assert is_currency_code("EUR")
    assert is_currency_code("CHF")
    assert not is_currency_code("eur")
    assert not is_currency_code("XXX")


# --- parse_date ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2026-12-01", date(2026, 12, 1), id="iso"),
        pytest.param("2027-1-5", date(2027, 1, 5), id="iso_single_digits"),
        pytest.param("2020-01-01", date(2020, 1, 1), id="iso_past_is_allowed"),
        pytest.param("today", TODAY, id="today"),
        pytest.param("oggi", TODAY, id="oggi"),
        pytest.param("Today", TODAY, id="capitalised"),
        pytest.param("tomorrow", date(2026, 6, 11), id="tomorrow"),
        pytest.param("domani", date(2026, 6, 11), id="domani"),
        pytest.param("monday", date(2026, 6, 15), id="monday"),
        pytest.param("mon", date(2026, 6, 15), id="mon"),
        pytest.param("wednesday", date(2026, 6, 17), id="same_weekday_is_next_week"),
        pytest.param("wed", date(2026, 6, 17), id="wed"),
        pytest.param("thursday", date(2026, 6, 11), id="thursday_is_tomorrow"),
        pytest.param("thurs", date(2026, 6, 11), id="thurs"),
        pytest.param("friday", date(2026, 6, 12), id="friday"),
        pytest.param("FRI", date(2026, 6, 12), id="fri_upper"),
        pytest.param("sunday", date(2026, 6, 14), id="sunday"),
        pytest.param("next friday", date(2026, 6, 12), id="next_friday"),
        pytest.param("lunedì", date(2026, 6, 15), id="lunedi_accent"),
        pytest.param("lunedi", date(2026, 6, 15), id="lunedi_no_accent"),
        pytest.param("lunedí", date(2026, 6, 15), id="lunedi_acute_accent"),
        pytest.param("lunedi'", date(2026, 6, 15), id="lunedi_apostrophe_accent"),
        pytest.param("lunedi\u0300", date(2026, 6, 15), id="lunedi_decomposed_accent"),
        pytest.param("lun", date(2026, 6, 15), id="lun"),
        pytest.param("mar", date(2026, 6, 16), id="mar_is_martedi"),
        pytest.param("mercoledì", date(2026, 6, 17), id="mercoledi"),
        pytest.param("giovedì", date(2026, 6, 11), id="giovedi"),
        pytest.param("venerdì prossimo", date(2026, 6, 12), id="venerdi_prossimo"),
        pytest.param("prossimo venerdì", date(2026, 6, 12), id="prossimo_venerdi"),
        pytest.param("sabato", date(2026, 6, 13), id="sabato"),
        pytest.param("domenica prossima", date(2026, 6, 14), id="domenica_prossima"),
        pytest.param("in 3 days", date(2026, 6, 13), id="in_days"),
        pytest.param("in 1 day", date(2026, 6, 11), id="in_one_day"),
        pytest.param("in 0 days", TODAY, id="in_zero_days"),
        pytest.param("tra 3 giorni", date(2026, 6, 13), id="tra_giorni"),
        pytest.param("fra 3 giorni", date(2026, 6, 13), id="fra_giorni"),
        pytest.param("tra 1 giorno", date(2026, 6, 11), id="tra_un_giorno"),
        pytest.param("in 2 weeks", date(2026, 6, 24), id="in_weeks"),
        pytest.param("in 1 week", date(2026, 6, 17), id="in_one_week"),
        pytest.param("tra 2 settimane", date(2026, 6, 24), id="tra_settimane"),
        pytest.param("fra 1 settimana", date(2026, 6, 17), id="fra_una_settimana"),
        pytest.param("  in   3   days ", date(2026, 6, 13), id="extra_spaces"),
        pytest.param("31/12/2026", date(2026, 12, 31), id="day_first_with_year"),
        pytest.param("1/2/2027", date(2027, 2, 1), id="day_first_is_european"),
        pytest.param("31/12/26", date(2026, 12, 31), id="two_digit_year"),
        pytest.param("31/12", date(2026, 12, 31), id="day_month_this_year"),
        pytest.param("10/06", TODAY, id="day_month_today"),
        pytest.param("9/6", date(2027, 6, 9), id="day_month_passed_means_next_year"),
        pytest.param("29/02", date(2028, 2, 29), id="day_month_waits_for_leap_year"),
        pytest.param("２０２６-１２-０１", date(2026, 12, 1), id="fullwidth_digits"),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize("language", ["en", "it"])
def test_parse_date_reads_both_languages_whatever_the_language(language: str) -> None:
    assert parse_date("domani", TODAY, language) == parse_date("tomorrow", TODAY, language)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2026-02-30", id="impossible_day"),
        pytest.param("2026-13-01", id="impossible_month"),
        pytest.param("0000-01-01", id="year_zero"),
        pytest.param("someday", id="unknown_word"),
        pytest.param("", id="empty"),
        pytest.param("in -3 days", id="negative_relative"),
        pytest.param("in 3", id="relative_without_unit"),
        pytest.param("in three days", id="relative_in_words"),
        pytest.param("in 3 months", id="unsupported_unit"),
        pytest.param("in 99999 days", id="relative_too_far"),
        pytest.param("in " + "9" * 5000 + " days", id="relative_huge_number"),
        pytest.param("32/01", id="day_out_of_range"),
        pytest.param("31/13/2026", id="day_first_month_out_of_range"),
        pytest.param("12/31/2026", id="us_month_first"),
        pytest.param("30/02", id="never_valid_day_month"),
        pytest.param("31/12/123", id="three_digit_year"),
        pytest.param("2026/12/01", id="iso_with_slashes"),
        pytest.param("next", id="next_alone"),
        pytest.param("next next friday", id="next_twice"),
        pytest.param("9999-12-31 + 1", id="junk_after_date"),
    ],
)
def test_parse_date_refuses(text: str) -> None:
    error = raises("date.invalid", lambda: parse_date(text, TODAY))
    assert error.params["example"] == DATE_EXAMPLES["en"]


def test_parse_date_example_follows_language() -> None:
    error = raises("date.invalid", lambda: parse_date("someday", TODAY, "it"))
    assert error.params == {"value": "someday", "example": DATE_EXAMPLES["it"]}
    error = raises("date.invalid", lambda: parse_date("someday", TODAY, "fr"))
    assert error.params["example"] == DATE_EXAMPLES["en"]


def test_parse_date_near_date_max_is_invalid_not_overflow() -> None:
    raises("date.invalid", lambda: parse_date("in 2 weeks", date(9999, 12, 30)))


@given(st.dates(), st.dates())
def test_iso_dates_round_trip(value: date, today: date) -> None:
    assert parse_date(value.isoformat(), today) == value


@given(st.dates(max_value=date(9000, 1, 1)), st.sampled_from(["friday", "venerdì", "fri"]))
def test_weekday_is_within_the_next_seven_days(today: date, name: str) -> None:
    result = parse_date(name, today)
    assert result.weekday() == 4
    assert 1 <= (result - today).days <= 7


@given(st.dates(max_value=date(9000, 1, 1)), st.integers(min_value=0, max_value=999))
def test_relative_days(today: date, days: int) -> None:
    assert parse_date(f"tra {days} giorni", today) == today + timedelta(days=days)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        pytest.param("2026-12-01", True, id="iso"),
        pytest.param("2026-02-30", True, id="impossible_iso_still_looks"),
        pytest.param("31/12", True, id="day_month"),
        pytest.param("tomorrow", True, id="tomorrow"),
        pytest.param("Domani", True, id="domani"),
        pytest.param("venerdì", True, id="weekday"),
        pytest.param("in 3 days", True, id="relative"),
        pytest.param("in -3 days", True, id="negative_relative_still_looks"),
        pytest.param("50k", False, id="amount"),
        pytest.param("31.12", False, id="dotted_is_an_amount"),
        pytest.param("ACME", False, id="word"),
        pytest.param("", False, id="empty"),
    ],
)
def test_looks_like_date(token: str, expected: bool) -> None:
    assert looks_like_date(token) is expected


# --- Money --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        pytest.param(Decimal("-1"), "EUR", id="negative"),
        pytest.param(Decimal("1.005"), "EUR", id="sub_cent"),
        pytest.param(Decimal("1e15"), "EUR", id="too_big"),
        pytest.param(Decimal("NaN"), "EUR", id="nan"),
        pytest.param(Decimal("Infinity"), "EUR", id="infinity"),
        pytest.param(1.5, "EUR", id="float"),
        pytest.param(Decimal(1), "eur", id="lower_case_currency"),
        pytest.param(Decimal(1), "EURO", id="four_letters"),
        pytest.param(Decimal(1), "ABC", id="unknown_currency"),
    ],
)
def test_money_refuses(amount: Decimal, currency: str) -> None:
    with pytest.raises(ValueError):
        Money(amount, currency)


def test_money_normalises() -> None:
    assert str(Money(Decimal("-0"), "EUR").amount) == "0.00"
    assert str(Money(Decimal(5), "EUR").amount) == "5.00"
    assert Money(Decimal("5.0"), "EUR") == Money(Decimal("5.00"), "EUR")


def test_value_objects_are_frozen() -> None:
    money = Money(Decimal(1), "EUR")
    with pytest.raises(AttributeError):
        money.amount = Decimal(2)  # type: ignore[misc]


def test_amounts_in_two_currencies_are_kept_apart() -> None:
    sums: MoneyByCurrency = {}
    for currency, amount in [("EUR", "10.50"), ("USD", "3"), ("EUR", "0.50")]:
        add_amount(sums, currency, Decimal(amount))
    assert sums == {"EUR": Decimal("11.00"), "USD": Decimal(3)}


# --- take_date: the dates after due: and close: -------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        pytest.param(["tomorrow", "call", "back"], (date(2026, 6, 11), 1), id="one_word"),
        pytest.param(["in", "3", "days", "call"], (date(2026, 6, 13), 3), id="three_words"),
        pytest.param(["venerdì", "prossimo", "ok"], (date(2026, 6, 12), 2), id="two_words"),
        pytest.param(["friday", "next", "week"], (date(2026, 6, 12), 2), id="longest_run_wins"),
        pytest.param(["in 3 days", "call"], (date(2026, 6, 13), 1), id="quoted_token"),
    ],
)
def test_take_date_takes_the_longest_run_that_reads_as_a_date(
    words: list[str], expected: tuple[date, int]
) -> None:
    assert take_date(words, TODAY) == expected


@pytest.mark.parametrize(
    ("words", "shown"),
    [
        pytest.param(["someday", "call"], "someday", id="first_word_only"),
        pytest.param(["in", "three", "days", "call"], "in three days", id="lead_word_and_rest"),
        pytest.param(["next", "fridya"], "next fridya", id="next_and_typo"),
        pytest.param(["in", "-3", "days"], "in -3 days", id="date_shape_not_cut_shorter"),
        pytest.param([], "", id="nothing"),
    ],
)
def test_take_date_refuses_with_the_words_it_tried(words: list[str], shown: str) -> None:
    error = raises("date.invalid", lambda: take_date(words, TODAY, "it"))
    assert error.params == {"value": shown, "example": DATE_EXAMPLES["it"]}
