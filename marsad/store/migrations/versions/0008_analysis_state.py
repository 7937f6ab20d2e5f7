"""analysis state: what the last analysis covered, so the next one is incremental

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "analysis_state",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("submission_id", _ID, nullable=False),
        sa.Column("assertion_id", _ID, nullable=False),
        sa.Column("relationship_id", _ID, nullable=False),
        sa.Column("observable_id", _ID, nullable=False),
        sa.Column("assertions", sa.BigInteger(), nullable=False),
        sa.Column("relationships", sa.BigInteger(), nullable=False),
        sa.Column("graph", sa.LargeBinary(), nullable=False),
        sa.Column("analysed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_state")),
    )


def downgrade() -> None:
    op.drop_table("analysis_state")
