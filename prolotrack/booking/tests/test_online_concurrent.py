"""Two people take the last free time online at the same moment: one holds it, the other is refused with the next free
times (docs/BOOKING.md, "Online booking"). The hold takes the staff booking's clinician lock and slot check, so it
runs like booking/tests/test_double_booking_concurrent.py: threads with their own connections on committed rows, on a
file SQLite database (BEGIN IMMEDIATE) and on PostgreSQL (SELECT ... FOR NO KEY UPDATE)."""

import threading
from datetime import time
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection, connections

from prolotrack.booking import online, services
from prolotrack.booking.models import Appointment, AppointmentStatus
from prolotrack.booking.testing import at, next_weekday
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of

THREADS = 2


@pytest.mark.django_db(transaction=True)
def test_two_people_holding_the_last_free_time_one_wins(admin_user: User, clinician: User, clinic: Any) -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("threads need a file database: set PROLOTRACK_TEST_SQLITE")
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
    start = threading.Barrier(THREADS)
    won: list[online.Held] = []
    refused: list[online.SlotTaken] = []
    errors: list[BaseException] = []

    def take(n: int) -> None:
        try:
            person = online.clean_booker(
                {"given_name": f"Racer{n}", "family_name": "Online", "date_of_birth": "1980-01-01",
                 "email": f"racer{n}@example.com"},
                day,
            )  # fmt: skip
            start.wait()
            won.append(
                online.hold_online(
                    clinic,
                    appointment_type=kind,
                    clinician=clinician,
                    starts_at=last,
                    booker=person,
                    client_address=f"192.0.2.{n + 1}",
                )
            )
        except online.SlotTaken as error:
            refused.append(error)
        except BaseException as error:  # reported below, with every thread's outcome
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(won) == 1 and len(refused) == 1
    # The day is full now: the next free time is the same hour a week later.
    nexts = refused[0].next_slots
    assert nexts and all(s.start > last for s in nexts)
    held = Appointment.objects.filter(clinic=clinic, starts_at=last)
    assert held.count() == 1 and held.get().status == AppointmentStatus.HELD
