"""Access tokens as JWTs signed with Ed25519 (alg EdDSA, header `typ: at+jwt`, `kid`) by keys
kept as PEM files in a private directory of the box, and checked in-process with a cache of
tokens already verified. The claims are `iss`, `sub`, `aud`, `iat`, `exp`, `jti`, `role`
(a Role value) and `scope` (space-separated), all required; `nbf` is checked when present and
`app_instance_id` is required for the `app-instance` role only. Key ids `k<unix seconds, 12
digits>-<8 hex>` sort by age; the newest key signs and older ones verify until pruned."""

from __future__ import annotations

import base64
import fcntl
import itertools
import logging
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mec_platform.auth.model import Principal, Role
from mec_platform.errors import Unauthorized

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
TOKEN_TYPE = "at+jwt"
REQUIRED_CLAIMS = ("iss", "sub", "aud", "iat", "exp", "jti", "role", "scope")
_ACCEPTED_TYPES = frozenset((TOKEN_TYPE, "application/" + TOKEN_TYPE))
_KID = re.compile(r"k(\d{12})-[0-9a-f]{8}")
_PEM = ".pem"
_TEMP = ".tmp"
# Keys outlive their successor by the longest token lifetime plus this margin.
PRUNE_MARGIN = 60.0
# Our tokens are a few hundred bytes; the bound keeps garbage from costing parse work.
_MAX_TOKEN = 4096
_JWK_USE = {"alg": ALGORITHM, "use": "sig"}
_SHOWN_ALG = re.compile(r"[A-Za-z0-9+_-]{1,20}")
# Time claims are checked against our own clock (see _check_times), so PyJWT's are off.
_OPTIONS: jwt.types.Options = {
    "require": list(REQUIRED_CLAIMS),
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
}


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
        """The public keys as a JWK Set (RFC 7517, OKP keys of RFC 8037), newest first."""
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
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
        fd = os.open(self.directory / ".lock", flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            # Only lock holders write temporaries, so any found now were left by a crash.
            for name in os.listdir(self.directory):
                if name.startswith(".k") and name.endswith(_TEMP):
                    (self.directory / name).unlink(missing_ok=True)
            yield
        finally:
            os.close(fd)  # closing releases the lock

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


class _Throttle:
    """Says yes at most once per `interval` (and again whenever the clock went backwards)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: float | None = None

    def due(self, now: float) -> bool:
        """True when the throttled work may run now (which is recorded as its last run)."""
        last = self._last
        if last is not None and 0 <= now - last < self.interval:
            return False
        self._last = now
        return True


class JwtSigner:
    """TokenSigner with the ring's current key; notices keys rotated by other processes."""

    def __init__(
        self, ring: KeyRing, recheck_every: float = 5.0, clock: Callable[[], float] = time.time
    ) -> None:
        self._ring = ring
        self._clock = clock
        self._recheck = _Throttle(recheck_every)

    def sign(self, claims: Mapping[str, object]) -> str:
        if self._recheck.due(self._clock()):
            self._ring.reload()
        kid, key = self._ring.current()
        headers = {"kid": kid, "typ": TOKEN_TYPE}
        return jwt.encode(dict(claims), key, algorithm=ALGORITHM, headers=headers)


class JwtVerifier:
    """TokenVerifier checking EdDSA tokens against the ring, with an LRU of verified tokens."""

    def __init__(
        self,
        ring: KeyRing,
        audience: str,
        issuer: str,
        clock: Callable[[], float] = time.time,
        cache_size: int = 4096,
        leeway: float = 5,
        recheck_every: float = 5.0,
    ) -> None:
        self._ring = ring
        self._audience = audience
        self._issuer = issuer
        self._clock = clock
        self._cache_size = cache_size
        self._leeway = leeway
        self._cache: OrderedDict[str, Principal] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = ring.generation
        # Unknown key ids reload at most once a second, so garbage cannot make us list the
        # directory per request; the periodic reload notices keys deleted by another process.
        self._unknown_kid = _Throttle(1.0)
        self._recheck = _Throttle(recheck_every)

    def verify(self, token: str) -> Principal:
        now = self._clock()
        self._follow_ring(now)
        cached = self._cache.get(token)
        if cached is None:
            return self._verify_afresh(token, now)
        with self._lock:
            if now >= cached.expires_at:
                self._cache.pop(token, None)
                raise _refuse("expired")
            if token in self._cache:
                self._cache.move_to_end(token)
        return cached

    def _follow_ring(self, now: float) -> None:
        """Reload the ring now and then; drop cached tokens once any key has gone."""
        if self._recheck.due(now):
            self._ring.reload()
        if self._ring.generation != self._generation:
            with self._lock:
                self._cache.clear()
                self._generation = self._ring.generation

    def _verify_afresh(self, token: str, now: float) -> Principal:
        key = self._key_for(_header(token)["kid"], now)
        claims = self._decode(token, key)
        principal = _principal(claims, _check_times(claims, now, self._leeway))
        with self._lock:
            self._cache[token] = principal
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return principal

    def _key_for(self, kid: str, now: float) -> Ed25519PublicKey:
        key = self._ring.public_key(kid)
        if key is None and self._unknown_kid.due(now):
            self._ring.reload()
            key = self._ring.public_key(kid)
        if key is None:
            raise _refuse("signed with an unknown key")
        return key

    def _decode(self, token: str, key: Ed25519PublicKey) -> dict[str, Any]:
        """The verified claims; PyJWT's errors become our precise, token-free details."""
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                options=_OPTIONS,
                audience=self._audience,
                issuer=self._issuer,
            )
        except jwt.InvalidSignatureError:
            raise _refuse("signature does not verify") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _refuse(f"missing claim '{exc.claim}'") from None
        except jwt.InvalidAudienceError:
            raise _refuse("issued for another audience") from None
        except jwt.InvalidIssuerError:
            raise _refuse("issued by another issuer") from None
        except jwt.InvalidTokenError:
            raise _refuse("malformed") from None


