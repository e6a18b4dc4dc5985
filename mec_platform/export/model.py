"""What an export is: its settings read from MEC_EXPORT_* variables, the upstream broker's
address, and the status the web API shows.

Only one export exists per box for now; its status carries the name `default` so that more
can be added without changing the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import SplitResult, unquote, urlsplit

from mec_platform.errors import InvalidInput

EXPORT_NAME = "default"
DEFAULT_TOPICS = ("sensors/#",)
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
MAX_WINDOW = 65_535  # MQTT packet identifiers are 16 bits: no more can be in flight
MAX_TOPIC_BYTES = 65_535
# Export topics become lines of the broker's ACL file (read rules of `umec-export`): the
# broker's account rules allow 1024 characters, and a line break would inject a rule.
MAX_FILTER_CHARS = 1024


@dataclass(frozen=True, kw_only=True)
class ExportSettings:
    """One export: where to, which topics, and how much may wait on disk."""

    # The URL may hold a password: kept out of repr so that logging settings cannot leak it.
    upstream_url: str = field(repr=False)
    topics: tuple[str, ...]
    prefix: str = ""
    client_id: str
    queue_limit: int = 1_000_000
    window: int = 200
    ca_file: str | None = None

    @property
    def upstream(self) -> Upstream:
        """The upstream broker's address and credentials."""
        return parse_upstream(self.upstream_url)

    def upstream_topic(self, topic: str) -> str:
        """The topic a local message is published to upstream."""
        return self.prefix + topic


@dataclass(frozen=True)
class Upstream:
    """The upstream broker as the exporter connects to it."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def display(self) -> str:
        """`scheme://host:port`, safe to show and log."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"


@dataclass(frozen=True)
class ExportStatus:
    """What the web API reports about an export: its exporter's last word and its queue."""

    name: str
    upstream: str
    topics: tuple[str, ...]
    backlog: int
    oldest_queued_at: float | None
    delivered: int
    connected: bool
    last_error: str | None
    updated_at: float | None


def parse_export_settings(env: Mapping[str, str], hostname: str) -> ExportSettings | None:
    """The export configured by MEC_EXPORT_* variables; None when MEC_EXPORT_URL is unset."""
    url = env.get("MEC_EXPORT_URL", "").strip()
    if not url:
        return None
    upstream = parse_upstream(url)
    ca_file = env.get("MEC_EXPORT_CA_FILE", "").strip() or None
    if ca_file is not None and not upstream.tls:
        raise InvalidInput("MEC_EXPORT_CA_FILE: only used with an mqtts:// MEC_EXPORT_URL")
    return ExportSettings(
        upstream_url=url,
        topics=_topics(env.get("MEC_EXPORT_TOPICS", "")),
        prefix=_prefix(env.get("MEC_EXPORT_PREFIX", "")),
        client_id=_client_id(env.get("MEC_EXPORT_CLIENT_ID", "").strip(), hostname),
        queue_limit=_whole(env, "MEC_EXPORT_QUEUE_LIMIT", 1_000_000, 1, None),
        window=_whole(env, "MEC_EXPORT_WINDOW", 200, 1, MAX_WINDOW),
        ca_file=ca_file,
    )


def parse_upstream(url: str) -> Upstream:
    """`mqtt[s]://[user[:password]@]host[:port]` as an Upstream; errors never echo the URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise InvalidInput("MEC_EXPORT_URL: not a valid mqtt:// or mqtts:// URL") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidInput("MEC_EXPORT_URL: the scheme must be mqtt:// or mqtts://")
    if not parts.hostname:
        raise InvalidInput("MEC_EXPORT_URL: no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInput("MEC_EXPORT_URL: only scheme, credentials, host and port are allowed")
    if port == 0:
        raise InvalidInput("MEC_EXPORT_URL: the port must be between 1 and 65535")
    return Upstream(
        host=parts.hostname,
        port=port or DEFAULT_PORTS[scheme],
        tls=scheme == "mqtts",
        username=_unquoted(parts, "username"),
        password=_unquoted(parts, "password"),
    )


def redacted(url: str) -> str:
    """The upstream broker as `scheme://host:port`: never its credentials."""
    try:
        return parse_upstream(url).display
    except InvalidInput:
        return "(invalid MEC_EXPORT_URL)"


def check_topic_filter(topic_filter: str) -> None:
    """Raise InvalidInput unless `topic_filter` is a valid MQTT subscription filter."""
    if not topic_filter:
        raise InvalidInput("MEC_EXPORT_TOPICS: an empty topic filter")
    if _has_control(topic_filter) or len(topic_filter) > MAX_FILTER_CHARS:
        raise InvalidInput(f"MEC_EXPORT_TOPICS: {topic_filter[:60]!r} is not a valid topic filter")
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        wild = "#" in level or "+" in level
        if wild and level not in ("#", "+"):
            raise InvalidInput(
                f"MEC_EXPORT_TOPICS: '{topic_filter[:60]}': a wildcard must fill a whole level"
            )
        if level == "#" and index != len(levels) - 1:
            raise InvalidInput(f"MEC_EXPORT_TOPICS: '{topic_filter[:60]}': '#' must come last")


def _has_control(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def _unquoted(parts: SplitResult, which: str) -> str | None:
    value: str | None = getattr(parts, which)
    return None if value is None else unquote(value)


def _topics(raw: str) -> tuple[str, ...]:
    topics = tuple(dict.fromkeys(t.strip() for t in raw.split(",") if t.strip()))
    for topic_filter in topics:
        check_topic_filter(topic_filter)
    return topics or DEFAULT_TOPICS


def _prefix(raw: str) -> str:
    # The prefix is one or more topic levels put in front; the separating "/" is optional.
    prefix = raw.strip()
    if not prefix:
        return ""
    if any(c in prefix for c in "#+") or _has_control(prefix) or prefix.startswith(("$", "/")):
        raise InvalidInput(
            "MEC_EXPORT_PREFIX: topic levels without wildcards, not starting with '$' or '/'"
        )
    return prefix if prefix.endswith("/") else prefix + "/"


def _client_id(raw: str, hostname: str) -> str:
    client_id = raw or f"umec-export-{hostname}"
    if _has_control(client_id) or len(client_id.encode()) > MAX_TOPIC_BYTES:
        raise InvalidInput("MEC_EXPORT_CLIENT_ID: not a valid MQTT client id")
    return client_id


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name}: '{raw[:40]}' is not a whole number") from None
    if value < low or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise InvalidInput(f"{name}: must be {bounds}")
    return value
