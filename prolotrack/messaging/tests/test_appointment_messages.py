"""Appointment confirmations and reminders (messaging/appointments.py): queued from staff booking and the patient's
links, written at send time from the appointment as it is then (moved: the new time; cancelled: not sent), each with a
working manage link in the patient's copy only and an .ics that icalendar reads back to the database's times, across
the clocks' changes in the clinic's zone."""

import contextlib
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from prolotrack.audit.services import create_record
from prolotrack.booking import patient_links, queries, services
from prolotrack.booking.models import Appointment, AppointmentKind, AppointmentStatus, PendingPatient
from prolotrack.booking.testing import at, next_weekday, set_up_week
from prolotrack.clinics.testing import actor_of
from prolotrack.core.links import LinkState
from prolotrack.messaging import appointments
from prolotrack.messaging import services as messaging
from prolotrack.messaging.backends import LocmemSMSBackend
from prolotrack.messaging.models import Channel, MessageKind, MessageStatus, OutboxMessage

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r"/my-appointment/([A-Za-z0-9_-]{20,})/")


@pytest.fixture
def week(admin_user: Any, clinician: Any) -> dict[str, Any]:
    return set_up_week(actor_of(admin_user), [clinician], weekdays=range(7))


@pytest.fixture
def person(make_patient: Any) -> Any:
    return make_patient(email="ada@example.org", phone="(312) 555-0101")


def book(frontdesk: Any, person: Any, week: Any, clinician: Any, start: datetime) -> Appointment:
    return services.book_appointment(
        actor_of(frontdesk), patient=person, appointment_type=week[AppointmentKind.FOLLOW_UP], clinician=clinician,
        starts_at=start,
    )  # fmt: skip


def when(start: datetime, clinic: Any) -> str:
    local = start.astimezone(clinic.tz)
    # Written independently of messaging.content: "Wednesday 16 December 2026 at 10:00 CST" (English messages).
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} {local.tzname()}"


def morning(clinic: Any, day: date | None = None, hour: int = 10) -> datetime:
    """A moment in the clinic's sending window on `day` (today by default)."""
    return datetime.combine(day or queries.clinic_today(clinic), time(hour), tzinfo=clinic.tz)


def run(clinic: Any, now: datetime) -> Any:
    return messaging.run_pass(now=now, clinics=[type(clinic).objects.get(pk=clinic.pk)])


def test_a_staff_booking_is_confirmed_with_a_working_link_and_an_ics(
    frontdesk: Any, person: Any, week: Any, clinician: Any, clinic: Any, login: Any, client: Any
) -> None:
    day = next_weekday(clinic, 2, at_least=3)
    start = at(clinic, day, "10:00")
    login(frontdesk)
    response = client.post(
        "/booking/book/",
        {
            "type": str(week[AppointmentKind.FOLLOW_UP].uuid),
            "clinician": str(clinician.uuid),
            "patient": str(person.uuid),
            "slot": f"{start.isoformat()}|{clinician.uuid}",
        },
    )
    assert response.status_code == 302
    visit = Appointment.objects.get()
    queued = OutboxMessage.objects.filter(appointment=visit, kind=MessageKind.APPOINTMENT_CONFIRMATION)
    assert sorted(queued.values_list("channel", flat=True)) == [Channel.EMAIL, Channel.SMS]
    mail.outbox.clear()
    LocmemSMSBackend.outbox.clear()
    run(clinic, morning(clinic))
    [email] = [m for m in mail.outbox if m.subject.startswith("Your appointment")]
    assert when(start, clinic) in email.body and "Follow-up with Clinician" in email.body
    token = TOKEN.search(email.body).group(1)
    link = patient_links.manage_link(token)
    assert link.appointment == visit and link.state() == LinkState.OPEN
    stored = OutboxMessage.objects.get(
        appointment=visit, channel=Channel.EMAIL, kind=MessageKind.APPOINTMENT_CONFIRMATION
    )
    assert (
        stored.status == MessageStatus.SENT and token not in stored.body and appointments.MANAGE_REDACTED in stored.body
    )
    filename, ics, mimetype = email.attachments[0]
    assert mimetype == "text/calendar" and filename == f"appointment-{day:%Y-%m-%d}.ics"
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert event.decoded("dtstart").astimezone(UTC) == visit.starts_at
    assert str(event["uid"]) == f"appointment-{visit.uuid}@prolotrack"
    [sms] = LocmemSMSBackend.outbox
    assert when(start, clinic) in sms["body"] and TOKEN.search(sms["body"])
    assert client.get(TOKEN.search(sms["body"]).group(0)).status_code == 200  # the SMS's own link opens too


