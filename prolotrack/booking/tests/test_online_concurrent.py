"""Two people take the last free time online at the same moment: one holds it, the other is refused with the next free
times (docs/BOOKING.md, "Online booking"). The hold takes the staff booking's clinician lock and slot check, so it
runs like booking/tests/test_double_booking_concurrent.py: threads with their own connections on committed rows, on a
file SQLite database (BEGIN IMMEDIATE) and on PostgreSQL (SELECT ... FOR NO KEY UPDATE)."""

from collections.abc import Callable
from datetime import time
from typing import Any

import pytest
from django.core.cache import cache

from prolotrack.booking import online, services
from prolotrack.booking.models import Appointment, AppointmentStatus
from prolotrack.booking.testing import at, next_weekday
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.core.testing import race

THREADS = 2


@pytest.mark.django_db(transaction=True)
def test_two_people_holding_the_last_free_time_one_wins(admin_user: User, clinician: User, clinic: Any) -> None:
    cache.clear()
    admin = actor_of(admin_user)
    kind = services.create_appointment_type(
        admin, {"name": "Follow-up", "kind": "follow_up", "duration_minutes": 30, "bookable_online": True}
    )
    services.set_offers(admin, kind, [clinician], online=[clinician])
    day = next_weekday(clinic, 2)
    services.add_weekly_period(admin, clinician, weekday=day.weekday(), starts=time(9), ends=time(9, 30))
    clinic.settings = {**clinic.settings, "online_booking": True}
    clinic.save()
    last = at(clinic, day, "09:00")

    def take(n: int, go: Callable[[], None]) -> online.Held:
        person = online.clean_booker(
            {"given_name": f"Racer{n}", "family_name": "Online", "date_of_birth": "1980-01-01",
             "email": f"racer{n}@example.com"},
            day,
        )  # fmt: skip
        go()
        return online.hold_online(
            clinic,
            appointment_type=kind,
            clinician=clinician,
            starts_at=last,
            booker=person,
            client_address=f"192.0.2.{n + 1}",
        )

    outcome = race(THREADS, take, refusals=(online.SlotTaken,))
    assert len(outcome.results) == 1 and len(outcome.refused) == 1
    # The day is full now: the next free time is the same hour a week later.
    refused = outcome.refused[0]
    assert isinstance(refused, online.SlotTaken)
    nexts = refused.next_slots
    assert nexts and all(s.start > last for s in nexts)
    held = Appointment.objects.filter(clinic=clinic, starts_at=last)
    assert held.count() == 1 and held.get().status == AppointmentStatus.HELD
