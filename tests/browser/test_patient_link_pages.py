"""Pages a patient opens from a link, on a 390 px phone (issue 16, docs/BOOKING.md "Manage links", "Follow-up links"):
the manage page (move with the keyboard, a cancel refused without a reason, then cancelled) and the follow-up booking
page. Nothing is wider than the screen. The intake form's steps and the waitlist offer are walked in
test_self_service_walk.py (English and Spanish). Screenshots in test-artifacts/screenshots/link-*.png."""

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.db import transaction
from playwright.sync_api import Page, expect

from prolotrack.booking import patient_links, services
from prolotrack.booking.models import Appointment, AppointmentKind, AppointmentStatus
from prolotrack.booking.testing import at, next_weekday, set_up_week
from prolotrack.clinics.models import Clinic, User
from prolotrack.clinics.testing import actor_of
from tests.browser.conftest import fits, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def week(admin_user: User, clinician: User, clinic: Clinic) -> dict[str, Any]:
    types = set_up_week(actor_of(admin_user), [clinician])
    clinic.settings = {**clinic.settings, "contact_phone": "(312) 555-0199", "address": "1 River Road, Springfield"}
    clinic.save()
    return types


def _book(frontdesk: User, patient: Any, kind: Any, clinician: User, clock: str = "10:00") -> Appointment:
    day = next_weekday(patient.clinic, 1, at_least=3)
    with transaction.atomic():
        return services.book_appointment(
            actor_of(frontdesk), patient=patient, appointment_type=kind, clinician=clinician,
            starts_at=at(patient.clinic, day, clock),
        )  # fmt: skip


def test_the_manage_page_moves_then_cancels_on_a_phone(
    new_page: Callable[..., Page], frontdesk: User, clinician: User, make_patient: Any, week: Any
) -> None:
    visit = _book(frontdesk, make_patient(email="ada@example.org"), week[AppointmentKind.FOLLOW_UP], clinician)
    _, token = patient_links.issue_manage_link(actor_of(frontdesk), visit)
    page = new_page(phone=True)
    page.goto(f"/my-appointment/{token}/", timeout=60_000)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Follow-up")
    expect(page.locator("main")).to_contain_text("(312) 555-0199")
    fits(page)
    shot(page, "link-manage-1-appointment")

    page.get_by_role("link", name=re.compile("Move to another time")).click()
    fits(page)
    shot(page, "link-manage-2-move")
    slot = page.locator(".slot-grid input[name=slot]").nth(1)
    slot.focus()
    page.keyboard.press("Space")
    expect(slot).to_be_checked()
    chosen = slot.get_attribute("value")
    page.get_by_role("button", name=re.compile("Move")).click()
    fits(page)
    shot(page, "link-manage-3-moved")
    expect(page.get_by_role("status")).to_contain_text("moved")
    assert chosen is not None
    moved = Appointment.objects.get(pk=visit.pk)
    assert moved.starts_at == datetime.fromisoformat(chosen.partition("|")[0]) != visit.starts_at

    page.goto(f"/my-appointment/{token}/cancel/")
    fits(page)
    page.get_by_role("button", name=re.compile("Cancel")).click()
    shot(page, "link-manage-4-cancel-refused")
    page.get_by_label(re.compile("I am unwell")).check()
    page.get_by_role("button", name=re.compile("Cancel")).click()
    fits(page)
    shot(page, "link-manage-5-cancelled")
    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.CANCELLED


def test_the_follow_up_link_books_on_a_phone(
    new_page: Callable[..., Page], frontdesk: User, make_patient: Any, week: Any
) -> None:
    patient = make_patient(email="ada@example.org")
    _, token = patient_links.create_follow_up_link(
        actor_of(frontdesk), patient, appointment_type=week[AppointmentKind.FOLLOW_UP]
    )
    page = new_page(phone=True)
    page.goto(f"/follow-up/{token}/", timeout=60_000)
    fits(page)
    shot(page, "link-follow-up-1")
    page.locator(".slot-grid input[name=slot]").first.check()
    page.locator("main form button[type=submit]").last.click()
    fits(page)
    shot(page, "link-follow-up-2-booked")
    assert Appointment.objects.filter(patient=patient, source="link", status="booked").count() == 1
