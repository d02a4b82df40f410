"""The single JSON API object; each app mounts its router here."""

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError

from prolotrack.analytics.api import router as analytics_router
from prolotrack.billing.api import router as billing_router
from prolotrack.booking.api import router as booking_router
from prolotrack.clinical.api import router as clinical_router
from prolotrack.clinical.calculators import CalculatorError
from prolotrack.clinics.api_auth import BearerToken
from prolotrack.consent.api import router as consent_router
from prolotrack.core.errors import ServiceError
from prolotrack.documents.api import router as documents_router
from prolotrack.domain import errors as domain_errors
from prolotrack.imaging.api import router as imaging_router
from prolotrack.messaging.api import router as messaging_router
from prolotrack.outcomes.api import router as outcomes_router
from prolotrack.patients.api import router as patients_router
from prolotrack.research.api import router as research_router
from prolotrack.treatment.api import router as treatment_router


class ErrorOut(Schema):
    """The body of every error answer: what went wrong, said for the person who can fix it, and a stable code."""

    detail: str | list | dict
    code: str = "error"


# The one error table of the API: every status an operation may answer besides its own, and when. Every operation
# documents EVERY_OPERATION, writes WRITES too; an operation names any other (the research download's 410) in its
# openapi_extra. Each answer has the ErrorOut body. A service refusal carries its status (core/errors.py:
# ServiceError 409, AccessDenied 403, and the apps' own, such as a refused upload's 422 or 413).
ERRORS: dict[int, str] = {
    400: "The request could not be read (a body that is not JSON, a bad Idempotency-Key header).",
    401: "No valid bearer token: send Authorization: Bearer <token>.",
    403: "The token's role or scopes do not allow this.",
    404: "No such record in this clinic.",
    409: "A stale version, a refused change, or an Idempotency-Key reused for another request.",
    410: "The record's file is gone.",
    413: "The body is larger than the API accepts.",
    415: "The body is not application/json.",
    422: "An input does not fit the schema or a rule (the detail says which and why).",
}
EVERY_OPERATION = (400, 401, 403, 404, 409, 422)
WRITES = (413, 415)


class ProloTrackAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        """The schema with the answers of `ERRORS` documented on every operation (413 and 415 on writes), each with
        the ErrorOut body, so clients and the schema test expect them."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["ErrorOut"] = ErrorOut.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        error_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                write = method in ("post", "put", "patch")
                extra = {status: ERRORS[status] for status in EVERY_OPERATION + (WRITES if write else ())}
                if write:
                    operation.setdefault("parameters", []).append(
                        {
                            "in": "header",
                            "name": "Idempotency-Key",
                            "required": False,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                            "description": "Send the same key when retrying: the first answer comes back again "
                            "(kept 24 hours); the same key with another request answers 409.",
                        }
                    )
                responses = operation.setdefault("responses", {})
                for status, description in extra.items():
                    if status not in responses and str(status) not in responses:
                        responses[status] = {"description": description, **error_ref}
                for status, response in responses.items():
                    if str(status).startswith("4") and "content" not in response:
                        response.update(error_ref)
        return schema


api = ProloTrackAPI(
    title="ProloTrack API",
    version="1",
    description="Prolotherapy clinic records. Authenticate with `Authorization: Bearer <token>` "
    "(make one on My security, API tokens, or with `python manage.py create_api_token USERNAME --scope read`). A token "
    "has scopes: read (GET), write (other methods), export (exports); a call outside them answers 403.",
    auth=BearerToken(),
    urls_namespace="api",
)
api.add_router("/patients", patients_router)
api.add_router("", clinical_router)
api.add_router("", imaging_router)
api.add_router("", treatment_router)
api.add_router("", outcomes_router)
api.add_router("", messaging_router)
api.add_router("", documents_router)
api.add_router("", consent_router)
api.add_router("", research_router)
api.add_router("", analytics_router)
api.add_router("", billing_router)
api.add_router("", booking_router)

# Error codes of the domain's refusals, most specific first (OverrideError is a ScreeningError).
DOMAIN_ERROR_CODES: tuple[tuple[type[domain_errors.DomainError], str], ...] = (
    (CalculatorError, "invalid_input"),
    (domain_errors.OverrideError, "override_refused"),
    (domain_errors.MixingError, "mixing"),
    (domain_errors.DoseError, "dose"),
    (domain_errors.ScreeningError, "screening"),
    (domain_errors.AnatomyError, "anatomy"),
    (domain_errors.ProtocolError, "protocol"),
    (domain_errors.ScheduleError, "schedule"),
    (domain_errors.ScoringError, "scoring"),
    (domain_errors.InputError, "invalid_input"),
)


@api.exception_handler(domain_errors.DomainError)
def on_domain_error(request: HttpRequest, error: domain_errors.DomainError) -> HttpResponse:
    # The domain's message is written for a clinician and says what to fix; it is shown as it is.
    code = next((c for kind, c in DOMAIN_ERROR_CODES if isinstance(error, kind)), "invalid")
    body: dict = {"detail": str(error), "code": code}
    if isinstance(error, CalculatorError):
        body["fields"] = error.errors
    return api.create_response(request, body, status=422)


@api.exception_handler(SchemaValidationError)
def on_schema_error(request: HttpRequest, error: SchemaValidationError) -> HttpResponse:
    # A request that does not fit the schema (missing field, text for a number, unknown field): where and why.
    return api.create_response(request, {"detail": error.errors, "code": "invalid"}, status=422)


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    # Usually answered by the edge middleware from Content-Length; this catches a body without one.
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return api.create_response(
        request, {"detail": f"The body is larger than {limit} bytes.", "code": "too_large"}, status=413
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    code = {403: "forbidden", 404: "not_found", 400: "bad_request", 413: "too_large"}.get(error.status_code, "error")
    return api.create_response(request, {"detail": str(error), "code": code}, status=error.status_code)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    detail = error.message_dict if hasattr(error, "error_dict") else error.messages
    return api.create_response(request, {"detail": detail, "code": "invalid"}, status=422)


@api.exception_handler(ServiceError)
def on_service_error(request: HttpRequest, error: ServiceError) -> HttpResponse:
    # Each refusal carries its status: 409 (stale, closed, refused), 403 (AccessDenied), 410, 413, 422 (core/errors.py).
    return api.create_response(request, {"detail": str(error), "code": error.code}, status=error.status)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": str(error) or "Not found.", "code": "not_found"}, status=404)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": "Send a valid bearer token: Authorization: Bearer <token>.", "code": "unauthenticated"},
        status=401,
    )
    response["WWW-Authenticate"] = "Bearer"
    return response
