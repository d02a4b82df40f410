"""FHIR REST: capability statement, read and search (docs/FHIR.md). Writes are in write_views.py."""

import uuid as uuid_lib
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from prolotrack.clinics.http import FhirRequest
from prolotrack.clinics.roles import Permission
from prolotrack.domain import instruments
from prolotrack.fhir import capability, mappers, queries, search, services, slots
from prolotrack.fhir.http import (
    FhirError,
    audit_read,
    can,
    check_scope,
    error_response,
    fhir_actor,
    fhir_endpoint,
    fhir_response,
)
from prolotrack.fhir.resources import STATIC_TYPES, ResourceType, Source


@csrf_exempt  # bearer-token API: no cookies, so no CSRF exposure; the wrapped views check the token
def base(request: HttpRequest) -> HttpResponseBase:
    """[base]: POST a transaction bundle (write_views.transaction); nothing else is served here."""
    if request.method == "POST":
        from prolotrack.fhir import write_views

        return write_views.transaction(request)
    return _base_other(request)


@fhir_endpoint(methods=("POST",), interaction="transaction")
def _base_other(request: FhirRequest) -> HttpResponse:  # pragma: no cover - the decorator answers 405 first
    raise FhirError(405, "Only POST (a transaction Bundle) is served at the base URL.")


