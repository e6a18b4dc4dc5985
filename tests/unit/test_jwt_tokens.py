"""JWT access tokens on real key files with real Ed25519 signatures: signing and verifying,
every way a token is refused, key rotation and pruning, file modes, concurrent first start and
the cache of verified tokens. Clocks are fakes passed in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mec_platform.auth.jwt_keys import PRUNE_MARGIN, KeyRing
from mec_platform.auth.jwt_tokens import JwtSigner, JwtVerifier
from mec_platform.auth.model import Principal, Role
from mec_platform.errors import Unauthorized

AT = 1_700_000_000.0
TTL = 300
AUDIENCE = "mec-platform"
ISSUER = "https://mec.example/oauth"
REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self, now: float = AT) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: object) -> str:
    return b64(json.dumps(value).encode())


def claims(clock: Clock, **changes: object) -> dict[str, object]:
    now = int(clock())
    base: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": f"user-{uuid.uuid4().hex[:8]}",
        "role": Role.PROVIDER.value,
        "scope": "mec011:service-mgmt platform:users",
        "iat": now,
        "nbf": now,
        "exp": now + TTL,
        "jti": uuid.uuid4().hex,
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


class Setup:
    """A ring in a fresh directory with its signer and verifier sharing one fake clock."""

    def __init__(self, directory: Path) -> None:
        self.clock = Clock()
        self.ring = KeyRing(directory, clock=self.clock)
        self.kid = self.ring.ensure_key()
        self.signer = JwtSigner(self.ring, recheck_every=0, clock=self.clock)
        self.verifier = JwtVerifier(self.ring, AUDIENCE, ISSUER, clock=self.clock)

    def token(self, **changes: object) -> str:
        return self.signer.sign(claims(self.clock, **changes))

    def refused(self, token: str) -> str:
        with pytest.raises(Unauthorized) as caught:
            self.verifier.verify(token)
        detail = caught.value.detail
        assert not token or token not in detail
        return detail


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path / "keys")


def header_of(token: str) -> dict[str, object]:
    return jwt.get_unverified_header(token)


def kids_on_disk(directory: Path) -> list[str]:
    return sorted(path.stem for path in directory.glob("*.pem"))


def test_roundtrip_gives_the_principal_of_the_claims(setup: Setup) -> None:
    token = setup.token(sub="alice", jti="id-1")
    principal = setup.verifier.verify(token)
    assert principal == Principal(
        subject="alice",
        role=Role.PROVIDER,
        scopes=frozenset({"mec011:service-mgmt", "platform:users"}),
        app_instance_id=None,
        token_id="id-1",
        expires_at=AT + TTL,
    )
    assert header_of(token) == {"alg": "EdDSA", "typ": "at+jwt", "kid": setup.kid}


def test_app_instance_token_carries_its_instance(setup: Setup) -> None:
    token = setup.token(role="app-instance", app_instance_id="app-7", scope="mec011:app-support")
    principal = setup.verifier.verify(token)
    assert (principal.role, principal.app_instance_id) == (Role.APP, "app-7")
    assert not principal.is_person
    no_instance = setup.token(role="app-instance")
    assert setup.refused(no_instance) == "token: missing claim 'app_instance_id'"


def test_expired_and_not_yet_valid_tokens_are_refused(setup: Setup) -> None:
    assert setup.refused(setup.token(exp=int(AT) - 1)) == "token: expired"
    assert setup.refused(setup.token(exp=int(AT))) == "token: expired"
    assert setup.refused(setup.token(nbf=int(AT) + 60)) == "token: not valid yet"
    assert setup.refused(setup.token(iat=int(AT) + 60)) == "token: not valid yet"
    # The leeway forgives a start a few seconds ahead of our clock.
    assert setup.verifier.verify(setup.token(nbf=int(AT) + 3)).expires_at == AT + TTL


def test_a_verified_token_is_refused_once_it_expires(setup: Setup) -> None:
    token = setup.token()
    setup.verifier.verify(token)
    setup.clock.now = AT + TTL
    assert setup.refused(token) == "token: expired"


def flip(segment: str, index: int) -> str:
    swapped = "A" if segment[index] != "A" else "B"
    return segment[:index] + swapped + segment[index + 1 :]


def test_tampered_payload_or_signature_does_not_verify(setup: Setup) -> None:
    header, payload, signature = setup.token().split(".")
    forged_payload = ".".join((header, flip(payload, len(payload) // 2), signature))
    assert setup.refused(forged_payload) in (
        "token: signature does not verify",
        "token: malformed",  # flipping may break the JSON before the signature is checked
    )
    claims_changed = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims_changed["role"] = "platform-admin"
    escalated = ".".join((header, b64json(claims_changed), signature))
    assert setup.refused(escalated) == "token: signature does not verify"
    forged_signature = ".".join((header, payload, flip(signature, 10)))
    assert setup.refused(forged_signature) == "token: signature does not verify"


def test_wrong_audience_or_issuer_is_refused(setup: Setup) -> None:
    assert setup.refused(setup.token(aud="other")) == "token: issued for another audience"
    assert setup.refused(setup.token(iss="https://evil.example")) == (
        "token: issued by another issuer"
    )


def test_alg_none_is_refused(setup: Setup) -> None:
    body = b64json(claims(setup.clock))
    unsigned = f"{b64json({'alg': 'none'})}.{body}."
    assert setup.refused(unsigned) == "token: algorithm 'none' is not accepted"
    with_kid = f"{b64json({'alg': 'none', 'typ': 'at+jwt', 'kid': setup.kid})}.{body}."
    assert setup.refused(with_kid) == "token: algorithm 'none' is not accepted"


def test_hs256_signed_with_the_public_key_is_refused(setup: Setup) -> None:
    public = setup.ring.public_keys()[setup.kid]
    for secret in (
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    ):
        head = b64json({"alg": "HS256", "typ": "at+jwt", "kid": setup.kid})
        signing_input = f"{head}.{b64json(claims(setup.clock))}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        detail = setup.refused(f"{signing_input}.{b64(mac)}")
        assert detail == "token: algorithm 'HS256' is not accepted"


def test_other_algorithms_and_headers_are_refused(setup: Setup) -> None:
    body = b64json(claims(setup.clock))
    odd = b64json({"alg": "ES256\n<script>", "typ": "at+jwt", "kid": setup.kid})
    assert setup.refused(f"{odd}.{body}.c2ln") == "token: algorithm is not accepted"
    no_alg = b64json({"typ": "at+jwt", "kid": setup.kid})
    assert setup.refused(f"{no_alg}.{body}.c2ln") == "token: algorithm is not accepted"
    key = setup.ring.current()[1]
    plain_jwt = jwt.encode(claims(setup.clock), key, algorithm="EdDSA", headers={"kid": setup.kid})
    assert setup.refused(plain_jwt) == "token: not an access token (typ is not at+jwt)"
    no_kid = jwt.encode(claims(setup.clock), key, algorithm="EdDSA", headers={"typ": "at+jwt"})
    assert setup.refused(no_kid) == "token: names no signing key (kid)"


def test_token_from_another_ring_is_signed_with_an_unknown_key(
    setup: Setup, tmp_path: Path
) -> None:
    other = Setup(tmp_path / "other-keys")
    token = other.token()
    assert other.verifier.verify(token).subject.startswith("user-")
    assert setup.refused(token) == "token: signed with an unknown key"


def test_known_kid_signed_by_another_key_does_not_verify(setup: Setup) -> None:
    impostor = Ed25519PrivateKey.generate()
    headers = {"kid": setup.kid, "typ": "at+jwt"}
    token = jwt.encode(claims(setup.clock), impostor, algorithm="EdDSA", headers=headers)
    assert setup.refused(token) == "token: signature does not verify"


@pytest.mark.parametrize("claim", ["iss", "sub", "aud", "iat", "exp", "jti", "role", "scope"])
def test_every_required_claim_is_required(setup: Setup, claim: str) -> None:
    assert setup.refused(setup.token(**{claim: None})) == f"token: missing claim '{claim}'"


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"role": "root"}, "token: claim 'role' names no known role"),
        ({"role": 3}, "token: claim 'role' is not a string"),
        ({"scope": ["a", "b"]}, "token: claim 'scope' is not a string"),
        ({"exp": "tomorrow"}, "token: claim 'exp' is not a number"),
        ({"exp": True}, "token: claim 'exp' is not a number"),
        ({"nbf": "now"}, "token: claim 'nbf' is not a number"),
        ({"sub": 12}, "token: malformed"),
        ({"app_instance_id": 5}, "token: claim 'app_instance_id' is not a string"),
    ],
)
def test_claims_of_the_wrong_kind_are_refused(
    setup: Setup, changes: dict[str, object], detail: str
) -> None:
    assert setup.refused(setup.token(**changes)) == detail


@pytest.mark.parametrize(
    "garbage",
    ["", "abc", "a.b.c", "....", "Bearer x", "é.é.é", "x" * 5000, "eyJhbGciOi.x.y"],
)
def test_garbage_is_malformed(setup: Setup, garbage: str) -> None:
    assert setup.refused(garbage) == "token: malformed"


def test_a_header_without_algorithm_is_refused(setup: Setup) -> None:
    assert setup.refused("e30.e30.") == "token: algorithm is not accepted"


def test_payload_that_is_not_an_object_is_malformed(setup: Setup) -> None:
    head = b64json({"alg": "EdDSA", "typ": "at+jwt", "kid": setup.kid})
    signing_input = f"{head}.{b64(b'[1, 2]')}"
    signature = setup.ring.current()[1].sign(signing_input.encode())
    assert setup.refused(f"{signing_input}.{b64(signature)}") == "token: malformed"


def test_rotation_keeps_old_tokens_until_pruned(setup: Setup) -> None:
    old_token = setup.token()
    setup.clock.now = AT + 100
    new_kid = setup.ring.rotate()
    assert new_kid > setup.kid
    assert setup.verifier.verify(old_token).expires_at == AT + TTL
    new_token = setup.token()
    assert header_of(new_token)["kid"] == new_kid
    assert set(setup.ring.jwks()["keys"][i]["kid"] for i in (0, 1)) == {setup.kid, new_kid}

    too_early = AT + 100 + TTL + PRUNE_MARGIN
    assert setup.ring.prune(TTL, too_early) == []
    assert setup.ring.prune(TTL, too_early + 1) == [setup.kid]
    assert kids_on_disk(setup.ring.directory) == [new_kid]
    assert setup.refused(old_token) == "token: signed with an unknown key"
    setup.clock.now = AT + 150
    assert setup.verifier.verify(new_token).subject.startswith("user-")


def test_prune_never_removes_the_current_key(setup: Setup) -> None:
    assert setup.ring.prune(0, AT + 10**9) == []
    assert kids_on_disk(setup.ring.directory) == [setup.kid]


def test_keys_made_in_the_same_second_still_sort_by_age(setup: Setup) -> None:
    kids = [setup.ring.rotate() for _ in range(3)]
    assert kids == sorted(kids)
    assert setup.ring.current()[0] == kids[-1]
    assert kids_on_disk(setup.ring.directory) == sorted([setup.kid, *kids])


def test_key_files_are_private(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    ring = KeyRing(directory)
    kid = ring.ensure_key()
    ring.rotate()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    modes = {stat.S_IMODE(path.stat().st_mode) for path in directory.glob("*.pem")}
    assert modes == {0o600}
    assert kid.startswith("k") and len(kid) == 1 + 12 + 1 + 8
    assert not list(directory.glob(".*.tmp"))


def test_a_missing_directory_is_created_private(tmp_path: Path) -> None:
    directory = tmp_path / "data" / "keys"
    KeyRing(directory).ensure_key()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_jwks_publishes_the_public_keys(setup: Setup) -> None:
    (key,) = setup.ring.jwks()["keys"]
    assert key.keys() == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert key["kid"] == setup.kid
    public = jwt.PyJWK(key).key
    # PyJWT checks expiry against the real time.
    token = setup.signer.sign(claims(Clock(time.time())))
    decoded = jwt.decode(token, public, algorithms=["EdDSA"], audience=AUDIENCE)
    assert decoded["iss"] == ISSUER
    assert "d" not in key


STARTER = """
import sys, time
from pathlib import Path
from mec_platform.auth.jwt_keys import KeyRing

