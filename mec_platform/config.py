"""Frozen platform settings, resolved once from the environment (MEC_ prefix) and passed down."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mec_platform.sensors.config import SensorSettings

_PACKAGE_DIR = Path(__file__).resolve().parent


def default_data_dir(env: Mapping[str, str]) -> Path:
    """Where the embedded SQLite database lives unless told otherwise (XDG data home)."""
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "/tmp")) / ".local" / "share")
    return Path(base) / "mec-platform"


def default_specs_dir(env: Mapping[str, str]) -> Path:
    """The repository's specs/ next to the package, else the system-wide copy."""
    if "MEC_SPECS_DIR" in env:
        return Path(env["MEC_SPECS_DIR"])
    in_repo = _PACKAGE_DIR.parent / "specs"
    return in_repo if in_repo.is_dir() else Path("/usr/share/mec-platform/specs")


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _rate(value: str) -> tuple[int, float]:
    """`N/S`: at most N per S seconds."""
    count, _, window = value.partition("/")
    return int(count), float(window or "60")


def _list(value: str) -> tuple[str, ...]:
    """A comma-separated setting, blanks dropped."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _flag(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one platform install."""

    database_url: str
    specs_dir: Path
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    api_root_override: str | None = None
    http_workers: int = 2
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    delivery_timeout: float = 5.0
    delivery_lease: float = 30.0
    delivery_concurrency: int = 32
    delivery_batch: int = 200
    retry_base_delay: float = 1.0
    retry_max_delay: float = 300.0
    worker_poll_interval: float = 0.05
    liveness_default_interval: int = 30
    liveness_min_interval: int = 5
    require_ready: bool = False
    graceful_timeout: int = 10
    dataplane: bool = True
    dns_enabled: bool = True
    dns_listen: str = "127.0.0.1"
    # Not 53 (needs root, and a local resolver may hold it) nor 5353 (mDNS, often Avahi's).
    dns_port: int = 8053
    dns_upstreams: tuple[str, ...] = ()
    dns_ttl: int = 30
    dns_dir_override: Path | None = None
    traffic_rules_enabled: bool = True
    nft_table: str = "mec_platform"
    nft_netns: str | None = None
    chrony_socket: str | None = None
    auth_enabled: bool = True
    token_ttl: int = 900
    token_issuer: str = "mec-platform"
    token_audience: str = "mec-platform"
    # Origins besides the API root's that people may sign in through (other names of the box).
    login_origins: tuple[str, ...] = ()
    token_rate: tuple[int, float] = (30, 60.0)
    auth_failure_rate: tuple[int, float] = (10, 60.0)
    keys_dir_override: Path | None = None
    audit_log_override: Path | None = None
    ssh_dir_override: Path | None = None
    maintenance_accounts: tuple[str, ...] = ("mec-maint",)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    log_level: str = "INFO"
    log_json: bool = True
    metrics_dir: Path | None = None
    # App lifecycle (MEC 010-2) on Podman.
    lifecycle_enabled: bool = True
    podman_url: str | None = None
    containers_conf: Path | None = None
    app_network: str = "mec-platform"
    app_subnet: str | None = None
    app_api_root_override: str | None = None
    package_trusted_keys_override: Path | None = None
    max_package_bytes: int = 512 * 2**20
    lifecycle_concurrency: int = 8
    reconcile_interval: float = 5.0
    restart_limit: int = 3
    sensors: SensorSettings = field(default_factory=SensorSettings)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def api_root(self) -> str:
        """The absolute URL root that links and Location headers are built on."""
        if self.api_root_override:
            return self.api_root_override.rstrip("/")
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::", ""} else self.host
        if ":" in host:
            host = f"[{host}]"
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}"

    @property
    def dns_dir(self) -> Path:
        """Where the DNS server's files live.

        dnsmasq reads them after dropping root to `nobody`, so every folder on the way must be
        world-searchable: as root that is /run, not a home directory.
        """
        if self.dns_dir_override is not None:
            return self.dns_dir_override
        if os.geteuid() == 0:
            digest = hashlib.sha256(self.database_url.encode()).hexdigest()[:12]
            return Path("/run/mec-platform") / f"dns-{digest}"
        return self.data_dir / "dns"

    @property
    def keys_dir(self) -> Path:
        """Where the token signing keys live (private: 0700 folder, 0600 files)."""
        return self.keys_dir_override or self.data_dir / "keys"

    @property
    def audit_log(self) -> Path:
        """The audit log (JSON lines)."""
        return self.audit_log_override or self.data_dir / "audit.log"

    @property
    def ssh_dir(self) -> Path:
        """Where maintenance access is rendered: authorized_keys/<account> and an sshd drop-in."""
        return self.ssh_dir_override or self.data_dir / "ssh"

    @property
    def packages_dir(self) -> Path:
        """Where onboarded application packages are kept."""
        return self.data_dir / "packages"

    @property
    def package_trusted_keys(self) -> Path:
        """The operator's trusted package signing keys (OpenSSH public key lines)."""
        return self.package_trusted_keys_override or self.data_dir / "trusted-package-keys"

    @property
    def podman_socket(self) -> Path:
        """The socket of the Podman service `serve` starts when MEC_PODMAN_URL is not set."""
        return self.data_dir / "podman" / "podman.sock"

    @property
    def podman_api_url(self) -> str:
        """Where the Podman REST API answers."""
        return self.podman_url or f"unix://{self.podman_socket}"

    @property
    def tls(self) -> bool:
        """True when the server speaks HTTPS."""
        return self.tls_cert is not None and self.tls_key is not None

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the given fields replaced (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from MEC_* environment variables with embedded defaults."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("MEC_DATA_DIR") or default_data_dir(env))
        default_db = f"sqlite:///{data_dir / 'mec.db'}"
        metrics_dir = env.get("MEC_METRICS_DIR") or env.get("PROMETHEUS_MULTIPROC_DIR")
        return cls(
            database_url=env.get("MEC_DATABASE_URL", default_db),
            specs_dir=default_specs_dir(env),
            data_dir=data_dir,
            host=env.get("MEC_HOST", "127.0.0.1"),
            port=int(env.get("MEC_PORT", "8080")),
            api_root_override=env.get("MEC_API_ROOT") or None,
            http_workers=int(env.get("MEC_HTTP_WORKERS", "2")),
            mqtt_host=env.get("MEC_MQTT_HOST", "127.0.0.1"),
            mqtt_port=int(env.get("MEC_MQTT_PORT", "1883")),
            delivery_timeout=float(env.get("MEC_DELIVERY_TIMEOUT", "5")),
            delivery_lease=float(env.get("MEC_DELIVERY_LEASE", "30")),
            delivery_concurrency=int(env.get("MEC_DELIVERY_CONCURRENCY", "32")),
            retry_base_delay=float(env.get("MEC_RETRY_BASE_DELAY", "1")),
            retry_max_delay=float(env.get("MEC_RETRY_MAX_DELAY", "300")),
            worker_poll_interval=float(env.get("MEC_WORKER_POLL_INTERVAL", "0.05")),
            liveness_default_interval=int(env.get("MEC_LIVENESS_DEFAULT_INTERVAL", "30")),
            liveness_min_interval=int(env.get("MEC_LIVENESS_MIN_INTERVAL", "5")),
            require_ready=_bool(env.get("MEC_REQUIRE_READY", "false")),
            graceful_timeout=int(env.get("MEC_GRACEFUL_TIMEOUT", "10")),
            dataplane=_bool(env.get("MEC_DATAPLANE", "true")),
            dns_enabled=_bool(env.get("MEC_DNS", "true")),
            dns_listen=env.get("MEC_DNS_LISTEN", "127.0.0.1"),
            dns_port=int(env.get("MEC_DNS_PORT", "8053")),
            dns_upstreams=_list(env.get("MEC_DNS_UPSTREAMS", "")),
            dns_ttl=int(env.get("MEC_DNS_TTL", "30")),
            dns_dir_override=Path(env["MEC_DNS_DIR"]) if env.get("MEC_DNS_DIR") else None,
            # nftables needs root; without it traffic rules cannot take effect, so say so.
            traffic_rules_enabled=_bool(
                env.get("MEC_TRAFFIC_RULES", "true" if os.geteuid() == 0 else "false")
            ),
            nft_table=env.get("MEC_NFT_TABLE", "mec_platform"),
            nft_netns=env.get("MEC_NFT_NETNS") or None,
            chrony_socket=env.get("MEC_CHRONY_SOCKET") or None,
            auth_enabled=_bool(env.get("MEC_AUTH", "true")),
            token_ttl=int(env.get("MEC_TOKEN_TTL", "900")),
            token_issuer=env.get("MEC_TOKEN_ISSUER", "mec-platform"),
            token_audience=env.get("MEC_TOKEN_AUDIENCE", "mec-platform"),
            login_origins=_list(env.get("MEC_LOGIN_ORIGINS", "")),
            token_rate=_rate(env.get("MEC_TOKEN_RATE", "30/60")),
            auth_failure_rate=_rate(env.get("MEC_AUTH_FAILURE_RATE", "10/60")),
            keys_dir_override=_path(env.get("MEC_KEYS_DIR")),
            audit_log_override=_path(env.get("MEC_AUDIT_LOG")),
            ssh_dir_override=_path(env.get("MEC_SSH_DIR")),
            maintenance_accounts=_list(env.get("MEC_MAINTENANCE_ACCOUNTS", "mec-maint")),
            tls_cert=_path(env.get("MEC_TLS_CERT")),
            tls_key=_path(env.get("MEC_TLS_KEY")),
            log_level=env.get("MEC_LOG_LEVEL", "INFO").upper(),
            log_json=_bool(env.get("MEC_LOG_JSON", "true")),
            metrics_dir=Path(metrics_dir) if metrics_dir else None,
            lifecycle_enabled=_bool(env.get("MEC_LIFECYCLE", "true")),
            podman_url=env.get("MEC_PODMAN_URL") or None,
            containers_conf=_path(env.get("MEC_CONTAINERS_CONF")),
            app_network=env.get("MEC_APP_NETWORK", "mec-platform"),
            app_subnet=env.get("MEC_APP_SUBNET") or None,
            app_api_root_override=env.get("MEC_APP_API_ROOT") or None,
            package_trusted_keys_override=_path(env.get("MEC_PACKAGE_TRUSTED_KEYS")),
            max_package_bytes=int(env.get("MEC_MAX_PACKAGE_BYTES", str(512 * 2**20))),
            lifecycle_concurrency=int(env.get("MEC_LIFECYCLE_CONCURRENCY", "8")),
            reconcile_interval=float(env.get("MEC_RECONCILE_INTERVAL", "5")),
            restart_limit=int(env.get("MEC_RESTART_LIMIT", "3")),
            sensors=SensorSettings.from_env(env),
        )

    def to_env(self) -> dict[str, str]:
        """The MEC_* variables that rebuild these settings in a child process."""
        env = {
            "MEC_DATABASE_URL": self.database_url,
            "MEC_SPECS_DIR": str(self.specs_dir),
            "MEC_DATA_DIR": str(self.data_dir),
            "MEC_HOST": self.host,
            "MEC_PORT": str(self.port),
            "MEC_HTTP_WORKERS": str(self.http_workers),
            "MEC_MQTT_HOST": self.mqtt_host,
            "MEC_MQTT_PORT": str(self.mqtt_port),
            "MEC_LOG_LEVEL": self.log_level,
            "MEC_LOG_JSON": "true" if self.log_json else "false",
            "MEC_LIVENESS_DEFAULT_INTERVAL": str(self.liveness_default_interval),
            "MEC_LIVENESS_MIN_INTERVAL": str(self.liveness_min_interval),
            "MEC_REQUIRE_READY": _flag(self.require_ready),
            "MEC_GRACEFUL_TIMEOUT": str(self.graceful_timeout),
            "MEC_DATAPLANE": _flag(self.dataplane),
            "MEC_DNS": _flag(self.dns_enabled),
            "MEC_DNS_LISTEN": self.dns_listen,
            "MEC_DNS_PORT": str(self.dns_port),
            "MEC_DNS_UPSTREAMS": ",".join(self.dns_upstreams),
            "MEC_DNS_TTL": str(self.dns_ttl),
            "MEC_TRAFFIC_RULES": _flag(self.traffic_rules_enabled),
            "MEC_NFT_TABLE": self.nft_table,
            "MEC_AUTH": _flag(self.auth_enabled),
            "MEC_TOKEN_TTL": str(self.token_ttl),
            "MEC_TOKEN_ISSUER": self.token_issuer,
            "MEC_TOKEN_AUDIENCE": self.token_audience,
            "MEC_LOGIN_ORIGINS": ",".join(self.login_origins),
            "MEC_TOKEN_RATE": f"{self.token_rate[0]}/{self.token_rate[1]:g}",
            "MEC_AUTH_FAILURE_RATE": f"{self.auth_failure_rate[0]}/{self.auth_failure_rate[1]:g}",
            "MEC_MAINTENANCE_ACCOUNTS": ",".join(self.maintenance_accounts),
            "MEC_LIFECYCLE": _flag(self.lifecycle_enabled),
            "MEC_APP_NETWORK": self.app_network,
            "MEC_MAX_PACKAGE_BYTES": str(self.max_package_bytes),
            "MEC_LIFECYCLE_CONCURRENCY": str(self.lifecycle_concurrency),
            "MEC_RECONCILE_INTERVAL": f"{self.reconcile_interval:g}",
            "MEC_RESTART_LIMIT": str(self.restart_limit),
            **self.sensors.to_env(),
        }
        for name, path in (
            ("MEC_KEYS_DIR", self.keys_dir_override),
            ("MEC_AUDIT_LOG", self.audit_log_override),
            ("MEC_SSH_DIR", self.ssh_dir_override),
            ("MEC_TLS_CERT", self.tls_cert),
            ("MEC_TLS_KEY", self.tls_key),
            ("MEC_CONTAINERS_CONF", self.containers_conf),
            ("MEC_PACKAGE_TRUSTED_KEYS", self.package_trusted_keys_override),
        ):
            if path is not None:
                env[name] = str(path)
        if self.nft_netns:
            env["MEC_NFT_NETNS"] = self.nft_netns
        if self.dns_dir_override is not None:
            env["MEC_DNS_DIR"] = str(self.dns_dir_override)
        if self.chrony_socket:
            env["MEC_CHRONY_SOCKET"] = self.chrony_socket
        if self.api_root_override:
            env["MEC_API_ROOT"] = self.api_root_override
        if self.metrics_dir is not None:
            env["MEC_METRICS_DIR"] = str(self.metrics_dir)
        for name, value in (
            ("MEC_PODMAN_URL", self.podman_url),
            ("MEC_APP_SUBNET", self.app_subnet),
            ("MEC_APP_API_ROOT", self.app_api_root_override),
        ):
            if value:
                env[name] = value
        return env
