"""The SSH signature verifier against signatures made by the real `ssh-keygen -Y sign`, plus
hand-built SSHSIG blobs for the cases ssh-keygen will not produce (SHA-1 RSA, odd fields)."""

from __future__ import annotations

import base64
import hashlib
import struct
import subprocess
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mec_platform.auth.ssh_keys import WireReader, parse_public_key
from mec_platform.auth.ssh_signing import sign_with_ssh_keygen
from mec_platform.auth.sshsig import SshSigVerifier
from mec_platform.errors import InvalidInput, Unauthorized

NAMESPACE = "mec-platform-login@test"
KINDS = {
    "ed25519": ("ed25519", None),
    "ecdsa256": ("ecdsa", "256"),
    "ecdsa384": ("ecdsa", "384"),
    "ecdsa521": ("ecdsa", "521"),
    "rsa3072": ("rsa", "3072"),
}
verifier = SshSigVerifier()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One passphrase-less key pair of each accepted kind plus a second Ed25519 key."""
    folder = tmp_path_factory.mktemp("sshsig-keys")
    made = {}
    for name, (kind, bits) in {**KINDS, "other": ("ed25519", None)}.items():
        path = folder / name
        command = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", name, "-f", str(path)]
        subprocess.run([*command, *(["-b", bits] if bits else [])], check=True)
        made[name] = path
    return made


def nonce() -> bytes:
    return uuid.uuid4().hex.encode()


def keygen_sign(key: Path, message: bytes, namespace: str, *options: str) -> str:
    """A signature straight from ssh-keygen, message on stdin."""
    command = ["ssh-keygen", "-Y", "sign", "-f", str(key), "-n", namespace, *options]
    result = subprocess.run(command, input=message, capture_output=True, check=True)
    return result.stdout.decode()


def rejected(armored: str, message: bytes, namespace: str = NAMESPACE) -> str:
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(armored, message, namespace)
    assert caught.value.detail.startswith("signature: ")
    return caught.value.detail


def unarmor(armored: str) -> bytes:
    return base64.b64decode("".join(armored.strip().splitlines()[1:-1]))


def armor(blob: bytes) -> str:
    text = base64.b64encode(blob).decode()
    body = "\n".join(text[i : i + 70] for i in range(0, len(text), 70))
    return f"-----BEGIN SSH SIGNATURE-----\n{body}\n-----END SSH SIGNATURE-----\n"


def hash_field(armored: str) -> bytes:
    """The hash algorithm named in an SSHSIG blob (after magic, version, key, namespace...)."""
    reader = WireReader(unarmor(armored))
    reader.raw(6 + 4)
    for _ in range(3):
        reader.string()
    return reader.string()


def public_blob(key: Path) -> bytes:
    return parse_public_key(key.with_suffix(".pub").read_text()).blob


@pytest.mark.parametrize("name", sorted(KINDS))
def test_signatures_of_every_accepted_key_type_verify(keys: dict[str, Path], name: str) -> None:
    message = nonce()
    armored = sign_with_ssh_keygen(keys[name], message, NAMESPACE)
    assert hash_field(armored) == b"sha512"
    key = verifier.verify(armored, message, NAMESPACE)
    assert key.blob == public_blob(keys[name])
    assert key.key_type == parse_public_key(keys[name].with_suffix(".pub").read_text()).key_type
    assert rejected(armored, message + b"x") == "signature: does not verify"


@pytest.mark.parametrize("name", ["ed25519", "ecdsa384", "rsa3072"])
def test_sha256_message_hashes_verify_too(keys: dict[str, Path], name: str) -> None:
    message = nonce()
    try:
        armored = keygen_sign(keys[name], message, NAMESPACE, "-O", "hashalg=sha256")
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"this ssh-keygen cannot make sha256 signatures: {exc.stderr.decode()}")
    assert hash_field(armored) == b"sha256"
    assert verifier.verify(armored, message, NAMESPACE).blob == public_blob(keys[name])


def test_wrong_message_and_wrong_namespace_are_refused(keys: dict[str, Path]) -> None:
    message = nonce()
    armored = keygen_sign(keys["ed25519"], message, NAMESPACE)
    assert rejected(armored, nonce()) == "signature: does not verify"
    assert rejected(armored, message, "file") == (
        f"signature: made for namespace '{NAMESPACE}', expected 'file'"
    )


def test_every_single_tampered_byte_is_refused(keys: dict[str, Path]) -> None:
    message = nonce()
    blob = unarmor(keygen_sign(keys["ed25519"], message, NAMESPACE))
    assert verifier.verify(armor(blob), message, NAMESPACE)
    for index in range(len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= 0x01
        rejected(armor(bytes(tampered)), message)


def test_tampered_armor_text_and_truncations_are_refused(keys: dict[str, Path]) -> None:
    message = nonce()
    armored = keygen_sign(keys["ecdsa256"], message, NAMESPACE)
    middle = len(armored) // 2
    swapped = "B" if armored[middle] != "B" else "C"
    rejected(armored[:middle] + swapped + armored[middle + 1 :], message)
    lines = armored.strip().splitlines()
    rejected("\n".join([*lines[:-2], lines[-1]]), message)
    rejected("\n".join(lines[:-1]), message)
    blob = unarmor(armored)
    for size in (0, 6, 10, 40, len(blob) - 1):
        rejected(armor(blob[:size]), message)
    assert rejected(armor(blob + b"\0"), message) == "signature: not an SSH signature"


def test_a_signature_of_another_key_returns_that_key(keys: dict[str, Path]) -> None:
    message = nonce()
    expected = parse_public_key(keys["ed25519"].with_suffix(".pub").read_text())
    armored = keygen_sign(keys["other"], message, NAMESPACE)
    signer = verifier.verify(armored, message, NAMESPACE)
    assert signer.key_id != expected.key_id
    assert signer.blob == public_blob(keys["other"])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----",
        "-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----",
        "-----BEGIN PGP SIGNATURE-----\nAAAA\n-----END PGP SIGNATURE-----",
        "-----BEGIN SSH SIGNATURE-----\n" + "A" * 40000 + "\n-----END SSH SIGNATURE-----",
    ],
)
def test_empty_random_and_oversized_text_is_refused(text: str) -> None:
    assert rejected(text, b"m") == "signature: not an SSH signature"


def test_non_text_input_is_refused() -> None:
    assert rejected(None, b"m") == "signature: not an SSH signature"  # type: ignore[arg-type]
    assert rejected(armor(b"SSHSIG"), None) == "signature: not an SSH signature"  # type: ignore[arg-type]


def wire(*fields: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(field)) + field for field in fields)


def hand_built(
    key: Path,
    message: bytes,
    algorithm: str,
    *,
    hash_name: str = "sha512",
    version: int = 1,
    magic: bytes = b"SSHSIG",
) -> str:
    """An SSHSIG blob signed with cryptography, with fields of our choosing."""
    private = serialization.load_ssh_private_key(key.read_bytes(), password=None)
    digest = hashlib.new(hash_name if hash_name in ("sha256", "sha512") else "sha512", message)
    head = wire(NAMESPACE.encode(), b"", hash_name.encode())
    signed = b"SSHSIG" + head + wire(digest.digest())
    if isinstance(private, rsa.RSAPrivateKey):
        chosen = {"ssh-rsa": hashes.SHA1(), "rsa-sha2-256": hashes.SHA256()}[algorithm]
        raw = private.sign(signed, padding.PKCS1v15(), chosen)
    else:
        assert isinstance(private, Ed25519PrivateKey)
        raw = private.sign(signed)
    fields = wire(public_blob(key)) + head + wire(wire(algorithm.encode(), raw))
    return armor(magic + struct.pack(">I", version) + fields)


def test_rsa_sha2_256_verifies_and_sha1_ssh_rsa_is_refused(keys: dict[str, Path]) -> None:
    message = nonce()
    good = hand_built(keys["rsa3072"], message, "rsa-sha2-256")
    assert verifier.verify(good, message, NAMESPACE).key_type == "ssh-rsa"
    sha1 = hand_built(keys["rsa3072"], message, "ssh-rsa")
    assert rejected(sha1, message) == (
        "signature: algorithm 'ssh-rsa' is not accepted for a ssh-rsa key"
    )


def test_odd_fields_are_refused(keys: dict[str, Path]) -> None:
    message, key = nonce(), keys["ed25519"]
    assert verifier.verify(hand_built(key, message, "ssh-ed25519"), message, NAMESPACE)
    assert "version 2" in rejected(hand_built(key, message, "ssh-ed25519", version=2), message)
    bad_magic = hand_built(key, message, "ssh-ed25519", magic=b"SSHSIX")
    assert rejected(bad_magic, message) == "signature: not an SSH signature"
    sha1 = hand_built(key, message, "ssh-ed25519", hash_name="sha1")
    assert rejected(sha1, message) == "signature: hash algorithm 'sha1' is not accepted"
    mismatched = hand_built(key, message, "ecdsa-sha2-nistp256")
    assert "not accepted for a ssh-ed25519 key" in rejected(mismatched, message)


def test_signatures_by_keys_the_platform_refuses_are_refused(tmp_path: Path) -> None:
    key = tmp_path / "small"
    command = ["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(key)]
    subprocess.run(command, check=True)
    message = nonce()
    detail = rejected(keygen_sign(key, message, NAMESPACE), message)
    assert detail == (
        "signature: made with a key not accepted "
        "(sshKey: RSA keys need at least 3072 bits, this one has 2048)"
    )


def test_signing_with_a_missing_or_broken_key_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no key file"):
        sign_with_ssh_keygen(tmp_path / "absent", b"m", NAMESPACE)
    broken = tmp_path / "broken"
    broken.write_text("not a key\n")
    broken.chmod(0o600)
    with pytest.raises(InvalidInput) as caught:
        sign_with_ssh_keygen(broken, b"m", NAMESPACE)
    assert caught.value.detail.startswith("ssh-keygen: ")
    assert "not a key" not in caught.value.detail


def test_ssh_keygen_complaints_come_back_on_one_line(tmp_path: Path) -> None:
    key = tmp_path / "open"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    key.chmod(0o644)
    with pytest.raises(InvalidInput) as caught:
        sign_with_ssh_keygen(key, b"m", NAMESPACE)
    detail = caught.value.detail
    assert "too open" in detail
    assert detail.isprintable()
    assert "@@" not in detail
    assert "PRIVATE KEY-----" not in detail
