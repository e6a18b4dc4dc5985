"""The application descriptor (AppD, ETSI GS MEC 010-2 clause 6.2.1.2) as this platform accepts
it: the JSON document is checked field by field, every refusal naming the field's path
(`appd.swImageDescriptor[0].checksum.hash: ...`), and turned into frozen dataclasses holding
what the platform acts on: one container image, its compute needs, the ports it exposes, the
services it uses and offers, its DNS and traffic rules and its graceful stop and termination
timeouts. Pure Python: no file, network or runtime is touched here."""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mec_platform.appsupport.wire import dns_rule_from_wire, traffic_rule_from_wire
from mec_platform.errors import InvalidInput
from mec_platform.registry.model import JsonObject

# appDId becomes a URL segment and part of container and network names. Podman names must
# start with a letter or digit and hold only [A-Za-z0-9_.-]; this also rules out `.`, `..`
# and a leading `-` (read as an option by command-line tools). UUIDs fit the pattern.
APP_D_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
PORT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MEC_VERSION = re.compile(r"\d+\.\d+\.\d+")
SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
# A packaged image lives under images/; each path part starts with a letter, digit or `_`,
# which keeps `.` and `..` out.
_PART = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}"
IMAGE_PATH = re.compile(rf"images/{_PART}(?:/{_PART})*")
# An image reference as Podman parses one: [host[:port]/]path[:tag][@sha256:digest].
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REFERENCE = re.compile(
    rf"(?:[A-Za-z0-9.-]+(?::\d+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)
CHECKSUM_ALGORITHMS = {"sha-256": "SHA-256", "sha256": "SHA-256"}
CONTAINER_FORMATS = ("DOCKER", "OCI")
PORT_PROTOCOLS = ("TCP", "UDP", "SCTP")
MAX_TEXT = 256
MAX_DESCRIPTION = 4096
MAX_ITEMS = 64
MAX_CPUS = 256
# Podman refuses memory limits below 6 MiB; 1 TiB is far beyond any edge box.
MIN_MEMORY_MIB, MAX_MEMORY_MIB = 6, 1024 * 1024
MAX_GRACEFUL_SECONDS = 3600


@dataclass(frozen=True)
class SwImage:
    """The one container image: packaged (`path` under images/) or local (`reference`).

    The checksum is the SHA-256 of the tar file for a packaged image, the image id (SHA-256
    of the image configuration) for a local one; `checksum_hash` is lower-case hex."""

    id: str
    name: str
    version: str
    container_format: str
    checksum_algorithm: str
    checksum_hash: str
    path: str | None
    reference: str | None


@dataclass(frozen=True)
class ComputeRequirements:
    """CPUs (may be fractional) and memory in MiB; None means no limit asked for."""

    cpus: float | None = None
    memory_mib: int | None = None


@dataclass(frozen=True)
class ExposedPort:
    """A port the application listens on (ServicePortData); protocol TCP, UDP or SCTP."""

    name: str
    port: int
    protocol: str


@dataclass(frozen=True)
class GracefulTimeouts:
    """Graceful stop or termination timeouts in whole seconds (None when not given)."""

    minimum: int | None = None
    recommended_maximum: int | None = None


@dataclass(frozen=True)
class AppDescriptor:
    """An accepted AppD; `document` keeps the JSON as given for the AppPkg API."""

    app_d_id: str
    app_name: str
    app_provider: str
    app_soft_version: str
    app_d_version: str
    mec_version: tuple[str, ...]
    app_info_name: str | None
    description: str
    image: SwImage
    compute: ComputeRequirements
    ports: tuple[ExposedPort, ...]
    services_produced: tuple[JsonObject, ...]
    services_required: tuple[JsonObject, ...]
    services_optional: tuple[JsonObject, ...]
    dns_rules: tuple[JsonObject, ...]
    traffic_rules: tuple[JsonObject, ...]
    termination: GracefulTimeouts
    stop: GracefulTimeouts
    document: JsonObject


class _Obj:
    """A JSON object being read, with its path for error messages."""

    def __init__(self, value: object, path: str) -> None:
        if not isinstance(value, Mapping):
            raise InvalidInput(f"{path}: must be a JSON object")
        self.value: Mapping[str, Any] = value
        self.path = path

    def at(self, key: str) -> str:
        """The path of one field."""
        return f"{self.path}.{key}"

    def has(self, key: str) -> bool:
        """True when the field is present and not null."""
        return self.value.get(key) is not None

    def _get(self, key: str) -> Any:
        if not self.has(key):
            raise InvalidInput(f"{self.at(key)}: is required")
        return self.value[key]

    def text(self, key: str, limit: int = MAX_TEXT, lines: bool = False) -> str:
        """A required, non-blank string of at most `limit` characters."""
        value = self._get(key)
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{self.at(key)}: must be a non-empty string")
        if len(value) > limit:
            raise InvalidInput(f"{self.at(key)}: must be at most {limit} characters")
        allowed = "\n\t" if lines else ""
        if any(not ch.isprintable() and ch not in allowed for ch in value):
            raise InvalidInput(f"{self.at(key)}: must not hold control characters")
        return value

    def optional_text(self, key: str) -> str | None:
        """An optional string."""
        return self.text(key) if self.has(key) else None

    def number(self, key: str) -> float:
        """A required JSON number (not a boolean)."""
        value = self._get(key)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidInput(f"{self.at(key)}: must be a number")
        return float(value)

    def integer(self, key: str, low: int, high: int) -> int:
        """A required whole number within [low, high]."""
        value = self.number(key)
        if not value.is_integer() or not low <= value <= high:
            raise InvalidInput(f"{self.at(key)}: must be a whole number from {low} to {high}")
        return int(value)

    def child(self, key: str) -> _Obj | None:
        """An optional nested object."""
        return _Obj(self.value[key], self.at(key)) if self.has(key) else None

    def items(self, key: str, required: bool = False, min_items: int = 0) -> list[_Obj]:
        """The objects of an array field (absent: empty unless required)."""
        if not self.has(key):
            if required:
                raise InvalidInput(f"{self.at(key)}: is required")
            return []
        values = self.value[key]
        if not isinstance(values, list):
            raise InvalidInput(f"{self.at(key)}: must be an array")
        if not min_items <= len(values) <= MAX_ITEMS:
            raise InvalidInput(f"{self.at(key)}: must hold {min_items} to {MAX_ITEMS} items")
        return [_Obj(item, f"{self.at(key)}[{index}]") for index, item in enumerate(values)]


def parse_appd(document: object) -> AppDescriptor:
    """The AppD of a JSON document, or InvalidInput naming the first field that is wrong."""
    appd = _Obj(document, "appd")
    app_d_id = appd.text("appDId")
    if not APP_D_ID.fullmatch(app_d_id):
        raise InvalidInput(
            "appd.appDId: must be 1 to 128 letters, digits, '.', '_' or '-' starting with a "
            "letter or digit (a UUID fits)"
        )
    return AppDescriptor(
        app_d_id=app_d_id,
        app_name=appd.text("appName"),
        app_provider=appd.text("appProvider"),
        app_soft_version=appd.text("appSoftVersion"),
        app_d_version=appd.text("appDVersion"),
        mec_version=_mec_version(appd),
        app_info_name=appd.optional_text("appInfoName"),
        description=appd.text("appDescription", MAX_DESCRIPTION, lines=True),
        image=_image(appd),
        compute=_compute(appd.child("virtualComputeDescriptor")),
        ports=_ports(appd.items("appExtCpd", required=True, min_items=1)),
        services_produced=_services(appd, "appServiceProduced"),
        services_required=_services(appd, "appServiceRequired"),
        services_optional=_services(appd, "appServiceOptional"),
        dns_rules=_rules(appd, "appDNSRule", "dnsRuleId", _check_dns_rule),
        traffic_rules=_rules(appd, "appTrafficRule", "trafficRuleId", _check_traffic_rule),
        termination=_timeouts(
            appd.child("terminateAppInstanceOpConfig"),
            "minGracefulTerminationTimeout",
            "maxRecommendedGracefulTerminationTimeout",
        ),
        stop=_timeouts(
            appd.child("changeAppInstanceStateOpConfig"),
            "minGracefulStopTimeout",
            "maxRecommendedGracefulStopTimeout",
        ),
        document=copy.deepcopy(dict(appd.value)),
    )


def _mec_version(appd: _Obj) -> tuple[str, ...]:
    """`mecVersion` is a comma-separated list of x.y.z versions (blanks around entries)."""
    versions = tuple(part.strip() for part in appd.text("mecVersion").split(","))
    for version in versions:
        if not MEC_VERSION.fullmatch(version):
            raise InvalidInput(
                f"appd.mecVersion: '{version[:40]}' is not a version x.y.z "
                "(give a comma-separated list such as '3.1.1, 2.2.1')"
            )
    return versions


def _image(appd: _Obj) -> SwImage:
    descriptors = appd.items("swImageDescriptor", required=True, min_items=1)
    if len(descriptors) != 1:
        raise InvalidInput("appd.swImageDescriptor: exactly one container image is supported")
    image = descriptors[0]
    container_format = image.text("containerFormat").upper()
    if container_format not in CONTAINER_FORMATS:
        raise InvalidInput(f"{image.at('containerFormat')}: must be DOCKER or OCI")
    algorithm, digest = _checksum(image.child("checksum"), image.at("checksum"))
    location = image.text("swImage")
    path = location if location.startswith("images/") else None
    if path is not None and not IMAGE_PATH.fullmatch(path):
        raise InvalidInput(
            f"{image.at('swImage')}: '{path[:80]}' is not a plain file path under images/"
        )
    if path is None and (len(location) > 255 or not IMAGE_REFERENCE.fullmatch(location)):
        raise InvalidInput(
            f"{image.at('swImage')}: '{location[:80]}' is neither a path under images/ in the "
            "package nor an image reference such as localhost/name:tag"
        )
    return SwImage(
        id=image.text("id"),
        name=image.text("name"),
        version=image.text("version"),
        container_format=container_format,
        checksum_algorithm=algorithm,
        checksum_hash=digest,
        path=path,
        reference=None if path else location,
    )


def _checksum(checksum: _Obj | None, path: str) -> tuple[str, str]:
    """(algorithm, lower-case hex); the integrity of the image rests on it, so it is required."""
    if checksum is None:
        raise InvalidInput(f"{path}: is required (algorithm SHA-256 and the hash)")
    algorithm = CHECKSUM_ALGORITHMS.get(checksum.text("algorithm").lower())
    if algorithm is None:
        raise InvalidInput(f"{checksum.at('algorithm')}: must be SHA-256")
    digest = checksum.text("hash")
    if not SHA256_HEX.fullmatch(digest):
        raise InvalidInput(f"{checksum.at('hash')}: must be 64 hex digits")
    return algorithm, digest.lower()


def _compute(descriptor: _Obj | None) -> ComputeRequirements:
    if descriptor is None:
        return ComputeRequirements()
    cpu, memory = descriptor.child("virtualCpu"), descriptor.child("virtualMemory")
    cpus = cpu.number("numVirtualCpu") if cpu else None
    if cpu is not None and cpus is not None and not 0 < cpus <= MAX_CPUS:
        # Fractions are allowed (ETSI says integer): half a CPU is a real need on small boxes.
        raise InvalidInput(f"{cpu.at('numVirtualCpu')}: must be more than 0 and at most 256")
    memory_mib = (
        memory.integer("virtualMemSize", MIN_MEMORY_MIB, MAX_MEMORY_MIB) if memory else None
    )
    return ComputeRequirements(cpus=cpus, memory_mib=memory_mib)


def _ports(cpds: list[_Obj]) -> tuple[ExposedPort, ...]:
    """Ports from appExtCpd[].additionalServiceData[].portData[] (ServicePortData)."""
    ports: list[ExposedPort] = []
    for cpd in cpds:
        for service_data in cpd.items("additionalServiceData"):
            for data in service_data.items("portData", required=True, min_items=1):
                ports.append(_port(data, ports))
    return tuple(ports)


def _port(data: _Obj, seen: list[ExposedPort]) -> ExposedPort:
    name = data.text("name")
    if not PORT_NAME.fullmatch(name):
        raise InvalidInput(
            f"{data.at('name')}: must be 1 to 64 letters, digits, '.', '_' or '-' "
            "starting with a letter or digit"
        )
    protocol = data.text("protocol").upper()
    if protocol not in PORT_PROTOCOLS:
        raise InvalidInput(f"{data.at('protocol')}: must be TCP, UDP or SCTP")
    port = ExposedPort(name=name, port=data.integer("port", 1, 65535), protocol=protocol)
    if any(other.name == name for other in seen):
        raise InvalidInput(f"{data.at('name')}: '{name}' names another port already")
    if any((other.port, other.protocol) == (port.port, protocol) for other in seen):
        raise InvalidInput(f"{data.at('port')}: {protocol} port {port.port} is listed twice")
    return port


def _services(appd: _Obj, key: str) -> tuple[JsonObject, ...]:
    """ServiceDependency / ServiceDescriptor entries: serName and version are required."""
    services = appd.items(key)
    for service in services:
        service.text("serName")
        service.text("version")
    return tuple(copy.deepcopy(dict(service.value)) for service in services)


def _rules(
    appd: _Obj, key: str, id_field: str, check: Callable[[_Obj], None]
) -> tuple[JsonObject, ...]:
    rules = appd.items(key)
    seen: set[str] = set()
    for rule in rules:
        rule_id = rule.text(id_field)
        if rule_id in seen:
            raise InvalidInput(f"{rule.at(id_field)}: '{rule_id}' is used by another rule")
        seen.add(rule_id)
        check(rule)
    return tuple(copy.deepcopy(dict(rule.value)) for rule in rules)


def _check_dns_rule(rule: _Obj) -> None:
    """DNSRuleDescriptor, checked as the Application Support API will check it."""
    for key in ("domainName", "ipAddressType", "ipAddress"):
        rule.text(key)
    if rule.has("ttl"):
        rule.integer("ttl", 0, 2**31 - 1)
    try:
        dns_rule_from_wire({**rule.value, "state": "ACTIVE"})
    except InvalidInput as exc:
        raise InvalidInput(f"{rule.path}.{exc.detail}") from None


_FILTER_LISTS = (
    "srcAddress",
    "dstAddress",
    "srcPort",
    "dstPort",
    "protocol",
    "tag",
    "srcTunnelAddress",
    "tgtTunnelAddress",
    "srcTunnelPort",
    "dstTunnelPort",
)


def _check_traffic_rule(rule: _Obj) -> None:
    """TrafficRuleDescriptor: well-formed, and enforceable by this host's packet filter, so
    that a package that could never be instantiated here is refused when it arrives."""
    rule.text("filterType")
    rule.text("action")
    rule.integer("priority", 0, 255)
    for selector in rule.items("trafficFilter", required=True, min_items=1):
        _check_filter_types(selector)
    interfaces = rule.value.get("dstInterface")
    listed = interfaces if isinstance(interfaces, list) else [interfaces] if interfaces else []
    for index, interface in enumerate(listed):
        item = _Obj(interface, f"{rule.at('dstInterface')}[{index}]")
        item.text("interfaceType")
        tunnel = item.child("tunnelInfo")
        if tunnel:
            tunnel.text("tunnelType")
    try:
        traffic_rule_from_wire({**rule.value, "state": "ACTIVE"}).check_enforceable()
    except InvalidInput as exc:
        raise InvalidInput(f"{rule.path}.{exc.detail}") from None


def _check_filter_types(selector: _Obj) -> None:
    for key in _FILTER_LISTS:
        values = selector.value.get(key)
        if values is not None and (
            not isinstance(values, list) or not all(isinstance(v, str) for v in values)
        ):
            raise InvalidInput(f"{selector.at(key)}: must be an array of strings")
    for key in ("qCI", "dSCP", "tC"):
        if selector.has(key):
            selector.integer(key, 0, 255)


def _timeouts(config: _Obj | None, minimum: str, maximum: str) -> GracefulTimeouts:
    """Seconds; fractions are rounded up so the application never gets less than it asked."""
    if config is None:
        return GracefulTimeouts()
    low = _seconds(config, minimum)
    high = _seconds(config, maximum) if config.has(maximum) else None
    if high is not None and high < low:
        raise InvalidInput(f"{config.at(maximum)}: must not be less than {minimum}")
    return GracefulTimeouts(minimum=low, recommended_maximum=high)


def _seconds(config: _Obj, key: str) -> int:
    value = config.number(key)
    if not 0 <= value <= MAX_GRACEFUL_SECONDS:
        raise InvalidInput(f"{config.at(key)}: must lie between 0 and 3600 seconds")
    return math.ceil(value)