@csrf_exempt  # bearer-token API: no cookies, so no CSRF exposure; every method below checks the token
def instance(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponseBase:
    """[base]/<type>/<id>: GET reads, PUT and PATCH update, DELETE marks entered in error (write_views);
    [base]/<type>/_search takes a POSTed search."""
    from prolotrack.fhir import write_views

    if resource_id == "_search":
        return search_post(request, resource_type)
    if request.method == "PUT":
        return write_views.update(request, resource_type, resource_id)
    if request.method == "DELETE":
        return write_views.delete(request, resource_type, resource_id)
    if request.method == "PATCH":
        return write_views.patch(request, resource_type, resource_id)
    if resource_type == "Binary":
        return binary(request, resource_id)
    return read(request, resource_type, resource_id)


@fhir_endpoint(methods=("GET",), negotiate_format=False, interaction="r", resource_type="Binary")
def binary(request: FhirRequest, resource_id: str) -> HttpResponse:
    """Binary/<id>: the PDF of a ready generated document (DocumentReference/<same id>), as application/pdf."""
    actor = fhir_actor(request, Permission.DOCUMENT_VIEW)
    try:
        wanted = uuid_lib.UUID(resource_id)
    except ValueError:
        raise FhirError(404, f"No Binary with id {resource_id} in this clinic.") from None
    found = queries.ready_pdf(request.clinic, wanted)
    limit = request.fhir_patient_limit
    if found is not None and limit is not None and str(found.document.patient.uuid) != str(limit):
        found = None  # a patient/ scope: another patient's document is not found
    if found is None:
        raise FhirError(404, f"No Binary with id {resource_id} in this clinic.")
    if found.document.entered_in_error_at is not None:
        raise FhirError(410, "This document was marked entered in error.", code="deleted")
    audit_read(actor, "fhir.binary.read", found.document, patient_uuid=None)
    response = HttpResponse(found.pdf_content, content_type="application/pdf")
    response["ETag"] = f'W/"{found.document.version}"'
    return response


def fhir_base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:base")).rstrip("/")


def etag_headers(resource: dict[str, Any]) -> dict[str, str]:
    version = resource.get("meta", {}).get("versionId", "1")
    headers = {"ETag": f'W/"{version}"'}
    updated = resource.get("meta", {}).get("lastUpdated")
    if updated is not None:
        from django.utils.http import http_date

        headers["Last-Modified"] = http_date(updated.timestamp())
    return headers


def _not_modified(request: HttpRequest, headers: dict[str, str]) -> HttpResponse | None:
    """304 when If-None-Match names the version about to be served (weak comparison, W/"3", "3" or 3)."""
    wanted = request.headers.get("If-None-Match")
    if not wanted:
        return None
    current = headers["ETag"].removeprefix("W/").strip('"')
    for tag in wanted.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/").strip('"') == current:
            response = HttpResponse(status=304)
            for name, value in headers.items():
                response[name] = value
            return response
    return None


@fhir_endpoint(methods=("GET", "PUT", "DELETE"), interaction="r")
def read(request: FhirRequest, resource_type: str, resource_id: str) -> HttpResponse:
    if resource_type in STATIC_TYPES:
        return _read_questionnaire(request, resource_id)
    if resource_type == "Slot":  # computed from the hours, not a row (fhir/slots.py)
        free = slots.read(request, resource_id)
        return fhir_response(free, 200, etag_headers(free))
    actor, rtype, source, row, _ = queries.current(request, resource_type, resource_id)
    if rtype.gone_when_eie and source.versioned and row["entered_in_error_at"] is not None:
        raise FhirError(
            410, f"{resource_type}/{resource_id} was marked entered in error; it is kept in the record's history.",
            code="deleted",
        )  # fmt: skip
    resource = source.map_rows([row])[0]
    headers = etag_headers(resource)
    queries.audit_one(actor, rtype, source, row)
    return _not_modified(request, headers) or fhir_response(resource, 200, headers)


def _versions(request: FhirRequest, resource_type: str, resource_id: str) -> tuple[Any, Source, list[Any], Any]:
    """(actor, source, the record's versions as FHIR resources newest first with their version rows, current row)
    from the product's version rows (audit.RecordVersion): each version's stored content laid over the current row
    (what does not change: ids, the patient, the clinic), mapped by the same mapper as a read."""
    from prolotrack.audit.models import RecordVersion

    actor, rtype, source, row, wanted = queries.current(request, resource_type, resource_id)
    if not source.versioned:
        raise FhirError(404, f"{resource_type} has no version history here.", code="not-supported")
    model = source.model
    rows = queries.record_versions(request.clinic, model._meta.label_lower, wanted)
    out = []
    for version in rows:
        past = dict(row)
        for name, value in (version.data or {}).items():
            if name in past and name not in ("id", "uuid"):
                try:
                    field = model._meta.get_field(name)
                    if not isinstance(field, models.Field):
                        continue  # a relation's reverse side: not part of a version
                    past[name] = field.to_python(value)
                except (FieldDoesNotExist, ValidationError):
                    continue  # a field renamed or retyped since: today's value stands
        past["version"] = version.version
        past["updated_at"] = version.at
        out.append((source.map_rows([past])[0], version))
    if not out or out[0][1].version != row["version"]:
        # The current row is its own latest version even when no version row was written for it (records
        # loaded in bulk by the demo and bench generators): served as it is now.
        current = RecordVersion(version=row["version"], at=row["updated_at"], data={})
        out.insert(0, (source.map_rows([dict(row)])[0], current))
    queries.audit_one(actor, rtype, source, row)
    return actor, source, out, row


@fhir_endpoint(methods=("GET",), interaction="r")
def history(request: FhirRequest, resource_type: str, resource_id: str) -> HttpResponse:
    """GET [base]/<type>/<id>/_history: every version of the record, newest first (a `history` Bundle)."""
    _, _, versions, _ = _versions(request, resource_type, resource_id)
    base_url = fhir_base_url(request)
    entries = []
    for resource, version in versions:
        entries.append(
            {
                "fullUrl": f"{base_url}/{resource_type}/{resource_id}",
                "resource": resource,
                "request": {
                    "method": "POST" if version.version == 1 else "PUT",
                    "url": resource_type if version.version == 1 else f"{resource_type}/{resource_id}",
                },
                "response": {
                    "status": "201 Created" if version.version == 1 else "200 OK",
                    "etag": f'W/"{version.version}"',
                    "lastModified": version.at,
                },
            }
        )
    bundle = {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(entries),
        "link": [{"relation": "self", "url": request.build_absolute_uri()}],
        "entry": entries,
    }
    return fhir_response(bundle)


@fhir_endpoint(methods=("GET",), interaction="r")
def vread(request: FhirRequest, resource_type: str, resource_id: str, version_id: str) -> HttpResponse:
    """GET [base]/<type>/<id>/_history/<vid>: one version as it was (the same ids every write's Location gives)."""
    _, _, versions, _ = _versions(request, resource_type, resource_id)
    for resource, version in versions:
        if str(version.version) == version_id:
            headers = etag_headers(resource)
            return _not_modified(request, headers) or fhir_response(resource, 200, headers)
    raise FhirError(404, f"{resource_type}/{resource_id} has no version {version_id}.")


def _read_questionnaire(request: HttpRequest, resource_id: str) -> HttpResponse:
    fhir_actor(request, Permission.PROTOCOL_VIEW)
    code = resource_id.replace("-", "_")
    if code not in instruments.DEFINITIONS:
        raise FhirError(404, f"No Questionnaire with id {resource_id}.")
    resource = mappers.questionnaire(code)
    return fhir_response(resource, 200, {"ETag": 'W/"1"'})


def _strict(request: HttpRequest) -> bool:
    prefer = request.headers.get("Prefer", "")
    return any(part.strip().replace(" ", "") == "handling=strict" for part in prefer.split(","))


@csrf_exempt  # bearer-token API: no cookies, so no CSRF exposure; both methods check the token
def type_level(request: HttpRequest, resource_type: str) -> HttpResponseBase:
    """[base]/<type>: GET searches, POST creates one resource (write_views.create)."""
    if request.method == "POST":
        from prolotrack.fhir import write_views

        return write_views.create(request, resource_type)
    return search_get(request, resource_type)


@fhir_endpoint(methods=("GET",), interaction="s")
def search_get(request: FhirRequest, resource_type: str) -> HttpResponse:
    """Search: GET [base]/<type>?params (docs/FHIR.md, "Search")."""
    return _search(request, resource_type, request.GET)


@fhir_endpoint(methods=("POST",), interaction="s")
def search_post(request: FhirRequest, resource_type: str) -> HttpResponse:
    """Search: POST [base]/<type>/_search with the parameters form-encoded in the body and/or the query string."""
    content_type = (request.content_type or "").lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data", ""):
        raise FhirError(
            415, "POST _search takes its parameters as application/x-www-form-urlencoded.", code="not-supported"
        )
    params = request.GET.copy()
    for name in request.POST:
        for value in request.POST.getlist(name):
            params.appendlist(name, value)
    return _search(request, resource_type, params)


def _entry(base_url: str, type_name: str, resource: dict[str, Any], mode: str) -> dict[str, Any]:
    return {"fullUrl": f"{base_url}/{type_name}/{resource['id']}", "resource": resource, "search": {"mode": mode}}


def _matches(rtype: ResourceType, page: Any, base_url: str, patients: set[Any]) -> list[dict[str, Any]]:
    """The page's rows as resources, each source's rows mapped in one call, in the page's order."""
    by_source: dict[int, list[dict[str, Any]]] = {}
    for i, row in page.rows:
        by_source.setdefault(i, []).append(row)
    mapped: dict[int, dict[str, Any]] = {}
    for i, rows in by_source.items():
        for row, resource in zip(rows, rtype.sources[i].map_rows(rows), strict=True):
            mapped[id(row)] = resource
    entries = []
    for i, row in page.rows:
        entries.append(_entry(base_url, rtype.name, mapped[id(row)], "match"))
        path = rtype.sources[i].patient_path
        if path:
            patients.add(row.get(path))
    return entries


def _includes(request: FhirRequest, query: Any, page: Any, base_url: str, patients: set[Any]) -> list[dict[str, Any]]:
    """_include: the resources the page's rows refer to, if the role may read their type."""
    entries = []
    for include in query.includes:
        target = queries.type_or_404(include.target)
        check_scope(request, target.name, "r")
        if not can(request, target.permission):
            raise FhirError(403, f"_include of {include.target} is not allowed for your role.")
        ids = {row.get(include.path) for _, row in page.rows} - {None}
        for resource, patient in queries.included(target, request.clinic, ids):
            entries.append(_entry(base_url, target.name, resource, "include"))
            if patient is not None:
                patients.add(patient)
    return entries


def _revincludes(
    request: FhirRequest, rtype: ResourceType, query: Any, page: Any, base_url: str, patients: set[Any]
) -> list[dict[str, Any]]:
    """_revinclude: the resources that refer to the page's rows (a capped number), if the role may read their type."""
    entries = []
    for source_type, include in query.revincludes:
        rev_limit = check_scope(request, source_type.name, "s")
        if not can(request, source_type.permission):
            raise FhirError(403, f"_revinclude of {source_type.name} is not allowed for your role.")
        ids = [row.get(rtype.sources[i].id_path) for i, row in page.rows]
        found, more = queries.revincluded(source_type, request.clinic, include.path, ids)
        for resource, patient in found:
            if rev_limit is not None and str(patient) != str(rev_limit):
                continue  # a patient/ scope: only that patient's records, whatever they point at
            entries.append(_entry(base_url, source_type.name, resource, "include"))
            if patient is not None:
                patients.add(patient)
        if more:
            query.ignored.append(
                f"_revinclude={source_type.name}:… beyond the first {search.MAX_REVINCLUDE} resources (ask with a "
                "smaller _count, or search that type)"
            )
    return entries


def _ignored(rtype: ResourceType, ignored: list[str]) -> dict[str, Any]:
    """The warning entry that names each parameter ignored (lenient handling)."""
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "warning",
                "code": "not-supported",
                "diagnostics": f"Ignored (not supported on {rtype.name}): {name}. "
                "Send 'Prefer: handling=strict' to have unsupported parameters refused.",
            }
            for name in ignored
        ],
    }
    return {"resource": outcome, "search": {"mode": "outcome"}}


