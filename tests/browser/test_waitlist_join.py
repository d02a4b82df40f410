"""A person joins the waitlist from the public booking page on a 390 px phone (issue 16, docs/BOOKING.md, "Joining
the waitlist by oneself"): the way there from the free times, a refused form with the message by its field and
nothing written, the code read from the email backend, the page saying they are on the waitlist, their own link,
and leaving from it; then the same form in Spanish. Nothing is wider than the screen at any step."""

import re
from collections.abc import Callable

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from prolotrack.booking.models import WaitlistEntry
from prolotrack.booking.testing import set_up_week
from prolotrack.clinics.models import Clinic, User
from prolotrack.clinics.testing import actor_of
from tests.browser.conftest import fits, shot

pytestmark = pytest.mark.browser


def test_joining_the_waitlist_on_a_phone_in_english_and_spanish(
    new_page: Callable[..., Page], admin_user: User, clinician: User, clinic: Clinic
) -> None:
    set_up_week(actor_of(admin_user), [clinician])
    clinic.settings = {**clinic.settings, "online_booking": True}
    clinic.save()
    page = new_page(phone=True)
    page.goto(f"/book/{clinic.slug}/")
    page.get_by_role("link", name="Join the waitlist").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Join the waitlist")
    shot(page, "waitlist-join-01-form")
    fits(page)

    page.get_by_label(re.compile("Follow-up 30")).check()
    page.get_by_label("Monday").check()
    page.get_by_label("Wednesday").check()
    page.get_by_label("Finished by").fill("12:00")
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Family name").fill("Hopper")
    page.get_by_label("Date of birth").fill("1970-12-09")
    page.get_by_role("button", name="Send me a code").click()  # no contact given
    expect(page.locator("#contact-error")).to_contain_text("email address or a mobile number")
    assert WaitlistEntry.objects.count() == 0
    fits(page)
    shot(page, "waitlist-join-02-error")

    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert code is not None
    page.get_by_label("Code").fill(code.group(1))
    page.get_by_role("button", name="Join the waitlist").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are on the waitlist")
    fits(page)
    shot(page, "waitlist-join-03-joined")
    entry = WaitlistEntry.objects.get()
    assert (entry.status, entry.weekdays, entry.source) == ("active", "02", "online")

    page.get_by_role("link", name="See or leave the waitlist").click()
    page.get_by_role("button", name="Leave the waitlist").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are not on the waitlist")
    entry.refresh_from_db()
    assert entry.status == "withdrawn"

    spanish = new_page(phone=True)
    spanish.goto(f"/book/{clinic.slug}/waitlist/?lang=es")
    expect(spanish.get_by_role("heading", level=1)).to_have_text("Unirse a la lista de espera")
    expect(spanish.get_by_label("miércoles")).to_be_visible()
    fits(spanish)
    shot(spanish, "waitlist-join-04-form-es")
