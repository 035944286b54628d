"""Claims on work are leases: a live instance keeps its claims however long it takes, a dead
one's are taken over one lease period after its last renewal, a stopped one's at once.

Two instances here are two Services on one database, in one process, on the test's clock.
(With real processes and kill -9: tests/reliability/test_failover.py.)
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.actor import Actor
from bot.app import build_services
from bot.clock import FrozenClock, SteadyClock
from bot.delivery import survey_dms
from bot.jobs import take_over_lapsed
from bot.services import Services
from bot.standin import SimUser, SlackStandIn, Workspace
from bot.surveys.schedule import Audience
from storage import surveys as store
from storage.db import Database
from storage.leases import Instance
from tests.conftest import make_settings

TEAM = 30


@pytest.fixture
def team_standin() -> Iterator[SlackStandIn]:
    people = [SimUser(id=f"U{n:07d}", name=f"person{n}", tz="Europe/Rome") for n in range(TEAM)]
    with SlackStandIn(Workspace(users=people)) as server:
        yield server


@pytest.fixture
def pair(
    db: Database, team_standin: SlackStandIn, clock: FrozenClock
) -> Iterator[tuple[Services, Services]]:
    """Two instances of the bot on one database and one Slack, and a run of TEAM DMs to send."""
    url = db.engine.url.render_as_string(hide_password=False)
    settings = make_settings(SLACK_API_URL=team_standin.url, DATABASE_URL=url)
    one, two = (build_services(settings, db=db, clock=clock) for _ in range(2))
    one.surveys.start_run(
        Actor("U0000000", is_manager=True), "enps", audience=Audience(), open_days=None
    )
    assert survey_dms.resolve_audiences(one, clock()) == TEAM
    yield one, two
    for services in (one, two):
        services.leases.stop()
        services.background.shutdown()


def claim_a_batch(services: Services, now: datetime) -> list[int]:
    """What a sender does before its Slack calls: a batch claimed under its lease."""
    with services.db.transaction() as session:
        services.leases.claiming(session, now)
        batch = store.claim_deliveries(
            session, now, survey_dms.CLAIM_BATCH, instance=services.leases.instance
        )
    return [delivery.id for delivery in batch]


def states(db: Database) -> Counter[str]:
    with db.transaction() as session:
        return Counter(session.scalars(select(store.SurveyDelivery.state)))


def dm_counts(standin: SlackStandIn) -> Counter[str | None]:
    return Counter(m.recipient for m in standin.messages if not m.ephemeral)


def test_a_live_instances_claims_are_never_taken_however_long(
    pair: tuple[Services, Services], team_standin: SlackStandIn, clock: FrozenClock
) -> None:
    one, two = pair
    claimed = claim_a_batch(one, clock())
    for _ in range(3):  # an hour in a slow Slack call, renewing all along
        clock.advance(timedelta(minutes=20))
        assert one.leases.renew()
        assert take_over_lapsed(two, clock()) == 0
    assert not team_standin.calls_to("conversations.history")
    assert states(one.db)["sending"] == len(claimed)


def test_a_dead_instances_claims_are_taken_over_after_one_lease_period(
    pair: tuple[Services, Services], team_standin: SlackStandIn, clock: FrozenClock
) -> None:
    one, two = pair
    claimed = claim_a_batch(one, clock())  # and then it dies: no renewal ever after
    clock.advance(one.leases.period - timedelta(seconds=1))
    assert take_over_lapsed(two, clock()) == 0  # it may still be posting
    clock.advance(timedelta(seconds=2))
    # Taken over, looked up in each DM (none there), and the whole run finished.
    assert take_over_lapsed(two, clock()) == TEAM
    assert len(team_standin.calls_to("conversations.history")) == len(claimed)
    assert set(dm_counts(team_standin).values()) == {1}
    assert len(dm_counts(team_standin)) == TEAM
    assert states(one.db) == {"sent": TEAM}


def test_a_stopped_instance_hands_its_claims_back_at_once(
    pair: tuple[Services, Services], team_standin: SlackStandIn, clock: FrozenClock
) -> None:
    one, two = pair
    claim_a_batch(one, clock())
    one.leases.stop()  # SIGTERM: its row goes, and its claims with it
    assert take_over_lapsed(two, clock()) == TEAM  # the same instant, no lease period waited
    assert set(dm_counts(team_standin).values()) == {1}
    assert len(dm_counts(team_standin)) == TEAM


def test_a_claim_is_taken_over_by_one_instance_only(
    pair: tuple[Services, Services], db: Database, team_standin: SlackStandIn, clock: FrozenClock
) -> None:
    one, two = pair
    three = build_services(two.settings, db=db, clock=clock)
    claim_a_batch(one, clock())
    clock.advance(one.leases.period + timedelta(seconds=1))
    with db.transaction() as session:
        lapsed = store.lapsed_sending(session, one.leases.cutoff(clock()))
    assert len(lapsed) == survey_dms.CLAIM_BATCH
    delivery, owner = lapsed[0]
    assert owner == one.leases.instance
    won = []
    for taker in (two, three):
        with db.transaction() as session:
            won.append(
                store.take_over_delivery(
                    session, delivery.id, owner, taker.leases.instance, clock()
                )
            )
    assert won == [True, False]
    three.background.shutdown()


def test_the_heartbeat_renews_while_a_slack_call_hangs(
    pair: tuple[Services, Services], team_standin: SlackStandIn, clock: FrozenClock
) -> None:
    """The renewal runs on a thread of its own: a DM that takes longer than the lease period
    to post (clock moved on meanwhile) is not taken over, and goes once."""
    one, two = pair
    one.leases.period = timedelta(seconds=1)  # renewals every 0.25 s: a post outlasts six
    two.leases.period = timedelta(seconds=1)
    one.leases.start()
    team_standin.delay("chat.postMessage", 1.5)
    sender = threading.Thread(target=survey_dms.dispatch_due_deliveries, args=(one, clock()))
    sender.start()
    team_standin.wait_for_calls("chat.postMessage", 1, timeout=10)
    clock.advance(timedelta(minutes=10))  # the first post hangs ten minutes, as the clock goes
    team_standin.wait_for(lambda: last_seen(one) == clock(), timeout=5, describe="a renewal")
    assert take_over_lapsed(two, clock()) == 0
    team_standin.delay("chat.postMessage", 0)
    sender.join(timeout=30)
    assert not team_standin.calls_to("conversations.history")
    assert set(dm_counts(team_standin).values()) == {1}
    assert len(dm_counts(team_standin)) == TEAM


def last_seen(services: Services) -> datetime | None:
    with services.db.transaction() as session:
        return session.scalar(
            select(Instance.last_seen).where(Instance.id == services.leases.instance)
        )


def test_an_instance_that_cannot_renew_stops_acting_on_its_claims(
    pair: tuple[Services, Services],
) -> None:
    one, _ = pair
    assert one.leases.holds()  # not started: each claim's own renewal covers it
    one.leases.period = timedelta(seconds=0.2)
    one.leases.start()
    assert one.leases.holds()
    one.leases._halt.set()  # the heartbeat stops (as with the database out of reach)
    threading.Event().wait(0.3)
    assert not one.leases.holds()


def test_a_steady_clock_ticks_from_its_instant() -> None:
    at = datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    clock = SteadyClock(at, reference=0.0)
    assert clock() > at
    with pytest.raises(ValueError, match="aware"):
        SteadyClock(datetime(2027, 3, 28), reference=0.0)


def sent_run(services: Services, clock: FrozenClock) -> store.RunRecord:
    assert survey_dms.dispatch_due_deliveries(services, clock()) == TEAM
    run = services.surveys.get_run(1)
    assert run is not None
    return run


def test_a_reminder_pass_cut_short_is_finished_once(
    pair: tuple[Services, Services], team_standin: SlackStandIn, clock: FrozenClock
) -> None:
    one, two = pair
    run = sent_run(one, clock)
    clock.now = run.closes_at - timedelta(minutes=1)  # everyone's reminder moment has come
    # One's pass: claimed, everyone marked handled, three reminders out, and then it dies.
    assert survey_dms._claim_pass(one, f"{survey_dms.REMINDERS_KEY}{run.id}", clock())
    with one.db.transaction() as session:
        waiting = store.sent_deliveries(session, run.id, flag="reminder_handled")
        store.flag_deliveries(session, [d.id for d in waiting], "reminder_handled")
    assert survey_dms._send_reminders(one, run, waiting[:3]) == 3
    assert survey_dms.send_due_reminders(two, clock()) == 0  # within its lease: left alone
    clock.advance(one.leases.period + timedelta(seconds=1))
    assert take_over_lapsed(two, clock()) == TEAM - 3
    reminded = Counter(
        m.recipient
        for m in team_standin.messages
        if (m.metadata or {}).get("event_type") == survey_dms.REMINDER_EVENT
    )
    assert len(reminded) == TEAM and set(reminded.values()) == {1}
    assert take_over_lapsed(two, clock()) == 0


def test_close_notices_cut_short_are_all_made(
    pair: tuple[Services, Services], team_standin: SlackStandIn, clock: FrozenClock
) -> None:
    one, two = pair
    run = sent_run(one, clock)
    clock.now = run.closes_at
    assert one.surveys.close_due_runs(clock()) == 1
    with one.db.transaction() as session:
        run = store.get_run(session, run.id) or run
    # One's pass: claimed, everyone marked handled, three DMs updated, and then it dies.
    assert survey_dms._claim_pass(one, f"{survey_dms.CLOSE_NOTICES_KEY}{run.id}", clock())
    with one.db.transaction() as session:
        pending = store.sent_deliveries(session, run.id, flag="close_handled")
        store.flag_deliveries(session, [d.id for d in pending], "close_handled")
    assert survey_dms._update_closed(one, run, pending[:3]) == 3
    assert survey_dms.send_close_notices(two) == 0  # within its lease: left alone
    clock.advance(one.leases.period + timedelta(seconds=1))
    take_over_lapsed(two, clock())
    updated = {call.params["ts"] for call in team_standin.calls_to("chat.update")}
    assert len(updated) == TEAM  # every DM now says the survey is closed
    with one.db.transaction() as session:
        assert store.runs_with_pending_close_notices(session) == []
