"""Unit tests of the registry and notification domain rules (no ports involved)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mec_platform.errors import InvalidInput
from mec_platform.notifications.model import RetryPolicy
from mec_platform.registry.model import (
    CategoryRef,
    ChangeType,
    FilteringCriteria,
    LocalityType,
    Service,
    ServiceQuery,
    ServiceState,
    Subscription,
    TransportInfo,
)

ACTIVE, INACTIVE, SUSPENDED = ServiceState.ACTIVE, ServiceState.INACTIVE, ServiceState.SUSPENDED
TRANSPORT = TransportInfo(
    id="t1",
    name="REST",
    type="REST_HTTP",
    protocol="HTTP",
    version="1.1",
    endpoint={"uris": ["http://10.0.0.1/"]},
    security={},
)


def cat(cat_id: str, name: str = "cat") -> CategoryRef:
    return CategoryRef(href=f"http://mec.test/c/{cat_id}", id=cat_id, name=name, version="1")


def service(**changes: Any) -> Service:
    base = Service(
        ser_instance_id="s1",
        app_instance_id="app1",
        ser_name="rni",
        version="1",
        state=ACTIVE,
        serializer="JSON",
        transport_info=TRANSPORT,
        ser_category=cat("c1"),
    )
    return replace(base, **changes)


# -- ServiceQuery ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "selectors",
    [
        {"ser_instance_ids": ("a",), "ser_names": ("b",)},
        {"ser_instance_ids": ("a",), "ser_category_id": "c"},
        {"ser_names": ("b",), "ser_category_id": "c"},
    ],
)
def test_query_selectors_are_mutually_exclusive(selectors: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match="mutually exclusive"):
        ServiceQuery(**selectors)


def test_query_selector_with_attributes_is_allowed() -> None:
    query = ServiceQuery(
        ser_names=("rni",),
        scope_of_locality=LocalityType.MEC_HOST,
        consumed_local_only=True,
        is_local=True,
        app_instance_id="app1",
    )
    assert query.matches(service())


def test_empty_query_matches_everything() -> None:
    assert ServiceQuery().matches(service())
    assert ServiceQuery().matches(service(ser_category=None))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (ServiceQuery(ser_instance_ids=("x", "s1")), True),
        (ServiceQuery(ser_instance_ids=("x",)), False),
        (ServiceQuery(ser_names=("x", "rni")), True),
        (ServiceQuery(ser_names=("RNI",)), False),
        (ServiceQuery(ser_category_id="c1"), True),
        (ServiceQuery(ser_category_id="c2"), False),
        (ServiceQuery(scope_of_locality=LocalityType.MEC_HOST), True),
        (ServiceQuery(scope_of_locality=LocalityType.ZONE), False),
        (ServiceQuery(consumed_local_only=True), True),
        (ServiceQuery(consumed_local_only=False), False),
        (ServiceQuery(is_local=True), True),
        (ServiceQuery(is_local=False), False),
        (ServiceQuery(app_instance_id="app1"), True),
        (ServiceQuery(app_instance_id="app2"), False),
        (ServiceQuery(ser_names=("rni",), is_local=False), False),
        (ServiceQuery(ser_category_id="c1", scope_of_locality=LocalityType.ZONE), False),
    ],
)
def test_query_matching(query: ServiceQuery, expected: bool) -> None:
    assert query.matches(service()) is expected


def test_query_by_category_skips_services_without_category() -> None:
    assert not ServiceQuery(ser_category_id="c1").matches(service(ser_category=None))


# -- FilteringCriteria ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "selectors",
    [
        {"ser_instance_ids": ("a",), "ser_names": ("b",)},
        {"ser_instance_ids": ("a",), "ser_categories": (cat("c"),)},
        {"ser_names": ("b",), "ser_categories": (cat("c"),)},
    ],
)
def test_criteria_selectors_are_mutually_exclusive(selectors: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match="mutually exclusive"):
        FilteringCriteria(**selectors)


def test_criteria_selector_with_states_and_locality_is_allowed() -> None:
    criteria = FilteringCriteria(ser_names=("rni",), states=(ACTIVE,), is_local=True)
    assert criteria.matches(service())


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (FilteringCriteria(), True),
        (FilteringCriteria(ser_instance_ids=("x", "s1")), True),
        (FilteringCriteria(ser_instance_ids=("x",)), False),
        (FilteringCriteria(ser_names=("x", "rni")), True),
        (FilteringCriteria(ser_names=("x",)), False),
        (FilteringCriteria(ser_categories=(cat("x"), cat("c1", "another name"))), True),
        (FilteringCriteria(ser_categories=(cat("x"),)), False),
        (FilteringCriteria(states=(SUSPENDED, ACTIVE)), True),
        (FilteringCriteria(states=(SUSPENDED, INACTIVE)), False),
        (FilteringCriteria(is_local=True), True),
        (FilteringCriteria(is_local=False), False),
        (FilteringCriteria(ser_names=("rni",), states=(INACTIVE,)), False),
        (FilteringCriteria(ser_categories=(cat("c1"),), is_local=False), False),
        (FilteringCriteria(ser_instance_ids=("s1",), states=(ACTIVE,), is_local=True), True),
    ],
)
def test_criteria_matching(criteria: FilteringCriteria, expected: bool) -> None:
    assert criteria.matches(service()) is expected


def test_criteria_by_category_skips_services_without_category() -> None:
    criteria = FilteringCriteria(ser_categories=(cat("c1"),))
    assert not criteria.matches(service(ser_category=None))
    assert FilteringCriteria(states=(ACTIVE,)).matches(service(ser_category=None))


# -- Service --------------------------------------------------------------------------------
def test_etag_follows_the_revision() -> None:
    assert service().etag == '"s1.1"'
    assert service(revision=7).etag == '"s1.7"'


def test_state_only_change_is_state_changed() -> None:
    before = service()
    assert service(state=SUSPENDED).changes_from(before) is ChangeType.STATE_CHANGED
    # bookkeeping fields are not attributes of the representation
    after = service(state=SUSPENDED, revision=2, last_heartbeat=5.0)
    assert after.changes_from(before) is ChangeType.STATE_CHANGED


@pytest.mark.parametrize(
    "changes",
    [
        {"ser_name": "other"},
        {"version": "2"},
        {"serializer": "XML"},
        {"transport_info": replace(TRANSPORT, endpoint={"uris": ["http://10.0.0.2/"]})},
        {"ser_category": None},
        {"ser_category": cat("c1", "renamed")},
        {"scope_of_locality": LocalityType.ZONE},
        {"consumed_local_only": False},
        {"is_local": False},
        {"liveness_interval": 10},
        {"version": "2", "state": SUSPENDED},
    ],
)
def test_other_changes_are_attributes_changed(changes: dict[str, Any]) -> None:
    assert service(**changes).changes_from(service()) is ChangeType.ATTRIBUTES_CHANGED


# -- Subscription ---------------------------------------------------------------------------
def test_subscription_expiry() -> None:
    forever = Subscription("sub", "app", "http://cb.test/")
    assert not forever.expired(1e12)
    assert forever.criteria == FilteringCriteria()
    expiring = replace(forever, expiry_deadline=100.0)
    assert not expiring.expired(99.999)
    assert expiring.expired(100.0)
    assert expiring.expired(101.0)


# -- RetryPolicy ----------------------------------------------------------------------------
def test_backoff_doubles_from_the_base_delay() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=1000.0)
    assert [policy.delay_after(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0]


def test_backoff_before_any_failure_is_the_base_delay() -> None:
    assert RetryPolicy(base_delay=3.0).delay_after(0) == 3.0


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
    assert [policy.delay_after(n) for n in range(4, 8)] == [8.0, 10.0, 10.0, 10.0]


def test_backoff_after_very_many_attempts_stays_at_the_cap() -> None:
    policy = RetryPolicy()
    assert policy.delay_after(10_000) == policy.max_delay == 300.0
    assert isinstance(policy.delay_after(10_000), float)


def test_backoff_never_decreases() -> None:
    policy = RetryPolicy(base_delay=0.25, max_delay=60.0)
    delays = [policy.delay_after(n) for n in range(1, 50)]
    assert delays == sorted(delays)
    assert max(delays) == 60.0