def test_a_moved_appointment_is_confirmed_at_its_new_time_and_a_cancelled_one_not_at_all(
    frontdesk: Any, person: Any, week: Any, clinician: Any, clinic: Any
) -> None:
    day = next_weekday(clinic, 2, at_least=3)
    moved = book(frontdesk, person, week, clinician, at(clinic, day, "10:00"))
    cancelled = book(frontdesk, person, week, clinician, at(clinic, day, "14:00"))
    assert patient_links.send_confirmation(moved) == 2 and patient_links.send_confirmation(cancelled) == 2
    later = at(clinic, day + timedelta(days=1), "11:00")
    services.move_appointment(actor_of(frontdesk), moved, starts_at=later, expected_version=None)
    services.cancel_appointment(actor_of(frontdesk), cancelled, reason="clinic", expected_version=None)
    mail.outbox.clear()
    run(clinic, morning(clinic))
    bodies = [m.body for m in mail.outbox if m.subject.startswith("Your appointment")]
    assert (
        len(bodies) == 1
        and when(later, clinic) in bodies[0]
        and when(at(clinic, day, "10:00"), clinic) not in bodies[0]
    )
    lapsed = OutboxMessage.objects.filter(appointment=cancelled)
    assert {m.status for m in lapsed} == {MessageStatus.CANCELLED}


def test_a_new_confirmation_replaces_one_not_yet_sent(
    frontdesk: Any, person: Any, week: Any, clinician: Any, clinic: Any
) -> None:
    visit = book(frontdesk, person, week, clinician, at(clinic, next_weekday(clinic, 2, at_least=3), "10:00"))
    patient_links.send_confirmation(visit)
    patient_links.send_confirmation(visit)
    rows = OutboxMessage.objects.filter(appointment=visit, kind=MessageKind.APPOINTMENT_CONFIRMATION)
    assert sorted(r.status for r in rows) == [MessageStatus.CANCELLED] * 2 + [MessageStatus.QUEUED] * 2


def test_the_reminder_goes_on_its_day_with_the_current_time(
    frontdesk: Any, person: Any, week: Any, clinician: Any, clinic: Any
) -> None:
    day = next_weekday(clinic, 2, at_least=5)
    visit = book(frontdesk, person, week, clinician, at(clinic, day, "10:00"))
    run(clinic, morning(clinic))  # plans the reminder for two days before (appointment_reminder_days)
    [planned] = OutboxMessage.objects.filter(appointment=visit, kind="appointment_reminder", channel=Channel.EMAIL)
    assert planned.scheduled_for == day - timedelta(days=2) and planned.status == MessageStatus.QUEUED
    later = at(clinic, day, "15:00")
    services.move_appointment(actor_of(frontdesk), visit, starts_at=later, expected_version=None)
    mail.outbox.clear()
    run(clinic, morning(clinic, day - timedelta(days=2)))
    planned.refresh_from_db()
    assert planned.status == MessageStatus.CANCELLED and "moved" in planned.error
    [email] = [m for m in mail.outbox if m.subject.startswith("Reminder")]
    assert when(later, clinic) in email.body and TOKEN.search(email.body)
    event = Calendar.from_ical(email.attachments[0][1]).walk("VEVENT")[0]
    assert event.decoded("dtstart").astimezone(UTC) == later.astimezone(UTC)


def test_a_pending_patient_gets_no_outbox_row(frontdesk: Any, week: Any, clinician: Any, clinic: Any) -> None:
    actor = actor_of(frontdesk)
    with transaction.atomic():
        pending = create_record(
            actor,
            PendingPatient(
                clinic=clinic, given_name="Bo", family_name="New", date_of_birth=date(1980, 1, 1), email="b@example.org"
            ),
            "test.pending",
        )
        visit = create_record(
            actor,
            Appointment(
                clinic=clinic, pending_patient=pending, appointment_type=week[AppointmentKind.FOLLOW_UP],
                clinician=clinician, starts_at=at(clinic, next_weekday(clinic, 2, at_least=3), "10:00"),
                duration_minutes=30, status=AppointmentStatus.BOOKED,
            ),
            "test.appointment",
        )  # fmt: skip
    assert patient_links.send_confirmation(visit) == 0 and not OutboxMessage.objects.exists()


def _next_change(clinic: Any, forward: bool) -> date:
    """The next day (from three days ahead) on which the clinic's clocks change: spring forward or fall back."""
    day = queries.clinic_today(clinic) + timedelta(days=3)
    for _ in range(800):
        before = datetime.combine(day, time(0), tzinfo=clinic.tz).utcoffset()
        after = datetime.combine(day, time(23, 59), tzinfo=clinic.tz).utcoffset()
        if before != after and (after > before) == forward:
            return day
        day += timedelta(days=1)
    raise AssertionError("no change of clocks found")


