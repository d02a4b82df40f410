"""The waitlist's services (docs/BOOKING.md, "Waitlist"): joining (bad input writes nothing), offers in order with a
held slot, a hold that runs out passing to the next in line, accepting and declining, withdrawing."""

from datetime import date, time, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.booking import queries, waitlist
from prolotrack.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    OfferOutcome,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from prolotrack.booking.testing import at, next_weekday
from prolotrack.clinics.testing import actor_of
from prolotrack.core.links import LinkState
from prolotrack.core.records import service_write

pytestmark = pytest.mark.django_db


def _day(clinic: Any) -> date:
    return next_weekday(clinic, 2, at_least=3)  # a Wednesday at least three days ahead: past any notice and hold


def _join(frontdesk: Any, patient: Any, kind: Any, day: date, **extra: Any) -> WaitlistEntry:
    values: dict[str, Any] = {
        "patient": patient,
        "appointment_type": kind,
        "first_day": day,
        "last_day": day,
        "earliest": time(10),
        "latest": time(10, 30),  # a 30-minute follow-up: only the 10:00 slot fits
        **extra,
    }
    return waitlist.join_waitlist(actor_of(frontdesk), **values)


def _fill_day(frontdesk: Any, clinician: Any, kind: Any, clinic: Any, day: date, make_patient: Any) -> Appointment:
    """Book 10:00 on the day so nothing in the window is free; return that appointment."""
    from prolotrack.booking import services

    return services.book_appointment(
        actor_of(frontdesk),
        patient=make_patient(given_name="Booked", email="booked@example.org"),
        appointment_type=kind,
        clinician=clinician,
        starts_at=at(clinic, day, "10:00"),
    )


def _counts() -> tuple[int, int, int]:
    return WaitlistEntry.objects.count(), RecordVersion.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def follow_up(types: Any) -> Any:
    return types[AppointmentKind.FOLLOW_UP]


@pytest.fixture
def waiting(make_patient: Any) -> list[Any]:
    return [make_patient(given_name=f"Wait{n}", email=f"w{n}@example.org") for n in range(3)]


