"""Bad input: any /pulse and /oneonone text and any interaction payload fields get a 200 and a clear private
answer, never a 5xx and never an exception escaping a listener.

(Any /deal text: tests/test_deals_fuzz.py.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.views import deals as deal_views
from bot.views import oneonones as oneonone_views
from bot.views import surveys as survey_views
from bot.views.home import HOME_RESULTS_ACTION, HOME_SUMMARY_ACTION
from bot.views.surveys import FORM_ACTION
from tests.harness import BotHarness
from tests.reliability.helpers import MANAGER, REP, ephemeral_of

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Escapes(logging.Handler):
    """Collects what the bot logs when a listener or its after-ack work raised."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.failures: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name in {"handlers.errors", "bot.background"} and "database" not in (
            record.getMessage()
        ):
            self.failures.append(record.getMessage())


@pytest.fixture
def escapes() -> Iterator[Escapes]:
    watch = Escapes()
    logging.getLogger().addHandler(watch)
    yield watch
    logging.getLogger().removeHandler(watch)


def settled(bot: BotHarness, escapes: Escapes, what: object) -> None:
    assert bot.services.background.wait_idle(timeout=30)
    assert escapes.failures == [], (what, escapes.failures)


WORDS = st.sampled_from(
    ["pulse", "enps", "engagement", "weekly", "monthly", "quarterly", "on", "at", "monday",
     "25:99", "10:00", "open", "0d", "-1d", "999999999d", "<#C01GENERAL|general>", "<@U05OSMITH>",
     "<!everyone>", "#general", '"', "'; DROP TABLE surveys; --", "🚀", "2026-W99", "W53",
     "\\x00", "x" * 200, "day", "31", "0", "tutti", "everyone", "run", "²", "99999999999999999999",
     "cron", '"0 10 * * 1-5"', '"*/5 * * * *"', '"0 10 30 2 *"', "in", "Europe/Rome", "Mars/Base",
     "first", "last", "ultimo", "fifth"]
)  # fmt: skip
PULSE = ["help", "templates", "new", "schedule", "list", "start", "close", "pause", "resume",
         "results", "summary", "export", "nonsense", ""]  # fmt: skip


@FUZZ
@given(
    manager=st.booleans(),
    subcommand=st.sampled_from(PULSE),
    words=st.lists(st.one_of(WORDS, st.text(max_size=20)), max_size=5),
)
def test_any_pulse_text_is_answered(
    bot: BotHarness, escapes: Escapes, manager: bool, subcommand: str, words: list[str]
) -> None:
    escapes.failures.clear()
    text = " ".join([subcommand, *words]).strip()
    response = bot.command(MANAGER if manager else REP, "/pulse", text)
    assert response.status == 200, (text, response.body)
    if response.body:
        shown = BotHarness.reply_text(response)
        assert shown.strip() and "went wrong" not in shown, (text, shown)
        assert BotHarness.reply(response).get("response_type", "ephemeral") == "ephemeral"
    else:
        opens_a_form = {"new", "schedule"}  # alone, they answer with a modal
        assert text.split()[:1] in (["new"], ["schedule"]) or subcommand in opens_a_form, text
    settled(bot, escapes, text)


ONEONONE = ["help", "list", "schedule", "add", "notes", "skip", "cancel", "nonsense", "",
            "SCHEDULE", "aggiungi"]  # fmt: skip
ONEONONE_WORDS = st.sampled_from(
    ["<@U06AJONES>", "<@U05OSMITH|oliver>", "<@U01GROSSI>", "<@U99GHOST>", "<@UBOT>",
     "<@U12CRMBOT>", "<@U10CRICCI>", "<@W0>", "<@>", "@oliver", "every", "ogni", "week", "weeks",
     "settimane", "1", "2", "3", "4", "0", "-2", "on", "il", "thursday", "venerdì", "funday", "at",
     "alle", "10:00", "9.30", "24:00", "02:30", "for", "per", "15", "181", "45min", "x" * 600,
     "<script>", "'; DROP TABLE oneonone_series; --", "🚀", "\u0000", "Ünïcödé"]
)  # fmt: skip