def _search(request: FhirRequest, resource_type: str, params: Any) -> HttpResponse:
    if resource_type in STATIC_TYPES:
        return _search_questionnaires(request)
    if resource_type == "Slot":
        return fhir_response(slots.search(request, params, fhir_base_url(request), _strict(request)))
    rtype = queries.type_or_404(resource_type)
    actor = fhir_actor(request, rtype.permission)
    clinic = request.clinic
    query = search.parse(rtype, params, clinic.tz, strict=_strict(request))
    queries.limit_to_patient(request, rtype, query.filters)
    page = search.fetch(query, clinic)
    base_url = fhir_base_url(request)
    patients: set[Any] = set()
    entries = _matches(rtype, page, base_url, patients)
    entries += _includes(request, query, page, base_url, patients)
    entries += _revincludes(request, rtype, query, page, base_url, patients)
    if query.ignored:
        entries.append(_ignored(rtype, query.ignored))
    services.audit_search(actor, rtype, patients, len(page.rows))
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if query.total:
        bundle["total"] = search.total(query, clinic)
    bundle["link"] = search.links(query, page, f"{base_url}/{rtype.name}")
    if not query.summary_count:
        bundle["entry"] = entries
    return fhir_response(bundle)


def _search_questionnaires(request: HttpRequest) -> HttpResponse:
    fhir_actor(request, Permission.PROTOCOL_VIEW)
    base_url = fhir_base_url(request)
    wanted = None
    if request.GET.get("_id"):
        wanted = {part.strip().replace("-", "_") for part in request.GET["_id"].split(",")}
    if request.GET.get("url"):
        wanted = {u.rsplit("/", 1)[-1] for u in request.GET["url"].split(",")}
    entries = [
        {
            "fullUrl": f"{base_url}/Questionnaire/{mappers.questionnaire_id(code)}",
            "resource": mappers.questionnaire(code),
            "search": {"mode": "match"},
        }
        for code in instruments.DEFINITIONS
        if wanted is None or code in wanted
    ]
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": [{"relation": "self", "url": request.build_absolute_uri()}],
            "entry": entries,
        }
    )


@fhir_endpoint(methods=("GET",), require_token=False)
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: open to anyone (it holds no patient data), as FHIR clients expect."""
    return fhir_response(capability.capability_statement(fhir_base_url(request)))


def unknown(request: HttpRequest, rest: str) -> HttpResponse:
    return error_response(FhirError(404, f"No FHIR endpoint at {request.path}.", code="not-supported"))
