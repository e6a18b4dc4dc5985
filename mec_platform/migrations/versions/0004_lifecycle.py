"""Application packages and their subscriptions, MEC 010-2 app instances, lifecycle operation
occurrences and LCM subscriptions.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _create_packages() -> None:
    op.create_table(
        "app_packages",
        sa.Column("app_pkg_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=True),
        sa.Column("checksum_algorithm", sa.Text, nullable=False),
        sa.Column("checksum_hash", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("user_defined_data", sa.Text, nullable=False),
        sa.Column("onboarding_state", sa.String(16), nullable=False),
        sa.Column("operational_state", sa.String(16), nullable=False),
        sa.Column("usage_state", sa.String(16), nullable=False),
        sa.Column("app_d_id", sa.Text, nullable=True),
        sa.Column("app_name", sa.Text, nullable=True),
        sa.Column("app_provider", sa.Text, nullable=True),
        sa.Column("app_soft_version", sa.Text, nullable=True),
        sa.Column("app_d_version", sa.Text, nullable=True),
        sa.Column("appd", sa.Text, nullable=True),
        sa.Column("content_sha256", sa.Text, nullable=True),
        sa.Column("signer", sa.Text, nullable=True),
        sa.Column("image_reference", sa.Text, nullable=True),
        sa.Column("image_id", sa.Text, nullable=True),
        sa.Column("artifacts", sa.Text, nullable=True),
        sa.Column("failure", sa.Text, nullable=True),
        sa.Column("owner", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_app_packages_app_d_id", "app_packages", ["app_d_id"], unique=True)
    op.create_table(
        "package_subscriptions",
        sa.Column("subscription_id", sa.Text, primary_key=True),
        sa.Column("subscription_type", sa.String(64), nullable=False),
        sa.Column("callback_uri", sa.Text, nullable=False),
        sa.Column("filters", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def _create_lifecycle() -> None:
    op.create_table(
        "lcm_instances",
        sa.Column(
            "app_instance_id",
            sa.Text,
            sa.ForeignKey("app_instances.app_instance_id"),
            primary_key=True,
        ),
        sa.Column("app_d_id", sa.Text, nullable=False),
        sa.Column("app_pkg_id", sa.Text, sa.ForeignKey("app_packages.app_pkg_id"), nullable=False),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("owner", sa.Text, nullable=True),
        sa.Column("instantiation_state", sa.String(32), nullable=False),
        sa.Column("operational_state", sa.String(16), nullable=True),
        sa.Column("container_id", sa.Text, nullable=True),
        sa.Column("container_name", sa.Text, nullable=True),
        sa.Column("image", sa.Text, nullable=True),
        sa.Column("ip_address", sa.Text, nullable=True),
        sa.Column("ports", sa.Text, nullable=True),
        sa.Column("current_op", sa.Text, nullable=True),
        sa.Column("restarts", sa.Integer, nullable=False),
        sa.Column("runtime_problem", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_lcm_instances_app_pkg_id", "lcm_instances", ["app_pkg_id"])
    op.create_table(
        "lcm_op_occs",
        sa.Column("op_occ_id", sa.Text, primary_key=True),
        sa.Column("app_instance_id", sa.Text, nullable=False),
        sa.Column("operation", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("start_time", sa.Float, nullable=False),
        sa.Column("state_entered_time", sa.Float, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("cancel_pending", sa.Boolean, nullable=False),
        sa.Column("cancel_mode", sa.String(16), nullable=True),
        sa.Column("lease_owner", sa.Text, nullable=True),
        sa.Column("lease_until", sa.Float, nullable=True),
    )
    op.create_index("ix_lcm_op_occs_app_instance_id", "lcm_op_occs", ["app_instance_id"])
    op.create_index("ix_lcm_op_occs_state_lease_until", "lcm_op_occs", ["state", "lease_until"])
    op.create_table(
        "lcm_subscriptions",
        sa.Column("subscription_id", sa.Text, primary_key=True),
        sa.Column("subscription_type", sa.String(64), nullable=False),
        sa.Column("callback_uri", sa.Text, nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def upgrade() -> None:
    _create_packages()
    _create_lifecycle()


def downgrade() -> None:
    # Instances first: they refer to packages.
    for name in (
        "lcm_subscriptions",
        "lcm_op_occs",
        "lcm_instances",
        "package_subscriptions",
        "app_packages",
    ):
        op.drop_table(name)
