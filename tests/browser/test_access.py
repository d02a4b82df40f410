"""Who may see what: another clinic sees nothing, the front desk sees demographics only."""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from prolotrack.clinics.models import User
from prolotrack.patients.models import Patient
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


def test_a_clinician_from_another_clinic_gets_not_found_for_an_alpha_patients_chart_and_never_sees_the_name(
    page: Page, outsider: User, patient: Patient
) -> None:
    log_in(page, outsider)
    expect(page.locator("header .clinic-name")).to_have_text("Beta Clinic")

    response = page.goto(f"/patients/{patient.uuid}/")

    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page).to_have_title("Not found · ProloTrack")
    html = page.content()
    for identifying in (patient.family_name, patient.given_name, patient.mrn):
        assert identifying not in html
    shot(page, "access-01-other-clinic-not-found")


def test_the_front_desk_sees_demographics_but_not_the_clinical_sections(
    page: Page, frontdesk: User, patient: Patient, add_record: Callable[..., Any]
) -> None:
    add_record(patient, "allergy", substance="Chlorhexidine", reaction="rash", severity="moderate")
    add_record(patient, "medication", name="Warfarin", drug_class="anticoagulant", dose="5 mg")
    log_in(page, frontdesk)
    expect(page.locator("header .user")).to_contain_text("Front desk")

    page.get_by_role("link", name="Lovelace, Ada").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Lovelace, Ada")
    expect(page.locator(".patient-banner")).to_contain_text(patient.mrn)
    expect(page.get_by_role("heading", name="Contact")).to_be_visible()
    expect(page.get_by_role("link", name="Edit details")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Your role sees demographics only.")
    for clinical in ("Medications", "Allergies", "Weight", "Conditions and complaints"):
        expect(page.get_by_role("heading", name=clinical, exact=True)).to_have_count(0)
    expect(page.locator(".allergy-strip")).to_have_count(0)
    html = page.content()
    assert "Chlorhexidine" not in html and "Warfarin" not in html
    shot(page, "access-02-front-desk-demographics-only")
