"""Verification of `ssh-keygen -Y sign` signatures (OpenSSH PROTOCOL.sshsig) with the
`cryptography` library: the armored blob is unpacked field by field, its namespace compared,
the signed data rebuilt as the format defines (magic, namespace, reserved, hash algorithm,
hash of the message) and checked against the embedded public key, which must pass the same
acceptance rules as a registered key. Every failure becomes `Unauthorized`; nothing else
escapes, whatever the input."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from mec_platform.auth.model import SshKey
from mec_platform.auth.ssh_keys import ED25519, WireError, WireReader, key_from_blob
from mec_platform.auth.ssh_keys import wire_string as _string
from mec_platform.errors import InvalidInput, Unauthorized

MAX_ARMORED = 32 * 1024
MAGIC = b"SSHSIG"
VERSION = 1
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
MESSAGE_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
RSA_HASHES: dict[str, hashes.HashAlgorithm] = {
    "rsa-sha2-256": hashes.SHA256(),
    "rsa-sha2-512": hashes.SHA512(),
}
ECDSA_HASHES: dict[str, hashes.HashAlgorithm] = {
    "ecdsa-sha2-nistp256": hashes.SHA256(),
    "ecdsa-sha2-nistp384": hashes.SHA384(),
    "ecdsa-sha2-nistp521": hashes.SHA512(),
}
_NOT_A_SIGNATURE = "signature: not an SSH signature"


class _Parsed:
    """The fields of an SSHSIG blob."""

    def __init__(self, blob: bytes) -> None:
        reader = WireReader(blob)
        if reader.raw(len(MAGIC)) != MAGIC:
            raise WireError("bad magic")
        self.version = reader.uint32()
        self.public_key = reader.string()
        self.namespace = reader.string()
        self.reserved = reader.string()
        self.hash_algorithm = reader.string()
        self.signature = reader.string()
        reader.end()


class SshSigVerifier:
    """Checks armored SSH signatures; returns the key that made a valid one."""

    def verify(self, armored: str, message: bytes, namespace: str) -> SshKey:
        """The key that signed `message` in `namespace`, or raise Unauthorized."""
        try:
            return self._verify(armored, message, namespace)
        except Unauthorized:
            raise
        except (ValueError, TypeError, OverflowError, struct.error, UnsupportedAlgorithm) as exc:
            # WireError, UnicodeError and binascii.Error are ValueErrors too.
            raise Unauthorized(_NOT_A_SIGNATURE) from exc

    def _verify(self, armored: str, message: bytes, namespace: str) -> SshKey:
        parsed = _Parsed(_unarmor(armored))
        if parsed.version != VERSION:
            raise Unauthorized(f"signature: version {parsed.version} is not supported")
        _check_namespace(parsed.namespace, namespace)
        hash_name = parsed.hash_algorithm.decode("ascii", "replace")
        if hash_name not in MESSAGE_HASHES:
            raise Unauthorized(f"signature: hash algorithm '{_shown(hash_name)}' is not accepted")
        try:
            key = key_from_blob(parsed.public_key)
        except InvalidInput as exc:
            raise Unauthorized(f"signature: made with a key not accepted ({exc.detail})") from exc
        signed = (
            MAGIC
            + _string(parsed.namespace)
            + _string(parsed.reserved)
            + _string(parsed.hash_algorithm)
            + _string(MESSAGE_HASHES[hash_name](message).digest())
        )
        _check_signature(key, parsed.signature, signed)
        return key


def _unarmor(armored: str) -> bytes:
    if not isinstance(armored, str) or len(armored) > MAX_ARMORED:
        raise Unauthorized(_NOT_A_SIGNATURE)
    lines = [line.strip() for line in armored.strip().splitlines()]
    if len(lines) < 3 or lines[0] != BEGIN or lines[-1] != END:
        raise Unauthorized(_NOT_A_SIGNATURE)
    try:
        return base64.b64decode("".join(lines[1:-1]), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Unauthorized(_NOT_A_SIGNATURE) from exc


def _check_namespace(found: bytes, expected: str) -> None:
    if found != expected.encode():
        shown = _shown(found.decode("utf-8", "replace"))
        raise Unauthorized(f"signature: made for namespace '{shown}', expected '{expected}'")


def _check_signature(key: SshKey, signature: bytes, signed: bytes) -> None:
    reader = WireReader(signature)
    algorithm = reader.text()
    raw = reader.string()
    reader.end()
    public = serialization.load_ssh_public_key(key.openssh.encode())
    try:
        if isinstance(public, Ed25519PublicKey) and algorithm == ED25519:
            public.verify(raw, signed)
        elif isinstance(public, rsa.RSAPublicKey) and algorithm in RSA_HASHES:
            _verify_rsa(public, raw, signed, RSA_HASHES[algorithm])
        elif isinstance(public, ec.EllipticCurvePublicKey) and algorithm == key.key_type:
            _verify_ecdsa(public, raw, signed, ECDSA_HASHES[algorithm])
        else:
            raise Unauthorized(
                f"signature: algorithm '{_shown(algorithm)}' is not accepted "
                f"for a {key.key_type} key"
            )
    except InvalidSignature as exc:
        raise Unauthorized("signature: does not verify") from exc


def _verify_rsa(
    public: rsa.RSAPublicKey, raw: bytes, signed: bytes, algorithm: hashes.HashAlgorithm
) -> None:
    size = (public.key_size + 7) // 8
    if len(raw) > size:
        raise InvalidSignature()
    # OpenSSH accepts (and pads) signatures shorter than the modulus; so do we.
    public.verify(raw.rjust(size, b"\0"), signed, padding.PKCS1v15(), algorithm)


def _verify_ecdsa(
    public: ec.EllipticCurvePublicKey, raw: bytes, signed: bytes, algorithm: hashes.HashAlgorithm
) -> None:
    reader = WireReader(raw)
    r, s = reader.mpint(), reader.mpint()
    reader.end()
    public.verify(encode_dss_signature(r, s), signed, ec.ECDSA(algorithm))


def _shown(value: str) -> str:
    """A signer-supplied value made printable and short for an error detail."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in value[:40])
    return cleaned + ("..." if len(value) > 40 else "")
