"""oneonone_notice_done: when each 1:1 DM was known to have reached both people

A notice claimed (day_before_at, …) but not done a while later was interrupted (a crash, a
Slack error for one of the two): the tick looks in each person's DM and sends what is missing.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

NOTICES = ("day_before", "hour_before", "after")


def upgrade() -> None:
    with op.batch_alter_table("oneonone_occurrences", schema=None) as batch_op:
        for notice in NOTICES:
            batch_op.add_column(sa.Column(f"{notice}_done_at", sa.DateTime(), nullable=True))
    # Notices claimed before this revision count as done: nothing old is sent again.
    for notice in NOTICES:
        op.execute(
            f"UPDATE oneonone_occurrences SET {notice}_done_at = {notice}_at"
            f" WHERE {notice}_at IS NOT NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("oneonone_occurrences", schema=None) as batch_op:
        for notice in reversed(NOTICES):
            batch_op.drop_column(f"{notice}_done_at")
