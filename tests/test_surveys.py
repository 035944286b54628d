"""Pulse and eNPS surveys through signed requests against the stand-in, on both databases."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import MetaData, select, update

from bot.clock import FrozenClock
from bot.delivery import survey_dms as jobs
from bot.delivery.summary import compute_summary
from bot.i18n import Texts
from bot.standin import SimUser, SlackStandIn, validate_blocks, validate_view
from bot.surveys.anonymity import who_answered
from bot.surveys.model import Question
from bot.surveys.releases import Figure, decide, question_kind
from bot.surveys.results import OVERLAP, THRESHOLD
from bot.surveys.schedule import first_delivery, local_moment
from bot.views import surveys as views
from bot.views.spreadsheet import safe_cell
from bot.views.summary import summary_blocks
from bot.weeks import week_containing
from storage import surveys as store
from storage.db import Database
from storage.scheduling import ScheduledEffect
from tests.conftest import make_settings
from tests.harness import BotHarness, block_text

MANAGER = "U06AJONES"  # an English-speaking manager, named in PULSEBOT_MANAGERS
PEOPLE = ["U01GROSSI", "U02MBIANC", "U03FESPOS", "U04LROMAN", "U05OSMITH", "U06AJONES",
          "U07JMILLE", "U08EDAVIS", "U09HSATO", "U13ACOLOM", "U14SBROWN", "U15DGARCI",
          "U16YTANAK"]  # fmt: skip
NOT_SURVEYED = ["U10CRICCI", "U11PGREEN", "U12CRMBOT", "UBOT"]  # deactivated, guest, bots


@pytest.fixture
def bot(db: Database, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    settings = make_settings(
        SLACK_API_URL=standin.url,
        DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
        PULSEBOT_MANAGERS=MANAGER,
    )
    harness = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
    yield harness
    harness.close()


def start(bot: BotHarness, survey: str, args: str = "") -> str:
    text = BotHarness.reply_text(bot.command(MANAGER, "/pulse", f"start {survey} {args}".strip()))
    return text


def wait_for_dms(bot: BotHarness, people: list[str], count: int = 1) -> None:
    """The DMs are in Slack and the fan-out has finished (it records them a batch at a time)."""
    bot.standin.wait_for(
        lambda: all(len(bot.dms(p)) >= count for p in people), describe="survey DMs", timeout=10
    )
    assert bot.services.background.wait_idle()


def survey_dm(bot: BotHarness, user_id: str) -> Any:
    return bot.dms(user_id)[0]


def latest_view(bot: BotHarness) -> dict[str, Any]:
    """The newest modal (the Home tab, republished in the background, is a view too)."""

    def newest() -> dict[str, Any] | None:
        modals = [view for view in bot.standin.views if view.get("type") == "modal"]
        return modals[-1] if modals else None

    return bot.standin.wait_for(newest, describe="a modal")


def buttons(message: Any) -> list[dict[str, Any]]:
    return next(b["elements"] for b in message.blocks if b["type"] == "actions")


def click_enps(bot: BotHarness, user_id: str, score: int) -> None:
    dm = survey_dm(bot, user_id)
    value = buttons(dm)[score]["value"]
    assert bot.click(user_id, f"pulse.enps.{score}", value, message=dm).status == 200


def results(bot: BotHarness, survey: str, extra: str = "") -> str:
    return BotHarness.reply_text(
        bot.command(MANAGER, "/pulse", f"results {survey} {extra}".strip())
    )


def test_enps_is_answered_with_one_click(bot: BotHarness) -> None:
    reply = start(bot, "enps")
    assert "Run 1 of `enps` is open" in reply
    wait_for_dms(bot, PEOPLE)
    for user in NOT_SURVEYED:
        assert bot.dms(user) == []
    posts = bot.standin.calls_to("chat.postMessage")
    assert len(posts) == len(PEOPLE)
    assert {call.params["channel"] for call in posts} == set(PEOPLE)  # the user id itself
    assert bot.standin.calls_to("conversations.open") == []
    dm = survey_dm(bot, "U05OSMITH")
    assert validate_blocks(dm.blocks) == []
    assert [b["text"]["text"] for b in buttons(dm)] == [str(n) for n in range(11)]

    for user, score in zip(PEOPLE[:5], [10, 9, 9, 7, 2], strict=True):
        click_enps(bot, user, score)
    bot.standin.wait_for(lambda: bot.dms("U05OSMITH")[0].edit_count == 1, describe="DM update")
    bot.services.background.wait_idle()
    # Each click edits exactly the DM that was clicked, once: its own channel and ts.
    updates = {(c.params["channel"], c.params["ts"]) for c in bot.standin.calls_to("chat.update")}
    assert updates == {(survey_dm(bot, u).channel, survey_dm(bot, u).ts) for u in PEOPLE[:5]}
    assert all(survey_dm(bot, u).edit_count == 1 for u in PEOPLE[:5])
    updated = block_text({"blocks": bot.dms("U05OSMITH")[0].blocks})
    assert "your answer is recorded" in updated and "2" not in updated.split("[")[0]
    assert "[Change]" in updated and "[Add a comment]" in updated

    # While the run is open, how many answered and nothing else.
    text = results(bot, "enps")
    assert "5 of 13 have answered so far" in text and "eNPS +" not in text
    bot.clock.advance(timedelta(hours=1))
    bot.command(MANAGER, "/pulse", "close enps")
    text = results(bot, "enps")
    assert "5 of 13 answered" in text
    assert "eNPS +40" in text
    # Four of the five are not managers: a score, but counts per band need six.
    assert "promoters" not in text


def test_band_counts_show_for_groups_of_twice_the_threshold(bot: BotHarness) -> None:
    start(bot, "enps")
    wait_for_dms(bot, PEOPLE)
    employees = [p for p in PEOPLE if p not in ("U01GROSSI", MANAGER)][:6]
    for user, score in zip(employees, [10, 10, 9, 8, 7, 2], strict=True):
        click_enps(bot, user, score)
    bot.clock.advance(timedelta(hours=1))
    bot.command(MANAGER, "/pulse", "close enps")
    text = results(bot, "enps")
    assert "*eNPS +33* · 3 promoters · 2 passives · 1 detractors" in text


def test_enps_click_in_italian_and_change(bot: BotHarness) -> None:
    start(bot, "enps")
    wait_for_dms(bot, ["U02MBIANC"])
    assert "Con quale probabilità consiglieresti" in block_text(
        {"blocks": survey_dm(bot, "U02MBIANC").blocks}
    )
    click_enps(bot, "U02MBIANC", 3)
    bot.standin.wait_for(lambda: survey_dm(bot, "U02MBIANC").edit_count == 1)
    dm = survey_dm(bot, "U02MBIANC")
    answered = block_text({"blocks": dm.blocks})
    assert "la tua risposta è registrata" in answered and "3" not in answered.split("[")[0]
    # "Change" opens a form holding the answer at that moment; Slack keeps no DM with it.
    bot.click("U02MBIANC", views.CHANGE_ENPS_ACTION, buttons(dm)[0]["value"], message=dm)
    modal = latest_view(bot)
    assert modal["callback_id"] == views.ANSWERS_CALLBACK
    assert modal["blocks"][1]["element"]["initial_option"]["value"] == "3"
    values = {"q0": {"answer": {"type": "static_select", "selected_option": {"value": "8"}}}}
    done = bot.submit("U02MBIANC", views.ANSWERS_CALLBACK, values, buttons(dm)[0]["value"])
    assert done.status == 200 and done.body == ""
    bot.standin.wait_for(lambda: survey_dm(bot, "U02MBIANC").edit_count == 2)
    assert "8" not in block_text({"blocks": survey_dm(bot, "U02MBIANC").blocks}).split("[")[0]
    with bot.services.db.transaction() as session:
        answers = session.scalars(select(store.SurveyAnswer)).all()
    assert [(a.question, a.number) for a in answers] == [(0, 8)]


def answer_values(scores: list[int], comment: str | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {
        f"q{i}": {"answer": {"type": "radio_buttons", "selected_option": {"value": str(s)}}}
        for i, s in enumerate(scores)
    }
    values["q5"] = {"answer": {"type": "plain_text_input", "value": comment}}
    return values


def test_pulse_modal_records_all_answers_and_reopens_with_them(bot: BotHarness) -> None:
    start(bot, "pulse")
    wait_for_dms(bot, PEOPLE)
    dm = survey_dm(bot, "U05OSMITH")
    assert "[Start (6 questions)]" in block_text({"blocks": dm.blocks})
    run_value = buttons(dm)[0]["value"]
    bot.click("U05OSMITH", views.OPEN_ANSWERS_ACTION, run_value, message=dm)
    modal = latest_view(bot)
    assert modal["callback_id"] == views.ANSWERS_CALLBACK
    assert len([b for b in modal["blocks"] if b["type"] == "input"]) == 6

    missing = bot.submit("U05OSMITH", views.ANSWERS_CALLBACK, answer_values([4, 4]), run_value)
    assert BotHarness.reply(missing)["response_action"] == "errors"
    assert "q2" in BotHarness.reply(missing)["errors"]

    ok = bot.submit(
        "U05OSMITH", views.ANSWERS_CALLBACK, answer_values([4, 5, 3, 2, 1], "<b>ok</b>"), run_value
    )
    assert ok.status == 200 and ok.body == ""
    bot.standin.wait_for(lambda: survey_dm(bot, "U05OSMITH").edit_count == 1)
    assert "you can change your answers until" in block_text(
        {"blocks": survey_dm(bot, "U05OSMITH").blocks}
    )

    bot.click(
        "U05OSMITH", views.OPEN_ANSWERS_ACTION, run_value, message=survey_dm(bot, "U05OSMITH")
    )
    bot.standin.wait_for(lambda: len(bot.standin.calls_to("views.open")) == 2)
    reopened = latest_view(bot)
    first = reopened["blocks"][1]["element"]
    assert first["initial_option"]["value"] == "4"
    assert reopened["blocks"][6]["element"]["initial_value"] == "<b>ok</b>"


def test_results_hidden_below_threshold_then_shown_with_shuffled_comments(bot: BotHarness) -> None:
    start(bot, "pulse")
    wait_for_dms(bot, PEOPLE)
    run_value = buttons(survey_dm(bot, PEOPLE[0]))[0]["value"]
    for user in PEOPLE[:2]:
        bot.submit(
            user,
            views.ANSWERS_CALLBACK,
            answer_values([5, 4, 4, 4, 2], "more <coffee> & tea"),
            run_value,
        )
    bot.submit(PEOPLE[2], views.ANSWERS_CALLBACK, answer_values([1, 2, 3, 4, 5]), run_value)
    bot.submit(PEOPLE[3], views.ANSWERS_CALLBACK, answer_values([5, 5, 5, 5, 5]), run_value)
    bot.clock.advance(timedelta(hours=1))
    bot.command(MANAGER, "/pulse", "close pulse")
    shown = results(bot, "pulse")
    assert "4 of 13 answered" in shown
    # PEOPLE[0] is a workspace admin, so a manager: three people count. Workload 5, 1, 5
    # (and the admin's 5) → mean 4.0 over the four answers, favourable 3/4.
    assert "mean *4.0* · 75% favourable (4–5) · 4 answers" in shown
    # The comment question had 2 answers (one the admin's): hidden on its own.
    assert "fewer than 3 people answered it, not counting managers" in shown
    assert "coffee" not in shown


def test_a_run_answered_by_too_few_shows_nothing(bot: BotHarness) -> None:
    start(bot, "pulse")
    wait_for_dms(bot, PEOPLE)
    run_value = buttons(survey_dm(bot, PEOPLE[0]))[0]["value"]
    for user in PEOPLE[1:3]:
        bot.submit(user, views.ANSWERS_CALLBACK, answer_values([5, 4, 4, 4, 2], "hi"), run_value)
    bot.clock.advance(timedelta(hours=1))
    bot.command(MANAGER, "/pulse", "close pulse")
    hidden = results(bot, "pulse")
    assert "2 of the 3 responses needed — results are hidden to protect anonymity" in hidden
    assert "hi" not in hidden.split() and "mean" not in hidden


def test_anonymity_no_row_holds_a_user_id_and_an_answer(bot: BotHarness) -> None:
    start(bot, "pulse")
    wait_for_dms(bot, PEOPLE)
    run_value = buttons(survey_dm(bot, PEOPLE[0]))[0]["value"]
    comment = "my manager never listens"
    for user in PEOPLE[:4]:
        bot.submit(user, views.ANSWERS_CALLBACK, answer_values([3, 3, 3, 3, 3], comment), run_value)
    ids = {u.id for u in bot.standin.workspace.users}
    secret = bot.services.settings.secret.get_secret_value()
    metadata = MetaData()
    metadata.reflect(bot.services.db.engine)
    with bot.services.db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(table.select()):
                cells = [str(v) for v in row if v is not None]
                has_user = any(c in ids for c in cells)
                has_answer = any(c == comment for c in cells) or table.name == "survey_answers"
                assert not (has_user and has_answer), (table.name, row)
                assert all(secret not in c for c in cells)
    with bot.services.db.transaction() as session:
        answer_days = {a.answered_on for a in session.scalars(select(store.SurveyAnswer))}
        respondents = session.scalars(select(store.SurveyRespondent.respondent)).all()
    assert len(respondents) == 4 and not set(respondents) & ids  # keys, not people
    assert len(answer_days) == 1  # the day, no time


def test_answering_writes_no_row_that_names_the_person(bot: BotHarness) -> None:
    # A row with the user id written beside the answers (a list of who answered, a flag on
    # the delivery) is linked to them by the database itself — same transaction id, same
    # physical order — even when no column says so. Answering writes only anonymous rows.
    start(bot, "enps")
    wait_for_dms(bot, PEOPLE)
    run_value = buttons(survey_dm(bot, PEOPLE[0]))[0]["value"]
    ids = {u.id for u in bot.standin.workspace.users}
    dm = survey_dm(bot, PEOPLE[1])
    values = [button["value"] for button in buttons(dm)]
    before = bot.table_rows()
    click_enps(bot, PEOPLE[0], 9)
    bot.click(PEOPLE[1], "pulse.enps.3", values[3], message=dm)
    bot.click(PEOPLE[1], "pulse.enps.7", values[7], message=dm)  # a change of mind
    enps_form: dict[str, dict[str, dict[str, Any]]] = {
        "q0": {"answer": {"type": "static_select", "selected_option": {"value": "10"}}},
        "q1": {"answer": {"type": "plain_text_input", "value": "great team"}},
    }
    bot.submit(PEOPLE[2], views.ANSWERS_CALLBACK, enps_form, run_value)
    assert bot.services.background.wait_idle()
    after = bot.table_rows()
    written = {name: rows - before.get(name, set()) for name, rows in after.items()}
    assert written["survey_answers"] and written["survey_respondents"]
    for name, rows in written.items():
        for row in rows:
            assert not ids & set(row), (name, row)
    with bot.services.db.transaction() as session:
        assert store.respondent_count(session, 1) == 3
        who = who_answered(session, bot.services.settings.secret.get_secret_value(), 1)
    assert who == set(PEOPLE[:3])  # known only with the secret


def test_only_people_the_run_was_sent_to_can_answer_it(bot: BotHarness) -> None:
    start(bot, "enps", "to <@U01GROSSI> <@U02MBIANC> <@U03FESPOS>")
    wait_for_dms(bot, ["U01GROSSI"])
    dm = survey_dm(bot, "U01GROSSI")
    forged = buttons(dm)[10]["value"]  # the run id is no secret
    assert bot.click("U05OSMITH", "pulse.enps.10", forged, message=dm).status == 200
    post = bot.standin.wait_for(bot.standin.response_posts)
    assert "survey is closed" in (post[-1].text or "")
    with bot.services.db.transaction() as session:
        assert store.respondent_count(session, 1) == 0
        assert session.scalars(select(store.SurveyAnswer)).all() == []


def test_only_managers_and_clear_errors(bot: BotHarness) -> None:
    refused = BotHarness.reply_text(bot.command("U05OSMITH", "/pulse", "start pulse"))
    assert "Only managers can use `/pulse start`" in refused
    assert bot.standin.calls_to("chat.postMessage") == []
    assert "I don't know the survey `nope`" in start(bot, "nope")
    bad = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "schedule pulse daily"))
    assert "`daily` is not a cadence" in bad
    bad_time = BotHarness.reply_text(
        bot.command(MANAGER, "/pulse", "schedule pulse weekly at 25:00")
    )
    assert "`25:00` is not a time" in bad_time
    assert "Which survey?" in BotHarness.reply_text(bot.command(MANAGER, "/pulse", "results"))
    with bot.services.db.transaction() as session:
        assert session.scalars(select(store.SurveyRun)).all() == []
    start(bot, "enps")
    assert "already has an open run" in start(bot, "enps")


def test_compose_refuses_an_eleventh_question(bot: BotHarness) -> None:
    lines = "\n".join(f"scale: Question {n}" for n in range(11))
    values = {
        "name": {"value": {"type": "plain_text_input", "value": "retro"}},
        "title": {"value": {"type": "plain_text_input", "value": "Retro"}},
        "questions": {"value": {"type": "plain_text_input", "value": lines}},
    }
    refused = BotHarness.reply(bot.submit(MANAGER, views.COMPOSE_CALLBACK, values))
    assert "at most 10 questions; this one has 11" in refused["errors"]["questions"]
    values["questions"]["value"]["value"] = (
        "\n".join(lines.splitlines()[:9]) + "\nchoice: Day? | Mon | Fri\ntext?: Else?"
    )
    refused = BotHarness.reply(bot.submit(MANAGER, views.COMPOSE_CALLBACK, values))
    assert "this one has 11" in refused["errors"]["questions"]
    values["questions"]["value"]["value"] = (
        "enps: Recommend?\nchoice: Day? | Mon | Fri\ntext?: Else?"
    )
    assert bot.submit(MANAGER, views.COMPOSE_CALLBACK, values).body == ""
    assert "Run 1 of `retro`" in start(bot, "retro")
    listing = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "list"))
    assert "*retro* — Retro" in listing


def test_pulse_new_opens_the_compose_modal(bot: BotHarness) -> None:
    bot.command(MANAGER, "/pulse", "new")
    view = latest_view(bot)
    assert view["callback_id"] == views.COMPOSE_CALLBACK


def test_templates_in_both_languages(bot: BotHarness) -> None:
    english = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "templates"))
    assert "Built-in surveys" in english
    assert "`pulse` — Weekly pulse (6 questions)" in english
    assert "`enps` — eNPS (2 questions)" in english
    assert "`engagement` — Quarterly engagement (10 questions)" in english
    # Giulia is a workspace admin (so a manager) whose Slack locale is it-IT.
    italian = BotHarness.reply_text(bot.command("U01GROSSI", "/pulse", "templates"))
    assert "Sondaggi predefiniti" in italian
    assert "`pulse` — Pulse settimanale (6 domande)" in italian
    assert "`enps` — eNPS (2 domande)" in italian
    assert "`engagement` — Engagement trimestrale (10 domande)" in italian
    assert "Avviane uno ora con `/pulse start &lt;id&gt;`" in italian
    assert not {"questions", "Weekly", "Built-in"} & set(italian.replace("(", " ").split())


def test_close_updates_unanswered_dms_and_late_clicks_are_told_politely(bot: BotHarness) -> None:
    start(bot, "enps")
    wait_for_dms(bot, PEOPLE)
    click_enps(bot, PEOPLE[1], 9)
    stale = survey_dm(bot, "U04LROMAN")  # a client that has not refreshed yet
    reply = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "close enps"))
    assert "Run 1 of `enps` is closed" in reply
    bot.standin.wait_for(lambda: survey_dm(bot, "U04LROMAN").edit_count == 1)
    assert "is closed now" in block_text({"blocks": survey_dm(bot, "U04LROMAN").blocks})
    bot.click("U04LROMAN", "pulse.enps.10", buttons(stale)[10]["value"], message=stale)
    post = bot.standin.wait_for(bot.standin.response_posts)
    assert "survey is closed" in (post[-1].text or "")
    with bot.services.db.transaction() as session:
        assert store.respondent_count(session, 1) == 1


def test_export_is_a_csv_in_the_askers_dm_and_obeys_the_threshold(bot: BotHarness) -> None:
    start(bot, "enps")
    wait_for_dms(bot, PEOPLE)
    for user, score in zip(PEOPLE[1:3], [10, 2], strict=True):
        click_enps(bot, user, score)
    bot.command(MANAGER, "/pulse", "export enps")
    files = bot.standin.wait_for(lambda: bot.standin.files)
    assert files[-1].content.decode().count("\n") == 1  # open: no run is released yet
    bot.clock.advance(timedelta(hours=1))
    bot.command(MANAGER, "/pulse", "close enps")
    bot.command(MANAGER, "/pulse", "export enps")
    files = bot.standin.wait_for(lambda: bot.standin.files[1:])
    content = files[-1].content.decode()
    assert "hidden_below_threshold" in content and "promoters" not in content
    assert "U0" not in content


@pytest.mark.parametrize(
    "comment",
    ['=HYPERLINK("http://evil.example","click")', "@SUM(1+1)*cmd", "+1", "-2+3"],
)
def test_the_survey_export_runs_no_formula(bot: BotHarness, comment: str) -> None:
    """Attack: a comment a spreadsheet would run as a formula when the manager opens the CSV."""
    start(bot, "pulse")
    wait_for_dms(bot, PEOPLE)
    run_value = buttons(survey_dm(bot, PEOPLE[1]))[0]["value"]
    for user in EMPLOYEES[:3]:
        bot.submit(user, views.ANSWERS_CALLBACK, answer_values([3, 3, 3, 3, 3], comment), run_value)
    bot.clock.advance(timedelta(hours=1))
    bot.command(MANAGER, "/pulse", "close pulse")
    bot.command(MANAGER, "/pulse", "export pulse")
    raw = bot.standin.wait_for(lambda: bot.standin.files)[-1].content.decode("utf-8-sig")
    cells = [row[-1] for row in csv.reader(io.StringIO(raw)) if row[-2:-1] == ["comment"]]
    assert cells == ["'" + comment] * 3


@pytest.mark.parametrize(
    ("value", "written"),
    [
        pytest.param(-25, -25, id="a_negative_number_stays_a_number"),
        pytest.param(Decimal("-3.50"), Decimal("-3.50"), id="a_decimal_too"),
        pytest.param("-25", "'-25", id="text_starting_with_minus"),
        pytest.param("=1+1", "'=1+1", id="equals"),
        pytest.param("\rcmd", "'\rcmd", id="carriage_return"),
        pytest.param("a=b", "a=b", id="inside_is_fine"),
        pytest.param(None, "", id="nothing"),
    ],
)
def test_one_csv_writer_makes_formula_cells_inert(value: object, written: object) -> None:
    assert safe_cell(value) == written


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_schedule_opens_one_run_per_occurrence_in_each_persons_time_zone(bot: BotHarness) -> None:
    services = bot.services
    reply = BotHarness.reply_text(
        bot.command(MANAGER, "/pulse", "schedule enps weekly on monday at 10:00 open 2d")
    )
    assert (
        "`enps` is scheduled weekly on Monday at 10:00 (Europe/Rome) to everyone, open 2 days"
        in (reply)
    )
    with services.db.transaction() as session:
        survey = store.find_survey(session, "enps")
    assert survey is not None and survey.next_run_at is not None
    monday = survey.next_run_at
    assert monday.astimezone(services.settings.zone).strftime("%a %H:%M") == "Mon 10:00"
    day = monday.astimezone(services.settings.zone).date()
    # The run exists from the first moment it is Monday 10:00 anywhere (UTC+14)…
    first = local_moment(day, "10:00", timezone(timedelta(hours=14)))
    rome_offset = monday.astimezone(services.settings.zone).utcoffset()
    assert rome_offset is not None and first == monday - (timedelta(hours=14) - rome_offset)
    assert jobs.open_due_runs(services, first - timedelta(minutes=1)) == 0
    assert jobs.open_due_runs(services, first) == 1
    assert jobs.open_due_runs(services, first + timedelta(minutes=1)) == 0  # once per occurrence
    with services.db.transaction() as session:
        (run,) = store.runs_of(session, survey.id)
    assert run.closes_at == monday + timedelta(days=2)  # open 2 days after the nominal time
    # Until its time comes in the schedule's own zone, `/pulse list` says it is going out.
    listing = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "list"))
    assert "run 1 going out: each person gets the DM at 10:00 in their own time zone" in listing

    # …and each person gets the DM at 10:00 on Monday in their own zone, not a minute before.
    zones = {u.id: u.tz for u in bot.standin.workspace.users if u.id in PEOPLE and u.tz}
    assert {"Europe/Rome", "Europe/London", "America/New_York", "Asia/Tokyo"} <= set(zones.values())
    due = {user: local_moment(day, "10:00", ZoneInfo(tz)) for user, tz in zones.items()}
    for moment in sorted(set(due.values())):
        jobs.dispatch_due_deliveries(services, moment - timedelta(minutes=1))
        assert {u for u in PEOPLE if bot.dms(u)} == {u for u, at in due.items() if at < moment}
        jobs.dispatch_due_deliveries(services, moment)
        assert {u for u in PEOPLE if bot.dms(u)} == {u for u, at in due.items() if at <= moment}
        assert all(len(bot.dms(u)) <= 1 for u in PEOPLE)
    tokyo, new_york = due["U09HSATO"], due["U07JMILLE"]
    assert tokyo == monday - (timedelta(hours=9) - rome_offset) and tokyo < monday < new_york

    # The App Home shows the run no earlier than the DM: not in New York at Tokyo's 10:00.
    def on_home(user_id: str, at: datetime) -> list[int]:
        bot.clock.now = at
        return [s.run_id for s in services.surveys.home_surveys(user_id, 3)[0]]

    assert on_home("U07JMILLE", tokyo) == []
    assert on_home("U07JMILLE", new_york) == [run.id]
    assert on_home("U09HSATO", tokyo) == [run.id]

    # People who join later: at once if their 10:00 has passed, else at their 10:00.
    workspace = bot.standin.workspace
    joiners = [
        SimUser(id="U90KNEW", name="ken.new", tz="Asia/Tokyo"),
        SimUser(id="U91SNEW", name="sam.new", tz="America/New_York"),
    ]
    workspace.users += joiners
    now = tokyo + timedelta(hours=2)
    assert jobs.open_due_runs(services, now) == 0
    jobs.dispatch_due_deliveries(services, now)
    assert len(bot.dms("U90KNEW")) == 1 and bot.dms("U91SNEW") == []
    jobs.open_due_runs(services, now + timedelta(minutes=1))  # the same hour: no second look-up
    jobs.dispatch_due_deliveries(services, new_york)
    assert len(bot.dms("U91SNEW")) == 1 and len(bot.dms("U90KNEW")) == 1
    with services.db.transaction() as session:
        assert store.invited_count(session, run.id) == len(PEOPLE) + 2

    # Closed by hand, the run leaves none of its hourly refresh keys behind.
    def refresh_keys() -> list[str]:
        with services.db.transaction() as session:
            keys = session.scalars(select(ScheduledEffect.key)).all()
        return [key for key in keys if key.startswith(f"survey-audience:{run.id}:")]

    assert refresh_keys()
    assert "closed" in BotHarness.reply_text(bot.command(MANAGER, "/pulse", "close enps"))
    assert refresh_keys() == []


def test_reminder_goes_once_to_people_who_have_not_answered(bot: BotHarness) -> None:
    start(bot, "enps")
    wait_for_dms(bot, PEOPLE)
    click_enps(bot, "U05OSMITH", 9)
    with bot.services.db.transaction() as session:
        run = store.get_run(session, 1)
    assert run is not None
    assert run.remind_at == run.closes_at - timedelta(hours=24)
    assert jobs.send_due_reminders(bot.services, run.remind_at - timedelta(minutes=1)) == 0
    assert jobs.send_due_reminders(bot.services, run.remind_at) == len(PEOPLE) - 1
    assert jobs.send_due_reminders(bot.services, run.remind_at) == 0
    assert len(bot.dms("U05OSMITH")) == 1
    reminder = bot.dms(PEOPLE[3])[-1]
    assert "anonymous" in block_text({"blocks": reminder.blocks})
    assert jobs.close_due_runs(bot.services, run.closes_at) == 1
    assert "is closed now" in block_text({"blocks": survey_dm(bot, PEOPLE[3]).blocks})
    assert "answers were recorded" in block_text({"blocks": survey_dm(bot, "U05OSMITH").blocks})


def test_a_one_day_run_reminds_halfway_not_with_the_invitation(bot: BotHarness) -> None:
    start(bot, "enps", "open 1d")
    wait_for_dms(bot, PEOPLE)
    with bot.services.db.transaction() as session:
        run = store.get_run(session, 1)
    assert run is not None and run.remind_at == run.opens_at  # 24 h before a 1-day close
    assert jobs.send_due_reminders(bot.services, run.opens_at + timedelta(minutes=1)) == 0
    assert jobs.send_due_reminders(bot.services, run.closes_at - timedelta(hours=13)) == 0
    assert jobs.send_due_reminders(bot.services, run.closes_at - timedelta(hours=11)) == len(PEOPLE)
    assert jobs.send_due_reminders(bot.services, run.closes_at - timedelta(hours=1)) == 0


def test_someone_whose_dm_went_out_late_is_reminded_later_and_once(bot: BotHarness) -> None:
    start(bot, "enps")  # open 3 days, reminder 24 h before the close
    wait_for_dms(bot, PEOPLE)
    with bot.services.db.transaction() as session:
        run = store.get_run(session, 1)
        assert run is not None
        late = run.closes_at - timedelta(hours=30)  # e.g. their own time zone's 10:00
        session.execute(
            update(store.SurveyDelivery)
            .where(store.SurveyDelivery.user_id == PEOPLE[3])
            .values(claimed_at=late)
        )
    assert jobs.send_due_reminders(bot.services, run.remind_at) == len(PEOPLE) - 1
    assert len(bot.dms(PEOPLE[3])) == 1  # 6 hours after their DM: too soon
    halfway = late + (run.closes_at - late) / 2
    assert jobs.send_due_reminders(bot.services, halfway - timedelta(minutes=1)) == 0
    assert jobs.send_due_reminders(bot.services, halfway) == 1
    assert "anonymous" in block_text({"blocks": bot.dms(PEOPLE[3])[-1].blocks})
    with bot.services.db.transaction() as session:
        assert store.runs_to_remind(session, halfway) == []  # everyone has had theirs


@pytest.mark.parametrize(
    "scores, expected", [([10, 9, 9, 7, 2], "+40"), ([0, 6, 7], "-67"), ([8, 7, 7], "0")]
)
def test_enps_figures(scores: list[int], expected: str) -> None:
    from bot.surveys.results import enps, signed

    assert signed(enps(scores).score) == expected


def test_close_notice_waits_for_a_dm_still_marked_sending(bot: BotHarness) -> None:
    """The fan-out marks DMs sent a batch at a time: a close in between must not skip one."""
    start(bot, "enps")
    wait_for_dms(bot, PEOPLE)
    bot.services.background.wait_idle()
    with bot.services.db.transaction() as session:
        in_flight = store.delivery_of(session, 1, "U04LROMAN")
        assert in_flight is not None and in_flight.state == store.SENT
        session.execute(
            update(store.SurveyDelivery)
            .where(store.SurveyDelivery.id == in_flight.id)
            .values(state=store.SENDING)
        )
        assert store.close_run(session, 1, bot.clock())
    assert jobs.send_close_notices(bot.services) == len(PEOPLE) - 1
    assert survey_dm(bot, "U04LROMAN").edit_count == 0
    with bot.services.db.transaction() as session:  # the sender reports back
        store.finish_deliveries(
            session, [(in_flight.id, store.SENT, in_flight.channel_id, in_flight.message_ts)]
        )
    assert jobs.send_close_notices(bot.services) == 1
    assert "is closed now" in block_text({"blocks": survey_dm(bot, "U04LROMAN").blocks})
    assert jobs.send_close_notices(bot.services) == 0


def test_an_enps_value_that_does_not_fit_the_run_is_not_recorded(bot: BotHarness) -> None:
    start(bot, "pulse")  # run 1: its first question is a 1–5 scale, not eNPS
    wait_for_dms(bot, ["U05OSMITH"])
    dm = survey_dm(bot, "U05OSMITH")
    assert bot.click("U05OSMITH", "pulse.enps.9", "1:9", message=dm).status == 200
    bot.services.background.wait_idle()
    with bot.services.db.transaction() as session:
        assert session.scalars(select(store.SurveyAnswer)).all() == []
        assert store.respondent_count(session, 1) == 0
    assert survey_dm(bot, "U05OSMITH").edit_count == 0


def schedule_form(
    survey: str | None = "enps",
    cadence: str = "weekly",
    *,
    weekday: str | None = "monday",
    day: str | None = None,
    at_time: str = "10:00",
    audience: str = "everyone",
    channels: list[str] | None = None,
    users: list[str] | None = None,
    open_days: str = "3",
) -> dict[str, Any]:
    """The schedule modal's state as Slack sends it on submission."""

    def select(value: str | None) -> dict[str, Any]:
        option = None if value is None else {"value": value}
        return {"value": {"type": "static_select", "selected_option": option}}

    return {
        "survey": select(survey),
        "cadence": select(cadence),
        "weekday": select(weekday),
        "day": select(day),
        "time": {"value": {"type": "timepicker", "selected_time": at_time}},
        "audience": {"value": {"type": "radio_buttons", "selected_option": {"value": audience}}},
        "channels": {
            "value": {
                "type": "multi_conversations_select",
                "selected_conversations": channels or [],
            }
        },
        "users": {"value": {"type": "multi_users_select", "selected_users": users or []}},
        "open": {"value": {"type": "plain_text_input", "value": open_days}},
    }


