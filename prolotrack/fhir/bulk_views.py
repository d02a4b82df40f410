"""Bulk Data Access (HL7 FHIR Bulk Data IG v2): kick-off, status, files, cancel (docs/FHIR.md, "Bulk export")."""

import uuid as uuid_lib
from datetime import datetime
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date

from prolotrack.clinics.http import FhirRequest
from prolotrack.clinics.roles import Permission
from prolotrack.core import filestore
from prolotrack.fhir import bulk, queries, services
from prolotrack.fhir.http import (
    FHIR_NDJSON,
    FhirError,
    audit_event,
    check_scope,
    error_response,
    fhir_actor,
    fhir_endpoint,
    fhir_response,
    grant_of,
)
from prolotrack.fhir.models import Cohort, ExportJob, ExportLevel, ExportStatus
from prolotrack.fhir.resources import EXPORT_TYPES, PATIENT_EXPORT_TYPES

OUTPUT_FORMATS = frozenset({"application/fhir+ndjson", "application/ndjson", "ndjson"})
SUPPORTED = frozenset({"_type", "_since", "_outputFormat", "_format"})
RETRY_AFTER_SECONDS = 2
CONCURRENT_RETRY_SECONDS = 30


def _prefers(request: HttpRequest, token: str) -> bool:
    return any(part.strip().replace(" ", "") == token for part in request.headers.get("Prefer", "").split(","))


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(value.replace(" ", "+"))  # a "+" sent unencoded arrives as a space
    if parsed is None or parsed.tzinfo is None:
        raise FhirError(
            400, f"_since={value}: give a FHIR instant with a time zone, e.g. 2026-01-31T00:00:00Z.",
            code="invalid", expression=["_since"],
        )  # fmt: skip
    return parsed


def _types(request: HttpRequest, allowed: tuple[str, ...]) -> list[str]:
    raw = ",".join(request.GET.getlist("_type"))
    if not raw.strip():
        return list(allowed)
    wanted = [t.strip() for t in raw.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in allowed]
    if unknown:
        raise FhirError(
            400, f"_type: {', '.join(unknown)} cannot be exported at this level; choose from {', '.join(allowed)}.",
            code="not-supported", expression=["_type"],
        )  # fmt: skip
    return [t for t in allowed if t in wanted]


def _output_format(request: HttpRequest) -> None:
    """Refuse an output format other than NDJSON."""
    output_format = request.GET.get("_outputFormat")
    if output_format is None:
        return
    output_format = output_format.replace(" ", "+")  # a "+" sent unencoded arrives as a space
    if output_format not in OUTPUT_FORMATS:
        raise FhirError(400, f"_outputFormat={output_format}: only application/fhir+ndjson is produced.",
                        code="not-supported", expression=["_outputFormat"])  # fmt: skip


def _check_kick_off(request: HttpRequest) -> None:
    """Refuse a synchronous request and, unless the client asks for lenient handling, parameters not supported."""
    if not _prefers(request, "respond-async"):
        raise FhirError(400, "Bulk export is asynchronous: send the header 'Prefer: respond-async'.", code="required")
    unsupported = sorted(set(request.GET) - SUPPORTED)
    if unsupported and not _prefers(request, "handling=lenient"):
        raise FhirError(
            400, f"Not supported: {', '.join(unsupported)}. Remove them, or send 'Prefer: handling=lenient' to have "
            "them ignored.", code="not-supported", expression=unsupported,
        )  # fmt: skip
    _output_format(request)


def _kick_off(request: FhirRequest, level: str, allowed: tuple[str, ...], cohort: Cohort | None = None) -> HttpResponse:
    """Validate the request, refuse a second concurrent export (429), queue the job, answer 202 + Content-Location."""
    actor = fhir_actor(request, Permission.BULK_EXPORT)
    _check_kick_off(request)
    since = _parse_since(request.GET.get("_since"))
    types = _types(request, allowed)
    _check_export_scopes(request, types + (["Group"] if cohort is not None else []))
    bulk.purge_expired()
    membership = request.fhir_membership
    if queries.active_export(membership) is not None:
        raise FhirError(
            429, "An export you started is still running: wait for it (or cancel it) before starting another.",
            code="throttled", headers={"Retry-After": str(CONCURRENT_RETRY_SECONDS)},
        )  # fmt: skip
    job = services.start_export(
        actor, membership, level=level, types=types, since=since, request_url=request.build_absolute_uri(),
        cohort=cohort,
    )  # fmt: skip
    grant = grant_of(request)
    if grant is not None:
        from prolotrack.smart.services import link_export

        link_export(job, grant.client_id)
    status_url = request.build_absolute_uri(reverse("fhir:export-status", args=[job.uuid]))
    return fhir_response(_information(f"Export queued: {status_url}"), 202, {"Content-Location": status_url})


def _information(text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": text}],
    }


@fhir_endpoint(methods=("GET",), interaction="export")
def export_system(request: FhirRequest) -> HttpResponse:
    """[base]/$export: the whole clinic (patients, their records, the clinic and its staff)."""
    return _kick_off(request, ExportLevel.SYSTEM, EXPORT_TYPES)


