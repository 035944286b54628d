"""Forgetting a person who left: `pulsebot forget USER_ID --deals-to MANAGER_ID`.

What names them and is theirs alone goes (storage.upkeep.remove_person); their open deals go
to a manager, each with an event row, so the pipeline keeps its history; survey answers stay,
as they name no one. Running it again finds nothing more to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database
from storage.upkeep import PersonRemoved, hand_over_open_deals, remove_person


@dataclass(frozen=True, slots=True)
class Forgotten:
    user_id: str
    removed: PersonRemoved
    deals_handed_over: list[str]
    deals_to: str

    @property
    def nothing(self) -> bool:
        counts = (
            self.removed.directory_entries,
            self.removed.oneonone_series,
            self.removed.oneonone_notes,
            self.removed.oneonone_topics,
            self.removed.survey_dms,
            self.removed.deal_digests,
        )
        return not any(counts) and not self.deals_handed_over

    def lines(self) -> list[str]:
        """What was done, for the operator, one thing a line."""
        if self.nothing:
            return [f"nothing left to forget about {self.user_id}"]
        r = self.removed
        return [
            f"forgot {self.user_id}:",
            f"  directory entries removed: {r.directory_entries}",
            f"  1:1 series removed: {r.oneonone_series}"
            f" (with {r.oneonone_notes} private notes and {r.oneonone_topics} topics)",
            f"  survey DMs not yet sent, removed: {r.survey_dms}",
            f"  deal digest markers removed: {r.deal_digests}",
            f"  open deals handed to {self.deals_to}: {len(self.deals_handed_over)}"
            + (f" ({', '.join(self.deals_handed_over)})" if self.deals_handed_over else ""),
            "  survey answers kept: they are stored without a user id",
        ]


def forget_person(db: Database, user_id: str, *, deals_to: str, now: datetime) -> Forgotten:
    """One transaction: everything goes, or nothing does."""
    if user_id == deals_to:
        raise ValueError("the deals must go to someone else")
    with db.transaction() as session:
        handed = hand_over_open_deals(session, user_id, deals_to, now)
        removed = remove_person(session, user_id)
    return Forgotten(user_id, removed, handed, deals_to)
