"""Two people take the last slot at the same moment: one wins, the other is refused with the next free slots
(docs/BOOKING.md, "Double booking"). Threads need committed rows and their own connections, so this is the app's
one transactional test; it runs on SQLite (BEGIN IMMEDIATE) and on PostgreSQL (SELECT ... FOR UPDATE on the
clinician's row)."""

import threading
from datetime import time
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from prolotrack.booking import services
from prolotrack.booking.models import Appointment
from prolotrack.booking.testing import at, next_weekday
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of

THREADS = 2


@pytest.mark.django_db(transaction=True)
def test_two_bookings_of_the_last_slot_one_wins(
    admin_user: User, frontdesk: User, clinician: User, clinic: Any, make_patient: Any
) -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("threads need a file database: set PROLOTRACK_TEST_SQLITE")
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
    start = threading.Barrier(THREADS)
    won: list[Appointment] = []
    refused: list[services.SlotUnavailable] = []
    errors: list[BaseException] = []

    def take(patient: Any) -> None:
        try:
            start.wait()
            won.append(
                services.book_appointment(
                    actor_of(frontdesk),
                    patient=patient,
                    appointment_type=kind,
                    clinician=clinician,
                    starts_at=last_slot,
                )
            )
        except services.SlotUnavailable as error:
            refused.append(error)
        except BaseException as error:  # reported below, with every thread's outcome
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(p,)) for p in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(won) == 1 and len(refused) == 1
    assert "too close to the appointment 09:00-09:30" in str(refused[0])
    # That day is now full: the next free slots are on the following weeks' same weekday.
    nexts = refused[0].next_slots
    assert nexts and all(s.start > last_slot for s in nexts)
    assert timezone.localtime(nexts[0].start, clinic.tz).strftime("%H:%M") == "09:00"
    held = Appointment.objects.filter(clinic=clinic, starts_at=last_slot)
    assert held.count() == 1
