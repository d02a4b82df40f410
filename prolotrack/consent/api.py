"""JSON API of the consent app, mounted on the product's API in prolotrack/api.py."""

from typing import Any
from uuid import UUID

from django.http import Http404, HttpResponse
from ninja import Router

from prolotrack.audit.integrity import verified
from prolotrack.audit.services import record_read
from prolotrack.clinics.api_auth import api_require
from prolotrack.clinics.http import ApiRequest
from prolotrack.clinics.roles import Permission
from prolotrack.consent import queries
from prolotrack.consent.models import Consent, ConsentStatus
from prolotrack.consent.schemas import ConsentOut
from prolotrack.consent.views import pdf_response, stored_pdf
from prolotrack.patients.queries import patient_or_404

router = Router(tags=["consent"])


def consent_out(c: Consent) -> dict[str, Any]:
    return {
        "id": c.uuid,
        "patient_id": c.patient.uuid,
        "course_id": c.course.uuid if c.course else None,
        "scope": c.scope,
        "status": c.status,
        "template_version": c.template_version,
        "patient_signer_name": c.patient_signer_name,
        "witness_name": c.witness_name,
        "witness_role": c.witness_role,
        "signed_at": c.signed_at,
        "pdf_sha256": c.pdf_sha256,
        "text_sha256": c.text_sha256,
        "withdrawn_at": c.withdrawn_at,
        "withdrawal_reason": c.withdrawal_reason,
        "withdrawn_by": c.withdrawn_by.get_username() if c.withdrawn_by else None,
        "version": c.version,
    }


@router.get("/patients/{patient_id}/consents", response={200: list[ConsentOut]}, summary="A patient's consents")
@api_require(Permission.DOCUMENT_VIEW)
def list_consents(request: ApiRequest, patient_id: UUID) -> Any:
    patient = patient_or_404(request, patient_id)
    record_read(request.actor, "consent.list.viewed", record=patient, patient_uuid=patient.uuid)
    consents = queries.patient_consents(patient)
    for c in consents:
        c.patient = patient
    return [consent_out(c) for c in consents]


@router.get(
    "/consents/{consent_id}/pdf",
    response={200: bytes},
    summary="The signed consent PDF (its SHA-256 in X-Content-SHA256)",
    openapi_extra={"responses": {200: {"content": {"application/pdf": {}}}}},
)
@api_require(Permission.DOCUMENT_VIEW)
def consent_pdf(request: ApiRequest, consent_id: UUID) -> HttpResponse:
    actor = request.actor
    try:
        consent = queries.get_consent(request.clinic, consent_id)
    except Consent.DoesNotExist:
        raise Http404("No such consent in this clinic.") from None
    if consent.status == ConsentStatus.DRAFT or not consent.has_pdf:
        raise Http404("This consent has no stored PDF.")
    data = stored_pdf(consent)
    verified(data, consent.pdf_sha256, actor=actor, record=consent, what="consent PDF")  # else 409
    record_read(actor, "consent.pdf.downloaded", record=consent)
    return pdf_response(consent, data)
