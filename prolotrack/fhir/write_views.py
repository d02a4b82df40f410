"""The FHIR write side: POST [base] with a transaction or batch Bundle, PUT [base]/<type>/<id> with If-Match.

Thin: read the body, check the caller, hand over to `prolotrack.fhir.importer`, answer FHIR JSON. Every refusal is
an OperationOutcome listing each problem with its FHIRPath, and nothing is written (docs/FHIR-IMPORT.md).
"""

from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date

from prolotrack.clinics.http import FhirRequest
from prolotrack.clinics.roles import Permission
from prolotrack.fhir import importer, queries
from prolotrack.fhir.http import FhirError, check_scope, fhir_actor, fhir_endpoint, fhir_response, grant_of

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


# A bundle entry's method -> the SMART interaction it needs (a GET entry reads or searches).
ENTRY_INTERACTIONS = {"POST": "c", "PUT": "u", "PATCH": "u", "DELETE": "d", "GET": "r", "HEAD": "r"}


def _check_bundle_scopes(request: HttpRequest, bundle: Any) -> None:
    """A SMART token posting a bundle needs the scope of every entry; a patient-limited token may not post one."""
    if grant_of(request) is None or not isinstance(bundle, dict):
        return
    for number, entry in enumerate(bundle.get("entry") or []):
        if not isinstance(entry, dict):
            continue
        asked = entry.get("request")
        part = asked if isinstance(asked, dict) else {}
        method = str(part.get("method") or "POST").upper()
        url = str(part.get("url") or "").lstrip("/")
        sent = entry.get("resource")
        resource = sent if isinstance(sent, dict) else {}
        rtype = str(resource.get("resourceType") or url.split("/", 1)[0].split("?", 1)[0])
        interaction = ENTRY_INTERACTIONS.get(method, "c")
        if interaction == "r" and "/" not in url:
            interaction = "s"
        if check_scope(request, rtype, interaction) is not None:
            raise FhirError(
                403, f"entry[{number}]: a token limited to one patient cannot post a bundle; send each resource "
                "on its own (POST, PUT, DELETE).", code="forbidden", expression=[f"Bundle.entry[{number}]"],
            )  # fmt: skip


def _reference_id(value: Any) -> str:
    reference = value.get("reference") if isinstance(value, dict) else None
    return str(reference).removeprefix("Patient/") if isinstance(reference, str) else ""


def _check_new_resource_patient(request: FhirRequest, resource_type: str, resource: Any) -> None:
    """A patient-limited token creates only in its patient's compartment (subject/patient names that patient)."""
    limit = request.fhir_patient_limit
    if limit is None:
        return
    named = (
        {_reference_id(resource.get(key)) for key in ("subject", "patient")} if isinstance(resource, dict) else set()
    )
    if resource_type == "Patient" or str(limit) not in named:
        raise FhirError(403, f"This token is limited to Patient/{limit}: the resource must name it as its subject.",
                        code="forbidden")  # fmt: skip


def _check_record_patient(request: FhirRequest, resource_type: str, resource_id: str) -> None:
    """A patient-limited token changes only its patient's records."""
    import uuid as uuid_lib

    from prolotrack.fhir.resources import get_type

    if request.fhir_patient_limit is None:
        return
    rtype = get_type(resource_type)
    try:
        wanted = uuid_lib.UUID(resource_id)
    except ValueError:
        return  # the importer answers 404
    if rtype is None:
        return
    for source in rtype.sources:
        fields = [source.id_path] + ([source.patient_path] if source.patient_path else [])
        row = source.queryset(request.clinic).filter(**{source.id_path: wanted}).values(*fields).first()
        if row is not None:
            queries.within_patient(request, rtype, source, row)
            return


def _failure(error: importer.ImportFailure) -> HttpResponse:
    return fhir_response(error.outcome(), error.status)


@fhir_endpoint(methods=("POST",), interaction="transaction")
def transaction(request: FhirRequest) -> HttpResponse:
    """POST [base]: a transaction Bundle, imported all-or-nothing (transaction-response), or a batch Bundle, each
    entry on its own (batch-response, 200 with each entry's status)."""
    actor = fhir_actor(request, Permission.FHIR_IMPORT)
    bundle = _body(request)
    _check_bundle_scopes(request, bundle)
    try:
        result = importer.import_bundle(actor, bundle)
    except importer.ImportFailure as error:
        return _failure(error)
    return fhir_response(result.response_bundle())


