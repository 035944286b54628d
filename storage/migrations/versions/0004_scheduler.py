"""scheduler: APScheduler's job store and the keys of scheduled effects already done

Revision ID: 0004
Revises: 0002

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
# Other branches add 0002 and 0003; at merge this points at the newest of them.
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # The exact table APScheduler 3.11's SQLAlchemyJobStore reads and writes.
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_apscheduler_jobs_next_run_time"), ["next_run_time"], unique=False
        )

    op.create_table(
        "scheduled_effects",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_scheduled_effects")),
    )


def downgrade() -> None:
    op.drop_table("scheduled_effects")
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apscheduler_jobs_next_run_time"))

    op.drop_table("apscheduler_jobs")
