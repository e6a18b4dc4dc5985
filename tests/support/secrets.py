"""Every secret a test run creates (client secrets, access tokens, login signatures), so the
end of the run can check that none of them reached a log file (see tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

_SECRETS: set[str] = set()
# Secrets shorter than this could match by chance; ours are all far longer.
MIN_LENGTH = 16


def remember(secret: str) -> str:
    """Record a secret this run created; returns it for convenience."""
    if len(secret) >= MIN_LENGTH:
        _SECRETS.add(secret)
    return secret


def remembered() -> frozenset[str]:
    """Every secret recorded so far."""
    return frozenset(_SECRETS)


def leaks(folder: Path) -> list[tuple[Path, str]]:
    """(log file, start of the secret) for every remembered secret found in a log under folder."""
    found: list[tuple[Path, str]] = []
    for path in sorted(folder.rglob("*.log")):
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        found.extend((path, secret[:12]) for secret in _SECRETS if secret in text)
    return found
