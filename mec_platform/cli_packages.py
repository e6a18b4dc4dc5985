"""`mec-platform package build|sign|verify|trust|onboard`: application packages (ETSI GS MEC
010-2) from an app provider's folder to an onboarded package on a platform.

`build`, `sign` and `verify` work offline on the provider's machine; `trust` edits the
operator's list of keys allowed to sign packages (on the box); `onboard` talks to a running
platform over HTTP(S): it creates the package resource, uploads the ZIP and waits until the
platform has checked and accepted it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from mec_platform.cli_users import _problem_detail, _tls_context
from mec_platform.errors import InvalidInput

if TYPE_CHECKING:
    from mec_platform.packages.archive import PackageContents
    from mec_platform.registry.model import JsonObject

PACKAGES_PATH = "/app_pkgm/v1/onboarded_app_packages"
HTTP_TIMEOUT = 60.0
DEFAULT_WAIT = 600.0
_MAX_POLL_DELAY = 2.0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `package` command and its sub-commands."""
    package = sub.add_parser("package", help="application packages: build, sign, verify, ...")
    commands = package.add_subparsers(dest="package_command", required=True)
    build = commands.add_parser("build", help="make a package (ZIP) from an application folder")
    build.add_argument("app_dir", metavar="APP_DIR", help="folder with appd.json[, images/, ...]")
    build.add_argument("-o", "--output", required=True, metavar="OUT.zip", help="package file")
    image = build.add_mutually_exclusive_group()
    image.add_argument("--image-archive", metavar="FILE", help="image tar made by `podman save`")
    image.add_argument("--image-id", metavar="SHA", help="id of the local image the AppD names")
    build.set_defaults(func=cmd_build)
    sign = commands.add_parser("sign", help="sign a package with your SSH key (ssh-keygen)")
    sign.add_argument("package", metavar="PKG")
    sign.add_argument("--key", required=True, help="private SSH key to sign with")
    sign.set_defaults(func=cmd_sign)
    verify = commands.add_parser("verify", help="check a package offline, print its AppD")
    verify.add_argument("package", metavar="PKG")
    _trusted_option(verify)
    verify.set_defaults(func=cmd_verify)
    _trust_commands(commands)
    onboard = commands.add_parser("onboard", help="upload a package to a platform")
    onboard.add_argument("package", metavar="PKG")
    onboard.add_argument("--url", required=True, metavar="ROOT", help="platform root URL")
    onboard.add_argument("--token", help="access token (default: MEC_TOKEN)")
    onboard.add_argument("--cacert", help="CA certificate to trust for HTTPS")
    onboard.add_argument("--no-wait", action="store_true", help="do not wait for ONBOARDED")
    onboard.add_argument(
        "--timeout", type=float, default=DEFAULT_WAIT, help="seconds to wait (default 600)"
    )
    onboard.set_defaults(func=cmd_onboard)


def _trust_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trust = commands.add_parser("trust", help="keys trusted to sign packages: add, list, remove")
    trust_commands = trust.add_subparsers(dest="trust_command", required=True)
    add = trust_commands.add_parser("add", help="trust a public key to sign packages")
    add.add_argument("key", metavar="KEYFILE", help="public key file (.pub) or the key line")
    add.set_defaults(func=cmd_trust_add)
    listing = trust_commands.add_parser("list", help="list the trusted keys")
    listing.set_defaults(func=cmd_trust_list)
    remove = trust_commands.add_parser("remove", help="stop trusting a key")
    remove.add_argument("fingerprint", metavar="FINGERPRINT", help="SHA256:... as listed")
    remove.set_defaults(func=cmd_trust_remove)
    for command in (add, listing, remove):
        _trusted_option(command)


def _trusted_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trusted",
        metavar="FILE",
        help="trusted keys file (default: the platform's, MEC_PACKAGE_TRUSTED_KEYS)",
    )


