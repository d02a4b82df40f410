"""Registering a new patient from the patient list."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from prolotrack.clinics.models import User
from prolotrack.patients.models import Patient
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


def test_registering_refuses_a_birth_date_in_the_future_then_saves_and_opens_the_new_chart(
    page: Page, clinician: User
) -> None:
    log_in(page, clinician)
    page.get_by_role("link", name="Register a patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a patient")

    page.get_by_label("Given name").fill("Grace")
    page.get_by_label("Family name").fill("Hopper")
    page.get_by_label("Date of birth").fill((date.today() + timedelta(days=30)).isoformat())
    page.get_by_label("Sex").select_option(label="Female")
    page.get_by_label("Phone").fill("+1 312 555 0100")
    shot(page, "register-01-filled-with-future-birth-date")
    page.get_by_role("button", name="Save").click()

    birth_field = page.locator(".field", has=page.locator("#id_date_of_birth"))
    expect(birth_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(birth_field.locator(".error")).to_have_text(
        re.compile(r"^Date of birth \d{4}-\d\d-\d\d is in the future: check the date\.$")
    )
    expect(page.locator(".field.has-error")).to_have_count(1)
    # What was typed is kept, so only the wrong field needs fixing.
    expect(page.get_by_label("Family name")).to_have_value("Hopper")
    expect(page.get_by_label("Phone")).to_have_value("+1 312 555 0100")
    assert Patient.objects.count() == 0
    shot(page, "register-02-future-birth-date-refused")

    page.get_by_label("Date of birth").fill("1951-12-09")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(r"/patients/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hopper, Grace")
    expect(page.locator(".patient-banner .facts")).to_contain_text(re.compile(r"Record no\. PT-\d{6}"))
    expect(page.locator(".patient-banner .facts")).to_contain_text("Born 1951-12-09")
    expect(page.locator(".msg-success")).to_contain_text("Grace Hopper registered with record number PT-")
    shot(page, "register-03-chart-of-new-patient")

    saved = Patient.objects.get()
    assert (saved.given_name, saved.family_name, saved.date_of_birth) == ("Grace", "Hopper", date(1951, 12, 9))
    assert re.fullmatch(r"PT-\d{6}", saved.mrn)
    assert str(saved.uuid) in page.url
    assert saved.created_by == clinician
