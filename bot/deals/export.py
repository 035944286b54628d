"""The `/deal export` CSV: every deal with its full event history."""

from __future__ import annotations

import csv
import io
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
# Spreadsheets run cells starting with these as formulas; a deal note must never do that.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class DealExport:
    content: bytes
    deals: int
    events: int


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def export_deals(db: Database) -> DealExport:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    deal_ids: set[int] = set()
    count = 0
    with db.transaction() as session:
        for deal, event in store.all_events(session):
            deal_ids.add(deal.id)
            count += 1
            writer.writerow(
                _cell(value)
                for value in (
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
                )
            )
    # A BOM so Excel opens the UTF-8 file with accents and emoji intact.
    return DealExport(buffer.getvalue().encode("utf-8-sig"), len(deal_ids), count)
