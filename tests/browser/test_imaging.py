"""Imaging review in Chromium: add an ultrasound study with a finding, attach a PNG and a DICOM, see both rendered,
have a bad file refused with its reason, and record the feasibility decision."""

import io
import re
import threading
from datetime import date
from typing import Any

import numpy as np
import pytest
from django.core.handlers.wsgi import WSGIHandler
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from prolotrack.clinics.models import User
from prolotrack.imaging.models import ImagingFile, ImagingStudy
from prolotrack.imaging.tests.factories import DICOM_PATIENT_ID, dicom_bytes, pdf_bytes
from prolotrack.patients.models import Patient
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _live_server_one_request_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the live server answer one request at a time while the browser loads several images at once.

    The browser tests' database is SQLite in memory with a shared cache, where a second writer (the audit row of
    each image, the session's activity time) gets "database table is locked" at once instead of waiting: the busy
    timeout does not apply to shared-cache locks. The product's file database waits (WAL, busy timeout), and this
    test passes without this fixture when PROLOTRACK_TEST_SQLITE names a file; only the in-memory test database
    needs the requests taken in turn.
    """
    lock = threading.Lock()
    real = WSGIHandler.__call__

    def in_turn(self: WSGIHandler, environ: Any, start_response: Any) -> Any:
        with lock:
            response = real(self, environ, start_response)
            # The body and the request's end (request_finished, which touches the connection) inside the lock too.
            try:
                return list(response)
            finally:
                response.close()

    monkeypatch.setattr(WSGIHandler, "__call__", in_turn)


def ultrasound_like_png() -> bytes:
    """A grey fan with bright lines, so a person can tell at a glance the picture was drawn."""
    image = Image.new("L", (480, 360), 0)
    draw = ImageDraw.Draw(image)
    draw.pieslice((-200, -260, 680, 620), 55, 125, fill=60)
    draw.line((120, 150, 360, 170), fill=230, width=6)
    draw.ellipse((200, 220, 280, 270), fill=10, outline=200, width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def dicom_knee(modality: str = "US") -> bytes:
    """A 16-bit radial gradient with window tags, as an X-ray-like DICOM would carry."""
    y, x = np.mgrid[0:256, 0:256]
    pixels = (4000 * (1 - np.hypot(x - 128, y - 128) / 182)).clip(0, 4095).astype(np.uint16)
    return dicom_bytes(pixels=pixels, center=2000.0, width=4000.0, intercept=0.0, modality=modality)


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def rendered(page: Page, count: int) -> None:
    """Every image on the page loaded and decoded (a broken image has naturalWidth 0)."""
    images = page.locator(".img-gallery img")
    expect(images).to_have_count(count)
    for index in range(count):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())


def test_a_clinician_reviews_imaging_and_records_feasibility(
    tablet_page: Page, clinician: User, patient: Patient
) -> None:
    page = log_in(tablet_page, clinician)
    page.goto(f"/patients/{patient.uuid}/")
    card = page.locator("#imaging")
    expect(card.get_by_role("heading", name="Imaging")).to_be_visible()
    expect(card).to_contain_text("No imaging recorded.")
    card.get_by_role("link", name="Add imaging").click()

    # The study: ultrasound of the left knee with one finding; the findings follow the region chosen.
    expect(page.get_by_role("heading", name="Add imaging")).to_be_visible()
    page.get_by_label("Modality").select_option("ultrasound")
    page.get_by_label("Study date").fill("2025-03-01")
    page.get_by_label("Body region").select_option("knee")
    page.get_by_label("Side").select_option("left")
    expect(page.locator('.img-finding-group[data-region="shoulder"]')).to_be_hidden()
    expect(page.locator('.img-finding-group[data-region="knee"]')).to_be_visible()
    page.locator('.img-finding-group[data-region="knee"]').get_by_label("Joint effusion").check()
    page.get_by_label("Report").fill("Small suprapatellar effusion. MCL femoral origin thickened and hypoechoic.")
    shot(page, "imaging-01-add-study-tablet")
    no_sideways_scroll(page)
    page.get_by_role("button", name="Add study").click()

    study = ImagingStudy.objects.get()
    expect(page).to_have_url(re.compile(f"/patients/{patient.uuid}/imaging/{study.uuid}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ultrasound · Knee, left")
    expect(page.locator("#findings")).to_contain_text("Joint effusion")

    # A PNG, then a DICOM: both appear as pictures.
    upload = page.get_by_label("Attach an image")
    upload.set_input_files({"name": "knee-us.png", "mimeType": "image/png", "buffer": ultrasound_like_png()})
    page.get_by_role("button", name="Attach", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("knee-us.png attached (PNG).")
    page.get_by_label("Attach an image").set_input_files(
        {"name": "IM0001.dcm", "mimeType": "application/dicom", "buffer": dicom_knee()}
    )
    page.get_by_role("button", name="Attach", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("IM0001.dcm attached (DICOM).")
    rendered(page, 2)
    expect(page.locator(".img-tile").nth(1)).to_contain_text("Modality")
    expect(page.get_by_role("link", name="Download DICOM")).to_be_visible()
    assert DICOM_PATIENT_ID not in page.content()

    # A PDF is refused, with the reason next to the field, and nothing is stored.
    page.get_by_label("Attach an image").set_input_files(
        {"name": "referral.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}
    )
    page.get_by_role("button", name="Attach", exact=True).click()
    refusal = page.locator(".img-refused")
    expect(refusal).to_have_text("This file is a PDF; attach PNG, JPEG or DICOM images.")
    assert ImagingFile.objects.count() == 2
    rendered(page, 2)
    refusal.scroll_into_view_if_needed()
    shot(page, "imaging-02-refused-pdf-tablet")

    # The decision: feasible, with the reason.
    page.goto(f"/patients/{patient.uuid}/imaging/{study.uuid}/")
    decision = page.locator("#feasibility")
    decision.get_by_label("Feasible", exact=True).check()
    decision.get_by_label("Why").fill(
        "Enthesopathy at the MCL origin, no tear or other contraindication on ultrasound."
    )
    decision.get_by_role("button", name="Record decision").click()
    expect(page.locator(".messages")).to_contain_text("Feasibility decision recorded with your reason.")
    expect(page.locator("#feasibility .img-verdict")).to_have_text("Feasible")
    expect(page.locator("#feasibility")).to_contain_text("Decided by Clinician")
    rendered(page, 2)
    no_sideways_scroll(page)
    shot(page, "imaging-03-study-decided-tablet")

    # Back on the chart the study is listed with its decision.
    page.get_by_role("link", name=patient.full_name).click()
    row = page.locator("#imaging tbody tr")
    expect(row).to_contain_text("2025-03-01")
    expect(row).to_contain_text("Ultrasound, knee, left")
    expect(row.locator(".img-badge")).to_have_text("Feasible")
    page.locator("#imaging").scroll_into_view_if_needed()
    shot(page, "imaging-04-chart-card-tablet")
    study.refresh_from_db()
    assert study.feasibility == "feasible"


def test_the_study_page_on_a_desktop(page: Page, clinician: User, patient: Patient) -> None:
    from prolotrack.clinics.testing import actor_of
    from prolotrack.imaging import services

    study = services.create_study(
        actor_of(clinician),
        patient,
        {
            "modality": "xray",
            "study_date": date(2025, 3, 1),
            "body_region": "knee",
            "laterality": "right",
            "findings": ["knee.kl_3", "general.fracture"],
            "report": "Tricompartmental OA. Undisplaced fracture of the tibial plateau?",
        },
    )
    services.attach_file(actor_of(clinician), study, dicom_knee("CR"), "CR0001.dcm")
    log_in(page, clinician)
    page.goto(f"/patients/{patient.uuid}/imaging/{study.uuid}/")
    expect(page.locator(".img-concern")).to_contain_text("Fracture")
    rendered(page, 1)
    shot(page, "imaging-05-study-desktop")