def test_schedule_alone_opens_a_modal_that_schedules_like_the_command(bot: BotHarness) -> None:
    refused = BotHarness.reply_text(bot.command("U05OSMITH", "/pulse", "schedule"))
    assert "Only managers can use `/pulse schedule`" in refused
    retro = {
        "name": {"value": {"type": "plain_text_input", "value": "retro"}},
        "title": {"value": {"type": "plain_text_input", "value": "Retro"}},
        "questions": {"value": {"type": "plain_text_input", "value": "scale: Good sprint?"}},
    }
    assert bot.submit(MANAGER, views.COMPOSE_CALLBACK, retro).body == ""
    response = bot.command(MANAGER, "/pulse", "schedule")
    assert response.status == 200 and response.body == ""
    modal = latest_view(bot)
    assert modal["callback_id"] == views.SCHEDULE_CALLBACK
    blocks = {b["block_id"]: b for b in modal["blocks"]}
    assert set(views.SCHEDULE_BLOCKS) == set(blocks)
    surveys = [o["value"] for o in blocks["survey"]["element"]["options"]]
    assert surveys == ["pulse", "enps", "engagement", "retro"]
    assert blocks["channels"]["element"]["type"] == "multi_conversations_select"
    assert blocks["users"]["element"]["type"] == "multi_users_select"
    assert blocks["time"]["element"]["initial_time"] == "10:00"

    # Each field's problem under its own field, several at once; nothing saved.
    bad = bot.submit(
        MANAGER, views.SCHEDULE_CALLBACK, schedule_form(audience="channels", open_days="0")
    )
    errors = BotHarness.reply(bad)["errors"]
    assert errors["channels"] == "Choose at least one channel, or another audience."
    assert errors["open"] == "Enter a number of days from 1 to 30, e.g. 3."
    nobody = bot.submit(MANAGER, views.SCHEDULE_CALLBACK, schedule_form(audience="people"))
    assert "at least one person" in BotHarness.reply(nobody)["errors"]["users"]
    unknown = bot.submit(MANAGER, views.SCHEDULE_CALLBACK, schedule_form(survey="nope"))
    assert "I don't know the survey `nope`" in BotHarness.reply(unknown)["errors"]["survey"]
    with bot.services.db.transaction() as session:
        assert all(s.cadence is None for s in store.list_surveys(session))

    # A good form: the same schedule as the typed command, confirmed in the modal.
    form = schedule_form(
        "retro", "monthly", day="15", at_time="09:30", audience="channels",
        channels=["C02SALES"], open_days="5",
    )  # fmt: skip
    done = BotHarness.reply(bot.submit(MANAGER, views.SCHEDULE_CALLBACK, form))
    assert done["response_action"] == "update"
    assert validate_view(done["view"]) == []
    confirmation = block_text(done["view"])
    scheduled = (
        "`retro` is scheduled monthly on day 15 at 09:30 (Europe/Rome) to <#C02SALES>, open 5"
    )
    assert scheduled in confirmation
    with bot.services.db.transaction() as session:
        by_form = store.find_survey(session, "retro")
    typed = BotHarness.reply_text(
        bot.command(
            MANAGER, "/pulse", "schedule retro monthly on day 15 at 09:30 to <#C02SALES> open 5d"
        )
    )
    assert scheduled in typed
    with bot.services.db.transaction() as session:
        assert store.find_survey(session, "retro") == by_form
    assert by_form is not None and (by_form.on_day, by_form.at_time) == (15, "09:30")


