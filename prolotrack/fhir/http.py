"""The FHIR edge: bearer tokens, content negotiation, OperationOutcome errors, audited reads.

Every FHIR view is wrapped by `fhir_endpoint`, so whatever goes wrong (no token, wrong role, unknown id, a method
the endpoint does not take, a format it cannot produce, bad input, too many exports, a bug) the client gets an
OperationOutcome with the right status code, never an HTML page.
"""

import dataclasses
import hashlib
import logging
import uuid as uuid_lib
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, cast

import orjson
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from prolotrack.audit.services import AccessDenied, Actor, RecordClosedError, ServiceError, StaleEditError, record_event
from prolotrack.clinics.api_auth import BearerToken
from prolotrack.clinics.http import FhirRequest
from prolotrack.clinics.models import Membership
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for_membership
from prolotrack.domain.smart_scopes import ScopeSet, parse_scopes

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

# SMART interactions (the letters of a v2 scope) by name, for messages.
INTERACTIONS = {"c": "create", "r": "read", "u": "update", "d": "delete", "s": "search"}


@dataclasses.dataclass(frozen=True)
class OAuthGrant:
    """What a SMART access token allows on top of its membership's role (docs/SMART.md): its scopes, the patient
    its patient/ scopes are limited to, and the app (client id) it was issued to."""

    scopes: ScopeSet
    patient: uuid_lib.UUID | None
    client_id: str


def authenticate(request: HttpRequest) -> Membership:
    """The membership the bearer token acts as, or 401: a clinic API token (ApiToken), else a SMART access token.

    A SMART token also sets `request.fhir_grant` (its scopes and patient); an API token leaves it None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise FhirError(401, "Send a bearer token: Authorization: Bearer <token>.", code="login")
    token = token.strip()
    cast(FhirRequest, request).fhir_grant = None
    membership = _bearer.authenticate(request, token)
    if membership is not None:
        return membership
    return _oauth_membership(request, token)


def _oauth_membership(request: HttpRequest, token: str) -> Membership:
    from oauth2_provider.models import AccessToken

    from prolotrack.smart.models import TokenContext

    refused = FhirError(401, "The bearer token is unknown, expired, revoked, or its account may not use the API.")
    access = AccessToken.objects.filter(token_checksum=hashlib.sha256(token.encode()).hexdigest()).first()
    if access is None or access.is_expired():
        raise refused
    context = (
        TokenContext.objects.select_related("membership__user", "membership__clinic", "app__application")
        .filter(access_token=access)
        .first()
    )
    if context is None or not context.app.is_active:
        raise refused
    membership = context.membership
    if (
        membership.clinic_id != context.app.clinic_id  # a token never crosses clinics
        or not membership.can(Permission.API_TOKEN_USE)
    ):
        raise refused
    cast(FhirRequest, request).fhir_grant = OAuthGrant(
        parse_scopes(access.scope), context.patient_uuid, context.app.application.client_id
    )
    return membership


def grant_of(request: HttpRequest) -> OAuthGrant | None:
    return getattr(request, "fhir_grant", None)


def check_scope(request: HttpRequest, resource_type: str, interaction: str) -> uuid_lib.UUID | None:
    """403 unless the SMART token's scopes allow `interaction` (c r u d s) on the type; the patient the answer is
    limited to (a patient/ scope), or None. An API token is bounded by its role alone."""
    grant = grant_of(request)
    if grant is None:
        return None
    context = grant.scopes.context_for(resource_type, interaction)
    if context is None:
        raise FhirError(
            403,
            f"This token's scopes ({grant.scopes.text() or 'none'}) do not allow {INTERACTIONS[interaction]} of "
            f"{resource_type}.",
            code="forbidden",
        )
    if context == "patient":
        if grant.patient is None:
            raise FhirError(403, "This token's patient/ scopes have no patient in context.", code="forbidden")
        return grant.patient
    return None


def fhir_actor(request: HttpRequest, *permissions: Permission) -> Actor:
    """The acting membership as an Actor on the fhir channel, or 403 when its role lacks any of `permissions`."""
    membership = cast(FhirRequest, request).fhir_membership
    for permission in permissions:
        if not membership.can(permission):
            raise FhirError(
                403, f"Your role ({membership.get_role_display()}) does not allow this ({permission.value})."
            )
    actor = actor_for_membership(membership, request, channel=CHANNEL)
    grant = grant_of(request)
    return dataclasses.replace(actor, client_id=grant.client_id) if grant is not None else actor


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


# What a token-carrying endpoint does, for the scope check: one SMART interaction on the URL's resource type, or an
# interaction the view checks itself ("transaction": each entry; "export": each exported type; "export-job": the
# job's own client).
SCOPED = frozenset({"c", "r", "u", "d", "s"})
SELF_CHECKED = frozenset({"transaction", "export", "export-job"})


def fhir_endpoint(
    methods: Iterable[str] = ("GET",),
    *,
    negotiate_format: bool = True,
    require_token: bool = True,
    interaction: str | None = None,
    resource_type: str | None = None,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Wrap a FHIR view: method check (405), content negotiation (406), bearer token (401), SMART scopes (403),
    errors as OperationOutcome.

    Every endpoint that takes a token names its `interaction` (c r u d s on the URL's `resource_type`, or one the
    view checks itself): a new endpoint cannot forget the scope check. The view finds `request.fhir_membership`,
    `request.clinic` and `request.fhir_patient_limit` (the patient a patient/ scope limits the answer to) set.
    """
    allowed = tuple(m.upper() for m in methods)
    if require_token and interaction not in SCOPED | SELF_CHECKED:
        raise TypeError(f"A FHIR endpoint taking a token names its SMART interaction, not {interaction!r}.")

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
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
                    typed.fhir_patient_limit = None
                    if interaction in SCOPED:
                        rtype = resource_type or kwargs.get("resource_type") or (args[0] if args else "")
                        typed.fhir_patient_limit = check_scope(request, rtype, interaction)
                return view(request, *args, **kwargs)
            except Exception as error:  # every error becomes an OperationOutcome
                return error_response(_map_exception(error))

        return wrapper

    return decorate


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for a path under /fhir that matches no endpoint."""
    return error_response(FhirError(404, f"No FHIR endpoint at {request.path}.", code="not-supported"))
