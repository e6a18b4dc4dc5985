"""Named counters in the `counters` table, updated inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from mec_platform.storage.tables import counters

# Changes whenever a service or an application instance is written: readers that cache
# what they rendered from the registry compare it to know whether they are still current.
REGISTRY_VERSION = "registry_version"
# Changes whenever a DNS or traffic rule is written or removed: the data plane re-applies.
RULES_VERSION = "rules_version"
# The rules version the data plane last put in force on this host (written by it).
RULES_APPLIED = "rules_applied_version"


def bump(conn: Connection, name: str, by: int = 1) -> None:
    """Add `by` to a counter, creating it at `by`."""
    changed = conn.execute(
        update(counters).where(counters.c.name == name).values(value=counters.c.value + by)
    ).rowcount
    if not changed:
        conn.execute(insert(counters).values(name=name, value=by))


def put(conn: Connection, name: str, value: int) -> None:
    """Set a counter to `value`, creating it."""
    changed = conn.execute(
        update(counters).where(counters.c.name == name).values(value=value)
    ).rowcount
    if not changed:
        conn.execute(insert(counters).values(name=name, value=value))


def read(conn: Connection, name: str) -> int:
    """A counter's value (0 if it was never bumped)."""
    value = conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar()
    return int(value or 0)
