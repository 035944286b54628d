"""surveys_segments: the audience segment (a team channel) of a survey DM and of its answers

Revision ID: 0005
Revises: 0003

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("survey_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment", sa.String(length=32), nullable=True))
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("survey_answers", schema=None) as batch_op:
        batch_op.drop_column("segment")
    with op.batch_alter_table("survey_deliveries", schema=None) as batch_op:
        batch_op.drop_column("segment")
