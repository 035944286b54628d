"""Any `/deal` text gets a 200 and a readable private answer: never a 5xx, never a traceback."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.parsing.text import ParseError, split_args
from tests.harness import BotHarness


def opens_a_form(text: str) -> bool:
    try:
        return [word.lower() for word in split_args(text)] == ["new"]
    except ParseError:
        return False


SUBCOMMANDS = ["new", "advance", "back", "stage", "won", "lost", "note", "next", "amount",
               "owner", "show", "list", "pipeline", "stalled", "help", ""]  # fmt: skip
WORDS = st.sampled_from(
    ["ACME", '"ACME Corp"', "#1", "#0", "#99999999999999999999", "50k", "€1,2,3", "due:",
     "close:31/02", "<@U05OSMITH|o>", "<@", "proposal", "won", "'; DROP TABLE deals; --",
     "🚀", "שלום", "\\x00", "&lt;!channel&gt;", '"', "“", "x" * 150]
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    subcommand=st.sampled_from(SUBCOMMANDS),
    words=st.lists(st.one_of(WORDS, st.text(max_size=20)), max_size=5),
)
def test_any_deal_text_is_answered(bot: BotHarness, subcommand: str, words: list[str]) -> None:
    text = " ".join([subcommand, *words]).strip()
    response = bot.command("U05OSMITH", "/deal", text)
    assert response.status == 200, (text, response.body)
    if opens_a_form(text):
        assert response.body == ""  # `/deal new` alone answers with the form, in a modal
        return
    shown = BotHarness.reply_text(response)
    assert shown.strip(), text
    assert "Traceback" not in shown and "went wrong" not in shown, (text, shown)
