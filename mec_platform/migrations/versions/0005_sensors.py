"""Sensor streams and their readings, threshold subscriptions, MQTT accounts.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sensor_streams",
        sa.Column("sensor_id", sa.Text, primary_key=True),
        sa.Column("quantity", sa.Text, primary_key=True),
        sa.Column("unit", sa.Text, nullable=True),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("time", sa.Float, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("ser_instance_id", sa.Text, nullable=True),
        sa.Column("silence_interval", sa.Integer, nullable=False),
        sa.Column("first_seen", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
    )
    op.create_table(
        "sensor_readings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("sensor_id", sa.Text, nullable=False),
        sa.Column("quantity", sa.Text, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("unit", sa.Text, nullable=True),
        sa.Column("time", sa.Float, nullable=False),
    )
    op.create_index(
        "ux_sensor_readings_stream_time",
        "sensor_readings",
        ["sensor_id", "quantity", "time"],
        unique=True,
    )
    op.create_table(
        "sensor_subscriptions",
        sa.Column("subscription_id", sa.Text, primary_key=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("callback_uri", sa.Text, nullable=False),
        sa.Column("sensor_id", sa.Text, nullable=True),
        sa.Column("quantity", sa.Text, nullable=True),
        sa.Column("above", sa.Float, nullable=True),
        sa.Column("below", sa.Float, nullable=True),
        sa.Column("expiry_deadline", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_sensor_subscriptions_owner", "sensor_subscriptions", ["owner"])
    op.create_table(
        "mqtt_accounts",
        sa.Column("username", sa.Text, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("read_topics", sa.Text, nullable=False),
        sa.Column("write_topics", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for name in ("mqtt_accounts", "sensor_subscriptions", "sensor_readings", "sensor_streams"):
        op.drop_table(name)
