"""The single JSON API object; each app mounts its router here."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError

from prolotrack.audit.services import AccessDenied, ServiceError, StaleEditError
from prolotrack.clinics.api_auth import BearerToken
from prolotrack.patients.api import router as patients_router

api = NinjaAPI(
    title="ProloTrack API",
    version="1",
    description="Prolotherapy clinic records. Authenticate with `Authorization: Bearer <token>` "
    "(create one with `python manage.py create_api_token USERNAME`).",
    auth=BearerToken(),
    urls_namespace="api",
)
api.add_router("/patients", patients_router)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    detail = error.message_dict if hasattr(error, "error_dict") else error.messages
    return api.create_response(request, {"detail": detail, "code": "invalid"}, status=422)


@api.exception_handler(StaleEditError)
def on_stale(request: HttpRequest, error: StaleEditError) -> HttpResponse:
    return api.create_response(request, {"detail": str(error), "code": error.code}, status=409)


@api.exception_handler(AccessDenied)
def on_denied(request: HttpRequest, error: AccessDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(error), "code": error.code}, status=403)


@api.exception_handler(ServiceError)
def on_service_error(request: HttpRequest, error: ServiceError) -> HttpResponse:
    return api.create_response(request, {"detail": str(error), "code": error.code}, status=409)


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
