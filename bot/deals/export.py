"""What `/deal export` holds: every deal with its full event history, as rows (the CSV file is
written by bot.views.spreadsheet)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from storage import deals as store
from storage.db import Database

COLUMNS = [
    "deal_id",
    "deal_name",
    "owner_id",
    "stage_now",
    "amount_now",
    "currency",
    "source",
    "expected_close",
    "created_at",
    "event_at",
    "event_actor_id",
    "event_kind",
    "from_stage",
    "to_stage",
    "note",
    "changes",
]


@dataclass(frozen=True)
class DealExport:
    rows: list[list[object]]  # in COLUMNS' order, one per event
    deals: int
    events: int


def export_deals(db: Database, *, owner_id: str | None = None) -> DealExport:
    """Every deal's history, or one owner's deals only."""
    rows: list[list[object]] = []
    deal_ids: set[int] = set()
    with db.transaction() as session:
        for deal, event in store.all_events(session, owner_id=owner_id):
            deal_ids.add(deal.id)
            rows.append(
                [
                    deal.id,
                    deal.name,
                    deal.owner_id,
                    deal.stage,
                    deal.amount,
                    deal.currency,
                    deal.source,
                    deal.close_date,
                    deal.created_at.isoformat(),
                    event.at.isoformat(),
                    event.actor_id,
                    event.kind,
                    event.from_stage,
                    event.to_stage,
                    event.note,
                    json.dumps(event.changes, ensure_ascii=False) if event.changes else "",
                ]
            )
    return DealExport(rows, len(deal_ids), len(rows))