def _trusted_path(args: argparse.Namespace) -> Path:
    if args.trusted:
        return Path(args.trusted)
    from mec_platform.config import Settings

    return Settings.from_env().package_trusted_keys


def cmd_build(args: argparse.Namespace) -> int:
    """Build the package and print its path."""
    from mec_platform.packages.builder import build_package

    archive = Path(args.image_archive) if args.image_archive else None
    out = build_package(Path(args.app_dir), Path(args.output), archive, args.image_id)
    print(out)
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    """Sign the package and print the signing key's fingerprint."""
    from mec_platform.packages.builder import sign_package

    package = _existing(args.package)
    signer = sign_package(package, Path(args.key).expanduser())
    print(signer.fingerprint)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Check everything the platform checks (but the local image) and print the AppD."""
    from mec_platform.packages.archive import PackageLimits, read_package
    from mec_platform.packages.signing import read_trusted_keys, verify_package

    package = _existing(args.package)
    trusted = read_trusted_keys(_trusted_path(args))
    with tempfile.TemporaryDirectory(prefix="mec-verify-") as folder:
        contents = read_package(package, Path(folder) / "package", PackageLimits())
        signer = verify_package(contents, trusted)
    for name, value in _summary(contents).items():
        print(f"{name}: {value}")
    print(f"signedBy: {signer.fingerprint} {signer.comment}".rstrip())
    return 0


def _summary(contents: PackageContents) -> dict[str, str]:
    """The AppD's essentials, one line each."""
    appd = contents.appd
    image = appd.image
    where = image.path or image.reference
    compute = appd.compute
    return {
        "appDId": appd.app_d_id,
        "appName": appd.app_name,
        "appProvider": appd.app_provider,
        "appSoftVersion": appd.app_soft_version,
        "appDVersion": appd.app_d_version,
        "mecVersion": ", ".join(appd.mec_version),
        "image": f"{where} ({image.container_format}, {image.checksum_algorithm} "
        f"{image.checksum_hash})",
        "cpus": "-" if compute.cpus is None else f"{compute.cpus:g}",
        "memoryMiB": "-" if compute.memory_mib is None else str(compute.memory_mib),
        "ports": ", ".join(f"{p.name} {p.port}/{p.protocol}" for p in appd.ports) or "-",
        "servicesProduced": _names(appd.services_produced),
        "servicesRequired": _names(appd.services_required),
        "servicesOptional": _names(appd.services_optional),
        "dnsRules": str(len(appd.dns_rules)),
        "trafficRules": str(len(appd.traffic_rules)),
        "artifacts": ", ".join(contents.artifacts) or "-",
        "packageSha256": contents.sha256,
    }


def _names(services: tuple[JsonObject, ...]) -> str:
    return ", ".join(f"{s['serName']} {s['version']}" for s in services) or "-"


def cmd_trust_add(args: argparse.Namespace) -> int:
    """Trust a key; print its fingerprint."""
    from mec_platform.packages.signing import add_trusted_key

    key = add_trusted_key(_trusted_path(args), _key_text(args.key))
    print(key.fingerprint)
    return 0


def cmd_trust_list(args: argparse.Namespace) -> int:
    """One trusted key per line: fingerprint, type, comment."""
    from mec_platform.packages.signing import read_trusted_keys

    for key in read_trusted_keys(_trusted_path(args)):
        print(f"{key.fingerprint}\t{key.key_type}\t{key.comment}".rstrip())
    return 0


def cmd_trust_remove(args: argparse.Namespace) -> int:
    """Stop trusting a key."""
    from mec_platform.packages.signing import remove_trusted_key

    remove_trusted_key(_trusted_path(args), args.fingerprint)
    return 0


def _key_text(value: str) -> str:
    """A public key given as the key line itself or as a file holding it."""
    if value.lstrip().startswith(("ssh-", "ecdsa-")):
        return value
    path = Path(value).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{value}: no public key file there") from None
    except (OSError, UnicodeDecodeError):
        raise InvalidInput(f"{path}: cannot read it as a public key file") from None
    if "PRIVATE KEY" in text:
        raise InvalidInput(f"{path}: is a private key; give the public one (.pub)")
    return text


