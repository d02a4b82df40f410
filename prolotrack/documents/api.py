"""JSON API of the documents app: a patient's documents (with signed consents), one document's status, its PDF, and
requesting a progress report. Mounted on the product's API in prolotrack/api.py."""

from typing import Any
from uuid import UUID

from django.http import Http404, HttpResponse
from ninja import Router
from ninja.responses import Status

from prolotrack.audit.services import record_read
from prolotrack.clinics.api_auth import api_require
from prolotrack.clinics.http import ApiRequest
from prolotrack.clinics.roles import Permission
from prolotrack.documents import queries, services, views
from prolotrack.documents.models import Document
from prolotrack.documents.schemas import DocumentOut, ReportIn
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment import queries as treatment_queries

router = Router(tags=["documents"])


def _out(row: queries.DocumentRow) -> dict[str, Any]:
    return {
        "id": row.uuid,
        "kind": row.kind,
        "title": row.title,
        "status": row.status,
        "created_at": row.created_at,
        "generated_at": row.generated_at,
        "sha256": row.sha256,
        "size": row.size,
        "session_id": row.session_uuid,
        "course_id": row.course_uuid,
        "outdated": row.outdated,
        "error": row.error,
        "download_url": f"/api/documents/{row.uuid}/pdf",
    }


@router.get(
    "/patients/{patient_id}/documents",
    response={200: list[DocumentOut]},
    summary="A patient's documents: visit summaries, progress reports and signed consents",
)
@api_require(Permission.DOCUMENT_VIEW)
def list_documents(request: ApiRequest, patient_id: UUID) -> Any:
    patient = patient_or_404(request, patient_id)
    record_read(request.actor, "document.list.viewed", record=patient, patient_uuid=patient.uuid)
    return [_out(row) for row in queries.patient_documents(patient)]


@router.post(
    "/patients/{patient_id}/documents",
    response={202: DocumentOut},
    summary="Request a progress report (generated in the background; poll its status)",
)
@api_require(Permission.DOCUMENT_VIEW)
def request_report(request: ApiRequest, patient_id: UUID, payload: ReportIn) -> Any:
    patient = patient_or_404(request, patient_id)
    course = None
    if payload.course_id is not None:
        course = treatment_queries.patient_course(patient, payload.course_id)
        if course is None:
            raise Http404("No such course for this patient.")
    doc = services.request_document(request.actor, patient, payload.kind, course=course)
    row = next(r for r in queries.patient_documents(patient) if r.uuid == doc.uuid)
    return Status(202, _out(row))


@router.get("/documents/{document_id}", response={200: DocumentOut}, summary="One document and its status")
@api_require(Permission.DOCUMENT_VIEW)
def get_document(request: ApiRequest, document_id: UUID) -> Any:
    found = queries.find(request.clinic, document_id)
    record_read(request.actor, "document.viewed", record=found, patient_uuid=found.patient.uuid)
    row = next(r for r in queries.patient_documents(found.patient) if r.uuid == found.uuid)
    return _out(row)


@router.get(
    "/documents/{document_id}/pdf",
    summary="Download the PDF (rendered now if the background worker has not yet done it)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
@api_require(Permission.DOCUMENT_VIEW)
def download(request: ApiRequest, document_id: UUID) -> Any:
    actor = request.actor
    found = queries.find(request.clinic, document_id)
    data, record = views.pdf_of(found, actor)
    record_read(actor, "document.downloaded", record=record, patient_uuid=record.patient.uuid)
    response: HttpResponse = views.pdf_response(data, queries.filename(record))
    return response


__all__ = ["Document", "router"]
