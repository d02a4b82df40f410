"""Joining the waitlist by oneself (booking/waitlist_join.py; docs/BOOKING.md, "Joining the waitlist by oneself"):
the public join with its code (unverified entries never offered, the same limits and tries as a booking, a code that
cannot be sent closing everything), bad windows writing nothing, the front desk's confirm and reject carrying the
entries, joining from a manage link (only earlier times, and taking one moves the appointment) and a follow-up link,
leaving from one's own link."""

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.billing.testing import set_clinic_settings
from prolotrack.booking import online, patient_links, pending, queries, services, waitlist, waitlist_join
from prolotrack.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    OfferOutcome,
    PendingPatient,
    PendingStatus,
    WaitlistEntry,
    WaitlistLink,
    WaitlistOffer,
    WaitlistSource,
    WaitlistStatus,
)
from prolotrack.booking.testing import at, next_weekday
from prolotrack.clinics.testing import actor_of
from prolotrack.core.links import LinkState

pytestmark = pytest.mark.django_db

GOOD = {"given_name": "Grace", "family_name": "Hopper", "date_of_birth": "1970-12-09", "email": "grace@example.com"}
ADDRESS = "203.0.113.5"


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    cache.clear()  # rate-limit counts live in the cache


@pytest.fixture
def open_clinic(clinic: Any, types: Any) -> Any:
    clinic.settings = {**clinic.settings, "online_booking": True}
    clinic.save()
    return clinic


@pytest.fixture
def day(clinic: Any) -> date:
    return next_weekday(clinic, 2, at_least=3)  # a Wednesday past any notice and hold


def counts() -> tuple[int, ...]:
    return (
        PendingPatient.objects.count(),
        WaitlistEntry.objects.count(),
        WaitlistLink.objects.count(),
        Appointment.objects.count(),
        RecordVersion.objects.count(),
        AuditEvent.objects.count(),
    )


def window(clinic: Any, day: date, **changes: str) -> waitlist.JoinWindow:
    typed = {"first_day": day.isoformat(), "last_day": day.isoformat(), "earliest": "10:00", "latest": "10:30"}
    return waitlist_join.clean_window(clinic, {**typed, **changes}, [])


def join(clinic: Any, types: Any, day: date, **changes: str) -> PendingPatient:
    return waitlist_join.request_join(
        clinic,
        appointment_type=types[AppointmentKind.FOLLOW_UP],
        clinician=None,
        window=window(clinic, day),
        booker=online.clean_booker({**GOOD, **changes}, date(2026, 12, 7), changes.get("lang", "en")),
        client_address=ADDRESS,
    )


def sent_code() -> str:
    found = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert found is not None
    return found.group(1)


def test_a_public_join_waits_unverified_and_is_never_offered_until_the_code(open_clinic, types, day):
    joined = join(open_clinic, types, day)
    entry = WaitlistEntry.objects.get()
    assert (joined.status, entry.status, entry.source) == (PendingStatus.UNVERIFIED, "unverified", "online")
    assert entry.pending_patient == joined and entry.patient is None
    assert "waitlist code" in mail.outbox[-1].subject and sent_code() not in joined.code_hash
    assert waitlist.make_offers(open_clinic, timezone.now()) == []  # 10:00 is free, but nobody verified
    result = waitlist_join.verify_join(open_clinic, joined, sent_code(), ADDRESS)
    entry.refresh_from_db()
    joined.refresh_from_db()
    assert result.outcome == "joined" and result.token
    assert (joined.status, joined.verified_by_channel, entry.status) == (PendingStatus.PENDING, "email", "active")
    assert "/waitlist/" in mail.outbox[-1].body and "on the waitlist" in mail.outbox[-1].subject
    offers = waitlist.make_offers(open_clinic, timezone.now())
    assert len(offers) == 1
    held = offers[0].appointment
    assert (held.pending_patient, held.patient, held.status) == (joined, None, AppointmentStatus.HELD)


