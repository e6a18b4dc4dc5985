"""Parsing and checking of the SSH public keys people register: an `authorized_keys`-style
line is split into type, base64 blob and comment, and the blob (SSH wire format, RFC 4253
clause 6.6) is read field by field so that only well-formed keys of the accepted types get in:
`ssh-ed25519`, `ecdsa-sha2-nistp256/384/521` (point on its curve) and `ssh-rsa` of at least
3072 bits. Pure Python on purpose: the core can use it without a crypto library. The wire
reader here is shared with the signature verifier (`sshsig`)."""

from __future__ import annotations

import base64
import binascii
import struct

from mec_platform.auth.model import SshKey
from mec_platform.errors import InvalidInput

MAX_LINE = 16 * 1024
MAX_COMMENT = 256
MIN_RSA_BITS = 3072
# OpenSSH refuses larger RSA moduli too.
MAX_RSA_BITS = 16384

ED25519 = "ssh-ed25519"
RSA = "ssh-rsa"
# Declared type -> (curve name inside the blob, field prime p, curve coefficient b); a = -3.
ECDSA_CURVES: dict[str, tuple[str, int, int]] = {
    "ecdsa-sha2-nistp256": (
        "nistp256",
        2**256 - 2**224 + 2**192 + 2**96 - 1,
        0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
    ),
    "ecdsa-sha2-nistp384": (
        "nistp384",
        2**384 - 2**128 - 2**96 + 2**32 - 1,
        int(
            "B3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875A"
            "C656398D8A2ED19D2A85C8EDD3EC2AEF",
            16,
        ),
    ),
    "ecdsa-sha2-nistp521": (
        "nistp521",
        2**521 - 1,
        int(
            "0051953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF1"
            "09E156193951EC7E937B1652C0BD3BB1BF073573DF883D2C34F1EF451FD46B50"
            "3F00",
            16,
        ),
    ),
}
ACCEPTED_TYPES = (ED25519, *ECDSA_CURVES, RSA)
_ACCEPTED_TEXT = "ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa (>= 3072 bits)"


class WireError(ValueError):
    """The bytes are not well-formed SSH wire format."""


class WireReader:
    """Reads SSH wire-format fields (uint32, string, mpint) from a byte string in order."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def raw(self, size: int) -> bytes:
        """The next `size` bytes exactly."""
        end = self._pos + size
        if size < 0 or end > len(self._data):
            raise WireError("truncated")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def uint32(self) -> int:
        """A big-endian 32-bit unsigned integer."""
        return int(struct.unpack(">I", self.raw(4))[0])

    def string(self) -> bytes:
        """A length-prefixed byte string."""
        return self.raw(self.uint32())

    def text(self) -> str:
        """A length-prefixed string that must be ASCII (type and curve names)."""
        try:
            return self.string().decode("ascii")
        except UnicodeDecodeError as exc:
            raise WireError("name is not ASCII") from exc

    def mpint(self) -> int:
        """A non-negative multiple-precision integer in its one canonical encoding."""
        data = self.string()
        if data and data[0] & 0x80:
            raise WireError("negative integer")
        if data[:1] == b"\0" and (len(data) == 1 or not data[1] & 0x80):
            raise WireError("integer with a superfluous leading zero")
        return int.from_bytes(data, "big")

    def end(self) -> None:
        """Check that every byte has been read."""
        if self._pos != len(self._data):
            raise WireError("trailing bytes")


def wire_string(data: bytes) -> bytes:
    """`data` encoded as an SSH wire string (uint32 length, then the bytes)."""
    return struct.pack(">I", len(data)) + data


def parse_public_key(line: str) -> SshKey:
    """The key of an `authorized_keys`-style line `type base64 [comment]` (no options)."""
    if len(line) > MAX_LINE:
        raise InvalidInput(f"sshKey: the line is longer than {MAX_LINE} characters")
    text = line.strip()
    if any(not ch.isprintable() and ch != "\t" for ch in text):
        raise InvalidInput("sshKey: the key must be one line of printable characters")
    parts = text.split(None, 2)
    if len(parts) < 2:
        raise InvalidInput("sshKey: expected '<type> <base64 key> [comment]'")
    key_type, encoded = parts[0], parts[1]
    _check_type(key_type)
    comment = _check_comment(parts[2].strip() if len(parts) > 2 else "")
    return key_from_blob(_decode_base64(encoded), key_type, comment)


def key_from_blob(blob: bytes, declared_type: str | None = None, comment: str = "") -> SshKey:
    """The key of a wire-format blob, checked as `parse_public_key` checks it."""
    try:
        reader = WireReader(blob)
        inner_type = reader.text()
    except WireError as exc:
        raise InvalidInput(f"sshKey: the key data is malformed ({exc})") from exc
    if declared_type is not None and inner_type != declared_type:
        raise InvalidInput(
            f"sshKey: the key data is of type '{_shown(inner_type)}', "
            f"the line says '{_shown(declared_type)}'"
        )
    _check_type(inner_type)
    try:
        _check_body(inner_type, reader)
        reader.end()
    except WireError as exc:
        raise InvalidInput(f"sshKey: the {inner_type} key data is malformed ({exc})") from exc
    return SshKey(key_type=inner_type, blob=blob, comment=comment)


def _check_type(key_type: str) -> None:
    if key_type not in ACCEPTED_TYPES:
        raise InvalidInput(
            f"sshKey: key type '{_shown(key_type)}' is not accepted; use {_ACCEPTED_TEXT}"
        )


def _check_body(key_type: str, reader: WireReader) -> None:
    if key_type == ED25519:
        if len(reader.string()) != 32:
            raise WireError("an Ed25519 key is 32 bytes")
    elif key_type == RSA:
        _check_rsa(reader)
    else:
        _check_ecdsa(key_type, reader)


def _check_rsa(reader: WireReader) -> None:
    exponent, modulus = reader.mpint(), reader.mpint()
    bits = modulus.bit_length()
    if exponent < 3 or exponent % 2 == 0 or exponent >= modulus or modulus % 2 == 0:
        raise WireError("implausible exponent or modulus")
    if bits < MIN_RSA_BITS:
        raise InvalidInput(
            f"sshKey: RSA keys need at least {MIN_RSA_BITS} bits, this one has {bits}"
        )
    if bits > MAX_RSA_BITS:
        raise InvalidInput(f"sshKey: RSA keys may have at most {MAX_RSA_BITS} bits")


def _check_ecdsa(key_type: str, reader: WireReader) -> None:
    curve, prime, coefficient = ECDSA_CURVES[key_type]
    if reader.text() != curve:
        raise WireError(f"the curve is not {curve}")
    point = reader.string()
    size = (prime.bit_length() + 7) // 8
    if len(point) != 1 + 2 * size or point[0] != 4:
        raise WireError("the point is not an uncompressed point of the curve")
    x = int.from_bytes(point[1 : 1 + size], "big")
    y = int.from_bytes(point[1 + size :], "big")
    on_curve = (y * y - (x * x * x - 3 * x + coefficient)) % prime == 0
    if x >= prime or y >= prime or not on_curve:
        raise WireError("the point is not on the curve")


def _decode_base64(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("sshKey: the key data is not valid base64") from exc


def _check_comment(comment: str) -> str:
    comment = comment.replace("\t", " ")
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"sshKey: the comment is longer than {MAX_COMMENT} characters")
    return comment


def _shown(value: str) -> str:
    """A client-supplied value made safe and short for an error detail."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in value[:40])
    return cleaned + ("..." if len(value) > 40 else "")
