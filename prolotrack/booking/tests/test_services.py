"""Booking services: setup rows and appointments, each change versioned and audited; bad input writes nothing."""

from datetime import date, time, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.services import AccessDenied, ServiceError
from prolotrack.booking import services
from prolotrack.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentType,
    PeriodKind,
    Room,
    TimeOff,
    WeeklyPeriod,
)
from prolotrack.booking.testing import at, next_weekday, set_up_week
from prolotrack.clinics.roles import Role
from prolotrack.clinics.testing import actor_of
from prolotrack.treatment import services as treatment
from prolotrack.treatment.testing import knee_course

pytestmark = pytest.mark.django_db

MODELS = (AppointmentType, WeeklyPeriod, TimeOff, Room, Appointment)


def counts() -> tuple[int, ...]:
    return (
        *(m.objects.count() for m in MODELS),
        AuditEvent.objects.count(),
        RecordVersion.objects.count(),
    )


def book(frontdesk: Any, patient: Any, kind: Any, clinician: Any, start: Any, **extra: Any) -> Appointment:
    return services.book_appointment(
        actor_of(frontdesk), patient=patient, appointment_type=kind, clinician=clinician, starts_at=start, **extra
    )


# --- Setup --------------------------------------------------------------------------------------------------------


def test_a_type_with_only_its_required_fields(admin_user: Any) -> None:
    made = services.create_appointment_type(
        actor_of(admin_user), {"name": "Follow-up", "kind": "follow_up", "duration_minutes": "30"}
    )
    assert (made.duration_minutes, made.buffer_before_minutes, made.buffer_after_minutes) == (30, 0, 0)
    assert made.fee_item is None and not made.bookable_online and made.active
    version = RecordVersion.objects.get(record_uuid=made.uuid)
    assert version.version == 1 and version.action == "booking.type.created"
    assert AuditEvent.objects.filter(record_uuid=made.uuid, action="booking.type.created").count() == 1


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"kind": "follow_up", "duration_minutes": 30}, "name", "required"),
        ({"name": "  ", "kind": "follow_up", "duration_minutes": 30}, "name", "Give the name"),
        ({"name": "X", "kind": "massage", "duration_minutes": 30}, "kind", "Choose one of"),
        ({"name": "X", "kind": "follow_up", "duration_minutes": 0}, "duration_minutes", "between 5 and 480"),
        ({"name": "X", "kind": "follow_up", "duration_minutes": "half an hour"}, "duration_minutes", "whole number"),
        (
            {"name": "X", "kind": "follow_up", "duration_minutes": 30, "buffer_after_minutes": -5},
            "buffer_after_minutes",
            "between 0 and 120",
        ),
        ({"name": "X", "kind": "follow_up", "duration_minutes": 30, "colour": "red"}, "colour", "cannot be set"),
        (
            {"name": "X", "kind": "follow_up", "duration_minutes": 30, "bookable_online": "yes"},
            "bookable_online",
            "yes or no",
        ),
    ],
)
def test_a_bad_type_is_refused_naming_the_field_and_nothing_is_written(
    admin_user: Any, data: dict[str, Any], field: str, words: str
) -> None:
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.create_appointment_type(actor_of(admin_user), data)
    assert field in refused.value.message_dict
    assert words in " ".join(refused.value.message_dict[field])
    assert counts() == before


def test_a_fee_item_of_another_clinic_is_refused(admin_user: Any, make_member: Any, other_clinic: Any) -> None:
    from prolotrack.billing.testing import fee_schedule

    other_admin = make_member("other-admin", Role.ADMIN, other_clinic)
    theirs = fee_schedule(actor_of(other_admin), date(2026, 1, 1))["FOLLOW-UP"]
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.create_appointment_type(
            actor_of(admin_user), {"name": "F", "kind": "follow_up", "duration_minutes": 30, "fee_item": theirs}
        )
    assert "fee_item" in refused.value.message_dict
    assert counts() == before


def test_only_administrators_set_up_and_the_front_desk_books(frontdesk: Any, researcher: Any) -> None:
    with pytest.raises(AccessDenied):
        services.create_appointment_type(
            actor_of(frontdesk), {"name": "F", "kind": "follow_up", "duration_minutes": 30}
        )
    with pytest.raises(AccessDenied):
        services.book_appointment(
            actor_of(researcher), patient=None, appointment_type=None, clinician=None, starts_at=None
        )


