"""Anonymity against three adversaries, each with the rights they really have.

- A curious manager: every command, any sequence of runs, audiences and teams, polling at any
  time — never the database.
- A DBA with a dump of the database, its statement log and its files, without PULSEBOT_SECRET.
- Anyone reading Slack with the bot's token: DMs, App Home.

Every attack goes through signed requests, as Slack sends them, and each test fails when the
protection it names is taken away.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, event, select, text
from sqlalchemy.engine import make_url

from bot.clock import FrozenClock
from bot.delivery import survey_dms as jobs
from bot.i18n import Texts
from bot.jobs import record_weekly_summary
from bot.standin import SlackStandIn, Workspace
from bot.summary import enps_trend
from bot.views import surveys as survey_views
from storage import surveys as store
from storage.db import Database
from storage.releases import SurveyRelease
from storage.requests import HandledRequest
from storage.scratch import scratch_schema
from tests.conftest import make_settings
from tests.harness import BotHarness, block_text
from tests.reliability.helpers import MANAGER

# The demo workspace's people a survey goes to (no bots, guests or deactivated accounts).
EVERYONE = ["U01GROSSI", "U02MBIANC", "U03FESPOS", "U04LROMAN", "U05OSMITH", "U06AJONES",
            "U07JMILLE", "U08EDAVIS", "U09HSATO", "U13ACOLOM", "U14SBROWN", "U15DGARCI",
            "U16YTANAK"]  # fmt: skip
FOUR = ["U02MBIANC", "U03FESPOS", "U04LROMAN", "U05OSMITH"]  # none is a manager
COMMENT = "only-two-of-us-said-this"
WITHHELD = Texts("it")("pulse.results.question_withheld")  # Giulia, the manager, reads Italian


def mention(*users: str) -> str:
    return " ".join(f"<@{u}>" for u in users)


def survey_dms(bot: BotHarness, user: str) -> list[Any]:
    """The person's survey DMs (with buttons), oldest first."""
    return [
        m
        for m in bot.dms(user)
        if any(
            str(e.get("action_id", "")).startswith("pulse.")
            for b in m.blocks
            if b["type"] == "actions"
            for e in b["elements"]
        )
    ]


def start(bot: BotHarness, survey: str, audience: list[str] | str) -> str:
    """`/pulse start`, then every DM of the run sent; the reply."""
    before = {u: len(bot.dms(u)) for u in EVERYONE}
    to = audience if isinstance(audience, str) else mention(*audience)
    reply = BotHarness.reply_text(bot.command(MANAGER, "/pulse", f"start {survey} to {to}"))
    assert bot.services.background.wait_idle()
    people = [u for u in EVERYONE if len(bot.dms(u)) > before[u]]
    assert people or ":warning:" in reply, reply
    return reply


def click(bot: BotHarness, user: str, score: int) -> None:
    """A one-click eNPS answer in the person's latest survey DM."""
    dm = bot.standin.wait_for(lambda: survey_dms(bot, user)[-1:], describe=f"DM of {user}")[0]
    value = next(b for b in dm.blocks if b["type"] == "actions")["elements"][score]["value"]
    assert bot.click(user, f"pulse.enps.{score}", value, message=dm).status == 200


def comment(bot: BotHarness, user: str, text_: str) -> None:
    """The comment modal of the person's latest eNPS DM, submitted."""
    dm = survey_dms(bot, user)[-1]
    run_id = str(next(b for b in dm.blocks if b["type"] == "actions")["elements"][0]["value"])
    values = {"comment": {"answer": {"type": "plain_text_input", "value": text_}}}
    done = bot.submit(user, survey_views.COMMENT_CALLBACK, values, run_id.split(":", maxsplit=1)[0])
    # Saved: the modal turns into a confirmation that never repeats the comment.
    assert done.status == 200 and json.loads(done.body)["response_action"] == "update"
    assert text_ not in done.body


