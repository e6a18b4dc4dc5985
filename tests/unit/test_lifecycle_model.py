"""Pure functions of the app lifecycle and package management: the occurrence state machine,
subscription filters of both APIs, the attribute filter of GET lists, the container an
instance becomes, and the MEC 010-2 wire mappers with their links."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mec_platform.errors import Conflict, InvalidInput
from mec_platform.http.attribute_filter import apply_filter, parse_filter
from mec_platform.lifecycle.containers import ContainerPlan, app_ports
from mec_platform.lifecycle.descriptors import requested_resources
from mec_platform.lifecycle.model import (
    OPEN_STATES,
    AppOperationalState,
    CancelMode,
    Deployment,
    InstantiationState,
    LcmInstance,
    LcmOperation,
    LcmSubscription,
    LcmSubscriptionType,
    OperationState,
    OpOcc,
    require_state,
)
from mec_platform.lifecycle.runtime import (
    APPD_LABEL,
    INSTANCE_LABEL,
    MANAGED_LABEL,
    PLATFORM_NAME,
    PortMapping,
)
from mec_platform.lifecycle.subscriptions import (
    instance_filter_matches,
    parse_subscription_type,
    wants_identifier,
    wants_instance_state,
    wants_op_occ,
)
from mec_platform.lifecycle.urls import LifecycleUrls
from mec_platform.lifecycle.wire import (
    identifier_notification,
    instance_notification,
    instance_to_wire,
    op_occ_notification,
    op_occ_to_wire,
    subscription_to_wire,
)
from mec_platform.packages.model import (
    AppPackage,
    OnboardedContent,
    OnboardingState,
    PackageNotificationType,
    PackageOperationalState,
    PackageRequest,
    PackageSubscription,
    PackageSubscriptionType,
    UsageState,
    matching,
)
from mec_platform.registry.model import JsonObject

URLS = LifecycleUrls("http://mec.test:8080/")
LCM = "http://mec.test:8080/app_lcm/v1"
APP_ID = "0f6b3c1e-5d2a-4e8b-9c7d-1a2b3c4d5e6f"
APP = {"appProvider": "ACME", "appName": "camera"}


def lcm_instance(**changes: Any) -> LcmInstance:
    plain = LcmInstance(
        app_instance_id=APP_ID,
        app_d_id="cam-d",
        app_pkg_id="pkg-1",
        name=None,
        description=None,
        owner=None,
        instantiation_state=InstantiationState.NOT_INSTANTIATED,
        operational_state=None,
        created_at=1_700_000_000.0,
    )
    return replace(plain, **changes)


def running(**changes: Any) -> LcmInstance:
    deployment = Deployment(
        "c0ffee", f"umec-{APP_ID}", "sha256:ab", "10.89.0.5", ({"port": 8080, "protocol": "tcp"},)
    )
    values: dict[str, Any] = {
        "instantiation_state": InstantiationState.INSTANTIATED,
        "operational_state": AppOperationalState.STARTED,
        "deployment": deployment,
    }
    return lcm_instance(**(values | changes))


def op_occ(**changes: Any) -> OpOcc:
    plain = OpOcc(
        op_occ_id="occ-1",
        app_instance_id=APP_ID,
        operation=LcmOperation.INSTANTIATE,
        state=OperationState.STARTING,
        start_time=1_700_000_001.5,
        state_entered_time=1_700_000_001.5,
    )
    return replace(plain, **changes)


def subscription(kind: LcmSubscriptionType, **request: Any) -> LcmSubscription:
    body = {"subscriptionType": kind.value, "callbackUri": "http://sub.test/cb", **request}
    return LcmSubscription("sub-1", kind, "http://sub.test/cb", body, None, 1.0)


# -- the occurrence state machine ----------------------------------------------------------
@pytest.mark.parametrize("state", list(OperationState))
def test_an_occurrence_holds_its_instance_until_it_is_closed(state: OperationState) -> None:
    closed = {OperationState.COMPLETED, OperationState.FAILED}
    assert op_occ(state=state).open is (state not in closed)
    assert (state in OPEN_STATES) is (state not in closed)


def test_moved_to_changes_the_state_its_time_and_the_given_fields_only() -> None:
    claimed = op_occ(lease_owner="runner", lease_until=99.0, params={"a": 1})
    moved = claimed.moved_to(OperationState.PROCESSING, 5.5, lease_owner=None)
    assert moved == replace(
        claimed, state=OperationState.PROCESSING, state_entered_time=5.5, lease_owner=None
    )
    assert moved.start_time == claimed.start_time
    assert claimed.state is OperationState.STARTING  # frozen: the original is untouched


def test_require_state_passes_an_allowed_state() -> None:
    allowed = frozenset({OperationState.STARTING, OperationState.PROCESSING})
    require_state(op_occ(state=OperationState.PROCESSING), allowed, "cancel")


@pytest.mark.parametrize(
    "state", [OperationState.COMPLETED, OperationState.FAILED, OperationState.FAILED_TEMP]
)
def test_require_state_is_a_conflict_naming_the_state_and_the_allowed_ones(
    state: OperationState,
) -> None:
    allowed = frozenset({OperationState.PROCESSING, OperationState.STARTING})
    with pytest.raises(Conflict) as caught:
        require_state(op_occ(state=state), allowed, "cancel")
    assert caught.value.detail == (
        f"state: cannot cancel operation occurrence occ-1 in state {state.value}; "
        "only in PROCESSING, STARTING"
    )


# -- the instance state as notifications name it ------------------------------------------
@pytest.mark.parametrize(
    ("instantiation", "operational", "expected"),
    [
        (InstantiationState.NOT_INSTANTIATED, None, "NOT_INSTANTIATED"),
        (InstantiationState.INSTANTIATED, AppOperationalState.STARTED, "STARTED"),
        (InstantiationState.INSTANTIATED, AppOperationalState.STOPPED, "STOPPED"),
        # Inconsistent pairs never claim a running app.
        (InstantiationState.INSTANTIATED, None, "NOT_INSTANTIATED"),
        (InstantiationState.NOT_INSTANTIATED, AppOperationalState.STARTED, "NOT_INSTANTIATED"),
    ],
)
def test_state_name(
    instantiation: InstantiationState, operational: AppOperationalState | None, expected: str
) -> None:
    instance = lcm_instance(instantiation_state=instantiation, operational_state=operational)
    assert instance.state_name == expected
    assert instance.instantiated is (instantiation is InstantiationState.INSTANTIATED)


# -- LCM subscription filters --------------------------------------------------------------
def test_parse_subscription_type() -> None:
    for kind in LcmSubscriptionType:
        assert parse_subscription_type(kind.value) is kind
    with pytest.raises(InvalidInput, match=r"subscriptionType: 'AppPackageOnBoarding.*' is not"):
        parse_subscription_type("AppPackageOnBoardingSubscription")
    with pytest.raises(InvalidInput, match="AppIdentifierDeletionSubscription"):
        parse_subscription_type(None)


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (None, True),
        ("not an object", True),
        ({}, True),
        ({"appInstSelectorType": 0}, True),
        ({"appInstSelectorType": 1, "appInstances": ["x", APP_ID]}, True),
        ({"appInstSelectorType": 1, "appInstances": ["x"]}, False),
        ({"appInstSelectorType": 1}, False),
        ({"appInstSelectorType": 2, "appInstances": ["front door"]}, True),
        ({"appInstSelectorType": 2, "appInstances": ["back door"]}, False),
        ({"appInstSelectorType": 3, "appInstances": ["cam-d"]}, True),
        ({"appInstSelectorType": 3, "appInstances": [APP_ID]}, False),
    ],
)
def test_instance_filter_by_selector(criteria: Any, expected: bool) -> None:
    instance = lcm_instance(name="front door")
    assert instance_filter_matches(criteria, instance, "ACME", "camera") is expected


@pytest.mark.parametrize(
    ("providers", "expected"),
    [
        ([{"appProvider": "ACME"}], True),
        ([{"appProvider": "Other"}, {"appProvider": "ACME", "appProducts": []}], True),
        ([{"appProvider": "ACME", "appProducts": [{"appName": "camera"}]}], True),
        ([{"appProvider": "ACME", "appProducts": [{"appName": "radar"}, "junk"]}], False),
        ([{"appProvider": "Other", "appProducts": [{"appName": "camera"}]}], False),
        (["junk", {"appName": "camera"}], False),
        ([], False),
    ],
)
def test_instance_filter_by_provider_and_products(providers: list[Any], expected: bool) -> None:
    criteria = {"appInstSelectorType": 4, "appsFromProviders": providers}
    assert instance_filter_matches(criteria, lcm_instance(), "ACME", "camera") is expected


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (None, True),
        ("STARTED", True),
        ("STOPPED", False),
        (["STOPPED", "STARTED"], True),
        (["NOT_INSTANTIATED"], False),
    ],
)
def test_instance_state_subscription_by_app_instance_state(wanted: Any, expected: bool) -> None:
    request = {} if wanted is None else {"appInstanceState": wanted}
    sub = subscription(LcmSubscriptionType.INSTANCE_STATE, **request)
    assert wants_instance_state(sub, running(), APP) is expected


def test_instance_state_subscription_ands_state_and_instance_filter() -> None:
    other_app = {"appInstSelectorType": 1, "appInstances": ["someone-else"]}
    sub = subscription(
        LcmSubscriptionType.INSTANCE_STATE,
        appInstanceState="STARTED",
        appInstanceSubscriptionFilter=other_app,
    )
    assert wants_instance_state(sub, running(), APP) is False
    by_provider = {"appInstSelectorType": 4, "appsFromProviders": [{"appProvider": "ACME"}]}
    sub = subscription(
        LcmSubscriptionType.INSTANCE_STATE, appInstanceSubscriptionFilter=by_provider
    )
    assert wants_instance_state(sub, running(), APP) is True
    assert wants_instance_state(sub, running(), {"appProvider": "Other"}) is False


def test_each_subscription_kind_gets_only_its_own_notifications() -> None:
    creation = subscription(LcmSubscriptionType.IDENTIFIER_CREATION)
    state = subscription(LcmSubscriptionType.INSTANCE_STATE)
    ops = subscription(LcmSubscriptionType.OP_OCC_STATE)
    kind = LcmSubscriptionType.IDENTIFIER_CREATION
    assert wants_identifier(creation, kind, lcm_instance(), APP) is True
    deletion = LcmSubscriptionType.IDENTIFIER_DELETION
    assert not wants_identifier(creation, deletion, lcm_instance(), APP)
    assert not wants_identifier(state, kind, lcm_instance(), APP)
    assert not wants_instance_state(creation, running(), APP)
    assert not wants_instance_state(ops, running(), APP)
    assert not wants_op_occ(state, op_occ(), lcm_instance(), APP)
    assert wants_op_occ(ops, op_occ(), lcm_instance(), APP)


def test_identifier_subscriptions_use_the_instance_filter() -> None:
    kind = LcmSubscriptionType.IDENTIFIER_DELETION
    by_appd = {"appInstSelectorType": 3, "appInstances": ["cam-d"]}
    mine = subscription(kind, appInstanceSubscriptionFilter=by_appd)
    other = subscription(
        kind, appInstanceSubscriptionFilter={"appInstSelectorType": 3, "appInstances": ["x"]}
    )
    assert wants_identifier(mine, kind, lcm_instance(), APP) is True
    assert wants_identifier(other, kind, lcm_instance(), APP) is False


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (None, True),
        ({}, True),
        ({"operationTypes": "INSTANTIATE"}, True),
        ({"operationTypes": "TERMINATE"}, False),
        ({"operationTypes": ["OPERATE", "INSTANTIATE"]}, True),
        ({"operationTypes": ["OPERATE"]}, False),
        ({"operationStates": "PROCESSING"}, True),
        ({"operationStates": "COMPLETED"}, False),
        ({"operationStates": ["COMPLETED", "PROCESSING"]}, True),
        ({"operationStates": ["FAILED", "FAILED_TEMP"]}, False),
        ({"operationTypes": "INSTANTIATE", "operationStates": "COMPLETED"}, False),
        (
            {
                "operationTypes": "INSTANTIATE",
                "appInstanceSubscriptionFilter": {
                    "appInstSelectorType": 4,
                    "appsFromProviders": [{"appProvider": "Other"}],
                },
            },
            False,
        ),
        (
            {
                "operationStates": ["PROCESSING"],
                "appInstanceSubscriptionFilter": {
                    "appInstSelectorType": 1,
                    "appInstances": [APP_ID],
                },
            },
            True,
        ),
    ],
)
def test_op_occ_subscription_filter(criteria: Any, expected: bool) -> None:
    request = {} if criteria is None else {"appLcmOpOccSubscriptionFilter": criteria}
    sub = subscription(LcmSubscriptionType.OP_OCC_STATE, **request)
    occ = op_occ(state=OperationState.PROCESSING)
    assert wants_op_occ(sub, occ, lcm_instance(), APP) is expected


# -- package subscriptions -----------------------------------------------------------------
def package(content: bool = True, **changes: Any) -> AppPackage:
    request = PackageRequest("camera", "1.0", "Requested Ltd", "SHA-256", "ab" * 32, "/p.zip")
    onboarded = OnboardedContent(
        app_d_id="cam-d",
        app_name="camera",
        app_provider="ACME",
        app_soft_version="1.2.3",
        app_d_version="3.1.1",
        appd={},
        content_sha256="cd" * 32,
        signer="SHA256:x",
        image_reference="localhost/cam:1",
    )
    plain = AppPackage(
        app_pkg_id="pkg-1",
        request=request,
        onboarding_state=OnboardingState.ONBOARDED if content else OnboardingState.CREATED,
        operational_state=PackageOperationalState.ENABLED,
        usage_state=UsageState.NOT_IN_USE,
        created_at=1.0,
        owner=None,
        content=onboarded if content else None,
    )
    return replace(plain, **changes)


def package_subscription(
    kind: PackageSubscriptionType, *filters: JsonObject, sub_id: str = "ps-1"
) -> PackageSubscription:
    return PackageSubscription(sub_id, kind, "http://sub.test/cb", filters, None, 1.0)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ((), True),
        (({"appDId": "cam-d"},), True),
        (({"appDId": "cam-d", "appProvider": "ACME", "appName": "camera"},), True),
        (({"appDId": "cam-d", "appProvider": "Other"},), False),
        (({"appSoftwareVersion": "1.2.3", "appDVersion": "3.1.1"},), True),
        (({"appSoftwareVersion": "9"},), False),
        (({"operationalState": "ENABLED", "usageState": "NOT_IN_USE"},), True),
        (({"usageState": "IN_USE"},), False),
        (({"appPkgInfoId": "pkg-1"},), True),
        # Several AppPkgFilter entries: any one of them may match.
        (({"appDId": "other"}, {"appPkgInfoId": "pkg-1"}), True),
        (({"appDId": "other"}, {"appPkgInfoId": "other"}), False),
        (({"unknownAttribute": "x"},), False),
    ],
)
def test_package_subscription_filters(filters: tuple[JsonObject, ...], expected: bool) -> None:
    sub = package_subscription(PackageSubscriptionType.CHANGE, *filters)
    assert sub.wants(package()) is expected


def test_a_package_without_content_matches_on_what_its_request_said() -> None:
    waiting = package(content=False)
    sub = package_subscription
    kind = PackageSubscriptionType.ONBOARDING
    assert sub(kind, {"appProvider": "Requested Ltd"}).wants(waiting)
    assert not sub(kind, {"appProvider": "ACME"}).wants(waiting)
    assert not sub(kind, {"appDId": "cam-d"}).wants(waiting)


@pytest.mark.parametrize(
    ("notification", "kind"),
    [
        (PackageNotificationType.ONBOARDED, PackageSubscriptionType.ONBOARDING),
        (PackageNotificationType.ENABLED, PackageSubscriptionType.CHANGE),
        (PackageNotificationType.DISABLED, PackageSubscriptionType.CHANGE),
        (PackageNotificationType.DELETED, PackageSubscriptionType.DELETION),
    ],
)
def test_matching_picks_the_subscription_kind_of_the_notification(
    notification: PackageNotificationType, kind: PackageSubscriptionType
) -> None:
    subs = [package_subscription(k, sub_id=k.value) for k in PackageSubscriptionType]
    filtered_out = package_subscription(kind, {"appDId": "other"}, sub_id="filtered")
    found = matching([*subs, filtered_out], package(), notification)
    assert [s.subscription_id for s in found] == [kind.value]


# -- the attribute filter of GET lists ------------------------------------------------------
DOCS: list[dict[str, Any]] = [
    {
        "id": "a",
        "n": 5,
        "state": {"operationalState": "STARTED"},
        "tags": ["red", "blue"],
        "mcio": [{"name": "umec-a"}, {"name": "side-a"}],
    },
    {"id": "b", "n": 10, "state": {"operationalState": "STOPPED"}, "tags": ["green"]},
    {"id": "c", "n": 2.5, "note": "camera app"},
]


def ids(expression: str | None) -> list[str]:
    return [d["id"] for d in apply_filter(DOCS, expression)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (None, ["a", "b", "c"]),
        ("", ["a", "b", "c"]),
        ("(eq,id,b)", ["b"]),
        ("(neq,id,b)", ["a", "c"]),
        ("(gt,n,5)", ["b"]),
        ("(gte,n,5)", ["a", "b"]),
        ("(lt,n,5)", ["c"]),
        ("(lte,n,5)", ["a", "c"]),
        ("(in,id,a,c,zz)", ["a", "c"]),
        ("(nin,id,a,c)", ["b"]),
        ("(cont,note,came)", ["c"]),
        ("(cont,note,xyz,app)", ["c"]),
        ("(ncont,note,came)", ["a", "b"]),
        ("(eq,state/operationalState,STARTED)", ["a"]),
        ("(neq,state/operationalState,STARTED)", ["b", "c"]),
        ("(eq,tags,green)", ["b"]),
        ("(in,tags,blue,green)", ["a", "b"]),
        ("(eq,mcio/name,side-a)", ["a"]),
        ("(cont,mcio/name,umec)", ["a"]),
        ("(eq,missing/deeper,x)", []),
        # Terms are AND'd.
        ("(gt,n,1);(in,id,a,b);(neq,state/operationalState,STOPPED)", ["a"]),
    ],
)
def test_apply_filter(expression: str | None, expected: list[str]) -> None:
    assert ids(expression) == expected


def test_parse_filter_splits_terms_and_values() -> None:
    assert parse_filter("(eq,a/b,x);(in,c,1,2,3)") == [
        ("eq", "a/b", ["x"]),
        ("in", "c", ["1", "2", "3"]),
    ]
    assert parse_filter(None) == []


@pytest.mark.parametrize(
    "expression",
    [
        "eq,id,a",
        "(like,id,a)",
        "(eq,id)",
        "(eq,,a)",
        "(eq,id,a);",
        "(eq,id,a)(eq,id,b)",
        "(eq,id,a) ",
        "(eq,id,(a))",
        "(EQ,id,a)",
    ],
)
def test_a_malformed_filter_is_invalid_input(expression: str) -> None:
    with pytest.raises(InvalidInput, match=r"^filter: '.*' is not a term like"):
        apply_filter(DOCS, expression)


def test_a_numeric_comparison_with_a_word_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="filter: 'five' is not a number"):
        apply_filter(DOCS, "(gt,n,five)")


def test_booleans_and_null_are_compared_as_json_text() -> None:
    docs = [{"id": "x", "isCancelPending": False, "v": None}]
    assert apply_filter(docs, "(eq,isCancelPending,false)") == docs
    assert apply_filter(docs, "(eq,v,null)") == docs


# -- the container an instance becomes ------------------------------------------------------
PLAN = ContainerPlan(network="mec-apps", app_api_root="http://10.89.0.1:8080", auth_enabled=True)


def appd(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "appDId": "cam-d",
        "appName": "Camera App",
        "virtualComputeDescriptor": {
            "virtualComputeDescId": "small",
            "virtualCpu": {"numVirtualCpu": 0.5},
            "virtualMemory": {"virtualMemSize": 64},
        },
        "appExtCpd": [
            {
                "additionalServiceData": [
                    {
                        "portData": [
                            {"name": "http", "protocol": "TCP", "port": 8081},
                            {"name": "stats", "protocol": "UDP", "port": 8125},
                        ]
                    }
                ]
            },
            {"additionalServiceData": [{"portData": [{"name": "rtsp", "port": 554}]}]},
        ],
        "changeAppInstanceStateOpConfig": {"minGracefulStopTimeout": 25},
    }
    document.update(changes)
    return document


def test_the_container_spec_of_an_instance() -> None:
    spec = PLAN.spec(lcm_instance(), appd(), {}, "sha256:img", "s3cret")
    assert spec.name == f"umec-{APP_ID}"
    assert spec.image == "sha256:img"
    assert spec.network == "mec-apps"
    assert spec.labels == {
        MANAGED_LABEL: PLATFORM_NAME,
        INSTANCE_LABEL: APP_ID,
        APPD_LABEL: "cam-d",
    }
    assert spec.environment == {
        "MEC_APP_INSTANCE_ID": APP_ID,
        "MEC_API_ROOT": "http://10.89.0.1:8080",
        "MEC_APP_PORT": "8081",
        "MEC_OAUTH2_TOKEN_URL": "http://10.89.0.1:8080/oauth2/token",
        "MEC_OAUTH2_CLIENT_ID": APP_ID,
        "MEC_OAUTH2_CLIENT_SECRET": "s3cret",
    }
    assert spec.cpus == 0.5
    assert spec.memory_bytes == 64 * 2**20
    assert list(spec.ports) == [
        PortMapping(8081, "tcp", None, "127.0.0.1"),
        PortMapping(8125, "udp", None, "127.0.0.1"),
        PortMapping(554, "tcp", None, "127.0.0.1"),
    ]
    assert list(spec.aliases) == [APP_ID, "camera-app-0f6b3c1e"]
    assert spec.stop_timeout == 25
    assert spec.command is None


@pytest.mark.parametrize(
    ("plan", "secret"),
    [
        (replace(PLAN, auth_enabled=False), "s3cret"),
        (PLAN, None),
    ],
)
def test_no_oauth2_variables_without_auth_or_a_secret(
    plan: ContainerPlan, secret: str | None
) -> None:
    spec = plan.spec(lcm_instance(), appd(), {}, "img", secret)
    assert spec.environment == {
        "MEC_APP_INSTANCE_ID": APP_ID,
        "MEC_API_ROOT": "http://10.89.0.1:8080",
        "MEC_APP_PORT": "8081",
    }


def test_the_plan_honours_its_token_path_and_publish_address() -> None:
    plan = replace(PLAN, token_path="/auth/token", publish_ip="0.0.0.0")
    spec = plan.spec(lcm_instance(), appd(), {}, "img", "s")
    assert spec.environment["MEC_OAUTH2_TOKEN_URL"] == "http://10.89.0.1:8080/auth/token"
    assert {p.host_ip for p in spec.ports} == {"0.0.0.0"}


def test_the_request_descriptor_overrides_the_appd_limits() -> None:
    params = {
        "virtualComputeDescriptor": {
            "virtualComputeDescId": "big",
            "virtualCpu": {"numVirtualCpu": 2},
            "virtualMemory": {"virtualMemSize": 512},
        }
    }
    spec = PLAN.spec(lcm_instance(), appd(), params, "img", None)
    assert (spec.cpus, spec.memory_bytes) == (2.0, 512 * 2**20)


def test_an_appd_without_limits_ports_or_stop_config() -> None:
    bare = {"appDId": "cam-d", "appName": "x"}
    spec = PLAN.spec(lcm_instance(), bare, {}, "img", None)
    assert (spec.cpus, spec.memory_bytes) == (None, None)
    assert list(spec.ports) == []
    assert spec.environment["MEC_APP_PORT"] == "8080"
    assert spec.stop_timeout == 10


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (600, 600), (601, 10), (-1, 10)])
def test_the_stop_timeout_stays_within_bounds(value: int, expected: int) -> None:
    config = {"changeAppInstanceStateOpConfig": {"minGracefulStopTimeout": value}}
    assert PLAN.spec(lcm_instance(), appd(**config), {}, "i", None).stop_timeout == expected


def test_a_stop_timeout_that_is_no_number_falls_back() -> None:
    for config in ({"minGracefulStopTimeout": "25"}, "not an object"):
        document = appd(changeAppInstanceStateOpConfig=config)
        assert PLAN.spec(lcm_instance(), document, {}, "i", None).stop_timeout == 10


def test_a_named_instance_is_reached_by_its_name() -> None:
    named = lcm_instance(name="Front Door.Cam")
    spec = PLAN.spec(named, appd(), {}, "img", None)
    assert list(spec.aliases) == [APP_ID, "front-door-cam"]


def test_an_app_name_without_letters_gives_no_alias() -> None:
    spec = PLAN.spec(lcm_instance(), appd(appName="***"), {}, "img", None)
    assert list(spec.aliases) == [APP_ID]


def test_app_ports_skips_what_is_malformed() -> None:
    document = {
        "appExtCpd": [
            "junk",
            {"additionalServiceData": ["junk", {"portData": ["junk", {"port": "80"}]}]},
            {"additionalServiceData": [{"portData": [{"port": 9000}]}]},
        ]
    }
    assert app_ports(document) == [("", 9000, "tcp")]


@pytest.mark.parametrize(
    ("appd_part", "params", "expected"),
    [
        ({}, {}, (None, None)),
        (
            {
                "virtualComputeDescriptor": {
                    "virtualCpu": {"numVirtualCpu": 1},
                    "virtualMemory": {"virtualMemSize": 128.0},
                }
            },
            {},
            (1.0, 128),
        ),
        (
            {"virtualComputeDescriptor": {"virtualCpu": {"numVirtualCpu": 1}}},
            {"virtualComputeDescriptor": {"virtualMemory": {"virtualMemSize": 32}}},
            (None, 32),
        ),
        ({"virtualComputeDescriptor": "junk"}, {}, (None, None)),
        (
            {"virtualComputeDescriptor": {"virtualCpu": "junk", "virtualMemory": []}},
            {},
            (None, None),
        ),
        (
            {},
            {
                "virtualComputeDescriptor": {
                    "virtualCpu": {"numVirtualCpu": "4"},
                    "virtualMemory": {"virtualMemSize": None},
                }
            },
            (None, None),
        ),
    ],
)
def test_requested_resources(
    appd_part: JsonObject, params: JsonObject, expected: tuple[float | None, int | None]
) -> None:
    assert requested_resources(appd_part, params) == expected


# -- wire: AppInstanceInfo ------------------------------------------------------------------
PACKAGE_FIELDS = {
    "appProvider": "ACME",
    "appName": "camera",
    "appSoftVersion": "1.2.3",
    "appDVersion": "3.1.1",
}


def test_a_not_instantiated_instance_on_the_wire() -> None:
    body = instance_to_wire(
        lcm_instance(name="front", description="the front door"), PACKAGE_FIELDS, URLS
    )
    instance_url = f"{LCM}/app_instances/{APP_ID}"
    assert body == {
        "id": APP_ID,
        "appDId": "cam-d",
        "appPkgId": "pkg-1",
        **PACKAGE_FIELDS,
        "instantiationState": "NOT_INSTANTIATED",
        "appInstanceName": "front",
        "appInstanceDescription": "the front door",
        "_links": {
            "self": {"href": instance_url},
            "instantiate": {"href": f"{instance_url}/instantiate"},
        },
    }


def test_task_links_follow_the_spec_while_not_instantiated() -> None:
    links = instance_to_wire(lcm_instance(), PACKAGE_FIELDS, URLS)["_links"]
    assert set(links) == {"self", "instantiate"}


def test_an_instantiated_instance_links_to_its_possible_tasks_only() -> None:
    links = instance_to_wire(running(), PACKAGE_FIELDS, URLS)["_links"]
    assert set(links) == {"self", "terminate", "operate", "configure_platform_for_app"}
    assert links["operate"] == {"href": f"{LCM}/app_instances/{APP_ID}/operate"}


def test_a_started_instance_shows_its_container() -> None:
    body = instance_to_wire(running(), PACKAGE_FIELDS, URLS)
    assert "appInstanceName" not in body and "appInstanceDescription" not in body
    assert body["instantiationState"] == "INSTANTIATED"
    assert body["instantiatedAppState"] == {
        "operationalState": "STARTED",
        "mcioInfo": [
            {
                "mcioId": "c0ffee",
                "mcioName": f"umec-{APP_ID}",
                "mcioNamespace": "podman",
                "vduId": "sha256:ab",
                "cismId": "podman",
                "mcioType": "Container",
                "desiredInstances": 1,
                "availableInstances": 1,
            }
        ],
    }
    assert body["communicationInterface"] == {"ipAddresses": [{"host": "10.89.0.5", "port": 8080}]}


def test_a_runtime_problem_shows_in_mcio_info() -> None:
    died = running(runtime_problem="the container stopped outside the platform (exit code 137)")
    mcio = instance_to_wire(died, PACKAGE_FIELDS, URLS)["instantiatedAppState"]["mcioInfo"][0]
    assert (mcio["desiredInstances"], mcio["availableInstances"]) == (1, 0)
    assert mcio["additionalInfo"] == died.runtime_problem
    stopped = running(operational_state=AppOperationalState.STOPPED, runtime_problem="gone")
    mcio = instance_to_wire(stopped, PACKAGE_FIELDS, URLS)["instantiatedAppState"]["mcioInfo"][0]
    assert (mcio["desiredInstances"], mcio["availableInstances"]) == (0, 0)


def test_the_communication_interface_follows_the_address_and_ports() -> None:
    base = running().deployment
    assert base is not None
    portless = running(deployment=replace(base, ports=()))
    body = instance_to_wire(portless, PACKAGE_FIELDS, URLS)
    assert body["communicationInterface"] == {"ipAddresses": [{"host": "10.89.0.5"}]}
    addressless = running(deployment=replace(base, ip_address=None))
    assert "communicationInterface" not in instance_to_wire(addressless, PACKAGE_FIELDS, URLS)
    undeployed = running(deployment=None)
    body = instance_to_wire(undeployed, PACKAGE_FIELDS, URLS)
    assert body["instantiatedAppState"] == {"operationalState": "STARTED"}
    assert "communicationInterface" not in body


# -- wire: AppLcmOpOcc and subscriptions ----------------------------------------------------
def test_a_plain_occurrence_on_the_wire() -> None:
    assert op_occ_to_wire(op_occ(), URLS) == {
        "id": "occ-1",
        "operationState": "STARTING",
        "stateEnteredTime": {"seconds": 1_700_000_001, "nanoSeconds": 500_000_000},
        "startTime": {"seconds": 1_700_000_001, "nanoSeconds": 500_000_000},
        "lcmOperation": "INSTANTIATE",
        "isCancelPending": False,
        "_links": {
            "self": {"href": f"{LCM}/app_lcm_op_occs/occ-1"},
            "appInstance": {"href": f"{LCM}/app_instances/{APP_ID}"},
        },
    }


def test_a_cancelled_failed_occurrence_carries_its_error_mode_and_params() -> None:
    error = {"title": "Conflict", "status": 409, "detail": "podman said: no space"}
    occ = op_occ(
        operation=LcmOperation.OPERATE,
        state=OperationState.FAILED_TEMP,
        params={"changeStateTo": "STOPPED"},
        error=error,
        cancel_pending=True,
        cancel_mode=CancelMode.GRACEFUL,
        lease_owner="runner",
        lease_until=5.0,
    )
    body = op_occ_to_wire(occ, URLS)
    assert body["operationParams"] == {"changeStateTo": "STOPPED"}
    assert body["error"] == error
    assert body["cancelMode"] == {"CancelMode": "GRACEFUL"}
    assert body["isCancelPending"] is True
    assert "lease" not in str(body)  # the lease is the platform's business


def test_a_subscription_on_the_wire_repeats_its_request() -> None:
    criteria = {"appInstSelectorType": 3, "appInstances": ["cam-d"]}
    sub = subscription(
        LcmSubscriptionType.INSTANCE_STATE,
        appInstanceState="STARTED",
        appInstanceSubscriptionFilter=criteria,
    )
    assert subscription_to_wire(sub, URLS) == {
        "id": "sub-1",
        "subscriptionType": "AppInstanceStateChangeSubscription",
        "callbackUri": "http://sub.test/cb",
        "appInstanceState": "STARTED",
        "appInstanceSubscriptionFilter": criteria,
        "_links": {"self": {"href": f"{LCM}/subscriptions/sub-1"}},
    }


# -- wire: notifications --------------------------------------------------------------------
def test_an_instance_notification() -> None:
    sub = subscription(LcmSubscriptionType.INSTANCE_STATE)
    body = instance_notification("n-1", sub, running(), 1_700_000_002.25, URLS)
    assert body == {
        "id": "n-1",
        "notificationType": "AppInstanceStateChangeSubscription",
        "appInstanceState": "STARTED",
        "subscriptionId": "sub-1",
        "timeStamp": {"seconds": 1_700_000_002, "nanoSeconds": 250_000_000},
        "appInstanceId": APP_ID,
        "appPkgId": "pkg-1",
        "appDId": "cam-d",
        "_links": {"subscription": {"href": f"{LCM}/subscriptions/sub-1"}},
    }


def test_an_op_occ_notification_links_instance_subscription_and_occurrence() -> None:
    sub = subscription(LcmSubscriptionType.OP_OCC_STATE)
    occ = op_occ(operation=LcmOperation.TERMINATE, state=OperationState.FAILED)
    body = op_occ_notification("n-2", sub, occ, 3.0, URLS)
    assert body == {
        "id": "n-2",
        "notificationType": "AppLcmOpOccStateChangeSubscription",
        "operationType": "TERMINATE",
        "operationState": "FAILED",
        "subscriptionId": "sub-1",
        "timeStamp": {"seconds": 3, "nanoSeconds": 0},
        "appLcmOpOccId": "occ-1",
        "appInstanceId": APP_ID,
        "_links": {
            "appInstance": {"href": f"{LCM}/app_instances/{APP_ID}"},
            "subscription": {"href": f"{LCM}/subscriptions/sub-1"},
            "appLcmOpOcc": {"href": f"{LCM}/app_lcm_op_occs/occ-1"},
        },
    }


@pytest.mark.parametrize(
    "kind", [LcmSubscriptionType.IDENTIFIER_CREATION, LcmSubscriptionType.IDENTIFIER_DELETION]
)
def test_identifier_notifications(kind: LcmSubscriptionType) -> None:
    body = identifier_notification("n-3", subscription(kind), "app/1", 4.0, URLS)
    assert body == {
        "id": "n-3",
        "notificationType": kind.value,
        "subscriptionId": "sub-1",
        "timeStamp": {"seconds": 4, "nanoSeconds": 0},
        "appInstanceId": "app/1",
        "_links": {
            "subscription": {"href": f"{LCM}/subscriptions/sub-1"},
            # Identifiers are quoted as one path segment.
            "appInstance": {"href": f"{LCM}/app_instances/app%2F1"},
        },
    }