def _refuse(detail: str) -> Unauthorized:
    return Unauthorized(f"token: {detail}")


def _header(token: str) -> dict[str, Any]:
    """The token's header once it names EdDSA, a key id and the access-token type."""
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN:
        raise _refuse("malformed")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise _refuse("malformed") from None
    alg = header.get("alg")
    if alg != ALGORITHM:
        shown = f"'{alg}' " if isinstance(alg, str) and _SHOWN_ALG.fullmatch(alg) else ""
        raise _refuse(f"algorithm {shown}is not accepted")
    if "crit" in header or "b64" in header:
        raise _refuse("malformed")
    if header.get("typ") not in _ACCEPTED_TYPES:
        raise _refuse(f"not an access token (typ is not {TOKEN_TYPE})")
    if not isinstance(header.get("kid"), str):
        raise _refuse("names no signing key (kid)")
    return header


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(f"claim '{name}' is not a number")
    return float(value)


def _text(claims: Mapping[str, Any], name: str) -> str:
    value = claims[name]
    if not isinstance(value, str):
        raise _refuse(f"claim '{name}' is not a string")
    return value


def _check_times(claims: Mapping[str, Any], now: float, leeway: float) -> float:
    """The expiry, once the token is current: expiry exact (as for a cached token), start
    times (nbf, iat) with the leeway."""
    expires_at = _number(claims, "exp")
    if now >= expires_at:
        raise _refuse("expired")
    issued_at = _number(claims, "iat")
    not_before = _number(claims, "nbf") if claims.get("nbf") is not None else issued_at
    if now + leeway < max(issued_at, not_before):
        raise _refuse("not valid yet")
    return expires_at


def _principal(claims: Mapping[str, Any], expires_at: float) -> Principal:
    """The identity the verified claims describe."""
    try:
        role = Role(_text(claims, "role"))
    except ValueError:
        raise _refuse("claim 'role' names no known role") from None
    app_instance_id = claims.get("app_instance_id")
    if app_instance_id is not None:
        app_instance_id = _text(claims, "app_instance_id")
    elif role is Role.APP:
        raise _refuse("missing claim 'app_instance_id'")
    return Principal(
        subject=_text(claims, "sub"),
        role=role,
        scopes=frozenset(_text(claims, "scope").split()),
        app_instance_id=app_instance_id,
        token_id=_text(claims, "jti"),
        expires_at=expires_at,
    )
