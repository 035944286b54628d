"""respondents_by_key: who answered a run is kept under the anonymous key, not the user id

survey_participants (run, user id) was written in the same transaction as the person's
answers, so the database linked the two whatever the columns said: PostgreSQL's xmin,
the physical order of both tables. survey_respondents keeps (run, HMAC key) instead.

Existing runs keep everyone who stored at least one answer. Someone who submitted a form
with every (optional) question left empty no longer counts as having answered an older
run. Downgrading brings back an empty survey_participants: nothing can be carried back.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "survey_respondents",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["survey_runs.id"], name=op.f("fk_survey_respondents_run_id_survey_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "respondent", name=op.f("pk_survey_respondents")),
    )
    op.execute(
        "INSERT INTO survey_respondents (run_id, respondent) "
        "SELECT DISTINCT run_id, respondent FROM survey_answers"
    )
    if op.get_bind().dialect.name == "sqlite":
        # Zero the dropped table's pages in the file, not just mark them free.
        op.execute("PRAGMA secure_delete = ON")
    op.drop_index(op.f("ix_survey_participants_user_id"), table_name="survey_participants")
    op.drop_table("survey_participants")


def downgrade() -> None:
    op.create_table(
        "survey_participants",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["survey_runs.id"], name=op.f("fk_survey_participants_run_id_survey_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "user_id", name=op.f("pk_survey_participants")),
    )
    op.create_index(
        op.f("ix_survey_participants_user_id"), "survey_participants", ["user_id"], unique=False
    )
    op.drop_table("survey_respondents")
