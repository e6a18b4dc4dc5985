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

app_packages = Table(
    "app_packages",
    metadata,
    Column("app_pkg_id", Text, primary_key=True),
    # What CreateAppPkg said about the package.
    Column("name", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("provider", Text, nullable=True),
    Column("checksum_algorithm", Text, nullable=False),
    Column("checksum_hash", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("user_defined_data", Text, nullable=False),
    Column("onboarding_state", String(16), nullable=False),
    Column("operational_state", String(16), nullable=False),
    Column("usage_state", String(16), nullable=False),
    # What onboarding learned from the content: all NULL until it was accepted. One appDId
    # names one package (NULLs are distinct, so any number of packages may lack one).
    Column("app_d_id", Text, nullable=True, unique=True, index=True),
    Column("app_name", Text, nullable=True),
    Column("app_provider", Text, nullable=True),
    Column("app_soft_version", Text, nullable=True),
    Column("app_d_version", Text, nullable=True),
    Column("appd", Text, nullable=True),
    Column("content_sha256", Text, nullable=True),
    Column("signer", Text, nullable=True),
    Column("image_reference", Text, nullable=True),
    Column("image_id", Text, nullable=True),
    Column("artifacts", Text, nullable=True),
    Column("failure", Text, nullable=True),
    Column("owner", Text, nullable=True),
    Column("created_at", Float, nullable=False),
)

package_subscriptions = Table(
    "package_subscriptions",
    metadata,
    Column("subscription_id", Text, primary_key=True),
    Column("subscription_type", String(64), nullable=False),
    Column("callback_uri", Text, nullable=False),
    Column("filters", Text, nullable=False),
    Column("owner", Text, nullable=True),
    Column("created_at", Float, nullable=False),
)

lcm_instances = Table(
    "lcm_instances",
    metadata,
    # The MEC 011 registry row of the same instance is written in the same transaction.
    Column(
        "app_instance_id",
        Text,
        ForeignKey("app_instances.app_instance_id"),
        primary_key=True,
    ),
    Column("app_d_id", Text, nullable=False),
    Column(
        "app_pkg_id",
        Text,
        ForeignKey("app_packages.app_pkg_id"),
        nullable=False,
        index=True,
    ),
    Column("name", Text, nullable=True),
    Column("description", Text, nullable=True),
    Column("owner", Text, nullable=True),
    Column("instantiation_state", String(32), nullable=False),
    Column("operational_state", String(16), nullable=True),
    # The deployment: all NULL while the instance has no container.
    Column("container_id", Text, nullable=True),
    Column("container_name", Text, nullable=True),
    Column("image", Text, nullable=True),
    Column("ip_address", Text, nullable=True),
    Column("ports", Text, nullable=True),
    Column("current_op", Text, nullable=True),
    Column("restarts", Integer, nullable=False),
    Column("runtime_problem", Text, nullable=True),
    Column("created_at", Float, nullable=False),
)

lcm_op_occs = Table(
    "lcm_op_occs",
    metadata,
    Column("op_occ_id", Text, primary_key=True),
    # No foreign key: occurrences stay on record after their instance is deleted.
    Column("app_instance_id", Text, nullable=False, index=True),
    Column("operation", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("start_time", Float, nullable=False),
    Column("state_entered_time", Float, nullable=False),
    Column("params", Text, nullable=False),
    Column("error", Text, nullable=True),
    Column("cancel_pending", Boolean, nullable=False),
    Column("cancel_mode", String(16), nullable=True),
    Column("lease_owner", Text, nullable=True),
    Column("lease_until", Float, nullable=True),
    # What lifecycle runners look for: open occurrences without a live lease.
    Index("ix_lcm_op_occs_state_lease_until", "state", "lease_until"),
)

lcm_subscriptions = Table(
    "lcm_subscriptions",
    metadata,
    Column("subscription_id", Text, primary_key=True),
    Column("subscription_type", String(64), nullable=False),
    Column("callback_uri", Text, nullable=False),
    Column("request", Text, nullable=False),
    Column("owner", Text, nullable=True),
    Column("created_at", Float, nullable=False),
)

# -- sensors (migration 0005) ------------------------------------------------------------------
sensor_streams = Table(
    "sensor_streams",
    metadata,
    Column("sensor_id", Text, primary_key=True),
    Column("quantity", Text, primary_key=True),
    Column("unit", Text, nullable=True),
    Column("value", Float, nullable=True),
    Column("time", Float, nullable=True),
    Column("state", String(16), nullable=False),
    Column("ser_instance_id", Text, nullable=True),
    Column("silence_interval", Integer, nullable=False),
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
)

sensor_readings = Table(
    "sensor_readings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("sensor_id", Text, nullable=False),
    Column("quantity", Text, nullable=False),
    Column("value", Float, nullable=False),
    Column("unit", Text, nullable=True),
    Column("time", Float, nullable=False),
    # A QoS 1 message delivered twice carries the same time: stored once.
    Index("ux_sensor_readings_stream_time", "sensor_id", "quantity", "time", unique=True),
)

sensor_subscriptions = Table(
    "sensor_subscriptions",
    metadata,
    Column("subscription_id", Text, primary_key=True),
    Column("owner", Text, nullable=False, index=True),
    Column("callback_uri", Text, nullable=False),
    Column("sensor_id", Text, nullable=True),
    Column("quantity", Text, nullable=True),
    Column("above", Float, nullable=True),
    Column("below", Float, nullable=True),
    Column("expiry_deadline", Float, nullable=True),
    Column("created_at", Float, nullable=False),
)

mqtt_accounts = Table(
    "mqtt_accounts",
    metadata,
    Column("username", Text, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    # JSON list of MQTT topic filters this account may read besides what its kind implies.
    Column("read_topics", Text, nullable=False),
    Column("write_topics", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)