def test_joining_records_the_window_in_line_order(clinic, frontdesk, follow_up, waiting):
    day = _day(clinic)
    first = _join(frontdesk, waiting[1], follow_up, day, weekdays=[2, "4"])
    second = _join(frontdesk, waiting[0], follow_up, day)
    assert first.weekdays == "24" and first.status == WaitlistStatus.ACTIVE
    assert [e.pk for e in waitlist.entries(clinic)] == [first.pk, second.pk]
    assert AuditEvent.objects.filter(action="booking.waitlist.joined").count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"first_day": "2026-01-01"}, "first_day"),
        ({"last_day": "tomorrow"}, "last_day"),
        ({"earliest": time(11), "latest": time(10)}, "latest"),
        ({"weekdays": [7]}, "weekdays"),
        ({"earliest": "ten"}, "earliest"),
        ({"appointment_type": None}, "appointment_type"),
        ({"patient": None}, "patient"),
        ({"note": "x" * 301}, "note"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_writes_nothing(
    clinic, frontdesk, follow_up, waiting, change, field
):
    before = _counts()
    values: dict[str, Any] = {
        "patient": waiting[0],
        "appointment_type": follow_up,
        "first_day": _day(clinic),
        "last_day": _day(clinic),
    }
    values.update(change)
    with pytest.raises(ValidationError) as refused:
        waitlist.join_waitlist(actor_of(frontdesk), **values)
    assert field in refused.value.message_dict
    assert _counts() == before


def test_a_window_over_before_today_a_patient_without_email_and_a_second_entry_are_refused(
    clinic, frontdesk, follow_up, make_patient, patient
):
    today = queries.clinic_today(clinic)
    emailed = make_patient(given_name="Eve", email="eve@example.org")
    with pytest.raises(ValidationError, match="ended before today"):
        _join(frontdesk, emailed, follow_up, today - timedelta(days=3))
    with pytest.raises(ValidationError, match="no email address"):
        _join(frontdesk, patient, follow_up, _day(clinic))
    _join(frontdesk, emailed, follow_up, _day(clinic))
    before = _counts()
    with pytest.raises(ValidationError, match="already waiting"):
        _join(frontdesk, emailed, follow_up, _day(clinic) + timedelta(days=7))
    assert _counts() == before


def test_a_role_that_does_not_book_cannot_add(clinic, admin_user, follow_up, waiting):
    from prolotrack.core.errors import AccessDenied

    with pytest.raises(AccessDenied):
        _join(admin_user, waiting[0], follow_up, _day(clinic))


def test_a_freed_slot_is_offered_to_the_first_in_line_and_held(
    clinic, frontdesk, clinician, follow_up, waiting, make_patient
):
    day = _day(clinic)
    booked = _fill_day(frontdesk, clinician, follow_up, clinic, day, make_patient)
    entries = [_join(frontdesk, p, follow_up, day) for p in waiting]
    now = timezone.now()
    assert waitlist.make_offers(clinic, now) == []  # nothing free in the window
    from prolotrack.booking import services

    services.cancel_appointment(actor_of(frontdesk), booked, reason="patient_request", expected_version=None)
    offers = waitlist.make_offers(clinic, now)
    assert [o.entry_id for o in offers] == [entries[0].pk]  # one at a time: the first in line only
    held = offers[0].appointment
    assert held.status == AppointmentStatus.HELD and held.patient_id == waiting[0].pk
    assert held.hold_expires_at == offers[0].expires_at
    assert abs((held.hold_expires_at - now) - timedelta(minutes=clinic.config.waitlist_hold_minutes)) < timedelta(1)
    # The slot is held: nobody else sees it free, and the next pass offers nothing more.
    assert at(clinic, day, "10:00") not in {s.start for s in queries.free_slots(clinic, follow_up, day, day)}
    assert waitlist.make_offers(clinic, now) == []
    assert WaitlistEntry.objects.get(pk=entries[0].pk).status == WaitlistStatus.OFFERED


def test_a_hold_that_runs_out_goes_to_the_next_in_line(clinic, frontdesk, follow_up, waiting):
    day = _day(clinic)
    entries = [_join(frontdesk, p, follow_up, day) for p in waiting]
    now = timezone.now()
    first = waitlist.make_offers(clinic, now)
    assert [o.entry_id for o in first] == [entries[0].pk]
    later = first[0].expires_at + timedelta(seconds=1)
    assert waitlist.expire_offers(clinic, later) == 1
    closed = WaitlistOffer.objects.get(pk=first[0].pk)
    assert closed.outcome == OfferOutcome.EXPIRED
    assert Appointment.objects.get(pk=first[0].appointment_id).status == AppointmentStatus.CANCELLED
    assert WaitlistEntry.objects.get(pk=entries[0].pk).status == WaitlistStatus.ACTIVE  # still waiting
    second = waitlist.make_offers(clinic, later)
    assert [o.entry_id for o in second] == [entries[1].pk]
    assert second[0].appointment.starts_at == first[0].appointment.starts_at
    third = waitlist.make_offers(clinic, later)
    assert third == []  # the second still holds it; the third waits their turn


def test_accepting_books_the_held_slot_once(clinic, frontdesk, follow_up, waiting):
    day = _day(clinic)
    entry = _join(frontdesk, waiting[0], follow_up, day)
    offer = waitlist.make_offers(clinic, timezone.now())[0]
    path = waitlist.issue_link(offer)
    token = path.rstrip("/").rsplit("/", 1)[1]
    found = waitlist.offer_by_token(token)
    assert found is not None and found.pk == offer.pk
    booked = waitlist.accept_offer(found, client_address="203.0.113.9")
    assert booked.status == AppointmentStatus.BOOKED and booked.hold_expires_at is None
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.BOOKED
    assert waitlist.offer_state(WaitlistOffer.objects.get(pk=offer.pk)) == LinkState.USED
    with pytest.raises(waitlist.OfferClosed) as again:
        waitlist.accept_offer(found)
    assert again.value.state == LinkState.USED
    event = AuditEvent.objects.filter(action="booking.waitlist.offer_accepted").get()
    assert event.channel == "patient_link"


def test_an_earlier_link_stops_working_when_a_new_one_is_issued(clinic, frontdesk, follow_up, waiting):
    _join(frontdesk, waiting[0], follow_up, _day(clinic))
    offer = waitlist.make_offers(clinic, timezone.now())[0]
    old = waitlist.issue_link(offer).rstrip("/").rsplit("/", 1)[1]
    new = waitlist.issue_link(offer).rstrip("/").rsplit("/", 1)[1]
    assert waitlist.offer_by_token(old) is None
    assert waitlist.offer_by_token(new) is not None


def test_declining_releases_the_slot_for_the_next_in_line(clinic, frontdesk, follow_up, waiting):
    day = _day(clinic)
    entries = [_join(frontdesk, p, follow_up, day) for p in waiting[:2]]
    now = timezone.now()
    offer = waitlist.make_offers(clinic, now)[0]
    waitlist.decline_offer(offer)
    assert WaitlistEntry.objects.get(pk=entries[0].pk).status == WaitlistStatus.ACTIVE
    assert Appointment.objects.get(pk=offer.appointment_id).status == AppointmentStatus.CANCELLED
    nxt = waitlist.make_offers(clinic, now)
    assert [o.entry_id for o in nxt] == [entries[1].pk]  # not the one who declined that very slot
    waitlist.decline_offer(nxt[0], leave=True)
    assert WaitlistEntry.objects.get(pk=entries[1].pk).status == WaitlistStatus.WITHDRAWN
    assert waitlist.make_offers(clinic, now) == []  # the first declined this slot, the second left


def test_a_hold_that_ran_out_cannot_be_accepted(clinic, frontdesk, follow_up, waiting):
    _join(frontdesk, waiting[0], follow_up, _day(clinic))
    offer = waitlist.make_offers(clinic, timezone.now())[0]
    with service_write():  # the hold ran out a second ago (the scheduler has not passed yet)
        WaitlistOffer.objects.filter(pk=offer.pk).first()
        Appointment.objects.filter(pk=offer.appointment_id).first()
    past = timezone.now() - timedelta(seconds=1)
    offer.expires_at = past
    with service_write():
        offer.save(update_fields=["expires_at"])
    with pytest.raises(waitlist.OfferClosed) as closed:
        waitlist.accept_offer(offer)
    assert closed.value.state == LinkState.EXPIRED
    assert Appointment.objects.get(pk=offer.appointment_id).status == AppointmentStatus.HELD


def test_withdrawing_releases_an_open_offer(clinic, frontdesk, follow_up, waiting):
    entry = _join(frontdesk, waiting[0], follow_up, _day(clinic))
    offer = waitlist.make_offers(clinic, timezone.now())[0]
    entry.refresh_from_db()
    before = _counts()
    with pytest.raises(ValidationError):
        waitlist.withdraw_entry(actor_of(frontdesk), entry, reason="  ", expected_version=entry.version)
    assert _counts() == before
    waitlist.withdraw_entry(actor_of(frontdesk), entry, reason="Booked by phone", expected_version=entry.version)
    offer.refresh_from_db()
    assert offer.outcome == OfferOutcome.WITHDRAWN and offer.revoked_at is not None
    assert Appointment.objects.get(pk=offer.appointment_id).status == AppointmentStatus.CANCELLED
    assert WaitlistEntry.objects.get(pk=entry.pk).status_reason == "Booked by phone"


def test_an_entry_whose_window_passed_expires(clinic, frontdesk, follow_up, waiting):
    day = _day(clinic)
    entry = _join(frontdesk, waiting[0], follow_up, day, earliest=time(7), latest=time(8))  # nothing ever fits
    assert waitlist.make_offers(clinic, timezone.now()) == []
    waitlist.expire_offers(clinic, at(clinic, day + timedelta(days=1), "09:00"))
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.EXPIRED


def test_a_clinician_wish_is_kept(clinic, admin_user, frontdesk, clinician, colleague, follow_up, waiting, make_member):
    from prolotrack.booking import services
    from prolotrack.clinics.models import Role

    other = make_member("drb", Role.CLINICIAN, clinic)
    services.set_offers(actor_of(admin_user), follow_up, [clinician, other])
    day = _day(clinic)
    entry = _join(frontdesk, waiting[0], follow_up, day, clinician=other)
    assert waitlist.make_offers(clinic, timezone.now()) == []  # the other clinician has no hours
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.ACTIVE
