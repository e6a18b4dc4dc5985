"""Prometheus metrics: request counts per operation and status, registry and outbox figures.

Request counters live in each gunicorn worker; with PROMETHEUS_MULTIPROC_DIR set (as
`mec-platform serve` does) they are summed across workers at scrape time. Registry and outbox
figures are read from the database at scrape time, so they are the same whichever worker
answers and include what the separate notification worker process did.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from typing import Any, cast

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mec_platform.appsupport.ports import AppSupportUnitOfWorkFactory
from mec_platform.sensors.ports import SensorsUnitOfWork

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@functools.cache
def request_counter() -> Counter:
    """Created on first use, not at import, so the multiprocess directory is already known."""
    return Counter(
        "mec_http_requests_total",
        "HTTP requests answered, by API operation and status code",
        ["operation", "status"],
    )


class RequestMetricsMiddleware:
    """ASGI middleware counting every answered request, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}
        # Inner middleware may copy the scope shallowly; a shared `extensions` dict still
        # carries the operationId that connexion's routing puts there back to us.
        extensions = scope.setdefault("extensions", {})

        async def remember_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            routing = extensions.get("connexion_routing", {})
            operation = routing.get("operation_id") or "none"
            request_counter().labels(operation, str(status["code"])).inc()


class RegistryCollector(Collector):
    """Figures read from the database at scrape time."""

    def __init__(self, uows: AppSupportUnitOfWorkFactory) -> None:
        self._uows = uows

    def collect(self) -> Iterator[Metric]:
        with self._uows() as uow:
            services = uow.services.count()
            subscriptions = uow.subscriptions.count()
            stats = uow.outbox.stats()
            apps = uow.apps.count()
            dns_active = uow.dns_rules.count_active()
            traffic_active = uow.traffic_rules.count_active()
            rules_version = uow.dns_rules.version()
            applied = uow.dns_rules.applied_version()
            sensor_messages = cast(SensorsUnitOfWork, uow).sensor_counters.all()
        yield GaugeMetricFamily("mec_app_instances", "Application instances", apps)
        yield GaugeMetricFamily("mec_dns_rules_active", "ACTIVE DNS rules", dns_active)
        yield GaugeMetricFamily("mec_traffic_rules_active", "ACTIVE traffic rules", traffic_active)
        yield GaugeMetricFamily(
            "mec_rules_version",
            "Version of the DNS and traffic rules in the database",
            rules_version,
        )
        yield GaugeMetricFamily(
            "mec_rules_applied_version",
            "Rules version the data plane last put in force (behind mec_rules_version: pending)",
            applied,
        )
        yield GaugeMetricFamily("mec_registered_services", "Registered MEC services", services)
        yield GaugeMetricFamily("mec_subscriptions", "Availability subscriptions", subscriptions)
        yield GaugeMetricFamily(
            "mec_outbox_depth", "Notifications waiting for delivery", stats.pending
        )
        yield CounterMetricFamily(
            "mec_notification_delivery_attempts", "Delivery attempts", stats.attempts_total
        )
        yield CounterMetricFamily(
            "mec_notification_delivery_failures", "Failed delivery attempts", stats.failures_total
        )
        yield CounterMetricFamily(
            "mec_notifications_delivered", "Notifications delivered", stats.delivered_total
        )
        messages = CounterMetricFamily(
            "mec_sensor_messages",
            "MQTT messages the sensor bridge took, by outcome (accepted or why dropped)",
            labels=["outcome"],
        )
        for outcome, count in sorted(sensor_messages.items()):
            messages.add_metric([outcome], count)
        yield messages


def exposition(uows: AppSupportUnitOfWorkFactory) -> Callable[[], bytes]:
    """A function rendering all metrics in the Prometheus text format."""
    database = CollectorRegistry(auto_describe=False)
    database.register(RegistryCollector(uows))

    def render() -> bytes:
        process: Any = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            process = CollectorRegistry()
            multiprocess.MultiProcessCollector(process)  # type: ignore[no-untyped-call]
        return bytes(generate_latest(process) + generate_latest(database))

    return render
