"""Concurrent commands on one deal are serialised: none lost, none skips a stage."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from bot.actor import Actor
from bot.deals.arguments import DealRefByName, NewDealArgs
from bot.deals.service import DealError, DealService
from bot.deals.stages import Pipeline
from storage.db import Database
from storage.deals import Deal, DealEvent
from tests.harness import BotHarness

OWNER = Actor("U05OSMITH")
TWELVE_STAGES = ",".join(f"s{n:02d}:{n * 5}:30" for n in range(1, 13))


def test_parallel_advances_make_one_chain(db: Database) -> None:
    service = DealService(db, Pipeline.parse(TWELVE_STAGES), currency="EUR")
    service.create(OWNER, NewDealArgs(name="Race"))
    start = threading.Barrier(10)

    def advance() -> str:
        start.wait()
        return service.advance(OWNER, DealRefByName("race")).to_stage or ""

    with ThreadPoolExecutor(max_workers=10) as pool:
        reached = list(pool.map(lambda _: advance(), range(10)))
    assert sorted(reached) == [f"s{n:02d}" for n in range(2, 12)]
    with db.transaction() as session:
        deal = session.scalars(select(Deal)).one()
        moves = list(
            session.scalars(
                select(DealEvent).where(DealEvent.kind == "stage").order_by(DealEvent.id)
            )
        )
    assert deal.stage == "s11"
    chain = [(m.from_stage, m.to_stage) for m in moves]
    assert chain == [(f"s{n:02d}", f"s{n + 1:02d}") for n in range(1, 11)]


def test_parallel_advances_past_the_last_stage_are_refused(db: Database) -> None:
    service = DealService(db, Pipeline.parse("a:10:5,b:20:5,c:30:5"), currency="EUR")
    service.create(OWNER, NewDealArgs(name="Edge"))
    start = threading.Barrier(6)

    def advance() -> str:
        start.wait()
        try:
            return service.advance(OWNER, DealRefByName("edge")).to_stage or ""
        except DealError as exc:
            return exc.key

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = sorted(pool.map(lambda _: advance(), range(6)))
    assert outcomes == ["b", "c"] + ["deal.last_stage"] * 4


def test_parallel_creates_of_one_name_keep_one(db: Database) -> None:
    service = DealService(db, Pipeline.parse("a:10:5,b:20:5"), currency="EUR")
    start = threading.Barrier(8)

    def create(n: int) -> str:
        start.wait()
        try:
            service.create(Actor(f"U0{n}"), NewDealArgs(name="Twin"))
            return "created"
        except DealError as exc:
            return exc.key

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = sorted(pool.map(create, range(8)))
    assert outcomes == ["created"] + ["deal.duplicate"] * 7


def test_ten_signed_advances_through_the_app(bot: BotHarness) -> None:
    bot.command("U05OSMITH", "/deal", "new Rush 1k")
    requests = [
        bot.requests.slash_command("/deal", "advance rush", user_id="U05OSMITH") for _ in range(10)
    ]
    start = threading.Barrier(10)

    def send(index: int) -> int:
        start.wait()
        return bot.dispatch(requests[index]).status

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert set(pool.map(send, range(10))) == {200}
    with bot.services.db.transaction() as session:
        moves = list(
            session.scalars(
                select(DealEvent).where(DealEvent.kind == "stage").order_by(DealEvent.id)
            )
        )
    # Four stages after lead; the other six were told to use won or lost.
    assert [(m.from_stage, m.to_stage) for m in moves] == [
        ("lead", "qualified"),
        ("qualified", "nurturing"),
        ("nurturing", "proposal"),
        ("proposal", "negotiation"),
    ]
