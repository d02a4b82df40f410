"""Writes of the documents app: queue and generate PDFs, store them once, edit and revert the clinic's handout texts.

A document is queued (a `Document` row, status queued) in one transaction, and a background task (`generate_document`, below) renders
it after commit: queued -> generating -> ready (with a `DocumentPdf` row and its SHA-256) or failed (with the error).
Each step is a version of the Document row with its audit event. A ready document never changes; generating again
makes a new Document. Handout edits append a `HandoutVersion`; a revert appends a copy of an older text.
"""

import hashlib
import io
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django_tasks import task

from prolotrack.audit.services import (
    Actor,
    ServiceError,
    StaleEditError,
    create_record,
    update_record,
)
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.core import filestore
from prolotrack.core.access import require_same_clinic
from prolotrack.documents import handouts
from prolotrack.documents.models import (
    Document,
    DocumentKind,
    DocumentPdf,
    DocumentStatus,
    HandoutVersion,
)
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import SessionStatus, TreatmentSession

log = logging.getLogger(__name__)

# Bump when a document's template changes what it shows; stored on each document.
TEMPLATE_VERSIONS: dict[str, int] = {
    DocumentKind.VISIT_SUMMARY: 1,
    DocumentKind.PROGRESS_PATIENT: 1,
    DocumentKind.PROGRESS_REFERRER: 1,
}


# --- Queueing ---------------------------------------------------------------------------------------------------


@task()
def generate_document(document_uuid: str) -> str:
    """The background task (django-tasks; `make run` starts a `db_worker`, the tests run it inline): render one queued
    document and store its PDF; return its status. Here rather than in a tasks module that services would import
    back: one module, no import cycle."""
    document = Document.objects.select_related("clinic", "patient").filter(uuid=document_uuid).first()
    if document is None:
        return "missing"
    try:
        return generate(document).status
    except StaleEditError:
        # Someone else (a download) claimed it first and is rendering it.
        return "claimed elsewhere"


def _enqueue_after_commit(document: Document) -> None:
    uuid = str(document.uuid)
    transaction.on_commit(lambda: generate_document.enqueue(uuid), robust=True)


def request_document(
    actor: Actor,
    patient: Patient,
    kind: str,
    *,
    course: Any = None,
    session: TreatmentSession | None = None,
) -> Document:
    """Queue a new document for generation in the background; return it (status queued)."""
    require_permission(actor, Permission.DOCUMENT_VIEW)
    require_same_clinic(actor, patient)
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": f"Unknown document '{kind}': choose one of {', '.join(DocumentKind.values)}."})
    if patient.is_entered_in_error:
        raise ServiceError("This patient record was marked entered in error: make documents on the correct record.")
    if kind == DocumentKind.VISIT_SUMMARY:
        if session is None or session.patient_id != patient.pk:
            raise ValidationError({"session": "Choose a session of this patient."})
        if not session.is_signed or session.status != SessionStatus.DONE:
            raise ServiceError("A visit summary is made from a signed session: sign the session note first.")
        course = session.course
    if course is not None and course.patient_id != patient.pk:
        raise ValidationError({"course": "That course belongs to another patient."})
    return _queue(actor, patient, kind, course=course, session=session)


def _queue(actor: Actor, patient: Patient, kind: str, *, course: Any, session: Any) -> Document:
    with transaction.atomic():
        document = create_record(
            actor,
            Document(
                clinic=patient.clinic,
                patient=patient,
                course=course,
                session=session,
                kind=kind,
                status=DocumentStatus.QUEUED,
                template_version=TEMPLATE_VERSIONS[kind],
                generated_by=actor.user if actor.user is not None and actor.user.pk else None,
            ),
            "document.queued",
            detail={"kind": kind},
        )
        _enqueue_after_commit(document)
    return document


def regenerate(actor: Actor, document: Document) -> Document:
    """A new document of the same kind from the record as it is now; the old one stays as it was.

    A visit summary is made again only when the note was amended since (or the last attempt failed).
    """
    require_permission(actor, Permission.DOCUMENT_VIEW)
    require_same_clinic(actor, document)
    if document.kind == DocumentKind.VISIT_SUMMARY and document.session_id:
        from prolotrack.documents.queries import session_stamps

        stamp = session_stamps([document.session_id]).get(document.session_id, 0)
        newer = Document.objects.filter(
            session_id=document.session_id, kind=document.kind, entered_in_error_at__isnull=True
        ).exclude(status=DocumentStatus.FAILED)
        if any(d.is_pending or d.source_version >= stamp for d in newer):
            raise ServiceError("This visit summary is up to date with the signed note: there is nothing to regenerate.")
    return request_document(actor, document.patient, document.kind, course=document.course, session=document.session)


