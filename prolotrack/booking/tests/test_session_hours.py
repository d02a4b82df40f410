"""Course sessions under the availability rules, where the clinic says so (`booking_sessions_follow_hours`;
docs/BOOKING.md, "Course sessions under the availability rules"). Alpha Clinic's week: Monday-Friday 09:00-17:00,
lunch 12:00-13:00; the prolotherapy-session type has 10 minutes before and 15 after."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.booking import services
from prolotrack.booking.testing import at, next_weekday
from prolotrack.clinics.services import update_clinic_settings
from prolotrack.clinics.testing import actor_of
from prolotrack.treatment import services as treatment
from prolotrack.treatment.models import TreatmentSession
from prolotrack.treatment.testing import knee_course

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (AuditEvent.objects.count(), RecordVersion.objects.count())


@pytest.fixture
def follow(admin_user: Any, clinic: Any) -> None:
    update_clinic_settings(actor_of(admin_user), clinic, {"booking_sessions_follow_hours": True})
    clinic.refresh_from_db()


def sessions(clinician: Any, patient: Any, day: Any) -> list[TreatmentSession]:
    return list(knee_course(clinician, patient, day).sessions.order_by("number"))


def book(frontdesk: Any, session: Any, clinic: Any, day: Any, clock: str, clinician: Any) -> TreatmentSession:
    return treatment.book_session(
        actor_of(frontdesk), TreatmentSession.objects.get(pk=session.pk), starts_at=at(clinic, day, clock),
        clinician=clinician,
    )  # fmt: skip


def test_off_by_default_a_session_may_be_booked_outside_hours_and_over_another(
    frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    assert clinic.config.booking_sessions_follow_hours is False
    day = next_weekday(clinic, 5)  # a Saturday: no hours
    first, second, *_ = sessions(clinician, patient, day)
    book(frontdesk, first, clinic, day, "07:00", clinician)
    assert book(frontdesk, second, clinic, day, "07:10", clinician).status == "booked"


@pytest.mark.parametrize(
    ("weekday", "clock", "sentence"),
    [
        (5, "10:00", "is not within Clinician's working hours"),  # Saturday
        (1, "08:30", "is not within Clinician's working hours"),  # before opening
        (1, "16:30", "is not within Clinician's working hours"),  # runs past closing (45 minutes)
        (1, "11:45", "overlaps the break 12:00-13:00"),
        (1, "10:50", "too close to the appointment 10:00-10:45"),  # the other session plus the 10-minute buffer
    ],
)
def test_on_a_session_keeps_to_hours_breaks_and_other_sessions(
    follow: Any, frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any,
    weekday: int, clock: str, sentence: str,
) -> None:  # fmt: skip
    day = next_weekday(clinic, weekday)
    first, second, *_ = sessions(clinician, patient, day)
    if weekday == 1:
        book(frontdesk, first, clinic, day, "10:00", clinician)
    before = counts()
    with pytest.raises(ValidationError) as refused:
        book(frontdesk, second, clinic, day, clock, clinician)
    assert sentence in " ".join(refused.value.message_dict["starts_at"])
    assert counts() == before
    assert TreatmentSession.objects.get(pk=second.pk).starts_at is None


def test_on_time_off_refuses_and_a_free_time_off_the_grid_is_taken(
    follow: Any, admin_user: Any, frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    day = next_weekday(clinic, 2)
    services.add_time_off(actor_of(admin_user), clinician=clinician, first_day=day, last_day=day)
    first, *_ = sessions(clinician, patient, day)
    with pytest.raises(ValidationError, match="is off on"):
        book(frontdesk, first, clinic, day, "10:00", clinician)
    other = next_weekday(clinic, 3)
    assert book(frontdesk, first, clinic, other, "10:07", clinician).status == "booked"  # no grid for sessions


def test_on_a_session_may_be_rebooked_over_its_own_time(
    follow: Any, frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    day = next_weekday(clinic, 1)
    first, *_ = sessions(clinician, patient, day)
    booked = book(frontdesk, first, clinic, day, "10:00", clinician)
    moved = book(frontdesk, booked, clinic, day, "10:15", clinician)
    assert moved.version == booked.version + 1


def test_on_appointments_still_refuse_a_session(
    follow: Any, frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    day = next_weekday(clinic, 1)
    services.book_appointment(
        actor_of(frontdesk), patient=patient, appointment_type=types["follow_up"], clinician=clinician,
        starts_at=at(clinic, day, "14:00"),
    )  # fmt: skip
    first, *_ = sessions(clinician, patient, day)
    with pytest.raises(ValidationError, match="too close to the appointment 14:00-14:30"):
        book(frontdesk, first, clinic, day, "13:30", clinician)
