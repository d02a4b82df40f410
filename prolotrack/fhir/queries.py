"""Reads of the FHIR edge: its own records (cohorts, export jobs), always within the caller's clinic or client; a
resource type by name and one record of the caller's clinic as it is served now.

The record lookup is here, below views.py and write_views.py, so both read a record the same way (views dispatches
writes to write_views; PATCH reads the current resource first) without importing each other both ways.
"""

import uuid as uuid_lib
from typing import Any

from prolotrack.audit.models import RecordVersion
from prolotrack.clinics.http import FhirRequest
from prolotrack.documents.models import DocumentPdf
from prolotrack.fhir import search
from prolotrack.fhir.bulk import ACTIVE
from prolotrack.fhir.http import FhirError, audit_read, fhir_actor
from prolotrack.fhir.models import Cohort, ExportJob
from prolotrack.fhir.resources import ResourceType, Source, get_type


def cohort(clinic: Any, cohort_uuid: Any) -> Cohort | None:
    """A saved cohort of the clinic (not entered in error), or None."""
    return Cohort.objects.filter(clinic=clinic, uuid=cohort_uuid, entered_in_error_at__isnull=True).first()


def active_export(membership: Any) -> ExportJob | None:
    """The client's export still queued or running (one at a time per client: 429 otherwise)."""
    return ExportJob.objects.filter(membership=membership, status__in=ACTIVE).first()


def own_export(membership: Any, job_uuid: Any) -> ExportJob | None:
    """The export job, if this client (the token's membership) started it."""
    return ExportJob.objects.filter(uuid=job_uuid, membership=membership).first()


def ready_pdf(clinic: Any, document_uuid: Any) -> DocumentPdf | None:
    """The PDF of the clinic's generated document, once it is ready (Binary/<id>)."""
    return (
        DocumentPdf.objects.select_related("document")
        .filter(document__uuid=document_uuid, document__clinic=clinic, document__status="ready")
        .first()
    )


def record_versions(clinic: Any, record_type: str, record_uuid: Any) -> Any:
    """A record's saved versions, newest first (FHIR _history)."""
    return RecordVersion.objects.filter(clinic=clinic, record_type=record_type, record_uuid=record_uuid).order_by(
        "-version"
    )


def included(target: ResourceType, clinic: Any, ids: set[Any]) -> list[tuple[dict[str, Any], Any]]:
    out = []
    for source in target.sources:
        if not ids:
            break
        qs = source.queryset(clinic).filter(**{f"{source.id_path}__in": list(ids)})
        if target.gone_when_eie and source.versioned:
            qs = qs.filter(entered_in_error_at__isnull=True)
        rows = list(qs.order_by("pk").values(*source.fields))
        for row, resource in zip(rows, source.map_rows(rows), strict=True):
            out.append((resource, row.get(source.patient_path) if source.patient_path else None))
            ids.discard(row[source.id_path])
    return out


def revincluded(
    source_type: ResourceType, clinic: Any, path: str, ids: list[Any]
) -> tuple[list[tuple[dict[str, Any], Any]], bool]:
    """The resources of `source_type` whose reference `path` names one of the page's ids (at most MAX_REVINCLUDE;
    True when there were more)."""
    out: list[tuple[dict[str, Any], Any]] = []
    more = False
    for source in source_type.sources:
        if not ids:
            break
        room = search.MAX_REVINCLUDE - len(out)
        qs = source.queryset(clinic).filter(**{f"{path}__in": ids})
        if source_type.gone_when_eie and source.versioned:
            qs = qs.filter(entered_in_error_at__isnull=True)
        rows = list(qs.order_by("pk").values(*source.fields)[: room + 1])
        if len(rows) > room:
            rows, more = rows[:room], True
        for row, resource in zip(rows, source.map_rows(rows), strict=True):
            out.append((resource, row.get(source.patient_path) if source.patient_path else None))
        if more:
            break
    return out, more


def type_or_404(name: str) -> ResourceType:
    found = get_type(name)
    if found is None:
        raise FhirError(404, f"Resource type '{name}' is not served here (see /fhir/metadata).", code="not-supported")
    return found


def current_resource(request: FhirRequest, resource_type: str, resource_id: str) -> dict[str, Any]:
    """The resource as a read serves it now (for PATCH), audited as a read; 410 for a gone record."""
    actor, rtype, source, row, _ = current(request, resource_type, resource_id)
    if rtype.gone_when_eie and source.versioned and row["entered_in_error_at"] is not None:
        raise FhirError(410, f"{resource_type}/{resource_id} was marked entered in error.", code="deleted")
    audit_one(actor, rtype, source, row)
    return source.map_rows([row])[0]


def current(request: FhirRequest, resource_type: str, resource_id: str) -> tuple[Any, Any, Source, dict[str, Any], Any]:
    """(actor, type, source, current row, uuid) of a record in the caller's clinic; 404 for anything else."""
    rtype = type_or_404(resource_type)
    actor = fhir_actor(request, rtype.permission)
    try:
        wanted = uuid_lib.UUID(resource_id)
    except ValueError:
        raise FhirError(404, f"No {resource_type} with id {resource_id} in this clinic.") from None
    for source in rtype.sources:
        row = source.queryset(request.clinic).filter(**{source.id_path: wanted}).values(*source.fields).first()
        if row is not None:
            within_patient(request, rtype, source, row)
            return actor, rtype, source, row, wanted
    raise FhirError(404, f"No {resource_type} with id {resource_id} in this clinic.")


def within_patient(request: FhirRequest, rtype: ResourceType, source: Source, row: dict[str, Any]) -> None:
    """403 when a patient/ scope limits the request to one patient and the record is not in that patient's
    compartment (the clinic's Organization and staff directory hold no patient data and stay readable)."""
    limit = request.fhir_patient_limit
    if limit is None:
        return
    if source.patient_path:
        if str(row.get(source.patient_path)) == str(limit):
            return
    elif not (rtype.in_patient_compartment or source.versioned):
        return
    raise FhirError(403, f"This token is limited to Patient/{limit}: this record is outside it.", code="forbidden")


def limit_to_patient(request: FhirRequest, rtype: ResourceType, filters: list[Any]) -> None:
    """Narrow a search's per-source filters to the patient a patient/ scope limits the request to."""
    from django.db.models import Q

    limit = request.fhir_patient_limit
    if limit is None:
        return
    for i, source in enumerate(rtype.sources):
        if filters[i] is None:
            continue
        if source.patient_path:
            filters[i] = filters[i] & Q(**{source.patient_path: limit})
        elif rtype.in_patient_compartment or source.versioned:
            filters[i] = None


def audit_one(actor: Any, rtype: ResourceType, source: Source, row: dict[str, Any]) -> None:
    if not source.versioned:
        return  # clinic and staff directory rows: no patient data
    record = source.model(uuid=row["uuid"])
    patient = row.get(source.patient_path) if source.patient_path else None
    audit_read(actor, f"fhir.{rtype.name.lower()}.read", record, patient_uuid=patient)