@FUZZ
@given(
    manager=st.booleans(),
    subcommand=st.sampled_from(ONEONONE),
    words=st.lists(st.one_of(ONEONONE_WORDS, st.text(max_size=20)), max_size=8),
)
def test_any_oneonone_text_is_answered(
    bot: BotHarness, escapes: Escapes, manager: bool, subcommand: str, words: list[str]
) -> None:
    escapes.failures.clear()
    text = " ".join([subcommand, *words]).strip()
    forms = len(bot.standin.calls_to("views.open"))
    response = bot.command(MANAGER if manager else REP, "/oneonone", text)
    assert response.status == 200, (text, response.body)
    if response.body:
        shown = BotHarness.reply_text(response)
        assert shown.strip() and "went wrong" not in shown, (text, shown)
        ephemeral_of(response)
    else:
        # Alone, `schedule` answers with its form; `notes @person` with the notes modal.
        first = text.split()[:1]
        assert first in (["schedule"], ["SCHEDULE"], ["notes"]), text
        assert bot.standin.wait_for_calls("views.open", forms + 1), text
    settled(bot, escapes, text)


ACTION_IDS = st.sampled_from(
    [deal_views.ADVANCE, deal_views.WIN, deal_views.NOTE, deal_views.LOSE, deal_views.SNOOZE,
     survey_views.OPEN_ANSWERS_ACTION, survey_views.CHANGE_ENPS_ACTION,
     survey_views.COMMENT_ACTION, HOME_SUMMARY_ACTION, HOME_RESULTS_ACTION,
     *(f"pulse.enps.{n}" for n in range(11)), "pulse.enps.11", "unknown.action",
     oneonone_views.ADD_TOPIC, oneonone_views.SKIP, oneonone_views.OUTCOMES]
)  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(["", "1", "0", "-1", "1:9", "1:11", "99999999999999999999", "1:x", ":",
                     "2147483648", "2147483648:9", "²", "1:²",
                     "1:9:9", "null", "{}", "[]", "NaN", "1e9", " 1", "１", "#1"]),
    st.text(max_size=30),
    st.integers().map(str),
    st.tuples(st.integers(-1, 5), st.text(max_size=4)).map(lambda p: f"{p[0]}:{p[1]}"),
)  # fmt: skip
ONEONONE_BUTTONS = {oneonone_views.ADD_TOPIC, oneonone_views.SKIP, oneonone_views.OUTCOMES}
ONEONONE_MANAGER = "U06AJONES"  # any member may lead a 1:1


def private_answers(bot: BotHarness, user_id: str) -> tuple[int, list[str], list[str]]:
    """Modals opened so far, and the texts `user_id` was answered with privately: through
    response URLs, and by DM."""
    posts = [str(p.payload.get("text") or "") for p in bot.standin.response_posts()]
    dms = [m.text for m in bot.dms(user_id)]
    return len(bot.standin.calls_to("views.open")), posts, dms


JSONISH: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@FUZZ
@given(action_id=ACTION_IDS, value=VALUES, from_home=st.booleans(), manager=st.booleans())
def test_any_button_payload_is_answered(
    bot: BotHarness,
    escapes: Escapes,
    *,
    action_id: str,
    value: str,
    from_home: bool,
    manager: bool,
) -> None:
    escapes.failures.clear()
    bot.command(REP, "/deal", "new Fuzzed 1k")  # a deal #1 for the values that name one
    # A 1:1 series #1 (occurrence #1) of the rep's, not the manager's; refused the 2nd time.
    bot.command(ONEONONE_MANAGER, "/oneonone", f"schedule <@{REP}> every week on monday at 10:00")
    assert bot.services.background.wait_idle(timeout=30)
    user = MANAGER if manager else REP
    seen = private_answers(bot, user)
    response = bot.click(user, action_id, value, from_home=from_home)
    assert response.status in (200, 404), response.status  # 404: Bolt's "no such listener"
    assert response.body == "" or response.status == 404
    settled(bot, escapes, (action_id, value))
    if action_id in ONEONONE_BUTTONS:
        # Every 1:1 click is answered: a modal opens, or the person reads a private answer
        # (ephemeral in the conversation, by DM from App Home) — the skip, or why not.
        opened, posts, dms = private_answers(bot, user)
        new = posts[len(seen[1]) :] + dms[len(seen[2]) :]
        assert opened > seen[0] or new, (action_id, value)
        assert all(text.strip() and "went wrong" not in text for text in new), new


