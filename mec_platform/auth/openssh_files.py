"""Maintenance SSH access rendered as OpenSSH files: one `authorized_keys` file per maintenance
account, holding exactly the platform users' keys, and an sshd drop-in that turns password
logins off and points those accounts at the platform's files only. sshd reads authorized keys
at every login, so removing a key in the platform revokes SSH access at once; the drop-in is
read when sshd starts or reloads (include it from `/etc/ssh/sshd_config` before any `Match`).

Each file is replaced atomically, so sshd never sees a half-written one. Reading the keys and
writing the files happen under one exclusive lock that every platform process (gunicorn
workers, CLI commands) takes, so a rendering from an older state of the database can never
land after a newer one and bring a revoked key back. With no maintenance account configured
the access is off: nothing is rendered, and files left by an earlier rendering grant nothing.
"""

from __future__ import annotations

import logging
import re
import stat
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from mec_platform.atomic_files import write_atomically
from mec_platform.auth.file_lock import exclusive_lock
from mec_platform.auth.model import SshKey
from mec_platform.errors import MaintenanceAccessUnavailable

log = logging.getLogger("mec_platform.auth")

_ACCOUNT = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
# sshd splits configuration values at whitespace and expands `%` tokens; keep paths plain.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_./+-]+")
DROPIN_NAME = "mec-platform.conf"
LOCK_NAME = ".mec-platform.lock"
LOCK_TIMEOUT = 30.0
_HEADER = "# Written by mec-platform; changes here are overwritten.\n"
_NO_PASSWORDS = (
    "PasswordAuthentication no\n"
    "KbdInteractiveAuthentication no\n"
    "PermitEmptyPasswords no\n"
    "PubkeyAuthentication yes\n"
)
KeyReader = Callable[[], Sequence[tuple[str, SshKey]]]


class OpenSshFiles:
    """Writes the `authorized_keys` files and the sshd drop-in under one directory."""

    def __init__(
        self, directory: Path, accounts: Sequence[str], lock_timeout: float = LOCK_TIMEOUT
    ) -> None:
        # Nothing is checked here: every command builds this object, and a setting that only
        # matters to maintenance access must not stop the others. `render` checks it.
        self.directory = directory.absolute()
        self.accounts = tuple(dict.fromkeys(accounts))
        self.lock_timeout = lock_timeout
        self._said_off = False

    @property
    def keys_directory(self) -> Path:
        """Where the per-account `authorized_keys` files live."""
        return self.directory / "authorized_keys"

    @property
    def dropin_path(self) -> Path:
        """The sshd drop-in to include from the system's sshd configuration."""
        return self.directory / "sshd_config.d" / DROPIN_NAME

    def render(self, read_keys: KeyReader) -> None:
        """Read the (user name, key) pairs and make exactly them the authorised keys, both
        under the lock every platform process shares; MaintenanceAccessUnavailable when the
        settings or the file system do not allow it."""
        if not self.accounts:
            self._switch_off()
            return
        self._check_settings()
        try:
            for folder in (self.directory, self.keys_directory, self.dropin_path.parent):
                _make_folder(folder)
            with self._locked():
                content = _HEADER + "".join(_entry(name, key) for name, key in read_keys())
                for account in self.accounts:
                    write_atomically(self.keys_directory / account, content)
                self._remove_key_files(keep=self.accounts)
                write_atomically(self.dropin_path, self.dropin())
        except OSError as exc:
            raise MaintenanceAccessUnavailable(_why(exc)) from exc

    def dropin(self) -> str:
        """The sshd drop-in: no passwords, keys of the maintenance accounts from our files."""
        if not self.accounts:
            return _HEADER + "# Maintenance access over SSH is off.\n" + _NO_PASSWORDS
        return (
            _HEADER + _NO_PASSWORDS + f"Match User {','.join(self.accounts)}\n"
            # Only the platform's file: a key removed in the platform must not linger elsewhere.
            f"    AuthorizedKeysFile {self.keys_directory}/%u\n"
        )

    def _check_settings(self) -> None:
        if not _PLAIN_PATH.fullmatch(str(self.directory)):
            raise MaintenanceAccessUnavailable(
                f"MEC_SSH_DIR: sshd cannot use {str(self.directory)!r}, it needs a plain path "
                "(letters, digits and _ . / + -); set MEC_SSH_DIR to one, or set "
                "MEC_MAINTENANCE_ACCOUNTS to nothing to switch maintenance access off"
            )
        for account in self.accounts:
            if not _ACCOUNT.fullmatch(account):
                raise MaintenanceAccessUnavailable(
                    f"MEC_MAINTENANCE_ACCOUNTS: {account[:40]!r} is not a valid Unix user name"
                )

    def _switch_off(self) -> None:
        """No account: render nothing, but let files of an earlier rendering grant nothing."""
        if not self._said_off:
            log.info("maintenance access over SSH is off (MEC_MAINTENANCE_ACCOUNTS is empty)")
            self._said_off = True
        try:
            if not (self.dropin_path.exists() or _names_in(self.keys_directory)):
                return
            with self._locked():
                self._remove_key_files(keep=())
                if self.dropin_path.exists():
                    write_atomically(self.dropin_path, self.dropin())
        except OSError as exc:
            raise MaintenanceAccessUnavailable(_why(exc)) from exc

    @property
    def lock_path(self) -> Path:
        """The file every rendering process locks (flock) while it reads and writes."""
        return self.directory / LOCK_NAME

    def _locked(self) -> AbstractContextManager[None]:
        return exclusive_lock(self.lock_path, self.lock_timeout)

    def _remove_key_files(self, keep: Sequence[str]) -> None:
        """Remove the files of accounts no longer listed: sshd may still read them."""
        for name in _names_in(self.keys_directory):
            if name not in keep:
                (self.keys_directory / name).unlink(missing_ok=True)


def _names_in(folder: Path) -> list[str]:
    """Names of the rendered files in `folder` (not the hidden temporary ones)."""
    try:
        return [path.name for path in folder.iterdir() if not path.name.startswith(".")]
    except FileNotFoundError:
        return []


def _make_folder(folder: Path) -> None:
    """The folder, 0755 as sshd's StrictModes wants; chmod only when needed (we may not own it)."""
    folder.mkdir(parents=True, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) != 0o755:
        folder.chmod(0o755)


def _why(exc: OSError) -> str:
    if exc.filename and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc) or type(exc).__name__


def _entry(user_name: str, key: SshKey) -> str:
    """One key with a comment line naming its platform user."""
    line = key.openssh
    # A line break here would smuggle an extra line into authorized_keys.
    if not line.isprintable() or not user_name.isprintable():
        raise ValueError(f"key {key.fingerprint} or its user name is not printable")
    return f"# mec-platform user {user_name}\n{line}\n"
