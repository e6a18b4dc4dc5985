"""Pieces of the export tests and benchmark: the box's broker with the export's account and a
publisher account, the exporter as a real `mec-platform export` process, numbered messages,
and a TLS upstream broker with a throwaway CA."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion

from mec_platform.export.model import ExportStatus
from mec_platform.export.status import STATUS_FILE, export_dir, read_export_status
from mec_platform.mqtt.accounts import (
    AclRule,
    MqttAccount,
    hash_password,
    new_password,
    system_account,
)
from mec_platform.mqtt.mosquitto import find_mosquitto
from mec_platform.mqtt.system_credentials import system_credentials
from tests.support.mosquitto import ManagedBroker, wait_listening
from tests.support.net import free_port, wait_until
from tests.support.processes import REPO, spawn, stop_group

PUBLISHER = "export-test-publisher"
EXPORT_USER = "umec-export"


class BoxBroker(ManagedBroker):
    """The platform's broker with `umec-export` (reading `topics`, its password taken from
    the data dir as the real command does), a publisher that may write anywhere, and any
    `extra` accounts."""

    def __init__(
        self,
        data_dir: Path,
        topics: Sequence[str] = ("sensors/#",),
        extra: Sequence[MqttAccount] = (),
    ) -> None:
        self.export_password = system_credentials(data_dir / "mqtt")[EXPORT_USER]
        self.publisher_password = new_password()
        accounts = [
            system_account(EXPORT_USER, hash_password(self.export_password), topics),
            MqttAccount(
                PUBLISHER, hash_password(self.publisher_password), (AclRule("write", "#"),)
            ),
            *extra,
        ]
        super().__init__(data_dir / "box-broker", accounts)

    def __enter__(self) -> BoxBroker:
        self.start()
        return self


class ExporterProcess:
    """`mec-platform export` for a data dir, the box's broker port and MEC_EXPORT_* settings."""

    def __init__(self, data_dir: Path, broker_port: int, **export_env: str) -> None:
        self.data_dir = data_dir
        self.log = data_dir / "exporter.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MEC_")}
        self.env.update(
            MEC_DATA_DIR=str(data_dir),
            MEC_DATABASE_URL=f"sqlite:///{data_dir / 'mec.db'}",
            MEC_MQTT_PORT=str(broker_port),
            MEC_LOG_JSON="true",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            **export_env,
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ExporterProcess:
        command = [sys.executable, "-m", "mec_platform.cli", "export"]
        self.proc = spawn(command, self.env, self.log)
        return self

    def wait_connected(self, timeout: float = 20) -> ExportStatus:
        """Until the exporter reports both sessions up (upstream, subscribed on the box)."""
        self.wait_subscribed(timeout)
        return self.wait_for(lambda status: status.connected, timeout)

    def wait_for(self, check: Callable[[ExportStatus], bool], timeout: float = 20) -> ExportStatus:
        """Until the export's status passes `check` (there is none before the first report)."""
        wait_until(lambda: any(check(status) for status in self.status()), timeout)
        return self.status()[0]

    def wait_subscribed(self, timeout: float = 20) -> None:
        """Until the exporter reports its subscriptions on the box's broker."""

        def subscribed() -> bool:
            try:
                report = json.loads((export_dir(self.data_dir) / STATUS_FILE).read_text())
            except (OSError, ValueError):
                return False
            return report.get("local_connected") is True

        wait_until(subscribed, timeout)

    def status(self) -> list[ExportStatus]:
        """What the web API would report."""
        return read_export_status(self.data_dir)

    def kill(self) -> None:
        """SIGKILL: the crash case, nothing is flushed or recorded."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> int | None:
        """SIGTERM and wait; the exit code (None when it was not running)."""
        if self.proc is None:
            return None
        stop_group(self.proc)
        return self.proc.returncode

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def publish_numbered(client: mqtt.Client, topic: str, numbers: Iterable[int]) -> None:
    """Publish each number as its payload (QoS 1) and wait until the broker has them all."""
    infos = [client.publish(topic, str(n).encode(), qos=1) for n in numbers]
    # Not wait_for_publish: it gives up on a message queued while the client reconnects,
    # which paho still sends once it is back.
    deadline = time.monotonic() + 60
    for info in infos:
        while not info.is_published():
            assert time.monotonic() < deadline, "the box's broker did not take a message"
            time.sleep(0.005)


def numbers(messages: Iterable[tuple[str, bytes]], topic: str | None = None) -> list[int]:
    """The numbered payloads, in arrival order (of one topic when given)."""
    return [int(payload) for t, payload in messages if topic is None or t == topic]


def first_arrivals(values: Iterable[int]) -> list[int]:
    """Each value at its first arrival: QoS 1 may repeat a message, never reorder firsts."""
    seen: set[int] = set()
    firsts = []
    for value in values:
        if value not in seen:
            seen.add(value)
            firsts.append(value)
    return firsts


class TlsUpstream:
    """A Mosquitto that only speaks TLS (its own test CA, a certificate for localhost and
    127.0.0.1) and only to `username` with `password`: an upstream broker in the cloud."""

    def __init__(self, directory: Path, username: str, password: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.port = free_port()
        self.ca_file, cert, key = _test_certificates(directory)
        passwords = directory / "passwords"
        passwords.write_text(f"{username}:{hash_password(password)}\n")
        passwords.chmod(0o600)
        config = directory / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\ncafile {self.ca_file}\ncertfile {cert}\n"
            f"keyfile {key}\nallow_anonymous false\npassword_file {passwords}\n"
            + ("user root\n" if os.geteuid() == 0 else "")
        )
        self._command = [find_mosquitto() or "mosquitto", "-c", str(config)]
        self.log = directory / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> TlsUpstream:
        with open(self.log, "ab") as log:
            self._process = subprocess.Popen(self._command, stdout=log, stderr=log)
        wait_listening(self.port)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)

    def client(
        self, username: str, password: str, on_message: mqtt.CallbackOnMessage
    ) -> mqtt.Client:
        """A connected client (TLS, verified against the test CA) with its loop running."""
        client = mqtt.Client(CallbackAPIVersion.VERSION2)
        client.tls_set_context(ssl.create_default_context(cafile=str(self.ca_file)))
        client.username_pw_set(username, password)
        client.on_message = on_message
        client.connect("localhost", self.port)
        client.loop_start()
        wait_until(client.is_connected, 10)
        return client


def _test_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate it signed (localhost, 127.0.0.1)."""
    now = datetime.datetime.now(datetime.UTC)

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    def builder(subject: str, issuer: str, public: ec.EllipticCurvePublicKey) -> Any:
        return (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        builder("export test CA", "export test CA", ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        builder("localhost", "export test CA", key.public_key())
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths[2].chmod(0o600)
    return paths
