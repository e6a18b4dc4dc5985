"""Port of the timing context: where the clock synchronisation state comes from.

Adapters (chronyc, timedatectl) implement it; the service and its unit tests only know
this protocol. An adapter never raises for an absent or silent daemon: it reports the
state honestly as `ClockSync(source="none", synchronised=False)`.
"""

from __future__ import annotations

from typing import Protocol

from mec_platform.timing.model import ClockSync


class ClockSyncSource(Protocol):
    """Reads the current clock synchronisation state of this host."""

    def read(self) -> ClockSync: ...
