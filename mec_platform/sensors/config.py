"""Settings of the box's MQTT broker, the sensor bridge and the export, from MEC_* variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mec_platform.errors import InvalidInput

BROKER_MODES = ("managed", "external", "off")
DEFAULT_TOPIC = "sensors/{sensorId}/{quantity}"


def _int(env: Mapping[str, str], name: str, default: int, low: int = 1) -> int:
    raw = env.get(name, "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name}: '{raw[:40]}' is not a whole number") from None
    if value < low:
        raise InvalidInput(f"{name}: must be at least {low}")
    return value


def _flag(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True)
class SensorSettings:
    """The MQTT side of the platform."""

    broker: str = "managed"
    listen: tuple[str, ...] = ("127.0.0.1",)
    pid_file: Path | None = None
    bridge: bool = True
    topic_pattern: str = DEFAULT_TOPIC
    silence_interval: int = 60
    history: int = 10_000
    max_payload: int = 16_384
    max_queued: int = 100_000
    export_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SensorSettings:
        """Read MEC_MQTT_* / MEC_SENSOR_* / MEC_EXPORT_* (embedded defaults otherwise)."""
        broker = env.get("MEC_MQTT_BROKER", "managed").strip().lower() or "managed"
        if broker not in BROKER_MODES:
            raise InvalidInput(
                f"MEC_MQTT_BROKER: '{broker[:40]}' is not one of managed, external, off"
            )
        listen = tuple(
            h.strip() for h in env.get("MEC_MQTT_LISTEN", "127.0.0.1").split(",") if h.strip()
        )
        pid_file = env.get("MEC_MQTT_PIDFILE") or None
        return cls(
            broker=broker,
            listen=listen or ("127.0.0.1",),
            pid_file=Path(pid_file) if pid_file else None,
            bridge=env.get("MEC_SENSOR_BRIDGE", "true").strip().lower()
            in {"1", "true", "yes", "on"},
            topic_pattern=env.get("MEC_SENSOR_TOPIC", DEFAULT_TOPIC) or DEFAULT_TOPIC,
            silence_interval=_int(env, "MEC_SENSOR_SILENCE", 60),
            history=_int(env, "MEC_SENSOR_HISTORY", 10_000),
            max_payload=_int(env, "MEC_SENSOR_MAX_PAYLOAD", 16_384, low=16),
            max_queued=_int(env, "MEC_MQTT_MAX_QUEUED", 100_000),
            export_env={k: v for k, v in env.items() if k.startswith("MEC_EXPORT_")},
        )

    def to_env(self) -> dict[str, str]:
        """The variables that rebuild these settings in a child process."""
        env = {
            "MEC_MQTT_BROKER": self.broker,
            "MEC_MQTT_LISTEN": ",".join(self.listen),
            "MEC_SENSOR_BRIDGE": _flag(self.bridge),
            "MEC_SENSOR_TOPIC": self.topic_pattern,
            "MEC_SENSOR_SILENCE": str(self.silence_interval),
            "MEC_SENSOR_HISTORY": str(self.history),
            "MEC_SENSOR_MAX_PAYLOAD": str(self.max_payload),
            "MEC_MQTT_MAX_QUEUED": str(self.max_queued),
            **self.export_env,
        }
        if self.pid_file is not None:
            env["MEC_MQTT_PIDFILE"] = str(self.pid_file)
        return env

    def broker_host(self, advertised: str) -> str:
        """Where the platform's own processes reach the broker: its first listener when the
        platform runs it, else the advertised host."""
        return self.listen[0] if self.broker == "managed" else advertised

    def mqtt_dir(self, data_dir: Path) -> Path:
        """Where the broker's configuration, state and the system credentials live."""
        return data_dir / "mqtt"
