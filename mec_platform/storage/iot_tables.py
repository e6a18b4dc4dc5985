"""Tables of the MEC 033 IoT service (migration 0006), on the shared `metadata` of tables.py.

Documents the platform only stores and returns (identifiers, metadata, traffic rules,
transports, message formats) are JSON text; nothing queries inside them.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, String, Table, Text

from mec_platform.storage.tables import metadata

iot_devices = Table(
    "iot_devices",
    metadata,
    Column("device_id", Text, primary_key=True),
    # "api" or "sensor": who registered the device.
    Column("source", String(16), nullable=False),
    Column("authentication_info", Text, nullable=False),
    Column("identifiers", Text, nullable=False),
    Column("device_metadata", Text, nullable=False),
    Column("traffic_rules", Text, nullable=False),
    Column("iot_platform_id", Text, nullable=True),
    Column("user_transport_id", Text, nullable=True),
    Column("message_formats", Text, nullable=True),
    Column("downlink_info", Text, nullable=True),
    Column("client_certificate", Text, nullable=True),
    Column("revision", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
)

iot_platforms = Table(
    "iot_platforms",
    metadata,
    Column("iot_platform_id", Text, primary_key=True),
    Column("user_transports", Text, nullable=False),
    Column("custom_services_transports", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
)
