"""Timing handlers (MEC 011 clauses 7.2.5 and 7.2.6): the host clock and how it is synchronised."""

from __future__ import annotations

from mec_platform.http.responses import Response, ok
from mec_platform.timing.service import TimingService
from mec_platform.timing.wire import current_time_to_wire, timing_caps_to_wire


def timing_currenttime_get(*, timing: TimingService) -> Response:
    """GET /timing/current_time: the platform time and whether it is traceable to UTC."""
    return ok(current_time_to_wire(timing.current_time()))


def timing_timingcaps_get(*, timing: TimingService) -> Response:
    """GET /timing/timing_caps: the NTP servers and PTP masters the platform clock follows."""
    return ok(timing_caps_to_wire(timing.timing_caps()))
