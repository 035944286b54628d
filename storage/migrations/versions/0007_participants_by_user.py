"""participants_by_user: survey_participants indexed by user, for a person's App Home

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_survey_participants_user_id"), "survey_participants", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_survey_participants_user_id"), table_name="survey_participants")
