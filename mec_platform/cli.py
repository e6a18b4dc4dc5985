"""`mec-platform`: serve, worker, data plane, migrate, app instances, spec-diff."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import ssl
import stat
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mec_platform.cli_apps import add_commands as add_app_commands
from mec_platform.cli_packages import add_commands as add_package_commands
from mec_platform.cli_sensors import add_sensor_commands, start_sensor_processes
from mec_platform.cli_users import add_commands as add_user_commands
from mec_platform.config import Settings
from mec_platform.errors import InvalidInput, PlatformError

if TYPE_CHECKING:
    from mec_platform.bootstrap import Platform

log = logging.getLogger("mec_platform.cli")


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    return settings.with_overrides(
        database_url=getattr(args, "database_url", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        http_workers=getattr(args, "workers", None),
        api_root_override=getattr(args, "api_root", None),
        tls_cert=_optional_path(getattr(args, "tls_cert", None)),
        tls_key=_optional_path(getattr(args, "tls_key", None)),
    )


def _optional_path(value: str | None) -> Path | None:
    return Path(value).resolve() if value else None


def _prepare_metrics_dir(settings: Settings) -> Path:
    # Multiprocess metric files belong to one server run; stale ones would be summed in.
    directory = settings.metrics_dir or settings.data_dir / "metrics"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def _check_tls_files(cert: Path, key: Path) -> None:
    """Refuse, before gunicorn starts, a certificate or key it could not load."""
    for option, path in (("--tls-cert", cert), ("--tls-key", key)):
        try:
            if not stat.S_ISREG(path.stat().st_mode):
                raise InvalidInput(f"{option}: {path} is not a regular file")
            with path.open("rb"):
                pass
        except OSError as exc:
            raise InvalidInput(f"{option}: cannot read {path} ({exc.strerror})") from None
    try:
        # An encrypted key would make OpenSSL ask for a passphrase at a terminal a service
        # does not have; it is refused here too.
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            cert, key, password=lambda: b""
        )
    except (ssl.SSLError, OSError) as exc:
        raise InvalidInput(
            f"--tls-cert/--tls-key: {cert} and {key} are not a PEM certificate and its "
            f"unencrypted private key ({exc})"
        ) from None


def _render_maintenance_access(platform: Platform) -> None:
    """Bring the maintenance access files in line with the database, once per server start."""
    try:
        platform.auth.users.render_maintenance_access()
    except PlatformError as exc:
        # The APIs are still worth serving; every later user change reports this again.
        log.error("maintenance access over SSH not rendered at start: %s", exc.detail)


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate, then run gunicorn (uvicorn workers) and, unless disabled, the worker process."""
    settings = _settings(args)
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise PlatformError("serve: give both --tls-cert and --tls-key, or neither")
    if settings.tls_cert is not None and settings.tls_key is not None:
        _check_tls_files(settings.tls_cert, settings.tls_key)
    metrics_dir = _prepare_metrics_dir(settings)
    settings = settings.with_overrides(metrics_dir=metrics_dir)
    os.environ.update(settings.to_env())
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    from mec_platform import logs
    from mec_platform.bootstrap import bootstrap

    logs.configure(settings.log_level, settings.log_json)
    platform = bootstrap(settings)
    try:
        _render_maintenance_access(platform)
    finally:
        platform.close()
    from mec_platform.entrypoints.container_runtime import SupervisedPodman
    from mec_platform.entrypoints.gunicorn_app import PlatformServer
    from mec_platform.entrypoints.supervisor import WorkerSupervisor

    children: list[WorkerSupervisor | SupervisedPodman] = []
    extra_hosts: list[str] = []
    gateway: str | None = None
    if settings.lifecycle_enabled:
        from mec_platform.entrypoints.container_runtime import start_container_runtime

        runtime = start_container_runtime(settings)
        if runtime is None:
            settings = settings.with_overrides(lifecycle_enabled=False)
            os.environ.update(settings.to_env())
        else:
            if runtime.service is not None:
                children.append(runtime.service)
            gateway = runtime.gateway
            if runtime.gateway and settings.host not in {"0.0.0.0", "::", runtime.gateway}:
                extra_hosts.append(runtime.gateway)
            children.append(WorkerSupervisor(role="lifecycle").start())
    if gateway and gateway not in settings.sensors.listen:
        # Apps reach the broker where they reach the APIs: on the app network's gateway.
        listen = (*settings.sensors.listen, gateway)
        settings = settings.with_overrides(sensors=replace(settings.sensors, listen=listen))
        os.environ.update(settings.to_env())
    children.extend(start_sensor_processes(settings))
    if not args.no_worker:
        children.append(WorkerSupervisor(role="worker").start())
    if settings.dataplane and not args.no_dataplane:
        children.append(WorkerSupervisor(role="dataplane").start())
    try:
        PlatformServer(settings, access_log=args.access_log, extra_hosts=extra_hosts).run()
    finally:
        # The Podman service goes last: the lifecycle process may still be talking to it.
        for child in reversed(children):
            child.stop()
    return 0


def cmd_dataplane(args: argparse.Namespace) -> int:
    """Run the data plane (DNS server, packet filter) in the foreground."""
    from mec_platform.entrypoints import dataplane

    return dataplane.run(_settings(args))


def cmd_lifecycle(args: argparse.Namespace) -> int:
    """Run the app lifecycle process (operations on Podman, reconciliation) in the foreground."""
    from mec_platform.entrypoints import lifecycle

    return lifecycle.run(_settings(args))


