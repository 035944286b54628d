"""surveys: surveys, runs, deliveries, participants and anonymous answers

Revision ID: 0003
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_key", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("template_id", sa.String(length=32), nullable=True),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("cadence", sa.String(length=16), nullable=True),
        sa.Column("on_weekday", sa.Integer(), nullable=True),
        sa.Column("on_day", sa.Integer(), nullable=True),
        sa.Column("at_time", sa.String(length=5), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("open_days", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("name_key", name=op.f("uq_surveys_name_key")),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveys_next_run_at"), ["next_run_at"], unique=False)

    op.create_table(
        "survey_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("occurrence_key", sa.String(length=80), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("at_time", sa.String(length=5), nullable=False),
        sa.Column("opens_at", sa.DateTime(), nullable=False),
        sa.Column("closes_at", sa.DateTime(), nullable=False),
        sa.Column("remind_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("audience_resolved", sa.Boolean(), nullable=False),
        sa.Column("reminders_done", sa.Boolean(), nullable=False),
        sa.Column("closed_notices_done", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_runs_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_runs")),
        sa.UniqueConstraint("occurrence_key", name=op.f("uq_survey_runs_occurrence_key")),
        sa.UniqueConstraint("survey_id", "number", name=op.f("uq_survey_runs_survey_id_number")),
    )
    with op.batch_alter_table("survey_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_runs_closes_at"), ["closes_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_runs_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_runs_survey_id"), ["survey_id"], unique=False)

    op.create_table(
        "survey_answers",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["survey_runs.id"], name=op.f("fk_survey_answers_run_id_survey_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "respondent", "question", name=op.f("pk_survey_answers")),
    )
    op.create_table(
        "survey_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("send_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.Column("closed_notice", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["survey_runs.id"], name=op.f("fk_survey_deliveries_run_id_survey_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_deliveries")),
        sa.UniqueConstraint("run_id", "user_id", name=op.f("uq_survey_deliveries_run_id_user_id")),
    )
    with op.batch_alter_table("survey_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_deliveries_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_deliveries_send_at"), ["send_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_deliveries_state"), ["state"], unique=False)

    op.create_table(
        "survey_participants",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["survey_runs.id"], name=op.f("fk_survey_participants_run_id_survey_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "user_id", name=op.f("pk_survey_participants")),
    )


def downgrade() -> None:
    op.drop_table("survey_participants")
    with op.batch_alter_table("survey_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_deliveries_state"))
        batch_op.drop_index(batch_op.f("ix_survey_deliveries_send_at"))
        batch_op.drop_index(batch_op.f("ix_survey_deliveries_run_id"))

    op.drop_table("survey_deliveries")
    op.drop_table("survey_answers")
    with op.batch_alter_table("survey_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_runs_survey_id"))
        batch_op.drop_index(batch_op.f("ix_survey_runs_status"))
        batch_op.drop_index(batch_op.f("ix_survey_runs_closes_at"))

    op.drop_table("survey_runs")
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveys_next_run_at"))

    op.drop_table("surveys")
