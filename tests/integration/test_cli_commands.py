"""`mec-platform` commands run in-process against real SQLite and PostgreSQL: the audit log
records each change by command and target, never the database URL (with its password), and
the server start brings the maintenance access files in line with the database."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.engine import make_url

from mec_platform import cli
from mec_platform.auth.audit_file import read_audit
from mec_platform.bootstrap import bootstrap
from mec_platform.config import Settings

MARKER = "S3cret-pw"


@pytest.fixture
def url(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The database URL carrying a password (PostgreSQL's test server trusts loopback, so
    any password passes) or, for SQLite, a path with the marker in it."""
    monkeypatch.setenv("MEC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MEC_SSH_DIR", str(tmp_path / "ssh"))
    for name in ("MEC_AUDIT_LOG", "MEC_DATABASE_URL", "MEC_MAINTENANCE_ACCOUNTS"):
        monkeypatch.delenv(name, raising=False)
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / MARKER / 'mec.db'}"
    return make_url(database_url).set(password=MARKER).render_as_string(hide_password=False)


def test_the_audit_log_names_commands_and_targets_never_the_database_url(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--database-url", url]
    assert cli.main(["user", "add", *db, "--role", "app-provider", "bob"]) == 0
    assert cli.main(["app", "add", *db, "--owner", "bob", "--id", "cam-1", "cam"]) == 0
    assert cli.main(["user", "remove", *db, "bob"]) == 1  # owns cam-1
    assert "owns 1 application instance" in capsys.readouterr().err
    assert cli.main(["app", "remove", *db, "cam-1"]) == 0
    assert cli.main(["app", "remove", "no-such-id", *db]) == 1
    log = tmp_path / "data" / "audit.log"
    assert MARKER not in log.read_text()
    records = read_audit(log, 10)
    assert [(r["action"], r["outcome"]) for r in records] == [
        ("mec-platform user add bob", "done"),
        ("mec-platform app add cam", "done"),
        ("mec-platform user remove bob", "failed"),
        ("mec-platform app remove cam-1", "done"),
        ("mec-platform app remove no-such-id", "failed"),
    ]
    assert records[0]["role"] == "app-provider"
    assert records[1]["owner"] == "bob"


def test_the_server_start_renders_maintenance_access_from_the_database(
    url: str, tmp_path: Path
) -> None:
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    key = public.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    assert cli.main(["user", "add", "--database-url", url, "--role", "platform-admin", "ann"]) == 0
    assert cli.main(["user", "key", "add", "--database-url", url, "ann", key]) == 0
    stale = tmp_path / "ssh" / "authorized_keys" / "mec-maint"
    stale.write_text("ssh-ed25519 AAAA-revoked-long-ago\n")
    platform = bootstrap(Settings.from_env().with_overrides(database_url=url))
    try:
        cli._render_maintenance_access(platform)
    finally:
        platform.close()
    assert "revoked" not in stale.read_text()
    assert key in stale.read_text()


def test_a_server_start_that_cannot_render_logs_and_goes_on(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MEC_SSH_DIR", str(tmp_path / "My Data" / "ssh"))
    caplog.set_level(logging.ERROR, "mec_platform.cli")
    platform = bootstrap(Settings.from_env().with_overrides(database_url=url))
    try:
        cli._render_maintenance_access(platform)
    finally:
        platform.close()
    assert "maintenance access over SSH not rendered at start" in caplog.text
    assert "MEC_SSH_DIR" in caplog.text


def test_an_unreachable_database_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MEC_DATA_DIR", str(tmp_path / "data"))
    # Port 1 on loopback: nothing listens there.
    down = f"postgresql://mec:{MARKER}@127.0.0.1:1/mec"
    assert cli.main(["app", "remove", "--database-url", down, "cam-1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mec-platform: the platform database is not available (")
    assert "Traceback" not in err and MARKER not in err
    records = read_audit(tmp_path / "data" / "audit.log", 10)
    assert [(r["action"], r["outcome"]) for r in records] == [
        ("mec-platform app remove cam-1", "failed")
    ]