def test_wrong_codes_count_down_then_release_and_a_late_code_expires(open_clinic, types, day, monkeypatch):
    joined = join(open_clinic, types, day)
    for left in (4, 3, 2, 1):
        assert waitlist_join.verify_join(open_clinic, joined, "000000", ADDRESS).tries_left == left
    assert waitlist_join.verify_join(open_clinic, joined, "000000", ADDRESS).outcome == "released"
    assert WaitlistEntry.objects.get().status == WaitlistStatus.EXPIRED
    cache.clear()
    monkeypatch.setattr(online, "HOLD_MINUTES", 0)  # a code that has already run out (no clock is moved)
    late = join(open_clinic, types, day, email="late@example.com")
    assert waitlist_join.verify_join(open_clinic, late, sent_code(), ADDRESS).outcome == "expired"
    assert WaitlistEntry.objects.get(pending_patient=late).status == WaitlistStatus.EXPIRED
    assert not WaitlistLink.objects.exists()


@override_settings(EMAIL_BACKEND="prolotrack.booking.tests.test_online.BrokenEmail")
def test_a_code_that_cannot_be_sent_closes_the_join(open_clinic, types, day):
    with pytest.raises(online.CodeNotSent):
        join(open_clinic, types, day)
    entry = WaitlistEntry.objects.get()
    assert entry.status == WaitlistStatus.EXPIRED and entry.pending_patient.status == PendingStatus.EXPIRED


def test_joins_count_on_the_same_limits_as_holds(open_clinic, types, clinician, day):
    for n in range(4):
        online.hold_online(
            open_clinic, appointment_type=types[AppointmentKind.FOLLOW_UP], clinician=clinician,
            starts_at=at(open_clinic, day, f"1{n}:00" if n < 2 else f"1{n + 1}:00"),
            booker=online.clean_booker(GOOD, date(2026, 12, 7)), client_address=ADDRESS,
        )  # fmt: skip
    join(open_clinic, types, day)  # the fifth for this email address in the hour
    before = counts()
    with pytest.raises(online.TooManyAttempts):
        join(open_clinic, types, day)
    assert counts() == before


def test_what_a_stranger_may_wait_for(clinic, open_clinic, types, clinician, colleague, day):
    session = types[AppointmentKind.SESSION]  # not bookable online
    with pytest.raises(ValidationError) as refused:
        waitlist_join.joinable(open_clinic, session, None)
    assert "type" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        waitlist_join.joinable(open_clinic, types[AppointmentKind.FOLLOW_UP], colleague)  # offers nothing
    assert "clinician" in refused.value.message_dict
    assert waitlist_join.joinable(open_clinic, types[AppointmentKind.FOLLOW_UP], clinician)[1] == clinician
    open_clinic.settings = {**open_clinic.settings, "online_booking": False}
    open_clinic.save()
    with pytest.raises(online.BookingClosed):
        waitlist_join.joinable(open_clinic, types[AppointmentKind.FOLLOW_UP], None)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"first_day": "next week"}, "first_day"),
        ({"last_day": "2026-02-30"}, "last_day"),
        ({"earliest": "ten"}, "earliest"),
        ({"earliest": "11:00", "latest": "10:00"}, "latest"),
        ({"first_day": "2020-01-01"}, "first_day"),
        ({"last_day": "2020-01-01"}, "last_day"),
    ],
)
def test_a_bad_window_names_its_field(clinic, day, changes, field):
    with pytest.raises(ValidationError) as refused:
        window(clinic, day, **changes)
    assert field in refused.value.message_dict


def test_a_window_over_a_year_or_a_bad_weekday_is_refused(clinic, day):
    far = queries.clinic_today(clinic) + timedelta(days=400)
    with pytest.raises(ValidationError, match="within a year"):
        window(clinic, day, last_day=far.isoformat())
    with pytest.raises(ValidationError) as refused:
        waitlist_join.clean_window(clinic, {"first_day": day.isoformat(), "last_day": day.isoformat()}, ["7"])
    assert "weekdays" in refused.value.message_dict


