"""A patient answers by link on a phone-sized page: leaves mid-way, resumes, sends; the link then says it was used.

Also: an expired link says so, and the pages work by keyboard. Screenshots in test-artifacts/screenshots/q-*.png.
"""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from prolotrack.clinics.testing import actor_of
from prolotrack.outcomes import services
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.treatment import services as treatment_services

from .conftest import shot
from .test_pain_scale import set_scale

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Browser, live_server: Any, watch_csp: Any) -> Iterator[Page]:
    context = watch_csp(browser.new_context(viewport=PHONE, base_url=live_server.url, is_mobile=True, has_touch=True))
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def link_path(clinician, patient) -> str:
    course = treatment_services.create_course(
        actor_of(clinician), patient, protocol_id="knee_oa_rabago", indication="Knee osteoarthritis",
        region="knee", side="right", start_on=date(2026, 11, 2), clinician=clinician,
    )  # fmt: skip
    follow_up = course.timepoints.filter(kind="follow_up").order_by("due_on").first()
    _, path = services.create_link(actor_of(clinician), patient, timepoint=follow_up, delivery="qr")
    return path


def _no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


def test_patient_answers_leaves_resumes_and_sends(phone: Page, link_path: str) -> None:
    phone.goto(link_path, timeout=60_000)  # the first request imports every app's URLs
    expect(phone.get_by_role("heading", name="A few questions about how you are doing")).to_be_visible()
    expect(phone.get_by_text("Lovelace")).to_have_count(0)
    _no_horizontal_scroll(phone)
    shot(phone, "q-1-start-phone")
    phone.get_by_role("link", name="Start").click()

    # NRS on the phone is a slider (test_pain_scale.py): 6 for pain now and 5 for the average; then leave.
    now = phone.get_by_role("group", name="How bad is your pain right now?")
    set_scale(now, 6)
    average = phone.get_by_role("group", name="On average, how bad was your pain over the last 7 days?")
    set_scale(average, 5)
    expect(now.locator('input[type=radio][value="6"]')).to_be_checked()
    _no_horizontal_scroll(phone)
    shot(phone, "q-2-nrs-partly-answered-phone")
    phone.get_by_role("button", name="Save and finish later").click()
    expect(phone.get_by_role("heading", name="Your answers are saved")).to_be_visible()
    assert QuestionnaireResponse.objects.get().answers == {"now": 6, "average_week": 5}

    # Later: the same link resumes where the patient stopped.
    phone.goto(link_path)
    expect(phone.get_by_role("heading", name="Welcome back")).to_be_visible()
    expect(phone.get_by_text("Started", exact=True)).to_be_visible()
    phone.get_by_role("link", name="Continue").click()
    expect(now.locator('input[type=radio][value="6"]')).to_be_checked()
    expect(average.locator('input[type=radio][value="5"]')).to_be_checked()
    worst = phone.get_by_role("group", name="At its worst, how bad was your pain over the last 7 days?")
    expect(now.locator("output")).to_have_text("6")
    set_scale(worst, 8)
    shot(phone, "q-3-nrs-resumed-phone")
    phone.get_by_role("button", name="Save and continue").click()

    # PGIC by keyboard: focus the first option, arrow down once to "Much improved".
    expect(phone.get_by_role("heading", name="Overall change since treatment started")).to_be_visible()
    phone.get_by_role("radio", name="Very much improved").focus()
    phone.keyboard.press("ArrowDown")
    expect(phone.get_by_role("radio", name="Much improved", exact=True)).to_be_checked()
    box = phone.get_by_text("Much improved", exact=True).bounding_box()
    assert box is not None and box["height"] >= 24  # the whole row (48 px) is the target; the label text sits in it
    assert phone.locator("label.opt").first.bounding_box()["height"] >= 44
    _no_horizontal_scroll(phone)
    shot(phone, "q-4-pgic-phone")
    phone.get_by_role("button", name="Save and review").click()

    expect(phone.get_by_role("heading", name="Check and send your answers")).to_be_visible()
    expect(phone.locator(".answer-row").filter(has_text="right now").locator("dd")).to_contain_text("6")
    expect(phone.locator(".answer-row").filter(has_text="Since you started this treatment").locator("dd")).to_have_text(
        "Much improved"
    )
    shot(phone, "q-5-review-phone")
    phone.get_by_role("button", name="Send my answers").click()
    expect(phone.get_by_role("heading", name="Thank you")).to_be_visible()
    shot(phone, "q-6-thanks-phone")
    scores = {r.instrument: (r.status, str(r.score)) for r in QuestionnaireResponse.objects.all()}
    assert scores == {"nrs_pain": ("completed", "5.00"), "pgic": ("completed", "2.00")}

    # The link is single-use.
    phone.goto(link_path)
    expect(phone.get_by_role("heading", name="This link has already been used")).to_be_visible()
    expect(phone.get_by_text("Ada")).to_have_count(0)
    shot(phone, "q-7-used-phone")