@pytest.mark.parametrize(
    "counts, total, shown",
    [
        pytest.param({"sales": 7, "support": 2}, 9, set(), id="rest_of_two_hides_the_big_team"),
        pytest.param({"sales": 7, "support": 2}, 10, {"sales"}, id="rest_of_three_is_safe"),
        pytest.param({"sales": 4, "eng": 3}, 8, {"sales"}, id="smallest_hidden_to_cover_one"),
        pytest.param({"sales": 3, "eng": 2}, 5, set(), id="one_shown_team_would_expose_two"),
        pytest.param({"sales": 6}, 6, {"sales"}, id="everybody_in_one_team"),
        pytest.param({"sales": 3, "eng": 3}, 6, {"sales", "eng"}, id="two_teams_cover_all"),
        pytest.param({"sales": 2}, 2, set(), id="total_below_threshold"),
    ],
)
def test_segments_show_above_the_threshold_and_never_by_subtraction(
    counts: dict[str, int], total: int, shown: set[str]
) -> None:
    from bot.surveys.anonymity import shown_segments

    assert shown_segments(counts, total, 3) == shown
    # When the total shows, what is hidden (the total minus what shows) is none or ≥ 3.
    hidden = total - sum(counts[s] for s in shown_segments(counts, total, 3))
    assert total < 3 or hidden == 0 or hidden >= 3


