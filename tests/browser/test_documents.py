"""Documents in Chromium: the chart's documents card while summaries generate (HTMX polling), downloads, a progress
report on request, a patient's handouts, the clinic's handout editor, and the PDF pages themselves.

The PDFs are looked at in Chromium's own PDF viewer (poppler's pdftoppm is not installed here), and the visit
summary's HTML at A4 width; the PDF text itself is checked with pypdf in prolotrack/documents/tests.
"""

import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from prolotrack.clinics.testing import actor_of
from prolotrack.core.pdf import render_html
from prolotrack.documents import content
from prolotrack.documents import services as documents
from prolotrack.documents.models import Document, DocumentKind, DocumentStatus
from prolotrack.documents.tests.conftest import *  # noqa: F403 - the signed session and the treatment fixtures
from prolotrack.documents.tests.conftest import pdf_text
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser

A4 = {"width": 794, "height": 1123}  # A4 at 96 dpi


@pytest.fixture
def queued_tasks(settings):
    """Tasks wait in the database queue (as with `make run` before the worker picks them up)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_the_chart_shows_summaries_generating_then_ready_and_downloads_one(
    page: Page, queued_tasks, clinician, signed_session
):
    doc = Document.objects.get(session=signed_session)
    assert doc.status == DocumentStatus.QUEUED  # queued on signing, waiting for the worker
    log_in(page, clinician)
    page.goto(f"/patients/{signed_session.patient.uuid}/")
    card = page.locator("#documents")
    row = card.locator(f"[data-document='{doc.uuid}']")
    expect(card.get_by_role("status")).to_contain_text("Generating 1 document… 0 of 1 ready")
    expect(row.locator(".doc-status")).to_have_text("Queued")
    card.scroll_into_view_if_needed()
    shot(page, "documents-card-generating")

    documents.generate(doc)  # what the background worker does
    expect(row.locator(".doc-status")).to_have_text("Ready", timeout=15_000)  # the card polls every 2 s
    expect(card.get_by_role("status")).to_have_count(0)
    card.scroll_into_view_if_needed()
    shot(page, "documents-card-ready")

    with page.expect_download() as info:
        row.get_by_role("link", name="Download PDF").click()
    download = info.value
    assert download.suggested_filename == "visit-summary-session-1-2026-11-02-PT-000001.pdf"
    assert "Lidocaine 20 mg 300 mg" in pdf_text(Path(download.path()).read_bytes())


def test_a_queued_summary_downloads_at_once_without_the_worker(page: Page, queued_tasks, colleague, signed_session):
    log_in(page, colleague)
    page.goto(f"/patients/{signed_session.patient.uuid}/")
    row = page.locator(f"[data-document='{Document.objects.get(session=signed_session).uuid}']")
    with page.expect_download() as info:
        row.get_by_role("link", name="Download now").click()
    assert info.value.suggested_filename.startswith("visit-summary-session-1-")
    expect(row.locator(".doc-status")).to_have_text("Ready", timeout=15_000)


def test_a_progress_report_for_the_patient_is_requested_and_appears_when_ready(
    page: Page, queued_tasks, clinician, signed_session
):
    log_in(page, clinician)
    page.goto(f"/patients/{signed_session.patient.uuid}/")
    card = page.locator("#documents")
    card.get_by_label("Progress report").select_option("progress_patient")
    card.get_by_role("button", name="Generate").click()
    expect(card.get_by_role("status")).to_contain_text("Generating 2 documents")
    report = Document.objects.get(kind=DocumentKind.PROGRESS_PATIENT)
    documents.generate(report)
    documents.generate(Document.objects.get(kind=DocumentKind.VISIT_SUMMARY))
    row = card.locator(f"[data-document='{report.uuid}']")
    expect(row.locator(".doc-status")).to_have_text("Ready", timeout=15_000)
    expect(row).to_contain_text("Progress report (for the patient)")
    card.scroll_into_view_if_needed()
    shot(page, "documents-card-progress-report")


def test_the_before_handout_shows_the_date_to_stop_nsaids_for_the_next_session(page: Page, clinician, signed_session):
    log_in(page, clinician)
    patient = signed_session.patient
    page.goto(f"/patients/{patient.uuid}/")
    page.locator("#documents").get_by_role("link", name="Before the procedure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Before your prolotherapy session")
    # Session 2 is booked for Monday 30 November 2026; the clinic stops NSAIDs 3 days before (DOMAIN.md §6).
    expect(page.locator(".key-date")).to_contain_text("Friday 27 November 2026")
    expect(page.locator(".handout-sheet")).to_contain_text("which is 3 days before your session on Monday 30 November")
    shot(page, "documents-handout-before")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF").click()
    assert "Friday 27 November 2026" in pdf_text(Path(info.value.path()).read_bytes())
    page.get_by_role("link", name="Prolotherapy: what the research shows").click()
    expect(page.locator(".handout-sheet")).to_contain_text("Rabago 2013")
    shot(page, "documents-handout-evidence")


def test_an_administrator_edits_a_handout_sees_the_versions_and_restores_the_products_text(page: Page, admin_user):
    log_in(page, admin_user)
    page.goto("/handouts/")
    shot(page, "documents-handouts-list")
    page.locator("tr", has_text="Before the procedure").get_by_role("link", name="Edit English").click()
    body = page.get_by_label("Text", exact=True)
    body.fill("Results are permanent.")
    page.get_by_role("button", name="Save as English version 1").click()
    expect(page.get_by_role("alert")).to_contain_text("must not claim 'permanent'")
    body = page.get_by_label("Text", exact=True)
    body.fill(
        "## Painkillers\n- Stop NSAIDs from {nsaid_stop_date} ({nsaid_stop_days} days before).\n- Eat a light meal."
    )
    page.get_by_label("Why (kept with the version)").fill("Shorter for our patients")
    page.get_by_role("button", name="Save as English version 1").click()
    expect(page.locator(".msg-success, .msg").first).to_contain_text("Saved as version 1")
    expect(page.locator(".handout-sheet")).to_contain_text("days before")
    expect(page.get_by_role("row", name=re.compile("Shorter for our patients"))).to_be_visible()
    shot(page, "documents-handout-editor")
    page.get_by_role("button", name="Restore the product's text").click()
    expect(page.locator(".msg-success, .msg").first).to_contain_text("Version 0 restored as version 2")
    expect(page.get_by_label("Text", exact=True)).to_have_value(re.compile("No trial has shown"))


def _look_at_pdf(page: Page, pdf: bytes, folder: Path, name: str) -> None:
    """Open the PDF itself in Chromium's PDF viewer and save a screenshot of its first page to look at."""
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)
    page.set_viewport_size({"width": 900, "height": 1200})
    page.goto(path.as_uri())
    page.wait_for_timeout(2500)  # the viewer draws the page after the load event
    shot(page, name)


