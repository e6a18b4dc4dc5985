"""Use cases of the MEC 033 IoT API (registered devices and IoT platforms), and the hook the
sensor bridge calls to register each sensor as a device of the built-in platform.

`enabled` is never stored: it is worked out on every read from the device and the platforms
registered at that moment, so deregistering a platform disables its devices at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from mec_platform.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from mec_platform.iot.model import (
    LOCAL_PLATFORM_ID,
    MAX_METADATA,
    Device,
    DeviceSource,
    DeviceView,
    IotPlatform,
    MetadataEntry,
    check_device,
    check_platform,
    is_enabled,
    is_valid_id,
)
from mec_platform.iot.ports import IotUnitOfWork, IotUnitOfWorkFactory
from mec_platform.registry.model import if_match_allows
from mec_platform.registry.ports import Clock

QUANTITY_KEY = "quantity"


class IotRegistry:
    """Registered IoT devices and IoT platforms, next to the built-in platform."""

    def __init__(self, uows: IotUnitOfWorkFactory, clock: Clock, local: IotPlatform) -> None:
        self._uows = uows
        self._clock = clock
        self.local = local

    # -- devices ---------------------------------------------------------------------------
    def devices(self) -> list[DeviceView]:
        """Every registered device with its `enabled` value, by id."""
        with self._uows() as uow:
            platforms = self._platforms(uow)
            return [(d, is_enabled(d, platforms)) for d in uow.iot_devices.all()]

    def device(self, device_id: str) -> DeviceView:
        """One device, or NotFound."""
        with self._uows() as uow:
            device = uow.iot_devices.get(device_id)
            if device is None:
                raise _no_device(device_id)
            return device, self._enabled(uow, device)

    def register_device(self, device: Device) -> DeviceView:
        """Register a new device under its id; Conflict when the id is taken."""
        check_device(device)
        stored = replace(device, source=DeviceSource.API, revision=1, created_at=self._clock())
        with self._uows(write=True) as uow:
            if not uow.iot_devices.add(stored):
                raise Conflict(f"deviceId: a device '{device.device_id}' is registered already")
            view = stored, self._enabled(uow, stored)
            uow.commit()
        return view

    def update_device(self, device_id: str, device: Device, if_match: str | None) -> DeviceView:
        """Replace a device's registration, honouring If-Match."""
        if device.device_id != device_id:
            raise InvalidInput(
                f"deviceId: '{device.device_id[:80]}' differs from registeredDeviceId "
                f"'{device_id[:80]}' in the path"
            )
        check_device(device)
        with self._uows(write=True) as uow:
            before = uow.iot_devices.get_for_update(device_id)
            if before is None:
                raise _no_device(device_id)
            _check_if_match(if_match, before.etag)
            stored = replace(
                device,
                source=before.source,
                revision=before.revision + 1,
                created_at=before.created_at,
            )
            uow.iot_devices.update(stored)
            view = stored, self._enabled(uow, stored)
            uow.commit()
        return view

    def deregister_device(self, device_id: str) -> None:
        """Remove a device, or NotFound."""
        with self._uows(write=True) as uow:
            if not uow.iot_devices.remove(device_id):
                raise _no_device(device_id)
            uow.commit()

    # -- IoT platforms ---------------------------------------------------------------------
    def platforms(self) -> list[IotPlatform]:
        """The built-in platform, then every registered one by id."""
        with self._uows() as uow:
            return [self.local, *uow.iot_platforms.all()]

    def platform(self, iot_platform_id: str) -> IotPlatform:
        """One platform (the built-in one included), or NotFound."""
        with self._uows() as uow:
            platform = self._platform(uow, iot_platform_id)
        if platform is None:
            raise _no_platform(iot_platform_id)
        return platform

    def register_platform(self, platform: IotPlatform) -> IotPlatform:
        """Register a new platform; Conflict when the id is taken (the built-in one too)."""
        check_platform(platform)
        stored = replace(platform, revision=1, created_at=self._clock())
        with self._uows(write=True) as uow:
            if stored.built_in or not uow.iot_platforms.add(stored):
                raise Conflict(
                    f"iotPlatformId: a platform '{platform.iot_platform_id}' is registered already"
                )
            uow.commit()
        return stored

    def update_platform(
        self, iot_platform_id: str, platform: IotPlatform, if_match: str | None
    ) -> IotPlatform:
        """Replace a platform's registration, honouring If-Match; never the built-in one."""
        _refuse_built_in(iot_platform_id, "changed")
        if platform.iot_platform_id != iot_platform_id:
            raise InvalidInput(
                f"iotPlatformId: '{platform.iot_platform_id[:80]}' differs from "
                f"registeredIotPlatformId '{iot_platform_id[:80]}' in the path"
            )
        check_platform(platform)
        with self._uows(write=True) as uow:
            before = uow.iot_platforms.get_for_update(iot_platform_id)
            if before is None:
                raise _no_platform(iot_platform_id)
            _check_if_match(if_match, before.etag)
            stored = replace(platform, revision=before.revision + 1, created_at=before.created_at)
            uow.iot_platforms.update(stored)
            uow.commit()
        return stored

    def deregister_platform(self, iot_platform_id: str) -> None:
        """Remove a platform; the devices naming it stay, disabled. Never the built-in one."""
        _refuse_built_in(iot_platform_id, "deregistered")
        with self._uows(write=True) as uow:
            if not uow.iot_platforms.remove(iot_platform_id):
                raise _no_platform(iot_platform_id)
            uow.commit()

    # -- helpers ---------------------------------------------------------------------------
    def _platform(self, uow: IotUnitOfWork, iot_platform_id: str) -> IotPlatform | None:
        if iot_platform_id == self.local.iot_platform_id:
            return self.local
        return uow.iot_platforms.get(iot_platform_id)

    def _platforms(self, uow: IotUnitOfWork) -> dict[str, IotPlatform]:
        found = {p.iot_platform_id: p for p in uow.iot_platforms.all()}
        return {**found, self.local.iot_platform_id: self.local}

    def _enabled(self, uow: IotUnitOfWork, device: Device) -> bool:
        named = device.iot_platform_id
        platform = self._platform(uow, named) if named is not None else None
        return is_enabled(device, {platform.iot_platform_id: platform} if platform else {})