def change_answer(bot: BotHarness, user: str, score: int) -> None:
    """The answered DM's "Change", then the form it opens, submitted with another score."""
    dm = survey_dms(bot, user)[-1]
    run_id = str(next(b for b in dm.blocks if b["type"] == "actions")["elements"][0]["value"])
    assert bot.click(user, survey_views.CHANGE_ENPS_ACTION, run_id, message=dm).status == 200
    values = {"q0": {"answer": {"type": "static_select", "selected_option": {"value": str(score)}}}}
    done = bot.submit(user, survey_views.ANSWERS_CALLBACK, values, run_id)
    assert (done.status, done.body) == (200, "")


def close(bot: BotHarness, survey: str) -> None:
    bot.clock.advance(timedelta(hours=1))
    assert "chius" in BotHarness.reply_text(bot.command(MANAGER, "/pulse", f"close {survey}"))
    assert bot.services.background.wait_idle()
    bot.clock.advance(timedelta(days=1))


def results(bot: BotHarness, survey: str, extra: str = "") -> str:
    return BotHarness.reply_text(bot.command(MANAGER, "/pulse", f"results {survey} {extra}"))


def exported(bot: BotHarness, survey: str) -> str:
    count = len(bot.standin.files)
    bot.command(MANAGER, "/pulse", f"export {survey}")
    files = bot.standin.wait_for(lambda: bot.standin.files[count:], describe="the CSV")
    return files[-1].content.decode()


# ---- a curious manager ----------------------------------------------------------------------


def test_polling_an_open_run_shows_how_many_answered_and_nothing_else(bot: BotHarness) -> None:
    """Attack: read results and the export before and after one person answers."""
    start(bot, "enps", "everyone")
    before = results(bot, "enps")
    click(bot, "U05OSMITH", 2)
    comment(bot, "U05OSMITH", COMMENT)
    after = results(bot, "enps")
    assert "0 su 13" in before and "1 su 13" in after
    assert after.replace("1 su 13", "0 su 13") == before  # the count is all that moved
    assert COMMENT not in after and "eNPS -" not in after and "eNPS +" not in after
    assert exported(bot, "enps").strip().count("\n") == 0  # the header alone
    bot.dispatch(bot.requests.app_home_opened(MANAGER))
    assert bot.services.background.wait_idle()
    home = block_text(bot.standin.home_view(MANAGER) or {})
    assert "eNPS +" not in home and "eNPS -" not in home and COMMENT not in home


def test_two_runs_whose_audiences_differ_by_one_person_cannot_be_subtracted(
    bot: BotHarness,
) -> None:
    """Attack: run 1 to four people, run 2 to the same four and Oliver's colleague James;
    both fully answered, the difference of the totals would be James's score."""
    start(bot, "enps", FOUR)
    for user in FOUR:
        click(bot, user, 9)
    close(bot, "enps")
    start(bot, "enps", [*FOUR, "U07JMILLE"])
    for user in FOUR:
        click(bot, user, 9)
    click(bot, "U07JMILLE", 0)
    close(bot, "enps")
    first, second = results(bot, "enps", "run 1"), results(bot, "enps", "run 2")
    assert "eNPS +100" in first
    assert WITHHELD in second and "eNPS +" not in second and "eNPS -" not in second
    csv_text = exported(bot, "enps")
    assert re.search(r"^2,[^,]+,enps,5,hidden_overlap,", csv_text, re.MULTILINE), csv_text
    assert ",enps,-" not in csv_text  # run 2's score (+60) is in no row
    assert ",enps,60" not in csv_text
    trend = enps_trend(bot.services.surveys, bot.clock(), bot.services.settings.zone)
    assert [p.score for p in trend] == [100, None]  # no point on the chart either
    with bot.services.db.transaction() as session:
        ledger = session.scalars(select(SurveyRelease).order_by(SurveyRelease.id)).all()
    assert [(r.released, r.reason) for r in ledger if r.kind == "enps"] == [
        (True, None),
        (False, "overlap"),
    ]


