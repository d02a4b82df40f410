"""Reads of the documents app, always inside one clinic: a patient's documents (with signed consents), one document.

PDF bytes are never loaded by these lists (documents keep theirs in another table; consents are read without theirs).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Sum
from django.http import Http404
from django.urls import reverse

from prolotrack.consent.models import Consent
from prolotrack.documents.models import Document, DocumentKind, DocumentStatus, HandoutVersion
from prolotrack.treatment.models import ChecklistEntry, InjectionSite, PreparedSolution, TreatmentSession

# Consents that were signed have their PDF from the signing (prolotrack/consent); drafts have none.
SIGNED_CONSENT = ("signed", "withdrawn")


class NotFound(Http404):
    """No such document in this clinic: a 404 for the pages and the API alike (another clinic's record included)."""


@dataclass(frozen=True)
class DocumentRow:
    """One line of the chart's documents card and of the API list: a generated document or a signed consent."""

    uuid: Any
    kind: str
    title: str
    status: str
    status_label: str
    created_at: datetime
    generated_at: datetime | None
    sha256: str
    size: int | None
    session_uuid: Any
    course_uuid: Any
    outdated: bool
    error: str
    record: Any

    @property
    def ready(self) -> bool:
        return self.status in (DocumentStatus.READY, "signed", "withdrawn")

    @property
    def pending(self) -> bool:
        return self.status in (DocumentStatus.QUEUED, DocumentStatus.GENERATING)

    @property
    def downloadable(self) -> bool:
        # A queued document is rendered on first download, a failed one is tried again, a consent's PDF made once.
        return True

    @property
    def download_url(self) -> str:
        return reverse("documents:download", args=[self.uuid])


def session_stamps(session_ids: list[int]) -> dict[int, int]:
    """For each session, the sum of the versions of its note and of every checklist entry, solution and site.

    Any change to a signed note (an amendment of the note, a site added or retired as an amendment) raises it, so a
    visit summary made at a lower stamp is out of date. Four queries whatever the number of sessions.
    """
    if not session_ids:
        return {}
    stamps = dict(TreatmentSession.objects.filter(pk__in=session_ids).values_list("pk", "version"))
    for model in (ChecklistEntry, PreparedSolution, InjectionSite):
        for pk, total in (
            model.objects.filter(session_id__in=session_ids)
            .values("session_id")
            .annotate(total=Sum("version"))
            .values_list("session_id", "total")
        ):
            stamps[pk] = stamps.get(pk, 0) + (total or 0)
    return stamps


def _title(doc: Document) -> str:
    if doc.kind == DocumentKind.VISIT_SUMMARY and doc.session is not None:
        return f"Visit summary, session {doc.session.number} ({doc.session.planned_on:%Y-%m-%d})"
    return doc.get_kind_display()


def patient_documents(patient: Any) -> list[DocumentRow]:
    """The patient's documents, newest first, in two queries."""
    rows: list[DocumentRow] = []
    documents = list(
        Document.objects.filter(patient=patient, clinic=patient.clinic, entered_in_error_at__isnull=True)
        .select_related("session", "course")
        .order_by("-created_at", "-id")
    )
    stamps = session_stamps(sorted({d.session_id for d in documents if d.session_id}))
    newest: dict[int, Document] = {}
    for doc in documents:
        if doc.kind == DocumentKind.VISIT_SUMMARY and doc.session_id and doc.session_id not in newest:
            newest[doc.session_id] = doc
    for doc in documents:
        # Only the newest summary of a session offers a new version; older ones are history.
        outdated = bool(
            doc.kind == DocumentKind.VISIT_SUMMARY
            and doc.status == DocumentStatus.READY
            and doc.session_id
            and newest.get(doc.session_id) is doc
            and stamps.get(doc.session_id, 0) > doc.source_version
        )
        rows.append(
            DocumentRow(
                uuid=doc.uuid,
                kind=doc.kind,
                title=_title(doc),
                status="stalled" if doc.is_stalled else doc.status,
                status_label="Stalled (download to make it now)" if doc.is_stalled else doc.get_status_display(),
                created_at=doc.created_at,
                generated_at=doc.generated_at,
                sha256=doc.pdf_sha256,
                size=doc.pdf_size,
                session_uuid=doc.session.uuid if doc.session else None,
                course_uuid=doc.course.uuid if doc.course else None,
                outdated=outdated,
                error=doc.error,
                record=doc,
            )
        )
    consents = (
        Consent.objects.filter(
            patient=patient, clinic=patient.clinic, entered_in_error_at__isnull=True, status__in=SIGNED_CONSENT
        )
        .exclude(pdf_sha256="")
        .defer("pdf", "patient_signature", "witness_signature")
        .select_related("course")
    )
    for consent in consents:
        rows.append(
            DocumentRow(
                uuid=consent.uuid,
                kind="consent",
                title=f"Consent: {consent.get_scope_display().lower()}"
                + (f", {consent.course.indication}" if consent.course else ""),
                status=consent.status,
                status_label=consent.get_status_display(),
                created_at=consent.signed_at or consent.created_at,
                generated_at=consent.signed_at,
                sha256=consent.pdf_sha256,
                size=None,
                session_uuid=None,
                course_uuid=consent.course.uuid if consent.course else None,
                outdated=False,
                error="",
                record=consent,
            )
        )
    rows.sort(key=lambda r: r.created_at, reverse=True)
    return rows


def find(clinic: Any, uuid: Any) -> Document | Consent:
    """The document or signed consent with this id in the clinic, or NotFound (a 404)."""
    doc = Document.objects.select_related("patient", "session", "course", "clinic").filter(clinic=clinic, uuid=uuid)
    found = doc.first()
    if found is not None:
        return found
    consent = (
        Consent.objects.select_related("patient", "course", "clinic")
        .filter(clinic=clinic, uuid=uuid, status__in=SIGNED_CONSENT)
        .first()
    )
    if consent is not None:
        return consent
    raise NotFound("No such document in this clinic.")


def filename(record: Document | Consent) -> str:
    """A download name that says what the file is without the patient's name: kind, date, record number."""
    mrn = record.patient.mrn or "patient"
    if isinstance(record, Consent):
        day = (record.signed_at or record.created_at).date()
        return f"consent-{record.scope}-{day:%Y-%m-%d}-{mrn}.pdf"
    if record.kind == DocumentKind.VISIT_SUMMARY and record.session is not None:
        return f"visit-summary-session-{record.session.number}-{record.session.planned_on:%Y-%m-%d}-{mrn}.pdf"
    day = (record.generated_at or record.created_at).date()
    slug = "progress-report-patient" if record.kind == DocumentKind.PROGRESS_PATIENT else "progress-report-referrer"
    return f"{slug}-{day:%Y-%m-%d}-{mrn}.pdf"


def counts(rows: list[DocumentRow]) -> dict[str, int]:
    generated = [r for r in rows if r.kind != "consent"]
    return {
        "ready": sum(1 for r in generated if r.status == DocumentStatus.READY),
        "pending": sum(1 for r in generated if r.pending),
        "failed": sum(1 for r in generated if r.status == DocumentStatus.FAILED),
        "total": len(generated),
    }


def consent_with_patient(consent: Consent) -> Consent:
    """The consent read again with its patient and clinic, to render or verify its PDF."""
    return Consent.objects.select_related("patient", "clinic").get(pk=consent.pk)


def document_to_render(document: Document) -> Document:
    """The document read again with what its PDF shows: the patient, the session and the clinic."""
    return Document.objects.select_related("patient", "session", "clinic").get(pk=document.pk)


def patient_session(patient: Any, session_uuid: Any) -> TreatmentSession | None:
    """A session of this patient (with its course), or None."""
    return (
        TreatmentSession.objects.select_related("course")
        .filter(patient=patient, clinic_id=patient.clinic_id, uuid=session_uuid)
        .first()
    )


def handout_versions(clinic: Any, code: str, language: str = "en") -> list[HandoutVersion]:
    return list(
        HandoutVersion.objects.filter(clinic=clinic, section=code, language=language).select_related("created_by")
    )
