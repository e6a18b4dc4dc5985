"""Users with SSH keys, OAuth2 clients of app instances, login challenges, instance owners.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _user_fk() -> sa.ForeignKey:
    return sa.ForeignKey("users.name")


def upgrade() -> None:
    with op.batch_alter_table("app_instances") as table:
        # Instances created before this revision belong to the platform's admins: no owner.
        table.add_column(sa.Column("owner", sa.Text, nullable=True))
    op.create_table(
        "users",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "ssh_keys",
        sa.Column("key_id", sa.Text, primary_key=True),
        sa.Column("user_name", sa.Text, _user_fk(), nullable=False),
        sa.Column("key_type", sa.String(64), nullable=False),
        sa.Column("blob", sa.LargeBinary, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("added_at", sa.Float, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index("ix_ssh_keys_user_name", "ssh_keys", ["user_name"])
    op.create_table(
        "oauth_clients",
        sa.Column("client_id", sa.Text, primary_key=True),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("app_instance_id", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_oauth_clients_app_instance_id", "oauth_clients", ["app_instance_id"], unique=True
    )
    op.create_table(
        "login_challenges",
        sa.Column("nonce", sa.Text, primary_key=True),
        sa.Column("user_name", sa.Text, _user_fk(), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_login_challenges_user_name", "login_challenges", ["user_name"])
    op.create_index("ix_login_challenges_expires_at", "login_challenges", ["expires_at"])


def downgrade() -> None:
    for name in ("login_challenges", "oauth_clients", "ssh_keys", "users"):
        op.drop_table(name)
    with op.batch_alter_table("app_instances") as table:
        table.drop_column("owner")