def test_the_same_question_in_another_survey_and_other_words_is_compared_too(
    bot: BotHarness,
) -> None:
    """Attack: the template's eNPS to four people, then the eNPS question in a survey of the
    manager's own words to the same four and one more."""
    bot.command(MANAGER, "/pulse", "new")
    values = {
        "name": {"value": {"type": "plain_text_input", "value": "mood"}},
        "title": {"value": {"type": "plain_text_input", "value": "Mood"}},
        "questions": {
            "value": {
                "type": "plain_text_input",
                "value": "enps: Would you tell a friend to come and work here?",
            }
        },
    }
    assert bot.submit(MANAGER, survey_views.COMPOSE_CALLBACK, values).status == 200
    start(bot, "enps", FOUR)
    for user in FOUR:
        click(bot, user, 10)
    close(bot, "enps")
    start(bot, "mood", [*FOUR, "U07JMILLE"])
    for user in [*FOUR, "U07JMILLE"]:
        click(bot, user, 10 if user != "U07JMILLE" else 1)
    close(bot, "mood")
    assert "eNPS +100" in results(bot, "enps")
    mood = results(bot, "mood")
    assert WITHHELD in mood and "eNPS +" not in mood


def test_moving_between_teams_gives_nobody_away(db: Database, clock: FrozenClock) -> None:
    """Attack: Luca joins #sales between two runs; the two #sales figures would differ by
    exactly his answer."""
    with SlackStandIn(Workspace.demo()) as standin:
        settings = make_settings(
            SLACK_API_URL=standin.url,
            DATABASE_URL=make_url(str(db.engine.url)).render_as_string(hide_password=False),
            PULSEBOT_SEGMENT_CHANNELS="C02SALES",
        )
        bot = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
        try:
            start(bot, "enps", "everyone")
            for user in EVERYONE:
                click(bot, user, 9)
            close(bot, "enps")
            sales = next(c for c in standin.workspace.channels if c.id == "C02SALES")
            sales.members.append("U04LROMAN")
            start(bot, "enps", "everyone")
            for user in EVERYONE:
                click(bot, user, 9)
            close(bot, "enps")
            first, second = results(bot, "enps", "run 1"), results(bot, "enps", "run 2")
            assert "<#C02SALES>* · 7 su 7" in first and "*eNPS +100*" in first.split("Per team")[1]
            team = second.split("Per team")[1]
            assert "<#C02SALES>* · 8 su 8" in team and "eNPS" not in team  # hidden for #sales
            assert "eNPS +100" in second.split("Per team")[0]  # everyone: the same people
        finally:
            bot.close()


def test_a_managers_own_answer_never_counts_towards_what_managers_see(bot: BotHarness) -> None:
    """Attack: a run to exactly three people, the manager one of them: the two others'
    figure would be the total minus the manager's own answer."""
    start(bot, "enps", [MANAGER, "U02MBIANC", "U03FESPOS"])
    for user, score in ((MANAGER, 10), ("U02MBIANC", 0), ("U03FESPOS", 10)):
        click(bot, user, score)
    close(bot, "enps")
    text = results(bot, "enps")
    assert "3 su 3" in text and "eNPS +" not in text and "eNPS -" not in text


def test_no_survey_goes_to_fewer_people_than_the_threshold(bot: BotHarness) -> None:
    """Attack: a run to one or two people shows whether (and when) they answered."""
    refused = start(bot, "enps", ["U02MBIANC"])
    assert "almeno 3 persone" in refused
    start(bot, "enps", "<#C03MANAGERS|managers>")  # two people in #managers
    told = bot.standin.wait_for(
        lambda: [m for m in bot.dms(MANAGER) if "non è partito" in (m.text or "")],
        describe="the manager told why",
    )
    assert told
    assert survey_dms(bot, "U06AJONES") == []
    with bot.services.db.transaction() as session:
        assert session.scalars(select(store.SurveyRun)).all() == []


# ---- a DBA with a dump, a statement log and the files ---------------------------------------


@pytest.fixture
def twin(db: Database, tmp_path: Path, clock: FrozenClock) -> Iterator[BotHarness]:
    """A second bot like `bot`, on a database of its own, at the same moment."""
    with ExitStack() as stack:
        standin = stack.enter_context(SlackStandIn(Workspace.demo()))
        url = f"sqlite:///{tmp_path}/twin.db"
        if db.dialect == "postgresql":
            own = db.engine.url.render_as_string(hide_password=False)
            url = stack.enter_context(scratch_schema(own, prefix="pulsebot_twin"))
        second = Database(url)
        stack.callback(second.dispose)
        settings = make_settings(SLACK_API_URL=standin.url, DATABASE_URL=url)
        harness = BotHarness.boot(settings, db=second, standin=standin, clock=FrozenClock(clock()))
        stack.callback(harness.close)
        yield harness


