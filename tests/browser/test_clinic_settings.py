"""The clinic settings page in Chromium: an administrator finds every setting by section, a bad value is refused
with a message and nothing saved, and the settings (questionnaires by region included) are changed by keyboard."""

import pytest
from playwright.sync_api import Page, expect

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.models import Clinic, User
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


def test_an_administrator_changes_the_settings_by_keyboard(page: Page, admin_user: User, clinic: Clinic) -> None:
    log_in(page, admin_user)
    page.goto("/clinic/settings/")
    expect(page.get_by_role("heading", name="Settings for Alpha Clinic")).to_be_visible()
    for section in ("Security", "Session and dosing", "Outcomes and questionnaires", "Reminders"):
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
    link_days = page.get_by_label("Questionnaire links expire after this many days")
    expect(link_days).to_have_value("14")
    expect(page.get_by_role("group", name="Knee").get_by_label("Pain rating (0-10)")).to_be_checked()
    shot(page, "clinic-settings")

    # A bad value: refused, said where, nothing saved.
    link_days.fill("90")
    page.get_by_label("Send the appointment reminder this many days before a session").fill("3")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Nothing was saved: correct the 1 setting marked below.")).to_be_visible()
    expect(page.locator(".field-questionnaire_link_days .error")).to_have_text("Enter at most 60 days.")
    summary = page.get_by_role("link", name="Questionnaire links expire after this many days")
    expect(summary).to_be_visible()
    summary.click()
    expect(link_days).to_be_focused()
    shot(page, "clinic-settings-refused")
    clinic.refresh_from_db()
    assert clinic.settings == {}

    # By keyboard: fix the value, then tick VAS for knee courses with the space bar, then Enter on Save.
    link_days.fill("21")
    vas = page.get_by_role("group", name="Knee").get_by_label("Pain scale (0-100)")
    vas.focus()
    page.keyboard.press("Space")
    expect(vas).to_be_checked()
    page.get_by_role("button", name="Save settings").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Clinic settings saved.")).to_be_visible()
    expect(page.get_by_role("group", name="Knee").get_by_text("changed")).to_be_visible()
    shot(page, "clinic-settings-saved")

    clinic.refresh_from_db()
    assert clinic.config.questionnaire_link_days == 21
    assert clinic.config.appointment_reminder_days == 3
    assert clinic.config.outcome_instruments == {"knee": ["nrs_pain", "vas_pain", "pgic", "koos_jr"]}
    changes = AuditEvent.objects.get(action="clinic.settings.updated").detail["changes"]
    assert set(changes) == {"questionnaire_link_days", "appointment_reminder_days", "outcome_instruments"}


def test_a_clinician_cannot_open_the_settings(page: Page, clinician: User) -> None:
    log_in(page, clinician)
    response = page.goto("/clinic/settings/")
    assert response is not None and response.status == 403


def test_the_settings_page_on_a_tablet(tablet_page: Page, admin_user: User) -> None:
    log_in(tablet_page, admin_user)
    tablet_page.goto("/clinic/settings/")
    tablet_page.get_by_role("link", name="Reminders", exact=True).click()
    expect(
        tablet_page.get_by_label("Send the pre-procedure instructions this many days before a session")
    ).to_be_visible()
    # Nothing wider than the screen.
    assert tablet_page.evaluate("document.documentElement.scrollWidth") <= 820
    shot(tablet_page, "clinic-settings-tablet")