def queue_visit_summary(actor: Actor, session_pk: int) -> Document | None:
    """Queue the visit summary of a signed session unless an up-to-date one exists or is on its way.

    Called after a session is signed (treatment.services.sign_session, on commit) and by the demo seed; safe to
    call twice. Never raises: a failure here must not undo or hide a signature, so it is logged instead.
    """
    try:
        session = TreatmentSession.objects.select_related("patient", "course", "clinic").get(pk=session_pk)
        if not session.is_signed or session.is_entered_in_error:
            return None
        existing = Document.objects.filter(
            session=session, kind=DocumentKind.VISIT_SUMMARY, entered_in_error_at__isnull=True
        ).exclude(status=DocumentStatus.FAILED)
        from prolotrack.documents.queries import session_stamps

        stamp = session_stamps([session.pk]).get(session.pk, 0)
        for doc in existing:
            if doc.is_pending or doc.source_version >= stamp:
                return None
        return _queue(actor, session.patient, DocumentKind.VISIT_SUMMARY, course=session.course, session=session)
    except Exception:
        log.exception("Could not queue the visit summary of session %s", session_pk)
        return None


def queue_missing_visit_summaries(clinic: Any, actor: Actor) -> int:
    """Queue a visit summary for every signed session of the clinic that has none; return how many were queued."""
    have = set(
        Document.objects.filter(
            clinic=clinic, kind=DocumentKind.VISIT_SUMMARY, entered_in_error_at__isnull=True
        ).values_list("session_id", flat=True)
    )
    queued = 0
    for pk in (
        TreatmentSession.objects.filter(clinic=clinic, status=SessionStatus.DONE, signed_at__isnull=False)
        .exclude(pk__in=have)
        .order_by("planned_on", "id")
        .values_list("pk", flat=True)
    ):
        if queue_visit_summary(actor, pk) is not None:
            queued += 1
    return queued


# --- Generation -------------------------------------------------------------------------------------------------


def _set_status(document: Document, changes: dict[str, Any], action: str) -> Document:
    return update_record(Actor.system(document.clinic), document, changes, action, expected_version=document.version)


def generate(document: Document, *, builder: Callable[[Document], tuple[bytes, int]] | None = None) -> Document:
    """Render a queued (or failed) document and store its PDF; a ready one is returned as it is.

    Claims the document first (queued -> generating, refused if someone else claimed it), so the worker and a
    download asking for the same document never render it twice.
    """
    from prolotrack.documents import content

    if document.status == DocumentStatus.READY:
        return document
    if document.status == DocumentStatus.GENERATING and not document.is_stalled:
        raise StaleEditError("This document is being generated right now.")
    with transaction.atomic():
        document = _set_status(document, {"status": DocumentStatus.GENERATING, "error": ""}, "document.generating")
    started = time.perf_counter()
    try:
        pdf, source_version = (builder or content.build_pdf)(document)
        pages = _page_count(pdf)
    except Exception as error:  # the failure is stored and shown; the worker carries on
        log.exception("Document %s failed", document.uuid)
        with transaction.atomic():
            return _set_status(
                document,
                {"status": DocumentStatus.FAILED, "error": f"{type(error).__name__}: {error}"[:1000]},
                "document.failed",
            )
    elapsed = round((time.perf_counter() - started) * 1000)
    digest = hashlib.sha256(pdf).hexdigest()
    name = filestore.put(pdf, "pdf")  # stored once under its hash, before the row that names it
    with transaction.atomic():
        document = _set_status(
            document,
            {
                "status": DocumentStatus.READY,
                "pdf_sha256": digest,
                "pdf_size": len(pdf),
                "pages": pages,
                "generated_at": timezone.now(),
                "render_ms": elapsed,
                "source_version": source_version,
            },
            "document.generated",
        )
        DocumentPdf.objects.create(document=document, pdf_name=name, sha256=digest)
    return document


def _page_count(pdf: bytes) -> int | None:
    try:
        from pypdf import PdfReader

        return len(PdfReader(io.BytesIO(pdf)).pages)
    except Exception:
        return None


