"""Access tokens as JWTs signed with Ed25519 (alg EdDSA, header `typ: at+jwt`, `kid`) by keys
kept as PEM files in a private directory of the box, and checked in-process with a cache of
tokens already verified. The claims are `iss`, `sub`, `aud`, `iat`, `exp`, `jti`, `role`
(a Role value) and `scope` (space-separated), all required; `nbf` is checked when present and
`app_instance_id` is required for the `app-instance` role only. The keys: auth.jwt_keys."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mec_platform.auth.jwt_keys import ALGORITHM, KeyRing
from mec_platform.auth.model import Principal, Role
from mec_platform.errors import Unauthorized

TOKEN_TYPE = "at+jwt"
REQUIRED_CLAIMS = ("iss", "sub", "aud", "iat", "exp", "jti", "role", "scope")
_ACCEPTED_TYPES = frozenset((TOKEN_TYPE, "application/" + TOKEN_TYPE))
_MAX_TOKEN = 4096
_SHOWN_ALG = re.compile(r"[A-Za-z0-9+_-]{1,20}")
# Time claims are checked against our own clock (see _check_times), so PyJWT's are off.
_OPTIONS: jwt.types.Options = {
    "require": list(REQUIRED_CLAIMS),
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
}


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
        generation = self._ring.generation
        key = self._key_for(_header(token)["kid"], now)
        claims = self._decode(token, key)
        principal = _principal(claims, _check_times(claims, now, self._leeway))
        with self._lock:
            # A key may have gone while this token was checked: answer, but do not remember.
            if generation != self._ring.generation or generation != self._generation:
                return principal
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
