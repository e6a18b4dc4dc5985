"""Service registry, subscriptions, notification outbox and counters.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "app_instances",
        sa.Column("app_instance_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "services",
        sa.Column("ser_instance_id", sa.Text, primary_key=True),
        sa.Column(
            "app_instance_id",
            sa.Text,
            sa.ForeignKey("app_instances.app_instance_id"),
            nullable=False,
        ),
        sa.Column("ser_name", sa.Text, nullable=False),
        sa.Column("ser_category_id", sa.Text, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("scope_of_locality", sa.String(16), nullable=False),
        sa.Column("consumed_local_only", sa.Boolean, nullable=False),
        sa.Column("is_local", sa.Boolean, nullable=False),
        sa.Column("liveness_interval", sa.Integer, nullable=True),
        sa.Column("last_heartbeat", sa.Float, nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_services_app_instance_id", "services", ["app_instance_id"])
    op.create_index("ix_services_ser_name", "services", ["ser_name"])
    op.create_index("ix_services_ser_category_id", "services", ["ser_category_id"])
    op.create_table(
        "subscriptions",
        sa.Column("subscription_id", sa.Text, primary_key=True),
        sa.Column(
            "app_instance_id",
            sa.Text,
            sa.ForeignKey("app_instances.app_instance_id"),
            nullable=False,
        ),
        sa.Column("callback_reference", sa.Text, nullable=False),
        sa.Column("criteria", sa.Text, nullable=False),
        sa.Column("expiry_deadline", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_subscriptions_app_instance_id", "subscriptions", ["app_instance_id"])
    op.create_table(
        "outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("subscription_id", sa.Text, nullable=False),
        sa.Column("callback_uri", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("leased_until", sa.Float, nullable=True),
        sa.Column("lease_owner", sa.Text, nullable=True),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("delivered_at", sa.Float, nullable=True),
    )
    op.create_index("ix_outbox_state_subscription_id", "outbox", ["state", "subscription_id", "id"])
    op.create_table(
        "counters",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("counters", "outbox", "subscriptions", "services", "app_instances"):
        op.drop_table(table)
