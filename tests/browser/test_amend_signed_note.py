"""Amending a signed session note with JavaScript off: edit, see what will change (before and after), confirm."""

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from playwright.sync_api import Browser, expect

from prolotrack.audit.models import RecordVersion
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.consent.testing import sign_for_course
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Patient
from prolotrack.treatment import services
from prolotrack.treatment.models import TreatmentSession
from prolotrack.treatment.testing import knee_course
from tests.browser.conftest import DESKTOP, log_in, shot

pytestmark = pytest.mark.browser

START = date(2026, 11, 2)


def signed_session(clinician: User, patient: Patient) -> TreatmentSession:
    """A knee session recorded through the services and signed: consent, checklist, screening, a solution, a site."""
    actor = actor_of(clinician)
    with transaction.atomic():
        patient_services.add_child(
            actor, patient, "weight", {"measured_on": START - timedelta(days=10), "weight_kg": Decimal("70")}
        )
    course = knee_course(clinician, patient, START)
    sign_for_course(actor, course, render=False)
    session = course.sessions.get(number=1)
    solution = services.add_solution(
        actor, session, label="A", final_volume_ml=Decimal("10"), diluent_lot="NS-5",
        components=[
            {"agent": "dextrose", "target_pct": "15", "stock_pct": "50", "lot": "D50-1", "expiry": date(2027, 6, 30)},
            {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2", "lot": "L-1", "expiry": date(2027, 1, 31)},
        ],
    )  # fmt: skip
    for item, answer in (("meal", "yes"), ("consent", "yes"), ("skin_prep", "yes"), ("numbing", "na"),
                         ("time_out", "yes")):  # fmt: skip
        services.tick(actor, session, item, answer)
    services.rescreen_for_the_day(actor, session)
    services.add_site(
        actor, TreatmentSession.objects.get(pk=session.pk), solution=solution, body_map="knee_front",
        x=Decimal("100"), y=Decimal("100"), side="right", volume_ml=Decimal("0.5"), label="Tender point",
    )  # fmt: skip
    return services.sign_session(actor, TreatmentSession.objects.get(pk=session.pk))


def test_amending_a_signed_note_without_javascript(
    browser: Browser, live_server: Any, clinician: User, patient: Patient, watch_csp: Any
) -> None:
    session = signed_session(clinician, patient)
    context = watch_csp(browser.new_context(viewport=DESKTOP, base_url=live_server.url, java_script_enabled=False))
    try:
        page = context.new_page()
        log_in(page, clinician)
        page.goto(f"/sessions/{session.uuid}/?amend=1")
        header = page.locator("#header form")
        # <details> opens without script too.
        page.get_by_text("Update weight or sedation").click()
        header.get_by_label("Sedation").select_option(label="Oral (anxiolytic)")
        header.get_by_label("Correcting a wrong value or typing error").check()
        header.get_by_role("button", name="Save").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Amend the signed note")
        rows = page.locator(".confirm-fields tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Sedation")
        expect(rows.first.locator("td").first).to_have_text("None")
        expect(rows.first.locator("td").last).to_have_text("Oral (anxiolytic)")
        expect(page.get_by_label("Correcting a wrong value or typing error")).to_be_checked()
        assert TreatmentSession.objects.get(pk=session.pk).sedation == "none"
        shot(page, "amend-01-confirm-no-js")

        page.get_by_role("button", name="Save the amendment").click()
        expect(page).to_have_url(re.compile(rf"/sessions/{session.uuid}/\?amend=1"))
        expect(page.locator(".msg-success")).to_contain_text("Amendment saved")
        expect(page.locator("#amendments")).to_contain_text("Correcting a wrong value or typing error")
        shot(page, "amend-02-saved-no-js")
    finally:
        context.close()
    assert TreatmentSession.objects.get(pk=session.pk).sedation == "oral"
    assert RecordVersion.objects.filter(record_uuid=session.uuid, action="treatment.session.amended").count() == 1
