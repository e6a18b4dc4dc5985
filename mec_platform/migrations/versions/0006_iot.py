"""MEC 033 IoT service: registered devices and registered IoT platforms.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "iot_devices",
        sa.Column("device_id", sa.Text, primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("authentication_info", sa.Text, nullable=False),
        sa.Column("identifiers", sa.Text, nullable=False),
        sa.Column("device_metadata", sa.Text, nullable=False),
        sa.Column("traffic_rules", sa.Text, nullable=False),
        sa.Column("iot_platform_id", sa.Text, nullable=True),
        sa.Column("user_transport_id", sa.Text, nullable=True),
        sa.Column("message_formats", sa.Text, nullable=True),
        sa.Column("downlink_info", sa.Text, nullable=True),
        sa.Column("client_certificate", sa.Text, nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "iot_platforms",
        sa.Column("iot_platform_id", sa.Text, primary_key=True),
        sa.Column("user_transports", sa.Text, nullable=False),
        sa.Column("custom_services_transports", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("iot_platforms")
    op.drop_table("iot_devices")
