"""The Outcomes card on the patient chart in Chromium: responder status, change, the non-responder alert, the charts
and their downloads. Screenshots: test-artifacts/screenshots/trajectory-*.png."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from prolotrack.outcomes.testing import answer, make_course, session_day, set_session
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def answered(clinician, patient):
    """A knee course: three sessions done, NRS 8 -> 7 -> 7 -> 7 (short of the MCID), PGIC 4."""
    course = make_course(clinician, patient)
    for n, score in ((1, 8), (2, 7), (3, 7)):
        set_session(clinician, course, n)
        code = "baseline" if n == 1 else f"session_{n}"
        answer(clinician, patient, "nrs_pain", score, session_day(course, n), course=course, timepoint_code=code)
    later = session_day(course, 3) + timedelta(days=42)
    answer(clinician, patient, "nrs_pain", 7, later, course=course)
    answer(clinician, patient, "pgic", 4, later, course=course)
    return course


def test_the_chart_shows_outcomes_and_the_non_responder_alert(page: Page, clinician, patient, answered):
    log_in(page, clinician)
    page.goto(f"/patients/{patient.uuid}/")
    card = page.locator("#outcomes")
    expect(card.get_by_role("heading", name="Outcomes")).to_be_visible()
    expect(card.get_by_role("alert")).to_contain_text("Non-responder after 3 sessions")
    expect(card).to_contain_text("Not a responder (yet)")
    expect(card).to_contain_text("improved by 1 (12.5%)")
    images = card.locator("figure img")
    expect(images).to_have_count(2)
    # The SVG charts render (natural width > 0), each with its downloads. They load from the chart URLs after the card
    # (docs/PERFORMANCE.md), so wait for them.
    # (Polled by expect: wait_for_function evaluates a string, which the page's CSP refuses.)
    for index in range(2):
        expect(images.nth(index)).to_have_js_property("complete", True)
    assert page.evaluate("Array.from(document.querySelectorAll('#outcomes figure img')).every(i => i.naturalWidth > 0)")
    card.scroll_into_view_if_needed()
    shot(page, "trajectory-chart-card")
    with page.expect_download() as download:
        card.get_by_role("link", name="PNG").first.click()
    assert download.value.suggested_filename.startswith("outcomes-nrs_pain-")


def test_the_outcomes_page_on_a_tablet(tablet_page: Page, colleague, patient, answered):
    log_in(tablet_page, colleague)
    tablet_page.goto(f"/patients/{patient.uuid}/outcomes/")
    expect(tablet_page.locator("#outcomes")).to_contain_text("Pain numeric rating scale")
    width = tablet_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 820, "the outcomes page scrolls sideways on a tablet"
    shot(tablet_page, "trajectory-tablet")


def test_front_desk_sees_no_outcomes_card(page: Page, frontdesk, patient, answered):
    log_in(page, frontdesk)
    page.goto(f"/patients/{patient.uuid}/")
    expect(page.locator("#outcomes")).to_have_count(0)
