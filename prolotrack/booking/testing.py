"""Helpers shared by the booking suites (and later the demo): a clinic's week set up through the services."""

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from prolotrack.audit.services import Actor
from prolotrack.booking import services
from prolotrack.booking.models import AppointmentKind, AppointmentType, PeriodKind

# (name, kind, minutes, buffer before, buffer after)
TYPES: tuple[tuple[str, str, int, int, int], ...] = (
    ("New-patient assessment", AppointmentKind.ASSESSMENT, 60, 0, 15),
    ("Prolotherapy session", AppointmentKind.SESSION, 45, 10, 15),
    ("Follow-up", AppointmentKind.FOLLOW_UP, 30, 0, 0),
)


def set_up_week(
    admin: Actor,
    clinicians: Sequence[Any],
    *,
    weekdays: Sequence[int] = (0, 1, 2, 3, 4),
    hours: tuple[time, time] = (time(9), time(17)),
    lunch: tuple[time, time] | None = (time(12), time(13)),
    room: Any = None,
) -> dict[str, AppointmentType]:
    """The three usual types, offered by every clinician, with the same working hours and lunch break each."""
    types = {}
    for name, kind, minutes, before, after in TYPES:
        made = services.create_appointment_type(
            admin,
            {
                "name": name,
                "kind": kind,
                "duration_minutes": minutes,
                "buffer_before_minutes": before,
                "buffer_after_minutes": after,
                "bookable_online": kind != AppointmentKind.SESSION,
            },
        )
        services.set_offers(admin, made, clinicians, online=clinicians)
        types[kind] = made
    for clinician in clinicians:
        for weekday in weekdays:
            services.add_weekly_period(admin, clinician, weekday=weekday, starts=hours[0], ends=hours[1], room=room)
            if lunch:
                services.add_weekly_period(
                    admin, clinician, weekday=weekday, starts=lunch[0], ends=lunch[1], kind=PeriodKind.BREAK
                )
    return types


def next_weekday(clinic: Any, weekday: int, *, at_least: int = 2) -> date:
    """The first `weekday` at least `at_least` days after the clinic's today (so a test never books the past)."""
    day = timezone.localdate(timezone=clinic.tz) + timedelta(days=at_least)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def at(clinic: Any, day: date, clock: str) -> datetime:
    """An aware moment: `clock` (HH:MM) on `day` in the clinic's zone (the first showing of a repeated time)."""
    hour, minute = (int(x) for x in clock.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=clinic.tz)


def pending_booking(
    clinic: Any,
    appointment_type: Any,
    clinician: Any,
    start: datetime,
    *,
    status: str = "pending",
    appointment_status: str = "booked",
    **typed: Any,
) -> Any:
    """A person who booked online and verified their contact (a PendingPatient waiting for the front desk) with one
    appointment, written directly as the public booking page will write it (its service is the public page's). For the
    suites of the front desk's screens; `typed` overrides the names, date of birth, email, phone, language."""
    from prolotrack.booking.models import Appointment, BookingSource, PendingPatient
    from prolotrack.core.records import service_write

    values = {
        "given_name": "Ana",
        "family_name": "Ruiz",
        "date_of_birth": date(1980, 5, 1),
        "email": "ana.ruiz@example.org",
        "phone": "",
        "preferred_language": "es",
    }
    values.update(typed)
    with service_write():
        person = PendingPatient.objects.create(clinic=clinic, status=status, verified_at=timezone.now(), **values)
        Appointment.objects.create(
            clinic=clinic,
            pending_patient=person,
            source=BookingSource.ONLINE,
            appointment_type=appointment_type,
            clinician=clinician,
            starts_at=start,
            duration_minutes=appointment_type.duration_minutes,
            buffer_before_minutes=appointment_type.buffer_before_minutes,
            buffer_after_minutes=appointment_type.buffer_after_minutes,
            status=appointment_status,
        )
    return person


def pending_on_waitlist(
    clinic: Any, appointment_type: Any, first: date, last: date, *, verified_by: str = "email", **typed: Any
) -> Any:
    """A person who joined the waitlist on the public page and entered their code (a PendingPatient waiting for the
    front desk, an ACTIVE entry from `first` to `last` for anyone), written directly as booking/waitlist_join.py
    leaves them. For the suites of the offers' messages; `typed` overrides the names, email, phone, language."""
    from prolotrack.booking.models import PendingPatient, WaitlistEntry, WaitlistSource, WaitlistStatus
    from prolotrack.core.records import service_write

    values = {
        "given_name": "Ana",
        "family_name": "Ruiz",
        "date_of_birth": date(1980, 5, 1),
        "email": "ana.ruiz@example.org",
        "phone": "",
        "preferred_language": "es",
    }
    values.update(typed)
    with service_write():
        person = PendingPatient.objects.create(
            clinic=clinic, status="pending", verified_at=timezone.now(), verified_by_channel=verified_by, **values
        )
        WaitlistEntry.objects.create(
            clinic=clinic,
            pending_patient=person,
            appointment_type=appointment_type,
            first_day=first,
            last_day=last,
            joined_at=timezone.now(),
            status=WaitlistStatus.ACTIVE,
            source=WaitlistSource.ONLINE,
        )
    return person


def course_with_a_session_done(clinician: Any, patient: Any, *, days_ago: int = 7, consent: bool = True) -> Any:
    """A right-knee course (Rabago: sessions at weeks 0, 4, 8) that started `days_ago` days before the clinic's today,
    its first session done at 10:00 that day (written directly: the signing path is the treatment suites'), and its
    treatment consent signed unless `consent` is False. Its next session (2) may be booked from 4 weeks after the
    first. For the course link suites (docs/BOOKING.md, "Course links")."""
    from prolotrack.clinics.testing import actor_of
    from prolotrack.consent.testing import sign_for_course
    from prolotrack.core.records import service_write
    from prolotrack.treatment.testing import knee_course

    start = timezone.localdate(timezone=patient.clinic.tz) - timedelta(days=days_ago)
    course = knee_course(clinician, patient, start)
    if consent:
        sign_for_course(actor_of(clinician), course, render=False)
    first = course.sessions.get(number=1)
    with service_write():
        first.status, first.starts_at, first.signed_at = "done", at(patient.clinic, start, "10:00"), timezone.now()
        first.save()
    return course
