"""Reads of the FHIR edge's own records (cohorts, export jobs), always within the caller's clinic or client."""

from typing import Any

from prolotrack.audit.models import RecordVersion
from prolotrack.documents.models import DocumentPdf
from prolotrack.fhir import search
from prolotrack.fhir.bulk import ACTIVE
from prolotrack.fhir.models import Cohort, ExportJob
from prolotrack.fhir.resources import ResourceType


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
