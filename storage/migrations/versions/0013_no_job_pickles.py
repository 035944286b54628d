"""no_job_pickles: APScheduler's job table goes; the scheduler builds its jobs in code

The table held each job pickled, and the job store unpickled every row as the scheduler
started: a row planted by anyone able to write to the database ran as code inside pulsebot,
with its tokens and secret in reach. The jobs now live in memory, built at start
(bot.scheduler). What a running database loses is each job's stored next run time; a weekly
summary missed across the upgrade is still caught up within its grace time, from its key in
scheduled_effects, and the other jobs run once as the scheduler starts.

The downgrade recreates the table empty; the older code fills it on start.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apscheduler_jobs_next_run_time"))
    op.drop_table("apscheduler_jobs")


def downgrade() -> None:
    # The table as 0004 made it: APScheduler 3.11's SQLAlchemyJobStore, column for column.
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
