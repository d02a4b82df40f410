"""The clinic dashboard in Chromium: figures, charts that render, filters, a refused filter, downloads.
Screenshots: test-artifacts/screenshots/dashboard-*.png."""

import re
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from prolotrack.outcomes.testing import add_dextrose, answer, make_course, session_day, set_session
from tests.browser.conftest import log_in, shot, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _fresh_dashboard_cache():
    """The page caches its figures for a minute: start each test without another test's figures."""
    cache.clear()


@pytest.fixture
def clinic_courses(clinician, make_patient):
    """Twelve knee and six back courses with answers: enough for some cells to show and some to be hidden."""
    for index in range(18):
        knee = index < 12
        patient = make_patient(given_name=f"Dash{index}", family_name="Zzyzx")
        course = make_course(
            clinician,
            patient,
            start=date(2026, 1, 5) + timedelta(days=10 * index),
            protocol_id="knee_oa_rabago" if knee else "low_back_yelland",
            indication="Knee osteoarthritis" if knee else "Chronic low back pain",
            region="knee" if knee else "lumbopelvic",
        )
        for n in (1, 2, 3):
            set_session(clinician, course, n)
        add_dextrose(clinician, course, 1, "15" if knee else "20")
        base = 7
        last = 4 if index % 3 else 6
        answer(clinician, patient, "nrs_pain", base, session_day(course, 1), course=course, timepoint_code="baseline")
        answer(clinician, patient, "nrs_pain", last, session_day(course, 3) + timedelta(days=40), course=course)
    return 18


def test_dashboard_figures_charts_filters_and_downloads(page: Page, clinician, clinic_courses):
    log_in(page, clinician)
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", name="Clinic outcomes")).to_be_visible()
    summary = page.get_by_label("Summary")
    expect(summary).to_contain_text("18")
    expect(summary).to_contain_text("95% CI")
    expect(page.locator("body")).not_to_contain_text("Zzyzx")  # no patient names anywhere
    # Every chart image loads (served as SVG by its own request).
    wait_until(
        page, "Array.from(document.querySelectorAll('.dash-grid img')).every(i => i.complete && i.naturalWidth > 0)"
    )
    shot(page, "dashboard-all")

    page.get_by_label("Indication").select_option("Chronic low back pain")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"indication=Chronic"))
    expect(summary).to_contain_text("6")
    wait_until(
        page, "Array.from(document.querySelectorAll('.dash-grid img')).every(i => i.complete && i.naturalWidth > 0)"
    )
    section = page.locator("#chart-responders-sessions")
    section.locator("summary").click()
    expect(section.locator("table")).to_be_visible()
    shot(page, "dashboard-filtered")

    with page.expect_download() as download:
        page.locator("#chart-funnel").get_by_role("link", name="data (CSV)").click()
    assert download.value.suggested_filename == "funnel.csv"


def test_a_reversed_date_range_is_refused_with_what_to_fix(page: Page, admin_user, clinic_courses):
    log_in(page, admin_user)
    page.goto("/dashboard/")
    page.get_by_label("Courses started from").fill("2026-06-01")
    page.get_by_label("to", exact=True).fill("2026-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("swap them")
    shot(page, "dashboard-bad-filter")


def test_a_researcher_sees_whole_quarters_with_small_cells_and_their_complements_hidden(
    page: Page, researcher, clinic_courses
):
    log_in(page, researcher)
    page.goto("/dashboard/?period=2026-Q1")
    expect(page.get_by_role("heading", name="Clinic outcomes: research figures")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"2026-Q1"))).to_be_visible()
    # 2026-Q1 holds 9 courses (one every 10 days from 5 January): 9 knee, no back course, so knee is shown as 9.
    # The indication's own row ("Knee osteoarthritis 9 6/9 67"), not the breakdowns' rows that start with its name.
    row = page.get_by_role("row", name=re.compile(r"^Knee osteoarthritis \d"))
    expect(row).to_contain_text("9")
    expect(page.get_by_text("complementary suppression")).to_be_visible()
    shot(page, "dashboard-researcher-quarter")
    # A day-level range is refused; so are the exact charts and CSV files.
    page.goto("/dashboard/?start=2026-01-01&end=2026-01-15")
    expect(page.get_by_role("alert")).to_contain_text("whole quarters")
    assert page.request.get("/dashboard/data/funnel.csv").status == 403
