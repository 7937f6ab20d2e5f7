"""correlation: owners' "exists, ask the owner" choice, and sightings from bulk matches

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 12:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("assertions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("disclose_exists", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "sightings",
        sa.Column("assertion_id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_at", _TS, nullable=False),
        sa.Column("last_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["assertion_id"], ["assertions.id"], name=op.f("fk_sightings_assertion_id_assertions")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_sightings_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("assertion_id", "org_id", name=op.f("pk_sightings")),
    )
    with op.batch_alter_table("sightings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sightings_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sightings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sightings_org_id"))
    op.drop_table("sightings")
    with op.batch_alter_table("assertions", schema=None) as batch_op:
        batch_op.drop_column("disclose_exists")
