"""A course's "book your next session" link on a 390 px phone, in English and in Spanish (the patient's preferred
language; docs/BOOKING.md "Course links"): the page names the session (N of M) and the region, offers the free times
of the first day the plan allows, books with the keyboard and says so; the same link opened again is the session's
page, which moves it to another free time and cancels it with a reason. Nothing is wider than the screen. Screenshots in
test-artifacts/screenshots/course-link-<lang>-*.png."""

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from prolotrack.booking import course_links
from prolotrack.booking.testing import course_with_a_session_done, set_up_week
from prolotrack.clinics.models import Clinic, User
from prolotrack.clinics.testing import actor_of
from prolotrack.treatment.models import SessionStatus
from tests.browser.conftest import fits, shot

pytestmark = pytest.mark.browser

WORDS = {
    "en": ("Book your next session", "Prolotherapy session 2 of 5", "Right", "Your session is booked"),
    "es": ("Reserve su próxima sesión", "Sesión de proloterapia 2 de 5", "Derecho", "Su sesión está reservada"),
}
MANAGE = {
    "en": ("Your session", "Cancel this session", "I am unwell", "Your session is cancelled"),
    "es": ("Su sesión", "Cancelar esta sesión", "Estoy enfermo/a", "Su sesión está cancelada"),
}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_course_link_books_the_next_session_on_a_phone(
    new_page: Callable[..., Page], lang: str, admin_user: User, clinician: User, frontdesk: User, clinic: Clinic,
    make_patient: Any,
) -> None:  # fmt: skip
    set_up_week(actor_of(admin_user), [clinician])
    clinic.settings = {**clinic.settings, "contact_phone": "(312) 555-0199", "address": "1 River Road, Springfield"}
    clinic.save()
    today = timezone.localdate(timezone=clinic.tz)
    tuesday_ago = (today.weekday() - 1) % 7 + 7  # session 1 on a Tuesday: the window opens on a Tuesday
    patient = make_patient(email="ada@example.org", preferred_language=lang)
    course = course_with_a_session_done(clinician, patient, days_ago=tuesday_ago)
    _link, token = course_links.create_course_link(actor_of(frontdesk), course)
    heading, session, region, booked = WORDS[lang]  # region: the side row

    page = new_page(phone=True)
    page.goto(f"/course-link/{token}/", timeout=60_000)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert page.locator("html").get_attribute("lang") == lang
    main = page.locator("main")
    expect(main).to_contain_text(session)
    expect(main).to_contain_text(region)
    expect(main).to_contain_text("Knee" if lang == "en" else "Rodilla")
    assert "Ada" not in main.inner_text() and "Lovelace" not in main.inner_text()
    fits(page)
    shot(page, f"course-link-{lang}-1-page")

    slot = page.locator(".slot-grid input[name=slot]").first
    slot.focus()
    page.keyboard.press("Space")
    expect(slot).to_be_checked()
    chosen = slot.get_attribute("value")
    page.get_by_role("button", name=re.compile("Book this time|Reservar este horario")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(booked)
    fits(page)
    shot(page, f"course-link-{lang}-2-booked")
    assert chosen is not None
    second = course.sessions.get(number=2)
    assert second.status == SessionStatus.BOOKED
    assert second.starts_at == datetime.fromisoformat(chosen.partition("|")[0])

    # The same link again: the session's page, which cancels it with a reason.
    mine, cancel, reason, cancelled = MANAGE[lang]
    page.goto(f"/course-link/{token}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(mine)
    fits(page)
    shot(page, f"course-link-{lang}-3-session")
    page.get_by_role("link", name=re.compile("Move to another time|Cambiar a otro horario")).click()
    fits(page)
    shot(page, f"course-link-{lang}-3a-move")
    other = page.locator(".slot-grid input[name=slot]").first
    other.focus()
    page.keyboard.press("Space")
    moved_to = other.get_attribute("value")
    page.get_by_role("button", name=re.compile("Move to this time|Cambiar a este horario")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(mine)
    expect(page.get_by_role("status")).to_be_visible()
    second.refresh_from_db()
    assert moved_to is not None and second.starts_at == datetime.fromisoformat(moved_to.partition("|")[0])
    page.get_by_role("link", name=cancel).click()
    page.get_by_label(reason).check()
    page.get_by_role("button", name=cancel).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(cancelled)
    fits(page)
    shot(page, f"course-link-{lang}-4-cancelled")
    second.refresh_from_db()
    assert second.status == SessionStatus.CANCELLED
