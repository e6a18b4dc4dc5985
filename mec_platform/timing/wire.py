"""MEC 011 wire format of the timing answers (CurrentTime, TimingCaps) from the domain model."""

from __future__ import annotations

from typing import Any

from mec_platform.timing.model import CurrentTime, NtpServer, PtpMaster, TimingCaps


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


def current_time_to_wire(now: CurrentTime) -> dict[str, Any]:
    """CurrentTime as JSON."""
    return {
        "seconds": now.seconds,
        "nanoSeconds": now.nano_seconds,
        "timeSourceStatus": now.status.value,
    }


def timing_caps_to_wire(caps: TimingCaps) -> dict[str, Any]:
    """TimingCaps as JSON."""
    return {
        "timeStamp": {"seconds": caps.timestamp_seconds, "nanoSeconds": caps.timestamp_nanos},
        "ntpServers": [_ntp_server(server) for server in caps.ntp_servers],
        "ptpMasters": [_ptp_master(master) for master in caps.ptp_masters],
    }
