"""owner_nudge_claims: when a deal digest was claimed, so one whose sender died is settled

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # NULL for older claims: one still unsent then is long stale, and is settled as such.
    with op.batch_alter_table("owner_nudges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("owner_nudges", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
