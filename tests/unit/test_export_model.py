"""Unit tests of the export settings (MEC_EXPORT_* parsing) and of URL redaction."""

from __future__ import annotations

import pytest

from mec_platform.errors import InvalidInput
from mec_platform.export.model import (
    ExportSettings,
    check_topic_filter,
    parse_export_settings,
    parse_upstream,
    redacted,
)

HOST = "box-7"


def settings(**env: str) -> ExportSettings:
    parsed = parse_export_settings({"MEC_EXPORT_URL": "mqtt://cloud.example", **env}, HOST)
    assert parsed is not None
    return parsed


def test_no_url_means_no_export() -> None:
    assert parse_export_settings({}, HOST) is None
    assert parse_export_settings({"MEC_EXPORT_URL": "  "}, HOST) is None


def test_defaults() -> None:
    parsed = settings()
    assert parsed.topics == ("sensors/#",)
    assert parsed.prefix == ""
    assert parsed.client_id == "umec-export-box-7"
    assert (parsed.queue_limit, parsed.window, parsed.ca_file) == (1_000_000, 200, None)
    upstream = parsed.upstream
    assert (upstream.host, upstream.port, upstream.tls) == ("cloud.example", 1883, False)
    assert upstream.username is None and upstream.password is None


def test_every_variable() -> None:
    parsed = settings(
        MEC_EXPORT_URL="mqtts://dev%40site:p%3Ass@cloud.example:18883",
        MEC_EXPORT_TOPICS="sensors/+/temperature, apps/#,sensors/+/temperature",
        MEC_EXPORT_PREFIX="sites/north",
        MEC_EXPORT_CLIENT_ID="north-1",
        MEC_EXPORT_QUEUE_LIMIT="5000",
        MEC_EXPORT_WINDOW="10",
        MEC_EXPORT_CA_FILE="/etc/umec/ca.pem",
    )
    assert parsed.topics == ("sensors/+/temperature", "apps/#")
    assert parsed.prefix == "sites/north/"
    assert parsed.upstream_topic("sensors/a/t") == "sites/north/sensors/a/t"
    assert (parsed.client_id, parsed.queue_limit, parsed.window) == ("north-1", 5000, 10)
    assert parsed.ca_file == "/etc/umec/ca.pem"
    upstream = parsed.upstream
    assert (upstream.host, upstream.port, upstream.tls) == ("cloud.example", 18883, True)
    assert (upstream.username, upstream.password) == ("dev@site", "p:ss")


def test_prefix_with_its_slash_is_kept_as_is() -> None:
    assert settings(MEC_EXPORT_PREFIX="north/").upstream_topic("sensors/a/t") == (
        "north/sensors/a/t"
    )
    assert settings().upstream_topic("sensors/a/t") == "sensors/a/t"


def test_mqtts_default_port_and_ipv6() -> None:
    upstream = parse_upstream("mqtts://[2001:db8::1]")
    assert (upstream.host, upstream.port, upstream.tls) == ("2001:db8::1", 8883, True)
    assert upstream.display == "mqtts://[2001:db8::1]:8883"


@pytest.mark.parametrize(
    "url",
    [
        "http://cloud.example",
        "cloud.example:1883",
        "mqtt://",
        "mqtt://cloud.example:99999",
        "mqtt://cloud.example:0",
        "mqtt://cloud.example:port",
        "mqtt://cloud.example/topic",
        "mqtt://cloud.example?x=1",
    ],
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(InvalidInput, match="MEC_EXPORT_URL"):
        settings(MEC_EXPORT_URL=url)


def test_bad_url_errors_never_echo_credentials() -> None:
    with pytest.raises(InvalidInput) as caught:
        settings(MEC_EXPORT_URL="mqtt://user:s3cret@cloud.example:bad")
    assert "s3cret" not in caught.value.detail


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MEC_EXPORT_QUEUE_LIMIT", "0"),
        ("MEC_EXPORT_QUEUE_LIMIT", "many"),
        ("MEC_EXPORT_WINDOW", "0"),
        ("MEC_EXPORT_WINDOW", "65536"),
        ("MEC_EXPORT_TOPICS", "sensors/#/x"),
        ("MEC_EXPORT_TOPICS", "sensors/a+/x"),
        ("MEC_EXPORT_TOPICS", "sens\0ors"),
        # Export topics become ACL lines of the broker: no line may smuggle in a rule.
        ("MEC_EXPORT_TOPICS", "sensors/#\ntopic readwrite #"),
        ("MEC_EXPORT_TOPICS", "s/" + "x" * 1100),
        ("MEC_EXPORT_CLIENT_ID", "box\r1"),
        ("MEC_EXPORT_PREFIX", "site/#"),
        ("MEC_EXPORT_PREFIX", "$SYS"),
        ("MEC_EXPORT_PREFIX", "/abs"),
        ("MEC_EXPORT_CA_FILE", "/etc/ca.pem"),  # only with mqtts://
    ],
)
def test_bad_values_name_their_variable(name: str, value: str) -> None:
    with pytest.raises(InvalidInput, match=name):
        settings(**{name: value})


@pytest.mark.parametrize("topic_filter", ["#", "+", "sensors/+/t", "a//b", "sensors/#", "$SYS/#"])
def test_valid_topic_filters(topic_filter: str) -> None:
    check_topic_filter(topic_filter)


def test_redacted_shows_scheme_host_and_port_only() -> None:
    assert redacted("mqtts://user:s3cret@cloud.example") == "mqtts://cloud.example:8883"
    assert redacted("mqtt://cloud.example:1884") == "mqtt://cloud.example:1884"
    assert "s3cret" not in redacted("ftp://user:s3cret@cloud.example")


def test_settings_repr_hides_the_password() -> None:
    parsed = settings(MEC_EXPORT_URL="mqtt://user:s3cret@cloud.example")
    assert "s3cret" not in repr(parsed)
    assert "s3cret" not in repr(parsed.upstream)
