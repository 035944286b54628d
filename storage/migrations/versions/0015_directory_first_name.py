"""directory_first_name: a person's first name, so greetings say "Hi Oliver", not the full name

Slack's profile holds `first_name` (and `display_name`, the short name a person picked); the
directory kept only the full `real_name`. Rows written before this revision get "" and fill
in at their next refresh from Slack; until then greetings fall back to the full name.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("directory_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_name", sa.String(length=200), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("directory_users", schema=None) as batch_op:
        batch_op.drop_column("first_name")
