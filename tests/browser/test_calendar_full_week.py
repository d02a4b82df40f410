"""A full week on the calendar, in Chromium: three clinicians' sessions side by side every weekday, and one day
over the week's cap (present.DAY_CAP, lowered here so a test can fill it), which the week does not draw: its column
and a notice above the week say how many it holds, and the notice's link opens the day, which lists every one.
Screenshots test-artifacts/screenshots/calendar-full-*.png."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from playwright.sync_api import Page, expect

from prolotrack.clinics.models import Clinic, User
from prolotrack.clinics.testing import actor_of
from prolotrack.treatment import present, services
from tests.browser.conftest import fits, log_in, shot

pytestmark = pytest.mark.browser

MONDAY = date(2026, 11, 2)
SURNAMES = ("Okafor", "Lindqvist", "Moreau", "Tanaka", "Novak", "Haddad", "Silva", "Byrne", "Kowalski", "Reyes")


def _book(clinic: Clinic, who: User, patient: Any, when: datetime) -> Any:
    course = services.create_course(
        actor_of(who), patient, protocol_id="", indication="Lateral epicondylosis", region="elbow", side="right",
        start_on=when.date(), clinician=who,
    )  # fmt: skip
    return services.book_session(actor_of(who), course.sessions.get(), starts_at=when, clinician=who)


def test_a_full_week_draws_what_fits_and_says_what_it_does_not(
    new_page: Callable[..., Page],
    clinician: User,
    make_member: Callable[..., User],
    clinic: Clinic,
    make_patient: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(present, "DAY_CAP", 15)
    staff = [clinician, make_member("dr_osei", "clinician", clinic), make_member("dr_varga", "clinician", clinic)]
    made = 0
    with transaction.atomic():
        for day in range(5):
            # Each clinician's day of 45-minute sessions from 08:00 (bench/README.md's working week), a few free
            # slots left; Wednesday holds 18 in all, more than the cap of 15.
            for k, who in enumerate(staff):
                for slot in range(6 if day == 2 else 4):
                    start = datetime.combine(MONDAY + timedelta(days=day), datetime.min.time(), tzinfo=clinic.tz)
                    when = start + timedelta(hours=8, minutes=45 * (2 * slot + k % 2))
                    patient = make_patient(family_name=SURNAMES[made % len(SURNAMES)], given_name=f"P{made}")
                    _book(clinic, who, patient, when)
                    made += 1
    page = log_in(new_page(), clinician)
    page.set_viewport_size({"width": 1366, "height": 1100})
    page.goto(f"/calendar/?view=week&date={MONDAY:%Y-%m-%d}")
    notice = page.locator(".day-full-notice")
    expect(notice).to_contain_text("Not every appointment of this week is drawn.")
    expect(notice).to_contain_text("One day holds more than 15 appointments")
    wednesday = page.locator('.day-col[data-day="2026-11-04"]')
    expect(wednesday.locator(".day-full")).to_contain_text("18 appointments")
    assert wednesday.locator("a.appt").count() == 0
    assert page.locator("a.appt").count() == made - 18  # every other day drawn in full
    expect(page.locator("main")).to_contain_text(f"{made} appointments")
    shot(page, "calendar-full-week")

    notice.get_by_role("link", name="Wednesday 4 Nov (18)").click()
    expect(page.locator("h1")).to_contain_text("Wednesday 4 Nov 2026")
    assert page.locator(".appt-list a.appt").count() == 18
    expect(page.locator(".day-full-notice")).to_have_count(0)
    shot(page, "calendar-full-day")

    # A day past the day view's own cap (present.DAY_LIST_CAP, lowered too) is shown by clinician: a line each with
    # the count and the first and last start, nobody left out; a clinician's link opens their whole day.
    monkeypatch.setattr(present, "DAY_LIST_CAP", 10)
    page.reload()
    table = page.locator("table.by-clinician")
    expect(page.locator(".day-by-clinician")).to_contain_text("This day holds 18 appointments, more than 10")
    assert table.locator("tbody tr").count() == 3
    assert [int(n) for n in table.locator("td.num").all_text_contents()] == [6, 6, 6]
    assert page.locator(".appt-list a.appt").count() == 0
    expect(page.locator(".day-list")).to_contain_text("every appointment of the day is with a clinician above")
    shot(page, "calendar-day-by-clinician")
    page.set_viewport_size({"width": 390, "height": 844})
    fits(page)
    shot(page, "calendar-day-by-clinician-phone")
    table.get_by_role("link", name="Dr_Osei").click()
    expect(page.locator("#cal-clinician")).to_have_value("dr_osei")
    assert page.locator(".appt-list a.appt").count() == 6
    expect(page.locator(".day-by-clinician")).to_have_count(0)
