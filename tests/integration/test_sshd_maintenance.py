"""Maintenance SSH access rendered by OpenSshFiles, checked against a real sshd on 127.0.0.1:
a rendered key logs in, a key removed from the rendering is refused at once (no sshd
reload), and passwords are not even offered."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from mec_platform.auth.openssh_files import OpenSshFiles
from mec_platform.auth.ssh_keys import parse_public_key
from mec_platform.errors import MaintenanceAccessUnavailable
from tests.support.sshd import ACCOUNT, SSHD, keygen, require_sshd, running_sshd, ssh


@dataclass
class Server:
    """A running sshd including the platform's drop-in, and an admin's key pair."""

    port: int
    config: Path
    files: OpenSshFiles
    admin_key: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A private sshd including the drop-in of a fresh rendering (no keys yet)."""
    require_sshd()
    folder = tmp_path_factory.mktemp("sshd")
    files = OpenSshFiles(folder / "mec-ssh", [ACCOUNT])
    files.render(lambda: [])
    with running_sshd(folder, files.dropin_path) as sshd:
        yield Server(sshd.port, sshd.config, files, keygen(folder / "admin"))


def login(server: Server, *options: str, key: Path | None = None) -> CompletedProcess[str]:
    return ssh(server.port, *options, key=key)


def test_a_rendered_key_logs_in_and_removing_it_revokes_access(server: Server) -> None:
    key = parse_public_key(server.admin_key.with_suffix(".pub").read_text())
    server.files.render(lambda: [("alice", key)])
    allowed = login(server, key=server.admin_key)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout == "ok\n"

    server.files.render(lambda: [])
    refused = login(server, key=server.admin_key)
    assert refused.returncode == 255
    assert "Permission denied (publickey)" in refused.stderr
    assert refused.stdout == ""


def test_another_users_key_does_not_let_the_admin_in(server: Server, tmp_path: Path) -> None:
    other = parse_public_key(keygen(tmp_path / "bob").with_suffix(".pub").read_text())
    server.files.render(lambda: [("bob", other)])
    assert login(server, key=tmp_path / "bob").stdout == "ok\n"
    refused = login(server, key=server.admin_key)
    assert refused.returncode == 255
    assert "Permission denied" in refused.stderr


def test_passwords_are_not_offered(server: Server) -> None:
    for method in ("password", "keyboard-interactive"):
        attempt = login(
            server, "-o", f"PreferredAuthentications={method}", "-o", "PubkeyAuthentication=no"
        )
        assert attempt.returncode == 255
        # The methods sshd still offers: public keys only.
        assert "Permission denied (publickey)." in attempt.stderr


def effective(server: Server, *connection: str) -> dict[str, str]:
    """sshd -T: the configuration in effect (for a connection, with -C)."""
    command = [str(SSHD), "-T", "-f", str(server.config), *connection]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return dict(line.split(" ", 1) for line in output.splitlines() if " " in line)


def test_the_dropin_is_in_effect(server: Server) -> None:
    settings = effective(server)
    assert settings["passwordauthentication"] == "no"
    assert settings["kbdinteractiveauthentication"] == "no"
    assert settings["permitemptypasswords"] == "no"
    assert settings["pubkeyauthentication"] == "yes"
    root = effective(server, "-C", f"user={ACCOUNT},host=localhost,addr=127.0.0.1")
    assert root["authorizedkeysfile"] == f"{server.files.keys_directory}/%u"
    others = effective(server, "-C", "user=nobody,host=localhost,addr=127.0.0.1")
    assert others["authorizedkeysfile"] != root["authorizedkeysfile"]


def test_rendered_files_name_the_user_and_are_world_readable(server: Server) -> None:
    key = parse_public_key(server.admin_key.with_suffix(".pub").read_text())
    server.files.render(lambda: [("alice", key), ("carol", key)])
    path = server.files.keys_directory / ACCOUNT
    lines = path.read_text().splitlines()
    assert lines[1:] == [
        "# mec-platform user alice",
        key.openssh,
        "# mec-platform user carol",
        key.openssh,
    ]
    assert path.stat().st_mode & 0o777 == 0o644
    assert server.files.keys_directory.stat().st_mode & 0o777 == 0o755
    assert server.files.dropin_path.stat().st_mode & 0o777 == 0o644
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]
    server.files.render(lambda: [])
    assert [ln for ln in path.read_text().splitlines() if not ln.startswith("#")] == []


@pytest.mark.parametrize("account", ["", "Root", "a b", "x" * 40, "../etc", "-rf"])
def test_account_names_are_checked_when_rendering(tmp_path: Path, account: str) -> None:
    # Checked when rendering, not when built: every command builds OpenSshFiles.
    files = OpenSshFiles(tmp_path / "ssh", [account])
    with pytest.raises(MaintenanceAccessUnavailable, match="MEC_MAINTENANCE_ACCOUNTS"):
        files.render(lambda: [])
    spaced = OpenSshFiles(tmp_path / "with space", ["root"])
    with pytest.raises(MaintenanceAccessUnavailable, match="MEC_SSH_DIR"):
        spaced.render(lambda: [])
    assert not (tmp_path / "ssh").exists()
    assert not (tmp_path / "with space").exists()
