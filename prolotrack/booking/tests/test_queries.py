"""Free slots from the database rows: the domain's rules through the DB path, in a constant number of statements,
across the clocks' changes and in a clinic far from UTC."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from prolotrack.billing.testing import set_clinic_settings
from prolotrack.booking import queries, services
from prolotrack.booking.models import AppointmentKind
from prolotrack.booking.testing import at, next_weekday, set_up_week
from prolotrack.clinics.models import Clinic
from prolotrack.clinics.roles import Role
from prolotrack.clinics.testing import actor_of
from prolotrack.treatment import services as treatment
from prolotrack.treatment.testing import knee_course

pytestmark = pytest.mark.django_db


def local(clinic: Any, slots: list[queries.FreeSlot]) -> list[str]:
    return [timezone.localtime(s.start, clinic.tz).strftime("%H:%M%Z") for s in slots]


def clocks(clinic: Any, slots: list[queries.FreeSlot]) -> list[str]:
    return [timezone.localtime(s.start, clinic.tz).strftime("%H:%M") for s in slots]


def test_a_day_of_slots_minus_an_appointment_a_session_and_the_break(
    frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    set_clinic_settings(clinic, booking_step_minutes=30)
    day = next_weekday(clinic, 0)
    follow_up, assessment = types[AppointmentKind.FOLLOW_UP], types[AppointmentKind.ASSESSMENT]
    services.book_appointment(
        actor_of(frontdesk),
        patient=patient,
        appointment_type=assessment,
        clinician=clinician,
        starts_at=at(clinic, day, "09:00"),
    )
    session = knee_course(clinician, patient, day).sessions.get(number=1)
    treatment.book_session(actor_of(frontdesk), session, starts_at=at(clinic, day, "14:00"), clinician=clinician)
    slots = queries.free_slots(clinic, follow_up, day, day)
    # 09:00-10:00 assessment + 15 min after -> 10:30 on the 30-minute grid; lunch 12-13; the session 14:00-14:45
    # with 10 before and 15 after blocks 13:30 (ends 14:00, within 10) to 15:00.
    assert clocks(clinic, slots) == ["10:30", "11:00", "11:30", "13:00", "15:00", "15:30", "16:00", "16:30"]
    assert {s.clinician for s in slots} == {clinician}
    # A cancelled appointment and a cancelled session hold nothing.
    services.cancel_appointment(
        actor_of(frontdesk),
        queries.calendar_appointments(clinic, day, 1)[0],
        reason="patient_request",
        expected_version=1,
    )
    treatment.set_attendance(actor_of(frontdesk), session, "cancelled", reason="patient_request")
    assert clocks(clinic, queries.free_slots(clinic, follow_up, day, day))[:3] == ["09:00", "09:30", "10:00"]


def test_first_available_across_clinicians_and_online_rules(
    admin_user: Any, frontdesk: Any, make_member: Any, clinic: Any, patient: Any
) -> None:
    admin = actor_of(admin_user)
    first, second = make_member("first", Role.CLINICIAN, clinic), make_member("second", Role.CLINICIAN, clinic)
    types = set_up_week(admin, [first, second])
    kind = types[AppointmentKind.FOLLOW_UP]
    day = next_weekday(clinic, 1)
    services.book_appointment(
        actor_of(frontdesk), patient=patient, appointment_type=kind, clinician=first, starts_at=at(clinic, day, "09:00")
    )
    slots = queries.free_slots(clinic, kind, day, day, limit=3)
    assert [(clocks(clinic, [s])[0], s.clinician) for s in slots] == [
        ("09:00", second),
        ("09:15", second),
        ("09:30", first),
    ]
    # Online: only clinicians whose offer allows it, and the clinic's horizon.
    services.set_offers(admin, kind, [first, second], online=[second])
    assert {s.clinician for s in queries.free_slots(clinic, kind, day, day, online=True)} == {second}
    set_clinic_settings(clinic, booking_max_days_ahead=0, booking_same_day=False)
    assert queries.free_slots(clinic, kind, day, day, online=True) == []
    assert queries.free_slots(clinic, kind, day, day)  # staff are not held to the online horizon


def test_no_clinician_offers_it_no_slots(admin_user: Any, clinic: Any) -> None:
    kind = services.create_appointment_type(
        actor_of(admin_user), {"name": "Ultrasound", "kind": "follow_up", "duration_minutes": 20}
    )
    assert queries.free_slots(clinic, kind, date(2030, 1, 7), date(2030, 1, 7)) == []


def test_the_number_of_statements_does_not_grow_with_days_or_clinicians(
    admin_user: Any, frontdesk: Any, make_member: Any, clinic: Any, patient: Any
) -> None:
    admin = actor_of(admin_user)
    team = [make_member(f"doc{n}", Role.CLINICIAN, clinic) for n in range(6)]
    types = set_up_week(admin, team)
    kind = types[AppointmentKind.FOLLOW_UP]
    day = next_weekday(clinic, 0)
    for n, who in enumerate(team):
        services.book_appointment(
            actor_of(frontdesk),
            patient=patient,
            appointment_type=kind,
            clinician=who,
            starts_at=at(clinic, day + timedelta(days=n % 5), "10:00"),
        )
    services.add_time_off(admin, clinician=team[0], first_day=day, last_day=day + timedelta(days=2))
    services.add_time_off(admin, first_day=day + timedelta(days=10), last_day=day + timedelta(days=10))

    def statements(**asked: Any) -> int:
        with CaptureQueriesContext(connection) as captured:
            queries.free_slots(clinic, kind, **asked)
        return len(captured.captured_queries)

    one = statements(first=day, last=day, clinician=team[0])
    month = statements(first=day, last=day + timedelta(days=30))
    assert one == month == 6


# --- The clocks' changes through the database ---------------------------------------------------------------------


def next_change(zone: Any, after: date, *, forward: bool) -> date:
    """The next local day after `after` whose clock springs forward (or falls back)."""
    day = after
    for _ in range(400):
        day += timedelta(days=1)
        before = datetime.combine(day, time(0), tzinfo=zone).utcoffset()
        later = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).utcoffset()
        assert before is not None and later is not None
        if (later > before) == forward and later != before:
            return day
    raise AssertionError("no change of clocks within 400 days")


@pytest.mark.parametrize(
    ("forward", "expected"),
    [
        (True, ["00:00CST", "01:00CST", "03:00CDT", "04:00CDT", "05:00CDT"]),
        (False, ["00:00CDT", "01:00CDT", "01:00CST", "02:00CST", "03:00CST", "04:00CST", "05:00CST"]),
    ],
    ids=["march", "november"],
)
def test_night_hours_over_a_change_of_clocks_through_the_database(
    admin_user: Any, frontdesk: Any, clinician: Any, patient: Any, clinic: Any, forward: bool, expected: list[str]
) -> None:
    """America/Chicago: 00:00-06:00 on the night the clocks change, hourly slots (docs/BOOKING.md, DST)."""
    set_clinic_settings(clinic, booking_step_minutes=60)
    admin = actor_of(admin_user)
    day = next_change(clinic.tz, timezone.localdate(timezone=clinic.tz) + timedelta(days=1), forward=forward)
    kind = services.create_appointment_type(admin, {"name": "Night", "kind": "follow_up", "duration_minutes": 60})
    services.set_offers(admin, kind, [clinician])
    services.add_weekly_period(admin, clinician, weekday=day.weekday(), starts=time(0), ends=time(6))
    slots = queries.free_slots(clinic, kind, day, day)
    assert local(clinic, slots) == expected
    # Book the slot after 01:00 local (the second 01:00 in November, 03:00 in March): it alone goes.
    taken = slots[2]
    services.book_appointment(
        actor_of(frontdesk), patient=patient, appointment_type=kind, clinician=clinician, starts_at=taken.start
    )
    left = local(clinic, queries.free_slots(clinic, kind, day, day))
    assert left == expected[:2] + expected[3:]


def test_a_clinic_far_from_utc(make_member: Any, make_patient: Any) -> None:
    """Pacific/Kiritimati is UTC+14: a local morning is the previous day in UTC."""
    far = Clinic.objects.create(name="Line Islands", timezone="Pacific/Kiritimati")
    admin = make_member("far-admin", Role.ADMIN, far)
    doc = make_member("far-doc", Role.CLINICIAN, far)
    desk = make_member("far-desk", Role.FRONT_DESK, far)
    types = set_up_week(actor_of(admin), [doc])
    kind = types[AppointmentKind.FOLLOW_UP]
    day = next_weekday(far, 0)
    slots = queries.free_slots(far, kind, day, day)
    assert clocks(far, slots)[0] == "09:00" and clocks(far, slots)[-1] == "16:30"
    assert slots[0].start.astimezone(UTC).date() == day - timedelta(days=1)
    patient = make_patient(by=desk)
    made = services.book_appointment(
        actor_of(desk), patient=patient, appointment_type=kind, clinician=doc, starts_at=slots[0].start
    )
    assert made.starts_at.astimezone(UTC).hour == 19
    assert [a.pk for a in queries.calendar_appointments(far, day, 1)] == [made.pk]
    assert clocks(far, queries.free_slots(far, kind, day, day))[0] == "09:30"
