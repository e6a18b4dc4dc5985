"""Signing a login challenge with the user's own SSH key by running `ssh-keygen -Y sign`, as
the `mec-platform login` command does: the private key never leaves ssh-keygen. The message
goes through a file in a private temporary directory rather than stdin, so that ssh-keygen
can still ask for a passphrase on the terminal the command inherits."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from mec_platform.errors import InvalidInput

SSH_KEYGEN = "ssh-keygen"
_MAX_ERROR = 500


def sign_with_ssh_keygen(key_path: Path, message: bytes, namespace: str) -> str:
    """The armored SSH signature of `message` in `namespace`, made with the key at `key_path`."""
    if not key_path.is_file():
        raise InvalidInput(f"sshKey: no key file at {key_path}")
    # mkdtemp makes the directory private (0700) to this user.
    with tempfile.TemporaryDirectory(prefix="mec-sign-") as folder:
        message_file = Path(folder) / "message"
        message_file.write_bytes(message)
        _run(["-Y", "sign", "-f", str(key_path), "-n", namespace, str(message_file)])
        signature = message_file.with_name("message.sig")
        if not signature.is_file():
            raise InvalidInput("ssh-keygen: wrote no signature")
        return signature.read_text(encoding="ascii")


def _run(arguments: list[str]) -> None:
    """Run ssh-keygen with the terminal inherited (for a passphrase prompt); errors captured."""
    try:
        result = subprocess.run(
            [SSH_KEYGEN, *arguments],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
    except FileNotFoundError as exc:
        raise InvalidInput(f"ssh-keygen: '{SSH_KEYGEN}' is not installed") from exc
    if result.returncode != 0:
        error = _one_line(result.stderr) or f"failed with exit code {result.returncode}"
        raise InvalidInput(f"ssh-keygen: {error}")


def _one_line(stderr: bytes) -> str:
    """ssh-keygen's messages (file names and reasons, never key material) on one line."""
    text = stderr.decode("utf-8", "replace")
    # Its warnings come framed in '@' banners; keep the words only.
    parts = (line.strip().strip("@").strip() for line in text.splitlines())
    return " ".join(part for part in parts if part)[-_MAX_ERROR:]