SALES = ["U01GROSSI", "U02MBIANC", "U03FESPOS", "U05OSMITH", "U07JMILLE"]  # of 7 in #sales


@pytest.fixture
def segmented(db: Database, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    settings = make_settings(
        SLACK_API_URL=standin.url,
        DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
        PULSEBOT_MANAGERS=MANAGER,
        PULSEBOT_SEGMENT_CHANNELS="C02SALES,C03MANAGERS",
    )
    harness = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
    yield harness
    harness.close()


def answer_by_team(bot: BotHarness, *, with_edavis: bool) -> str:
    """#sales and two or three others answer, the run closes: its results."""
    start(bot, "enps")
    wait_for_dms(bot, PEOPLE)
    with bot.services.db.transaction() as session:
        labels = {d.user_id: d.segment for d in session.scalars(select(store.SurveyDelivery))}
    # #sales has 7 people in the audience; #managers adds only Amelia (Giulia counts in
    # #sales, listed first): a team of one is never recorded.
    assert {u for u, s in labels.items() if s == "C02SALES"} == {*SALES, "U09HSATO", "U15DGARCI"}
    assert labels["U06AJONES"] is None and "C03MANAGERS" not in labels.values()
    for user, score in zip(SALES, [10, 9, 9, 7, 2], strict=True):
        click_enps(bot, user, score)
    click_enps(bot, "U04LROMAN", 3)
    click_enps(bot, "U06AJONES", 10)
    if with_edavis:
        click_enps(bot, "U08EDAVIS", 8)
    bot.clock.advance(timedelta(hours=1))
    bot.command(MANAGER, "/pulse", "close enps")
    return results(bot, "enps")


def test_a_team_that_could_be_subtracted_from_everyone_is_hidden(segmented: BotHarness) -> None:
    text = answer_by_team(segmented, with_edavis=False)
    # 7 answered, 5 of them in #sales: the 2 others would be 7 − 5 → #sales is hidden too.
    assert "7 of 13 answered" in text
    assert "<#C02SALES>* · :lock: hidden to protect anonymity" in text
    assert "eNPS +40" not in text
    assert "so nobody's answers can be worked out by subtracting" in text


def test_results_per_team_with_threshold(segmented: BotHarness) -> None:
    bot = segmented
    text = answer_by_team(bot, with_edavis=True)
    # Everybody: 10 9 9 7 2 3 10 8 → (4 − 2) / 8 = +25; #sales: 10 9 9 7 2 → (3 − 1) / 5 = +40.
    assert "eNPS +25" in text
    assert "<#C02SALES>* · 5 of 7 answered" in text
    assert "*eNPS +40*" in text
    with bot.services.db.transaction() as session:
        filed = [a.segment for a in session.scalars(select(store.SurveyAnswer))]
    assert sorted(filed, key=str) == ["C02SALES"] * 5 + [None] * 3
    bot.command(MANAGER, "/pulse", "export enps")
    content = bot.standin.wait_for(lambda: bot.standin.files)[-1].content.decode()
    assert "team:C02SALES:enps,40" in content and "team:C02SALES:invited,7" in content
    # The weekly summary carries the same team line, from the same release.
    now = bot.clock()
    week = week_containing(now, bot.services.settings.zone)
    summary = compute_summary(bot.services, week, now)
    text = block_text({"blocks": [b.to_dict() for b in summary_blocks(Texts("en"), summary)]})
    assert "• *<#C02SALES>* · 5 of 7 answered · eNPS *+40*" in text


# ---- the release ledger: no figure can be subtracted from an earlier one ----------------------

PEERS = frozenset({"A", "B", "C", "D"})


@pytest.mark.parametrize(
    ("kind", "earlier_people", "reason"),
    [
        pytest.param("enps", PEERS | {"E"}, OVERLAP, id="one_more_person"),
        pytest.param("enps", PEERS - {"D"}, OVERLAP, id="one_fewer_person"),
        pytest.param("enps", PEERS - {"D"} | {"E"}, OVERLAP, id="two_swapped"),
        pytest.param("enps", PEERS | {"E", "F", "G"}, None, id="three_more_is_safe"),
        pytest.param("enps", PEERS, None, id="same_people_is_safe"),
        pytest.param("scale:other", PEERS | {"E"}, None, id="another_kind_of_question"),
    ],
)
def test_a_figure_is_withheld_when_an_earlier_release_differs_by_too_few_people(
    kind: str, earlier_people: frozenset[str], reason: str | None
) -> None:
    earlier = [Figure(run_id=1, question=0, segment="", kind=kind, group=earlier_people)]
    mine = Figure(run_id=2, question=0, segment="", kind="enps", group=PEERS)
    assert decide([mine], earlier, frozenset(), min_responses=3) == {(0, ""): reason}


def test_a_managers_own_answer_never_counts_towards_the_threshold() -> None:
    mine = Figure(run_id=2, question=0, segment="", kind="enps", group=PEERS)
    assert decide([mine], [], frozenset({"A"}), min_responses=3) == {(0, ""): None}
    assert decide([mine], [], frozenset({"A", "B"}), min_responses=3) == {(0, ""): THRESHOLD}


def test_a_team_differing_from_its_whole_run_by_too_few_is_withheld() -> None:
    whole = Figure(run_id=2, question=0, segment="", kind="enps", group=PEERS | {"E", "F"})
    team = Figure(run_id=2, question=0, segment="C02SALES", kind="enps", group=PEERS | {"E"})
    assert decide([whole, team], [], frozenset(), min_responses=3) == {
        (0, ""): None,
        (0, "C02SALES"): OVERLAP,  # the whole minus the team would be F's answer
    }


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        pytest.param(Question(kind="enps", text_key="pulse.questions.enps"), "enps", id="template"),
        pytest.param(Question(kind="enps", text="Would you recommend us?"), "enps", id="any_enps"),
        pytest.param(
            Question(kind="scale", text="  my WORKLOAD is manageable!! "),
            question_kind(Question(kind="scale", text_key="pulse.questions.workload")),
            id="template_words_in_english",
        ),
        pytest.param(
            Question(kind="scale", text=Texts("it")("pulse.questions.workload")),
            question_kind(Question(kind="scale", text_key="pulse.questions.workload")),
            id="template_words_in_italian",
        ),
    ],
)
def test_questions_are_matched_by_kind_across_surveys_and_wordings(
    question: Question, kind: str
) -> None:
    assert question_kind(question) == kind


