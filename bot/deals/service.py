"""What can be done to a deal: every change checked, written with its event, in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from bot.actor import Actor
from bot.clock import Clock, system_clock
from bot.deals.arguments import DealRef, DealRefById, NewDealArgs, deal_name_key
from bot.deals.export import DealExport, export_deals
from bot.deals.matching import (
    Found,
    Match,
    NamedDeal,
    longest_exact,
    match_partial,
    name_prefixes,
    with_longer_names,
)
from bot.deals.metrics import PipelineReport, pipeline_report
from bot.deals.stages import LOST, WON, Pipeline
from bot.parsing.money import Money
from storage import deals as store
from storage.db import Database
from storage.deals import DealEventRecord, DealRecord

MAX_NOTE = 2000
# PULSEBOT_PIPELINE_VISIBILITY: every member sees every deal, or only their own.
Visibility = Literal["team", "own"]
SNOOZE_DAYS = 7


class DealError(Exception):
    """A refusal the person can act on: rendered from the catalog as `errors.<key>`."""

    def __init__(self, key: str, /, **params: str) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class DealView:
    """A deal as plain values, for views and announcements."""

    id: int
    name: str
    owner_id: str
    amount: Decimal | None
    currency: str
    stage: str
    probability: int
    source: str | None
    close_date: date | None
    next_step: str | None
    next_step_due: date | None
    lost_reason: str | None
    created_at: datetime
    last_activity_at: datetime
    stale: bool = False
    at_last_open_stage: bool = False

    @property
    def is_open(self) -> bool:
        return self.stage not in (WON, LOST)


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor_id: str
    kind: str
    from_stage: str | None
    to_stage: str | None
    note: str | None
    changes: dict[str, Any] | None


@dataclass(frozen=True)
class DealChange:
    """The result of one command that changed a deal."""

    deal: DealView
    # created | advanced | back | stage | won | lost | reopened | note | next | amount | owner
    # | snoozed
    kind: str
    from_stage: str | None = None
    to_stage: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class DealCard:
    deal: DealView
    history: list[EventView] = field(default_factory=list)


def _event_view(event: DealEventRecord) -> EventView:
    return EventView(
        at=event.at,
        actor_id=event.actor_id,
        kind=event.kind,
        from_stage=event.from_stage,
        to_stage=event.to_stage,
        note=event.note,
        changes=event.changes,
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


class DealService:
    def __init__(
        self,
        db: Database,
        pipeline: Pipeline,
        *,
        currency: str,
        visibility: Visibility = "team",
        clock: Clock = system_clock,
        confidence: int = 95,
    ) -> None:
        self.db = db
        self.confidence = confidence  # PULSEBOT_CONFIDENCE, of win rate and conversion
        self.pipeline = pipeline
        self.currency = currency
        self.visibility = visibility
        self.clock = clock

    # -- who sees what ------------------------------------------------------------------------

    def sees_every_deal(self, actor: Actor) -> bool:
        """Managers always; members too unless PULSEBOT_PIPELINE_VISIBILITY=own."""
        return actor.is_manager or self.visibility == "team"

    def _check_can_see(self, actor: Actor, deal: DealRecord) -> None:
        if not self.sees_every_deal(actor) and deal.owner_id != actor.user_id:
            raise DealError("deal.not_visible", name=deal.name)

    def pipeline_report(self, actor: Actor) -> PipelineReport:
        """`/deal pipeline`: the whole pipeline's figures, for whoever may see every deal."""
        if not self.sees_every_deal(actor):
            raise DealError("deal.pipeline_not_visible")
        return pipeline_report(self.db, self.pipeline, self.clock(), confidence=self.confidence)

    def export(self, actor: Actor) -> DealExport:
        """`/deal export`: every deal for a manager; a member's own deals otherwise."""
        return export_deals(self.db, owner_id=None if actor.is_manager else actor.user_id)

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.db.begin() as connection:
            yield connection

    def view(self, deal: DealRecord, now: datetime | None = None) -> DealView:
        now = now or self.clock()
        stage = deal.stage
        stale_after = self.pipeline.stale_days.get(stage)
        snoozed = deal.snoozed_until is not None and deal.snoozed_until > now
        stale = (
            stale_after is not None
            and not snoozed
            and now - deal.last_activity_at >= timedelta(days=stale_after)
        )
        return DealView(
            id=deal.id,
            name=deal.name,
            owner_id=deal.owner_id,
            amount=deal.amount,
            currency=deal.currency,
            stage=stage,
            probability=self.pipeline.probability(stage),
            source=deal.source,
            close_date=deal.close_date,
            next_step=deal.next_step,
            next_step_due=deal.next_step_due,
            lost_reason=deal.lost_reason,
            created_at=deal.created_at,
            last_activity_at=deal.last_activity_at,
            stale=stale,
            at_last_open_stage=stage == self.pipeline.open_names[-1],
        )

    def find_deal(self, actor: Actor, words: list[str]) -> Match:
        """Which deal the words begin with (see bot.deals.matching). An exact name is found
        among every deal (a deal the actor may not see is refused later, by name, as it was
        typed in full); parts of names and near misses only among the deals they may see."""
        with self._transaction() as bind:
            exact_rows = store.names_by_keys(bind, name_prefixes(words))
            by_key = {key: NamedDeal(deal_id, name, key) for deal_id, name, key in exact_rows}
            exact = longest_exact(words, by_key)
            prefixes = name_prefixes(words)
            if exact is not None and exact.width == len(prefixes):
                return Found(exact.deal, exact.width)  # nothing typed after the name
            owner = None if self.sees_every_deal(actor) else actor.user_id
            if exact is not None:
                # Only names running on past it matter: no need to read every name.
                longer = store.names_starting_with(bind, prefixes[exact.width], owner_id=owner)
                return with_longer_names(exact, words, [NamedDeal(*row) for row in longer])
            visible = [NamedDeal(*row) for row in store.all_names(bind, owner_id=owner)]
        return match_partial(words, visible)

    def _resolve(self, bind: Connection, ref: DealRef, *, for_update: bool = False) -> DealRecord:
        if isinstance(ref, DealRefById):
            deal = store.get_deal(bind, ref.id, for_update=for_update)
            if deal is None:
                raise DealError("deal.not_found_id", id=str(ref.id))
            return deal
        # A name reaches here exact: the commands match typed words to a deal id first
        # (find_deal), asking or suggesting only among the deals the person may see.
        exact = store.find_by_key(bind, ref.key, for_update=for_update)
        if exact is None:
            raise DealError("deal.not_found", name=ref.name)
        return exact

    @staticmethod
    def _check_can_change(actor: Actor, deal: DealRecord) -> None:
        if not actor.is_manager and actor.user_id != deal.owner_id:
            raise DealError("deal.not_owner", name=deal.name, owner=deal.owner_id)

    def _change(
        self,
        bind: Connection,
        deal: DealRecord,
        actor: Actor,
        kind: str,
        *,
        now: datetime,
        updates: dict[str, Any] | None = None,
        from_stage: str | None = None,
        to_stage: str | None = None,
        note: str | None = None,
        changes: dict[str, Any] | None = None,
    ) -> DealView:
        """Write one event and the deal's new values; return the deal as it now is."""
        store.insert_event(
            bind,
            {
                "deal_id": deal.id,
                "at": now,
                "actor_id": actor.user_id,
                "kind": kind,
                "from_stage": from_stage,
                "to_stage": to_stage,
                "note": note,
                "changes": changes,
            },
        )
        # A change is activity: the idle clock restarts and any snooze ends.
        values = {"last_activity_at": now, "snoozed_until": None, **(updates or {})}
        store.update_deal(bind, deal.id, values)
        return self.view(replace(deal, **values), now)

    @staticmethod
    def _clean(text: str | None, *, required: bool = False, what: str = "text") -> str | None:
        cleaned = (text or "").strip()
        if not cleaned:
            if required:
                raise DealError("text.empty", what=what)
            return None
        if len(cleaned) > MAX_NOTE:
            raise DealError("text.too_long", what=what, max=str(MAX_NOTE), length=str(len(cleaned)))
        if "\x00" in cleaned:
            raise DealError("text.invalid", what=what)
        return cleaned

    def _move(
        self,
        bind: Connection,
        deal: DealRecord,
        actor: Actor,
        to_stage: str,
        *,
        now: datetime,
        note: str | None,
        kind: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> DealChange:
        from_stage = deal.stage
        closing = to_stage in (WON, LOST)
        updates: dict[str, Any] = {"stage": to_stage, "closed_at": now if closing else None}
        if not closing:
            updates["lost_reason"] = None
        updates.update(extra or {})
        view = self._change(
            bind,
            deal,
            actor,
            "stage",
            now=now,
            updates=updates,
            from_stage=from_stage,
            to_stage=to_stage,
            note=note,
        )
        if kind is None:
            reopened = not self.pipeline.is_open(from_stage) and self.pipeline.is_open(to_stage)
            kind = "reopened" if reopened else "stage"
        return DealChange(view, kind, from_stage, to_stage, note)

    def _open_deal(self, bind: Connection, actor: Actor, ref: DealRef) -> DealRecord:
        deal = self._resolve(bind, ref, for_update=True)
        self._check_can_change(actor, deal)
        if not self.pipeline.is_open(deal.stage):
            raise DealError("deal.closed", name=deal.name, stage=deal.stage)
        return deal

    # -- commands ---------------------------------------------------------------------------

    def create(self, actor: Actor, args: NewDealArgs) -> DealChange:
        now = self.clock()
        stage = args.stage or self.pipeline.first
        if not self.pipeline.is_open(stage):
            raise DealError("deal.new_closed_stage", stage=stage)
        source = self._clean(args.source, what="source")
        if source is not None and len(source) > store.MAX_NAME:
            raise DealError(
                "text.too_long", what="source", max=str(store.MAX_NAME), length=str(len(source))
            )
        key = deal_name_key(args.name)
        values: dict[str, Any] = {
            "name": args.name.strip(),
            "name_key": key,
            "owner_id": args.owner_id or actor.user_id,
            "amount": args.amount.amount if args.amount else None,
            "currency": args.amount.currency if args.amount else self.currency,
            "stage": stage,
            "source": source,
            "close_date": args.close_date,
            "next_step": None,
            "next_step_due": None,
            "lost_reason": None,
            "created_by": actor.user_id,
            "created_at": now,
            "last_activity_at": now,
            "closed_at": None,
            "snoozed_until": None,
            "last_nudged_at": None,
            "next_step_reminded_on": None,
        }
        try:
            with self._transaction() as bind:
                if store.find_by_key(bind, key) is not None:
                    raise DealError("deal.duplicate", name=args.name)
                deal_id = store.insert_deal(bind, values)
                store.insert_event(
                    bind,
                    {
                        "deal_id": deal_id,
                        "at": now,
                        "actor_id": actor.user_id,
                        "kind": "created",
                        "from_stage": None,
                        "to_stage": stage,
                        "note": None,
                        "changes": {
                            "amount": [None, _text(values["amount"]) or None],
                            "owner": [None, values["owner_id"]],
                        },
                    },
                )
        except IntegrityError:
            # Two people created the same name at once: the unique key kept one.
            raise DealError("deal.duplicate", name=args.name) from None
        return DealChange(
            self.view(DealRecord(id=deal_id, **values), now), "created", to_stage=stage
        )

    def advance(self, actor: Actor, ref: DealRef, note: str | None = None) -> DealChange:
        now = self.clock()
        note = self._clean(note, what="note")
        with self._transaction() as bind:
            deal = self._open_deal(bind, actor, ref)
            to_stage = self.pipeline.next_stage(deal.stage)
            if to_stage is None:
                raise DealError("deal.last_stage", name=deal.name, stage=deal.stage)
            return self._move(bind, deal, actor, to_stage, now=now, note=note, kind="advanced")

    def back(self, actor: Actor, ref: DealRef, note: str | None = None) -> DealChange:
        now = self.clock()
        note = self._clean(note, what="note")
        with self._transaction() as bind:
            deal = self._open_deal(bind, actor, ref)
            to_stage = self.pipeline.previous_stage(deal.stage)
            if to_stage is None:
                raise DealError("deal.first_stage", name=deal.name, stage=deal.stage)
            return self._move(bind, deal, actor, to_stage, now=now, note=note, kind="back")

    def set_stage(
        self, actor: Actor, ref: DealRef, stage: str, note: str | None = None
    ) -> DealChange:
        now = self.clock()
        found = self.pipeline.find(stage)
        if found is None:
            raise DealError(
                "deal.unknown_stage", stage=stage, stages=", ".join(self.pipeline.names)
            )
        if found == LOST:
            return self.lost(actor, ref, note or "")
        note = self._clean(note, what="note")
        with self._transaction() as bind:
            deal = self._resolve(bind, ref, for_update=True)
            self._check_can_change(actor, deal)
            if deal.stage == found:
                raise DealError("deal.same_stage", name=deal.name, stage=found)
            kind = "won" if found == WON else None
            return self._move(bind, deal, actor, found, now=now, note=note, kind=kind)

    def won(self, actor: Actor, ref: DealRef, note: str | None = None) -> DealChange:
        now = self.clock()
        note = self._clean(note, what="note")
        with self._transaction() as bind:
            deal = self._open_deal(bind, actor, ref)
            return self._move(bind, deal, actor, WON, now=now, note=note, kind="won")

    def lost(self, actor: Actor, ref: DealRef, reason: str) -> DealChange:
        now = self.clock()
        cleaned = self._clean(reason, required=True, what="reason")
        with self._transaction() as bind:
            deal = self._open_deal(bind, actor, ref)
            return self._move(
                bind,
                deal,
                actor,
                LOST,
                now=now,
                note=cleaned,
                kind="lost",
                extra={"lost_reason": cleaned},
            )

    def add_note(self, actor: Actor, ref: DealRef, text: str) -> DealChange:
        now = self.clock()
        note = self._clean(text, required=True, what="note")
        with self._transaction() as bind:
            deal = self._resolve(bind, ref, for_update=True)
            self._check_can_change(actor, deal)
            view = self._change(bind, deal, actor, "note", now=now, note=note)
            return DealChange(view, "note", detail=note)

    def set_next_step(self, actor: Actor, ref: DealRef, task: str, due: date | None) -> DealChange:
        now = self.clock()
        cleaned = self._clean(task, required=True, what="task")
        with self._transaction() as bind:
            deal = self._resolve(bind, ref, for_update=True)
            self._check_can_change(actor, deal)
            changes = {
                "next_step": [deal.next_step, cleaned],
                "next_step_due": [_text(deal.next_step_due) or None, _text(due) or None],
            }
            updates = {"next_step": cleaned, "next_step_due": due, "next_step_reminded_on": None}
            view = self._change(
                bind, deal, actor, "next_step", now=now, updates=updates, changes=changes
            )
            return DealChange(view, "next", detail=cleaned)

    def set_amount(self, actor: Actor, ref: DealRef, amount: Money | Decimal) -> DealChange:
        """A plain Decimal keeps the deal's currency; Money sets both."""
        now = self.clock()
        with self._transaction() as bind:
            deal = self._resolve(bind, ref, for_update=True)
            self._check_can_change(actor, deal)
            money = amount if isinstance(amount, Money) else Money(amount, deal.currency)
            changes = {
                "amount": [_text(deal.amount) or None, _text(money.amount)],
                "currency": [deal.currency, money.currency],
            }
            updates = {"amount": money.amount, "currency": money.currency}
            view = self._change(
                bind, deal, actor, "amount", now=now, updates=updates, changes=changes
            )
            return DealChange(view, "amount")

    def set_owner(self, actor: Actor, ref: DealRef, owner_id: str) -> DealChange:
        now = self.clock()
        with self._transaction() as bind:
            deal = self._resolve(bind, ref, for_update=True)
            self._check_can_change(actor, deal)
            if deal.owner_id == owner_id:
                raise DealError("deal.same_owner", name=deal.name, owner=owner_id)
            view = self._change(
                bind,
                deal,
                actor,
                "owner",
                now=now,
                updates={"owner_id": owner_id},
                changes={"owner": [deal.owner_id, owner_id]},
            )
            return DealChange(view, "owner", detail=owner_id)

    def snooze(self, actor: Actor, ref: DealRef, days: int = SNOOZE_DAYS) -> DealChange:
        now = self.clock()
        until = now + timedelta(days=days)
        with self._transaction() as bind:
            deal = self._resolve(bind, ref, for_update=True)
            self._check_can_change(actor, deal)
            # Snoozing is not progress: the idle clock keeps running under the snooze.
            view = self._change(
                bind,
                deal,
                actor,
                "snooze",
                now=now,
                updates={"last_activity_at": deal.last_activity_at, "snoozed_until": until},
                changes={"snoozed_until": [None, until.isoformat()]},
            )
            return DealChange(view, "snoozed", detail=until.date().isoformat())

    # -- reading ----------------------------------------------------------------------------

    def show(self, actor: Actor, ref: DealRef, history: int = 10) -> DealCard:
        with self._transaction() as bind:
            deal = self._resolve(bind, ref)
            self._check_can_see(actor, deal)
            events = store.deal_history(bind, deal.id, limit=history)
            return DealCard(self.view(deal), [_event_view(e) for e in events])

    def changeable(self, actor: Actor, ref: DealRef) -> DealView:
        """A deal the actor may change (its owner or a manager), for a form about to."""
        with self._transaction() as bind:
            deal = self._resolve(bind, ref)
            self._check_can_change(actor, deal)
            return self.view(deal)

    def list_deals(
        self,
        actor: Actor,
        *,
        owner_id: str | None = None,
        stages: list[str] | None = None,
        stalled: bool = False,
        limit: int = 50,
    ) -> tuple[list[DealView], int]:
        """Deals matching the filter (at most `limit`) and how many matched in all; only the
        actor's own when they may not see every deal (asking for another's is refused)."""
        if not self.sees_every_deal(actor):
            if owner_id not in (None, actor.user_id):
                raise DealError("deal.others_not_visible")
            owner_id = actor.user_id
        now = self.clock()
        with self._transaction() as bind:
            if stalled:
                rows = store.stale_deals(
                    bind, self.pipeline.stale_days, now, owner_id=owner_id, limit=500
                )
                return [self.view(d, now) for d in rows[:limit]], len(rows)
            rows = store.list_deals(bind, owner_id=owner_id, stages=stages, limit=limit)
            total = store.count_deals(bind, owner_id=owner_id, stages=stages)
            order = {name: i for i, name in enumerate(self.pipeline.names)}
            rows.sort(key=lambda d: (order.get(d.stage, 99), d.name.casefold()))
            return [self.view(d, now) for d in rows], total
