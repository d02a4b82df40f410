"""The JSON API's one access check: every operation runs behind `clinics.api_auth.api_require(Permission.X)`.

- Walks every operation of the NinjaAPI (prolotrack/api.py) and every URL it serves: an operation without the
  decorator's mark fails, unless it is on PUBLIC_OPERATIONS with its reason; a URL that is no operation must be on
  PUBLIC_URLS (the OpenAPI document and its viewer).
- A table of operations x roles (clinics/roles.py): each role whose row lacks the operation's permission gets 403 with
  the role's name in the message, and nothing is written (no INSERT, UPDATE or DELETE; no audit row). Through the
  decorator for every operation, and through HTTP with a bearer token for every operation that takes no body (an
  operation with a body validates it first, as before: a malformed body answers 422 whoever sends it), plus a
  hand-written valid body for a few writes.
"""

import inspect
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from ninja.errors import HttpError
from ninja.operation import Operation

from prolotrack.api import api
from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.api_auth import api_require
from prolotrack.clinics.http import ApiRequest
from prolotrack.clinics.models import ApiToken, Membership, User
from prolotrack.clinics.roles import Permission, Role, role_has
from prolotrack.clinics.services import create_api_token

URL_PATTERNS, _APP, _NAMESPACE = api.urls  # builds every router, as the URLconf does

# Operations that may run without `api_require`, each with why. None today: the API has no anonymous operation (a
# health check is /health, a plain page, docs/OPERATIONS.md). An entry here is a public door: say why in ARCHITECTURE.md.
PUBLIC_OPERATIONS: dict[str, str] = {}

# URLs of the API that are not operations: django-ninja serves them itself, without the bearer token.
PUBLIC_URLS: dict[str, str] = {
    "openapi-json": "The OpenAPI document: the API's shape, no clinic data; clients read it before they hold a token.",
    "openapi-view": "Swagger UI, a page that reads the same document.",
    "api-root": "/api/ itself: django-ninja answers 404 naming the viewer's address; it locates the API's root path.",
}

BODY_SOURCES = {"body", "form", "file"}
WRITE_SQL = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Op:
    operation_id: str
    method: str
    path: str  # as served, with {parameters}
    operation: Operation

    @property
    def permission(self) -> Permission | None:
        return getattr(self.operation.view_func, "required_permission", None)

    @property
    def has_body(self) -> bool:
        return any(m.__ninja_param_source__ in BODY_SOURCES for m in self.operation.signature.models)

    def url(self) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: str(uuid.uuid4()), self.path)


def operations() -> Iterator[Op]:
    # The routers as served: django-ninja binds a copy of each router to the API, with the API's auth on its operations.
    for router in api._get_bound_routers():
        prefix = router.prefix
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                operation_id = operation.operation_id or api.get_openapi_operation_id(operation)
                for method in operation.methods:
                    yield Op(operation_id, method, f"/api{prefix}{path}", operation)


OPERATIONS = sorted(operations(), key=lambda op: (op.path, op.method))
DENIED = [
    pytest.param(op, role, id=f"{op.operation_id}-{role}")
    for op in OPERATIONS
    if op.permission is not None
    for role in Role.values
    if not role_has(role, op.permission)
]


def test_the_walk_sees_the_whole_api() -> None:
    # Guards the walk itself: it finds as many operations as the published document lists.
    document = api.get_openapi_schema()
    listed = sum(len(methods) for methods in document["paths"].values())
    assert len(OPERATIONS) == listed > 50
    assert len({op.operation_id for op in OPERATIONS}) == len(OPERATIONS)


def test_every_operation_checks_a_permission() -> None:
    unchecked = [
        f"{op.method} {op.path} ({op.operation_id})"
        for op in OPERATIONS
        if op.permission is None and op.operation_id not in PUBLIC_OPERATIONS
    ]
    assert not unchecked, (
        "Put @api_require(Permission.X) under the router's decorator of each (docs/CONTRIBUTING.md, 'Add an API endpoint'):\n"
        + "\n".join(unchecked)
    )
    assert all(isinstance(op.permission, Permission) for op in OPERATIONS if op.permission is not None)
    stale = set(PUBLIC_OPERATIONS) - {op.operation_id for op in OPERATIONS}
    assert not stale, f"PUBLIC_OPERATIONS names operations the API no longer has: {sorted(stale)}"


def test_every_operation_needs_the_bearer_token() -> None:
    # The decorator reads the token's membership (request.auth): an operation without the API's auth would have none.
    assert all(op.operation.auth_callbacks for op in OPERATIONS)


def test_the_api_serves_nothing_else_but_its_public_urls() -> None:
    operation_views = {
        pattern.name for pattern in URL_PATTERNS if "PathView" in getattr(pattern.callback, "__qualname__", "")
    }
    others = {pattern.name for pattern in URL_PATTERNS} - operation_views
    assert others == set(PUBLIC_URLS)
    assert operation_views


def test_the_table_covers_every_role_and_a_refusal_for_most_operations() -> None:
    # Every role is refused somewhere, and only the operations every role may use have no row.
    assert {param.values[1] for param in DENIED} == set(Role.values)
    open_to_all = {
        op.operation_id for op in OPERATIONS if op.permission and all(role_has(r, op.permission) for r in Role.values)
    }
    assert open_to_all == {
        "prolotrack_clinical_api_list_protocols",
        "prolotrack_clinical_api_get_protocol",
        "prolotrack_clinical_api_protocol_schedule",
    }