@fhir_endpoint(methods=("PUT",), interaction="u")
def update(request: FhirRequest, resource_type: str, resource_id: str) -> HttpResponse:
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
    _check_record_patient(request, resource_type, resource_id)
    _check_new_resource_patient(request, resource_type, resource)
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


@fhir_endpoint(methods=("DELETE",), interaction="d")
def delete(request: FhirRequest, resource_type: str, resource_id: str) -> HttpResponse:
    """DELETE [base]/<type>/<id>: mark the record entered in error (nothing is erased; docs/FHIR.md, "Writes").
    If-Match is optional here; when sent, a stale version is refused (412)."""
    actor = fhir_actor(request, Permission.FHIR_IMPORT, Permission.RECORD_MARK_ERROR)
    _check_record_patient(request, resource_type, resource_id)
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


JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"


def _patch_body(request: HttpRequest) -> tuple[str, Any]:
    """(the patch's content type, its parsed JSON): 415 for another type, 400 for a body that is not JSON."""
    content_type = (request.content_type or "").lower()
    if content_type not in (JSON_PATCH, MERGE_PATCH, *JSON_BODY_TYPES):
        raise FhirError(
            415,
            f"Content-Type {request.content_type or '(none)'} is not accepted for PATCH: send {JSON_PATCH} "
            f"(or {MERGE_PATCH}).",
            code="not-supported",
        )
    try:
        return content_type, orjson.loads(request.body)
    except orjson.JSONDecodeError as error:
        raise FhirError(400, f"The body is not valid JSON: {error}.", code="structure") from None


def _patched(current: dict[str, Any], content_type: str, operations: Any, resource_type: str, resource_id: str) -> Any:
    """The resource as served with the patch applied (JSON Patch for a list, else merge patch); 422 if the patch
    changes its type or id."""
    resource = orjson.loads(orjson.dumps(current, option=orjson.OPT_NAIVE_UTC))
    if content_type == JSON_PATCH or isinstance(operations, list):
        patched = _json_patch(resource, operations)
    else:
        patched = _merge_patch(resource, operations)
    if (
        not isinstance(patched, dict)
        or patched.get("resourceType") != resource_type
        or patched.get("id") != resource_id
    ):
        raise FhirError(422, "A patch may not change the resource's type or id.", code="invariant")
    return patched


@fhir_endpoint(methods=("PATCH",), interaction="u")
def patch(request: FhirRequest, resource_type: str, resource_id: str) -> HttpResponse:
    """PATCH [base]/<type>/<id>: a JSON Patch (RFC 6902, `application/json-patch+json`), or a JSON merge patch (RFC
    7396, `application/merge-patch+json`, or a JSON object as fhirpy's `patch()` sends it), applied to the resource
    as it is served now, then written exactly as a PUT of the result (same mapping, services, version and audit
    rows). If-Match is required (428 without; 412 when stale); a failing `test` operation answers 409."""
    actor = fhir_actor(request, Permission.FHIR_IMPORT)
    if_match = request.headers.get("If-Match")
    if not if_match:
        raise FhirError(
            428,
            'Send If-Match with the version you read (the ETag, e.g. W/"3"): a patch applies to that version only.',
            code="required",
        )
    content_type, operations = _patch_body(request)
    try:
        version = importer.parse_etag(if_match, "If-Match")
    except importer.ImportFailure as error:
        return _failure(error)
    current = queries.current_resource(request, resource_type, resource_id)
    served = current.get("meta", {}).get("versionId")
    if served != str(version):
        raise FhirError(
            412,
            f"{resource_type}/{resource_id} is at version {served}, not {version}: read it again and patch that.",
            code="conflict",
        )
    patched = _patched(current, content_type, operations, resource_type, resource_id)
    patched.pop("meta", None)
    _check_new_resource_patient(request, resource_type, patched)
    try:
        outcome = importer.update_resource(actor, resource_type, resource_id, patched, if_match=version)
    except importer.ImportFailure as error:
        return _failure(error)
    headers = {
        "ETag": outcome.etag or "",
        "Location": request.build_absolute_uri(f"/fhir/{outcome.location}"),
        "Last-Modified": http_date(outcome.record.updated_at.timestamp()),
    }
    body = _representation(resource_type, outcome.record) or patched
    return fhir_response(body, 200, headers)


