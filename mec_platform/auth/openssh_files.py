"""Maintenance SSH access rendered as OpenSSH files: one `authorized_keys` file per maintenance
account, holding exactly the platform users' keys, and an sshd drop-in that turns password
logins off and points those accounts at the platform's files only. sshd reads authorized keys
at every login, so removing a key in the platform revokes SSH access at once; the drop-in is
read when sshd starts or reloads (include it from `/etc/ssh/sshd_config` before any `Match`).
Each file is replaced atomically, so sshd never sees a half-written one."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from mec_platform.auth.model import SshKey

_ACCOUNT = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
# sshd splits configuration values at whitespace and expands `%` tokens; keep paths plain.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_./+-]+")
DROPIN_NAME = "mec-platform.conf"
_HEADER = "# Written by mec-platform; changes here are overwritten.\n"


class OpenSshFiles:
    """Writes the `authorized_keys` files and the sshd drop-in under one directory."""

    def __init__(self, directory: Path, accounts: Sequence[str]) -> None:
        directory = directory.absolute()
        if not _PLAIN_PATH.fullmatch(str(directory)):
            raise ValueError(f"directory {str(directory)!r} must be a plain path for sshd")
        if not accounts:
            raise ValueError("at least one maintenance account is needed")
        for account in accounts:
            if not _ACCOUNT.fullmatch(account):
                raise ValueError(f"{account!r} is not a valid Unix user name")
        self.directory = directory
        self.accounts = tuple(dict.fromkeys(accounts))

    @property
    def keys_directory(self) -> Path:
        """Where the per-account `authorized_keys` files live."""
        return self.directory / "authorized_keys"

    @property
    def dropin_path(self) -> Path:
        """The sshd drop-in to include from the system's sshd configuration."""
        return self.directory / "sshd_config.d" / DROPIN_NAME

    def render(self, keys: Sequence[tuple[str, SshKey]]) -> None:
        """Make exactly these (user name, key) pairs the authorised keys, atomically."""
        content = _HEADER + "".join(_entry(name, key) for name, key in keys)
        for folder in (self.directory, self.keys_directory, self.dropin_path.parent):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o755)
        for account in self.accounts:
            _write_atomically(self.keys_directory / account, content)
        _write_atomically(self.dropin_path, self.dropin())

    def dropin(self) -> str:
        """The sshd drop-in: no passwords, keys of the maintenance accounts from our files."""
        return (
            _HEADER + "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitEmptyPasswords no\n"
            "PubkeyAuthentication yes\n"
            f"Match User {','.join(self.accounts)}\n"
            # Only the platform's file: a key removed in the platform must not linger elsewhere.
            f"    AuthorizedKeysFile {self.keys_directory}/%u\n"
        )


def _entry(user_name: str, key: SshKey) -> str:
    """One key with a comment line naming its platform user."""
    line = key.openssh
    # A line break here would smuggle an extra line into authorized_keys.
    if not line.isprintable() or not user_name.isprintable():
        raise ValueError(f"key {key.fingerprint} or its user name is not printable")
    return f"# mec-platform user {user_name}\n{line}\n"


def _write_atomically(path: Path, content: str) -> None:
    """Replace `path` with `content` (0644) so readers see the old or the new file only."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