def run_answered_by(bot: BotHarness, answering: list[str]) -> None:
    """A run to everyone: `answering` answer (one with a comment, one changes their answer),
    everyone's reminder moment comes, the run closes and its results are released."""
    start(bot, "enps", "everyone")
    for user in answering:
        click(bot, user, 8)
    comment(bot, answering[0], COMMENT)
    change_answer(bot, answering[1], 3)
    run = bot.services.surveys.get_run(1)
    assert run is not None
    assert jobs.send_due_reminders(bot.services, run.remind_at) == len(EVERYONE) - len(answering)
    assert jobs.close_due_runs(bot.services, run.closes_at) == 1
    assert bot.services.background.wait_idle()


def person_rows(bot: BotHarness) -> dict[str, list[tuple[str, ...]]]:
    """Every row that names a person, with Slack's message times (which the stand-in takes
    from the real clock) blanked: what a dump shows about people."""
    metadata = MetaData()
    metadata.reflect(bot.services.db.engine)
    found: dict[str, list[tuple[str, ...]]] = {}
    with bot.services.db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = [tuple(str(v) for v in row) for row in connection.execute(table.select())]
            named = [
                tuple(re.sub(r"^\d{9,}\.\d+$", "<ts>", v) for v in row)
                for row in rows
                if set(row) & set(EVERYONE)
            ]
            if named:
                found[table.name] = sorted(named)
    return found


def test_nothing_that_names_a_person_differs_between_who_answered_and_who_did_not(
    bot: BotHarness, twin: BotHarness
) -> None:
    """Attack: dump the database after a run in which some answered, were reminded and got
    the close notice, and look for what tells the two groups apart. The same run is played on
    two databases with other people answering: every row naming a person is the same."""
    run_answered_by(bot, ["U02MBIANC", "U05OSMITH", "U07JMILLE"])
    run_answered_by(twin, ["U03FESPOS", "U04LROMAN", "U08EDAVIS"])
    mine, theirs = person_rows(bot), person_rows(twin)
    assert "survey_deliveries" in mine
    assert mine == theirs


def test_no_statement_beside_an_answer_names_the_person_and_rows_keep_no_order(
    bot: BotHarness,
) -> None:
    """Attack: read PostgreSQL's statement log (each statement, its parameters, its time)
    around the answers, and the physical order and transaction ids of the answer rows."""
    start(bot, "enps", "everyone")
    assert bot.services.directory.sync()  # the directory cache starts cold
    statements: list[tuple[str, str]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, repr(parameters)))

    event.listen(bot.services.db.engine, "before_cursor_execute", record)
    try:
        for user, score in zip(FOUR, (9, 2, 7, 10), strict=True):
            click(bot, user, score)
        comment(bot, "U02MBIANC", COMMENT)
        change_answer(bot, "U03FESPOS", 4)  # the form, then the DM it came from updated
        assert bot.services.background.wait_idle()
    finally:
        event.remove(bot.services.db.engine, "before_cursor_execute", record)
    assert any(re.search("survey_(answers|respondents)", s) for s, _ in statements)
    for statement, parameters in statements:  # the answers and all the work after them
        assert not any(user in parameters for user in EVERYONE), statement
    close(bot, "enps")
    with bot.services.db.engine.connect() as connection:
        keys = list(connection.scalars(text("SELECT respondent FROM survey_respondents")))
        answers = list(connection.scalars(text("SELECT respondent FROM survey_answers")))
        assert keys == sorted(keys) and answers == sorted(answers)  # key order, not time order
        if bot.services.db.dialect == "postgresql":
            xmins = connection.scalars(text("SELECT DISTINCT xmin::text FROM survey_answers"))
            assert len(list(xmins)) == 1  # rewritten together at release


