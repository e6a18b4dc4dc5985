"""Timing handlers (MEC 011 clauses 7.2.5 and 7.2.6): the host clock and how it is synchronised."""

from __future__ import annotations

from typing import Any

from mec_platform.http.responses import Response, ok
from mec_platform.timing.model import NtpServer, PtpMaster
from mec_platform.timing.service import TimingService


def _ntp_server(server: NtpServer) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ntpServerAddrType": server.address_type.value,
        "ntpServerAddr": server.address,
        "minPollingInterval": server.min_polling_interval,
        "maxPollingInterval": server.max_polling_interval,
        "localPriority": server.local_priority,
        "authenticationOption": server.authentication.value,
    }
    if server.authentication_key_num is not None:
        body["authenticationKeyNum"] = server.authentication_key_num
    return body


def _ptp_master(master: PtpMaster) -> dict[str, Any]:
    return {
        "ptpMasterIpAddress": master.ip_address,
        "ptpMasterLocalPriority": master.local_priority,
        "delayReqMaxRate": master.delay_req_max_rate,
    }


def timing_currenttime_get(*, timing: TimingService) -> Response:
    """GET /timing/current_time: the platform time and whether it is traceable to UTC."""
    now = timing.current_time()
    return ok(
        {
            "seconds": now.seconds,
            "nanoSeconds": now.nano_seconds,
            "timeSourceStatus": now.status.value,
        }
    )


def timing_timingcaps_get(*, timing: TimingService) -> Response:
    """GET /timing/timing_caps: the NTP servers and PTP masters the platform clock follows."""
    caps = timing.timing_caps()
    return ok(
        {
            "timeStamp": {"seconds": caps.timestamp_seconds, "nanoSeconds": caps.timestamp_nanos},
            "ntpServers": [_ntp_server(server) for server in caps.ntp_servers],
            "ptpMasters": [_ptp_master(master) for master in caps.ptp_masters],
        }
    )
