"""oneonones: 1:1 series, their occurrences, agenda topics and private notes

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "oneonone_series",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("manager_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("pair_key", sa.String(length=80), nullable=True),
        sa.Column("every_weeks", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("at_time", sa.String(length=5), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("anchor_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oneonone_series")),
        sa.UniqueConstraint("pair_key", name=op.f("uq_oneonone_series_pair_key")),
    )
    with op.batch_alter_table("oneonone_series", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oneonone_series_manager_id"), ["manager_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_oneonone_series_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "oneonone_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["oneonone_series.id"],
            name=op.f("fk_oneonone_notes_series_id_oneonone_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oneonone_notes")),
        sa.UniqueConstraint(
            "series_id",
            "author_id",
            "scope",
            name=op.f("uq_oneonone_notes_series_id_author_id_scope"),
        ),
    )
    op.create_table(
        "oneonone_occurrences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("day_before_at", sa.DateTime(), nullable=True),
        sa.Column("hour_before_at", sa.DateTime(), nullable=True),
        sa.Column("after_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["oneonone_series.id"],
            name=op.f("fk_oneonone_occurrences_series_id_oneonone_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oneonone_occurrences")),
        sa.UniqueConstraint(
            "series_id", "local_date", name=op.f("uq_oneonone_occurrences_series_id_local_date")
        ),
    )
    with op.batch_alter_table("oneonone_occurrences", schema=None) as batch_op:
        batch_op.create_index(
            "ix_oneonone_occurrences_status_starts_at", ["status", "starts_at"], unique=False
        )

    op.create_table(
        "oneonone_topics",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("held_in", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["held_in"],
            ["oneonone_occurrences.id"],
            name=op.f("fk_oneonone_topics_held_in_oneonone_occurrences"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["oneonone_series.id"],
            name=op.f("fk_oneonone_topics_series_id_oneonone_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oneonone_topics")),
    )
    with op.batch_alter_table("oneonone_topics", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oneonone_topics_series_id"), ["series_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("oneonone_topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oneonone_topics_series_id"))

    op.drop_table("oneonone_topics")
    with op.batch_alter_table("oneonone_occurrences", schema=None) as batch_op:
        batch_op.drop_index("ix_oneonone_occurrences_status_starts_at")

    op.drop_table("oneonone_occurrences")
    op.drop_table("oneonone_notes")
    with op.batch_alter_table("oneonone_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oneonone_series_person_id"))
        batch_op.drop_index(batch_op.f("ix_oneonone_series_manager_id"))

    op.drop_table("oneonone_series")