def test_expired_link_says_expired(phone: Page, clinician, patient) -> None:
    _, path = services.create_link(
        actor_of(clinician), patient, instruments=["nrs_pain"], now=timezone.now() - timedelta(days=15)
    )
    phone.goto(path, timeout=60_000)
    expect(phone.get_by_role("heading", name="This link has expired")).to_be_visible()
    expect(phone.get_by_text("Lovelace")).to_have_count(0)
    shot(phone, "q-8-expired-phone")


def test_staff_create_a_qr_link_and_enter_a_paper_form(page: Page, clinician, patient, link_path) -> None:
    from .conftest import log_in

    # The first request imports every app's URLs (WeasyPrint, Matplotlib: seconds under load); allow for it.
    page.goto("/accounts/login/", timeout=60_000)
    log_in(page, clinician)
    page.goto(f"/patients/{patient.uuid}/questionnaires/")
    expect(page.get_by_role("heading", name="Questionnaires", exact=True)).to_be_visible()
    shot(page, "q-staff-1-questionnaires")
    row = page.get_by_role("row").filter(has_text="6 weeks").first
    row.get_by_label("Delivery").select_option("qr")
    row.get_by_role("button", name="Questionnaire link").click()
    expect(page.get_by_text("This link is shown only now.")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    url = page.get_by_label("Link").input_value()
    assert "/q/" in url
    shot(page, "q-staff-2-qr-link")

    page.goto(f"/patients/{patient.uuid}/questionnaires/enter/?instrument=pgic")
    page.get_by_label("Date answered").fill("2026-11-20")
    page.get_by_role("radio", name="Much improved", exact=True).check()
    shot(page, "q-staff-3-paper-entry")
    page.get_by_role("button", name="Save answers").click()
    expect(page.get_by_text("Overall change since treatment started saved as completed.")).to_be_visible()
    response = QuestionnaireResponse.objects.get(source="staff_paper")
    assert (str(response.authored_on), str(response.score)) == ("2026-11-20", "2.00")


def test_diary_on_a_phone(phone: Page, clinician, patient) -> None:
    _, path = services.create_link(actor_of(clinician), patient, instruments=["diary"])
    phone.goto(f"{path}1/", timeout=60_000)
    day1 = phone.get_by_role("group", name="Day 1 (the day of the injection)")
    set_scale(day1.get_by_role("group", name="Your worst pain on the day of the injection (0-10)"), 7)
    day1.get_by_role("group", name="Did the pain flare up on the day of the injection?").get_by_text("Yes").click()
    _no_horizontal_scroll(phone)
    shot(phone, "q-9-diary-phone")
    phone.get_by_role("button", name="Save and review").click()
    expect(phone.get_by_text("6 questions not answered")).to_be_visible()
    saved = QuestionnaireResponse.objects.get()
    assert saved.answers == {"day1_pain": 7, "day1_flare": True}
