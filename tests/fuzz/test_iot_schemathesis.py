"""Fuzz the MEC 033 IoT API of a real server with schemathesis.

The platform runs under gunicorn on SQLite. Every operation of our spec gets its examples, its
coverage cases (boundary and invalid values, undeclared methods) and seeded random cases, valid
and invalid, with a platform admin's bearer token. Each answer must be documented (status, content
type, headers, body schema, so errors are ProblemDetails), nothing may be a 5xx and invalid input
must get a 4xx. Path ids are steered to live devices and platforms most of the time so that the
happy paths run as well as the 404s; the built-in platform is among them, so its 403s run too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import Case, Response
from schemathesis.core.parameters import ParameterLocation

from tests.fuzz.support import CHECKS, CallLog, choose, config, fuzz_admin, valid_part, validate
from tests.support.processes import REPO, PlatformProcess, platform_env

pytestmark = pytest.mark.e2e

SPEC = REPO / "specs" / "mec033_iot.yaml"
BASE = "/iots/v1"
SEEDED = 6
TRANSPORT = {
    "id": "t1",
    "name": "broker",
    "type": "MB_TOPIC_BASED",
    "protocol": "MQTT",
    "version": "3.1.1",
    "endpoint": {"addresses": [{"host": "broker.example", "port": 1883}]},
    "security": {},
    "implSpecificInfo": {"uplinkTopics": ["up/#"]},
}


@dataclass
class LiveIds:
    """Devices and platforms on the server, for steering generated path ids."""

    devices: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=lambda: ["umec-mqtt"])
    log: CallLog = field(default_factory=CallLog)

    def steer(self, case: Case[Any]) -> None:
        """Most valid path ids become live ones."""
        if not valid_part(case, ParameterLocation.PATH) or not case.path_parameters:
            return
        for name, options in (
            ("registeredDeviceId", self.devices),
            ("registeredIotPlatformId", self.platforms),
        ):
            if name in case.path_parameters:
                chosen = choose(case.path_parameters[name], options)
                if chosen is not None:
                    case.path_parameters[name] = chosen


Platform = tuple[PlatformProcess, LiveIds, dict[str, str]]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The real server on a fresh SQLite database with a few devices and platforms."""
    env = platform_env(tmp_path_factory.mktemp("fuzz-iot"))
    server = PlatformProcess(env).start()
    try:
        ids = LiveIds()
        auth = fuzz_admin(env)
        root = f"{server.root}{BASE}"
        with httpx.Client(base_url=root, timeout=10, headers=auth) as client:
            for n in range(SEEDED):
                platform_id, device_id = f"plat-{n}", f"dev-{n}"
                body = {"iotPlatformId": platform_id, "userTransportInfo": [TRANSPORT]}
                created = client.post("/registered_iot_platforms", json={**body, "enabled": True})
                assert created.status_code == 201, created.text
                on = {"requestedIotPlatformId": platform_id, "requestedUserTransportId": "t1"}
                device = {"deviceId": device_id, "deviceAuthenticationInfo": "psk", **on}
                created = client.post("/registered_devices", json=device)
                assert created.status_code == 201, created.text
                ids.platforms.append(platform_id)
                ids.devices.append(device_id)
        yield server, ids, auth
        print(f"\nschemathesis traffic against {root}: {ids.log.summary()}")
    finally:
        server.stop()


# Loaded from the file at import time: pytest needs the operations to collect one test each.
schema = schemathesis.openapi.from_path(SPEC, config=config(CHECKS))


@schema.parametrize()
def test_every_operation_answers_as_documented(case: Case[Any], platform: Platform) -> None:
    server, ids, auth = platform
    ids.steer(case)
    response: Response = case.call(base_url=f"{server.root}{BASE}", headers=auth)
    ids.log.count(case, response)
    validate(case, response)
