"""Editing a patient's details, and refusing an edit made on a form that someone else saved first."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from prolotrack.clinics.models import User
from prolotrack.patients.models import Patient
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


def open_edit_form(page: Page, patient: Patient) -> None:
    page.goto(f"/patients/{patient.uuid}/")
    page.get_by_role("link", name="Edit details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit {patient.full_name}")


def test_changing_a_patients_phone_saves_it_and_the_chart_shows_the_new_number(
    page: Page, clinician: User, patient: Patient
) -> None:
    log_in(page, clinician)
    open_edit_form(page, patient)
    page.get_by_label("Phone").fill("+1 312 555 0199")
    page.get_by_label("Reason for change").fill("Patient gave a new mobile number")
    shot(page, "edit-01-form")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(rf"/patients/{patient.uuid}/$"))
    expect(page.locator(".msg-success")).to_have_text("Patient details saved.")
    contact = page.locator("dl.kv")
    expect(contact).to_contain_text("+1 312 555 0199")
    expect(contact).to_contain_text("(version 2)")
    shot(page, "edit-02-chart-shows-new-phone")

    patient.refresh_from_db()
    assert (patient.phone, patient.version, patient.updated_by) == ("+1 312 555 0199", 2, clinician)


def test_saving_a_form_that_a_colleague_saved_first_is_refused_and_keeps_the_colleagues_edit(
    new_page: Callable[..., Page], clinician: User, colleague: User, patient: Patient
) -> None:
    first = log_in(new_page(), clinician)
    second = log_in(new_page(), colleague)
    open_edit_form(first, patient)
    open_edit_form(second, patient)

    first.get_by_label("Phone").fill("+1 312 555 0111")
    first.get_by_role("button", name="Save").click()
    expect(first.locator(".msg-success")).to_have_text("Patient details saved.")

    second.get_by_label("Phone").fill("+1 312 555 0222")
    second.get_by_role("button", name="Save").click()

    conflict = second.locator(".errors[role=alert]")
    expect(conflict).to_contain_text("Clinician saved this record")
    expect(conflict).to_contain_text("Nothing was saved")
    expect(second).to_have_url(re.compile(rf"/patients/{patient.uuid}/edit/$"))
    shot(second, "edit-03-stale-edit-refused")

    patient.refresh_from_db()
    assert (patient.phone, patient.version, patient.updated_by) == ("+1 312 555 0111", 2, clinician)

    # Following the message: reloading the saved details shows the first edit, ready to edit again.
    conflict.get_by_role("link", name="Reload the saved details").click()
    expect(second.get_by_label("Phone")).to_have_value("+1 312 555 0111")
    expect(second.locator(".errors")).to_have_count(0)
