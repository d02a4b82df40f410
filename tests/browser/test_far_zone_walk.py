"""The patient's pages walked as a new person would, on a 390 px phone, in English and Spanish, for a clinic in
Pacific/Auckland (13 hours from UTC, a day ahead of it in the evening): the public booking page, the code, the booked
page, the intake's first step, the manage link, the waitlist join and the course link, every optional field left
empty, and bad input on each form (each refused next to its field, nothing written). Screenshots:
test-artifacts/screenshots/far-<lang>-*.png."""

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from prolotrack.billing.testing import set_clinic_settings
from prolotrack.booking import course_links
from prolotrack.booking.models import Appointment, PendingPatient, WaitlistEntry
from prolotrack.booking.testing import course_with_a_session_done, set_up_week
from prolotrack.clinics.models import Clinic, User
from prolotrack.clinics.testing import actor_of
from prolotrack.treatment.models import SessionStatus
from tests.browser.conftest import fits, log_in, shot
from tests.browser.self_service import emailed_link

pytestmark = pytest.mark.browser

ZONE = "Pacific/Auckland"
DAY = {
    "en": re.compile(r"^[A-Z][a-z]+day \d{1,2} [A-Z][a-z]+ \d{4}$"),
    "es": re.compile(r"^[a-zé]+, \d{1,2} de [a-z]+ de \d{4}$"),
}
CANCELLED = {"en": "Your session is cancelled", "es": "Su sesión está cancelada"}


@pytest.fixture
def phone(contexts: Callable[..., Page]) -> Callable[[str], Page]:
    """A phone in that language, set to London's time: the pages must say the clinic's."""
    return lambda locale: contexts(phone=True, locale=locale, timezone_id="Europe/London")


def _look(page: Page, name: str) -> None:
    fits(page)
    shot(page, name)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_new_person_in_a_far_zone_on_a_phone(
    lang: str, phone: Callable[[str], Page], admin_user: User, clinician: User, frontdesk: User, clinic: Clinic,
    make_patient: Any,
) -> None:  # fmt: skip
    clinic.timezone = ZONE
    clinic.save()
    set_up_week(actor_of(admin_user), [clinician])
    set_clinic_settings(
        clinic, online_booking=True, booking_same_day=False, booking_cancel_window_hours=1,
        send_window_start_hour=0, send_window_end_hour=24,
    )  # fmt: skip
    locale = "es-ES" if lang == "es" else "en-US"
    name = f"far-{lang}"

    # 1. The public page: the type, the picker, the details (only what is required), the code.
    page = phone(locale)
    page.goto(f"/book/{clinic.slug}/", timeout=60_000)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    _look(page, f"{name}-01-start")
    page.get_by_label(re.compile("New-patient assessment")).check()
    page.locator("form[aria-labelledby=what-h] button[type=submit]").click()
    expect(page.locator(".slot-grid input[name=slot]").first).to_be_visible()
    _look(page, f"{name}-02-picker")
    # The day in the language's own words ("miércoles, 9 de diciembre de 2026"), each time the clinic's clock.
    expect(page.locator("#slot-picker-day")).to_have_text(DAY[lang])
    first = page.locator(".slot-grid label").first
    start = datetime.fromisoformat((first.locator("input").get_attribute("value") or "").partition("|")[0])
    assert first.inner_text().strip() == f"{timezone.localtime(start, clinic.tz):%H:%M}"
    page.locator(".slot-grid input[name=slot]").first.check()
    page.locator("form[aria-labelledby=when-h] button.primary").click()
    page.locator("main form button.primary").click()  # nothing typed
    _look(page, f"{name}-03-details-empty")
    for field in ("given_name", "family_name", "date_of_birth"):
        expect(page.locator(f"#{field}-error")).to_be_visible()
    assert not PendingPatient.objects.exists()
    page.locator("input[name=given_name]").fill("Grace")
    page.locator("input[name=family_name]").fill("Hopper")
    page.locator("input[name=date_of_birth]").fill("2099-01-01")
    page.locator("input[name=email]").fill("not-an-address")
    page.locator("main form button.primary").click()
    _look(page, f"{name}-04-details-bad")
    assert not PendingPatient.objects.exists()
    page.locator("input[name=date_of_birth]").fill("1970-12-09")
    page.locator("input[name=email]").fill("grace@example.com")
    page.locator("main form button.primary").click()
    expect(page.locator("input[name=code]")).to_be_visible()
    page.locator("input[name=code]").fill("000000")
    page.locator("main form button.primary").click()
    _look(page, f"{name}-05-code-wrong")
    expect(page.locator(".field.has-error #id_code + #code-error")).to_be_visible()  # under the field it is about
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert code is not None
    page.locator("input[name=code]").fill(code.group(1))
    page.locator("main form button.primary").click()
    expect(page.locator("main a[href*='/my-appointment/']")).to_have_count(1)
    _look(page, f"{name}-06-booked")

    # 2. The intake's start and its first step sent empty.
    page.locator("main a.button.primary[href*='/intake/']").click()
    page.wait_for_url("**/intake/**")
    _look(page, f"{name}-07-intake-start")
    page.locator("main a.button.primary").click()
    page.locator("button[name=action][value=next]").click()
    _look(page, f"{name}-08-intake-empty")
    if lang == "es":
        assert "Not answered" not in page.locator("main").inner_text()  # the slider's words, in Spanish too

    # 3. The manage link: its page, the cancel form sent without a reason.
    page.goto(emailed_link("grace@example.com", "/my-appointment/")[0])
    _look(page, f"{name}-09-manage")
    page.locator("main a[href$='/cancel/']").click()
    page.locator("main form button.primary").click()
    _look(page, f"{name}-10-manage-cancel-empty")
    assert Appointment.objects.get(pending_patient__isnull=False).status == "booked"

    # 4. The waitlist join: a window that ends before it starts, then nothing optional.
    wait = phone(locale)
    wait.goto(f"/book/{clinic.slug}/waitlist/")
    _look(wait, f"{name}-11-waitlist")
    earliest, latest = (wait.locator(f"input[name={n}]").bounding_box() for n in ("earliest", "latest"))
    assert earliest and latest and abs(earliest["y"] - latest["y"]) < 1  # level, whichever label wraps
    wait.get_by_label(re.compile("New-patient assessment")).check()
    today = timezone.localdate(timezone=clinic.tz)
    wait.locator("input[name=first_day]").fill(today.replace(year=today.year + 1).isoformat())
    wait.locator("input[name=last_day]").fill(today.isoformat())
    wait.locator("main form button.primary").click()
    _look(wait, f"{name}-12-waitlist-bad")
    assert not WaitlistEntry.objects.exists()

    # 5. The course link of a patient of the clinic: book, see, cancel with no reason, cancel.
    patient = make_patient(email="ada@example.org", preferred_language=lang)
    course = course_with_a_session_done(clinician, patient, days_ago=27)
    _link, token = course_links.create_course_link(actor_of(frontdesk), course)
    ada = phone(locale)
    ada.goto(f"/course-link/{token}/")
    _look(ada, f"{name}-13-course")
    ada.locator("main form button.primary").click()  # no time chosen
    _look(ada, f"{name}-14-course-no-time")
    ada.locator(".slot-grid input[name=slot]").first.check()
    ada.locator("main form button.primary").click()
    _look(ada, f"{name}-15-course-booked")
    ada.goto(f"/course-link/{token}/")
    _look(ada, f"{name}-16-course-session")
    ada.locator("main a[href$='/cancel/']").click()
    ada.locator("main form button.primary").click()
    _look(ada, f"{name}-17-course-cancel-empty")
    assert course.sessions.get(number=2).status == SessionStatus.BOOKED
    ada.locator("input[name=reason]").first.check()
    ada.locator("main form button.primary").click()
    _look(ada, f"{name}-18-course-cancelled")
    expect(ada.get_by_role("heading", level=1)).to_have_text(CANCELLED[lang])