# ---- results: comments, run N, change and distribution ------------------------------------------


def comment_lines(text: str) -> list[str]:
    return [line.removeprefix("> ") for line in text.splitlines() if line.startswith("> ")]


def test_comments_are_shown_shuffled_not_in_answer_order(bot: BotHarness) -> None:
    start(bot, "pulse")
    wait_for_dms(bot, PEOPLE)
    run_value = buttons(survey_dm(bot, PEOPLE[0]))[0]["value"]
    written = [f"comment number {n:02d}" for n in range(len(PEOPLE))]
    for user, comment in zip(PEOPLE, written, strict=True):
        bot.submit(user, views.ANSWERS_CALLBACK, answer_values([3, 3, 3, 3, 3], comment), run_value)
    with bot.services.db.transaction() as session:
        stored = [a.text or "" for a in store.run_answers(session, 1) if a.question == 5]
    assert sorted(stored) == written
    # Neither the answer order nor the order the database hands them back in (which may be
    # either, or the respondent keys' order): a real shuffle gives one of those two by chance
    # twice in 13! (6·10⁹) — never.
    bot.clock.advance(timedelta(hours=1))
    bot.command(MANAGER, "/pulse", "close pulse")
    shown = comment_lines(results(bot, "pulse"))
    assert sorted(shown) == written  # every comment, once
    assert shown not in (written, stored)
    bot.command(MANAGER, "/pulse", "export pulse")
    content = bot.standin.wait_for(lambda: bot.standin.files)[-1].content.decode()
    in_csv = [line.rsplit(",", 1)[1] for line in content.splitlines() if ",comment," in line]
    assert sorted(in_csv) == written
    assert in_csv not in (written, stored)


