"""An online booking awaiting its code holds its slot until the hold expires; an appointment is for exactly one
person: a patient, or a person who booked online and is not confirmed yet (docs/BOOKING.md)."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from prolotrack.booking import queries
from prolotrack.booking.models import Appointment, AppointmentKind, AppointmentStatus, PendingPatient
from prolotrack.booking.testing import at, next_weekday
from prolotrack.core.records import service_write

pytestmark = pytest.mark.django_db


def _pending(clinic: Any) -> PendingPatient:
    with service_write():
        return PendingPatient.objects.create(
            clinic=clinic, given_name="Ana", family_name="Ruiz", date_of_birth=date(1980, 5, 1), email="a@example.org"
        )


def _appointment(clinic: Any, kind: Any, clinician: Any, start: Any, **person: Any) -> Appointment:
    with service_write():
        return Appointment.objects.create(
            clinic=clinic,
            appointment_type=kind,
            clinician=clinician,
            starts_at=start,
            duration_minutes=kind.duration_minutes,
            **person,
        )


def _starts(clinic: Any, kind: Any, clinician: Any, day: date) -> set[str]:
    slots = queries.free_slots(clinic, kind, day, day, clinician=clinician)
    return {f"{slot.start.astimezone(clinic.tz):%H:%M}" for slot in slots}


@pytest.mark.parametrize(
    ("status", "expires_in_minutes", "holds"),
    [
        (AppointmentStatus.HELD, 15, True),
        (AppointmentStatus.HELD, -1, False),  # the hold ran out: the slot is free again
        (AppointmentStatus.HELD, None, False),  # a hold with no end holds nothing
        (AppointmentStatus.BOOKED, None, True),
        (AppointmentStatus.CANCELLED, None, False),
    ],
)
def test_a_held_slot_is_taken_only_while_the_hold_lasts(clinic, clinician, types, status, expires_in_minutes, holds):
    kind = types[AppointmentKind.FOLLOW_UP]
    day = next_weekday(clinic, 2)
    start = at(clinic, day, "10:00")
    assert "10:00" in _starts(clinic, kind, clinician, day)
    expires = None if expires_in_minutes is None else timezone.now() + timedelta(minutes=expires_in_minutes)
    _appointment(
        clinic, kind, clinician, start, pending_patient=_pending(clinic), status=status, hold_expires_at=expires
    )
    assert ("10:00" not in _starts(clinic, kind, clinician, day)) == holds


@pytest.mark.parametrize("person", ["none", "both"])
def test_an_appointment_is_for_exactly_one_person(clinic, clinician, types, patient, person):
    kind = types[AppointmentKind.FOLLOW_UP]
    start = at(clinic, next_weekday(clinic, 2), "10:00")
    people = {} if person == "none" else {"patient": patient, "pending_patient": _pending(clinic)}
    with pytest.raises(IntegrityError), transaction.atomic():
        _appointment(clinic, kind, clinician, start, **people)
    assert not Appointment.objects.exists()
