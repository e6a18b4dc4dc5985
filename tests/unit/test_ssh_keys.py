"""Parsing of registered SSH public keys against keys made by the real ssh-keygen."""

from __future__ import annotations

import base64
import struct
import subprocess
from pathlib import Path

import pytest

from mec_platform.auth.ssh_keys import MAX_COMMENT, MAX_LINE, WireReader, parse_public_key
from mec_platform.errors import InvalidInput

ACCEPTED = {
    "ed25519": ("ed25519", None, "ssh-ed25519"),
    "ecdsa256": ("ecdsa", "256", "ecdsa-sha2-nistp256"),
    "ecdsa384": ("ecdsa", "384", "ecdsa-sha2-nistp384"),
    "ecdsa521": ("ecdsa", "521", "ecdsa-sha2-nistp521"),
    "rsa3072": ("rsa", "3072", "ssh-rsa"),
}
KINDS = {**ACCEPTED, "rsa2048": ("rsa", "2048", "ssh-rsa")}


def generate(folder: Path, name: str, kind: str, bits: str | None) -> Path:
    """A fresh passphrase-less key pair; returns the private key's path."""
    path = folder / name
    command = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"{name}@test", "-f", str(path)]
    subprocess.run([*command, *(["-b", bits] if bits else [])], check=True)
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One key pair of each kind, made once for the module."""
    folder = tmp_path_factory.mktemp("ssh-keys")
    return {name: generate(folder, name, kind, bits) for name, (kind, bits, _) in KINDS.items()}


def public_line(keys: dict[str, Path], name: str) -> str:
    return keys[name].with_suffix(".pub").read_text()


def wire(*fields: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(field)) + field for field in fields)


def line_of(key_type: str, blob: bytes, comment: str = "") -> str:
    return f"{key_type} {base64.b64encode(blob).decode()} {comment}".strip()


def refused(line: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_public_key(line)
    assert caught.value.detail.startswith("sshKey: ")
    return caught.value.detail


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_keys_of_accepted_types_parse_with_their_ssh_keygen_fingerprint(
    keys: dict[str, Path], name: str
) -> None:
    line = public_line(keys, name)
    key = parse_public_key(line)
    printed = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(keys[name].with_suffix(".pub"))],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert key.key_type == ACCEPTED[name][2]
    assert key.fingerprint == printed[1]
    assert key.comment == f"{name}@test"
    assert key.openssh == line.strip()
    assert len(key.key_id) == 64


def test_surrounding_whitespace_tabs_and_no_comment_are_fine(keys: dict[str, Path]) -> None:
    key_type, encoded, _ = public_line(keys, "ed25519").split()
    key = parse_public_key(f"  \t{key_type}\t{encoded}  \n")
    assert key.comment == ""
    assert key.openssh == f"{key_type} {encoded}"
    spaced = parse_public_key(f"{key_type} {encoded}   two words\there ")
    assert spaced.comment == "two words here"


def test_a_2048_bit_rsa_key_is_refused_with_its_size(keys: dict[str, Path]) -> None:
    detail = refused(public_line(keys, "rsa2048"))
    assert detail == "sshKey: RSA keys need at least 3072 bits, this one has 2048"


@pytest.mark.parametrize(
    "key_type", ["ssh-dss", "sk-ssh-ed25519@openssh.com", "ssh-ed448", "ecdsa-sha2-nistp224"]
)
def test_other_key_types_are_refused_naming_the_accepted_ones(key_type: str) -> None:
    detail = refused(line_of(key_type, wire(key_type.encode(), b"\1" * 32)))
    assert detail.startswith(f"sshKey: key type '{key_type}' is not accepted; use ssh-ed25519")
    assert "ssh-rsa (>= 3072 bits)" in detail


def test_the_inner_type_must_equal_the_declared_type(keys: dict[str, Path]) -> None:
    _, encoded, _ = public_line(keys, "ed25519").split()
    detail = refused(f"ssh-rsa {encoded}")
    assert "of type 'ssh-ed25519', the line says 'ssh-rsa'" in detail


def test_malformed_base64_is_refused(keys: dict[str, Path]) -> None:
    key_type, encoded, _ = public_line(keys, "ed25519").split()
    assert refused(f"{key_type} {encoded[:-2]}!!") == "sshKey: the key data is not valid base64"
    assert "base64" in refused(f"{key_type} {encoded[:-1]}")


def blob_of(keys: dict[str, Path], name: str) -> tuple[str, bytes]:
    key_type, encoded, _ = public_line(keys, name).split()
    return key_type, base64.b64decode(encoded)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_truncated_or_extended_blobs_are_refused(keys: dict[str, Path], name: str) -> None:
    key_type, blob = blob_of(keys, name)
    for cut in (1, 4, len(blob) // 2, len(blob) - 4):
        assert "malformed" in refused(line_of(key_type, blob[:-cut]))
    assert "trailing bytes" in refused(line_of(key_type, blob + b"\0"))


def test_ed25519_keys_must_be_32_bytes() -> None:
    for size in (31, 33):
        detail = refused(line_of("ssh-ed25519", wire(b"ssh-ed25519", b"\7" * size)))
        assert "32 bytes" in detail


def test_ecdsa_curve_must_match_the_type(keys: dict[str, Path]) -> None:
    _, blob = blob_of(keys, "ecdsa256")
    reader = WireReader(blob)
    _, _, point = reader.string(), reader.string(), reader.string()
    detail = refused(
        line_of("ecdsa-sha2-nistp256", wire(b"ecdsa-sha2-nistp256", b"nistp384", point))
    )
    assert "the curve is not nistp256" in detail


@pytest.mark.parametrize("name", ["ecdsa256", "ecdsa384", "ecdsa521"])
def test_ecdsa_points_off_the_curve_or_compressed_are_refused(
    keys: dict[str, Path], name: str
) -> None:
    declared, blob = blob_of(keys, name)
    reader = WireReader(blob)
    key_type, curve, point = reader.string(), reader.string(), reader.string()
    off_curve = point[:-1] + bytes([point[-1] ^ 1])
    assert "not on the curve" in refused(line_of(declared, wire(key_type, curve, off_curve)))
    size = (len(point) - 1) // 2
    compressed = bytes([2 + (point[-1] & 1)]) + point[1 : 1 + size]
    detail = refused(line_of(declared, wire(key_type, curve, compressed)))
    assert "not an uncompressed point" in detail


def rsa_parts(keys: dict[str, Path]) -> tuple[bytes, bytes]:
    _, blob = blob_of(keys, "rsa3072")
    reader = WireReader(blob)
    reader.string()
    return reader.string(), reader.string()


def test_rsa_blobs_need_exponent_and_modulus_in_canonical_form(keys: dict[str, Path]) -> None:
    exponent, modulus = rsa_parts(keys)
    assert "malformed" in refused(line_of("ssh-rsa", wire(b"ssh-rsa", exponent)))
    negative = line_of("ssh-rsa", wire(b"ssh-rsa", exponent, modulus.lstrip(b"\0")))
    assert "negative integer" in refused(negative)
    padded = line_of("ssh-rsa", wire(b"ssh-rsa", b"\0" + exponent, modulus))
    assert "superfluous leading zero" in refused(padded)
    even = line_of("ssh-rsa", wire(b"ssh-rsa", b"\2", modulus))
    assert "implausible exponent" in refused(even)


def test_garbage_empty_and_option_prefixed_lines_are_refused(keys: dict[str, Path]) -> None:
    assert refused("") == "sshKey: expected '<type> <base64 key> [comment]'"
    assert refused("just-one-word").startswith("sshKey: expected")
    assert "not accepted" in refused("hello world, this is not a key")
    assert "not accepted" in refused('from="10.0.0.1" ' + public_line(keys, "ed25519"))
    assert "not valid base64" in refused("ssh-ed25519 AAAAA")
    assert "malformed" in refused("ssh-ed25519 " + base64.b64encode(b"\0\0\0\xffssh").decode())


def test_huge_lines_and_long_comments_are_refused(keys: dict[str, Path]) -> None:
    line = " ".join(public_line(keys, "ed25519").split()[:2])
    assert "longer than" in refused(line + " " + "x" * MAX_LINE)
    assert "comment is longer" in refused(line + " " + "y" * (MAX_COMMENT + 1))
    assert parse_public_key(line + " " + "y" * MAX_COMMENT).comment == "y" * MAX_COMMENT


@pytest.mark.parametrize("bad", ["\n", "\r", "\x00", "\x1b[31m", "\u202e", "\u2028", "\x7f"])
def test_control_characters_anywhere_are_refused(keys: dict[str, Path], bad: str) -> None:
    key_type, encoded, _ = public_line(keys, "ed25519").split()
    detail = refused(f"{key_type} {encoded} evil{bad}comment")
    assert detail == "sshKey: the key must be one line of printable characters"
    assert refused(f"{key_type}{bad}{encoded}").startswith("sshKey: ")


def test_error_details_do_not_echo_long_or_unprintable_types() -> None:
    detail = refused("x" * 300 + " AAAA")
    assert len(detail) < 200
    assert "..." in detail
