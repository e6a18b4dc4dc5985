"""Identities of the platform: people (users with SSH keys), app instances (OAuth2 clients),
their roles and the scopes each role's tokens carry."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from mec_platform.errors import InvalidInput


class Role(StrEnum):
    """What an identity may do; the policy (auth.policy) says exactly where."""

    ADMIN = "platform-admin"
    PROVIDER = "app-provider"
    APP = "app-instance"
    VIEWER = "viewer"


# People hold these roles; `app-instance` belongs to the OAuth2 client of an app instance.
PEOPLE_ROLES = (Role.ADMIN, Role.PROVIDER, Role.VIEWER)

SERVICE_MGMT = "mec011:service-mgmt"
SERVICE_MGMT_READ = "mec011:service-mgmt:read"
APP_SUPPORT = "mec011:app-support"
APP_SUPPORT_READ = "mec011:app-support:read"
USERS = "platform:users"
APP_PKGM = "mec010:app-pkgm"
APP_PKGM_READ = "mec010:app-pkgm:read"
APP_LCM = "mec010:app-lcm"
APP_LCM_READ = "mec010:app-lcm:read"
SENSORS = "platform:sensors"
SENSORS_READ = "platform:sensors:read"
MEC033_IOT = "mec033:iot"
MEC033_IOT_READ = "mec033:iot:read"

_MEC011 = (SERVICE_MGMT, SERVICE_MGMT_READ, APP_SUPPORT, APP_SUPPORT_READ)
_MEC010 = (APP_PKGM, APP_PKGM_READ, APP_LCM, APP_LCM_READ)
_SENSORS = (SENSORS, SENSORS_READ)
_MEC033 = (MEC033_IOT, MEC033_IOT_READ)
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset((*_MEC011, *_MEC010, USERS, *_SENSORS, *_MEC033)),
    Role.PROVIDER: frozenset((*_MEC011, *_MEC010, USERS, *_SENSORS, *_MEC033)),
    # App instances use MEC 011 and sensors only: they do not manage packages or other instances.
    # They read the IoT registry (MEC 033) but leave registering devices to people.
    Role.APP: frozenset((*_MEC011, *_SENSORS, MEC033_IOT_READ)),
    # Read-only: the users API scope lets a viewer read its own identity and keys.
    Role.VIEWER: frozenset(
        (
            SERVICE_MGMT_READ,
            APP_SUPPORT_READ,
            APP_PKGM_READ,
            APP_LCM_READ,
            USERS,
            SENSORS_READ,
            MEC033_IOT_READ,
        )
    ),
}

_USER_NAME = re.compile(r"[a-z_][a-z0-9._-]{0,63}")


def check_user_name(name: str) -> str:
    """A user name as on a Unix system: lower case, digits, `._-`, at most 64 characters."""
    if not _USER_NAME.fullmatch(name):
        raise InvalidInput(
            f"userName: '{name[:80]}' is not a valid name (lower case letters, digits, '._-', "
            "starting with a letter or '_', at most 64 characters)"
        )
    return name


def parse_role(value: str, *, people_only: bool = True) -> Role:
    """The role named by `value`; people may not hold `app-instance`."""
    allowed = PEOPLE_ROLES if people_only else tuple(Role)
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role is None or role not in allowed:
        names = ", ".join(r.value for r in allowed)
        raise InvalidInput(f"role: '{value[:80]}' is not one of {names}")
    return role


@dataclass(frozen=True)
class SshKey:
    """An SSH public key a person signs in with; `blob` is the key in SSH wire format."""

    key_type: str
    blob: bytes
    comment: str = ""

    @property
    def key_id(self) -> str:
        """Stable identifier in URLs: the SHA-256 of the blob in lower-case hex."""
        return hashlib.sha256(self.blob).hexdigest()

    @property
    def fingerprint(self) -> str:
        """The fingerprint as `ssh-keygen -l` prints it (SHA256:base64, unpadded)."""
        digest = base64.b64encode(hashlib.sha256(self.blob).digest()).decode()
        return "SHA256:" + digest.rstrip("=")

    @property
    def openssh(self) -> str:
        """The `authorized_keys` form: type, base64 blob, comment."""
        line = f"{self.key_type} {base64.b64encode(self.blob).decode()}"
        return f"{line} {self.comment}" if self.comment else line


@dataclass(frozen=True)
class User:
    """A person: a unique name, one role, any number of SSH keys (never a password)."""

    name: str
    role: Role
    created_at: float
    keys: tuple[SshKey, ...] = ()


@dataclass(frozen=True)
class Client:
    """OAuth2 client credentials; the secret itself is never stored, only its hash."""

    client_id: str
    secret_hash: str
    role: Role
    created_at: float
    app_instance_id: str | None = None


@dataclass(frozen=True)
class IssuedCredentials:
    """Client credentials as shown once, when created or replaced."""

    client_id: str
    client_secret: str


LOGIN_NAMESPACE = "mec-platform-login"
# The longest lifetime of any token, whoever mints it; key pruning waits at least this long.
MAX_TOKEN_TTL = 86_400
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """`scheme://host:port` of an http(s) URL, lower case, with the port always written."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
        scheme = ""
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise InvalidInput(f"url: '{url[:200]}' is not an http:// or https:// URL with a host")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS[scheme]}"


def login_message(origin: str, user_name: str, nonce: str) -> bytes:
    """What a person signs (SSH signature, namespace LOGIN_NAMESPACE) to obtain a token.

    It names the platform the signer meant (the origin of the URL it signed in to), the user
    and the server's nonce, so a signature is worth nothing to another platform, even one
    that relayed this platform's nonce to the signer.
    """
    return f"{LOGIN_NAMESPACE}\norigin {origin}\nuser {user_name}\nnonce {nonce}\n".encode()


@dataclass(frozen=True)
class LoginChallenge:
    """A single-use server nonce a person signs with an SSH key to obtain a token."""

    nonce: str
    user_name: str
    expires_at: float


@dataclass(frozen=True)
class Principal:
    """The verified identity behind a request's access token."""

    subject: str
    role: Role
    scopes: frozenset[str] = field(default_factory=frozenset)
    app_instance_id: str | None = None
    token_id: str = ""
    expires_at: float = 0.0

    @property
    def is_person(self) -> bool:
        """True for users (signed in with SSH keys), False for app-instance clients."""
        return self.role is not Role.APP


@dataclass(frozen=True)
class AccessToken:
    """An issued access token as the token endpoint returns it (RFC 6749 clause 5.1)."""

    token: str
    expires_in: int
    scopes: frozenset[str]
