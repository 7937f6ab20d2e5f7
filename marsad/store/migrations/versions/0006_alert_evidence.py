"""alerts: evidence per assertion, and which submissions were evaluated

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 12:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "alert_evidence",
        sa.Column("alert_id", _ID, nullable=False),
        sa.Column("assertion_id", _ID, nullable=False),
        sa.Column("submission_id", _ID, nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("added_at", _TS, nullable=False),
        _fk("alert_evidence", "alert_id", "alerts"),
        _fk("alert_evidence", "assertion_id", "assertions"),
        _fk("alert_evidence", "submission_id", "submissions"),
        sa.PrimaryKeyConstraint("alert_id", "assertion_id", name=op.f("pk_alert_evidence")),
    )
    op.create_table(
        "alert_runs",
        sa.Column("submission_id", _ID, autoincrement=False, nullable=False),
        sa.Column("evaluated_at", _TS, nullable=False),
        sa.Column("raised", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.Integer(), nullable=False),
        _fk("alert_runs", "submission_id", "submissions"),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_alert_runs")),
    )


def downgrade() -> None:
    op.drop_table("alert_runs")
    op.drop_table("alert_evidence")