def _verified(clinic: Any, types: Any, day: date) -> PendingPatient:
    joined = join(clinic, types, day)
    assert waitlist_join.verify_join(clinic, joined, sent_code(), ADDRESS).outcome == "joined"
    joined.refresh_from_db()
    return joined


def test_the_front_desk_confirming_moves_the_entry_and_rejecting_withdraws_it(
    open_clinic, types, day, frontdesk, admin_user
):
    joined = _verified(open_clinic, types, day)
    patient = pending.confirm_pending(actor_of(admin_user), joined, sex="female", expected_version=joined.version)
    entry = WaitlistEntry.objects.get(pending_patient__isnull=True)
    assert entry.patient == patient and entry.status == WaitlistStatus.ACTIVE
    cache.clear()
    other = join(open_clinic, types, day, email="other@example.com", given_name="Other")
    waitlist_join.verify_join(open_clinic, other, sent_code(), ADDRESS)
    other.refresh_from_db()
    pending.reject_pending(actor_of(frontdesk), other, reason="not_real", expected_version=other.version)
    left = WaitlistEntry.objects.get(pending_patient=other)
    assert left.status == WaitlistStatus.WITHDRAWN and "rejected" in left.status_reason


def test_staff_may_put_a_patient_with_only_a_mobile_on_the_waitlist(clinic, frontdesk, types, make_patient, day):
    texting = make_patient(given_name="Tex", phone="+1 312 555 0199")
    entry = waitlist.join_waitlist(
        actor_of(frontdesk), patient=texting, appointment_type=types[AppointmentKind.FOLLOW_UP], first_day=day,
        last_day=day,
    )  # fmt: skip
    assert entry.source == WaitlistSource.STAFF
    with pytest.raises(ValidationError, match="no email address or mobile number"):
        waitlist.join_waitlist(
            actor_of(frontdesk), patient=make_patient(given_name="Nobody"),
            appointment_type=types[AppointmentKind.FOLLOW_UP], first_day=day, last_day=day,
        )  # fmt: skip


# --- From a patient's link -----------------------------------------------------------------------------------------


@pytest.fixture
def visit(frontdesk: Any, clinician: Any, make_patient: Any, types: Any, clinic: Any) -> Appointment:
    """Ada's follow-up at 15:00 a week after `day`."""
    later = next_weekday(clinic, 2, at_least=10)
    return services.book_appointment(
        actor_of(frontdesk), patient=make_patient(email="ada@example.org"),
        appointment_type=types[AppointmentKind.FOLLOW_UP], clinician=clinician, starts_at=at(clinic, later, "15:00"),
    )  # fmt: skip


def _fill_before(frontdesk: Any, types: Any, visit: Appointment, make_patient: Any) -> None:
    """Book every follow-up time of the visit's clinician on its day before it (nothing earlier is free there)."""
    blocker = make_patient(given_name="Busy", email="busy@example.org")
    kind, clinic = types[AppointmentKind.FOLLOW_UP], visit.clinic
    one = timezone.localtime(visit.starts_at, clinic.tz).date()
    taken_until = None
    for slot in queries.free_slots(clinic, kind, one, one, clinician=visit.clinician):
        if slot.start < visit.starts_at and (taken_until is None or slot.start >= taken_until):
            taken_until = slot.end
            services.book_appointment(
                actor_of(frontdesk), patient=blocker, appointment_type=kind, clinician=visit.clinician,
                starts_at=slot.start,
            )  # fmt: skip


