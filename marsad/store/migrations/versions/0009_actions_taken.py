"""actions taken on records (feedback to their sources); API tokens' last use

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "actions_taken",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("assertion_id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assertion_id"],
            ["assertions.id"],
            name=op.f("fk_actions_taken_assertion_id_assertions"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_actions_taken_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions_taken")),
    )
    with op.batch_alter_table("actions_taken", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_actions_taken_assertion_id"), ["assertion_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_actions_taken_org_id_id"), ["org_id", "id"], unique=False
        )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
    with op.batch_alter_table("actions_taken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actions_taken_org_id_id"))
        batch_op.drop_index(batch_op.f("ix_actions_taken_assertion_id"))
    op.drop_table("actions_taken")
