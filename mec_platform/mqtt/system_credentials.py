"""Passwords of the platform's own MQTT accounts (the sensor bridge and the export), made
once and kept in a 0600 JSON file that every platform process of this host reads."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from mec_platform.mqtt.accounts import new_password

BRIDGE_USER = "umec-sensor-bridge"
EXPORT_USER = "umec-export"
SYSTEM_USERS = (BRIDGE_USER, EXPORT_USER)
FILE_NAME = "system-credentials.json"


def system_credentials(directory: Path) -> dict[str, str]:
    """{user: password} of the system accounts; created by whichever process asks first."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / FILE_NAME
    if not path.exists():
        _create(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    missing = [user for user in SYSTEM_USERS if not isinstance(data.get(user), str)]
    if missing:
        raise ValueError(f"{path}: no password for {', '.join(missing)}")
    return {user: data[user] for user in SYSTEM_USERS}


def _create(path: Path) -> None:
    # The file is written in full under a temporary name and then hard-linked into place:
    # link() fails when the name exists, so of several processes starting together exactly
    # one wins, and no reader ever sees a file still being written.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({user: new_password() for user in SYSTEM_USERS}, out)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return
        descriptor = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    finally:
        os.unlink(temporary)
