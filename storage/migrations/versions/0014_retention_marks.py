"""retention_marks: who answered a question of a run whose answers retention deleted

PULSEBOT_RETENTION_MONTHS deletes old survey answers. The release ledger works out each earlier
released figure's group of respondents from the answers; survey_answer_marks keeps, by the
anonymous key only, who answered which question of a pruned run, so that the groups (and the
anonymity rule that compares them) outlive the answers. Empty until retention first runs.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "survey_answer_marks",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["survey_runs.id"], name=op.f("fk_survey_answer_marks_run_id_survey_runs")
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "respondent", "question", name=op.f("pk_survey_answer_marks")
        ),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("survey_answer_marks")
