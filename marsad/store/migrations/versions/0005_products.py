"""products: watchlists, alert channels and alerts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
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
        "watchlists",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        _fk("watchlists", "org_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlists")),
        sa.UniqueConstraint(
            "org_id", "kind", "value", name=op.f("uq_watchlists_org_id_kind_value")
        ),
    )
    op.create_table(
        "alert_channels",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        _fk("alert_channels", "org_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_channels")),
        sa.UniqueConstraint(
            "org_id", "kind", "target", name=op.f("uq_alert_channels_org_id_kind_target")
        ),
    )
    op.create_table(
        "alerts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("observable_id", _ID, nullable=False),
        sa.Column("assertion_id", _ID, nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("delivery", sa.Text(), server_default="{}", nullable=False),
        sa.Column("acked_at", _TS, nullable=True),
        sa.Column("acked_by", sa.String(length=200), nullable=True),
        _fk("alerts", "org_id", "organisations"),
        _fk("alerts", "observable_id", "observables"),
        _fk("alerts", "assertion_id", "assertions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("org_id", "observable_id", name=op.f("uq_alerts_org_id_observable_id")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alerts_org_id_acked_at"), ["org_id", "acked_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_org_id_acked_at"))
    op.drop_table("alerts")
    op.drop_table("alert_channels")
    op.drop_table("watchlists")
