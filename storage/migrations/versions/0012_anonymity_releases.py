"""anonymity_releases: results released at close, a release ledger, invitees by key, no flags
that tell who answered

- survey_invitees: who may answer a run, by the anonymous key (filled by the bot, which holds
  the secret: for runs still open when this runs, at the survey job's next firing).
- survey_deliveries.reminded / closed_notice were set beside the user id for exactly the people
  who had not answered. They become reminder_handled / close_handled, set for everyone when
  their reminder moment and the close have been dealt with; on runs already done with both,
  every row is set now, so the old difference is gone from the table.
- survey_answers, survey_respondents: on SQLite, kept in key order (WITHOUT ROWID) instead of
  the order people answered in; the old pages are zeroed (secure_delete).
- survey_results (a closed run's frozen snapshot) and survey_releases (the ledger). Runs closed
  before this are released by the bot in the order they closed, the first time it runs.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

ANSWER_COLUMNS = "run_id, respondent, question, number, text, answered_on, segment"


def _answer_tables(*, with_rowid: bool) -> None:
    """Recreate survey_answers and survey_respondents (SQLite: with or without rowid)."""
    op.create_table(
        "survey_respondents_new",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["survey_runs.id"], name="fk_survey_respondents_run_id_survey_runs"
        ),
        sa.PrimaryKeyConstraint("run_id", "respondent", name="pk_survey_respondents"),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(
        "INSERT INTO survey_respondents_new (run_id, respondent) "
        "SELECT run_id, respondent FROM survey_respondents ORDER BY run_id, respondent"
    )
    op.drop_table("survey_respondents")
    op.rename_table("survey_respondents_new", "survey_respondents")
    op.create_table(
        "survey_answers_new",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("segment", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["survey_runs.id"], name="fk_survey_answers_run_id_survey_runs"
        ),
        sa.PrimaryKeyConstraint("run_id", "respondent", "question", name="pk_survey_answers"),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(
        f"INSERT INTO survey_answers_new ({ANSWER_COLUMNS}) "
        f"SELECT {ANSWER_COLUMNS} FROM survey_answers ORDER BY run_id, respondent, question"
    )
    op.drop_table("survey_answers")
    op.rename_table("survey_answers_new", "survey_answers")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "survey_invitees",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sa.String(length=64), nullable=False),
        sa.Column("segment", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["survey_runs.id"], name=op.f("fk_survey_invitees_run_id_survey_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "respondent", name=op.f("pk_survey_invitees")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("survey_deliveries") as batch:
        batch.alter_column("reminded", new_column_name="reminder_handled")
        batch.alter_column("closed_notice", new_column_name="close_handled")
    op.execute(
        "UPDATE survey_deliveries SET reminder_handled = TRUE WHERE run_id IN "
        "(SELECT id FROM survey_runs WHERE reminders_done)"
    )
    op.execute(
        "UPDATE survey_deliveries SET close_handled = TRUE WHERE run_id IN "
        "(SELECT id FROM survey_runs WHERE closed_notices_done)"
    )
    if sqlite:
        op.execute("PRAGMA secure_delete = ON")  # the old rows' pages are zeroed, not freed
        _answer_tables(with_rowid=False)
    op.create_table(
        "survey_results",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("released_on", sa.Date(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["survey_runs.id"], name=op.f("fk_survey_results_run_id_survey_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_survey_results")),
    )
    op.create_table(
        "survey_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=300), nullable=False),
        sa.Column("respondents", sa.Integer(), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["survey_runs.id"], name=op.f("fk_survey_releases_run_id_survey_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_releases")),
    )
    op.create_index(op.f("ix_survey_releases_kind"), "survey_releases", ["kind"], unique=False)
    op.create_index(op.f("ix_survey_releases_run_id"), "survey_releases", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_survey_releases_run_id"), table_name="survey_releases")
    op.drop_index(op.f("ix_survey_releases_kind"), table_name="survey_releases")
    op.drop_table("survey_releases")
    op.drop_table("survey_results")
    if op.get_bind().dialect.name == "sqlite":
        _answer_tables(with_rowid=True)
    with op.batch_alter_table("survey_deliveries") as batch:
        batch.alter_column("reminder_handled", new_column_name="reminded")
        batch.alter_column("close_handled", new_column_name="closed_notice")
    op.drop_table("survey_invitees")
