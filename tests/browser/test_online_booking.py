"""A new patient books an assessment on the clinic's public page from a 390 px phone (issue 16, docs/BOOKING.md,
"Online booking"): the type and "first available", a day of free times (the next day reached through the picker,
swapped by HTMX), a time chosen with the keyboard, the details, the code read from the outbox (the email backend),
and the page saying the booking is made, offering the pre-visit form and the manage link (docs/BOOKING.md, "After
the code"); the confirmation email shown at the same width; the form opened from the booked page. Nothing is wider
than the screen at any step."""

import re
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from prolotrack.booking import queries, services
from prolotrack.booking.models import Appointment, PendingPatient
from prolotrack.booking.testing import next_weekday, set_up_week
from prolotrack.clinics.models import Clinic, User
from prolotrack.clinics.testing import actor_of
from tests.browser.conftest import fits, shot

pytestmark = pytest.mark.browser


def test_a_new_patient_books_an_assessment_on_a_phone(
    new_page: Callable[..., Page], admin_user: User, clinician: User, clinic: Clinic
) -> None:
    set_up_week(actor_of(admin_user), [clinician])
    clinic.settings = {**clinic.settings, "online_booking": True}
    clinic.save()
    page = new_page(phone=True)
    page.goto(f"/book/{clinic.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book an appointment")
    expect(page.locator("header.p-top")).to_contain_text(clinic.name)
    fits(page)
    shot(page, "online-booking-01-start")

    page.get_by_label(re.compile("New-patient assessment")).check()
    page.get_by_role("button", name="Show free times").click()
    legend = page.locator("#slot-picker legend")
    first_day = legend.inner_text()
    # The next day through the picker: HTMX swaps the picker only (the page's heading stays), the address follows.
    page.get_by_role("link", name="Next day").click()
    expect(legend).not_to_have_text(first_day)
    assert "day=" in page.url
    fits(page)
    shot(page, "online-booking-02-slots")

    # Keyboard: the first free time, then Continue.
    first_slot = page.locator(".slot-grid input[name=slot]").first
    first_slot.focus()
    page.keyboard.press("Space")
    expect(first_slot).to_be_checked()
    page.get_by_role("button", name="Continue").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your details")

    # A mistake first: no contact given. The message is next to the fields and nothing is held.
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Family name").fill("Hopper")
    page.get_by_label("Date of birth").fill("1970-12-09")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.locator("#contact-error")).to_contain_text("email address or a mobile number")
    assert Appointment.objects.count() == 0
    fits(page)
    shot(page, "online-booking-03-details-error")

    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    fits(page)
    shot(page, "online-booking-04-code")
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert code is not None and mail.outbox[-1].to == ["grace@example.com"]

    page.get_by_label("Code").fill(code.group(1))
    page.get_by_role("button", name="Book").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your booking is made")
    expect(page.get_by_role("status")).to_contain_text("will check your booking and confirm it")
    fits(page)
    form_link = page.get_by_role("link", name="Fill in your pre-visit form now")
    expect(form_link).to_have_attribute("href", re.compile(r"^/intake/[^/]+/$"))
    expect(page.get_by_role("link", name="Move or cancel this booking")).to_have_attribute(
        "href", re.compile(r"^/my-appointment/[^/]+/$")
    )
    expect(page.get_by_text("We have sent these links to your email address")).to_be_visible()
    fits(page)
    shot(page, "online-booking-05-booked")
    made = Appointment.objects.get()
    assert made.status == "booked" and made.source == "online"
    assert PendingPatient.objects.get().status == "pending"

    # The confirmation sent at once: the same two links and the .ics; its HTML part shown at the phone's width.
    confirmation = mail.outbox[-1]
    assert confirmation.to == ["grace@example.com"] and len(mail.outbox) == 2
    href = form_link.get_attribute("href") or ""
    assert href in confirmation.body and "/my-appointment/" in confirmation.body
    assert [a[0] for a in confirmation.attachments] == [
        f"appointment-{made.starts_at.astimezone(clinic.tz):%Y-%m-%d}.ics"
    ]
    email = new_page(phone=True)
    email.set_content(confirmation.alternatives[0][0])
    expect(email.get_by_text("Your booking is made:")).to_be_visible()
    shot(email, "online-booking-06-confirmation-email")
    fits(email)  # the long links wrap (overflow-wrap in messaging/email.html)

    # The form opens from the booked page (the pending person's intake).
    form_link.click()
    expect(page).to_have_url(re.compile(r"/intake/[^/]+/$"))
    fits(page)
    shot(page, "online-booking-07-intake-start")


def test_the_booked_page_and_its_email_in_spanish_on_a_phone(
    new_page: Callable[..., Page], admin_user: User, clinician: User, clinic: Clinic
) -> None:
    types = set_up_week(actor_of(admin_user), [clinician])
    clinic.settings = {**clinic.settings, "online_booking": True, "contact_phone": "+1 312 555 0199"}
    clinic.save()
    kind = types["assessment"]
    # The administrator named the type in Spanish (docs/LANGUAGES.md, "Names the clinic types").
    kind = services.update_appointment_type(
        actor_of(admin_user), kind, {"names": {"es": "Evaluación de paciente nuevo"}}, expected_version=kind.version
    )
    slot = queries.free_slots(clinic, kind, next_weekday(clinic, 1), next_weekday(clinic, 1), online=True)[0]
    page = new_page(phone=True)
    query = urlencode({"type": str(kind.uuid), "slot": f"{slot.start.isoformat()}|{clinician.uuid}", "lang": "es"})
    page.goto(f"/book/{clinic.slug}/details/?{query}")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.locator("#id_given_name").fill("Ana")
    page.locator("#id_family_name").fill("Ruiz")
    page.locator("#id_date_of_birth").fill("1975-03-14")
    page.locator("#id_email").fill("ana@example.com")
    page.locator("form button[type=submit]").last.click()
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert code is not None
    page.locator("#id_code").fill(code.group(1))
    page.locator("form button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Su cita está reservada")
    expect(page.locator("main dl.summary")).to_contain_text("Evaluación de paciente nuevo")
    expect(page.locator("main")).not_to_contain_text("New-patient assessment")
    expect(page.get_by_role("link", name="Conteste ahora su formulario previo a la visita")).to_be_visible()
    expect(page.get_by_role("link", name="Cambiar o cancelar esta cita")).to_be_visible()
    fits(page)
    shot(page, "online-booking-es-05-booked")
    email = new_page(phone=True)
    email.set_content(mail.outbox[-1].alternatives[0][0])
    expect(email.get_by_text("Su cita quedó reservada:")).to_be_visible()
    assert (
        "Evaluación de paciente nuevo" in mail.outbox[-1].body and "New-patient assessment" not in mail.outbox[-1].body
    )
    shot(email, "online-booking-es-06-confirmation-email")
    fits(email)
