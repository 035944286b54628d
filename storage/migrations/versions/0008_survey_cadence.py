"""survey_cadence: nth-weekday and cron schedules, and each schedule's own time zone

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # All nullable: a schedule made before this revision is a weekday or day-of-month one in
    # the workspace's time zone, which is what NULLs here mean.
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("on_week", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cron", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_column("zone")
        batch_op.drop_column("cron")
        batch_op.drop_column("on_week")