def start_run_n(bot: BotHarness, survey: str, number: int) -> None:
    assert f"Run {number} of `{survey}` is open" in start(bot, survey)
    wait_for_dms(bot, PEOPLE, count=number)


def click_enps_in(bot: BotHarness, user_id: str, score: int, number: int) -> None:
    dm = bot.dms(user_id)[number - 1]
    value = buttons(dm)[score]["value"]
    assert bot.click(user_id, f"pulse.enps.{score}", value, message=dm).status == 200


# Six people who are not managers (Giulia is a workspace admin, Amelia in PULSEBOT_MANAGERS).
EMPLOYEES = [p for p in PEOPLE if p not in ("U01GROSSI", MANAGER)][:6]


def close_and_wait_a_week(bot: BotHarness, survey: str) -> None:
    assert "closed" in BotHarness.reply_text(bot.command(MANAGER, "/pulse", f"close {survey}"))
    bot.clock.advance(timedelta(days=7))


def test_results_of_a_given_run(bot: BotHarness) -> None:
    # The same four people answer both runs: a second release of the same group is safe.
    four = EMPLOYEES[:4]
    start_run_n(bot, "enps", 1)
    for user, score in zip(four, [10, 10, 9, 2], strict=True):
        click_enps_in(bot, user, score, 1)
    close_and_wait_a_week(bot, "enps")
    start_run_n(bot, "enps", 2)
    for user, score in zip(four, [0, 3, 8, 9], strict=True):
        click_enps_in(bot, user, score, 2)
    assert "have answered so far" in results(bot, "enps")  # run 2 is open
    close_and_wait_a_week(bot, "enps")

    latest = results(bot, "enps")
    assert "eNPS — run 2" in latest and "4 of 13 answered" in latest
    assert "eNPS -25" in latest  # (1 − 2) / 4
    second = results(bot, "enps", "run 2")
    assert second == latest
    first = results(bot, "enps", "run 1")
    assert "eNPS — run 1" in first and "run 2" not in first
    assert "4 of 13 answered" in first
    assert "eNPS +50" in first  # (3 − 1) / 4
    assert "promoters" not in first  # four people: no counts per band
    assert "against the previous run" not in first  # run 1 has none before it
    assert "(-75 against the previous run)" in latest  # −25 − (+50)
    assert "eNPS — run 1" in results(bot, "enps", "RUN 1")

    assert "`enps` has no run 3." in results(bot, "enps", "run 3")
    assert "`enps` has no run 0." in results(bot, "enps", "run 0")
    for bad in ("run two", "run", "run 1 2", "1"):
        assert "is not a run number" in results(bot, "enps", bad), bad


