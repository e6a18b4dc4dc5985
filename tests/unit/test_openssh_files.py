"""OpenSshFiles on real files (no sshd): settings checked when rendering rather than when
built, maintenance access switched off by an empty account list, the lock that keeps a stale
rendering from landing last, and file system errors reported as MaintenanceAccessUnavailable.
The files as sshd reads them are tested in tests/integration/test_sshd_maintenance.py."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest

from mec_platform.auth.model import SshKey
from mec_platform.auth.openssh_files import OpenSshFiles
from mec_platform.errors import MaintenanceAccessUnavailable

Keys = Sequence[tuple[str, SshKey]]


def new_key() -> SshKey:
    return SshKey("ssh-ed25519", uuid.uuid4().bytes * 2, uuid.uuid4().hex[:8])


def key_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]


def nothing() -> Keys:
    return []


@pytest.mark.parametrize(
    ("folder", "accounts"),
    [("My Data/ssh", ["mec-maint"]), ("dönner", ["mec-maint"]), ("a@b", ["x"]), ("ok", [])],
)
def test_building_never_fails(tmp_path: Path, folder: str, accounts: list[str]) -> None:
    # Every command (migrate, app list, ...) builds one; a maintenance setting must not stop it.
    OpenSshFiles(tmp_path / folder, accounts)
    OpenSshFiles(tmp_path, ["Not A User", ""])


@pytest.mark.parametrize("folder", ["My Data", "dönner", "a@b", "per%cent"])
def test_a_path_sshd_cannot_use_is_refused_when_rendering(tmp_path: Path, folder: str) -> None:
    files = OpenSshFiles(tmp_path / folder / "ssh", ["mec-maint"])
    with pytest.raises(MaintenanceAccessUnavailable) as raised:
        files.render(nothing)
    assert "MEC_SSH_DIR" in raised.value.detail
    assert "MEC_MAINTENANCE_ACCOUNTS" in raised.value.detail  # how to switch it off instead
    assert not (tmp_path / folder).exists()


def test_no_account_means_off_nothing_rendered_and_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "mec_platform.auth")
    files = OpenSshFiles(tmp_path / "My Data" / "ssh", [])

    def must_not_read() -> Keys:
        raise AssertionError("keys read while maintenance access is off")

    files.render(must_not_read)
    files.render(must_not_read)
    assert not (tmp_path / "My Data").exists()
    assert caplog.text.count("maintenance access over SSH is off") == 1


def test_switching_off_leaves_no_key_that_opens_a_shell(tmp_path: Path) -> None:
    key = new_key()
    OpenSshFiles(tmp_path / "ssh", ["mec-maint", "ops"]).render(lambda: [("alice", key)])
    off = OpenSshFiles(tmp_path / "ssh", [])
    off.render(nothing)
    assert list(off.keys_directory.iterdir()) == []
    dropin = off.dropin_path.read_text()
    assert "Match" not in dropin and "AuthorizedKeysFile" not in dropin
    assert "PasswordAuthentication no" in dropin


def test_an_account_no_longer_listed_loses_its_file(tmp_path: Path) -> None:
    key = new_key()
    OpenSshFiles(tmp_path, ["mec-maint", "ops"]).render(lambda: [("alice", key)])
    files = OpenSshFiles(tmp_path, ["ops"])
    files.render(lambda: [("alice", key)])
    assert sorted(p.name for p in files.keys_directory.iterdir()) == ["ops"]
    assert key_lines(files.keys_directory / "ops") == [key.openssh]
    assert "Match User ops\n" in files.dropin_path.read_text()


def test_the_keys_are_read_while_the_lock_is_held(tmp_path: Path) -> None:
    files = OpenSshFiles(tmp_path, ["mec-maint"])
    seen: list[bool] = []

    def read() -> Keys:
        # A second open file description competes for the flock, as another process would.
        descriptor = os.open(files.lock_path, os.O_RDWR)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            seen.append(False)
        except BlockingIOError:
            seen.append(True)
        finally:
            os.close(descriptor)
        return []

    files.render(read)
    assert seen == [True]
    assert not [p for p in files.keys_directory.iterdir() if p.name.startswith(".")]


def test_a_rendering_waits_for_the_one_in_progress(tmp_path: Path) -> None:
    """The older state is read first but cannot be written after the newer one."""
    old, new = new_key(), new_key()
    first, second = OpenSshFiles(tmp_path, ["mec-maint"]), OpenSshFiles(tmp_path, ["mec-maint"])
    reading, release = threading.Event(), threading.Event()
    order: list[str] = []

    def read_old() -> Keys:
        reading.set()
        assert release.wait(10)
        order.append("old read")
        return [("alice", old)]

    def read_new() -> Keys:
        order.append("new read")
        return [("alice", new)]

    slow = threading.Thread(target=first.render, args=(read_old,))
    slow.start()
    assert reading.wait(10)
    fast = threading.Thread(target=second.render, args=(read_new,))
    fast.start()
    fast.join(0.3)
    assert fast.is_alive() and order == []  # waiting for the lock, has not read yet
    release.set()
    slow.join(10)
    fast.join(10)
    assert order == ["old read", "new read"]
    assert key_lines(tmp_path / "authorized_keys" / "mec-maint") == [new.openssh]


def test_a_lock_held_too_long_is_reported(tmp_path: Path) -> None:
    files = OpenSshFiles(tmp_path, ["mec-maint"], lock_timeout=0.1)
    files.render(nothing)
    descriptor = os.open(files.lock_path, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        with pytest.raises(MaintenanceAccessUnavailable, match="another process"):
            files.render(nothing)
    finally:
        os.close(descriptor)


def test_a_file_system_error_is_reported_with_the_path(tmp_path: Path) -> None:
    (tmp_path / "authorized_keys").write_text("in the way")
    files = OpenSshFiles(tmp_path, ["mec-maint"])
    with pytest.raises(MaintenanceAccessUnavailable) as raised:
        files.render(nothing)
    assert str(tmp_path / "authorized_keys") in raised.value.detail


def test_the_dropin_names_the_accounts_and_their_files(tmp_path: Path) -> None:
    files = OpenSshFiles(tmp_path, ["mec-maint", "ops", "mec-maint"])
    assert files.accounts == ("mec-maint", "ops")
    dropin = files.dropin()
    assert "Match User mec-maint,ops\n" in dropin
    assert f"    AuthorizedKeysFile {tmp_path}/authorized_keys/%u\n" in dropin
    assert "Match" not in OpenSshFiles(tmp_path, []).dropin()
