"""Staff booking on a phone-sized screen (issue 16, docs/BOOKING.md): the front desk finds the patient, picks a free
slot with the keyboard and books; the appointment is on the calendar; nothing is wider than the 390 px screen."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from prolotrack.booking.models import Appointment
from prolotrack.booking.testing import next_weekday, set_up_week
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.patients.models import Patient
from tests.browser.conftest import fits, log_in, shot

pytestmark = pytest.mark.browser


def test_front_desk_books_a_follow_up_on_a_phone(
    new_page: Callable[..., Page], admin_user: User, frontdesk: User, clinician: User, patient: Patient
) -> None:
    set_up_week(actor_of(admin_user), [clinician])
    day = next_weekday(patient.clinic, 1)
    page = new_page(phone=True)
    log_in(page, frontdesk)
    page.goto(f"/booking/book/?date={day.isoformat()}")
    page.get_by_label("Type").select_option(label="Follow-up (30 min)")
    page.get_by_label("Patient").fill("Lovelace")
    page.get_by_label("Patient").press("Enter")
    expect(page.get_by_text("Lovelace, Ada")).to_be_visible()
    fits(page)
    shot(page, "booking-01-phone-slots")

    # Keyboard only: the patient's radio, then the first slot, then the Book button.
    page.get_by_role("radio", name=re.compile("Lovelace, Ada")).focus()
    page.keyboard.press("Space")
    first_slot = page.locator(".slot-grid input[name=slot]").first
    first_slot.focus()
    page.keyboard.press("Space")
    expect(first_slot).to_be_checked()
    page.get_by_role("button", name="Book", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Follow-up")
    expect(page.locator(".messages")).to_contain_text("booked for Lovelace, Ada")
    fits(page)
    shot(page, "booking-02-phone-booked")
    made = Appointment.objects.get()

    page.goto(f"/calendar/?view=day&date={day.isoformat()}")
    expect(page.locator(f"a[href='/appointments/{made.uuid}/']")).to_contain_text("Follow-up")
    shot(page, "booking-03-phone-calendar")
