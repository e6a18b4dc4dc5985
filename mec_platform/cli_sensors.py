"""`mec-platform broker | sensor-bridge | export | mqtt ...`: the MQTT processes and the
broker's device and operator accounts.

Device accounts let a sensor publish to `sensors/<id>/#` and nothing else; operator accounts
read the topic filters they are given (dashboards, diagnostics). Passwords are printed once
and stored only as hashes. Application accounts come from the APIs, not from here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mec_platform.bootstrap import Platform
    from mec_platform.config import Settings
    from mec_platform.entrypoints.supervisor import WorkerSupervisor

PlatformOpener = Callable[[argparse.Namespace], AbstractContextManager["Platform"]]
SettingsOf = Callable[[argparse.Namespace], "Settings"]
WithDb = Callable[[argparse.ArgumentParser], argparse.ArgumentParser]


def add_sensor_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    with_db: WithDb,
    platform: PlatformOpener,
    settings_of: SettingsOf,
) -> None:
    """Register the MQTT process commands and `mqtt ...` on the top-level parser."""

    def cmd_broker(args: argparse.Namespace) -> int:
        from mec_platform.entrypoints import broker

        return broker.run(settings_of(args))

    def cmd_bridge(args: argparse.Namespace) -> int:
        from mec_platform.entrypoints import sensor_bridge

        return sensor_bridge.run(settings_of(args))

    def cmd_export(args: argparse.Namespace) -> int:
        return _run_export(settings_of(args))

    with_db(sub.add_parser("broker", help="run the box's MQTT broker")).set_defaults(
        func=cmd_broker
    )
    with_db(
        sub.add_parser("sensor-bridge", help="turn sensor topics into readings and services")
    ).set_defaults(func=cmd_bridge)
    with_db(
        sub.add_parser("export", help="forward topics to the upstream MQTT broker")
    ).set_defaults(func=cmd_export)
    _add_mqtt_accounts(sub, with_db, platform)


def _run_export(settings: Settings) -> int:
    import socket

    from mec_platform import logs
    from mec_platform.entrypoints.export import run_export
    from mec_platform.errors import InvalidInput
    from mec_platform.export.model import parse_export_settings
    from mec_platform.mqtt.system_credentials import EXPORT_USER, system_credentials

    logs.configure(settings.log_level, settings.log_json)
    sensors = settings.sensors
    export = parse_export_settings(sensors.export_env, socket.gethostname())
    if export is None:
        raise InvalidInput("MEC_EXPORT_URL: not set, so there is nothing to export")
    password = system_credentials(sensors.mqtt_dir(settings.data_dir))[EXPORT_USER]
    host = sensors.broker_host(settings.mqtt_host)
    return run_export(export, settings.data_dir, host, settings.mqtt_port, EXPORT_USER, password)


def _add_mqtt_accounts(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    with_db: WithDb,
    platform: PlatformOpener,
) -> None:
    def cmd_add_device(args: argparse.Namespace) -> int:
        with platform(args) as p:
            print(p.mqtt_accounts.add_device(args.name))
        return 0

    def cmd_add_operator(args: argparse.Namespace) -> int:
        with platform(args) as p:
            print(p.mqtt_accounts.add_operator(args.name, args.read or (), args.write or ()))
        return 0

    def cmd_remove(args: argparse.Namespace) -> int:
        with platform(args) as p:
            p.mqtt_accounts.remove(args.name)
        return 0

    def cmd_list(args: argparse.Namespace) -> int:
        with platform(args) as p:
            for account in p.mqtt_accounts.list():
                read, write = ",".join(account.read_topics), ",".join(account.write_topics)
                print(f"{account.username}\t{account.kind}\tread={read}\twrite={write}")
        return 0

    mqtt = sub.add_parser("mqtt", help="accounts of the box's MQTT broker")
    commands = mqtt.add_subparsers(dest="mqtt_command", required=True)
    device = with_db(
        commands.add_parser("add-device", help="an account a sensor publishes with; prints it")
    )
    device.add_argument("name", help="the sensor id (it may publish to sensors/<id>/#)")
    device.set_defaults(func=cmd_add_device)
    operator = with_db(
        commands.add_parser(
            "add-operator", help="an account with the topics it is given; prints its password"
        )
    )
    operator.add_argument("name")
    operator.add_argument("--read", action="append", help="a topic filter it may read (repeat)")
    operator.add_argument(
        "--write", action="append", help="a topic filter it may publish to (repeat)"
    )
    operator.set_defaults(func=cmd_add_operator)
    remove = with_db(commands.add_parser("remove", help="delete a device or operator account"))
    remove.add_argument("name")
    remove.set_defaults(func=cmd_remove)
    with_db(commands.add_parser("list", help="every account and its kind")).set_defaults(
        func=cmd_list
    )


def start_sensor_processes(settings: Settings) -> list[WorkerSupervisor]:
    """The broker, the sensor bridge and the export as supervised children of `serve`."""
    import logging

    from mec_platform.entrypoints.supervisor import WorkerSupervisor
    from mec_platform.mqtt.mosquitto import find_mosquitto

    sensors = settings.sensors
    if sensors.broker == "off":
        return []
    if sensors.broker == "managed" and find_mosquitto() is None:
        logging.getLogger("mec_platform.broker").error(
            "MEC_MQTT_BROKER=managed but mosquitto is not installed (scripts/setup installs "
            "it): no MQTT broker, sensor bridge or export on this box"
        )
        return []
    children = [WorkerSupervisor(role="broker").start()]
    if sensors.bridge:
        children.append(WorkerSupervisor(role="sensor-bridge").start())
    if sensors.export_env.get("MEC_EXPORT_URL"):
        children.append(WorkerSupervisor(role="export").start())
    return children
