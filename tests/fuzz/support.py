"""Shared machinery of the schemathesis runs against the live platform.

Each fuzz module loads one of our specs, steers the generated path ids (and, for some operations,
valid bodies) to resources that exist on the server, and validates every answer with the same
checks. This module holds what they share: the seeded configuration, the deterministic choice
between a live id and the generated one, the validation wrapper whose error names the operation,
OpenAPI links added on the test side, a tally of the traffic, the runner of the stateful link
chains, which tolerates Hypothesis' report that a live server does not replay scenarios alike, and
the bearer token every call of a protected API carries (a platform admin's, minted on the box).
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
from schemathesis import Case, Response
from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.errors import FailureGroup

from tests.support.processes import admin_token

SEED = 11_011
MAX_EXAMPLES = 50
STATEFUL_SCENARIOS = 60
STATEFUL_STEPS = 8

# `positive_data_acceptance` stays off: both APIs have cross-field rules the schema cannot state
# (one of transportId/transportInfo, ids in the body equal to the path, addresses of the declared
# family), so some schema-valid requests are rightly refused with 400.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
)
# Along links: a deleted resource must be gone, a created one must be there.
STATEFUL_CHECKS = (*CHECKS, "use_after_free", "ensure_resource_availability")

Links = Mapping[tuple[str, str, str], Mapping[str, dict[str, Any]]]
Excuse = Callable[[Failure, Case[Any]], bool]


def config(
    checks: tuple[str, ...],
    base_url: str | None = None,
    stateful: bool = False,
    headers: Mapping[str, str] | None = None,
    max_examples: int = MAX_EXAMPLES,
) -> schemathesis.Config:
    """Seeded valid and invalid data, only `checks`, no shrinking, exact curl lines.

    `headers` go with every generated request (the schemas loaded at import time, before any
    server runs, pass their token to each call instead).
    """
    project: dict[str, Any] = {
        "seed": SEED,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "request-timeout": 10,
        # Curl lines stay exact but for the bearer token, which no report should show.
        "output": {
            "sanitization": {
                "keys-to-sanitize": ["authorization"],
                "sensitive-markers": ["authorization"],
            }
        },
        # Shrinking replays cases against a server whose state has moved on: flaky, not smaller.
        "generation": {
            "mode": "all",
            "max-examples": max_examples,
            "database": "none",
            "no-shrink": True,
        },
        "checks": {"enabled": False, **{name: {"enabled": True} for name in checks}},
    }
    if base_url:
        project["base-url"] = base_url
    if headers:
        project["headers"] = dict(headers)
    if stateful:
        # Only the links the test declares, and valid data: invalid data is fuzzed per request.
        project["phases"] = {
            "stateful": {"inference": {"algorithms": []}, "generation": {"mode": "positive"}}
        }
    return schemathesis.Config.from_dict(project)


class BearerHeader(dict[str, str]):
    """An `Authorization` header whose repr hides the token: pytest prints test arguments."""

    def __repr__(self) -> str:
        return "{'Authorization': 'Bearer [hidden]'}"


def fuzz_admin(env: dict[str, str]) -> BearerHeader:
    """The `Authorization` header of a platform admin made for the fuzzing, minted on the box."""
    return BearerHeader(Authorization=f"Bearer {admin_token(env, 'fuzz-admin')}")


def choose(value: object, options: list[str]) -> str | None:
    """Deterministically keep one generated value in four and map the others onto `options`."""
    digest = zlib.crc32(repr(value).encode())
    if not options or digest % 4 == 0:
        return None
    return options[(digest // 4) % len(options)]


def valid_part(case: Case[Any], location: ParameterLocation) -> bool:
    """Whether `location` was generated and holds valid data (so it may be steered)."""
    meta = case.meta
    component = meta.components.get(location) if meta else None
    return component is not None and not component.mode.is_negative


def id_from_location(response: Response) -> str | None:
    """The last path segment of the `Location` header, if any."""
    location = response.headers.get("location")
    return location[0].rstrip("/").rsplit("/", 1)[-1] if location else None


def validate(
    case: Case[Any], response: Response, excuse: Excuse | None = None, **kwargs: Any
) -> None:
    """Run the configured checks; the error names the operation, the failures and a curl line.

    Failures for which `excuse` is true (behaviour the checks cannot know of) do not count.
    """
    try:
        case.validate_response(response, **kwargs)
    except FailureGroup as failures:
        if excuse and all(excuse(failure, case) for failure in failures.exceptions):
            return
        # The generated items share one node id on pytest 9.2, so the message names the operation
        # (and the method actually sent, for the undeclared-method cases).
        label = case.operation.label
        if case.method.upper() != case.operation.method.upper():
            label = f"{label} sent as {case.method.upper()}"
        raise AssertionError(f"{label}: {failures.message}") from None


class CallLog:
    """How often each operation answered with each status."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, int]] = Counter()

    def count(self, case: Case[Any], response: Response) -> None:
        """Count one answer."""
        self.calls[(f"{case.method.upper()} {case.path}", response.status_code)] += 1

    def summary(self) -> str:
        """One line per operation and status, after the total."""
        lines = [f"  {op} -> {status}: {n}" for (op, status), n in sorted(self.calls.items())]
        return "\n".join([f"{sum(self.calls.values())} requests", *lines])


def link(operation_id: str, parameters: dict[str, str], **extra: str) -> dict[str, Any]:
    """One OpenAPI link object."""
    return {"operationId": operation_id, "parameters": parameters, **extra}


def add_links(raw: dict[str, Any], links: Links) -> dict[str, Any]:
    """Attach `links` ((path, method, status) -> name -> link) to the responses of `raw`."""
    for (path, method, status), targets in links.items():
        raw["paths"][path][method]["responses"][status]["links"] = dict(targets)
    return raw


def run_link_chains(
    served: Any,
    before_call: Callable[[Case[Any], bool], None],
    after_call: Callable[[Case[Any], Response], None],
    excuse: Callable[[Failure, Case[Any], ScenarioRecorder], bool] | None = None,
) -> int:
    """Run the link chains of `served` with the hooks; fail with every failure; scenarios run.

    `before_call` is told whether the case follows a link (else it starts a chain); `excuse`
    also gets the recorder of the scenario, to look at the calls that came before.
    """
    failures: list[str] = []
    scenarios = Counter[str]()

    class SteeredMachine(served.as_state_machine()):  # type: ignore[misc]
        """The link chains, with the test's hooks around every call."""

        def setup(self) -> None:
            scenarios["started"] += 1

        def before_call(self, case: Case[Any]) -> None:
            node = self.recorder.cases.get(case.id)
            before_call(case, node is not None and node.transition is not None)

        def after_call(self, response: Response, case: Case[Any]) -> None:
            super().after_call(response, case)
            after_call(case, response)

        def validate_response(self, response: Response, case: Case[Any], **kwargs: Any) -> None:
            recorder = self.recorder

            def excused(failure: Failure, case: Case[Any]) -> bool:
                return excuse is not None and excuse(failure, case, recorder)

            try:
                validate(
                    case, response, excused, transport_kwargs=kwargs or None, recorder=recorder
                )
            except AssertionError as failure:
                failures.append(str(failure))
                raise

    try:
        SteeredMachine.run(
            settings=settings(
                max_examples=STATEFUL_SCENARIOS,
                stateful_step_count=STATEFUL_STEPS,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
        )
    except Flaky:
        # A live server does not answer a replayed scenario as before (resources were created and
        # deleted since), which Hypothesis reports as flaky data; what counts is what failed.
        if failures:
            pytest.fail("\n\n".join(failures), pytrace=False)
    return scenarios["started"]
