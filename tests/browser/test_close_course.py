"""Closing a course goes through a confirmation step: what changes, the derived outcome, a reason, confirm (issue 11)."""

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from prolotrack.clinics.models import User
from prolotrack.patients.models import Patient
from prolotrack.treatment.models import Course
from prolotrack.treatment.testing import knee_course
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


def test_closing_a_new_course_through_the_confirmation_step(page: Page, clinician: User, patient: Patient) -> None:
    course = knee_course(clinician, patient, date(2026, 11, 2))
    log_in(page, clinician)
    page.goto(f"/courses/{course.uuid}/")
    page.get_by_role("link", name="Close the course…").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Close the course")
    changes = page.locator(".confirm-changes")
    expect(changes).to_contain_text("The course closes as stopped early")
    expect(changes).to_contain_text("0 of 3 required sessions done")
    expect(changes).to_contain_text("5 sessions not yet done will be cancelled")
    expect(page.get_by_label("Planned sessions done")).to_have_count(0)  # does not fit a course stopped early

    # Keyboard only: "Other" needs words; refused without them and nothing changes.
    page.get_by_label("Other (say why)").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Close the course as stopped early").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".field-details .error")).to_contain_text("at least 5 characters")
    assert Course.objects.get(pk=course.pk).status == "open"

    page.get_by_label("Patient's choice").check()
    page.get_by_label("Details").fill("Prefers to try physiotherapy first")
    shot(page, "close-course-01-confirm")
    page.get_by_role("button", name="Close the course as stopped early").click()

    expect(page).to_have_url(re.compile(rf"/courses/{course.uuid}/$"))
    expect(page.locator(".msg-success")).to_contain_text("Course closed as stopped")
    expect(
        page.get_by_text("Stopped early because: Patient's choice: Prefers to try physiotherapy first")
    ).to_be_visible()
    shot(page, "close-course-02-closed")
    closed = Course.objects.get(pk=course.pk)
    assert closed.status == "stopped" and set(closed.sessions.values_list("status", flat=True)) == {"cancelled"}
