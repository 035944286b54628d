"""Tests for bot.deals.arguments: every accepted and refused form of /deal arguments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.deals.arguments import (
    DEAL_ERROR_PARAMS,
    DealRefById,
    DealRefByName,
    NewDealArgs,
    deal_name_key,
    parse_deal_ref,
    parse_new_deal_args,
    parse_next_step_args,
)
from bot.parsing.dates import DATE_EXAMPLES
from bot.parsing.money import Money
from bot.parsing.text import ERROR_PARAMS, ParseError, split_args
from tests.test_parsing import TODAY
from tests.test_parsing import raises as raises_documented

STAGES = ("Lead", "Qualified", "Proposal", "Closed Won", "Closed Lost")


def raises(key: str, call: Callable[[], object]) -> ParseError:
    """Run ``call``, assert it raised ParseError ``key`` with the documented params: deal
    arguments raise bot.parsing's errors too (a bad amount or date)."""
    return raises_documented(key, call, {**ERROR_PARAMS, **DEAL_ERROR_PARAMS})


# --- deal references ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        pytest.param("#12", DealRefById(12), id="id"),
        pytest.param(" #7 ", DealRefById(7), id="id_with_spaces"),
        pytest.param("#007", DealRefById(7), id="id_leading_zeros"),
        pytest.param("ACME", DealRefByName("ACME"), id="name"),
        pytest.param("#12abc", DealRefByName("#12abc"), id="hash_then_letters_is_a_name"),
        pytest.param("#", DealRefByName("#"), id="lone_hash_is_a_name"),
        pytest.param("#١٢", DealRefByName("#١٢"), id="non_ascii_digits_are_a_name"),
    ],
)
def test_parse_deal_ref(token: str, expected: object) -> None:
    assert parse_deal_ref(token) == expected


@pytest.mark.parametrize(
    ("token", "name", "key"),
    [
        pytest.param("ACME Corp", "ACME Corp", "acme corp", id="casefolded"),
        pytest.param("  ACME   Corp \t", "ACME   Corp", "acme corp", id="whitespace_collapsed"),
        pytest.param("Straße", "Straße", "strasse", id="casefold_not_lower"),
        pytest.param("Caffe\u0300", "Caffe\u0300", "caffè", id="nfc_key"),
        pytest.param("🚀 Rocket", "🚀 Rocket", "🚀 rocket", id="emoji"),
        pytest.param("x" * 100, "x" * 100, "x" * 100, id="exactly_max_length"),
    ],
)
def test_deal_ref_by_name(token: str, name: str, key: str) -> None:
    ref = parse_deal_ref(token)
    assert isinstance(ref, DealRefByName)
    assert (ref.name, ref.key) == (name, key)


def test_deal_name_key_matches_ignoring_case_and_spacing() -> None:
    assert deal_name_key("ACME  corp") == deal_name_key(" acme CORP ")


@pytest.mark.parametrize(
    ("token", "key"),
    [
        pytest.param("", "deal.name_empty", id="empty"),
        pytest.param("   ", "deal.name_empty", id="blank"),
        pytest.param("x" * 101, "deal.name_too_long", id="too_long"),
        pytest.param("ACME\nCorp", "deal.name_invalid", id="newline"),
        pytest.param("ACME\x00", "deal.name_invalid", id="nul"),
        pytest.param("#0", "deal.id_invalid", id="id_zero"),
        pytest.param("#9223372036854775808", "deal.id_invalid", id="id_beyond_bigint"),
        pytest.param("#" + "9" * 5000, "deal.id_invalid", id="id_huge"),
    ],
)
def test_parse_deal_ref_refuses(token: str, key: str) -> None:
    raises(key, lambda: parse_deal_ref(token))


def test_name_too_long_reports_max() -> None:
    assert raises("deal.name_too_long", lambda: parse_deal_ref("x" * 101)).params == {"max": "100"}


def test_largest_deal_id() -> None:
    assert parse_deal_ref("#9223372036854775807") == DealRefById(2**63 - 1)


@given(st.text())
def test_deal_name_key_is_idempotent(name: str) -> None:
    assert deal_name_key(deal_name_key(name)) == deal_name_key(name)


@pytest.mark.parametrize(
    ("build", "exception"),
    [
        pytest.param(lambda: NewDealArgs(" "), ParseError, id="blank_name"),
        pytest.param(lambda: NewDealArgs("x", owner_id="bob"), ValueError, id="bad_owner_id"),
        pytest.param(lambda: NewDealArgs("x", source=" "), ValueError, id="blank_source"),
    ],
)
def test_new_deal_args_refuses(
    build: Callable[[], NewDealArgs], exception: type[Exception]
) -> None:
    with pytest.raises(exception):
        build()