def test_replay_keys_keep_the_day_only(bot: BotHarness) -> None:
    """Attack: match the time a click was handled with other writes of that moment."""
    bot.clock.advance(timedelta(hours=5, minutes=17, seconds=3))
    start(bot, "enps", "everyone")
    click(bot, "U05OSMITH", 6)
    with bot.services.db.transaction() as session:
        handled = session.scalars(select(HandledRequest)).all()
    assert handled
    for row in handled:
        assert (row.handled_at.hour, row.handled_at.minute, row.handled_at.second) == (0, 0, 0)
        assert not any(user in row.key for user in EVERYONE)


def test_a_replaced_comment_is_not_left_readable_in_the_files(bot: BotHarness) -> None:
    """Attack: read the SQLite file and its WAL for a comment its author since changed."""
    if bot.services.db.dialect != "sqlite":
        pytest.skip("PostgreSQL keeps dead tuples until (auto)vacuum: /pulse privacy says so")
    start(bot, "enps", "everyone")
    click(bot, "U05OSMITH", 6)
    comment(bot, "U05OSMITH", "first-thoughts-" + COMMENT)
    comment(bot, "U05OSMITH", "second thoughts")
    raw = bot.services.db.engine.raw_connection()  # outside a transaction, as the bot does
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
    finally:
        raw.close()
    path = Path(make_url(str(bot.services.db.engine.url)).database or "")
    files = [path, Path(f"{path}-wal")]
    content = b"".join(f.read_bytes() for f in files if f.exists())
    assert b"second thoughts" in content
    assert b"first-thoughts-" not in content


# ---- anyone reading Slack with the bot's token ----------------------------------------------


def test_slack_keeps_that_someone_answered_never_what(bot: BotHarness) -> None:
    start(bot, "enps", "everyone")
    click(bot, "U05OSMITH", 7)
    click(bot, "U07JMILLE", 0)
    comment(bot, "U05OSMITH", COMMENT)
    assert bot.services.background.wait_idle()

    def dm_text(user: str) -> str:
        dm = survey_dms(bot, user)[-1]
        return block_text({"text": dm.text, "blocks": dm.blocks})

    # Two people who answered 7 and 0 (and one left a comment) read the very same DM.
    assert "recorded" in dm_text("U05OSMITH")
    assert dm_text("U05OSMITH") == dm_text("U07JMILLE")
    close(bot, "enps")
    bot.dispatch(bot.requests.app_home_opened("U05OSMITH"))
    assert bot.services.background.wait_idle()
    home = block_text(bot.standin.home_view("U05OSMITH") or {})
    assert "Surveys you answered" in home and COMMENT not in home and "*7*" not in home
    every_message = "\n".join(
        block_text({"text": m.text, "blocks": m.blocks}) for m in bot.standin.messages
    )
    assert COMMENT not in every_message


# ---- too few people: hidden on every path ---------------------------------------------------


def test_results_under_the_threshold_are_hidden_everywhere(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # as production at PULSEBOT_LOG_LEVEL=DEBUG
    standin = bot.standin
    start(bot, "enps", "everyone")
    answering = ["U04LROMAN", "U05OSMITH"]  # two people: under the threshold of three
    for user, score in zip(answering, (0, 10), strict=True):
        click(bot, user, score)
        comment(bot, user, COMMENT)
    close(bot, "enps")
    seen: dict[str, str] = {"command": results(bot, "enps"), "csv": exported(bot, "enps")}
    jobs.close_due_runs(bot.services, bot.clock())
    bot.dispatch(bot.requests.app_home_opened(MANAGER))
    assert record_weekly_summary(bot.services, bot.clock() + timedelta(days=7)) == 1
    assert bot.services.background.wait_idle()
    seen["app home"] = block_text(standin.home_view(MANAGER) or {})
    seen["messages"] = "\n".join(
        block_text({"text": m.text, "blocks": m.blocks})
        for m in standin.messages
        if m.recipient not in answering
    )
    seen["logs"] = caplog.text
    assert ":lock:" in seen["command"]
    for path, shown in seen.items():
        assert COMMENT not in shown, path
        # The eNPS of the two (0 and 10: 50% promoters, 50% detractors) shows nowhere.
        assert "eNPS +0" not in shown and "50%" not in shown, path
