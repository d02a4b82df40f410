"""The FHIR write side: POST [base] with a transaction or batch Bundle, PUT [base]/<type>/<id> with If-Match.

Thin: read the body, check the caller, hand over to `prolotrack.fhir.importer`, answer FHIR JSON. Every refusal is
an OperationOutcome listing each problem with its FHIRPath, and nothing is written (docs/FHIR-IMPORT.md).
"""

from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date

from prolotrack.clinics.roles import Permission
from prolotrack.fhir import importer
from prolotrack.fhir.http import FhirError, fhir_actor, fhir_endpoint, fhir_response

# Media types a FHIR JSON body may be sent as (FHIR R4 http.html#mime-type; application/json is widely sent).
JSON_BODY_TYPES = frozenset({"application/fhir+json", "application/json+fhir", "application/json"})
MAX_BODY_BYTES = 64 * 1024 * 1024  # 64 MB: about 10,000 Synthea entries; larger loads use `manage.py import_fhir`


def _body(request: HttpRequest) -> Any:
    """The parsed JSON body: 415 for another media type, 413 when too large, 400 when it is not JSON."""
    content_type = (request.content_type or "").lower()
    if content_type not in JSON_BODY_TYPES:
        raise FhirError(
            415,
            f"Content-Type {request.content_type or '(none)'} is not accepted: send application/fhir+json.",
            code="not-supported",
        )
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise FhirError(
            413,
            f"The body is {length} bytes; at most {MAX_BODY_BYTES} are taken. Split the bundle, or import NDJSON "
            "with `manage.py import_fhir`.",
            code="too-costly",
        )
    raw = request.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise FhirError(413, f"The body is larger than {MAX_BODY_BYTES} bytes.", code="too-costly")
    if not raw.strip():
        raise FhirError(400, "The body is empty: send a FHIR JSON resource.", code="invalid")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise FhirError(400, f"The body is not valid JSON: {error}.", code="structure") from None


def _failure(error: importer.ImportFailure) -> HttpResponse:
    return fhir_response(error.outcome(), error.status)


@fhir_endpoint(methods=("POST",))
def transaction(request: HttpRequest) -> HttpResponse:
    """POST [base]: a transaction Bundle, imported all-or-nothing (transaction-response), or a batch Bundle, each
    entry on its own (batch-response, 200 with each entry's status)."""
    actor = fhir_actor(request, Permission.FHIR_IMPORT)
    bundle = _body(request)
    try:
        result = importer.import_bundle(actor, bundle)
    except importer.ImportFailure as error:
        return _failure(error)
    return fhir_response(result.response_bundle())


@fhir_endpoint(methods=("PUT",))
def update(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    """PUT [base]/<type>/<id>: replace the FHIR-carried fields of one record; If-Match is required (428 without)."""
    actor = fhir_actor(request, Permission.FHIR_IMPORT)
    if_match = request.headers.get("If-Match")
    if not if_match:
        raise FhirError(
            428,
            'Send If-Match with the version you read (the ETag, e.g. W/"3"): ProloTrack refuses an update that '
            "could overwrite someone else's change.",
            code="required",
        )
    resource = _body(request)
    try:
        version = importer.parse_etag(if_match, "If-Match")
        outcome = importer.update_resource(actor, resource_type, resource_id, resource, if_match=version)
    except importer.ImportFailure as error:
        return _failure(error)
    record = outcome.record
    headers = {
        "ETag": outcome.etag or "",
        "Location": request.build_absolute_uri(f"/fhir/{outcome.location}"),
        "Last-Modified": http_date(record.updated_at.timestamp()),
    }
    body = _representation(resource_type, record)
    if body is None:
        text = f"{resource_type}/{record.uuid} {outcome.result}: version {record.version}."
        body = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "information", "code": "informational", "diagnostics": text}],
        }
    return fhir_response(body, 200, headers)


