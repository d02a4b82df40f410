"""Logging in through the real login form."""

import re

import pytest
from playwright.sync_api import Page, expect

from prolotrack.clinics.models import User
from tests.browser.conftest import log_in, shot, submit_login

pytestmark = pytest.mark.browser


def test_a_clinician_logs_in_and_lands_on_the_patient_list_with_clinic_and_role_in_the_header(
    page: Page, clinician: User
) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    shot(page, "login-01-form")

    log_in(page, clinician)

    expect(page).to_have_url(re.compile(r"/patients/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    header = page.locator("header.topbar")
    expect(header.locator(".clinic-name")).to_have_text("Alpha Clinic")
    expect(header.locator(".user")).to_have_text(re.compile(r"·\s*Clinician$"))
    expect(page.get_by_role("link", name="Register a patient")).to_be_visible()
    # A new clinic has nobody yet: that is said plainly, not as a failed search for "".
    expect(page.locator("#results .empty")).to_have_text(
        re.compile(r"^No patients are registered in this clinic yet\.")
    )
    expect(page.locator("#q")).to_be_focused()
    shot(page, "login-02-patient-list")


def test_a_wrong_password_shows_an_error_and_stays_on_the_login_page(page: Page, clinician: User) -> None:
    submit_login(page, clinician.username, "not the password")

    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.locator("#id_username")).to_have_value(clinician.username)
    expect(page.locator("#id_password")).to_have_value("")
    expect(page.locator("#id_password")).to_be_focused()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    expect(page.locator("header.topbar .clinic-name")).to_have_count(0)
    shot(page, "login-03-wrong-password")