Path(sys.argv[2]).touch()
while not Path(sys.argv[3]).exists():
    time.sleep(0.001)
print(KeyRing(Path(sys.argv[1])).ensure_key())
"""


def test_eight_processes_starting_at_once_make_one_key(tmp_path: Path) -> None:
    directory, go = tmp_path / "keys", tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, str(directory), str(tmp_path / f"ready-{n}"), str(go)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("ready-*"))) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    outputs = [child.communicate(timeout=60)[0].strip() for child in children]
    assert [child.returncode for child in children] == [0] * 8
    assert kids_on_disk(directory) == [outputs[0]]
    assert set(outputs) == {outputs[0]}


def test_the_cache_returns_the_same_principal(setup: Setup) -> None:
    token = setup.token()
    first = setup.verifier.verify(token)
    assert setup.verifier.verify(token) is first


def test_the_cache_is_bounded(setup: Setup) -> None:
    verifier = JwtVerifier(setup.ring, AUDIENCE, ISSUER, clock=setup.clock, cache_size=2)
    tokens = [setup.token() for _ in range(3)]
    first = [verifier.verify(token) for token in tokens[:2]]
    assert verifier.verify(tokens[0]) is first[0]  # now the most recently used
    third = verifier.verify(tokens[2])  # pushes out tokens[1], the least recently used
    assert verifier.verify(tokens[0]) is first[0]
    assert verifier.verify(tokens[2]) is third
    again = verifier.verify(tokens[1])
    assert again == first[1] and again is not first[1]


def test_deleted_keys_stop_verifying_cached_tokens(setup: Setup) -> None:
    token = setup.token()
    setup.verifier.verify(token)
    setup.ring.rotate()
    (setup.ring.directory / f"{setup.kid}.pem").unlink()
    setup.clock.now += 6  # past the verifier's periodic reload
    assert setup.refused(token) == "token: signed with an unknown key"


def test_a_rotation_by_another_process_is_picked_up(setup: Setup, tmp_path: Path) -> None:
    cli = KeyRing(setup.ring.directory, clock=Clock(AT + 50))
    new_kid = cli.rotate()
    token = setup.token()
    assert header_of(token)["kid"] == new_kid
    assert setup.verifier.verify(token).expires_at == AT + TTL


def test_unknown_keys_reload_the_ring_at_most_once_a_second(setup: Setup, tmp_path: Path) -> None:
    stranger = Setup(tmp_path / "stranger-keys").token()
    assert setup.refused(stranger) == "token: signed with an unknown key"  # reloads once
    cli = KeyRing(setup.ring.directory, clock=Clock(AT + 50))
    new_kid = cli.rotate()
    token = JwtSigner(cli, clock=Clock(AT)).sign(claims(setup.clock))
    assert header_of(token)["kid"] == new_kid
    assert setup.refused(token) == "token: signed with an unknown key"
    setup.clock.now += 1
    assert setup.verifier.verify(token).subject.startswith("user-")


def test_signer_rechecks_the_directory_only_now_and_then(tmp_path: Path) -> None:
    clock = Clock()
    ring = KeyRing(tmp_path / "keys", clock=clock)
    old_kid = ring.ensure_key()
    signer = JwtSigner(ring, recheck_every=5, clock=clock)
    make: Callable[[], str] = lambda: signer.sign(claims(clock))  # noqa: E731
    assert header_of(make())["kid"] == old_kid
    new_kid = KeyRing(ring.directory, clock=Clock(AT + 50)).rotate()
    assert header_of(make())["kid"] == old_kid
    clock.now += 5
    assert header_of(make())["kid"] == new_kid


def test_a_key_file_that_is_not_ed25519_is_ignored(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    ring = KeyRing(directory)
    kid = ring.ensure_key()
    bogus = directory / "k999999999999-0badc0de.pem"
    bogus.write_text("not a key\n")
    ring.reload()
    assert ring.current()[0] == kid
    assert set(ring.public_keys()) == {kid}
