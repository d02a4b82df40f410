"""Issue 16's "done when", walked in Chromium once per language (English, Spanish): a new person books a new-patient
assessment on the clinic's public page from a 390 px phone, verifies it with the code from their email, fills the
pre-visit intake, and moves the booking from its manage link; the front desk (desktop) finds them among the online
bookings, compares them side by side with the patient the duplicate check finds and confirms them as a new patient;
the clinician reviews the intake on the chart and accepts every item; the scheduler offers the time the move freed to
a person who joined the waitlist on the public page, who takes it from the offer link on her phone.

The intake link is the booked page's and the manage link the one in the confirmation emailed at once to the person
still pending; the person waiting joins the waitlist on the public page (with her own code) right after the booking,
for the hour it took. Nothing is set up through a service but the clinic's week, settings and one existing patient.
Each step checks the page is in the walk's language and no wider than the phone. Screenshots:
test-artifacts/screenshots/walk-<lang>-*.png.
"""

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import Page, expect

from prolotrack.billing.testing import set_clinic_settings
from prolotrack.booking import services
from prolotrack.booking.models import Appointment, AppointmentKind, AppointmentStatus, PendingPatient, WaitlistEntry
from prolotrack.booking.testing import set_up_week
from prolotrack.clinics.models import Clinic, User
from prolotrack.clinics.testing import actor_of
from prolotrack.intake.models import Intake, IntakeStatus
from prolotrack.messaging.services import run_pass
from prolotrack.patients.models import Condition, Medication, WeightMeasurement
from tests.browser.conftest import fits, log_in, shot
from tests.browser.self_service import emailed_link, fill_intake

pytestmark = pytest.mark.browser

# What the patient's pages say in each language (the catalogue's words), checked at each step.
WORDS = {
    "en": {
        "book": "Book an appointment",
        "details": "Your details",
        "code": "Enter your code",
        "booked": "Your booking is made",
        "appointment": "Your appointment",
        "moved": "Your appointment was moved",
        "offer": "A time has come free",
        "taken": "It is booked",
        "waiting": "You are on the waitlist",
        "assessment": "New-patient assessment",
    },
    "es": {
        "book": "Pedir una cita",
        "details": "Sus datos",
        "code": "Escriba su código",
        "booked": "Su cita está reservada",
        "appointment": "Su cita",
        "moved": "Su cita se cambió de horario",
        "offer": "Se liberó un horario",
        "taken": "Su cita está reservada",
        "waiting": "Está en la lista de espera",
        "assessment": "Evaluación de paciente nuevo",  # the clinic's Spanish name of the type (below)
    },
}
BORN = date(1970, 12, 9)