def ensure_ready(document: Document, *, wait_seconds: float = 20.0) -> Document:
    """The document, rendered now if no worker has done it yet (a download must not wait for the queue)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        document = Document.objects.select_related("clinic").get(pk=document.pk)
        if document.status == DocumentStatus.READY:
            return document
        if document.status in (DocumentStatus.QUEUED, DocumentStatus.FAILED) or document.is_stalled:
            try:
                return generate(document)
            except StaleEditError:
                pass  # the worker claimed it a moment ago: wait for it below
        if time.monotonic() > deadline:
            raise ServiceError("The document is still being generated: try again in a minute.")
        time.sleep(0.25)


def pdf_bytes(document: Document, actor: Actor | None = None) -> bytes:
    """The stored bytes, checked against the hash recorded when they were written (audited and alerted if not)."""
    from prolotrack.audit.integrity import verified

    stored = DocumentPdf.objects.get(document=document)
    return verified(
        stored.pdf_content,
        document.pdf_sha256,
        actor=actor or Actor.system(document.clinic),
        record=document,
        what=document.get_kind_display().lower() if hasattr(document, "get_kind_display") else "document",
    )


# --- Handout texts ----------------------------------------------------------------------------------------------


def _current_number(clinic: Any, code: str, language: str) -> int:
    return (
        HandoutVersion.objects.filter(clinic=clinic, section=code, language=language).aggregate(n=Max("number"))["n"]
        or 0
    )


def _language(language: str) -> str:
    if language not in {code for code, _ in settings.LANGUAGES}:
        raise ValidationError({"language": f"Unknown language '{language}': choose one the clinic offers."})
    return language


def save_handout(
    actor: Actor, code: str, body: str, *, expected_number: int | None, reason: str = "", language: str = "en"
) -> HandoutVersion:
    """Save the clinic's new text of a handout section in a language as that language's next version."""
    require_permission(actor, Permission.HANDOUT_MANAGE)
    try:
        handouts.section(code)
    except KeyError:
        raise ValidationError({"section": f"Unknown handout section '{code}'."}) from None
    language = _language(language)
    try:
        clean = handouts.check_text(body)
    except ValueError as error:
        raise ValidationError({"body": str(error)}) from None
    return _append(
        actor, code, language, clean, expected_number=expected_number, reason=reason.strip(), reverted_from=None
    )


def revert_handout(
    actor: Actor, code: str, number: int, *, expected_number: int | None, language: str = "en"
) -> HandoutVersion:
    """Make an earlier version of a language (0: the product's text in it, else in English) the current one, as a new
    version."""
    require_permission(actor, Permission.HANDOUT_MANAGE)
    try:
        spec = handouts.section(code)
    except KeyError:
        raise ValidationError({"section": f"Unknown handout section '{code}'."}) from None
    language = _language(language)
    if number == 0:
        body = handouts.shipped(code, language) or spec.default
    else:
        row = HandoutVersion.objects.filter(clinic=actor.clinic, section=code, language=language, number=number).first()
        if row is None:
            raise ValidationError({"number": f"There is no version {number} of this handout section."})
        body = row.body
    return _append(
        actor,
        code,
        language,
        body,
        expected_number=expected_number,
        reason=f"Reverted to version {number}",
        reverted_from=number,
    )


def _append(
    actor: Actor,
    code: str,
    language: str,
    body: str,
    *,
    expected_number: int | None,
    reason: str,
    reverted_from: int | None,
) -> HandoutVersion:
    try:
        return _append_once(
            actor, code, language, body, expected_number=expected_number, reason=reason, reverted_from=reverted_from
        )
    except (IntegrityError, ValidationError) as error:
        # Two saves of the same section at the same moment: the unique (clinic, section, language, number) kept one
        # (checked before the insert, or by the database). The text itself was validated above, so nothing else
        # lands here.
        if isinstance(error, ValidationError) and set(error.message_dict) != {"__all__"}:
            raise
        raise StaleEditError(
            "Someone saved this text at the same moment. Nothing was saved: reload to see their text, then edit again."
        ) from None


def _append_once(
    actor: Actor,
    code: str,
    language: str,
    body: str,
    *,
    expected_number: int | None,
    reason: str,
    reverted_from: int | None,
) -> HandoutVersion:
    with transaction.atomic():
        current = _current_number(actor.clinic, code, language)
        if expected_number is not None and current != expected_number:
            last = HandoutVersion.objects.filter(
                clinic=actor.clinic, section=code, language=language, number=current
            ).first()
            who = (last.created_by if last else None) or "someone"
            raise StaleEditError(
                f"{who} saved version {current} of this text after you opened version {expected_number}. "
                "Nothing was saved: reload to see their text, then edit again."
            )
        return create_record(
            actor,
            HandoutVersion(
                clinic=actor.clinic,
                section=code,
                language=language,
                number=current + 1,
                body=body,
                reason=reason[:300],
                reverted_from=reverted_from,
            ),
            "handout.reverted" if reverted_from is not None else "handout.edited",
            detail={"section": code, "language": language, "number": current + 1},
        )
