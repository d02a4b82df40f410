"""Bulk Data Access (HL7 FHIR Bulk Data IG v2): kick-off, status, files, cancel (docs/FHIR.md)."""

from django.http import HttpRequest, HttpResponse

from prolotrack.fhir.http import FhirError, fhir_endpoint


@fhir_endpoint(methods=("GET",))
def export_system(request: HttpRequest) -> HttpResponse:
    raise FhirError(501, "Bulk export is being built.", code="not-supported")


export_patients = export_system


@fhir_endpoint(methods=("GET",))
def export_group(request: HttpRequest, group_id: str) -> HttpResponse:
    raise FhirError(501, "Bulk export is being built.", code="not-supported")


@fhir_endpoint(methods=("GET", "DELETE"))
def export_status(request: HttpRequest, job_id: str) -> HttpResponse:
    raise FhirError(501, "Bulk export is being built.", code="not-supported")


@fhir_endpoint(methods=("GET",))
def export_file(request: HttpRequest, job_id: str, name: str) -> HttpResponse:
    raise FhirError(501, "Bulk export is being built.", code="not-supported")