def cmd_worker(args: argparse.Namespace) -> int:
    """Run the notification worker in the foreground."""
    from mec_platform.entrypoints import worker

    return worker.run(_settings(args))


@contextmanager
def _platform(args: argparse.Namespace) -> Iterator[Platform]:
    """The wired platform (migrated) for a one-shot admin command."""
    from mec_platform.bootstrap import bootstrap

    platform = bootstrap(_settings(args))
    try:
        yield platform
    finally:
        platform.close()


def cmd_migrate(args: argparse.Namespace) -> int:
    """Create or upgrade the database schema."""
    with _platform(args):
        print("database is up to date")
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    """Show notification delivery figures."""
    with _platform(args) as platform, platform.uows() as uow:
        stats = uow.outbox.stats()
    print(
        f"pending={stats.pending} delivered={stats.delivered_total} "
        f"attempts={stats.attempts_total} failures={stats.failures_total}"
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mec-platform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--database-url",
            help="SQLAlchemy URL (default: MEC_DATABASE_URL or SQLite under the data directory)",
        )
        return p

    serve = with_db(sub.add_parser("serve", help="run the HTTP APIs (and the worker)"))
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default 8080)")
    serve.add_argument("--workers", type=int, help="gunicorn worker processes (default 2)")
    serve.add_argument("--api-root", help="public URL root used in links and Location headers")
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="do not start the notification worker (run `mec-platform worker`)",
    )
    serve.add_argument(
        "--no-dataplane",
        action="store_true",
        help="do not start the data plane (run `mec-platform dataplane`)",
    )
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    serve.add_argument("--tls-key", help="the certificate's private key (PEM)")
    serve.set_defaults(func=cmd_serve)
    with_db(sub.add_parser("worker", help="deliver notifications")).set_defaults(func=cmd_worker)
    with_db(sub.add_parser("dataplane", help="enforce DNS and traffic rules")).set_defaults(
        func=cmd_dataplane
    )
    with_db(
        sub.add_parser("lifecycle", help="run app lifecycle operations on Podman")
    ).set_defaults(func=cmd_lifecycle)
    with_db(sub.add_parser("migrate", help="create/upgrade the schema")).set_defaults(
        func=cmd_migrate
    )
    with_db(sub.add_parser("outbox", help="notification delivery figures")).set_defaults(
        func=cmd_outbox
    )
    add_app_commands(sub, with_db, _platform)
    add_user_commands(sub, with_db, _platform)
    add_package_commands(sub)
    add_sensor_commands(sub, with_db, _platform, _settings)
    diff = sub.add_parser("spec-diff", help="compare our OpenAPI spec with ETSI's", add_help=False)
    diff.add_argument("rest", nargs=argparse.REMAINDER)
    diff.set_defaults(func=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["spec-diff"]:
        from mec_platform.specdiff.cli import main as spec_diff

        return spec_diff(argv[1:])
    args = _parser().parse_args(argv)
    action = _audited_action(args)
    try:
        status = int(args.func(args))
    except PlatformError as exc:
        if action:
            _audit(args, action, "failed", reason=exc.detail)
        print(f"mec-platform: {exc.detail}", file=sys.stderr)
        return 1
    if action:
        _audit(args, action, "done")
    return status


# Commands that change the platform, each run written to the audit log: the command's words
# -> the positional argument naming its target (None: no target).
AUDITED: dict[tuple[str, ...], str | None] = {
    ("app", "add"): "name",
    ("app", "remove"): "id",
    ("app", "terminate"): "id",
    ("app", "credentials"): "id",
    ("user", "add"): "name",
    ("user", "remove"): "name",
    ("user", "set-role"): "name",
    ("user", "key", "add"): "name",
    ("user", "key", "remove"): "name",
    ("keys", "rotate"): None,
    ("keys", "prune"): None,
    # Who may publish apps on this box: changes to the trusted package signers are recorded.
    ("package", "trust", "add"): "key",
    ("package", "trust", "remove"): "fingerprint",
    ("mqtt", "add-device"): "name",
    ("mqtt", "add-operator"): "name",
    ("mqtt", "remove"): "name",
}
# Where argparse keeps the chosen sub-command at each level, outermost first.
_SUBCOMMANDS = (
    "command",
    "app_command",
    "user_command",
    "key_command",
    "keys_command",
    "package_command",
    "trust_command",
    "mqtt_command",
)
# Arguments recorded as details: known not to be secret and worth knowing afterwards. Any
# other value (--database-url with its password, rules as JSON, a key) stays out.
_AUDITED_DETAILS = ("role", "owner", "key_id")


def _audited_action(args: argparse.Namespace) -> str | None:
    """`mec-platform <command words> [target]` for a command that changes the platform."""
    words = tuple(str(getattr(args, dest)) for dest in _SUBCOMMANDS if getattr(args, dest, None))
    if words not in AUDITED:
        return None
    target = AUDITED[words]
    named = [str(getattr(args, target))] if target else []
    return " ".join(["mec-platform", *words, *named])


def _audit(args: argparse.Namespace, action: str, outcome: str, **details: object) -> None:
    from mec_platform.auth.audit_file import JsonLinesAuditLog
    from mec_platform.cli_users import operator

    for name in _AUDITED_DETAILS:
        value = getattr(args, name, None)
        if value is not None:
            details.setdefault(name, str(value))
    JsonLinesAuditLog(_settings(args).audit_log).record(operator(), action, outcome, **details)


if __name__ == "__main__":
    sys.exit(main())
