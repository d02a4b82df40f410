"""Placeholder for the FHIR write side (transaction bundles, updates); the fhirimport work replaces this file."""

from django.http import HttpRequest, HttpResponse

from prolotrack.fhir.http import FhirError, fhir_endpoint


@fhir_endpoint(methods=("POST",))
def transaction(request: HttpRequest) -> HttpResponse:
    raise FhirError(501, "Transaction bundles are not supported yet.", code="not-supported")


@fhir_endpoint(methods=("PUT",))
def update(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    raise FhirError(501, "Updates are not supported yet.", code="not-supported")
