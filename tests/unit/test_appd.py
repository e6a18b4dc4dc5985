"""The AppD parser: what a well-formed descriptor becomes, and every refusal naming the path
of the field at fault."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from mec_platform.errors import InvalidInput
from mec_platform.packages.appd import (
    AppDescriptor,
    ComputeRequirements,
    ExposedPort,
    GracefulTimeouts,
    SwImage,
    parse_appd,
)

DIGEST = "ab" * 32
Doc = dict[str, Any]


def minimal() -> Doc:
    """The smallest AppD the platform accepts: a packaged image and no ports."""
    return {
        "appDId": "cam-1",
        "appName": "cam",
        "appProvider": "acme",
        "appSoftVersion": "1.0.0",
        "appDVersion": "1",
        "mecVersion": "3.1.1",
        "appDescription": "Counts cars.\nIn two lines.",
        "swImageDescriptor": [
            {
                "id": "img-1",
                "name": "cam",
                "version": "1.0.0",
                "containerFormat": "DOCKER",
                "checksum": {"algorithm": "SHA-256", "hash": DIGEST},
                "swImage": "images/cam.tar",
            }
        ],
        "appExtCpd": [{"inherited_attributes": {}}],
    }


def full() -> Doc:
    """An AppD using every part the platform acts on."""
    doc = minimal()
    doc.update(
        {
            "appInfoName": "Car counter",
            "mecVersion": "3.1.1, 2.2.1",
            "virtualComputeDescriptor": {
                "virtualComputeDescId": "small",
                "virtualCpu": {"numVirtualCpu": 0.5},
                "virtualMemory": {"virtualMemSize": 64},
            },
            "appExtCpd": [
                {
                    "additionalServiceData": [
                        {
                            "portData": [
                                {"name": "http", "protocol": "TCP", "port": 8080},
                                {"name": "stats", "protocol": "udp", "port": 8125},
                            ]
                        }
                    ]
                },
                {
                    "additionalServiceData": [
                        {"portData": [{"name": "rtsp", "protocol": "TCP", "port": 554}]}
                    ]
                },
            ],
            "appServiceProduced": [{"serName": "cars", "version": "1.0"}],
            "appServiceRequired": [{"serName": "LocationService", "version": "2.2.1"}],
            "appServiceOptional": [{"serName": "RNIS", "version": "2.1.1"}],
            "appDNSRule": [
                {
                    "dnsRuleId": "dns-1",
                    "domainName": "cam.mec.local",
                    "ipAddressType": "IP_V4",
                    "ipAddress": "10.0.0.5",
                    "ttl": 30,
                }
            ],
            "appTrafficRule": [
                {
                    "trafficRuleId": "tr-1",
                    "filterType": "FLOW",
                    "priority": 5,
                    "trafficFilter": [{"dstPort": ["23"], "protocol": ["TCP"]}],
                    "action": "DROP",
                }
            ],
            "terminateAppInstanceOpConfig": {
                "minGracefulTerminationTimeout": 2.5,
                "maxRecommendedGracefulTerminationTimeout": 30,
            },
            "changeAppInstanceStateOpConfig": {"minGracefulStopTimeout": 5},
        }
    )
    return doc


def refused(doc: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_appd(doc)
    return caught.value.detail


def image(doc: Doc) -> Doc:
    return dict(doc["swImageDescriptor"][0])


def with_image(**changes: Any) -> Doc:
    doc = minimal()
    doc["swImageDescriptor"][0].update(changes)
    return doc


def test_a_minimal_appd_parses_with_nothing_optional() -> None:
    appd = parse_appd(minimal())
    assert isinstance(appd, AppDescriptor)
    assert (appd.app_d_id, appd.app_name, appd.app_provider) == ("cam-1", "cam", "acme")
    assert (appd.app_soft_version, appd.app_d_version, appd.mec_version) == (
        "1.0.0",
        "1",
        ("3.1.1",),
    )
    assert appd.description == "Counts cars.\nIn two lines."
    assert appd.app_info_name is None
    assert appd.image == SwImage(
        id="img-1",
        name="cam",
        version="1.0.0",
        container_format="DOCKER",
        checksum_algorithm="SHA-256",
        checksum_hash=DIGEST,
        path="images/cam.tar",
        reference=None,
    )
    assert appd.compute == ComputeRequirements(None, None)
    assert appd.ports == ()
    assert appd.services_produced == appd.services_required == appd.services_optional == ()
    assert appd.dns_rules == appd.traffic_rules == ()
    assert appd.termination == appd.stop == GracefulTimeouts(None, None)
    assert appd.document == minimal()


def test_every_part_the_platform_uses_is_read() -> None:
    appd = parse_appd(full())
    assert appd.app_info_name == "Car counter"
    assert appd.mec_version == ("3.1.1", "2.2.1")
    assert appd.compute == ComputeRequirements(cpus=0.5, memory_mib=64)
    assert appd.ports == (
        ExposedPort("http", 8080, "TCP"),
        ExposedPort("stats", 8125, "UDP"),
        ExposedPort("rtsp", 554, "TCP"),
    )
    assert appd.services_produced == ({"serName": "cars", "version": "1.0"},)
    assert [s["serName"] for s in appd.services_required] == ["LocationService"]
    assert [s["serName"] for s in appd.services_optional] == ["RNIS"]
    assert appd.dns_rules[0]["domainName"] == "cam.mec.local"
    assert appd.traffic_rules[0]["action"] == "DROP"
    # Fractions of seconds are rounded up: the application never gets less than it asked.
    assert appd.termination == GracefulTimeouts(minimum=3, recommended_maximum=30)
    assert appd.stop == GracefulTimeouts(minimum=5, recommended_maximum=None)


def test_the_document_is_a_copy_of_what_was_given() -> None:
    doc = full()
    appd = parse_appd(doc)
    doc["appName"] = "changed"
    doc["appDNSRule"][0]["ipAddress"] = "10.9.9.9"
    assert appd.document["appName"] == "cam"
    assert appd.dns_rules[0]["ipAddress"] == "10.0.0.5"


def test_a_local_image_reference_and_normalised_checksum() -> None:
    doc = with_image(
        swImage="localhost/cam:1.0",
        containerFormat="oci",
        checksum={"algorithm": "sha256", "hash": DIGEST.upper()},
    )
    parsed = parse_appd(doc).image
    assert (parsed.path, parsed.reference) == (None, "localhost/cam:1.0")
    assert (parsed.container_format, parsed.checksum_algorithm) == ("OCI", "SHA-256")
    assert parsed.checksum_hash == DIGEST


@pytest.mark.parametrize(
    "reference",
    [
        "localhost/cam:1.0",
        "cam",
        "registry.local:5000/team/cam:v1.2-rc_3",
        f"docker.io/library/busybox@sha256:{DIGEST}",
    ],
)
def test_image_references_podman_understands_are_accepted(reference: str) -> None:
    assert parse_appd(with_image(swImage=reference)).image.reference == reference


def test_something_that_is_not_an_object_is_refused() -> None:
    assert refused([minimal()]) == "appd: must be a JSON object"
    assert refused("appd") == "appd: must be a JSON object"


@pytest.mark.parametrize(
    "field",
    [
        "appDId",
        "appName",
        "appProvider",
        "appSoftVersion",
        "appDVersion",
        "mecVersion",
        "appDescription",
        "swImageDescriptor",
        "appExtCpd",
    ],
)
def test_each_required_field_is_named_when_missing(field: str) -> None:
    doc = minimal()
    del doc[field]
    assert refused(doc) == f"appd.{field}: is required"
    doc[field] = None
    assert refused(doc) == f"appd.{field}: is required"


@pytest.mark.parametrize("field", ["id", "name", "version", "containerFormat", "swImage"])
def test_each_required_image_field_is_named_when_missing(field: str) -> None:
    doc = minimal()
    del doc["swImageDescriptor"][0][field]
    assert refused(doc) == f"appd.swImageDescriptor[0].{field}: is required"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"appName": 5}, "appd.appName: must be a non-empty string"),
        ({"appName": "  "}, "appd.appName: must be a non-empty string"),
        ({"appName": "x" * 257}, "appd.appName: must be at most 256 characters"),
        ({"appProvider": "acme\x1b[31m"}, "appd.appProvider: must not hold control characters"),
        ({"appDescription": "d" * 4097}, "appd.appDescription: must be at most 4096 characters"),
        ({"appInfoName": ["x"]}, "appd.appInfoName: must be a non-empty string"),
        ({"appExtCpd": {}}, "appd.appExtCpd: must be an array"),
        ({"appExtCpd": []}, "appd.appExtCpd: must hold 1 to 64 items"),
        ({"appExtCpd": ["port"]}, "appd.appExtCpd[0]: must be a JSON object"),
        ({"swImageDescriptor": []}, "appd.swImageDescriptor: must hold 1 to 64 items"),
        ({"mecVersion": "3.1"}, "appd.mecVersion: '3.1' is not a version x.y.z"),
        ({"mecVersion": "3.1.1,,2.2.1"}, "appd.mecVersion: '' is not a version x.y.z"),
        (
            {"appServiceRequired": [{"version": "1"}]},
            "appd.appServiceRequired[0].serName: is required",
        ),
        (
            {"appServiceProduced": [{"serName": "x"}]},
            "appd.appServiceProduced[0].version: is required",
        ),
        ({"appServiceOptional": "RNIS"}, "appd.appServiceOptional: must be an array"),
    ],
)
def test_wrong_types_and_values_name_the_field(change: Doc, expected: str) -> None:
    doc = minimal()
    doc.update(change)
    assert refused(doc).startswith(expected)


@pytest.mark.parametrize(
    "app_d_id",
    ["../etc", "a/b", "", ".", "..", "-rm", "_x", "cam 1", "cam;1", "caméra", "x" * 129, 7],
)
def test_an_appd_id_that_is_not_a_safe_name_is_refused(app_d_id: object) -> None:
    doc = minimal()
    doc["appDId"] = app_d_id
    assert refused(doc).startswith("appd.appDId: ")


@pytest.mark.parametrize("app_d_id", [str(uuid.uuid4()), "cam_1.v2-x", "A", "x" * 128])
def test_safe_appd_ids_and_uuids_are_accepted(app_d_id: str) -> None:
    doc = minimal()
    doc["appDId"] = app_d_id
    assert parse_appd(doc).app_d_id == app_d_id


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"containerFormat": "QCOW2"},
            "appd.swImageDescriptor[0].containerFormat: must be DOCKER or OCI",
        ),
        ({"checksum": None}, "appd.swImageDescriptor[0].checksum: is required"),
        (
            {"checksum": "sha256:" + DIGEST},
            "appd.swImageDescriptor[0].checksum: must be a JSON object",
        ),
        (
            {"checksum": {"algorithm": "MD5", "hash": DIGEST}},
            "appd.swImageDescriptor[0].checksum.algorithm: must be SHA-256",
        ),
        (
            {"checksum": {"algorithm": "SHA-256", "hash": DIGEST[:-1]}},
            "appd.swImageDescriptor[0].checksum.hash: must be 64 hex digits",
        ),
        (
            {"checksum": {"algorithm": "SHA-256", "hash": "zz" * 32}},
            "appd.swImageDescriptor[0].checksum.hash: must be 64 hex digits",
        ),
        ({"swImage": "images/../etc/passwd"}, "appd.swImageDescriptor[0].swImage: 'images/../etc"),
        ({"swImage": "images/"}, "appd.swImageDescriptor[0].swImage: 'images/' is not a plain"),
        ({"swImage": "images//x.tar"}, "appd.swImageDescriptor[0].swImage: 'images//x.tar'"),
        (
            {"swImage": "/images/cam.tar"},
            "appd.swImageDescriptor[0].swImage: '/images/cam.tar' is neither",
        ),
        ({"swImage": "Cam Image!"}, "appd.swImageDescriptor[0].swImage: 'Cam Image!' is neither"),
        (
            {"swImage": {"path": "images/cam.tar"}},
            "appd.swImageDescriptor[0].swImage: must be a non-empty",
        ),
    ],
)
def test_image_refusals_name_the_field(changes: Doc, expected: str) -> None:
    assert refused(with_image(**changes)).startswith(expected)


def test_exactly_one_image_is_supported() -> None:
    doc = minimal()
    doc["swImageDescriptor"].append(copy.deepcopy(doc["swImageDescriptor"][0]))
    assert refused(doc) == "appd.swImageDescriptor: exactly one container image is supported"


def compute(cpu: object = 1, memory: object = 64) -> Doc:
    doc = minimal()
    doc["virtualComputeDescriptor"] = {
        "virtualCpu": {"numVirtualCpu": cpu},
        "virtualMemory": {"virtualMemSize": memory},
    }
    return doc


@pytest.mark.parametrize("cpu", [0, -1, 257, 1e9, True, "2", float("nan"), float("inf")])
def test_absurd_cpu_counts_are_refused(cpu: object) -> None:
    assert refused(compute(cpu=cpu)).startswith(
        "appd.virtualComputeDescriptor.virtualCpu.numVirtualCpu: must be"
    )


@pytest.mark.parametrize("memory", [-5, 0, 5, 1.5, 2**40, "64", False])
def test_absurd_memory_sizes_are_refused(memory: object) -> None:
    assert refused(compute(memory=memory)).startswith(
        "appd.virtualComputeDescriptor.virtualMemory.virtualMemSize: must be"
    )


def test_cpu_or_memory_alone_is_enough() -> None:
    doc = minimal()
    doc["virtualComputeDescriptor"] = {"virtualMemory": {"virtualMemSize": 128.0}}
    assert parse_appd(doc).compute == ComputeRequirements(cpus=None, memory_mib=128)
    doc["virtualComputeDescriptor"] = {"virtualCpu": {"numVirtualCpu": 2}}
    assert parse_appd(doc).compute == ComputeRequirements(cpus=2.0, memory_mib=None)


def ports(*entries: Doc) -> Doc:
    doc = minimal()
    doc["appExtCpd"] = [{"additionalServiceData": [{"portData": list(entries)}]}]
    return doc


PORT_PATH = "appd.appExtCpd[0].additionalServiceData[0].portData"


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            [{"name": "http", "protocol": "TCP", "port": 0}],
            f"{PORT_PATH}[0].port: must be a whole number from 1 to 65535",
        ),
        ([{"name": "http", "protocol": "TCP", "port": 65536}], f"{PORT_PATH}[0].port: must be"),
        (
            [{"name": "http", "protocol": "TCP", "port": "80"}],
            f"{PORT_PATH}[0].port: must be a number",
        ),
        (
            [{"name": "http", "protocol": "TCP", "port": 80.5}],
            f"{PORT_PATH}[0].port: must be a whole",
        ),
        (
            [{"name": "http", "protocol": "ICMP", "port": 80}],
            f"{PORT_PATH}[0].protocol: must be TCP, UDP or SCTP",
        ),
        (
            [{"name": "my port", "protocol": "TCP", "port": 80}],
            f"{PORT_PATH}[0].name: must be 1 to 64",
        ),
        ([{"protocol": "TCP", "port": 80}], f"{PORT_PATH}[0].name: is required"),
        (
            [
                {"name": "a", "protocol": "TCP", "port": 80},
                {"name": "a", "protocol": "UDP", "port": 81},
            ],
            f"{PORT_PATH}[1].name: 'a' names another port already",
        ),
        (
            [
                {"name": "a", "protocol": "TCP", "port": 80},
                {"name": "b", "protocol": "tcp", "port": 80},
            ],
            f"{PORT_PATH}[1].port: TCP port 80 is listed twice",
        ),
        ([], "appd.appExtCpd[0].additionalServiceData[0].portData: must hold 1 to 64 items"),
    ],
)
def test_port_refusals_name_the_field(entries: list[Doc], expected: str) -> None:
    assert refused(ports(*entries)).startswith(expected)


def test_duplicate_port_names_across_interfaces_are_refused() -> None:
    doc = full()
    doc["appExtCpd"][1]["additionalServiceData"][0]["portData"][0]["name"] = "http"
    assert refused(doc) == (
        "appd.appExtCpd[1].additionalServiceData[0].portData[0].name: "
        "'http' names another port already"
    )


def test_the_same_port_number_over_tcp_and_udp_is_fine() -> None:
    doc = ports(
        {"name": "dns-tcp", "protocol": "TCP", "port": 53},
        {"name": "dns-udp", "protocol": "UDP", "port": 53},
    )
    assert [p.protocol for p in parse_appd(doc).ports] == ["TCP", "UDP"]


def dns(**changes: Any) -> Doc:
    doc = full()
    doc["appDNSRule"][0].update(changes)
    return doc


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"ipAddress": "10.0.0.300"},
            "appd.appDNSRule[0].ipAddress: '10.0.0.300' is not an IP address",
        ),
        (
            {"ipAddress": "fe80::1"},
            "appd.appDNSRule[0].ipAddress: 'fe80::1' is not an IP_V4 address",
        ),
        ({"ipAddressType": "IPX"}, "appd.appDNSRule[0].ipAddressType: 'IPX' is not one of"),
        (
            {"domainName": "bad domain"},
            "appd.appDNSRule[0].domainName: 'bad domain' is not a valid",
        ),
        ({"ttl": -1}, "appd.appDNSRule[0].ttl: must be a whole number"),
        ({"ttl": "30"}, "appd.appDNSRule[0].ttl: must be a number"),
        ({"domainName": None}, "appd.appDNSRule[0].domainName: is required"),
    ],
)
def test_dns_rules_are_checked_as_the_app_support_api_checks_them(
    changes: Doc, expected: str
) -> None:
    assert refused(dns(**changes)).startswith(expected)


def test_rule_ids_are_unique_within_their_list() -> None:
    doc = full()
    doc["appDNSRule"].append(dict(doc["appDNSRule"][0]))
    assert refused(doc) == "appd.appDNSRule[1].dnsRuleId: 'dns-1' is used by another rule"
    doc = full()
    doc["appTrafficRule"].append(dict(doc["appTrafficRule"][0]))
    assert refused(doc) == "appd.appTrafficRule[1].trafficRuleId: 'tr-1' is used by another rule"


def traffic(**changes: Any) -> Doc:
    doc = full()
    doc["appTrafficRule"][0].update(changes)
    return doc


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"action": "FORWARD_DECAPSULATED"},
            "appd.appTrafficRule[0].action: FORWARD_DECAPSULATED cannot be enforced",
        ),
        ({"action": "EXPLODE"}, "appd.appTrafficRule[0].action: 'EXPLODE' is not one of"),
        ({"filterType": "BOTH"}, "appd.appTrafficRule[0].filterType: 'BOTH' is not one of"),
        (
            {"priority": 256},
            "appd.appTrafficRule[0].priority: must be a whole number from 0 to 255",
        ),
        ({"priority": "high"}, "appd.appTrafficRule[0].priority: must be a number"),
        ({"trafficFilter": []}, "appd.appTrafficRule[0].trafficFilter: must hold 1 to 64 items"),
        ({"trafficFilter": None}, "appd.appTrafficRule[0].trafficFilter: is required"),
        (
            {"trafficFilter": [{"dstPort": "23"}]},
            "appd.appTrafficRule[0].trafficFilter[0].dstPort: must be an array of strings",
        ),
        (
            {"trafficFilter": [{"dstPort": [23]}]},
            "appd.appTrafficRule[0].trafficFilter[0].dstPort: must be an array of strings",
        ),
        (
            {"trafficFilter": [{"dstPort": ["x"]}]},
            "appd.appTrafficRule[0].trafficFilter[0].dstPort: 'x' is not a port",
        ),
        (
            {"trafficFilter": [{"tag": ["t"]}]},
            "appd.appTrafficRule[0].trafficFilter[0].tag: this MEC host cannot filter",
        ),
        (
            {"trafficFilter": [{"dSCP": 99}]},
            "appd.appTrafficRule[0].trafficFilter[0].dSCP: must lie between 0 and 63",
        ),
        ({"dstInterface": "eth0"}, "appd.appTrafficRule[0].dstInterface[0]: must be a JSON object"),
        (
            {"dstInterface": {"tunnelInfo": {}}},
            "appd.appTrafficRule[0].dstInterface[0].interfaceType: is required",
        ),
    ],
)
def test_traffic_rules_must_be_enforceable_by_this_host(changes: Doc, expected: str) -> None:
    assert refused(traffic(**changes)).startswith(expected)


def test_a_passthrough_rule_with_a_destination_interface_is_accepted() -> None:
    doc = traffic(
        action="PASSTHROUGH", dstInterface={"interfaceType": "IP", "dstIpAddress": "10.0.0.9"}
    )
    assert parse_appd(doc).traffic_rules[0]["action"] == "PASSTHROUGH"


TimeoutChange = Callable[[Doc], None]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["terminateAppInstanceOpConfig"].update(minGracefulTerminationTimeout=-1),
            "appd.terminateAppInstanceOpConfig.minGracefulTerminationTimeout: must lie between",
        ),
        (
            lambda d: d["terminateAppInstanceOpConfig"].update(
                maxRecommendedGracefulTerminationTimeout=1
            ),
            "appd.terminateAppInstanceOpConfig.maxRecommendedGracefulTerminationTimeout: must not "
            "be less than minGracefulTerminationTimeout",
        ),
        (
            lambda d: d["changeAppInstanceStateOpConfig"].update(minGracefulStopTimeout=86400),
            "appd.changeAppInstanceStateOpConfig.minGracefulStopTimeout: must lie between",
        ),
        (
            lambda d: d["changeAppInstanceStateOpConfig"].pop("minGracefulStopTimeout"),
            "appd.changeAppInstanceStateOpConfig.minGracefulStopTimeout: is required",
        ),
    ],
)
def test_graceful_timeouts_are_checked(change: TimeoutChange, expected: str) -> None:
    doc = full()
    change(doc)
    assert refused(doc).startswith(expected)