@pytest.mark.parametrize("forward", [True, False], ids=["spring-forward", "fall-back"])
def test_the_ics_reads_back_the_database_times_across_a_change_of_clocks(
    frontdesk: Any, person: Any, week: Any, clinician: Any, clinic: Any, forward: bool
) -> None:
    change = _next_change(clinic, forward)
    for day in (change - timedelta(days=1), change, change + timedelta(days=1)):
        visit = book(frontdesk, person, week, clinician, at(clinic, day, "09:00"))
        message = OutboxMessage(clinic=clinic, patient=person, channel=Channel.EMAIL, kind="appointment_reminder")
        written = appointments.words(message, Appointment.objects.select_related("clinic").get(pk=visit.pk))
        calendar = Calendar.from_ical(written.ics)
        [zone] = calendar.walk("VTIMEZONE")
        assert str(zone["tzid"]) == "America/Chicago"
        [event] = calendar.walk("VEVENT")
        assert event["dtstart"].params.get("TZID") == "America/Chicago"
        assert event.decoded("dtstart").astimezone(UTC) == visit.starts_at.astimezone(UTC)
        assert event.decoded("dtend").astimezone(UTC) == (visit.starts_at + timedelta(minutes=30)).astimezone(UTC)
        assert event.decoded("dtstart").astimezone(clinic.tz).hour == 9  # 09:00 on the wall clock each day
        assert when(visit.starts_at, clinic) in written.body


# --- Property: nothing sent disagrees with the database at send time ------------------------------------------------

actions = st.one_of(
    st.tuples(st.just("move"), st.integers(3, 12), st.sampled_from(["09:00", "10:30", "14:00", "16:00"])),
    st.tuples(st.just("cancel")),
    st.tuples(st.just("confirm")),
    st.tuples(st.just("pass"), st.integers(1, 30)),
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(steps=st.lists(actions, min_size=1, max_size=8))
def test_no_appointment_message_says_anything_the_database_does_not(
    frontdesk: Any, person: Any, week: Any, clinician: Any, clinic: Any, steps: list[Any]
) -> None:
    with transaction.atomic():
        today = queries.clinic_today(clinic)
        visit = book(frontdesk, person, week, clinician, at(clinic, today + timedelta(days=4), "11:00"))
        patient_links.send_confirmation(visit)
        now = morning(clinic, today, 7)
        mail.outbox.clear()
        LocmemSMSBackend.outbox.clear()
        for step in steps:
            visit.refresh_from_db()
            if step[0] == "move" and visit.status == AppointmentStatus.BOOKED:
                target = at(clinic, today + timedelta(days=step[1]), step[2])
                with contextlib.suppress(services.SlotUnavailable):
                    visit = services.move_appointment(
                        actor_of(frontdesk), visit, starts_at=target, expected_version=None
                    )
            elif step[0] == "cancel" and visit.status == AppointmentStatus.BOOKED:
                visit = services.cancel_appointment(actor_of(frontdesk), visit, reason="clinic", expected_version=None)
            elif step[0] == "confirm":
                patient_links.send_confirmation(visit)
            elif step[0] == "pass":
                now += timedelta(hours=step[1])
                emails, texts = len(mail.outbox), len(LocmemSMSBackend.outbox)
                run(clinic, now)
                visit.refresh_from_db()
                sent = [m.body for m in mail.outbox[emails:]] + [m["body"] for m in LocmemSMSBackend.outbox[texts:]]
                if sent:
                    assert visit.status == AppointmentStatus.BOOKED, "sent about a cancelled appointment"
                    assert now < visit.starts_at, "sent after the appointment's time"
                for body in sent:
                    assert when(visit.starts_at, clinic) in body, f"stale time in {body[:160]!r}"
                for email in mail.outbox[emails:]:
                    event = Calendar.from_ical(email.attachments[0][1]).walk("VEVENT")[0]
                    assert event.decoded("dtstart").astimezone(UTC) == visit.starts_at.astimezone(UTC), "stale .ics"
        transaction.set_rollback(True)


def test_a_spanish_speaking_patients_confirmation_writes_the_day_as_spanish_does(
    frontdesk: Any, make_patient: Any, week: Any, clinician: Any, clinic: Any
) -> None:
    """The appointment messages write days through messaging.content, as every other patient message: "miércoles,
    16 de diciembre de 2026 a las 10:00 CST", not the bare date format without "de" ("miércoles 16 diciembre")."""
    person = make_patient(email="lucia@example.org", preferred_language="es", given_name="Lucía")
    start = at(clinic, next_weekday(clinic, 2, at_least=3), "10:00")
    assert patient_links.send_confirmation(book(frontdesk, person, week, clinician, start)) == 1
    mail.outbox.clear()
    run(clinic, morning(clinic))
    [email] = [m for m in mail.outbox if "lucia@example.org" in m.to]
    local = start.astimezone(clinic.tz)
    months = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
              "noviembre", "diciembre"]  # fmt: skip
    assert f"{local.day} de {months[local.month - 1]} de {local.year} a las 10:00 {local.tzname()}" in email.body
    assert "Lucía" in email.body and "December" not in email.body
