"""The install's token signing keys: Ed25519 PEM files in a private folder (0700, files 0600).

Key ids `k<unix seconds, 12 digits>-<8 hex>` sort by age; the newest key signs and older ones
verify until pruned once the tokens they signed have expired. Several processes share the
folder: creation, rotation and pruning hold a lock file, and keys appear by link, never half
written."""

from __future__ import annotations

import base64
import itertools
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mec_platform.auth.file_lock import exclusive_lock

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
_KID = re.compile(r"k(\d{12})-[0-9a-f]{8}")
_PEM = ".pem"
_TEMP = ".tmp"
# Keys outlive their successor by the longest token lifetime plus this margin.
PRUNE_MARGIN = 60.0
# Our tokens are a few hundred bytes; the bound keeps garbage from costing parse work.
_JWK_USE = {"alg": ALGORITHM, "use": "sig"}


def kid_created_at(kid: str) -> int:
    """The creation time (unix seconds) a key id records."""
    match = _KID.fullmatch(kid)
    if match is None:
        raise ValueError(f"not a key id: {kid[:40]!r}")
    return int(match.group(1))


def _private_directory(directory: Path) -> None:
    """Create the directory 0700, or take group and other access away from an existing one."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if directory.stat().st_mode & 0o077:
        log.warning("keys: tightening %s to mode 0700", directory)
        directory.chmod(0o700)


def _fsync_directory(directory: Path) -> None:
    """Make a new directory entry durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Snapshot(NamedTuple):
    """The keys as last read, swapped whole so readers never see half a reload."""

    keys: Mapping[str, tuple[Ed25519PrivateKey, Ed25519PublicKey]]
    current: str | None


class KeyRing:
    """The install's signing keys in `directory`: the newest signs, all verify."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot = _Snapshot({}, None)
        # Bumped whenever keys disappear, so verifiers know to drop cached tokens.
        self.generation = 0
        _private_directory(directory)
        self.reload()

    def reload(self) -> None:
        """Re-read the directory: new keys are loaded, keys gone from disk are dropped."""
        with self._lock:
            old = self._snapshot.keys
            keys = {}
            for kid in self._kids_on_disk():
                pair = old.get(kid) or self._load(kid)
                if pair is not None:
                    keys[kid] = pair
            if old.keys() - keys.keys():
                self.generation += 1
            self._snapshot = _Snapshot(keys, max(keys, default=None))

    def ensure_key(self) -> str:
        """The current key id, creating the first key if there is none."""
        current = self._snapshot.current
        if current is not None:
            return current
        with self._exclusive():
            self.reload()
            current = self._snapshot.current
            return current if current is not None else self._add_key()

    def rotate(self) -> str:
        """Add a new key that signs from now on; the older ones keep verifying."""
        with self._exclusive():
            self.reload()
            return self._add_key()

    def prune(self, max_token_ttl: float, now: float) -> list[str]:
        """Delete keys superseded long enough ago that no token they signed is still valid."""
        removed: list[str] = []
        with self._exclusive():
            self.reload()
            for older, newer in itertools.pairwise(sorted(self._snapshot.keys)):
                if now - kid_created_at(newer) > max_token_ttl + PRUNE_MARGIN:
                    (self.directory / (older + _PEM)).unlink(missing_ok=True)
                    removed.append(older)
            self.reload()
        return removed

    def current(self) -> tuple[str, Ed25519PrivateKey]:
        """The key id and private key that sign new tokens."""
        if self._snapshot.current is None:
            # The directory was emptied under us: start again with a fresh key.
            self.ensure_key()
        snapshot = self._snapshot
        if snapshot.current is None:
            raise RuntimeError(f"keys: no signing key could be made in {self.directory}")
        return snapshot.current, snapshot.keys[snapshot.current][0]

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        """The public key with this id, if the ring holds it."""
        pair = self._snapshot.keys.get(kid)
        return pair[1] if pair is not None else None

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every key that verifies, by key id."""
        return {kid: pair[1] for kid, pair in self._snapshot.keys.items()}

    def jwks(self) -> dict[str, Any]:
        """The public keys as a JWK Set (RFC 7517, OKP keys of RFC 8037), newest first.

        Read afresh from the directory (a listing; loaded keys are reused), so keys another
        process rotated in are published at once.
        """
        self.reload()
        keys = []
        for kid, public in sorted(self.public_keys().items(), reverse=True):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
            keys.append({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid} | _JWK_USE)
        return {"keys": keys}

    def _kids_on_disk(self) -> list[str]:
        names = (name.removesuffix(_PEM) for name in os.listdir(self.directory))
        return [name for name in names if _KID.fullmatch(name)]

    def _load(self, kid: str) -> tuple[Ed25519PrivateKey, Ed25519PublicKey] | None:
        """The key in `<kid>.pem`, or None (logged) when it is unreadable or not Ed25519."""
        path = self.directory / (kid + _PEM)
        try:
            if path.stat().st_mode & 0o077:
                log.warning("keys: tightening %s to mode 0600", path)
                path.chmod(0o600)
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            log.warning("keys: cannot load %s: %s", path, type(exc).__name__)
            return None
        if not isinstance(key, Ed25519PrivateKey):
            log.warning("keys: %s is not an Ed25519 key, ignored", path)
            return None
        return key, key.public_key()

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold the directory's lock file, so processes add and delete keys one at a time."""
        with exclusive_lock(self.directory / ".lock"):
            # Only lock holders write temporaries, so any found now were left by a crash.
            for name in os.listdir(self.directory):
                if name.startswith(".k") and name.endswith(_TEMP):
                    (self.directory / name).unlink(missing_ok=True)
            yield

    def _add_key(self) -> str:
        """Write a new key and load it; the caller holds the lock and has just reloaded."""
        newest = self._snapshot.current
        # A key made within the same second as the newest still sorts after it.
        seconds = int(self._clock())
        if newest is not None:
            seconds = max(seconds, kid_created_at(newest) + 1)
        kid = f"k{seconds:012d}-{secrets.token_hex(4)}"
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._publish(kid, pem)
        self.reload()
        return kid

    def _publish(self, kid: str, pem: bytes) -> None:
        """Write to a private temporary file, then link it in: readers never see half a key."""
        temporary = self.directory / f".{kid}{_TEMP}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        with os.fdopen(os.open(temporary, flags, 0o600), "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        try:
            # link() refuses to replace an existing file, unlike rename().
            os.link(temporary, self.directory / (kid + _PEM))
        finally:
            temporary.unlink()
        _fsync_directory(self.directory)