def test_overlapping_working_hours_are_refused_and_a_break_is_not(admin_user: Any, clinician: Any) -> None:
    admin = actor_of(admin_user)
    services.add_weekly_period(admin, clinician, weekday=0, starts=time(9), ends=time(12))
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.add_weekly_period(admin, clinician, weekday=0, starts=time(11), ends=time(15))
    assert "overlap" in " ".join(refused.value.message_dict["starts"])
    assert counts() == before
    services.add_weekly_period(admin, clinician, weekday=0, starts=time(10), ends=time(10, 30), kind=PeriodKind.BREAK)
    services.add_weekly_period(admin, clinician, weekday=0, starts=time(12), ends=time(17))  # touching is fine


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"weekday": 7, "starts": time(9), "ends": time(10)}, "weekday"),
        ({"weekday": 0, "starts": "nine", "ends": time(10)}, "starts"),
        ({"weekday": 0, "starts": time(10), "ends": time(9)}, "ends"),
        ({"weekday": 0, "starts": time(10), "ends": time(10)}, "ends"),
    ],
)
def test_bad_hours_are_refused_naming_the_field(admin_user: Any, clinician: Any, values: Any, field: str) -> None:
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.add_weekly_period(actor_of(admin_user), clinician, **values)
    assert field in refused.value.message_dict
    assert counts() == before


def test_hours_for_someone_who_does_not_treat_are_refused(admin_user: Any, frontdesk: Any, outsider: Any) -> None:
    for who in (frontdesk, outsider):
        with pytest.raises(ValidationError) as refused:
            services.add_weekly_period(actor_of(admin_user), who, weekday=0, starts=time(9), ends=time(10))
        assert "clinician" in refused.value.message_dict


def test_time_off_with_every_optional_field_empty_and_days_in_the_wrong_order(admin_user: Any) -> None:
    holiday = services.add_time_off(actor_of(admin_user), first_day=date(2026, 12, 25), last_day=date(2026, 12, 25))
    assert holiday.clinician is None and holiday.note == ""
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.add_time_off(actor_of(admin_user), first_day=date(2026, 12, 26), last_day=date(2026, 12, 24))
    assert "ends before it starts" in " ".join(refused.value.message_dict["last_day"])
    assert counts() == before


def test_removing_hours_is_a_new_version_not_a_delete(admin_user: Any, clinician: Any) -> None:
    admin = actor_of(admin_user)
    period = services.add_weekly_period(admin, clinician, weekday=1, starts=time(9), ends=time(12))
    services.end_weekly_period(admin, period, expected_version=1)
    period.refresh_from_db()
    assert not period.active and period.version == 2
    assert list(RecordVersion.objects.filter(record_uuid=period.uuid).values_list("version", flat=True)) in (
        [1, 2],
        [2, 1],
    )


# --- Appointments ---------------------------------------------------------------------------------------------------