def scale_form(workload: int, recognition: int) -> dict[str, Any]:
    return answer_values([workload, recognition, 3, 3, 3])


def test_scale_change_and_distribution_by_hand(bot: BotHarness) -> None:
    start_run_n(bot, "pulse", 1)
    run_value = buttons(bot.dms(PEOPLE[0])[0])[0]["value"]
    # Run 1, workload 1 2 3 1 2 3: mean 2.0, none favourable; recognition 5 5 4 5 5 4: mean
    # 4.67, all favourable.
    pairs = [(1, 5), (2, 5), (3, 4), (1, 5), (2, 5), (3, 4)]
    for user, (workload, recognition) in zip(EMPLOYEES, pairs, strict=True):
        bot.submit(user, views.ANSWERS_CALLBACK, scale_form(workload, recognition), run_value)
    close_and_wait_a_week(bot, "pulse")
    first = results(bot, "pulse")
    assert "mean *2.0* · 0% favourable (4–5) · 6 answers\n" in first
    assert "mean *4.7* · 100% favourable (4–5) · 6 answers\n" in first
    assert "against the previous run" not in first

    start_run_n(bot, "pulse", 2)
    run_value = buttons(bot.dms(PEOPLE[0])[1])[0]["value"]
    # Run 2, the same six: workload 5 4 4 3 5 3: mean 4.0 (+2.0), 4 of 6 favourable, counts
    # 0 0 2 2 2; recognition 3 3 3 5 3 3: mean 3.33 (3.3 − 4.7 = −1.4), 1 of 6 favourable,
    # counts 0 0 5 0 1.
    pairs = [(5, 3), (4, 3), (4, 3), (3, 5), (5, 3), (3, 3)]
    for user, (workload, recognition) in zip(EMPLOYEES, pairs, strict=True):
        bot.submit(user, views.ANSWERS_CALLBACK, scale_form(workload, recognition), run_value)
    close_and_wait_a_week(bot, "pulse")
    second = results(bot, "pulse")
    sections = second.split("\n*")
    workload_text = next(s for s in sections if s.startswith("My workload"))
    recognition_text = next(s for s in sections if s.startswith("I feel recognised"))
    assert "mean *4.0* · 67% favourable (4–5) · 6 answers (+2.0 against the previous run)" in (
        workload_text
    )
    assert "mean *3.3* · 17% favourable (4–5) · 6 answers (-1.4 against the previous run)" in (
        recognition_text
    )

    def counts(section: str) -> list[tuple[int, str]]:
        lines = [line for line in section.splitlines() if line.startswith("`")]
        return [(int(line.split("` ")[1].split(" · ")[0]), line.split(" · ")[1]) for line in lines]

    labels = ["1", "2", "3", "4", "5"]
    assert counts(workload_text) == list(zip([0, 0, 2, 2, 2], labels, strict=True))
    assert counts(recognition_text) == list(zip([0, 0, 5, 0, 1], labels, strict=True))
    # Run 1 read again: its own figures, and still no change (nothing before it).
    again = results(bot, "pulse", "run 1")
    assert "mean *2.0* · 0% favourable (4–5) · 6 answers\n" in again
    assert "against the previous run" not in again


