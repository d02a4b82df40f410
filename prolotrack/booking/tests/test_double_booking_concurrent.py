"""Two people take the last slot at the same moment: one wins, the other is refused with the next free slots
(docs/BOOKING.md, "Double booking"). Threads need committed rows and their own connections, so this is the app's
one transactional test; it runs on SQLite (BEGIN IMMEDIATE) and on PostgreSQL (SELECT ... FOR UPDATE on the
clinician's row)."""

from collections.abc import Callable
from datetime import time
from typing import Any

import pytest
from django.utils import timezone

from prolotrack.booking import services
from prolotrack.booking.models import Appointment
from prolotrack.booking.testing import at, next_weekday
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.core.testing import race

THREADS = 2


@pytest.mark.django_db(transaction=True)
def test_two_bookings_of_the_last_slot_one_wins(
    admin_user: User, frontdesk: User, clinician: User, clinic: Any, make_patient: Any
) -> None:
    admin = actor_of(admin_user)
    kind = services.create_appointment_type(admin, {"name": "Follow-up", "kind": "follow_up", "duration_minutes": 30})
    services.set_offers(admin, kind, [clinician])
    day = next_weekday(clinic, 2)
    services.add_weekly_period(admin, clinician, weekday=day.weekday(), starts=time(9), ends=time(10))
    first = make_patient()
    services.book_appointment(
        actor_of(frontdesk),
        patient=first,
        appointment_type=kind,
        clinician=clinician,
        starts_at=at(clinic, day, "09:30"),
    )
    patients = [make_patient(given_name=f"Racer{n}") for n in range(THREADS)]
    last_slot = at(clinic, day, "09:00")

    def take(n: int, go: Callable[[], None]) -> Appointment:
        go()
        return services.book_appointment(
            actor_of(frontdesk), patient=patients[n], appointment_type=kind, clinician=clinician, starts_at=last_slot
        )

    outcome = race(THREADS, take, refusals=(services.SlotUnavailable,))
    assert len(outcome.results) == 1 and len(outcome.refused) == 1
    refused = outcome.refused[0]
    assert isinstance(refused, services.SlotUnavailable)
    assert "too close to the appointment 09:00-09:30" in str(refused)
    # That day is now full: the next free slots are on the following weeks' same weekday.
    nexts = refused.next_slots
    assert nexts and all(s.start > last_slot for s in nexts)
    assert timezone.localtime(nexts[0].start, clinic.tz).strftime("%H:%M") == "09:00"
    held = Appointment.objects.filter(clinic=clinic, starts_at=last_slot)
    assert held.count() == 1
