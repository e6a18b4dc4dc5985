"""The methods each path of our specs allows, for the `Allow` header of 405 answers.

connexion registers one route per path and method, and the router's 405 lists only the
methods of the first route whose path matched; RFC 9110 clause 15.5.6 wants all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml

_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


class AllowedMethods:
    """Maps a request path to the methods the spec declares for it."""

    def __init__(self, apis: Iterable[tuple[str, Path]]) -> None:
        self._routes: list[tuple[re.Pattern[str], str]] = []
        for base_path, spec in apis:
            paths = yaml.safe_load(spec.read_text())["paths"]
            for template, item in paths.items():
                methods = {m.upper() for m in item if m in _METHODS}
                if "GET" in methods:
                    methods.add("HEAD")
                pattern = re.escape(base_path + template)
                pattern = re.sub(r"\\\{[^}/]+\\\}", "[^/]+", pattern)
                self._routes.append((re.compile(f"{pattern}/?"), ", ".join(sorted(methods))))

    def for_path(self, path: str) -> str | None:
        """The Allow header value for `path`, None when no spec path matches."""
        for pattern, allowed in self._routes:
            if pattern.fullmatch(path):
                return allowed
        return None
