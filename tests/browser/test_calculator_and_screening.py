"""The bedside calculator and screening for a procedure, in Chromium, on a tablet held upright."""

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from prolotrack.clinical.models import ScreeningRecord
from prolotrack.clinics.models import User
from prolotrack.patients.models import Patient
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def test_the_calculator_updates_as_you_type_and_checks_the_dose(tablet_page: Page, clinician: User) -> None:
    page = log_in(tablet_page, clinician)
    page.get_by_role("link", name="Calculator").click()
    expect(page.get_by_role("heading", name="Mix a solution")).to_be_visible()
    shot(page, "calculator-01-empty-tablet")

    mix = page.locator("form", has=page.get_by_label("Final volume (mL)"))
    page.get_by_label("Final volume (mL)").fill("10")
    page.get_by_label("Dextrose wanted (%)").fill("15")
    # D50 is the usual stock and is filled in; the anaesthetic is chosen like any select.
    expect(page.get_by_label("Dextrose stock (%)")).to_have_value("50")
    mix.get_by_label("Anaesthetic", exact=True).select_option("lidocaine")
    page.get_by_label("Anaesthetic wanted (%)").fill("0,5")
    page.get_by_label("Anaesthetic stock (%)").fill("2")

    # No button pressed: the result arrives while typing.
    result = page.locator("#mix-result")
    expect(result.locator("ol.draw li")).to_have_count(3)
    expect(result.locator("ol.draw li").nth(0)).to_have_text(re.compile(r"3\.00 mL\s+Dextrose 50% stock"))
    expect(result.locator("ol.draw li").nth(1)).to_have_text(re.compile(r"2\.50 mL\s+Lidocaine 2% stock"))
    expect(result.locator("ol.draw li").nth(2)).to_have_text(re.compile(r"4\.50 mL\s+0\.9% sodium chloride"))
    expect(result).to_contain_text("1.5 g dextrose")
    expect(result).to_contain_text("50 mg lidocaine")
    volume = result.locator(".vol").first
    font_px = float(volume.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    assert font_px >= 28, f"volumes to draw are {font_px}px: too small to read at arm's length"
    no_sideways_scroll(page)
    shot(page, "calculator-02-domain-example-tablet")

    # An impossible target: the domain's message appears next to the field, and the old recipe goes away.
    page.get_by_label("Dextrose wanted (%)").fill("60")
    error = page.locator("#err-id_target_dextrose_pct")
    expect(error).to_have_text(
        "Target dextrose 60% is above the stock concentration 50%: choose a stronger stock or a lower target."
    )
    expect(result.locator("ol.draw")).to_have_count(0)
    expect(page.get_by_label("Dextrose wanted (%)")).to_have_css("border-top-color", "rgb(179, 38, 30)")
    shot(page, "calculator-03-target-above-stock")
    page.get_by_label("Dextrose wanted (%)").fill("15")
    expect(error).to_be_empty()

    # The syringe's lidocaine goes into the dose check with one tap.
    page.get_by_role("button", name="Check 50 mg lidocaine against the dose limit").click()
    expect(page.get_by_label("Planned total this session (mg)")).to_have_value("50")
    expect(page.get_by_label("Weight (kg)")).to_be_focused()
    page.get_by_label("Weight (kg)").fill("70")
    limit = page.locator("#limit-result")
    expect(limit.locator(".big")).to_have_text("300 mg")
    expect(limit).to_contain_text("Lidocaine plain: 4.5 mg/kg × 70 kg = 315 mg, not over 300 mg")
    expect(limit.locator(".dose-status")).to_have_class(re.compile(r"\bok\b"))
    expect(limit.locator(".dose-status")).to_contain_text("Within the limit: 16.7% of the maximum.")
    shot(page, "calculator-04-dose-within-limit")

    page.get_by_label("Planned total this session (mg)").fill("320")
    expect(limit.locator(".dose-status")).to_have_class(re.compile(r"\bblock\b"))
    expect(limit.locator(".dose-status")).to_contain_text("Over the limit")
    page.get_by_text("With epinephrine").click()
    expect(limit.locator(".big")).to_have_text("490 mg")
    expect(limit.locator(".dose-status")).to_have_class(re.compile(r"\bok\b"))
    no_sideways_scroll(page)
    shot(page, "calculator-05-with-epinephrine")


def test_the_calculator_works_with_the_keyboard_alone(page: Page, clinician: User) -> None:
    log_in(page, clinician)
    page.goto("/tools/calculator/")
    page.get_by_label("Final volume (mL)").focus()
    page.keyboard.type("6")
    page.keyboard.press("Tab")
    page.keyboard.type("25")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("50")
    page.keyboard.press("Enter")
    expect(page.locator("#mix-result ol.draw li").nth(0)).to_have_text(re.compile(r"3\.00 mL"))
    expect(page.locator("#mix-result ol.draw li").nth(1)).to_have_text(re.compile(r"3\.00 mL\s+0\.9% sodium chloride"))
    # Enter was handled in place: still the same page, no reload.
    expect(page).to_have_url(re.compile(r"/tools/calculator/$"))


def test_screening_from_the_chart_with_an_override(
    tablet_page: Page, clinician: User, patient: Patient, add_record: Callable[..., Any]
) -> None:
    add_record(patient, "allergy", substance="Lidocaine", reaction="hives", severity="severe")
    add_record(patient, "medication", name="Warfarin", drug_class="anticoagulant", dose="5 mg daily")
    add_record(patient, "condition", category="comorbidity", description="Type 2 diabetes", screening_flag="diabetes")
    page = log_in(tablet_page, clinician)
    page.goto(f"/patients/{patient.uuid}/")
    expect(page.locator("#screenings")).to_contain_text("No screening yet.")
    page.get_by_role("link", name="Screen for a procedure").first.click()

    expect(page.get_by_role("heading", name="Screen for a procedure")).to_be_visible()
    facts = page.locator(".facts-used")
    expect(facts).to_contain_text("Lidocaine (hives) · Severe")
    expect(facts).to_contain_text("Warfarin")
    expect(facts).to_contain_text("Diabetes (chart: Type 2 diabetes, on the chart since")
    page.get_by_label("Procedure date").fill(date(2025, 3, 10).isoformat())
    page.get_by_label("Body region").select_option(label="Knee")
    page.get_by_label("Side").select_option(label="Left")
    page.get_by_label("Site", exact=True).fill("medial knee, pes anserinus")
    page.get_by_label("Dextrose").check()
    page.get_by_label("Lidocaine").check()
    page.get_by_label("Pregnancy status (ask today)").select_option(label="Not applicable")
    no_sideways_scroll(page)
    shot(page, "screening-01-form-tablet")
    page.get_by_role("button", name="Screen", exact=True).click()

    decision = page.get_by_role("status", name="Decision")
    expect(decision).to_have_class(re.compile(r"\bnot_eligible\b"))
    expect(decision.locator(".verdict")).to_have_text("Not eligible")
    contra = page.locator("section.findings.contraindication")
    expect(contra.locator("article")).to_have_count(1)
    expect(contra).to_contain_text("Allergy to a local anaesthetic")
    expect(contra.locator("h3")).to_have_css("color", "rgb(179, 38, 30)")
    cautions = page.locator("section.findings.caution")
    expect(cautions).to_contain_text("Anticoagulant")
    expect(cautions).to_contain_text("Diabetes: glucose load")
    expect(page.locator("section.findings.instruction")).to_contain_text("Consent: off-label use and cost")
    shot(page, "screening-02-not-eligible-tablet")

    allergy = page.locator("article", has_text="Allergy to a local anaesthetic")
    # The override form stays folded until asked for: the findings read first.
    expect(allergy.get_by_label("Why it is safe to proceed despite this")).to_be_hidden()
    allergy.get_by_text("Override with a written reason…").click()
    allergy.get_by_label("Why it is safe to proceed despite this").fill("ok")
    allergy.get_by_role("button", name="Override with this reason").click()
    allergy = page.locator("article", has_text="Allergy to a local anaesthetic")
    expect(allergy.locator(".error")).to_contain_text("too short")
    expect(allergy.get_by_label("Why it is safe to proceed despite this")).to_have_value("ok")
    shot(page, "screening-03-reason-too-short")

    allergy.get_by_label("Why it is safe to proceed despite this").fill(
        "Allergist patch test 2024 negative for lidocaine."
    )
    allergy.get_by_role("button", name="Override with this reason").click()
    expect(page.locator(".msg-success")).to_contain_text("Override recorded")
    expect(decision.locator(".verdict")).to_have_text("Eligible with cautions")
    expect(decision).to_have_class(re.compile(r"\beligible_with_cautions\b"))
    allergy = page.locator("article", has_text="Allergy to a local anaesthetic")
    expect(allergy.locator(".badge")).to_have_text("Overridden")
    expect(allergy).to_contain_text("Proceeding: Allergist patch test 2024 negative for lidocaine.")
    expect(allergy).to_contain_text("Clinician (clinician)")
    no_sideways_scroll(page)
    shot(page, "screening-04-overridden-tablet")

    screening = ScreeningRecord.objects.get()
    assert (screening.version, screening.decision) == (2, "eligible_with_cautions")
    page.get_by_role("link", name="Back to the chart").click()
    row = page.locator("#screenings tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("2025-03-10")
    expect(row).to_contain_text("Eligible with cautions")
    shot(page, "screening-05-chart-lists-screening")


def test_a_nurse_sees_a_hard_stop_and_who_may_override(
    page: Page, colleague: User, patient: Patient, add_record: Callable[..., Any]
) -> None:
    add_record(patient, "medication", name="Apixaban", drug_class="anticoagulant")
    log_in(page, colleague)
    page.goto(f"/patients/{patient.uuid}/screening/new/")
    page.get_by_label("Body region").select_option(label="Knee")
    page.get_by_label("Side").select_option(label="Right")
    page.get_by_label("Dextrose").check()
    page.get_by_label("Skin or soft-tissue infection at the injection site").check()
    page.get_by_role("button", name="Screen", exact=True).click()
    infection = page.locator("article", has_text="Infection at the injection site")
    expect(infection).to_contain_text("Hard stop: cannot be overridden.")
    expect(infection.locator("textarea")).to_have_count(0)
    expect(page.locator("article", has_text="Anticoagulant")).to_contain_text(
        "A clinician can override this with a written reason."
    )
    shot(page, "screening-06-nurse-hard-stop")
