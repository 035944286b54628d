"""Timely action: one 09:00 digest per owner in their own time zone, no nagging, snoozes kept."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update

from bot.actor import Actor
from bot.deals.arguments import DealRefByName, NewDealArgs
from bot.delivery.deal_digests import send_deal_digests
from bot.views import deals as views
from storage.deals import Deal, OwnerNudge, claim_owner_nudge
from storage.leases import renew_instance
from tests.harness import BotHarness, block_text

LONDON_REP = Actor("U05OSMITH")  # Europe/London
NEW_YORK_REP = Actor("U07JMILLE")  # America/New_York


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_history(bot: BotHarness) -> None:
    deals = bot.services.deals
    clock = {"now": at("2026-11-01T10:00")}
    deals.clock = lambda: clock["now"]
    deals.create(LONDON_REP, NewDealArgs(name="Stale Co"))
    deals.create(LONDON_REP, NewDealArgs(name="Sleepy"))
    deals.create(NEW_YORK_REP, NewDealArgs(name="Yankee"))
    clock["now"] = at("2026-11-28T10:00")
    deals.snooze(LONDON_REP, DealRefByName("sleepy"))  # until 5 December
    clock["now"] = at("2026-11-30T10:00")
    deals.create(LONDON_REP, NewDealArgs(name="Fresh"))
    deals.set_next_step(LONDON_REP, DealRefByName("fresh"), "call back", date(2026, 12, 1))


def digests_to(bot: BotHarness, user_id: str) -> list[str]:
    return [
        block_text({"text": m.text, "blocks": m.blocks}) for m in bot.standin.messages_for(user_id)
    ]


def test_digest_at_nine_in_each_owners_time_zone(bot: BotHarness) -> None:
    make_history(bot)
    assert send_deal_digests(bot.services, at("2026-12-01T08:30")) == 0  # 08:30 in London
    assert send_deal_digests(bot.services, at("2026-12-01T09:05")) == 1
    (london,) = digests_to(bot, "U05OSMITH")
    assert "Stale Co" in london
    assert "call back" in london  # the next step due today
    assert "Sleepy" not in london  # snoozed
    assert "[Snooze 7 days]" in london and "[Advance]" in london
    assert digests_to(bot, "U07JMILLE") == []  # 04:05 in New York
    assert send_deal_digests(bot.services, at("2026-12-01T09:30")) == 0  # once a day
    assert send_deal_digests(bot.services, at("2026-12-01T14:05")) == 1  # 09:05 in New York
    assert "Yankee" in digests_to(bot, "U07JMILLE")[0]


def test_no_deal_is_nagged_twice_in_three_days(bot: BotHarness) -> None:
    make_history(bot)
    send_deal_digests(bot.services, at("2026-12-01T09:05"))
    assert send_deal_digests(bot.services, at("2026-12-02T09:05")) == 0
    assert send_deal_digests(bot.services, at("2026-12-03T09:05")) == 0
    send_deal_digests(bot.services, at("2026-12-04T09:05"))
    london = digests_to(bot, "U05OSMITH")
    assert len(london) == 2 and "Stale Co" in london[1]


def test_snooze_ends_and_activity_resets(bot: BotHarness) -> None:
    make_history(bot)
    bot.services.deals.clock = lambda: at("2026-12-01T08:00")
    bot.services.deals.add_note(LONDON_REP, DealRefByName("stale co"), "spoke to them")
    send_deal_digests(bot.services, at("2026-12-06T09:05"))
    (digest,) = digests_to(bot, "U05OSMITH")
    assert "Sleepy" in digest  # the snooze ended on 5 December
    assert "Stale Co" not in digest  # the note counted as activity


def test_snooze_button_in_the_digest(bot: BotHarness) -> None:
    make_history(bot)
    send_deal_digests(bot.services, at("2026-12-01T09:05"))
    url = bot.standin.response_url(user_id="U05OSMITH")
    bot.click("U05OSMITH", views.SNOOZE, "1", response_url=url)
    posts = bot.standin.wait_for(lambda: bot.standin.response_posts(url))
    # The day the reminders start again, in words ("Monday 7 December"), not 2026-12-07.
    assert re.search(
        r"snoozed until \w+day \d{1,2} \w+: no reminders", block_text(posts[0].payload)
    )


def test_a_digest_whose_sender_died_before_posting_goes_out_once(bot: BotHarness) -> None:
    make_history(bot)
    claimed = at("2026-12-01T09:05")
    lease = bot.services.leases.period
    with bot.services.db.transaction() as session:  # claimed by another instance, which died
        renew_instance(session, "crashed", claimed)
        assert claim_owner_nudge(
            session, "U05OSMITH", date(2026, 12, 1), claimed, instance="crashed"
        )
    # Within its lease the claim is left alone: that instance may still be sending.
    assert send_deal_digests(bot.services, claimed + lease - timedelta(seconds=1)) == 0
    assert digests_to(bot, "U05OSMITH") == []
    # Its lease lapsed: taken over, and not in the DM, so sent.
    assert send_deal_digests(bot.services, claimed + lease + timedelta(seconds=1)) == 1
    (digest,) = digests_to(bot, "U05OSMITH")
    assert "Stale Co" in digest
    assert send_deal_digests(bot.services, at("2026-12-01T09:35")) == 0


def test_a_digest_posted_just_before_its_sender_died_is_not_sent_again(bot: BotHarness) -> None:
    make_history(bot)
    assert send_deal_digests(bot.services, at("2026-12-01T09:05")) == 1
    with bot.services.db.transaction() as session:  # as if it died before noting the post
        session.execute(update(OwnerNudge).values(sent_at=None, claimed_at=at("2026-12-01T09:05")))
        session.execute(update(Deal).values(last_nudged_at=None, next_step_reminded_on=None))
    assert send_deal_digests(bot.services, at("2026-12-01T09:20")) == 0
    assert len(digests_to(bot, "U05OSMITH")) == 1
    # Found in the DM, its deals count as nudged: not listed again within three days.
    assert send_deal_digests(bot.services, at("2026-12-02T09:05")) == 0
    assert len(digests_to(bot, "U05OSMITH")) == 1
