"""FHIR REST: capability statement, read and search (docs/FHIR.md). Writes are in write_views.py."""

from django.http import HttpRequest, HttpResponse

from prolotrack.fhir.http import FhirError, error_response, fhir_endpoint


def base(request: HttpRequest) -> HttpResponse:
    """[base]: POST a transaction bundle (write_views.transaction); nothing else is served here."""
    if request.method == "POST":
        from prolotrack.fhir import write_views

        return write_views.transaction(request)
    return _unsupported(request)


@fhir_endpoint(methods=("POST",))
def _unsupported(request: HttpRequest) -> HttpResponse:  # pragma: no cover - the decorator answers 405 first
    raise FhirError(405, "Only POST (a transaction Bundle) is served at the base URL.")


def instance(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    """[base]/<type>/<id>: GET reads, PUT updates (write_views.update)."""
    if request.method == "PUT":
        from prolotrack.fhir import write_views

        return write_views.update(request, resource_type, resource_id)
    return read(request, resource_type, resource_id)


@fhir_endpoint(methods=("GET", "PUT"))
def read(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    raise FhirError(501, "Read is being built.", code="not-supported")


@fhir_endpoint(methods=("GET",))
def type_level(request: HttpRequest, resource_type: str) -> HttpResponse:
    raise FhirError(501, "Search is being built.", code="not-supported")


@fhir_endpoint(methods=("GET",))
def metadata(request: HttpRequest) -> HttpResponse:
    raise FhirError(501, "The capability statement is being built.", code="not-supported")


def unknown(request: HttpRequest, rest: str) -> HttpResponse:
    return error_response(FhirError(404, f"No FHIR endpoint at {request.path}.", code="not-supported"))