def test_deal_ref_by_id_refuses_bool() -> None:
    raises("deal.id_invalid", lambda: DealRefById(True))


# --- /deal new ----------------------------------------------------------------------------


def new(text: str) -> NewDealArgs:
    return parse_new_deal_args(split_args(text), stages=STAGES, default_currency="EUR", today=TODAY)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("ACME", NewDealArgs("ACME"), id="name_only"),
        pytest.param('"ACME Corp"', NewDealArgs("ACME Corp"), id="quoted_name"),
        pytest.param("ACME 50k", NewDealArgs("ACME", eur("50000")), id="amount"),
        pytest.param("50k", NewDealArgs("50k"), id="first_token_is_always_the_name"),
        pytest.param("ACME 50.000 EUR", NewDealArgs("ACME", eur("50000")), id="amount_then_code"),
        pytest.param(
            "ACME USD 20000",
            NewDealArgs("ACME", Money(Decimal(20000), "USD")),
            id="code_then_amount",
        ),
        pytest.param("ACME 1.200,50 €", NewDealArgs("ACME", eur("1200.50")), id="symbol_after"),
        pytest.param("ACME € 50", NewDealArgs("ACME", eur("50")), id="symbol_before"),
        pytest.param("ACME lead", NewDealArgs("ACME", stage="Lead"), id="stage_any_case"),
        pytest.param(
            'ACME "closed won"', NewDealArgs("ACME", stage="Closed Won"), id="quoted_stage"
        ),
        pytest.param(
            "ACME Closed won", NewDealArgs("ACME", stage="Closed Won"), id="multi_word_stage"
        ),
        pytest.param("ACME <@U123|bob>", NewDealArgs("ACME", owner_id="U123"), id="owner_mention"),
        pytest.param("ACME source:web", NewDealArgs("ACME", source="web"), id="source"),
        pytest.param("ACME fonte:fiera", NewDealArgs("ACME", source="fiera"), id="fonte"),
        pytest.param(
            'ACME source:"trade show"',
            NewDealArgs("ACME", source="trade show"),
            id="quoted_source",
        ),
        pytest.param(
            "ACME source: referral", NewDealArgs("ACME", source="referral"), id="source_space"
        ),
        pytest.param(
            "ACME source:https://x.io",
            NewDealArgs("ACME", source="https://x.io"),
            id="source_url",
        ),
        pytest.param(
            "ACME close:2026-12-01",
            NewDealArgs("ACME", close_date=date(2026, 12, 1)),
            id="close_iso",
        ),
        pytest.param(
            "ACME chiusura:domani",
            NewDealArgs("ACME", close_date=date(2026, 6, 11)),
            id="chiusura",
        ),
        pytest.param(
            "ACME close: friday 5k",
            NewDealArgs("ACME", eur("5000"), close_date=date(2026, 6, 12)),
            id="close_space_then_value",
        ),
        pytest.param(
            "ACME close:in 3 days lead",
            NewDealArgs("ACME", stage="Lead", close_date=date(2026, 6, 13)),
            id="close_unquoted_multi_word",
        ),
        pytest.param(
            "ACME chiusura:venerdì prossimo",
            NewDealArgs("ACME", close_date=date(2026, 6, 12)),
            id="chiusura_venerdi_prossimo",
        ),
        pytest.param(
            'ACME close:"next friday"',
            NewDealArgs("ACME", close_date=date(2026, 6, 12)),
            id="close_quoted",
        ),
        pytest.param(
            '"ACME Corp" 50k proposal <@U1|bob> source:web close:31/12',
            NewDealArgs("ACME Corp", eur("50000"), "Proposal", "U1", "web", date(2026, 12, 31)),
            id="everything_in_grammar_order",
        ),
        pytest.param(
            '"ACME Corp" close:31/12 source:web <@U1|bob> proposal 50k',
            NewDealArgs("ACME Corp", eur("50000"), "Proposal", "U1", "web", date(2026, 12, 31)),
            id="everything_reversed",
        ),
    ],
)
def test_parse_new_deal_args(text: str, expected: NewDealArgs) -> None:
    assert new(text) == expected


def test_new_deal_stage_named_like_a_currency_stays_a_stage() -> None:
    args = parse_new_deal_args(
        ["ACME", "50k", "top"], stages=["Top"], default_currency="EUR", today=TODAY
    )
    assert args == NewDealArgs("ACME", eur("50000"), stage="Top")


