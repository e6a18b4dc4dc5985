"""The JSON Lines audit log on real files: records, refused secrets, concurrent writers, reading
back from the end of the file."""

from __future__ import annotations

import json
import logging
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from mec_platform.auth.audit_file import JsonLinesAuditLog, read_audit

AT = 1_700_000_000.25  # 2023-11-14T22:13:20.250Z

WRITER = """
import sys
from pathlib import Path
from mec_platform.auth.audit_file import JsonLinesAuditLog

audit = JsonLinesAuditLog(Path(sys.argv[1]))
writer = sys.argv[2]
for n in range(200):
    audit.record(writer, "users.add", "ok", n=n, padding="x" * 3000)
"""


class Clock:
    def __init__(self, now: float = AT) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_records_are_appended_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "audit.jsonl"
    clock = Clock()
    audit = JsonLinesAuditLog(path, clock)
    audit.record("alice", "users.add", "ok", target="bob", role="viewer")
    clock.now += 1.5
    audit.record("bob", "token.issue", "denied", reason="unknown key")
    assert read_audit(path, 10) == [
        {
            "ts": "2023-11-14T22:13:20.250Z",
            "who": "alice",
            "action": "users.add",
            "outcome": "ok",
            "target": "bob",
            "role": "viewer",
        },
        {
            "ts": "2023-11-14T22:13:21.750Z",
            "who": "bob",
            "action": "token.issue",
            "outcome": "denied",
            "reason": "unknown key",
        },
    ]
    assert len(path.read_text().splitlines()) == 2


def test_the_file_and_its_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "private" / "audit.jsonl"
    JsonLinesAuditLog(path).record("alice", "login", "ok")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_secret_looking_details_are_dropped_and_only_their_name_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "audit.jsonl"
    caplog.set_level(logging.WARNING)
    JsonLinesAuditLog(path).record(
        "alice",
        "client.create",
        "ok",
        client_secret="s3cr3t-value",
        AccessToken="tok-value",
        new_password="pw-value",
        Signature="sig-value",
        private_key="pk-value",
        Authorization="Bearer auth-value",
        client_id="c-1",
    )
    [record] = read_audit(path, 5)
    assert record["client_id"] == "c-1"
    assert set(record) == {"ts", "who", "action", "outcome", "client_id"}
    text = path.read_text() + caplog.text
    for value in ("s3cr3t", "tok-value", "pw-value", "sig-value", "pk-value", "auth-value"):
        assert value not in text
    assert "client_secret" in caplog.text
    assert "Authorization" in caplog.text


def test_details_do_not_replace_the_fixed_fields(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    JsonLinesAuditLog(path, Clock()).record("alice", "login", "ok", ts="forged")
    [record] = read_audit(path, 1)
    assert record["ts"] == "2023-11-14T22:13:20.250Z"


def test_an_unwritable_log_never_fails_the_caller(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    caplog.set_level(logging.WARNING)
    JsonLinesAuditLog(blocker / "audit.jsonl").record("alice", "login", "ok")
    assert "could not append" in caplog.text
    assert read_audit(blocker / "audit.jsonl", 5) == []


def test_four_processes_append_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"writer-{n}"]) for n in range(4)
    ]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0, 0, 0]
    lines = path.read_text().splitlines()
    assert len(lines) == 800
    records = [json.loads(line) for line in lines]
    for n in range(4):
        mine = [r["n"] for r in records if r["who"] == f"writer-{n}"]
        assert mine == list(range(200))
    assert all(r["padding"] == "x" * 3000 for r in records)


def test_reading_back_returns_the_last_records_oldest_first(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    clock = Clock()
    audit = JsonLinesAuditLog(path, clock)
    for n in range(300):  # far more than one read chunk
        clock.now = AT + n
        audit.record("alice", "step", "ok", n=n, padding="y" * 500)
    assert [r["n"] for r in read_audit(path, 3)] == [297, 298, 299]
    assert len(read_audit(path, 1000)) == 300
    assert read_audit(path, 0) == []
    since = datetime.fromtimestamp(AT + 295, UTC)
    assert [r["n"] for r in read_audit(path, 100, since=since)] == [295, 296, 297, 298, 299]
    naive = since.replace(tzinfo=None)
    assert [r["n"] for r in read_audit(path, 2, since=naive)] == [298, 299]


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    audit = JsonLinesAuditLog(path, Clock())
    audit.record("alice", "first", "ok")
    audit.record("alice", "second", "ok")
    with path.open("ab") as file:
        file.write(b'{"ts":"2023-11-14T22:13:20.250Z","who":"ali')
    assert [r["action"] for r in read_audit(path, 5)] == ["first", "second"]
    assert [r["action"] for r in read_audit(path, 1)] == ["second"]


def test_a_missing_log_reads_as_empty(tmp_path: Path) -> None:
    assert read_audit(tmp_path / "never-written.jsonl", 10) == []


@pytest.mark.parametrize(
    "since",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1, 1, 1, 0, 0, 30, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(1, 1, 1),
    ],
    ids=["min", "within-the-skew-of-min", "min-east-of-utc", "naive-min"],
)
def test_the_earliest_since_reads_everything(tmp_path: Path, since: datetime) -> None:
    # Valid times: GET /users/v1/audit?since=0001-01-01T00:00:00Z must not overflow into a 500.
    path = tmp_path / "audit.jsonl"
    audit = JsonLinesAuditLog(path, Clock())
    for n in range(3):
        audit.record("alice", "step", "ok", n=n)
    assert [r["n"] for r in read_audit(path, 10, since=since)] == [0, 1, 2]


def test_the_latest_since_reads_nothing(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    JsonLinesAuditLog(path, Clock()).record("alice", "step", "ok")
    assert read_audit(path, 10, since=datetime.max.replace(tzinfo=UTC)) == []


def test_text_that_is_not_valid_unicode_is_recorded_escaped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Lone surrogates come from bytes that were not UTF-8 (surrogateescape): a path, an argv.
    path = tmp_path / "audit.jsonl"
    caplog.set_level(logging.WARNING)
    audit = JsonLinesAuditLog(path, Clock())
    audit.record("user \ud800", "users.add", "ok", target="b\udcffd\\ud800", note="ünï ✓")
    [record] = read_audit(path, 5)
    assert record["who"] == "user \ud800"
    assert record["target"] == "b\udcffd\\ud800"
    text = path.read_bytes().decode("utf-8")  # the file stays valid UTF-8
    assert "ünï ✓" in text
    assert caplog.text == ""


def test_details_that_are_not_json_still_leave_a_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "audit.jsonl"
    caplog.set_level(logging.WARNING)
    JsonLinesAuditLog(path, Clock()).record("alice", "users.add", "ok", odd={(1, 2): "tuple key"})
    [record] = read_audit(path, 5)
    assert set(record) == {"ts", "who", "action", "outcome"}
    assert "not JSON" in caplog.text
