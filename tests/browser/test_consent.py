"""Consent in Chromium (issue 7): the session is blocked without consent, the form is read and signed on screen with
the mouse (desktop) and with a finger (touch tablet), the signed PDF's hash matches, a withdrawal blocks again."""

import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.consent.models import Consent, ConsentStatus
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Patient
from prolotrack.treatment import services
from prolotrack.treatment.models import Course
from tests.browser.conftest import PASSWORD, TABLET, log_in, shot


@pytest.fixture
def course(clinician: User, make_patient: Callable[..., Patient]) -> Course:
    patient = make_patient(given_name="Grace", family_name="Hopper")
    actor = actor_of(clinician)
    with transaction.atomic():
        patient_services.add_child(
            actor, patient, "weight", {"measured_on": date(2026, 1, 5), "weight_kg": Decimal(60)}
        )
    return services.create_course(
        actor, patient, protocol_id="knee_oa_rabago", indication="Knee osteoarthritis", region="knee", side="right",
        start_on=timezone.localdate(timezone=patient.clinic.tz), clinician=clinician,
    )  # fmt: skip


def draw_with_mouse(page: Page, canvas_id: str, wave: int = 0) -> None:
    """Write a scribble across the canvas with the mouse: press, several moves, release."""
    page.locator(f"#{canvas_id}").scroll_into_view_if_needed()
    box = page.locator(f"#{canvas_id}").bounding_box()
    assert box is not None
    x0, y0 = box["x"] + 20, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 30):
        page.mouse.move(x0 + i * 10, y0 + (25 if (i + wave) % 4 < 2 else -25), steps=2)
    page.mouse.up()


def draw_with_finger(page: Page, canvas_id: str) -> None:
    """Write a scribble with a finger: touch events through the DevTools protocol (Chromium makes pointer events)."""
    page.locator(f"#{canvas_id}").scroll_into_view_if_needed()
    box = page.locator(f"#{canvas_id}").bounding_box()
    assert box is not None
    cdp = page.context.new_cdp_session(page)
    x0, y0 = box["x"] + 20, box["y"] + box["height"] / 2
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    for i in range(1, 30):
        point = {"x": x0 + i * 9, "y": y0 + (20 if i % 4 < 2 else -20)}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_consent_signed_with_the_mouse_unblocks_the_session_and_withdrawal_blocks_it(
    page: Page, clinician: User, course: Course
) -> None:
    log_in(page, clinician)
    session = course.sessions.get(number=1)
    page.goto(f"/sessions/{session.uuid}/")
    blockers = page.locator("#blockers")
    expect(blockers).to_contain_text("No signed treatment consent for this course")
    shot(page, "consent-01-session-blocked")
    blockers.get_by_role("link", name="Open the consent page").click()

    # Read the form, then sign: first without signatures (refused beside the pads), then with the mouse.
    expect(page.get_by_role("heading", name="Risks of injections in the knee")).to_be_visible()
    expect(page.locator(".consent-text")).to_contain_text("3 sessions about 4 weeks apart")
    expect(page.get_by_label("Patient's full name")).to_have_value("Grace Hopper")
    page.get_by_role("button", name="Sign and store the consent").click()
    expect(page.locator("[data-pad=patient] .error")).to_contain_text("The patient has not signed")
    expect(page.locator(".check-grid .error")).to_contain_text("Confirm the patient has read the form")
    shot(page, "consent-02-refused-unsigned")
    assert not Consent.objects.exists()

    page.get_by_label("The patient has read the form").check()
    draw_with_mouse(page, "pad-patient")
    draw_with_mouse(page, "pad-witness", wave=1)
    expect(page.locator("[data-pad=patient]")).to_have_class(re.compile(r"\bsigned\b"))
    shot(page, "consent-03-signed-on-screen")
    # The Clear button empties a pad; sign again.
    page.locator("[data-clear=witness]").click()
    assert page.locator("#id_witness_signature").input_value() == ""
    draw_with_mouse(page, "pad-witness", wave=2)
    page.get_by_role("button", name="Sign and store the consent").click()

    expect(page.locator(".msg-success")).to_contain_text("Consent signed and stored as a PDF")
    consent = Consent.objects.get()
    assert consent.status == ConsentStatus.SIGNED and consent.patient_signer_name == "Grace Hopper"
    expect(page.locator(".sign-grid.signed img")).to_have_count(2)
    expect(page.locator("code.hash")).to_have_text(consent.pdf_sha256)
    shot(page, "consent-04-signed-consent")
    pdf = page.request.get(f"/consents/{consent.uuid}/pdf/")
    assert pdf.ok and hashlib.sha256(pdf.body()).hexdigest() == consent.pdf_sha256

    # The session is no longer blocked by consent; the course card shows the consent.
    page.goto(f"/sessions/{session.uuid}/")
    expect(page.locator("#blockers")).not_to_contain_text("treatment consent")
    page.goto(f"/courses/{course.uuid}/")
    expect(page.locator("#consent-card")).to_contain_text("Signed")
    shot(page, "consent-05-course-card")

    # Withdrawal, recorded from the consent page, keyboard only.
    page.goto(f"/consents/{consent.uuid}/")
    page.get_by_role("link", name="Record a withdrawal…").click()
    expect(page.locator(".confirm-changes")).to_contain_text("No session of this course can be signed")
    page.get_by_label("Stopping treatment").focus()
    page.keyboard.press("Space")
    page.get_by_label("Details").focus()
    page.keyboard.type("Phoned to say she wants to stop the injections.")
    page.get_by_role("button", name="Record the withdrawal").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".withdrawn-note")).to_contain_text("Phoned to say she wants to stop")
    shot(page, "consent-06-withdrawn")
    page.goto(f"/sessions/{session.uuid}/")
    expect(page.locator("#blockers")).to_contain_text("withdrew the treatment consent")


@pytest.fixture
def touch_page(browser: Browser, live_server: Any, watch_csp: Any) -> Iterator[Page]:
    context = watch_csp(browser.new_context(viewport=TABLET, base_url=live_server.url, has_touch=True, is_mobile=True))
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_research_consent_signed_with_a_finger_on_a_tablet(touch_page: Page, colleague: User, course: Course) -> None:
    page = touch_page
    log_in(page, colleague.username, PASSWORD)
    patient = course.patient
    page.goto(f"/patients/{patient.uuid}/")
    card = page.locator("section#consents")
    expect(card).to_contain_text("not given")
    card.get_by_role("link", name="Record research consent").click()
    expect(page.locator(".consent-text")).to_contain_text("de-identified")
    page.get_by_label("The patient has read the form").check()
    draw_with_finger(page, "pad-patient")
    draw_with_finger(page, "pad-witness")
    page.get_by_label("Role").select_option("Witness")
    shot(page, "consent-07-research-tablet-touch")
    page.get_by_role("button", name="Sign and store the consent").click()
    expect(page.locator(".msg-success")).to_contain_text("Research consent signed")
    consent = Consent.objects.get()
    assert (consent.scope, consent.witness_role, consent.course) == ("research", "Witness", None)
    shot(page, "consent-08-research-signed-tablet")
