"""`mec-platform user|login|token|keys|audit`: people, sign-in and the signing keys.

Commands that change users run on the box with access to the database (as the operator), and
are written to the audit log as `local <unix user>`. `login` talks to a running platform over
HTTP: it asks for a challenge, signs it with the user's SSH key and prints the access token.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mec_platform.auth.model import LOGIN_NAMESPACE, MAX_TOKEN_TTL, login_message, origin_of
from mec_platform.errors import InvalidInput

if TYPE_CHECKING:
    from mec_platform.auth.model import SshKey
    from mec_platform.bootstrap import Platform

PlatformOpener = Callable[[argparse.Namespace], AbstractContextManager["Platform"]]
DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")
# A login challenge as the platform makes them (secrets.token_urlsafe(24)); anything else,
# such as a document a rogue server would like signed, is refused.
_NONCE = re.compile(r"[A-Za-z0-9_-]{32}")


def operator() -> str:
    """How the audit log names the person running a local command."""
    return f"local {pwd.getpwuid(os.geteuid()).pw_name}"


def read_key(value: str) -> SshKey:
    """A public key given as a file path or as the key line itself."""
    from mec_platform.auth.ssh_keys import parse_public_key

    path = Path(value).expanduser()
    is_key_text = value.lstrip().startswith(("ssh-", "ecdsa-"))
    if not is_key_text and not path.exists() and ("/" in value or value.endswith(".pub")):
        raise InvalidInput(f"--key: no public key file at {path}")
    if not is_key_text and path.exists():
        try:
            value = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"--key: cannot read {path} ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise InvalidInput(f"--key: {path} is not a public key file (not text)") from None
    return parse_public_key(value.strip())


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    with_db: Callable[[argparse.ArgumentParser], argparse.ArgumentParser],
    opener: PlatformOpener,
) -> None:
    """Register the `user`, `login`, `token`, `keys` and `audit` commands."""
    _user_commands(sub, with_db, opener)
    _token_commands(sub, with_db, opener)


def _user_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    with_db: Callable[[argparse.ArgumentParser], argparse.ArgumentParser],
    opener: PlatformOpener,
) -> None:
    from mec_platform.auth.model import PEOPLE_ROLES, parse_role

    def cmd_add(args: argparse.Namespace) -> int:
        keys = [read_key(value) for value in args.key or ()]
        with opener(args) as platform:
            role = parse_role(args.role)
            (platform.auth.users.add(args.name, role, keys),)
        print(args.name)
        return 0

    def cmd_remove(args: argparse.Namespace) -> int:
        with opener(args) as platform:
            platform.auth.users.remove(args.name)
        return 0

    def cmd_list(args: argparse.Namespace) -> int:
        with opener(args) as platform:
            for user in platform.auth.users.all():
                prints = ",".join(key.fingerprint for key in user.keys) or "-"
                print(f"{user.name}\t{user.role.value}\t{prints}")
        return 0

    def cmd_set_role(args: argparse.Namespace) -> int:
        with opener(args) as platform:
            role = parse_role(args.role)
            platform.auth.users.set_role(args.name, role)
        return 0

    def cmd_key_add(args: argparse.Namespace) -> int:
        key = read_key(args.key)
        with opener(args) as platform:
            platform.auth.users.add_key(args.name, key)
        print(key.key_id)
        return 0

    def cmd_key_remove(args: argparse.Namespace) -> int:
        with opener(args) as platform:
            platform.auth.users.remove_key(args.name, args.key_id)
        return 0

    roles = [role.value for role in PEOPLE_ROLES]
    user = sub.add_parser("user", help="people: add, remove, list, set-role, key add|remove")
    users = user.add_subparsers(dest="user_command", required=True)
    add = with_db(users.add_parser("add", help="add a user (no password: SSH keys only)"))
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=roles)
    add.add_argument("--key", action="append", help="public key file or line (repeatable)")
    add.set_defaults(func=cmd_add)
    remove = with_db(users.add_parser("remove", help="remove a user and its keys"))
    remove.add_argument("name")
    remove.set_defaults(func=cmd_remove)
    with_db(users.add_parser("list", help="list users")).set_defaults(func=cmd_list)
    set_role = with_db(users.add_parser("set-role", help="give a user another role"))
    set_role.add_argument("name")
    set_role.add_argument("role", choices=roles)
    set_role.set_defaults(func=cmd_set_role)
    key = users.add_parser("key", help="a user's SSH keys")
    keys = key.add_subparsers(dest="key_command", required=True)
    key_add = with_db(keys.add_parser("add", help="register a public key"))
    key_add.add_argument("name")
    key_add.add_argument("key", help="public key file or line")
    key_add.set_defaults(func=cmd_key_add)
    key_remove = with_db(keys.add_parser("remove", help="revoke a key (sign-in and SSH)"))
    key_remove.add_argument("name")
    key_remove.add_argument("key_id", help="the keyId (hex SHA-256) that `user key add` printed")
    key_remove.set_defaults(func=cmd_key_remove)


def _token_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    with_db: Callable[[argparse.ArgumentParser], argparse.ArgumentParser],
    opener: PlatformOpener,
) -> None:
    def cmd_token(args: argparse.Namespace) -> int:
        with opener(args) as platform:
            token = platform.auth.authenticator.issue_for_user(args.name, args.ttl)
        print(token.token)
        return 0

    def cmd_rotate(args: argparse.Namespace) -> int:
        with opener(args) as platform:
            kid = platform.auth.keys.rotate()
        print(kid)
        return 0

    def cmd_prune(args: argparse.Namespace) -> int:
        import time

        with opener(args) as platform:
            # No token lives longer than MAX_TOKEN_TTL, whoever minted it.
            removed = platform.auth.keys.prune(MAX_TOKEN_TTL, time.time())
        for kid in removed:
            print(kid)
        return 0

    def cmd_audit(args: argparse.Namespace) -> int:
        from mec_platform.auth.audit_file import read_audit

        with opener(args) as platform:
            path = platform.settings.audit_log
        for record in read_audit(path, args.limit):
            print(json.dumps(record))
        return 0

    login = sub.add_parser("login", help="sign in with an SSH key; prints an access token")
    login.add_argument("name", help="your user name")
    login.add_argument("--key", help="private key (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa)")
    login.add_argument("--url", help="platform root URL (default: MEC_API_ROOT or this host)")
    login.add_argument("--scope", help="ask for fewer scopes (space-separated)")
    login.add_argument("--cacert", help="CA certificate to trust for HTTPS (e.g. the dev cert)")
    login.set_defaults(func=cmd_login)
    token = with_db(sub.add_parser("token", help="mint a token for a user, on the box itself"))
    token.add_argument("name")
    token.add_argument("--ttl", type=int, help="lifetime in seconds (default MEC_TOKEN_TTL)")
    token.set_defaults(func=cmd_token)
    keys = sub.add_parser("keys", help="token signing keys: rotate, prune")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    rotate = with_db(key_commands.add_parser("rotate", help="start signing with a new key"))
    rotate.set_defaults(func=cmd_rotate)
    prune = with_db(key_commands.add_parser("prune", help="delete keys whose tokens expired"))
    prune.set_defaults(func=cmd_prune)
    audit = with_db(sub.add_parser("audit", help="print the latest audit records"))
    audit.add_argument("--limit", type=int, default=50)
    audit.set_defaults(func=cmd_audit)


def cmd_login(args: argparse.Namespace) -> int:
    """Challenge, sign with ssh-keygen, exchange for a token; print the token."""
    from mec_platform.auth.ssh_signing import sign_with_ssh_keygen
    from mec_platform.config import Settings

    root = (args.url or Settings.from_env().api_root).rstrip("/")
    # The signature names the address this command connects to, never one the server chose.
    origin = origin_of(root)
    context = _tls_context(args.cacert)
    key = _private_key(args.key)
    answer = _post(f"{root}/oauth2/challenges", {"userName": args.name}, context, as_json=True)
    nonce = answer.get("challenge") if isinstance(answer, dict) else None
    if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
        raise InvalidInput(f"{root}: the platform sent no login challenge in the expected form")
    signature = sign_with_ssh_keygen(key, login_message(origin, args.name, nonce), LOGIN_NAMESPACE)
    form = {
        "grant_type": "urn:mec-platform:params:oauth:grant-type:ssh-signature",
        "username": args.name,
        "challenge": nonce,
        "signature": signature,
    }
    if args.scope:
        form["scope"] = args.scope
    answer = _post(f"{root}/oauth2/token", form, context, as_json=False)
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str):
        raise InvalidInput(f"{root}: the platform answered without an access token")
    print(token)
    return 0


def _tls_context(cacert: str | None) -> ssl.SSLContext | None:
    """Trust `cacert` (a PEM file) for https, or the system's authorities when None."""
    if not cacert:
        return None
    try:
        return ssl.create_default_context(cafile=cacert)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidInput(f"--cacert: cannot use {cacert} ({exc})") from None


def _private_key(given: str | None) -> Path:
    if given:
        return Path(given).expanduser()
    for name in DEFAULT_KEYS:
        candidate = Path.home() / ".ssh" / name
        if candidate.exists():
            return candidate
    raise InvalidInput("--key: no key given and none of ~/.ssh/id_ed25519, id_ecdsa, id_rsa exists")


def _post(
    url: str, fields: dict[str, str], context: ssl.SSLContext | None, *, as_json: bool
) -> Any:
    data = json.dumps(fields).encode() if as_json else urllib.parse.urlencode(fields).encode()
    kind = "application/json" if as_json else "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, headers={"Content-Type": kind})
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return json.loads(response.read())
    except ValueError:
        raise InvalidInput(f"{url}: the answer is not JSON; is this a µMEC platform?") from None
    except urllib.error.HTTPError as exc:
        raise InvalidInput(f"{url}: {exc.code} {_problem_detail(exc)}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise InvalidInput(f"{url}: cannot reach the platform ({exc})") from None


def _problem_detail(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read()).get("detail", exc.reason))
    except (ValueError, AttributeError):
        return str(exc.reason)