@pytest.fixture
def member_of(make_member: Callable[..., User], clinic: Any) -> Callable[[str], Membership]:
    def make(role: str) -> Membership:
        return Membership.objects.select_related("clinic", "user").get(user=make_member(f"member-{role}", role, clinic))

    return make


def refusal(role: str) -> dict[str, str]:
    return {"detail": f"Your role ({Role(role).label}) does not allow this.", "code": "forbidden"}


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if WRITE_SQL.match(q["sql"])]


@pytest.mark.django_db
@pytest.mark.parametrize(("op", "role"), DENIED)
def test_a_role_without_the_permission_is_refused_before_the_endpoint_runs(
    op: Op, role: str, member_of: Callable[[str], Membership]
) -> None:
    membership = member_of(role)
    request: Any = RequestFactory().generic(op.method, op.url())
    request.auth, request.membership, request.clinic = membership, membership, membership.clinic
    parameters = list(inspect.signature(op.operation.view_func).parameters)[1:]
    never_read = object()  # the endpoint would fail on these at once: reaching it at all fails the test
    events = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries, pytest.raises(HttpError) as refused:
        op.operation.view_func(request, **dict.fromkeys(parameters, never_read))
    response = api.on_exception(request, refused.value)
    assert (response.status_code, json.loads(response.content)) == (403, refusal(role))
    assert not hasattr(request, "actor")
    assert writes(queries) == []
    assert AuditEvent.objects.count() == events


@pytest.fixture
def bearer(member_of: Callable[[str], Membership]) -> Callable[[str], dict[str, str]]:
    def make(role: str) -> dict[str, str]:
        membership = member_of(role)
        token = create_api_token(membership)
        # Marked used just now, so the request's own bookkeeping (last_used_at) writes nothing either.
        ApiToken.objects.filter(membership=membership).update(last_used_at=timezone.now())
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.mark.django_db
@pytest.mark.parametrize(("op", "role"), [p for p in DENIED if not p.values[0].has_body])
def test_through_http_a_role_without_the_permission_gets_403_and_nothing_is_written(
    op: Op, role: str, client: Any, bearer: Callable[[str], dict[str, str]]
) -> None:
    headers = bearer(role)
    events = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        response = client.generic(op.method, op.url(), headers=headers)
    assert (response.status_code, response.json()) == (403, refusal(role))
    assert writes(queries) == []
    assert AuditEvent.objects.count() == events


# Writes with a body the schema accepts: the refusal comes from the permission, not from the input.
VALID_BODIES = [
    (
        "POST",
        "/api/patients",
        "researcher",
        {"given_name": "Ada", "family_name": "Byron", "date_of_birth": "1980-12-10", "sex": "female"},
    ),
    ("POST", "/api/patients/{id}/conditions", "frontdesk", {"description": "Knee osteoarthritis"}),
    ("POST", "/api/research/exports", "clinician", {}),
    (
        "POST",
        "/api/calculators/mix",
        "admin",
        {"final_volume_ml": "10", "target_dextrose_pct": "15", "dextrose_stock_pct": "50"},
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "role", "body"), VALID_BODIES, ids=[f"{m} {p} {r}" for m, p, r, _ in VALID_BODIES]
)
def test_through_http_a_write_with_a_valid_body_is_refused_and_writes_nothing(
    method: str,
    path: str,
    role: str,
    body: dict[str, Any],
    client: Any,
    patient: Any,
    bearer: Callable[[str], dict[str, str]],
) -> None:
    headers = bearer(role)
    patients, events = type(patient).objects.count(), AuditEvent.objects.count()
    url = path.replace("{id}", str(patient.uuid))
    with CaptureQueriesContext(connection) as queries:
        response = client.generic(method, url, json.dumps(body), content_type="application/json", headers=headers)
    assert (response.status_code, response.json()) == (403, refusal(role))
    assert writes(queries) == []
    assert (type(patient).objects.count(), AuditEvent.objects.count()) == (patients, events)


@pytest.mark.django_db
def test_a_role_with_the_permission_runs_the_endpoint_as_its_actor(member_of: Callable[[str], Membership]) -> None:
    seen: dict[str, Any] = {}

    @api_require(Permission.SESSION_SIGN, channel="api-test")
    def endpoint(request: ApiRequest, session_id: uuid.UUID) -> str:
        """Signs."""
        seen["actor"], seen["session_id"] = request.actor, session_id
        return "ran"

    membership = member_of(Role.CLINICIAN)
    request: Any = RequestFactory().post("/api/sessions/x/sign")
    request.auth = membership
    session_id = uuid.uuid4()
    assert endpoint(request, session_id=session_id) == "ran"
    actor = seen["actor"]
    assert (actor.user, actor.clinic, actor.role, actor.channel) == (
        membership.user,
        membership.clinic,
        "clinician",
        "api-test",
    )
    assert seen["session_id"] == session_id
    # What django-ninja reads: the endpoint's own signature, name and docstring; and the mark the walk above reads.
    assert list(inspect.signature(endpoint).parameters) == ["request", "session_id"]
    assert (endpoint.__name__, endpoint.__doc__) == ("endpoint", "Signs.")
    assert vars(endpoint)["required_permission"] is Permission.SESSION_SIGN


def test_an_async_endpoint_is_refused_at_import() -> None:
    async def endpoint(request: ApiRequest) -> None:
        return None

    with pytest.raises(TypeError, match="synchronous"):
        api_require(Permission.PATIENT_LIST)(endpoint)
