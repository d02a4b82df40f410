# ruff: noqa: F811 - the fixtures are test_booked_online's, imported by name
"""Messages to a person still pending (docs/BOOKING.md, "After the code"; messaging/booked_online.py): the
confirmation sent at once is retried by the scheduler's pass when it failed (bounded, audited, with fresh links made
with the earlier ones revoked), the reminder goes to the verified contact on the usual day in their language with the
manage link, and the front desk's list of online bookings says where each message stands."""

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from prolotrack.audit.models import AuditEvent
from prolotrack.booking import pending
from prolotrack.booking.models import Appointment, AppointmentKind, ManageLink, PendingPatient
from prolotrack.clinics.testing import actor_of
from prolotrack.domain import reminders as rules
from prolotrack.intake.models import IntakeLink
from prolotrack.messaging import appointments, booked_online, immediate, services
from prolotrack.messaging.models import MessageStatus, OutboxMessage, PendingMessage, PendingMessageKind
from prolotrack.messaging.tests.test_booked_online import (  # noqa: F401 - the fixtures
    _fresh_limits,
    book_on_page,
    day,
    hold_on_page,
    open_clinic,
    paths,
    types,
)

pytestmark = pytest.mark.django_db


def in_window(clinic: Any, after: datetime) -> datetime:
    """`after`, or the next noon in the clinic's zone when `after` is outside the sending window (08:00-20:00)."""
    local = timezone.localtime(after, clinic.tz)
    if 8 <= local.hour < 19:
        return after
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    return noon + timedelta(days=1) if local.hour >= 19 else noon


def live_manage_links() -> int:
    return sum(1 for link in ManageLink.objects.all() if link.state() == "open")


def broken(*args: Any, **kwargs: Any) -> None:
    raise ConnectionError("mail server down")


def test_a_failed_confirmation_is_retried_with_fresh_links_the_first_ones_revoked(
    client: Client, open_clinic: Any, types: Any, clinician: Any, day: Any, monkeypatch: Any, login: Any, frontdesk: Any
) -> None:
    real_send = immediate.send_now
    code = hold_on_page(
        client, open_clinic, types, clinician, day, AppointmentKind.ASSESSMENT, "en", email="grace@example.com"
    )
    monkeypatch.setattr(immediate, "send_now", broken)
    page = client.post(f"/book/{open_clinic.slug}/code/", {"code": code}).content.decode()
    first_intake, first_manage = paths(page)
    row = PendingMessage.objects.get()
    assert (row.kind, row.status, row.attempts, row.channel) == ("confirmation", MessageStatus.FAILED, 1, "email")
    assert row.error == "ConnectionError" and row.next_attempt_at is not None
    listed = login(frontdesk).get("/booking/pending/").content.decode()
    assert "Confirmation by email: failed (ConnectionError), try 2 of 5" in listed

    monkeypatch.setattr(immediate, "send_now", real_send)
    sent_before = len(mail.outbox)
    now = in_window(open_clinic, row.next_attempt_at + timedelta(minutes=1))
    report = services.run_pass(now=now, clinics=[open_clinic])
    row.refresh_from_db()
    assert report.sent >= 1 and (row.status, row.attempts) == (MessageStatus.SENT, 2)
    assert len(mail.outbox) == sent_before + 1
    body = mail.outbox[-1].body
    new_manage = re.search(r"/my-appointment/[^\s/]+/", body)
    new_intake = re.search(r"/intake/[^\s/]+/", body)
    assert new_manage and new_intake and new_manage.group(0) != first_manage and new_intake.group(0) != first_intake
    # One link of each works at a time: the page's first ones were revoked when the new ones were made.
    assert live_manage_links() == 1 and Client().get(first_manage).status_code == 410
    assert IntakeLink.objects.filter(revoked_at__isnull=True).count() == 1
    assert Client().get(new_manage.group(0)).status_code == 200
    actions = list(AuditEvent.objects.filter(record_uuid=row.uuid).order_by("id").values_list("action", flat=True))
    assert actions == [
        "messaging.pending_message.recorded",
        "messaging.pending_message.attempted",
        "messaging.pending_message.sent",
    ]
    assert "grace@example.com" not in str(list(AuditEvent.objects.values_list("detail", flat=True)))
    # The booked page opened again no longer offers the revoked links (the new message has the working ones).
    again = client.get(f"/book/{open_clinic.slug}/code/").content.decode()
    assert first_manage not in again and "Your booking is made" in again
    listed = login(frontdesk).get("/booking/pending/").content.decode()
    assert "Confirmation by email: sent" in listed