def _no_device(device_id: str) -> NotFound:
    return NotFound(f"registeredDeviceId: no device '{device_id[:80]}' is registered")


def _no_platform(iot_platform_id: str) -> NotFound:
    return NotFound(
        f"registeredIotPlatformId: no IoT platform '{iot_platform_id[:80]}' is registered"
    )


def _refuse_built_in(iot_platform_id: str, what: str) -> None:
    if iot_platform_id == LOCAL_PLATFORM_ID:
        raise Forbidden(f"the built-in IoT platform '{LOCAL_PLATFORM_ID}' cannot be {what}")


def _check_if_match(if_match: str | None, etag: str) -> None:
    if if_match is not None and not if_match_allows(if_match, etag):
        raise PreconditionFailed(
            f"If-Match: {if_match[:80]} does not match the current entity tag {etag}"
        )


# -- the sensor bridge's hook ------------------------------------------------------------------
def quantity_entry(quantity: str, unit: str | None) -> MetadataEntry:
    """The metadata entry describing one quantity a sensor reports: `temperature [Cel]`."""
    return MetadataEntry(QUANTITY_KEY, quantity if unit is None else f"{quantity} [{unit}]")


def merge_quantities(
    metadata: tuple[MetadataEntry, ...], units: Mapping[str, str | None]
) -> tuple[MetadataEntry, ...]:
    """Metadata with an entry for every quantity; entries already there are kept as written,
    except a bare quantity the bridge wrote before its unit was known, which gains the unit."""
    entries = list(metadata)
    for quantity, unit in sorted(units.items()):
        wanted = quantity_entry(quantity, unit)
        index = next((i for i, e in enumerate(entries) if _describes(e, quantity)), None)
        if index is None and len(entries) < MAX_METADATA:
            entries.append(wanted)
        elif index is not None and unit is not None and entries[index].value == quantity:
            entries[index] = wanted
    return tuple(entries)


def _describes(entry: MetadataEntry, quantity: str) -> bool:
    value = entry.value or ""
    return entry.key == QUANTITY_KEY and (value == quantity or value.startswith(f"{quantity} ["))


def record_sensor_device(
    uow: IotUnitOfWork, sensor_id: str, units: Mapping[str, str | None], now: float
) -> None:
    """Register sensor `sensor_id` as a device of the built-in platform, or add the quantities
    in `units` to its metadata; runs inside the caller's transaction and writes nothing when
    nothing changed. What API clients wrote about the device is kept."""
    if not is_valid_id(sensor_id):
        return  # the bridge validates ids itself; such a sensor never reaches this point
    devices = uow.iot_devices
    existing = devices.get_for_update(sensor_id)
    if existing is None:
        fresh = Device(
            device_id=sensor_id,
            authentication_info=f"mqtt-account:{sensor_id}",
            metadata=merge_quantities((), units),
            iot_platform_id=LOCAL_PLATFORM_ID,
            source=DeviceSource.SENSOR,
            created_at=now,
        )
        if devices.add(fresh):
            return
        # Registered through the API by a concurrent transaction since the read.
        existing = devices.get_for_update(sensor_id)
        if existing is None:
            return
    merged = merge_quantities(existing.metadata, units)
    if merged != existing.metadata:
        devices.update(replace(existing, metadata=merged, revision=existing.revision + 1))
