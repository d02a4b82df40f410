"""Two taps of the right code at the same moment (a double click, two tabs): the booking is made once and welcomed
once: one intake, one intake link, one manage link, one confirmation (docs/BOOKING.md, "After the code"). The code
check takes the clinician's row lock, then the pending person's, so the second try sees the first one's booking and
is a repeat, not a new booking. Threads with their own connections on committed rows, on a file SQLite database
(BEGIN IMMEDIATE) and on PostgreSQL (SELECT ... FOR NO KEY UPDATE), as booking's concurrency tests."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache

from prolotrack.booking import online
from prolotrack.booking.models import AppointmentKind, ManageLink
from prolotrack.booking.testing import at, next_weekday, set_up_week
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.core.testing import race
from prolotrack.intake.models import Intake, IntakeLink

THREADS = 2


@pytest.mark.django_db(transaction=True)
def test_two_taps_of_the_right_code_book_and_welcome_once(admin_user: User, clinician: User, clinic: Any) -> None:
    cache.clear()
    types = set_up_week(actor_of(admin_user), [clinician])
    clinic.settings = {**clinic.settings, "online_booking": True}
    clinic.save()
    day = next_weekday(clinic, 2)
    person = online.clean_booker(
        {"given_name": "Grace", "family_name": "Hopper", "date_of_birth": "1970-12-09", "email": "grace@example.com"},
        day,
    )
    held = online.hold_online(
        clinic,
        appointment_type=types[AppointmentKind.ASSESSMENT],
        clinician=clinician,
        starts_at=at(clinic, day, "10:00"),
        booker=person,
        client_address="192.0.2.1",
    )
    found = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert found is not None
    welcomes: list[Any] = []

    def tap(n: int, go: Callable[[], None]) -> online.Verification:
        go()
        result = online.verify_code(clinic, held.pending, found.group(1), f"192.0.2.{n + 1}")
        if result.just_booked:
            assert result.appointment is not None
            welcomes.append(online.welcome(result.appointment, "en"))
        return result

    results = race(THREADS, tap).results
    assert sorted((r.outcome, r.just_booked) for r in results) == [("booked", False), ("booked", True)]
    assert len(welcomes) == 1 and welcomes[0] is not None and welcomes[0].intake_path
    assert (Intake.objects.count(), IntakeLink.objects.count(), ManageLink.objects.count()) == (1, 1, 1)
    assert len(mail.outbox) == 2  # the code, then one confirmation
