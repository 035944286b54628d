"""work_leases: claims on work are leases of a live instance, taken over within seconds

`instances` holds one row per running instance, renewed every few seconds; each claim names
its instance (`claimed_by`). A claim lapses when its instance stops renewing (killed) or
removes its row (stopped), instead of ten minutes after it was made. Claims made before this
revision have no owner and lapse one lease period after they were made.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None

OWNED = {
    "survey_deliveries": ("claimed_by",),
    "owner_nudges": ("claimed_by",),
    "scheduled_effects": ("claimed_by",),
    "oneonone_occurrences": ("day_before_by", "hour_before_by", "after_by"),
}


def upgrade() -> None:
    op.create_table(
        "instances",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instances")),
    )
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instances_last_seen"), ["last_seen"], unique=False)
    for table, columns in OWNED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.add_column(sa.Column(column, sa.String(length=32), nullable=True))


def downgrade() -> None:
    for table, columns in OWNED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(columns):
                batch_op.drop_column(column)
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instances_last_seen"))
    op.drop_table("instances")