# ---- schedules: pause, and people without a time zone -----------------------------------------


def scheduled(bot: BotHarness, name: str) -> store.SurveyRecord:
    with bot.services.db.transaction() as session:
        survey = store.find_survey(session, name)
    assert survey is not None and survey.next_run_at is not None
    return survey


def run_count(bot: BotHarness) -> int:
    with bot.services.db.transaction() as session:
        return len(session.scalars(select(store.SurveyRun)).all())


def test_a_paused_schedule_opens_no_run_until_it_is_resumed(bot: BotHarness) -> None:
    services = bot.services
    bot.command(MANAGER, "/pulse", "schedule enps weekly on monday at 10:00")
    monday = scheduled(bot, "enps").next_run_at
    assert monday is not None
    day = monday.astimezone(services.settings.zone).date()
    first = first_delivery(day, "10:00")  # the run's moment at UTC+14

    paused = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "pause enps"))
    assert "`enps` is paused" in paused
    assert "paused" in BotHarness.reply_text(bot.command(MANAGER, "/pulse", "list"))
    for moment in (first, monday, monday + timedelta(hours=12), monday + timedelta(days=1)):
        assert jobs.open_due_runs(services, moment) == 0
        assert jobs.dispatch_due_deliveries(services, moment) == 0
    assert run_count(bot) == 0
    assert all(bot.dms(user) == [] for user in PEOPLE)

    resumed = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "resume enps"))
    assert f"`enps` is running again. Next run: <!date^{int(monday.timestamp())}^" in resumed
    assert scheduled(bot, "enps").next_run_at == monday  # still ahead: not skipped
    assert jobs.open_due_runs(services, first - timedelta(minutes=1)) == 0
    assert jobs.open_due_runs(services, first) == 1
    jobs.dispatch_due_deliveries(services, monday)
    rome = [u.id for u in bot.standin.workspace.users if u.id in PEOPLE and u.tz == "Europe/Rome"]
    assert rome and all(len(bot.dms(user)) == 1 for user in rome)
    assert run_count(bot) == 1


def test_someone_without_a_time_zone_gets_the_dm_at_the_runs_time_in_the_workspace_zone(
    bot: BotHarness,
) -> None:
    services = bot.services
    assert services.settings.timezone == "Europe/Rome"  # PULSEBOT_TIMEZONE
    nobody_knows = SimUser(id="U93NOZON", name="no.zone", tz=None)
    bot.standin.workspace.users.append(nobody_knows)
    # The schedule's own zone is Tokyo: the fallback is the workspace's zone, not the schedule's.
    reply = BotHarness.reply_text(
        bot.command(MANAGER, "/pulse", "schedule enps weekly on monday at 10:00 in Asia/Tokyo")
    )
    assert "(Asia/Tokyo)" in reply
    monday = scheduled(bot, "enps").next_run_at
    assert monday is not None
    day = monday.astimezone(ZoneInfo("Asia/Tokyo")).date()
    assert jobs.open_due_runs(services, first_delivery(day, "10:00")) == 1
    rome_ten = local_moment(day, "10:00", ZoneInfo("Europe/Rome"))
    assert rome_ten != monday and rome_ten != local_moment(day, "10:00", ZoneInfo("UTC"))
    with services.db.transaction() as session:
        (run,) = session.scalars(select(store.SurveyRun)).all()
        delivery = store.delivery_of(session, run.id, nobody_knows.id)
    assert delivery is not None and delivery.sent_at == rome_ten

    jobs.dispatch_due_deliveries(services, rome_ten - timedelta(minutes=1))
    assert len(bot.dms("U09HSATO")) == 1  # Tokyo's 10:00 came first
    assert bot.dms(nobody_knows.id) == []
    jobs.dispatch_due_deliveries(services, rome_ten)
    assert len(bot.dms(nobody_knows.id)) == 1
    assert len(bot.dms("U01GROSSI")) == 1  # with Rome's own people
    assert bot.dms("U07JMILLE") == []  # New York's 10:00 is still to come


def test_result_bars_tell_close_shares_apart() -> None:
    from bot.views.surveys import bar

    assert bar(2, 13) != bar(3, 13)  # drawn alike in whole cells
    assert {len(bar(n, 13)) for n in range(14)} == {10}
    assert bar(13, 13) == "█" * 10 and bar(0, 13) == "░" * 10
    assert bar(1, 2) == "█" * 5 + "░" * 5
    assert bar(1, 16) == "▋" + "░" * 9  # 10/16 of a cell: 5 eighths
