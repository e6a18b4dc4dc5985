"""The data plane process: runs the DNS server and keeps DNS and traffic rules in force.

It reconciles at start (so a restart restores everything), whenever an HTTP process signals
a rule change, and at least once a second as a fallback; dnsmasq is restarted if it dies.
It needs the privileges of the host's network configuration (nftables, DNS port).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from mec_platform import logs
from mec_platform.bootstrap import Platform, bootstrap
from mec_platform.config import Settings
from mec_platform.dataplane.dnsmasq import DnsmasqServer, DnsServerError
from mec_platform.dataplane.nftables import NftablesFilter, PacketFilterError
from mec_platform.dataplane.rules_source import UnitOfWorkRulesSource
from mec_platform.dataplane.service import DataPlane
from mec_platform.errors import StorageUnavailable
from mec_platform.notifications.wakeup import WakeupListener, wakeup_path

log = logging.getLogger("mec_platform.dataplane")

POLL_EVERY = 1.0


def build_dataplane(platform: Platform) -> tuple[DataPlane, DnsmasqServer | None]:
    """Wire the reconciler and its adapters from settings (also used by tests)."""
    settings = platform.settings
    dns = (
        DnsmasqServer(
            settings.dns_dir,
            listen_address=settings.dns_listen,
            port=settings.dns_port,
            upstreams=settings.dns_upstreams,
            default_ttl=settings.dns_ttl,
        )
        if settings.dns_enabled
        else None
    )
    packet_filter = (
        NftablesFilter(settings.nft_table, netns=settings.nft_netns)
        if settings.traffic_rules_enabled
        else None
    )
    source = UnitOfWorkRulesSource(platform.uows)
    return DataPlane(source, dns, packet_filter, on_applied=source.record_applied), dns


def _step(dataplane: DataPlane, dns: DnsmasqServer | None) -> None:
    try:
        if dns is not None and not dns.running:
            log.warning("DNS server is not running; starting it")
            dns.start()
            dataplane.invalidate()
        dataplane.sync()
    except (DnsServerError, PacketFilterError, StorageUnavailable) as exc:
        log.error("rules could not be applied; retrying", extra={"error": str(exc)})


def run(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT."""
    logs.configure(settings.log_level, settings.log_json)
    platform = bootstrap(settings)
    dataplane, dns = build_dataplane(platform)
    wake = threading.Event()
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()
        wake.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    listener = WakeupListener(wakeup_path(settings.database_url, "dataplane"), wake.set).start()
    log.info(
        "data plane started",
        extra={
            "dns": f"{settings.dns_listen}:{settings.dns_port}" if dns else "off",
            "nft_table": settings.nft_table if settings.traffic_rules_enabled else "off",
        },
    )
    try:
        while not stop.is_set():
            wake.clear()
            _step(dataplane, dns)
            wake.wait(POLL_EVERY)
    finally:
        listener.close()
        dataplane.close()
        platform.close()
    log.info("data plane stopped")
    return 0