def test_the_retries_are_bounded(
    client: Client, open_clinic: Any, types: Any, clinician: Any, day: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(booked_online.immediate, "send_now", broken)
    code = hold_on_page(
        client, open_clinic, types, clinician, day, AppointmentKind.FOLLOW_UP, "en", email="grace@example.com"
    )
    client.post(f"/book/{open_clinic.slug}/code/", {"code": code})
    row = PendingMessage.objects.get()
    while row.next_attempt_at is not None:
        booked_online.send_due(open_clinic, in_window(open_clinic, row.next_attempt_at + timedelta(minutes=1)))
        row.refresh_from_db()
    assert row.attempts == rules.MAX_ATTEMPTS and row.status == MessageStatus.FAILED and "gave up" in row.error
    assert live_manage_links() == 1  # every try revoked the link before it
    assert (
        "not sent (ConnectionError (gave up after 5 tries)); please call the person"
        in booked_online.states([row.appointment_id])[row.appointment_id][0]
    )


def test_a_pending_person_gets_the_reminder_in_their_language_with_the_manage_link(
    client: Client, open_clinic: Any, types: Any, clinician: Any, day: Any
) -> None:
    book_on_page(client, open_clinic, types, clinician, day, kind=AppointmentKind.FOLLOW_UP, language="es")
    visit = Appointment.objects.get()
    due = appointments.reminder_day(visit)
    noon = datetime.combine(due, datetime.min.time(), tzinfo=open_clinic.tz).replace(hour=12)
    services.run_pass(now=noon - timedelta(days=1), clinics=[open_clinic])  # planned, not due yet
    reminder = PendingMessage.objects.get(kind=PendingMessageKind.REMINDER)
    assert (reminder.status, reminder.scheduled_for, reminder.language) == (MessageStatus.QUEUED, due, "es")
    confirmations = len(mail.outbox)
    services.run_pass(now=noon, clinics=[open_clinic])
    reminder.refresh_from_db()
    assert reminder.status == MessageStatus.SENT and len(mail.outbox) == confirmations + 1
    message = mail.outbox[-1]
    assert message.to == ["grace@example.com"] and message.subject.startswith("Recordatorio: su cita del")
    assert "Le recordamos su cita" in message.body and message.attachments
    link = re.search(r"/my-appointment/[^\s/]+/", message.body)
    assert link and Client().get(link.group(0)).status_code == 200 and live_manage_links() == 1
    services.run_pass(now=noon + timedelta(hours=1), clinics=[open_clinic])  # sent once
    assert len(mail.outbox) == confirmations + 1 and PendingMessage.objects.count() == 2


def test_a_planned_reminder_lapses_once_the_front_desk_confirms_the_person(
    client: Client, open_clinic: Any, types: Any, clinician: Any, day: Any, frontdesk: Any
) -> None:
    book_on_page(client, open_clinic, types, clinician, day, kind=AppointmentKind.FOLLOW_UP)
    visit = Appointment.objects.get()
    due = appointments.reminder_day(visit)
    noon = datetime.combine(due, datetime.min.time(), tzinfo=open_clinic.tz).replace(hour=12)
    booked_online.plan_reminders(open_clinic, due - timedelta(days=1))
    booker = PendingPatient.objects.get()
    pending.confirm_pending(actor_of(frontdesk), booker, sex="female", expected_version=booker.version)
    sent_before = len(mail.outbox)
    booked_online.send_due(open_clinic, noon)
    reminder = PendingMessage.objects.get(kind=PendingMessageKind.REMINDER)
    assert reminder.status == MessageStatus.CANCELLED and "no longer pending" in reminder.error
    assert len(mail.outbox) == sent_before  # the patient's own reminder goes through the outbox from now on


def test_a_reminder_sent_while_pending_is_not_sent_again_once_confirmed(
    client: Client, open_clinic: Any, types: Any, clinician: Any, day: Any, frontdesk: Any
) -> None:
    book_on_page(client, open_clinic, types, clinician, day, kind=AppointmentKind.FOLLOW_UP)
    visit = Appointment.objects.get()
    due = appointments.reminder_day(visit)
    noon = datetime.combine(due, datetime.min.time(), tzinfo=open_clinic.tz).replace(hour=12)
    services.run_pass(now=noon, clinics=[open_clinic])
    assert PendingMessage.objects.get(kind=PendingMessageKind.REMINDER).status == MessageStatus.SENT
    booker = PendingPatient.objects.get()
    pending.confirm_pending(actor_of(frontdesk), booker, sex="female", expected_version=booker.version)
    services.run_pass(now=noon + timedelta(hours=1), clinics=[open_clinic])
    assert not OutboxMessage.objects.filter(kind="appointment_reminder", appointment=visit).exists()