CALLBACKS = st.sampled_from(
    [deal_views.NEW_MODAL, deal_views.NOTE_MODAL, deal_views.LOST_MODAL,
     survey_views.ANSWERS_CALLBACK, survey_views.COMMENT_CALLBACK, survey_views.COMPOSE_CALLBACK,
     survey_views.SCHEDULE_CALLBACK, oneonone_views.TOPIC_MODAL, oneonone_views.NOTES_MODAL,
     oneonone_views.OUTCOMES_MODAL, oneonone_views.SCHEDULE_MODAL]
)  # fmt: skip
BLOCK_IDS = st.sampled_from(
    ["name", "amount", "stage", "owner", "source", "close", "note", "reason", "title",
     "questions", "comment", "q0", "q1", "q5", "survey", "cadence", "weekday", "day", "time",
     "audience", "channels", "users", "open", "done", "every", "followups", "minutes", "notes",
     "outcome", "person", "topic", "zzz"]
)  # fmt: skip
ELEMENTS = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["plain_text_input", "radio_buttons", "datepicker", "x"]),
        "value": st.one_of(st.none(), VALUES, JSONISH),
        "selected_option": st.one_of(st.none(), JSONISH, st.fixed_dictionaries({"value": VALUES})),
        "selected_date": st.one_of(st.none(), st.sampled_from(["2026-02-30", "x", "2026-12-01"])),
        "selected_user": st.one_of(st.none(), st.sampled_from(["U05OSMITH", "UNOBODY", ""])),
        "selected_users": st.one_of(JSONISH, st.lists(st.sampled_from(["U05OSMITH", "UX", ""]))),
        "selected_conversations": st.one_of(JSONISH, st.lists(st.sampled_from(["C01GENERAL", ""]))),
        "selected_time": st.one_of(JSONISH, st.sampled_from(["09:00", "25:61", "", "2:30"])),
    },
)
STATES = st.dictionaries(
    BLOCK_IDS,
    st.dictionaries(st.sampled_from(["value", "answer", FORM_ACTION, "x"]), ELEMENTS, max_size=2),
    max_size=5,
)
METADATA = st.one_of(
    VALUES,
    JSONISH.map(json.dumps),
    st.fixed_dictionaries({"deal": st.one_of(JSONISH, st.integers())}).map(json.dumps),
)


@settings(FUZZ, max_examples=150)  # forms have the most fields to get wrong
@given(callback_id=CALLBACKS, values=STATES, metadata=METADATA, manager=st.booleans())
def test_any_form_submission_is_answered(
    bot: BotHarness,
    escapes: Escapes,
    *,
    callback_id: str,
    values: dict[str, Any],
    metadata: str,
    manager: bool,
) -> None:
    escapes.failures.clear()
    bot.command(REP, "/deal", "new Fuzzed 1k")
    response = bot.submit(MANAGER if manager else REP, callback_id, values, metadata)
    assert response.status == 200, response.body
    if response.body:
        answer = BotHarness.reply(response)
        assert answer.get("response_action") in ("errors", "update", "clear"), answer
        assert all(isinstance(v, str) and v for v in answer.get("errors", {}).values())
    settled(bot, escapes, (callback_id, values, metadata))
