"""Two acceptances of one waitlist offer at the same moment (a double tap, two devices): exactly one books the held
slot, the other is told the offer was answered (docs/BOOKING.md, "Waitlist"). Threads need committed rows and their
own connections: SQLite (BEGIN IMMEDIATE) with a file database, and PostgreSQL (the clinician's row lock, then the
offer's)."""

from collections.abc import Callable
from datetime import time
from typing import Any

import pytest
from django.utils import timezone

from prolotrack.booking import services, waitlist
from prolotrack.booking.models import Appointment, AppointmentStatus, OfferOutcome, WaitlistEntry, WaitlistStatus
from prolotrack.booking.testing import next_weekday
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.core.testing import race

THREADS = 2


@pytest.mark.django_db(transaction=True)
def test_two_acceptances_of_one_offer_one_wins(
    admin_user: User, frontdesk: User, clinician: User, clinic: Any, make_patient: Any
) -> None:
    admin = actor_of(admin_user)
    kind = services.create_appointment_type(admin, {"name": "Follow-up", "kind": "follow_up", "duration_minutes": 30})
    services.set_offers(admin, kind, [clinician])
    day = next_weekday(clinic, 2, at_least=3)
    services.add_weekly_period(admin, clinician, weekday=day.weekday(), starts=time(9), ends=time(10))
    patient = make_patient(email="racer@example.org")
    waitlist.join_waitlist(actor_of(frontdesk), patient=patient, appointment_type=kind, first_day=day, last_day=day)
    offer = waitlist.make_offers(clinic, timezone.now())[0]
    token = waitlist.issue_link(offer).rstrip("/").rsplit("/", 1)[1]

    def accept(n: int, go: Callable[[], None]) -> Appointment:
        found = waitlist.offer_by_token(token)
        assert found is not None
        go()
        return waitlist.accept_offer(found)

    outcome = race(THREADS, accept, refusals=(waitlist.OfferClosed,))
    assert len(outcome.results) == 1 and len(outcome.refused) == 1
    assert getattr(outcome.refused[0], "state", None) == "used"
    booked = Appointment.objects.get(pk=offer.appointment_id)
    assert booked.status == AppointmentStatus.BOOKED and booked.version == 2  # changed once, by the winner
    assert WaitlistEntry.objects.get().status == WaitlistStatus.BOOKED
    assert offer.__class__.objects.get(pk=offer.pk).outcome == OfferOutcome.ACCEPTED


@pytest.mark.django_db(transaction=True)
def test_two_scheduler_passes_at_once_make_each_offer_once(
    admin_user: User, frontdesk: User, clinician: User, clinic: Any, make_patient: Any
) -> None:
    """Two schedulers (docs/OPERATIONS.md runs two) offering at the same moment: each slot is held once and each
    person gets one open offer (the clinician's row lock and re-check, the entry's row lock, and the constraint)."""
    admin = actor_of(admin_user)
    kind = services.create_appointment_type(admin, {"name": "Follow-up", "kind": "follow_up", "duration_minutes": 30})
    services.set_offers(admin, kind, [clinician])
    day = next_weekday(clinic, 2, at_least=3)
    services.add_weekly_period(admin, clinician, weekday=day.weekday(), starts=time(9), ends=time(10))
    for n in range(2):
        waitlist.join_waitlist(
            actor_of(frontdesk),
            patient=make_patient(given_name=f"Wait{n}", email=f"w{n}@example.org"),
            appointment_type=kind,
            first_day=day,
            last_day=day,
        )
    now = timezone.now()

    def run(n: int, go: Callable[[], None]) -> int:
        go()
        return len(waitlist.make_offers(clinic, now))

    assert (
        sum(race(THREADS, run).results) == 2
    )  # two slots (09:00, 09:30), two people: two offers in all, whichever pass made them
    held = Appointment.objects.filter(clinic=clinic, status=AppointmentStatus.HELD)
    assert held.count() == 2 and len({a.starts_at for a in held}) == 2
    assert sorted(WaitlistEntry.objects.values_list("status", flat=True)) == [WaitlistStatus.OFFERED] * 2