def test_book_move_and_cancel_each_versioned_and_audited(
    frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    day = next_weekday(clinic, 1)
    made = book(frontdesk, patient, types[AppointmentKind.FOLLOW_UP], clinician, at(clinic, day, "10:00"))
    assert made.room is None and made.note == "" and made.status == AppointmentStatus.BOOKED
    assert (made.duration_minutes, made.buffer_before_minutes, made.buffer_after_minutes) == (30, 0, 0)
    moved = services.move_appointment(actor_of(frontdesk), made, starts_at=at(clinic, day, "14:30"), expected_version=1)
    assert timezone.localtime(moved.starts_at, clinic.tz).strftime("%H:%M") == "14:30"
    cancelled = services.cancel_appointment(actor_of(frontdesk), moved, reason="patient_request", expected_version=2)
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.status_reason == "Patient asked to cancel"
    versions = RecordVersion.objects.filter(record_uuid=made.uuid).order_by("version")
    assert [v.action for v in versions] == [
        "booking.appointment.booked",
        "booking.appointment.moved",
        "booking.appointment.cancelled",
    ]
    assert versions[1].changes["starts_at"][0] != versions[1].changes["starts_at"][1]
    assert AuditEvent.objects.filter(record_uuid=made.uuid).count() == 3
    assert Appointment.objects.filter(uuid=made.uuid).exists()  # kept
    # The cancelled slot is free again.
    again = book(frontdesk, patient, types[AppointmentKind.FOLLOW_UP], clinician, at(clinic, day, "14:30"))
    assert again.pk != made.pk


def test_a_cancellation_within_the_window_is_marked_late(
    frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    from prolotrack.billing.testing import set_clinic_settings

    set_clinic_settings(clinic, booking_cancel_window_hours=336)
    made = book(
        frontdesk, patient, types[AppointmentKind.FOLLOW_UP], clinician, at(clinic, next_weekday(clinic, 2), "09:00")
    )
    cancelled = services.cancel_appointment(
        actor_of(frontdesk), made, reason="other", details="Car broke down", expected_version=1
    )
    assert cancelled.status_reason.startswith("Other (say why): Car broke down (late cancellation: within 336 hours")


def test_a_cancellation_without_a_reason_is_refused_and_nothing_changes(
    frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    made = book(
        frontdesk, patient, types[AppointmentKind.FOLLOW_UP], clinician, at(clinic, next_weekday(clinic, 2), "09:00")
    )
    before = counts()
    for reason, details in (("", ""), ("other", ""), ("because", "")):
        with pytest.raises(ValidationError) as refused:
            services.cancel_appointment(actor_of(frontdesk), made, reason=reason, details=details, expected_version=1)
        assert "reason" in refused.value.message_dict
    assert counts() == before
    made.refresh_from_db()
    assert made.status == AppointmentStatus.BOOKED


def test_a_taken_slot_is_refused_with_the_domains_reason_and_the_next_free_slots(
    frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any, make_patient: Any
) -> None:
    day = next_weekday(clinic, 3)
    book(frontdesk, patient, types[AppointmentKind.ASSESSMENT], clinician, at(clinic, day, "09:00"))
    other = make_patient(given_name="Grace", family_name="Hopper")
    before = counts()
    with pytest.raises(services.SlotUnavailable) as refused:
        book(frontdesk, other, types[AppointmentKind.FOLLOW_UP], clinician, at(clinic, day, "09:30"))
    message = str(refused.value)
    assert "too close to the appointment 09:00-10:00" in message
    # The assessment's 15-minute buffer after: the next follow-up starts at 10:15.
    assert "Next free:" in message and f"{day:%Y-%m-%d} 10:15" in message
    assert [timezone.localtime(s.start, clinic.tz).strftime("%H:%M") for s in refused.value.next_slots] == [
        "10:15",
        "10:30",
        "10:45",
    ]
    assert counts() == before


@pytest.mark.parametrize(
    ("clock", "words"),
    [
        ("12:15", "overlaps the break 12:00-13:00"),
        ("09:05", "not on the 15 minutes grid"),
        ("16:45", "not within"),
        ("07:00", "not within"),
    ],
)
def test_outside_the_rules_is_refused_with_the_domains_sentence(
    frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any, clock: str, words: str
) -> None:
    before = counts()
    with pytest.raises(services.SlotUnavailable) as refused:
        book(
            frontdesk, patient, types[AppointmentKind.FOLLOW_UP], clinician, at(clinic, next_weekday(clinic, 0), clock)
        )
    assert words in str(refused.value)
    assert counts() == before
    if words == "not within":
        assert f"not within {clinician}'s working hours" in str(refused.value)


def test_the_past_time_off_and_a_holiday_are_refused(
    admin_user: Any, frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    kind = types[AppointmentKind.FOLLOW_UP]
    with pytest.raises(services.SlotUnavailable) as refused:
        book(frontdesk, patient, kind, clinician, timezone.now() - timedelta(days=1))
    assert "in the past" in str(refused.value)
    day = next_weekday(clinic, 4)
    services.add_time_off(actor_of(admin_user), clinician=clinician, first_day=day, last_day=day, note="Course")
    with pytest.raises(services.SlotUnavailable) as refused:
        book(frontdesk, patient, kind, clinician, at(clinic, day, "09:00"))
    assert f"{clinician} is off on {day.isoformat()}" in str(refused.value)
    later = day + timedelta(days=7)
    services.add_time_off(actor_of(admin_user), first_day=later, last_day=later)
    with pytest.raises(services.SlotUnavailable) as refused:
        book(frontdesk, patient, kind, clinician, at(clinic, later, "09:00"))
    assert "clinic holiday" in str(refused.value)


def test_a_booked_treatment_session_holds_its_time_with_the_session_types_buffers(
    frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    day = next_weekday(clinic, 1)
    course = knee_course(clinician, patient, day)
    session = course.sessions.get(number=1)
    treatment.book_session(actor_of(frontdesk), session, starts_at=at(clinic, day, "10:00"), clinician=clinician)
    kind = types[AppointmentKind.FOLLOW_UP]
    # The session is 45 minutes with the session type's 15 minutes after: 11:00 is free, 10:45 is not; 09:30 ends
    # at 10:00, inside the session's 10-minute buffer before.
    for clock in ("10:45", "09:30"):
        with pytest.raises(services.SlotUnavailable):
            book(frontdesk, patient, kind, clinician, at(clinic, day, clock))
    book(frontdesk, patient, kind, clinician, at(clinic, day, "11:00"))


def test_a_clinician_who_does_not_offer_the_type_is_refused(
    frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any, make_member: Any
) -> None:
    second = make_member("second", Role.CLINICIAN, clinic)
    with pytest.raises(ValidationError) as refused:
        book(frontdesk, patient, types[AppointmentKind.FOLLOW_UP], second, at(clinic, next_weekday(clinic, 1), "10:00"))
    assert "does not offer" in " ".join(refused.value.message_dict["clinician"])


def test_another_clinics_patient_or_a_naive_time_is_refused(
    frontdesk: Any, clinician: Any, types: Any, clinic: Any, outsider: Any
) -> None:
    from datetime import datetime

    from prolotrack.patients import services as patient_services

    theirs = patient_services.create_patient(
        actor_of(outsider),
        {"given_name": "Ann", "family_name": "Other", "date_of_birth": date(1970, 1, 1), "sex": "female"},
    )
    with pytest.raises((AccessDenied, ServiceError, ValidationError)):
        book(
            frontdesk, theirs, types[AppointmentKind.FOLLOW_UP], clinician, at(clinic, next_weekday(clinic, 1), "10:00")
        )
    mine = patient_services.create_patient(
        actor_of(frontdesk),
        {"given_name": "Ann", "family_name": "Mine", "date_of_birth": date(1970, 1, 1), "sex": "female"},
    )
    with pytest.raises(ValidationError) as refused:
        book(frontdesk, mine, types[AppointmentKind.FOLLOW_UP], clinician, datetime(2030, 1, 1, 10))
    assert "time zone" in " ".join(refused.value.message_dict["starts_at"])


def test_a_room_is_double_booked_only_where_the_clinic_allows_it(
    admin_user: Any, frontdesk: Any, clinician: Any, make_member: Any, clinic: Any, make_patient: Any
) -> None:
    admin = actor_of(admin_user)
    second = make_member("second", Role.CLINICIAN, clinic)
    single = services.create_room(admin, name="Room 1")
    gym = services.create_room(admin, name="Gym", allow_double_booking=True)
    types = set_up_week(admin, [clinician, second], weekdays=(0,), lunch=None, room=single)
    services.add_weekly_period(admin, clinician, weekday=1, starts=time(9), ends=time(17), room=gym)
    services.add_weekly_period(admin, second, weekday=1, starts=time(9), ends=time(17), room=gym)
    kind = types[AppointmentKind.FOLLOW_UP]
    ada, grace = make_patient(), make_patient(given_name="Grace")
    monday, tuesday = next_weekday(clinic, 0), next_weekday(clinic, 1)
    first = book(frontdesk, ada, kind, clinician, at(clinic, monday, "10:00"))
    assert first.room == single
    with pytest.raises(services.SlotUnavailable) as refused:
        book(frontdesk, grace, kind, second, at(clinic, monday, "10:00"))
    assert "room is taken 10:00-10:30" in str(refused.value)
    assert book(frontdesk, ada, kind, clinician, at(clinic, tuesday, "10:00")).room == gym
    assert book(frontdesk, grace, kind, second, at(clinic, tuesday, "10:00")).room == gym


def test_a_stale_move_is_refused(frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any) -> None:
    from prolotrack.audit.services import StaleEditError

    day = next_weekday(clinic, 2)
    made = book(frontdesk, patient, types[AppointmentKind.FOLLOW_UP], clinician, at(clinic, day, "10:00"))
    services.move_appointment(actor_of(frontdesk), made, starts_at=at(clinic, day, "11:00"), expected_version=1)
    with pytest.raises(StaleEditError):
        services.move_appointment(actor_of(frontdesk), made, starts_at=at(clinic, day, "14:00"), expected_version=1)


def test_moving_into_its_own_time_is_allowed(
    frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    day = next_weekday(clinic, 2)
    made = book(frontdesk, patient, types[AppointmentKind.ASSESSMENT], clinician, at(clinic, day, "10:00"))
    moved = services.move_appointment(actor_of(frontdesk), made, starts_at=at(clinic, day, "10:15"), expected_version=1)
    assert moved.version == 2


def test_a_course_session_cannot_be_booked_over_an_appointment(
    frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    day = next_weekday(clinic, 1)
    book(frontdesk, patient, types[AppointmentKind.ASSESSMENT], clinician, at(clinic, day, "10:00"))
    session = knee_course(clinician, patient, day).sessions.get(number=1)
    before = counts()
    # The session type's 10 minutes before: a session at 11:05 is too close to the assessment ending at 11:00.
    with pytest.raises(ValidationError) as refused:
        treatment.book_session(actor_of(frontdesk), session, starts_at=at(clinic, day, "11:05"), clinician=clinician)
    assert "New-patient assessment 10:00-11:00" in " ".join(refused.value.message_dict["starts_at"])
    assert counts() == before
    booked = treatment.book_session(
        actor_of(frontdesk), session, starts_at=at(clinic, day, "11:15"), clinician=clinician
    )
    assert booked.status == "booked"
