"""Ports of the IoT service: repositories of devices and IoT platforms, and the unit of work
holding them (the sensor bridge records devices inside its own unit of work)."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from mec_platform.iot.model import Device, IotPlatform


class DeviceRepository(Protocol):
    """Registered IoT devices."""

    def add(self, device: Device) -> bool:
        """Insert a device; False (and nothing written) when its id is taken already."""
        ...

    def get(self, device_id: str) -> Device | None: ...

    def get_for_update(self, device_id: str) -> Device | None:
        """The device, locked until the transaction ends."""
        ...

    def all(self) -> list[Device]:
        """Every device, by id."""
        ...

    def update(self, device: Device) -> None:
        """Store every field of an existing device."""
        ...

    def remove(self, device_id: str) -> bool:
        """Remove a device; False when there was none."""
        ...


class IotPlatformRepository(Protocol):
    """Registered IoT platforms (not the built-in one)."""

    def add(self, platform: IotPlatform) -> bool:
        """Insert a platform; False (and nothing written) when its id is taken already."""
        ...

    def get(self, iot_platform_id: str) -> IotPlatform | None: ...

    def get_for_update(self, iot_platform_id: str) -> IotPlatform | None:
        """The platform, locked until the transaction ends."""
        ...

    def all(self) -> list[IotPlatform]:
        """Every registered platform, by id."""
        ...

    def update(self, platform: IotPlatform) -> None: ...

    def remove(self, iot_platform_id: str) -> bool:
        """Remove a platform; False when there was none."""
        ...


class IotUnitOfWork(Protocol):
    """One transaction over the IoT repositories; rolled back unless committed."""

    @property
    def iot_devices(self) -> DeviceRepository: ...

    @property
    def iot_platforms(self) -> IotPlatformRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


class IotUnitOfWorkFactory(Protocol):
    """Opens an IotUnitOfWork; `write=True` for one that will commit."""

    def __call__(self, *, write: bool = False) -> IotUnitOfWork: ...
