"""Recording medications and allergies on the chart."""

import re

import pytest
from playwright.sync_api import Page, expect

from prolotrack.clinics.models import User
from prolotrack.patients.models import Patient
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


def test_a_medication_and_an_allergy_added_on_the_chart_are_listed_and_the_allergy_shows_in_the_red_strip(
    page: Page, clinician: User, patient: Patient
) -> None:
    log_in(page, clinician)
    page.goto(f"/patients/{patient.uuid}/")
    strip = page.locator(".allergy-strip")
    # Never asked is not the same as "no allergies": the strip says so in amber until someone asks.
    expect(strip).to_have_text(re.compile(r"Allergies:\s*Not yet asked"))
    expect(strip).to_have_class(re.compile(r"\bunasked\b"))

    medications = page.locator("section#medication")
    medications.get_by_text("Add medication").click()
    medications.get_by_label("Name", exact=True).fill("Ibuprofen")
    medications.get_by_label("Drug class").select_option(label="NSAID")
    medications.get_by_label("Dose", exact=True).fill("400 mg three times a day")
    shot(page, "chart-01-add-medication-open")
    medications.get_by_role("button", name="Add").click()

    expect(page.locator(".msg-success")).to_have_text("The medication was added.")
    expect(page).to_have_url(re.compile(r"#medication$"))
    row = page.locator("section#medication tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Ibuprofen")
    expect(row.locator(".tag.nsaid")).to_have_text("NSAID")
    expect(row).to_contain_text("400 mg three times a day · Taking")

    allergies = page.locator("section#allergy")
    allergies.get_by_text("Add allergy").click()
    allergies.get_by_label("Substance").fill("Lidocaine")
    allergies.get_by_label("Reaction").fill("hives")
    allergies.get_by_label("Severity").select_option(label="Severe")
    allergies.get_by_role("button", name="Add").click()

    expect(page.locator(".msg-success")).to_have_text("The allergy was added.")
    expect(strip).to_have_class(re.compile(r"\bhas\b"))
    expect(strip.locator(".pill.severe")).to_have_text("Lidocaine (hives) · severe")
    expect(strip).to_have_css("background-color", "rgb(253, 236, 234)")
    expect(page.locator("section#allergy tbody tr")).to_contain_text("Lidocaine")
    shot(page, "chart-02-medication-and-allergy-added")

    assert list(patient.medications.values_list("name", "drug_class")) == [("Ibuprofen", "nsaid")]
    assert list(patient.allergies.values_list("substance", "reaction", "severity")) == [
        ("Lidocaine", "hives", "severe")
    ]