def _json_patch(resource: dict[str, Any], operations: Any) -> Any:
    import jsonpatch
    import jsonpointer

    if not isinstance(operations, list):
        raise FhirError(400, "A JSON Patch is a list of operations (RFC 6902).", code="structure")
    try:
        return jsonpatch.JsonPatch(operations).apply(resource)
    except jsonpatch.JsonPatchTestFailed as error:
        raise FhirError(409, f"The patch's test failed: {error}. Nothing was written.", code="conflict") from None
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError, KeyError) as error:
        raise FhirError(422, f"The patch cannot be applied: {error}. Nothing was written.", code="processing") from None


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge member by member, null removes a member, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = _merge_patch(out.get(name), value)
    return out


def _one_entry_bundle(request: HttpRequest, resource_type: str, resource: dict[str, Any]) -> dict[str, Any]:
    """A create as a transaction of one entry (conditional with If-None-Exist)."""
    request_part: dict[str, Any] = {"method": "POST", "url": resource_type}
    if request.headers.get("If-None-Exist"):
        request_part["ifNoneExist"] = request.headers["If-None-Exist"]
    return {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": resource, "request": request_part}]}


@fhir_endpoint(methods=("POST",), interaction="c")
def create(request: FhirRequest, resource_type: str) -> HttpResponse:
    """POST [base]/<type>: create one resource, as a one-entry transaction (same mapping, matching and refusals;
    If-None-Exist makes it conditional). 201 with Location, or 200 when it matched an existing record."""
    actor = fhir_actor(request, Permission.FHIR_IMPORT)
    resource = _body(request)
    if not isinstance(resource, dict) or resource.get("resourceType") != resource_type:
        found = resource.get("resourceType") if isinstance(resource, dict) else None
        raise FhirError(400, f"The body is a {found!r}, the URL names {resource_type}.", code="invalid")
    if resource_type not in importer.TYPE_KINDS:  # a type never imported: refused before anything is written
        raise FhirError(
            422,
            f"This {resource_type} is not kept by ProloTrack ({importer.not_imported(resource_type)}). "
            f"{importer.SUPPORTED_TEXT}.",
            code="not-supported",
        )
    _check_new_resource_patient(request, resource_type, resource)
    try:
        result = importer.import_bundle(actor, _one_entry_bundle(request, resource_type, resource))
    except importer.ImportFailure as error:
        return _failure(error)
    outcome = result.outcomes[0]
    if outcome.result == "skipped":
        raise FhirError(
            422,
            f"This {resource_type} is not kept by ProloTrack ({outcome.reason}). {importer.SUPPORTED_TEXT}.",
            code="not-supported",
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
    """The written resource as the read side renders it (prolotrack/fhir/mappers.py), or None without a mapper."""
    from prolotrack.fhir import mappers  # the read side (model -> FHIR JSON)
    from prolotrack.outcomes.models import QuestionnaireResponse
    from prolotrack.patients.models import Allergy, Condition, Medication, Observation, Patient, WeightMeasurement

    renderers: dict[type, tuple[str, tuple[str, ...], Any]] = {
        Patient: ("Patient", mappers.PATIENT_FIELDS, mappers.patient),
        Condition: ("Condition", mappers.CONDITION_FIELDS, mappers.condition),
        Allergy: ("AllergyIntolerance", mappers.ALLERGY_FIELDS, mappers.allergy),
        Medication: ("MedicationStatement", mappers.MEDICATION_STATEMENT_FIELDS, mappers.medication_statement),
        WeightMeasurement: ("Observation", mappers.WEIGHT_FIELDS, mappers.weight_observation),
        Observation: ("Observation", mappers.KEPT_OBSERVATION_FIELDS, mappers.kept_observation),
        QuestionnaireResponse: ("Observation", mappers.RESPONSE_FIELDS, mappers.score_observation),
    }
    found = renderers.get(type(record))
    if isinstance(record, Medication) and record.sent_as == "MedicationRequest":  # it came as an order
        found = ("MedicationRequest", mappers.MEDICATION_REQUEST_FIELDS, mappers.medication_request)
    if found is None or found[0] != resource_type:
        return None
    _, fields, render = found
    row = type(record).objects.filter(pk=record.pk).values(*fields).first()
    return render(row) if row is not None else None
