"""Unit tests of the system accounts' password file: made once, private, race-safe."""

from __future__ import annotations

import json
import stat
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest

from mec_platform.mqtt.system_credentials import FILE_NAME, system_credentials


def test_created_once_private_and_read_afterwards(tmp_path: Path) -> None:
    folder = tmp_path / "mqtt"
    first = system_credentials(folder)
    assert set(first) == {"umec-sensor-bridge", "umec-export"}
    assert first["umec-sensor-bridge"] != first["umec-export"]
    path = folder / FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert system_credentials(folder) == first
    assert json.loads(path.read_text()) == first
    assert [p.name for p in folder.iterdir()] == [FILE_NAME]  # no temporary left behind


def test_threads_starting_together_agree(tmp_path: Path) -> None:
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: system_credentials(tmp_path), range(64)))
    assert all(result == results[0] for result in results)


def test_processes_starting_together_agree(tmp_path: Path) -> None:
    with get_context("spawn").Pool(6) as pool:
        results = pool.map(system_credentials, [tmp_path] * 24)
    assert all(result == results[0] for result in results)
    assert len(list(tmp_path.iterdir())) == 1


def test_a_file_without_a_password_is_an_error(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text('{"umec-export": "x"}')
    with pytest.raises(ValueError, match="umec-sensor-bridge"):
        system_credentials(tmp_path)
