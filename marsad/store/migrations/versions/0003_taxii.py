"""taxii: date-added paging indexes, revoked assertions, instance state

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assertions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_assertions_last_submission_id_id"),
            ["last_submission_id", "id"],
            unique=False,
        )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submissions_completed_at_id"), ["completed_at", "id"], unique=False
        )
    state = op.create_table(
        "instance_state",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_instance_state")),
    )
    # This instance's own random id: the prefix of the STIX ids its TAXII server mints.
    op.bulk_insert(
        state,
        [{"key": "instance-id", "value": str(uuid.uuid4()), "updated_at": dt.datetime.now(dt.UTC)}],
    )


def downgrade() -> None:
    op.drop_table("instance_state")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_completed_at_id"))
    with op.batch_alter_table("assertions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assertions_last_submission_id_id"))
        batch_op.drop_column("revoked_at")
