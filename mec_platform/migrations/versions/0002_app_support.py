"""Application Support: registrations, termination and its subscriptions, DNS and traffic rules.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _app_fk() -> sa.ForeignKey:
    return sa.ForeignKey("app_instances.app_instance_id")


def upgrade() -> None:
    with op.batch_alter_table("app_instances") as table:
        # Instances created before this revision came from the admin command: managed.
        table.add_column(sa.Column("managed", sa.Boolean, nullable=False, server_default="1"))
        table.add_column(sa.Column("app_info", sa.Text, nullable=True))
        table.add_column(sa.Column("termination_action", sa.String(16), nullable=True))
        table.add_column(sa.Column("termination_deadline", sa.Float, nullable=True))
        table.add_column(sa.Column("termination_timeout", sa.Integer, nullable=True))
        table.add_column(sa.Column("revision", sa.Integer, nullable=False, server_default="1"))
    op.create_table(
        "termination_subscriptions",
        sa.Column("subscription_id", sa.Text, primary_key=True),
        sa.Column("app_instance_id", sa.Text, _app_fk(), nullable=False),
        sa.Column("callback_reference", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_termination_subscriptions_app_instance_id",
        "termination_subscriptions",
        ["app_instance_id"],
    )
    op.create_table(
        "dns_rules",
        sa.Column("app_instance_id", sa.Text, _app_fk(), primary_key=True),
        sa.Column("dns_rule_id", sa.Text, primary_key=True),
        sa.Column("domain_name", sa.Text, nullable=False),
        sa.Column("ip_address_type", sa.String(8), nullable=False),
        sa.Column("ip_address", sa.Text, nullable=False),
        sa.Column("ttl", sa.BigInteger, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_dns_rules_domain_name", "dns_rules", ["domain_name"])
    op.create_table(
        "traffic_rules",
        sa.Column("app_instance_id", sa.Text, _app_fk(), primary_key=True),
        sa.Column("traffic_rule_id", sa.Text, primary_key=True),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for name in ("traffic_rules", "dns_rules", "termination_subscriptions"):
        op.drop_table(name)
    with op.batch_alter_table("app_instances") as table:
        for column in (
            "revision",
            "termination_timeout",
            "termination_deadline",
            "termination_action",
            "app_info",
            "managed",
        ):
            table.drop_column(column)