def _heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_contain_text(text)
    fits(page)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_whole_self_service_walk(
    lang: str,
    contexts: Callable[..., Page],
    admin_user: User,
    clinician: User,
    frontdesk: User,
    clinic: Clinic,
    make_patient: Any,
) -> None:
    words = WORDS[lang]
    types = set_up_week(actor_of(admin_user), [clinician])
    # The administrator named the assessment in Spanish (docs/LANGUAGES.md, "Names the clinic types"): the Spanish walk
    # sees that name on every page and message, the English walk the English name.
    assessment = services.update_appointment_type(
        actor_of(admin_user), types[AppointmentKind.ASSESSMENT], {"names": {"es": WORDS["es"]["assessment"]}},
        expected_version=types[AppointmentKind.ASSESSMENT].version,
    )  # fmt: skip
    other_name = WORDS["en" if lang == "es" else "es"]["assessment"]
    # Online on, nothing today (the first day offered is at least tomorrow, past the waitlist's hold and notice),
    # changes online up to an hour before, messages at any hour.
    set_clinic_settings(
        clinic, online_booking=True, booking_same_day=False, booking_cancel_window_hours=1,
        send_window_start_hour=0, send_window_end_hour=24, contact_phone="(312) 555-0199",
    )  # fmt: skip
    # A patient the duplicate check will show beside the booker (same family name and date of birth: "possible").
    make_patient(given_name="Margaret", family_name="Hopper", date_of_birth=BORN, email="mh@example.org")
    locale = "es-ES" if lang == "es" else "en-US"
    started = datetime.now()

    # 1. The public page on a phone: the type, the first free time, the details, the code from the email.
    phone = contexts(phone=True, locale=locale)
    phone.goto(f"/book/{clinic.slug}/", timeout=60_000)  # the first request imports every app's URLs
    expect(phone.locator("html")).to_have_attribute("lang", lang)
    _heading(phone, words["book"])
    phone.get_by_label(re.compile(words["assessment"])).check()
    phone.locator("form[aria-labelledby=what-h] button[type=submit]").click()
    first = phone.locator(".slot-grid input[name=slot]").first
    first.focus()
    phone.keyboard.press("Space")
    expect(first).to_be_checked()
    booked_at = datetime.fromisoformat((first.get_attribute("value") or "").partition("|")[0])
    shot(phone, f"walk-{lang}-01-time")
    phone.locator("form[aria-labelledby=when-h] button.primary").click()
    _heading(phone, words["details"])
    phone.locator("input[name=given_name]").fill("Grace")
    phone.locator("input[name=family_name]").fill("Hopper")
    phone.locator("input[name=date_of_birth]").fill(BORN.isoformat())
    phone.locator("input[name=email]").fill("grace@example.com")
    phone.locator("main form button.primary").click()
    _heading(phone, words["code"])
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert code is not None and mail.outbox[-1].to == ["grace@example.com"]
    phone.locator("input[name=code]").fill(code.group(1))
    phone.locator("main form button.primary").click()
    _heading(phone, words["booked"])
    expect(phone.locator("main dl.summary")).to_contain_text(words["assessment"])
    expect(phone.locator("main")).not_to_contain_text(other_name)
    shot(phone, f"walk-{lang}-02-booked")
    visit = Appointment.objects.get(pending_patient__isnull=False)
    assert visit.status == AppointmentStatus.BOOKED and visit.starts_at == booked_at
    person = PendingPatient.objects.get(given_name="Grace")
    assert person.status == "pending" and person.preferred_language == lang

    # Another person joins the waitlist on the public page for that very time (the first hour of that day), taken now.
    local = timezone.localtime(booked_at, clinic.tz)
    wait_phone = contexts(phone=True, locale=locale)
    wait_phone.goto(f"/book/{clinic.slug}/waitlist/")
    expect(wait_phone.locator("html")).to_have_attribute("lang", lang)
    wait_phone.get_by_label(re.compile(words["assessment"])).check()
    wait_phone.locator("input[name=first_day]").fill(local.date().isoformat())
    wait_phone.locator("input[name=last_day]").fill(local.date().isoformat())
    wait_phone.locator("input[name=earliest]").fill(f"{local:%H:%M}")
    wait_phone.locator("input[name=latest]").fill(f"{local + timedelta(minutes=assessment.duration_minutes):%H:%M}")
    wait_phone.locator("input[name=given_name]").fill("Wanda")
    wait_phone.locator("input[name=family_name]").fill("Wait")
    wait_phone.locator("input[name=date_of_birth]").fill("1985-03-02")
    wait_phone.locator("input[name=email]").fill("wanda@example.org")
    fits(wait_phone)
    wait_phone.locator("main form button.primary").click()
    wait_code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert wait_code is not None and mail.outbox[-1].to == ["wanda@example.org"]
    wait_phone.locator("input[name=code]").fill(wait_code.group(1))
    wait_phone.locator("main form button.primary").click()
    expect(wait_phone.locator("main")).to_contain_text(words["waiting"])
    fits(wait_phone)
    shot(wait_phone, f"walk-{lang}-02-waitlist-joined")
    assert WaitlistEntry.objects.get().status == "active"

    # 2. The intake, from the booked page's "Fill in your pre-visit form now" (the page also offers the manage link).
    expect(phone.locator("main a[href*='/my-appointment/']")).to_have_count(1)
    phone.locator("main a.button.primary[href*='/intake/']").click()
    phone.wait_for_url("**/intake/**")
    expect(phone.locator("html")).to_have_attribute("lang", lang)
    fill_intake(phone, f"walk-{lang}-03-intake")
    assert Intake.objects.get().status == IntakeStatus.SUBMITTED

    # 3. Move the booking from the manage link of the confirmation emailed at once to the day's last free time: the
    #    first hour of the day is free again.
    manage, _ = emailed_link("grace@example.com", "/my-appointment/")
    phone.goto(manage)
    expect(phone.locator("html")).to_have_attribute("lang", lang)
    _heading(phone, words["appointment"])
    expect(phone.locator("main")).to_contain_text(words["assessment"])
    phone.locator("main a.button.primary").click()  # Move to another time
    last = phone.locator(".slot-grid input[name=slot]").last
    last.check()
    moved_to = datetime.fromisoformat((last.get_attribute("value") or "").partition("|")[0])
    shot(phone, f"walk-{lang}-04-move")
    phone.locator("main form button.primary").click()
    expect(phone.get_by_role("status")).to_contain_text(words["moved"])
    fits(phone)
    shot(phone, f"walk-{lang}-05-moved")
    assert Appointment.objects.get(pk=visit.pk).starts_at == moved_to != booked_at
    patient_done = datetime.now()

    # 4. The front desk confirms the pending person, beside the patient the check finds.
    desk = log_in(contexts(phone=False), frontdesk)
    desk.get_by_role("link", name="Online bookings").click()
    desk.get_by_role("link", name="Hopper, Grace").click()
    compare = desk.locator("table").filter(has_text="Typed online")
    expect(compare).to_contain_text("Margaret Hopper")
    expect(compare).to_contain_text("grace@example.com")
    shot(desk, f"walk-{lang}-06-compare")
    desk.get_by_role("link", name="Confirm as a new patient…").click()
    desk.get_by_label("Female").check()
    desk.get_by_role("button", name="Register").click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Hopper")
    shot(desk, f"walk-{lang}-07-chart")
    grace = PendingPatient.objects.get(given_name="Grace").patient
    assert grace is not None and grace.preferred_language == lang
    assert Appointment.objects.get(pk=visit.pk).patient == grace

    # 5. The clinician reviews the intake on the chart and accepts every item into it.
    doctor = log_in(contexts(phone=False), clinician)
    doctor.goto(desk.url)
    doctor.get_by_role("link", name="Pre-visit intake").click()
    doctor.get_by_role("link", name="Review").click()
    accept = doctor.get_by_role("button", name="Accept into the chart")
    expect(accept.first).to_be_visible()
    shot(doctor, f"walk-{lang}-08-review")
    items = accept.count()
    for left in range(items, 0, -1):
        expect(accept).to_have_count(left)
        accept.first.click()
    expect(accept).to_have_count(0)
    shot(doctor, f"walk-{lang}-09-reviewed")
    assert Intake.objects.get().status == IntakeStatus.REVIEWED
    assert Medication.objects.filter(patient=grace, name__icontains="ibuprofen").exists()
    assert Condition.objects.filter(patient=grace, body_region="knee").exists()
    assert WeightMeasurement.objects.filter(patient=grace).exists()

    # 6. The scheduler offers the freed hour to the patient waiting; she takes it from her phone.
    run_pass(clinics=[clinic])
    offer, email = emailed_link("wanda@example.org", "/waitlist/offer/")
    with translation.override(lang):  # the email's day as her language writes it ("martes, 8 de diciembre de 2026")
        weekday, month = date_format(local, "l"), date_format(local, "F")
    joiner, comma = (" de ", ",") if lang == "es" else (" ", "")
    assert f"{weekday}{comma} {local.day}{joiner}{month}{joiner}{local.year}" in email
    wait_phone.goto(offer)
    expect(wait_phone.locator("html")).to_have_attribute("lang", lang)
    _heading(wait_phone, words["offer"])
    expect(wait_phone.locator("main")).to_contain_text(words["assessment"])
    expect(wait_phone.locator("main")).not_to_contain_text(other_name)
    assert words["assessment"] in email and other_name not in email
    shot(wait_phone, f"walk-{lang}-10-offer")
    wait_phone.locator("button[name=answer][value=accept]").click()
    _heading(wait_phone, words["taken"])
    shot(wait_phone, f"walk-{lang}-11-taken")
    taken = Appointment.objects.get(pending_patient__given_name="Wanda")
    assert taken.status == AppointmentStatus.BOOKED and taken.starts_at == booked_at
    print(f"walk {lang}: patient's part {patient_done - started}, whole {datetime.now() - started}")