def test_the_front_desk_of_a_far_clinic_books_and_sees_its_times(
    new_page: Callable[..., Page], admin_user: User, clinician: User, frontdesk: User, clinic: Clinic,
    make_patient: Any,
) -> None:  # fmt: skip
    """The front desk (desktop) of the Auckland clinic: the booking page with nothing chosen, then a booking with the
    optional note left empty, the appointment's page, its cancel form sent without a reason, the online bookings and
    the waitlist. Every time is the clinic's; each refusal says what is missing."""
    clinic.timezone = ZONE
    clinic.save()
    set_up_week(actor_of(admin_user), [clinician])
    patient = make_patient(given_name="Ada", family_name="Lovelace")
    desk = log_in(new_page(), frontdesk)
    desk.goto(f"/booking/book/?patient={patient.uuid}")
    _look(desk, "far-desk-01-book")
    desk.locator("form[aria-labelledby=slots-h] button[type=submit]").click()  # no slot chosen
    _look(desk, "far-desk-02-book-nothing")
    expect(desk.get_by_role("alert")).to_have_text("Choose one of the free slots: nothing was booked.")
    assert not Appointment.objects.exists()
    slot = desk.locator(".slot-grid input[name=slot]").first
    slot.check()
    start = datetime.fromisoformat((slot.get_attribute("value") or "").partition("|")[0])
    desk.locator("form[aria-labelledby=slots-h] button[type=submit]").click()
    _look(desk, "far-desk-03-booked")
    visit = Appointment.objects.get()
    assert visit.starts_at == start
    desk.goto(f"/appointments/{visit.uuid}/")
    _look(desk, "far-desk-04-appointment")
    expect(desk.locator("main")).to_contain_text(f"{timezone.localtime(start, clinic.tz):%H:%M}")
    desk.goto(f"/appointments/{visit.uuid}/cancel/")
    desk.locator("main form button[type=submit]").last.click()
    _look(desk, "far-desk-05-cancel-empty")
    expect(desk.locator("main")).to_contain_text("Choose a reason from the list.")
    visit.refresh_from_db()
    assert visit.status == "booked"
    desk.goto("/booking/pending/")
    _look(desk, "far-desk-06-pending")
    desk.goto("/booking/waitlist/")
    _look(desk, "far-desk-07-waitlist")
    desk.goto("/booking/waitlist/add/")
    desk.locator("main form button[type=submit]").last.click()
    _look(desk, "far-desk-08-waitlist-add-empty")
    expect(desk.locator("main")).to_contain_text("Choose the last day.")
