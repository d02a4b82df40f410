"""Reminders as the clinic sees them: the outbox with filters and full texts, a patient's message choices on the
chart, and a clinician's calendar feed created once and read by a calendar client."""

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import Page, expect

from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.messaging import services
from prolotrack.messaging.models import MessageStatus, OutboxMessage
from prolotrack.patients.models import Patient
from prolotrack.treatment import services as treatment_services
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def reminders(clinician: User, make_patient: Any, monkeypatch: Any) -> Patient:
    """A patient booked five days from now: instructions sent today, NSAID and appointment reminders planned; a
    second patient's SMS failed (the provider was down)."""
    monkeypatch.setattr("prolotrack.messaging.services._awaiting_timepoints", lambda clinic, today: [])
    patients = [
        make_patient(email="ada@example.org", phone="(312) 555-0101"),
        make_patient(given_name="Grace", family_name="Hopper", email="grace@example.org", phone="(312) 555-0102"),
    ]
    clinic = patients[0].clinic
    today = timezone.localdate(timezone=clinic.tz)
    for offset, patient in zip((5, 3), patients, strict=True):
        course = treatment_services.create_course(
            actor_of(clinician), patient, protocol_id="knee_oa_rabago", indication="Knee osteoarthritis",
            region="knee", side="right", start_on=today + timedelta(days=offset), clinician=clinician,
        )  # fmt: skip
        with transaction.atomic():
            treatment_services.book_session(
                actor_of(clinician),
                course.sessions.get(number=1),
                starts_at=datetime.combine(today + timedelta(days=offset), time(9, 30), tzinfo=clinic.tz),
                clinician=clinician,
            )
    with override_settings(PROLOTRACK_SMS_BACKEND="prolotrack.messaging.backends.FailingSMSBackend"):
        services.run_pass(now=datetime.combine(today, time(10, 0), tzinfo=clinic.tz))  # inside the sending window
    return patients[0]


def test_the_front_desk_reads_the_outbox_filters_it_and_opens_a_message(
    page: Page, frontdesk: User, reminders: Patient
) -> None:
    log_in(page, frontdesk)
    page.goto("/outbox/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Outbox")
    rows = page.locator("table.table tbody tr")
    expect(rows).to_have_count(OutboxMessage.objects.count())
    expect(page.locator(".msg-status.failed").first).to_be_visible()
    shot(page, "outbox-01-all")

    page.get_by_label("Status").select_option("sent")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(OutboxMessage.objects.filter(status=MessageStatus.SENT).count())
    shot(page, "outbox-02-sent")

    page.get_by_role("link", name="Pre-procedure instructions").first.click()
    expect(page.locator("pre.msg-body")).to_contain_text("Have a light meal before you come")
    expect(page.locator("main")).to_contain_text("Sent")
    shot(page, "outbox-03-message")

    page.goto("/outbox/?status=failed")
    page.get_by_role("link", name="NSAID stop reminder").first.click()
    expect(page.locator("main")).to_contain_text("SMS provider unavailable")
    shot(page, "outbox-04-failed-sms")


def test_opting_a_patient_out_on_the_chart_skips_that_reminder(page: Page, frontdesk: User, reminders: Patient) -> None:
    log_in(page, frontdesk)
    page.goto(f"/patients/{reminders.uuid}/")
    card = page.locator("#reminders")
    expect(card.locator("li")).to_have_count(OutboxMessage.objects.filter(patient=reminders).count())
    shot(page, "outbox-05-chart-card")

    card.get_by_role("link", name="Message choices").click()
    page.get_by_label("No appointment reminder by sms").check()
    shot(page, "outbox-06-choices")
    page.get_by_role("button", name="Save choices").click()
    expect(page.locator("#reminders")).to_contain_text("Opted out: Appointment reminder by SMS")

    # On the reminder's day the scheduler records it as skipped instead of sending it.
    clinic = reminders.clinic
    day = timezone.localdate(timezone=clinic.tz) + timedelta(days=3)
    services.run_pass(now=datetime.combine(day, time(8, 0), tzinfo=clinic.tz), clinics=[clinic])
    page.reload()
    expect(page.locator("#reminders")).to_contain_text("Skipped: patient opted out")
    shot(page, "outbox-07-skipped")


def test_a_clinician_creates_a_calendar_feed_once_and_a_calendar_reads_it(
    page: Page, clinician: User, reminders: Patient, live_server: Any, settings: Any
) -> None:
    # Feed addresses are built from the one site address (PROLOTRACK_SITE_URL): here, the test server's.
    settings.PROLOTRACK_SITE_URL = live_server.url
    log_in(page, clinician)
    page.goto("/account/calendar-feed/")
    page.get_by_role("button", name="Create my feed address").click()
    url = page.locator("#feed-url").inner_text().strip()
    assert url.startswith(f"{live_server.url}/calendar/feed/")
    shot(page, "outbox-08-feed-created")

    response = page.request.get(url)
    assert response.status == 200 and response.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(response.body()).walk("VEVENT")
    assert sorted(str(e["summary"]) for e in events) == [
        "Prolotherapy session 1: Ada L.",
        "Prolotherapy session 1: Grace H.",
    ]

    page.goto("/account/calendar-feed/")
    expect(page.locator("#feed-url")).to_have_count(0)  # shown once only
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("main")).to_contain_text("You have no calendar feed")
    assert page.request.get(url).status == 404
    shot(page, "outbox-09-feed-revoked")
