"""The FHIR edge: bearer tokens, content negotiation, OperationOutcome errors, audited reads.

Every FHIR view is wrapped by `fhir_endpoint`, so whatever goes wrong (no token, wrong role, unknown id, a method
the endpoint does not take, a format it cannot produce, bad input, too many exports, a bug) the client gets an
OperationOutcome with the right status code, never an HTML page.
"""

import logging
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, cast

import orjson
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from prolotrack.audit.services import AccessDenied, Actor, RecordClosedError, ServiceError, StaleEditError, record_event
from prolotrack.clinics.api_auth import BearerToken
from prolotrack.clinics.http import FhirRequest
from prolotrack.clinics.models import Membership
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for_membership

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
FHIR_NDJSON = "application/fhir+ndjson"
CHANNEL = "fhir"

# What `_format` and `Accept` may ask for; all get FHIR JSON (the only format served).
JSON_FORMATS = frozenset(
    {"json", "application/json", "application/fhir+json", "application/json+fhir", "text/json", "*/*", "application/*"}
)

# HTTP status -> OperationOutcome issue type (http://hl7.org/fhir/issue-type).
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    500: "exception",
    501: "not-supported",
}


class FhirError(Exception):
    """An error to answer as an OperationOutcome with this status."""

    def __init__(
        self,
        status: int,
        diagnostics: str,
        *,
        code: str | None = None,
        severity: str = "error",
        expression: Iterable[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.code = code or ISSUE_CODES.get(status, "processing")
        self.severity = severity
        self.expression = list(expression) if expression else None
        self.headers = headers or {}


def operation_outcome(
    severity: str, code: str, diagnostics: str, expression: Iterable[str] | None = None
) -> dict[str, Any]:
    """One-issue OperationOutcome (severity: fatal|error|warning|information; code: the issue-type code)."""
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = list(expression)
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def fhir_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    """A FHIR JSON response (orjson: datetimes, dates and UUIDs serialise natively)."""
    body = data if isinstance(data, bytes) else orjson.dumps(data)
    response = HttpResponse(body, status=status, content_type=f"{FHIR_JSON}; charset=utf-8")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: FhirError) -> HttpResponse:
    headers = dict(error.headers)
    if error.status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="fhir"')
    return fhir_response(
        operation_outcome(error.severity, error.code, error.diagnostics, error.expression), error.status, headers
    )


def negotiate(request: HttpRequest) -> None:
    """Refuse (406) a `_format` or `Accept` that asks for something other than JSON (XML, Turtle...)."""
    fmt = request.GET.get("_format")
    if fmt is not None:
        if fmt.split(";")[0].strip().lower() not in JSON_FORMATS:
            raise FhirError(406, f"_format={fmt} is not served: this server speaks FHIR JSON only (_format=json).")
        return
    accept = request.headers.get("Accept", "")
    if not accept.strip():
        return
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if not any(kind in JSON_FORMATS for kind in kinds):
        raise FhirError(406, f"Accept: {accept} cannot be served: ask for application/fhir+json.")


_bearer = BearerToken()


def authenticate(request: HttpRequest) -> Membership:
    """The membership the bearer token acts as, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise FhirError(401, "Send a bearer token: Authorization: Bearer <token>.", code="login")
    membership = _bearer.authenticate(request, token.strip())
    if membership is None:
        raise FhirError(
            401, "The bearer token is unknown, revoked or expired, or its account may not use the API.", code="login"
        )
    return membership


def fhir_actor(request: HttpRequest, *permissions: Permission) -> Actor:
    """The acting membership as an Actor on the fhir channel, or 403 when its role lacks any of `permissions`."""
    membership = cast(FhirRequest, request).fhir_membership
    for permission in permissions:
        if not membership.can(permission):
            raise FhirError(
                403, f"Your role ({membership.get_role_display()}) does not allow this ({permission.value})."
            )
    return actor_for_membership(membership, request, channel=CHANNEL)


def can(request: HttpRequest, permission: Permission) -> bool:
    return cast(FhirRequest, request).fhir_membership.can(permission)


def audit_read(actor: Actor, action: str, record: Any, patient_uuid: Any = None) -> None:
    """Audit one read of patient data (own transaction), as the rest of the product does."""
    with transaction.atomic():
        record_event(actor, action, record=record, patient_uuid=patient_uuid)


def audit_event(actor: Actor, action: str, *, patient_uuid: Any = None, detail: dict[str, Any] | None = None) -> None:
    """Audit a read or request that is not about one record (a search page, an export), in its own transaction."""
    with transaction.atomic():
        record_event(actor, action, patient_uuid=patient_uuid, detail=detail)


def _map_exception(error: Exception) -> FhirError:
    if isinstance(error, FhirError):
        return error
    if isinstance(error, Http404):
        return FhirError(404, str(error) or "No such resource in this clinic.")
    if isinstance(error, StaleEditError):
        return FhirError(412, str(error), code="conflict")
    if isinstance(error, AccessDenied):
        return FhirError(403, str(error))
    if isinstance(error, RecordClosedError):
        return FhirError(409, str(error), code="conflict")
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            parts = [f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()]
            return FhirError(422, "; ".join(parts), code="invalid", expression=list(error.message_dict))
        return FhirError(422, " ".join(error.messages), code="invalid")
    if isinstance(error, ServiceError):
        return FhirError(422, str(error), code="business-rule")
    log.exception("FHIR request failed", exc_info=error)
    return FhirError(500, "The server failed to answer this request; it was logged.", code="exception")


def fhir_endpoint(
    methods: Iterable[str] = ("GET",), *, negotiate_format: bool = True, require_token: bool = True
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Wrap a FHIR view: method check (405), content negotiation (406), bearer token (401), errors as OperationOutcome.

    The view finds `request.fhir_membership` and `request.clinic` set from the token.
    """
    allowed = tuple(m.upper() for m in methods)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in allowed:
                    raise FhirError(
                        405,
                        f"{request.method} is not supported here; use {', '.join(allowed)}.",
                        headers={"Allow": ", ".join(allowed)},
                    )
                if negotiate_format:
                    negotiate(request)
                if require_token:
                    membership = authenticate(request)
                    typed = cast(FhirRequest, request)
                    typed.fhir_membership = membership
                    typed.membership = membership
                    typed.clinic = membership.clinic
                return view(request, *args, **kwargs)
            except Exception as error:  # every error becomes an OperationOutcome
                return error_response(_map_exception(error))

        return wrapper

    return decorate


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for a path under /fhir that matches no endpoint."""
    return error_response(FhirError(404, f"No FHIR endpoint at {request.path}.", code="not-supported"))