def test_new_deal_uses_default_currency() -> None:
    args = parse_new_deal_args(["ACME", "5k"], stages=[], default_currency="CHF", today=TODAY)
    assert args.amount == Money(Decimal(5000), "CHF")


@pytest.mark.parametrize(
    ("text", "token"),
    [
        pytest.param("ACME won", "won", id="stage_like_word_not_a_stage"),
        pytest.param("ACME closed", "closed", id="half_a_stage"),
        pytest.param("ACME @bob", "@bob", id="plain_at_name"),
        pytest.param("ACME <#C1|general>", "<#C1|general>", id="channel"),
        pytest.param("ACME 2026-12-01", "2026-12-01", id="date_without_keyword"),
        pytest.param("ACME stage:lead", "stage:lead", id="unknown_keyword"),
        pytest.param("ACME https://x.io", "https://x.io", id="url"),
        pytest.param("ACME EUR", "EUR", id="currency_without_amount"),
        pytest.param("ACME source:", "source:", id="source_without_value"),
        pytest.param("ACME 50k EUR EUR", "EUR", id="currency_after_joined_amount"),
    ],
)
def test_new_deal_refuses_unexpected(text: str, token: str) -> None:
    error = raises("deal.new.unexpected", lambda: new(text))
    assert error.params == {"token": token}


@pytest.mark.parametrize(
    ("text", "part"),
    [
        pytest.param("ACME 50k 60k", "amount", id="two_amounts"),
        pytest.param("ACME lead proposal", "stage", id="two_stages"),
        pytest.param("ACME <@U1> <@U2>", "owner", id="two_owners"),
        pytest.param("ACME source:a fonte:b", "source", id="two_sources"),
        pytest.param("ACME close:today chiusura:domani", "close", id="two_close_dates"),
    ],
)
def test_new_deal_refuses_duplicates(text: str, part: str) -> None:
    assert raises("deal.new.duplicate", lambda: new(text)).params == {"part": part}


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param("", "deal.new.missing_name", id="no_arguments"),
        pytest.param('"" 50k', "deal.name_empty", id="empty_quoted_name"),
        pytest.param('"' + "x" * 101 + '"', "deal.name_too_long", id="name_too_long"),
        pytest.param("ACME 12x", "amount.invalid", id="bad_amount"),
        pytest.param("ACME -5k", "amount.invalid", id="negative_amount"),
        pytest.param("ACME $50 EUR", "amount.invalid", id="two_currencies"),
        pytest.param("ACME close:someday", "date.invalid", id="bad_close_date"),
        pytest.param("ACME close:2026-02-30", "date.invalid", id="impossible_close_date"),
        pytest.param("ACME close:", "date.invalid", id="close_without_value"),
        pytest.param('"ACME 50k', "args.unterminated_quote", id="unterminated_quote"),
    ],
)
def test_new_deal_refuses(text: str, key: str) -> None:
    raises(key, lambda: new(text))


def test_missing_name_leaves_the_usage_line_to_the_reply() -> None:
    # The usage is the reply's own line, once (it was in the message too: shown twice).
    assert raises("deal.new.missing_name", lambda: new("   ")).params == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("call back due:in 3 days", ("call back", date(2026, 6, 13)), id="last"),
        pytest.param("due:in 3 days call back", ("call back", date(2026, 6, 13)), id="first"),
        pytest.param(
            "call in 3 days due:tomorrow", ("call in 3 days", date(2026, 6, 11)), id="task_words"
        ),
        pytest.param("call scadenza: tra 3 giorni", ("call", date(2026, 6, 13)), id="space"),
        pytest.param("call due:today due:tomorrow", ("call", date(2026, 6, 11)), id="last_wins"),
        pytest.param("call 10:30", ("call 10:30", None), id="no_due"),
        pytest.param("due:tomorrow", ("", date(2026, 6, 11)), id="no_task"),
    ],
)
def test_parse_next_step_args(text: str, expected: tuple[str, date | None]) -> None:
    assert parse_next_step_args(split_args(text), today=TODAY) == expected


def test_new_deal_date_error_speaks_the_language() -> None:
    error = raises(
        "date.invalid",
        lambda: parse_new_deal_args(
            ["ACME", "close:boh"], stages=STAGES, default_currency="EUR", today=TODAY, language="it"
        ),
    )
    assert error.params["example"] == DATE_EXAMPLES["it"]