def test_look_at_the_pdf_pages(page: Page, clinician, answered, tmp_path):
    """The PDFs as WeasyPrint made them, in Chromium's PDF viewer (screenshots named documents-pdf-*)."""
    signed_session = answered
    summary = Document.objects.get(session=signed_session)
    _look_at_pdf(page, documents.pdf_bytes(documents.ensure_ready(summary)), tmp_path, "documents-pdf-visit-summary")
    for kind in (DocumentKind.PROGRESS_PATIENT, DocumentKind.PROGRESS_REFERRER):
        # Requested outside a transaction, the (inline) task has already rendered it: ensure_ready just reads it.
        report = documents.ensure_ready(documents.request_document(actor_of(clinician), signed_session.patient, kind))
        _look_at_pdf(page, documents.pdf_bytes(report), tmp_path, f"documents-pdf-{kind.replace('_', '-')}")
    before = content.handout_context(signed_session.patient, "before")
    _look_at_pdf(page, content.handout_pdf(before), tmp_path, "documents-pdf-handout-before")


def test_look_at_the_whole_visit_summary_as_html(page: Page, signed_session):
    """The same HTML in Chromium at A4 width, every page on one long screenshot (the viewer shows one page)."""
    template, context, _ = content.document_context(Document.objects.get(session=signed_session))
    page.set_viewport_size(A4)
    page.emulate_media(media="print")
    with timezone.override(context["clinic"].tz):
        page.set_content(render_html(template, context))
    expect(page.locator("img[alt='Knee, front']")).to_be_visible()
    shot(page, "documents-html-visit-summary")
