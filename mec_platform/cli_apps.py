"""`mec-platform app ...`: application instances as the operator (or lifecycle) sees them.

Rules normally come from the application descriptor; here they are given as ETSI JSON, either
one per option or in a file holding `{"dnsRules": [...], "trafficRules": [...]}` (the AppD
names `appDNSRule` / `appTrafficRule` are accepted too).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mec_platform.errors import InvalidInput

if TYPE_CHECKING:
    from mec_platform.appsupport.rules import DnsRule, TrafficRule
    from mec_platform.auth.model import IssuedCredentials
    from mec_platform.bootstrap import Platform

PlatformOpener = Callable[[argparse.Namespace], AbstractContextManager["Platform"]]


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{where}: not valid JSON ({exc.msg})") from None


def _rule_documents(args: argparse.Namespace) -> tuple[list[Any], list[Any]]:
    dns = [_json(text, "--dns-rule") for text in args.dns_rule or ()]
    traffic = [_json(text, "--traffic-rule") for text in args.traffic_rule or ()]
    if args.rules:
        try:
            document = _json(Path(args.rules).read_text(), str(args.rules))
        except OSError as exc:
            raise InvalidInput(f"--rules: cannot read {args.rules} ({exc.strerror})") from None
        if not isinstance(document, dict):
            raise InvalidInput(f"{args.rules}: expected an object with dnsRules/trafficRules")
        dns += list(document.get("dnsRules") or document.get("appDNSRule") or [])
        traffic += list(document.get("trafficRules") or document.get("appTrafficRule") or [])
    return dns, traffic


def _rules(args: argparse.Namespace) -> tuple[list[DnsRule], list[TrafficRule]]:
    from mec_platform.appsupport.wire import dns_rule_from_wire, traffic_rule_from_wire

    dns, traffic = _rule_documents(args)
    for item in [*dns, *traffic]:
        if not isinstance(item, dict):
            raise InvalidInput("rules: every rule must be a JSON object")
    return [dns_rule_from_wire(item) for item in dns], [
        traffic_rule_from_wire(item) for item in traffic
    ]


def _require_provider(platform: Platform, name: str) -> None:
    from mec_platform.auth.model import Role

    if platform.auth.users.get(name).role is not Role.PROVIDER:
        raise InvalidInput(f"--owner: '{name}' is not an {Role.PROVIDER.value}")


def _print_credentials(credentials: IssuedCredentials | None) -> None:
    """The client credentials, shown this once (only their hash is kept)."""
    if credentials is not None:
        print(f"client_id={credentials.client_id}")
        print(f"client_secret={credentials.client_secret}")


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    with_db: Callable[[argparse.ArgumentParser], argparse.ArgumentParser],
    opener: PlatformOpener,
) -> None:
    """Register the `app` command group."""

    def cmd_add(args: argparse.Namespace) -> int:
        dns, traffic = _rules(args)
        with opener(args) as platform:
            if args.owner is not None:
                _require_provider(platform, args.owner)
            new = platform.apps.add_app_instance(args.name, args.id, dns, traffic, args.owner)
        print(new.app.app_instance_id)
        _print_credentials(new.credentials)
        return 0

    def cmd_credentials(args: argparse.Namespace) -> int:
        with opener(args) as platform:
            issued = platform.auth.credentials.replace(args.id)
        print(args.id)
        _print_credentials(issued)
        return 0

    def cmd_list(args: argparse.Namespace) -> int:
        with opener(args) as platform:
            for app in platform.apps.list_app_instances():
                phase = app.termination.action.value if app.termination else app.state.value
                registered = "registered" if app.registered else "-"
                print(f"{app.app_instance_id}\t{phase}\t{registered}\t{app.name}")
        return 0

    def cmd_remove(args: argparse.Namespace) -> int:
        with opener(args) as platform:
            platform.apps.remove_app_instance(args.id)
        return 0

    def cmd_terminate(args: argparse.Namespace) -> int:
        from mec_platform.appsupport.model import OperationAction

        action = OperationAction.STOPPING if args.stop else OperationAction.TERMINATING
        with opener(args) as platform:
            app = platform.apps.begin_termination(args.id, action, args.graceful_timeout)
            pending = any(
                other.app_instance_id == args.id and other.termination is not None
                for other in platform.apps.list_app_instances()
            )
        assert app.termination is not None
        if pending:
            print(
                f"{action.value.lower()}: notified; completes on confirm_termination or in "
                f"{app.termination.max_graceful_timeout} s"
            )
        else:
            print(f"{action.value.lower()}: done (no termination subscription to wait for)")
        return 0

    app = sub.add_parser("app", help="manage application instances")
    app_sub = app.add_subparsers(dest="app_command", required=True)
    add = with_db(
        app_sub.add_parser("add", help="create an app instance, print its id and credentials")
    )
    add.add_argument("name")
    add.add_argument("--id", help="use this appInstanceId instead of a new UUID")
    add.add_argument("--dns-rule", action="append", help="a DnsRule as JSON (repeatable)")
    add.add_argument("--traffic-rule", action="append", help="a TrafficRule as JSON (repeatable)")
    add.add_argument("--rules", help="JSON file with dnsRules and trafficRules lists")
    add.add_argument("--owner", help="the app provider (user name) owning the instance")
    add.set_defaults(func=cmd_add)
    credentials = with_db(
        app_sub.add_parser("credentials", help="issue a new client secret (the old one stops)")
    )
    credentials.add_argument("id")
    credentials.set_defaults(func=cmd_credentials)
    listing = with_db(app_sub.add_parser("list", help="list app instances"))
    listing.set_defaults(func=cmd_list)
    remove = with_db(app_sub.add_parser("remove", help="delete an app instance at once"))
    remove.add_argument("id")
    remove.set_defaults(func=cmd_remove)
    terminate = with_db(
        app_sub.add_parser("terminate", help="terminate (or --stop) an app instance gracefully")
    )
    terminate.add_argument("id")
    terminate.add_argument("--stop", action="store_true", help="stop instead of terminate")
    terminate.add_argument(
        "--graceful-timeout", type=int, help="seconds the app has to confirm (default 10)"
    )
    terminate.set_defaults(func=cmd_terminate)
