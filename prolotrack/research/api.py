"""Research export endpoints under /api: start an export, follow it, download the zip.

Only roles with export.research (clinic administrators and researchers). Another clinic's export answers 404.
"""

from typing import Any
from uuid import UUID

from django.http import FileResponse, Http404
from django.urls import reverse
from ninja import Router
from ninja.responses import Status

from prolotrack.clinics.api_auth import api_require
from prolotrack.clinics.http import ApiRequest
from prolotrack.clinics.roles import Permission
from prolotrack.research import queries, services
from prolotrack.research.models import ExportJob, ExportStatus
from prolotrack.research.schemas import ExportIn, ExportOut

router = Router(tags=["research"])


def export_out(job: ExportJob) -> dict[str, Any]:
    ready = job.status == ExportStatus.READY
    return {
        "id": job.uuid,
        "status": job.status,
        "stage": job.stage,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "date_mode": job.date_mode,
        "indication": job.indication,
        "year_from": job.year_from,
        "year_to": job.year_to,
        "requested_by": job.requested_by.get_username(),
        "requested_at": job.requested_at,
        "finished_at": job.finished_at,
        "expires_at": job.expires_at,
        "patient_count": job.patient_count,
        "row_counts": job.row_counts or {},
        "file_size": job.file_size,
        "sha256": job.file_sha256,
        "kind": "limited_data_set" if job.agreement_id else "safe_harbor",
        "agreement": job.agreement.uuid if job.agreement is not None else None,
        "privacy": job.privacy or {},
        "error": job.error,
        "status_url": reverse("api:research_export_status", args=[job.uuid]),
        "download_url": reverse("api:research_export_download", args=[job.uuid]) if ready else None,
    }


def _job(request: ApiRequest, job_id: UUID) -> ExportJob:
    try:
        return queries.get_job(request.clinic, job_id)
    except ExportJob.DoesNotExist:
        raise Http404("No such research export in this clinic.") from None


@router.post(
    "/research/exports",
    response={202: ExportOut},
    summary="Start a research export of the consenting patients (Safe Harbor, or a limited data set under a DUA)",
)
@api_require(Permission.RESEARCH_EXPORT)
def start_export(request: ApiRequest, payload: ExportIn) -> Any:
    job = services.start_export(
        request.actor,
        services.ExportRequest(
            date_mode=payload.date_mode,
            indication=payload.indication,
            year_from=payload.year_from,
            year_to=payload.year_to,
            agreement=str(payload.agreement) if payload.agreement else None,
        ),
    )
    return Status(202, export_out(job))


@router.get("/research/exports", response={200: list[ExportOut]}, summary="The clinic's recent exports")
@api_require(Permission.RESEARCH_EXPORT)
def list_exports(request: ApiRequest) -> Any:
    services.purge_expired(request.clinic)
    return [export_out(job) for job in queries.clinic_jobs(request.clinic)]


@router.get(
    "/research/exports/{job_id}",
    response={200: ExportOut},
    summary="An export's status and progress",
    url_name="research_export_status",
)
@api_require(Permission.RESEARCH_EXPORT)
def export_status(request: ApiRequest, job_id: UUID) -> Any:
    services.purge_expired(request.clinic)
    return export_out(_job(request, job_id))


@router.get(
    "/research/exports/{job_id}/download",
    response={200: None},
    summary="Download a ready export (zip of CSV, Parquet and the data dictionary)",
    url_name="research_export_download",
    openapi_extra={"responses": {"410": {"description": "The file was deleted: expired, or a patient withdrew."}}},
)
@api_require(Permission.RESEARCH_EXPORT)
def export_download(request: ApiRequest, job_id: UUID) -> Any:
    job = _job(request, job_id)
    handle = services.open_download(request.actor, job)  # ExportGone answers 410 (its `status`, prolotrack/api.py)
    return zip_response(job, handle)


def zip_response(job: ExportJob, handle: Any) -> FileResponse:
    response = FileResponse(
        handle,  # FileResponse closes it
        as_attachment=True,
        filename=services.download_name(job),
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
