"""The `mec-platform` command line without a database: what the audit log records of a
command (its words and target, never an option's value), and `serve` refusing TLS files
gunicorn could not load with a one-line error instead of a traceback."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from mec_platform import cli
from mec_platform.auth.audit_file import read_audit
from mec_platform.cli_users import read_key
from mec_platform.errors import InvalidInput

PASSWORD = "S3cret-pw"
DB_URL = f"postgresql://mec:{PASSWORD}@db.example/mec"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEC_DATA_DIR", str(tmp_path / "data"))
    for name in ("MEC_AUDIT_LOG", "MEC_TLS_CERT", "MEC_TLS_KEY", "MEC_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def action_of(*argv: str) -> str | None:
    return cli._audited_action(cli._parser().parse_args(list(argv)))


@pytest.mark.parametrize(
    ("argv", "action"),
    [
        (["app", "remove", "--database-url", DB_URL, "ID1"], "app remove ID1"),
        (["app", "remove", "ID1", "--database-url", DB_URL], "app remove ID1"),
        (["app", "add", "--owner", "bob", "cam"], "app add cam"),
        (["app", "add", "cam", "--id", "ID2", "--dns-rule", '{"x": 1}'], "app add cam"),
        (["app", "terminate", "--graceful-timeout", "5", "ID3"], "app terminate ID3"),
        (["app", "credentials", "--database-url", DB_URL, "ID4"], "app credentials ID4"),
        (["user", "add", "--role", "viewer", "--key", "/k.pub", "carol"], "user add carol"),
        (["user", "remove", "carol"], "user remove carol"),
        (["user", "set-role", "carol", "viewer"], "user set-role carol"),
        (["user", "key", "add", "carol", "ssh-ed25519 AAAA c"], "user key add carol"),
        (
            ["user", "key", "remove", "--database-url", DB_URL, "carol", "ab12"],
            "user key remove carol",
        ),
        (["keys", "rotate", "--database-url", DB_URL], "keys rotate"),
        (["keys", "prune"], "keys prune"),
    ],
)
def test_the_action_names_the_command_and_its_target_only(argv: list[str], action: str) -> None:
    assert action_of(*argv) == f"mec-platform {action}"


@pytest.mark.parametrize(
    "argv",
    [["user", "list"], ["app", "list"], ["audit", "--limit", "3"], ["migrate"], ["token", "x"]],
)
def test_commands_that_change_nothing_are_not_audited(argv: list[str]) -> None:
    assert action_of(*argv) is None


def test_a_database_password_never_reaches_the_audit_log(tmp_path: Path) -> None:
    args = cli._parser().parse_args(
        ["app", "add", "--database-url", DB_URL, "--owner", "bob", "--id", "ID9", "cam"]
    )
    action = cli._audited_action(args)
    assert action is not None
    cli._audit(args, action, "failed", reason="no such owner")
    args = cli._parser().parse_args(
        ["user", "set-role", "--database-url", DB_URL, "carol", "app-provider"]
    )
    action = cli._audited_action(args)
    assert action is not None
    cli._audit(args, action, "done")
    log = tmp_path / "data" / "audit.log"
    assert PASSWORD not in log.read_text()
    first, second = read_audit(log, 10)
    assert (first["action"], first["outcome"], first["owner"]) == (
        "mec-platform app add cam",
        "failed",
        "bob",
    )
    assert (second["action"], second["role"]) == (
        "mec-platform user set-role carol",
        "app-provider",
    )
    assert not {"database_url", "id"} & (set(first) | set(second))


# -- serve with TLS ---------------------------------------------------------------------------
def write_pair(folder: Path) -> tuple[Path, Path]:
    """A self-signed ed25519 certificate and its unencrypted key, as PEM files."""
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, None)
    )
    cert, key_file = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key_file


def serve_refused(capsys: pytest.CaptureFixture[str], cert: Path, key: Path) -> str:
    """`serve` with these files exits 1 before starting anything; its one-line error."""
    status = cli.main(["serve", "--tls-cert", str(cert), "--tls-key", str(key)])
    err = capsys.readouterr().err
    assert status == 1
    assert "Traceback" not in err and err.count("\n") == 1
    assert err.startswith("mec-platform: ")
    return err


def test_serve_refuses_missing_tls_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert, key = write_pair(tmp_path)
    err = serve_refused(capsys, tmp_path / "nope.pem", key)
    assert "--tls-cert" in err and "nope.pem" in err and "No such file" in err
    err = serve_refused(capsys, cert, tmp_path / "gone.pem")
    assert "--tls-key" in err and "gone.pem" in err
    assert not (tmp_path / "data" / "metrics").exists()  # refused before anything started


def test_serve_refuses_a_folder_for_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert, _key = write_pair(tmp_path)
    assert "is not a regular file" in serve_refused(capsys, cert, tmp_path)


def test_serve_refuses_files_that_are_no_certificate_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert, key = write_pair(tmp_path)
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    assert "not a PEM certificate" in serve_refused(capsys, junk, key)
    assert "not a PEM certificate" in serve_refused(capsys, cert, cert)


def test_a_usable_pair_passes_the_check(tmp_path: Path) -> None:
    cli._check_tls_files(*write_pair(tmp_path))


def test_a_missing_public_key_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / ".ssh" / "id_ed25519.pub"
    with pytest.raises(InvalidInput, match="no public key file at"):
        read_key(str(missing))
    with pytest.raises(InvalidInput, match="is not a public key file"):
        binary = tmp_path / "binary.pub"
        binary.write_bytes(b"\xff\xfe\x00garbage")
        read_key(str(binary))