@fhir_endpoint(methods=("DELETE",))
def delete(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    """DELETE [base]/<type>/<id>: mark the record entered in error (nothing is erased; docs/FHIR.md, "Writes").
    If-Match is optional here; when sent, a stale version is refused (412)."""
    actor = fhir_actor(request, Permission.FHIR_IMPORT, Permission.RECORD_MARK_ERROR)
    if_match = request.headers.get("If-Match")
    try:
        version = importer.parse_etag(if_match, "If-Match") if if_match else None
        record = importer.retire_resource(actor, resource_type, resource_id, if_match=version)
    except importer.ImportFailure as error:
        return _failure(error)
    text = (
        f"{resource_type}/{record.uuid} is marked entered in error (version {record.version}); it stays in the history."
    )
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": text}],
    }
    return fhir_response(body, 200, {"ETag": f'W/"{record.version}"'})


@fhir_endpoint(methods=("PATCH",))
def patch(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    """PATCH is not served: answer why (OperationOutcome), never an HTML page."""
    raise FhirError(
        405,
        "PATCH is not supported: read the resource, change it and PUT it back with If-Match (its ETag).",
        code="not-supported",
        headers={"Allow": "GET, PUT, DELETE"},
    )


@fhir_endpoint(methods=("POST",))
def create(request: HttpRequest, resource_type: str) -> HttpResponse:
    """POST [base]/<type>: create one resource, as a one-entry transaction (same mapping, matching and refusals;
    If-None-Exist makes it conditional). 201 with Location, or 200 when it matched an existing record."""
    actor = fhir_actor(request, Permission.FHIR_IMPORT)
    resource = _body(request)
    if not isinstance(resource, dict) or resource.get("resourceType") != resource_type:
        found = resource.get("resourceType") if isinstance(resource, dict) else None
        raise FhirError(400, f"The body is a {found!r}, the URL names {resource_type}.", code="invalid")
    request_part: dict[str, Any] = {"method": "POST", "url": resource_type}
    if request.headers.get("If-None-Exist"):
        request_part["ifNoneExist"] = request.headers["If-None-Exist"]
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": resource, "request": request_part}],
    }
    try:
        result = importer.import_bundle(actor, bundle)
    except importer.ImportFailure as error:
        return _failure(error)
    outcome = result.outcomes[0]
    if outcome.result == "skipped":
        raise FhirError(
            422, f"This {resource_type} is not kept by ProloTrack: {importer.SUPPORTED_TEXT}.", code="not-supported"
        )
    record = outcome.record
    headers = {"ETag": outcome.etag or ""}
    if outcome.location:
        headers["Location"] = request.build_absolute_uri(f"/fhir/{outcome.location}")
    body = (
        _representation(resource_type, record)
        if outcome.location and outcome.location.startswith(resource_type)
        else None
    )
    if body is None:
        body = result.summary()
    return fhir_response(body, 201 if outcome.result == "created" else 200, headers)


def _representation(resource_type: str, record: Any) -> dict[str, Any] | None:
    """The updated resource as the read side renders it (prolotrack/fhir/mappers.py), or None without a mapper."""
    try:
        from prolotrack.fhir import mappers  # the read side (model -> FHIR JSON)

        renderers = {
            "Patient": (mappers.PATIENT_FIELDS, mappers.patient),
            "Condition": (mappers.CONDITION_FIELDS, mappers.condition),
            "AllergyIntolerance": (mappers.ALLERGY_FIELDS, mappers.allergy),
            "MedicationStatement": (mappers.MEDICATION_STATEMENT_FIELDS, mappers.medication_statement),
            "Observation": (mappers.WEIGHT_FIELDS, mappers.weight_observation),
        }
    except (ImportError, AttributeError):
        return None
    fields, render = renderers[resource_type]
    row = type(record).objects.filter(pk=record.pk).values(*fields).first()
    return render(row) if row is not None else None