def _existing(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise InvalidInput(f"{value}: no package file there")
    return path


# -- onboarding over HTTP ---------------------------------------------------------------------
def cmd_onboard(args: argparse.Namespace) -> int:
    """Create the package resource, upload the ZIP, wait for ONBOARDED (unless --no-wait)."""
    from mec_platform.packages.archive import read_appd, sha256_of_file

    package = _existing(args.package)
    appd = read_appd(package)
    client = _Client(args.url, args.token or os.environ.get("MEC_TOKEN"), args.cacert)
    created = client.call(
        "POST",
        PACKAGES_PATH,
        _json_body(
            {
                "appPkgName": appd.app_name,
                "appPkgVersion": appd.app_soft_version,
                "appProvider": appd.app_provider,
                "checksum": {"algorithm": "SHA-256", "hash": sha256_of_file(package)},
                # A URI (the spec says so): the content is uploaded, so only its name matters.
                "appPkgPath": f"file:{quote(package.name)}",
                "userDefinedData": {},
            }
        ),
    )
    package_id = created.get("id") if isinstance(created, dict) else None
    if not isinstance(package_id, str) or not package_id:
        raise InvalidInput(f"{client.root}: the platform answered without a package id")
    resource = f"{PACKAGES_PATH}/{urllib.parse.quote(package_id, safe='')}"
    with package.open("rb") as body:
        size = str(package.stat().st_size)
        headers = {"Content-Type": "application/zip", "Content-Length": size}
        client.call("PUT", f"{resource}/package_content", (body, headers))
    if args.no_wait:
        print(package_id)
        return 0
    info = _wait_onboarded(client, resource, args.timeout)
    print(f"{info.get('appDId')}\t{package_id}\t{info.get('operationalState')}")
    return 0


def _json_body(document: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    return json.dumps(document).encode(), {"Content-Type": "application/json"}


def _wait_onboarded(client: _Client, resource: str, timeout: float) -> dict[str, Any]:
    """Poll the package until it is ONBOARDED or reports why onboarding failed."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        info = client.call("GET", resource)
        if not isinstance(info, dict):
            raise InvalidInput(f"{client.root}{resource}: the answer is not an AppPkgInfo")
        failure = info.get("onboardingFailureDetails")
        if failure:
            detail = failure.get("detail") if isinstance(failure, dict) else None
            raise InvalidInput(f"onboarding failed: {detail or failure}")
        state = info.get("onboardingState")
        if state == "ONBOARDED":
            return info
        if time.monotonic() > deadline:
            raise InvalidInput(
                f"the package is still {state} after {timeout:g} s; look at "
                f"{client.root}{resource} later"
            )
        time.sleep(delay)
        delay = min(delay * 2, _MAX_POLL_DELAY)


class _Client:
    """JSON over HTTP(S) to one platform, with its bearer token, errors as InvalidInput."""

    def __init__(self, root: str, token: str | None, cacert: str | None) -> None:
        self.root = root.rstrip("/")
        self._token = token
        self._context = _tls_context(cacert)

    def call(
        self,
        method: str,
        path: str,
        body: tuple[bytes | IO[bytes], dict[str, str]] | None = None,
    ) -> Any:
        """The decoded JSON answer (None for an empty one)."""
        url = f"{self.root}{path}"
        data, headers = body if body is not None else (None, {})
        headers = {"Accept": "application/json", **headers}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(
                request, timeout=HTTP_TIMEOUT, context=self._context
            ) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise InvalidInput(f"{method} {url}: {exc.code} {_problem_detail(exc)}") from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise InvalidInput(f"{url}: cannot reach the platform ({exc})") from None
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise InvalidInput(f"{url}: the answer is not JSON; is this a µMEC platform?") from None