@fhir_endpoint(methods=("GET",), interaction="export")
def export_patients(request: FhirRequest) -> HttpResponse:
    """[base]/Patient/$export: every patient's compartment."""
    return _kick_off(request, ExportLevel.PATIENT, PATIENT_EXPORT_TYPES)


@fhir_endpoint(methods=("GET",), interaction="export")
def export_group(request: FhirRequest, group_id: str) -> HttpResponse:
    """[base]/Group/[id]/$export: the compartments of a saved cohort's members."""
    fhir_actor(request, Permission.BULK_EXPORT)
    try:
        wanted = uuid_lib.UUID(group_id)
    except ValueError:
        raise FhirError(404, f"No Group with id {group_id} in this clinic.") from None
    cohort = queries.cohort(request.clinic, wanted)
    if cohort is None:
        raise FhirError(404, f"No Group with id {group_id} in this clinic.")
    return _kick_off(request, ExportLevel.GROUP, PATIENT_EXPORT_TYPES, cohort)


def _check_export_scopes(request: HttpRequest, types: list[str]) -> None:
    """A SMART token exports only types its user/ or system/ scopes let it read (a patient/ scope cannot export)."""
    if grant_of(request) is None:
        return
    limited = [t for t in types if check_scope(request, t, "r") is not None]
    if limited:
        raise FhirError(403, "Bulk export needs system/ (or user/) scopes; patient/ scopes cannot export.",
                        code="forbidden")  # fmt: skip


def _own_job(request: FhirRequest, job_id: Any) -> ExportJob:
    """The job, if this client (the token's membership, and the same SMART app) started it; anyone else gets 404."""
    from prolotrack.smart.queries import export_client_id

    job = queries.own_export(request.fhir_membership, job_id)
    grant = grant_of(request)
    if job is not None:
        owner = export_client_id(job)
        if owner != (grant.client_id if grant is not None else ""):
            job = None
    if job is None:
        raise FhirError(404, "No such export for this client.")
    return job


def _manifest(request: HttpRequest, job: ExportJob) -> HttpResponse:
    """The finished export's manifest: one line a file, each with its address and count."""
    manifest = {
        "transactionTime": job.transaction_time,
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": item["type"],
                "url": request.build_absolute_uri(reverse("fhir:export-file", args=[job.uuid, item["file"]])),
                "count": item["count"],
            }
            for item in job.output
        ],
        "error": [],
    }
    # A finished export always has its expiry (bulk.run sets it); the header is left out rather than fail without one.
    expires = {"Expires": http_date(job.expires_at.timestamp())} if job.expires_at is not None else {}
    response = fhir_response(manifest, 200, expires)
    response["Content-Type"] = "application/json"
    return response


def _cancel(job: ExportJob) -> HttpResponse:
    if job.status in (ExportStatus.CANCELLED, ExportStatus.EXPIRED):
        raise FhirError(404, "This export was already cancelled or has expired.")
    services.cancel_export(job)
    return fhir_response(_information("Export cancelled."), 202)


@fhir_endpoint(methods=("GET", "DELETE"), interaction="export-job")
def export_status(request: FhirRequest, job_id: Any) -> HttpResponse:
    """Poll (202 with X-Progress and Retry-After, then 200 with the manifest) or cancel (DELETE: 202)."""
    fhir_actor(request, Permission.BULK_EXPORT)
    bulk.purge_expired()
    job = _own_job(request, job_id)
    if request.method == "DELETE":
        return _cancel(job)
    if job.status in bulk.ACTIVE:
        progress = job.progress or ("Queued" if job.status == ExportStatus.QUEUED else "Starting")
        return HttpResponse(status=202, headers={"X-Progress": progress, "Retry-After": str(RETRY_AFTER_SECONDS)})
    if job.status == ExportStatus.FAILED:
        # Bulk IG: an error status is an OperationOutcome with Content-Type application/json.
        response = error_response(FhirError(500, job.error or "The export failed.", code="exception"))
        response["Content-Type"] = "application/json"
        return response
    if job.status == ExportStatus.CANCELLED:
        raise FhirError(404, "This export was cancelled.")
    if job.status == ExportStatus.EXPIRED:
        raise FhirError(404, "This export's files expired and were removed; start a new export.")
    return _manifest(request, job)


@fhir_endpoint(methods=("GET",), negotiate_format=False, interaction="export-job")
def export_file(request: FhirRequest, job_id: Any, name: str) -> HttpResponseBase:
    """One NDJSON file of a finished export, to the client that asked for it, with its bearer token."""
    actor = fhir_actor(request, Permission.BULK_EXPORT)
    job = _own_job(request, job_id)
    item = next((o for o in job.output if o["file"] == name), None)
    if job.status != ExportStatus.COMPLETED or item is None:
        raise FhirError(404, "No such file in this export (it may have expired or been cancelled).")
    try:
        handle = bulk.open_file(job, item)
    except (OSError, filestore.StoreError):
        raise FhirError(404, "This file was removed (the export expired).") from None
    audit_event(actor, "fhir.export.downloaded", detail={"job": str(job.uuid), "type": item["type"]})
    return FileResponse(handle, content_type=FHIR_NDJSON)