def test_an_earlier_time_from_a_manage_link_moves_the_appointment_when_taken(
    clinic, frontdesk, clinician, types, visit, make_patient
):
    link, _token = patient_links.issue_manage_link(actor_of(frontdesk), visit)
    visit_day = timezone.localtime(visit.starts_at, clinic.tz).date()
    typed = {"first_day": visit_day.isoformat(), "last_day": visit_day.isoformat()}
    with pytest.raises(ValidationError, match="up to your appointment"):
        waitlist_join.join_from_manage_link(
            link, {**typed, "last_day": (visit_day + timedelta(days=1)).isoformat()}, []
        )
    entry, own = waitlist_join.join_from_manage_link(link, typed, [], client_address=ADDRESS)
    assert (entry.source, entry.replaces, entry.clinician, entry.patient) == ("link", visit, clinician, visit.patient)
    assert WaitlistLink.by_token(own) is not None
    with pytest.raises(waitlist_join.AlreadyWaiting):
        waitlist_join.join_from_manage_link(link, typed, [])
    # Only times after 15:00 are free on the visit's day: none is earlier, so nothing is offered.
    _fill_before(frontdesk, types, visit, make_patient)
    free = queries.free_slots(clinic, types[AppointmentKind.FOLLOW_UP], visit_day, visit_day, clinician=clinician)
    assert free and all(s.start > visit.starts_at for s in free)
    assert waitlist.make_offers(clinic, timezone.now()) == []
    # 09:00 that day frees up: offered, and taking it moves the visit there.
    early = Appointment.objects.get(starts_at=at(clinic, visit_day, "09:00"), status=AppointmentStatus.BOOKED)
    services.cancel_appointment(actor_of(frontdesk), early, reason="clinic", expected_version=None)
    offer = waitlist.make_offers(clinic, timezone.now())[0]
    assert offer.appointment.starts_at == early.starts_at
    booked = waitlist.accept_offer(offer)
    visit.refresh_from_db()
    link.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED and booked.patient == visit.patient
    assert visit.status == AppointmentStatus.CANCELLED and "earlier time" in visit.status_reason
    assert link.state() == LinkState.REVOKED
    assert AuditEvent.objects.filter(action="booking.appointment.moved_earlier_from_waitlist").count() == 1


def test_no_earlier_time_is_asked_inside_the_cancellation_window(
    clinic, frontdesk, clinician, types, make_patient, day
):
    soon = services.book_appointment(
        actor_of(frontdesk), patient=make_patient(email="ada@example.org"),
        appointment_type=types[AppointmentKind.FOLLOW_UP], clinician=clinician, starts_at=at(clinic, day, "15:00"),
    )  # fmt: skip
    link, _token = patient_links.issue_manage_link(actor_of(frontdesk), soon)
    set_clinic_settings(clinic, booking_cancel_window_hours=336)  # two weeks: the visit is inside it
    link = patient_links.manage_link(_token)  # read again, with the clinic's new settings
    before = counts()
    with pytest.raises(patient_links.OutsideWindow):
        waitlist_join.join_from_manage_link(link, {}, [])
    assert counts() == before


def test_a_follow_up_link_joins_and_stays_open_and_the_own_link_leaves(clinic, frontdesk, make_patient, types):
    patient = make_patient(email="ada@example.org")
    link, _t = patient_links.create_follow_up_link(
        actor_of(frontdesk), patient, appointment_type=types[AppointmentKind.FOLLOW_UP]
    )
    today = queries.clinic_today(clinic)
    typed = {"first_day": today.isoformat(), "last_day": (today + timedelta(days=20)).isoformat()}
    entry, own = waitlist_join.join_from_follow_up_link(link, typed, ["0", "2"], client_address=ADDRESS)
    assert (entry.weekdays, entry.clinician, entry.source) == ("02", None, "link")
    link.refresh_from_db()
    assert link.state() == LinkState.OPEN
    offer = waitlist.make_offers(clinic, timezone.now())[0]
    mine = waitlist_join.entry_link(own)
    assert mine is not None
    left = waitlist_join.leave(mine, client_address=ADDRESS)
    offer.refresh_from_db()
    offer.appointment.refresh_from_db()
    assert left.status == WaitlistStatus.WITHDRAWN and offer.outcome == OfferOutcome.WITHDRAWN
    assert offer.appointment.status == AppointmentStatus.CANCELLED  # the held slot is free again
    assert waitlist_join.leave(mine).status == WaitlistStatus.WITHDRAWN  # twice: nothing more
    assert WaitlistOffer.objects.filter(outcome=OfferOutcome.OPEN).count() == 0
