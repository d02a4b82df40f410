"""The visit summary: queued when a session is signed, rendered in the background, stored once, never overwritten."""

import hashlib
from decimal import Decimal

import pytest
from django.db import transaction

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.services import RecordClosedError, update_record
from prolotrack.clinics.testing import actor_of
from prolotrack.core.records import HistoryBypassError
from prolotrack.documents import queries, services
from prolotrack.documents.models import Document, DocumentKind, DocumentPdf, DocumentStatus
from prolotrack.documents.tests.conftest import pdf_text
from prolotrack.treatment import maps
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.models import TreatmentSession


@pytest.fixture
def summary(clinician, signed_session, django_capture_on_commit_callbacks):
    """The visit summary made when the session was signed (queue and background task run as on commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_visit_summary(actor_of(clinician), signed_session.pk)
    return Document.objects.get(session=signed_session, kind=DocumentKind.VISIT_SUMMARY)


def test_signing_a_session_queues_its_visit_summary_after_commit_and_the_task_renders_it(
    clinician, ready_session, course, without_consent_rule, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        treatment_services.sign_session(actor_of(clinician), ready_session)
    assert len(callbacks) >= 1
    doc = Document.objects.get(session=ready_session)
    assert doc.kind == DocumentKind.VISIT_SUMMARY
    assert doc.status == DocumentStatus.READY
    assert doc.generated_by == clinician
    assert doc.pages and doc.pages >= 2
    stored = DocumentPdf.objects.get(document=doc)
    assert hashlib.sha256(stored.pdf_content).hexdigest() == doc.pdf_sha256 == stored.sha256
    actions = list(AuditEvent.objects.filter(record_uuid=doc.uuid).order_by("seq").values_list("action", flat=True))
    assert actions == ["document.queued", "document.generating", "document.generated"]


def test_nothing_is_queued_when_the_signature_rolls_back(clinician, ready_session, without_consent_rule):
    with pytest.raises(RuntimeError), transaction.atomic():
        treatment_services.sign_session(actor_of(clinician), ready_session)
        raise RuntimeError("the request failed after signing")
    assert not Document.objects.filter(session=ready_session).exists()


def test_the_pdf_shows_the_session_its_doses_sites_totals_next_appointment_and_signer(
    clinician, signed_session, summary
):
    text = pdf_text(services.pdf_bytes(summary))
    assert "Visit summary" in text
    assert "Lovelace, Ada" in text and "PT-000001" in text
    assert "Session 1 on 2026-11-02" in text
    assert "Knee osteoarthritis" in text
    # Solution A: DOMAIN.md §2's worked example, with lots and expiry.
    assert "Dextrose 15% (from 50%, 3.00 mL)" in text
    assert "Lidocaine 0.5% (from 2%, 2.50 mL)" in text
    assert "D50-2231" in text and "2027-06-30" in text and "LID-88" in text
    # Eight sites of 0.5 mL: 4 mL, 0.6 g dextrose, 20 mg lidocaine of the 300 mg limit at 70 kg (DOMAIN.md §3).
    assert "Tender point" in text
    assert text.count("0.50 mL") == 8
    assert "Volume injected 4.00 mL" in text
    assert "Dextrose 0.6 g" in text
    assert "Lidocaine 20 mg 300 mg 6.7%" in text
    assert "Limit for 70.0 kg" in text
    # The next session was booked for 09:30 in the clinic's time zone (America/Chicago), whatever the server's.
    assert "Session 2: Monday 30 November 2026, 09:30 CST" in text
    assert "Signed by Clinician" in text
    # The aftercare handout is attached, with its sources.
    assert "After your session" in text and "Acetaminophen" in text and "Clinic practice: advice on NSAIDs" in text


def test_a_landmark_site_added_as_an_amendment_makes_the_summary_out_of_date_and_a_new_one_keeps_the_old(
    clinician, signed_session, summary, django_capture_on_commit_callbacks
):
    actor = actor_of(clinician)
    first_bytes = services.pdf_bytes(summary)
    drawing = maps.body_map("knee_medial")
    x, y = maps.position(drawing, "knee.mcl_femoral", "right")
    solution = signed_session.solutions.get(label="A")
    site, _ = treatment_services.add_site(
        actor,
        TreatmentSession.objects.get(pk=signed_session.pk),
        solution=solution,
        body_map="knee_medial",
        x=Decimal(str(x)),
        y=Decimal(str(y)),
        side="right",
        volume_ml=Decimal("0.5"),
        landmark="knee.mcl_femoral",
        amendment_reason="late_entry: Ninth site given but not charted at the time.",
    )
    rows = queries.patient_documents(signed_session.patient)
    assert [r.outdated for r in rows if r.kind == DocumentKind.VISIT_SUMMARY] == [True]
    # Queuing again (as a later signature hook or the demo seed would) now makes a new document.
    with django_capture_on_commit_callbacks(execute=True):
        new = services.queue_visit_summary(actor, signed_session.pk)
    assert new is not None and new.pk != summary.pk
    new.refresh_from_db()
    assert new.status == DocumentStatus.READY
    new_text = pdf_text(services.pdf_bytes(new))
    assert site.label in new_text and "Knee, medial side" in new_text
    assert "Volume injected 4.50 mL" in new_text
    # The first one is untouched: same bytes, same hash, still listed.
    summary.refresh_from_db()
    assert services.pdf_bytes(summary) == first_bytes
    assert hashlib.sha256(first_bytes).hexdigest() == summary.pdf_sha256
    rows = queries.patient_documents(signed_session.patient)
    assert [(r.uuid, r.outdated) for r in rows if r.kind == DocumentKind.VISIT_SUMMARY] == [
        (new.uuid, False),
        (summary.uuid, False),
    ]


def test_an_up_to_date_summary_is_not_queued_twice(clinician, signed_session, summary):
    assert services.queue_visit_summary(actor_of(clinician), signed_session.pk) is None
    assert Document.objects.filter(session=signed_session).count() == 1


def test_a_ready_document_and_its_pdf_cannot_be_changed(clinician, summary):
    stored = DocumentPdf.objects.get(document=summary)
    stored.pdf = b"%PDF-forged"
    with pytest.raises(HistoryBypassError):
        stored.save()
    with pytest.raises(HistoryBypassError):
        DocumentPdf.objects.filter(pk=stored.pk).update(pdf=b"x")
    with pytest.raises(HistoryBypassError):
        DocumentPdf.objects.filter(pk=stored.pk).delete()
    with pytest.raises(HistoryBypassError):
        Document.objects.filter(pk=summary.pk).delete()
    with pytest.raises(RecordClosedError), transaction.atomic():
        update_record(actor_of(clinician), summary, {"pdf_sha256": "0" * 64}, "x", expected_version=summary.version)


def test_version_rows_carry_the_hash_never_the_bytes(summary):
    versions = RecordVersion.objects.filter(record_uuid=summary.uuid).order_by("version")
    assert [v.data["status"] for v in versions] == ["queued", "generating", "ready"]
    assert versions.last().data["pdf_sha256"] == summary.pdf_sha256
    assert all("pdf" not in v.data for v in versions)


def test_a_failed_render_is_recorded_with_its_error_and_a_download_tries_again(clinician, signed_session):
    doc = services.request_document(
        actor_of(clinician), signed_session.patient, DocumentKind.VISIT_SUMMARY, session=signed_session
    )

    def broken(_document):
        raise ValueError("no fonts")

    failed = services.generate(doc, builder=broken)
    assert failed.status == DocumentStatus.FAILED
    assert failed.error == "ValueError: no fonts"
    assert not DocumentPdf.objects.filter(document=failed).exists()
    ready = services.ensure_ready(failed)
    assert ready.status == DocumentStatus.READY and ready.error == ""


def test_a_queued_document_is_rendered_on_first_download(clinician, signed_session):
    doc = services.request_document(
        actor_of(clinician), signed_session.patient, DocumentKind.VISIT_SUMMARY, session=signed_session
    )
    assert doc.status == DocumentStatus.QUEUED  # no worker ran: the on-commit enqueue is not executed here
    ready = services.ensure_ready(doc)
    assert ready.status == DocumentStatus.READY
    assert pdf_text(services.pdf_bytes(ready)).startswith("Alpha Clinic")


def test_an_unsigned_session_gets_no_visit_summary(clinician, session):
    from django.core.exceptions import ValidationError

    from prolotrack.audit.services import ServiceError

    with pytest.raises(ServiceError, match="sign the session note first"):
        services.request_document(actor_of(clinician), session.patient, DocumentKind.VISIT_SUMMARY, session=session)
    with pytest.raises(ValidationError):
        services.request_document(actor_of(clinician), session.patient, DocumentKind.VISIT_SUMMARY)
    assert not Document.objects.exists()


def test_a_left_knee_is_drawn_mirrored_with_its_labels_hidden_so_none_read_backwards():
    from prolotrack.documents.content import map_svg

    drawing = maps.body_map("knee_front")
    site = {"number": 1, "x": 100, "y": 200}
    left = map_svg(drawing, "left", [site])
    right = map_svg(drawing, "right", [site])
    assert "scale(-1 1)" in left and ".outline text { display: none; }" in left
    assert "scale(-1 1)" not in right and "display: none" not in right
    assert "translate(100 200)" in right


def test_a_document_left_generating_by_a_stopped_worker_is_shown_stalled_and_made_on_download(
    clinician, signed_session, monkeypatch
):
    from datetime import timedelta

    from prolotrack.audit.services import ServiceError, StaleEditError
    from prolotrack.documents import models

    doc = services.request_document(
        actor_of(clinician), signed_session.patient, DocumentKind.VISIT_SUMMARY, session=signed_session
    )
    with transaction.atomic():
        doc = services._set_status(doc, {"status": DocumentStatus.GENERATING}, "document.generating")
    # A worker is on it: nobody else renders it, and a download waits for the worker.
    with pytest.raises(StaleEditError):
        services.generate(doc)
    with pytest.raises(ServiceError, match="still being generated"):
        services.ensure_ready(doc, wait_seconds=0.3)
    [row] = [r for r in queries.patient_documents(signed_session.patient) if r.uuid == doc.uuid]
    assert row.pending and row.status == "generating"
    # The worker stopped: after the stale-claim time the card stops waiting and a download makes it.
    monkeypatch.setattr(models, "STALE_CLAIM", timedelta(seconds=-1))
    [row] = [r for r in queries.patient_documents(signed_session.patient) if r.uuid == doc.uuid]
    assert (row.pending, row.status) == (False, "stalled")
    assert services.ensure_ready(doc).status == DocumentStatus.READY
