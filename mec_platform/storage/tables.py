"""Table definitions (SQLAlchemy Core); the Alembic migrations create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

app_instances = Table(
    "app_instances",
    metadata,
    Column("app_instance_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("state", String(32), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("managed", Boolean, nullable=False, server_default="1"),
    Column("app_info", Text, nullable=True),
    Column("termination_action", String(16), nullable=True),
    Column("termination_deadline", Float, nullable=True),
    Column("termination_timeout", Integer, nullable=True),
    Column("revision", Integer, nullable=False, server_default="1"),
    # The app provider (users.name) it belongs to; no foreign key, so removing a user never
    # fails on the instances it left behind.
    Column("owner", Text, nullable=True),
)

services = Table(
    "services",
    metadata,
    Column("ser_instance_id", Text, primary_key=True),
    Column(
        "app_instance_id",
        Text,
        ForeignKey("app_instances.app_instance_id"),
        nullable=False,
        index=True,
    ),
    Column("ser_name", Text, nullable=False, index=True),
    Column("ser_category_id", Text, nullable=True, index=True),
    Column("state", String(16), nullable=False),
    Column("scope_of_locality", String(16), nullable=False),
    Column("consumed_local_only", Boolean, nullable=False),
    Column("is_local", Boolean, nullable=False),
    Column("liveness_interval", Integer, nullable=True),
    Column("last_heartbeat", Float, nullable=True),
    Column("revision", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("subscription_id", Text, primary_key=True),
    Column(
        "app_instance_id",
        Text,
        ForeignKey("app_instances.app_instance_id"),
        nullable=False,
        index=True,
    ),
    Column("callback_reference", Text, nullable=False),
    Column("criteria", Text, nullable=False),
    Column("expiry_deadline", Float, nullable=True),
    Column("created_at", Float, nullable=False),
)

termination_subscriptions = Table(
    "termination_subscriptions",
    metadata,
    Column("subscription_id", Text, primary_key=True),
    Column(
        "app_instance_id",
        Text,
        ForeignKey("app_instances.app_instance_id"),
        nullable=False,
        index=True,
    ),
    Column("callback_reference", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

dns_rules = Table(
    "dns_rules",
    metadata,
    Column(
        "app_instance_id",
        Text,
        ForeignKey("app_instances.app_instance_id"),
        primary_key=True,
    ),
    Column("dns_rule_id", Text, primary_key=True),
    Column("domain_name", Text, nullable=False, index=True),
    Column("ip_address_type", String(8), nullable=False),
    Column("ip_address", Text, nullable=False),
    Column("ttl", BigInteger, nullable=True),
    Column("state", String(16), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
)

traffic_rules = Table(
    "traffic_rules",
    metadata,
    Column(
        "app_instance_id",
        Text,
        ForeignKey("app_instances.app_instance_id"),
        primary_key=True,
    ),
    Column("traffic_rule_id", Text, primary_key=True),
    Column("priority", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("document", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subscription_id", Text, nullable=False),
    Column("callback_uri", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("leased_until", Float, nullable=True),
    Column("lease_owner", Text, nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float, nullable=True),
    Index("ix_outbox_state_subscription_id", "state", "subscription_id", "id"),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("name", Text, primary_key=True),
    Column("role", String(32), nullable=False),
    Column("created_at", Float, nullable=False),
)

ssh_keys = Table(
    "ssh_keys",
    metadata,
    # SHA-256 of the blob in hex: a key belongs to one user at most.
    Column("key_id", Text, primary_key=True),
    Column("user_name", Text, ForeignKey("users.name"), nullable=False, index=True),
    Column("key_type", String(64), nullable=False),
    Column("blob", LargeBinary, nullable=False),
    Column("comment", Text, nullable=False),
    Column("added_at", Float, nullable=False),
    # Keys added in one transaction share `added_at`; this keeps the order they were added in.
    Column("position", Integer, nullable=False),
)

oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("client_id", Text, primary_key=True),
    Column("secret_hash", Text, nullable=False),
    Column("role", String(32), nullable=False),
    # No foreign key: the registry removes instances in several places, and their clients
    # are removed explicitly alongside.
    Column("app_instance_id", Text, nullable=True, unique=True, index=True),
    Column("created_at", Float, nullable=False),
)

login_challenges = Table(
    "login_challenges",
    metadata,
    Column("nonce", Text, primary_key=True),
    Column("user_name", Text, ForeignKey("users.name"), nullable=False, index=True),
    Column("expires_at", Float, nullable=False, index=True),
)
