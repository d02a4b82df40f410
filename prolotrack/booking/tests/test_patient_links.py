"""Manage links and follow-up links (booking/patient_links.py): link states, the cancellation window, the patient's cancel
and move through the booking services (audited with the patient channel), refused input writing nothing, and the
follow-up link booking directly."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.services import AccessDenied, ServiceError
from prolotrack.billing.testing import set_clinic_settings
from prolotrack.booking import patient_links as manage
from prolotrack.booking import services
from prolotrack.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    BookingSource,
    FollowUpLink,
    ManageLink,
)
from prolotrack.booking.testing import at, next_weekday
from prolotrack.clinics.testing import actor_of
from prolotrack.core.links import LinkState, token_hash

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        Appointment.objects.count(),
        ManageLink.objects.count(),
        FollowUpLink.objects.count(),
        AuditEvent.objects.count(),
        RecordVersion.objects.count(),
    )


@pytest.fixture
def visit(frontdesk: Any, clinician: Any, patient: Any, types: dict[str, Any]) -> Appointment:
    day = next_weekday(patient.clinic, 1, at_least=3)
    return services.book_appointment(
        actor_of(frontdesk),
        patient=patient,
        appointment_type=types[AppointmentKind.FOLLOW_UP],
        clinician=clinician,
        starts_at=at(patient.clinic, day, "10:00"),
    )


@pytest.fixture
def link(frontdesk: Any, visit: Appointment) -> tuple[ManageLink, str]:
    return manage.issue_manage_link(actor_of(frontdesk), visit)


# --- Link states ----------------------------------------------------------------------------------------------------


def test_a_manage_link_stores_only_its_hash_and_opens_its_appointment(link: Any, visit: Appointment) -> None:
    made, token = link
    assert made.token_hash == token_hash(token) and token not in made.token_hash
    assert manage.manage_link(token).appointment == visit
    assert made.state() == LinkState.OPEN
    assert made.expires_at == visit.starts_at + timedelta(minutes=visit.duration_minutes)
    assert AuditEvent.objects.filter(action="booking.manage_link.created").count() == 1


def test_a_manage_link_opens_again_after_use_and_expires_after_the_appointment_ends(link: Any) -> None:
    made, _token = link
    end = made.appointment.starts_at + timedelta(minutes=made.appointment.duration_minutes)
    made.used_at = timezone.now()
    assert made.state() == LinkState.OPEN  # not single use
    assert made.state(end - timedelta(seconds=1)) == LinkState.OPEN
    assert made.state(end) == LinkState.EXPIRED


def test_a_staff_cancellation_revokes_the_link(frontdesk: Any, link: Any, visit: Appointment) -> None:
    made, token = link
    services.cancel_appointment(actor_of(frontdesk), visit, reason="clinic", expected_version=None)
    made = manage.manage_link(token)
    assert made.state() == LinkState.REVOKED and made.revoked_reason == "The appointment was cancelled."


def test_a_link_follows_a_staff_move(frontdesk: Any, link: Any, visit: Appointment) -> None:
    made, token = link
    later = visit.starts_at + timedelta(days=7)
    services.move_appointment(actor_of(frontdesk), visit, starts_at=later, expected_version=None)
    moved_end = later + timedelta(minutes=visit.duration_minutes)
    made = manage.manage_link(token)
    assert made.state(moved_end - timedelta(minutes=1)) == LinkState.OPEN  # past the old end, before the new one


def test_replacing_revokes_the_older_links_and_a_new_message_link_does_not(frontdesk: Any, visit: Any) -> None:
    _first, first_token = manage.issue_manage_link(actor_of(frontdesk), visit)
    _second, second_token = manage.issue_manage_link(actor_of(frontdesk), visit)
    assert manage.manage_link(first_token).state() == LinkState.OPEN  # each message carries its own
    manage.issue_manage_link(actor_of(frontdesk), visit, replace=True)
    assert manage.manage_link(first_token).state() == LinkState.REVOKED
    assert manage.manage_link(second_token).revoked_reason == "Replaced by a new link."


def test_who_may_issue_a_manage_link(researcher: Any, visit: Any, clinic: Any) -> None:
    before = counts()
    with pytest.raises(AccessDenied):
        manage.issue_manage_link(actor_of(researcher), visit)
    with pytest.raises(AccessDenied):
        manage.issue_manage_link(manage.patient_actor(clinic), visit)  # a patient cannot make links
    assert counts() == before


# --- The window -----------------------------------------------------------------------------------------------------


def test_the_window_closes_the_clinics_hours_before_the_start(visit: Appointment, clinic: Any) -> None:
    deadline = visit.starts_at - timedelta(hours=24)
    assert manage.change_deadline(visit) == deadline
    assert manage.may_change(visit, deadline - timedelta(seconds=1))
    assert not manage.may_change(visit, deadline)  # the deadline itself is too late
    set_clinic_settings(clinic, booking_cancel_window_hours=0)
    visit.clinic.refresh_from_db()
    assert manage.may_change(visit, visit.starts_at - timedelta(seconds=1))


def test_outside_the_window_cancel_and_move_are_refused_and_write_nothing(link: Any, clinic: Any) -> None:
    made, token = link
    set_clinic_settings(clinic, booking_cancel_window_hours=336)  # two weeks: the visit is sooner
    made = manage.manage_link(token)
    before = counts()
    with pytest.raises(manage.OutsideWindow):
        manage.cancel_by_patient(made, reason="unwell")
    with pytest.raises(manage.OutsideWindow):
        manage.move_by_patient(made, starts_at=made.appointment.starts_at + timedelta(days=1))
    assert counts() == before
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


# --- Cancel by the patient ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "details", "field"),
    [
        ("", "", "reason"),
        ("bored", "", "reason"),
        (None, "", "reason"),
        ("other", "", "details"),
        ("other", "  x ", "details"),
        ("unwell", "x" * 201, "details"),
    ],
)
def test_bad_cancellations_are_refused_naming_the_field_and_write_nothing(
    link: Any, reason: Any, details: str, field: str
) -> None:
    made, _token = link
    before = counts()
    with pytest.raises(ValidationError) as refused:
        manage.cancel_by_patient(made, reason=reason, details=details)
    assert field in refused.value.message_dict
    assert counts() == before


def test_the_patient_cancels_with_a_reason_audited_on_the_patient_channel(link: Any) -> None:
    made, token = link
    cancelled = manage.cancel_by_patient(made, reason="other", details="Moving away", client_address="203.0.113.5")
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.status_reason == "Other (say why): Moving away (cancelled online by the patient)"
    event = AuditEvent.objects.get(action="booking.appointment.cancelled")
    assert event.channel == "patient_link" and event.user is None
    assert manage.manage_link(token).state() == LinkState.REVOKED
    with pytest.raises(manage.LinkClosed):
        manage.cancel_by_patient(manage.manage_link(token), reason="unwell")


def test_a_closed_link_cancels_nothing(link: Any, frontdesk: Any, visit: Appointment) -> None:
    made, _token = link
    services.revoke_manage_links(actor_of(frontdesk), visit, "Sent to a wrong address.")
    before = counts()
    with pytest.raises(manage.LinkClosed):
        manage.cancel_by_patient(made, reason="unwell")
    assert counts() == before


# --- Move by the patient --------------------------------------------------------------------------------------------


def test_the_patient_moves_to_a_free_slot_of_the_same_clinician(link: Any, visit: Appointment) -> None:
    made, _token = link
    day = timezone.localtime(visit.starts_at, visit.clinic.tz).date()
    slots = manage.move_slots(made, day)
    assert slots and all(s.clinician == visit.clinician for s in slots)
    assert visit.starts_at not in [s.start for s in slots]
    moved = manage.move_by_patient(made, starts_at=slots[-1].start)
    assert moved.starts_at == slots[-1].start and moved.clinician == visit.clinician
    assert AuditEvent.objects.get(action="booking.appointment.moved").channel == "patient_link"


@pytest.mark.parametrize("bad", ["tomorrow", None, "naive", "past", "taken", "lunch", "off-grid"])
def test_bad_moves_are_refused_and_write_nothing(
    link: Any, visit: Appointment, frontdesk: Any, make_patient: Any, bad: str
) -> None:
    made, _token = link
    day = timezone.localtime(visit.starts_at, visit.clinic.tz).date()
    other_day = day + timedelta(days=7)
    if bad == "taken":
        services.book_appointment(
            actor_of(frontdesk), patient=make_patient(given_name="Bea"), appointment_type=visit.appointment_type,
            clinician=visit.clinician, starts_at=at(visit.clinic, other_day, "14:00"),
        )  # fmt: skip
    start: Any = {
        "tomorrow": "tomorrow",
        None: None,
        "naive": at(visit.clinic, other_day, "14:00").replace(tzinfo=None),
        "past": timezone.now() - timedelta(days=1),
        "taken": at(visit.clinic, other_day, "14:00"),
        "lunch": at(visit.clinic, other_day, "12:15"),
        "off-grid": at(visit.clinic, other_day, "14:05"),
    }[bad]
    before = counts()
    with pytest.raises((ValidationError, manage.SlotTaken)) as refused:
        manage.move_by_patient(made, starts_at=start)
    assert "appointment" not in str(refused.value).lower() or bad != "taken"  # no other patient's details
    assert counts() == before
    assert Appointment.objects.get(pk=visit.pk).starts_at == visit.starts_at


def test_a_move_past_the_online_horizon_is_refused(link: Any, clinic: Any, visit: Appointment) -> None:
    made, token = link
    set_clinic_settings(clinic, booking_max_days_ahead=1)  # online: today and tomorrow only; the visit is later
    made = manage.manage_link(token)
    day = timezone.localtime(visit.starts_at, visit.clinic.tz).date()
    assert manage.move_slots(made, day) == []
    with pytest.raises(manage.SlotTaken):
        manage.move_by_patient(made, starts_at=at(clinic, day, "14:00"))


# --- Follow-up links ------------------------------------------------------------------------------------------------


def test_a_follow_up_link_books_directly_once(frontdesk: Any, patient: Any, clinician: Any, types: Any) -> None:
    made, token = manage.create_follow_up_link(
        actor_of(frontdesk), patient, appointment_type=types[AppointmentKind.FOLLOW_UP], clinician=clinician
    )
    assert made.token_hash == token_hash(token)
    assert abs(made.expires_at - made.created_at - timedelta(days=14)) < timedelta(seconds=5)
    day = next_weekday(patient.clinic, 2, at_least=3)
    slots = manage.follow_up_slots(manage.follow_up_link(token), day)
    assert slots
    booked = manage.book_from_follow_up(manage.follow_up_link(token), starts_at=slots[0].start, clinician=clinician)
    assert booked.source == BookingSource.LINK and booked.patient == patient and booked.clinician == clinician
    assert AuditEvent.objects.get(action="booking.appointment.booked").channel == "patient_link"
    used = manage.follow_up_link(token)
    assert used.state() == LinkState.USED and used.appointment == booked
    before = counts()
    with pytest.raises(manage.LinkClosed):
        manage.book_from_follow_up(used, starts_at=slots[1].start, clinician=clinician)
    assert counts() == before


def test_a_follow_up_link_without_clinician_offers_anyone_who_offers_the_type(
    frontdesk: Any, patient: Any, types: Any, clinician: Any
) -> None:
    made, _token = manage.create_follow_up_link(
        actor_of(frontdesk), patient, appointment_type=types[AppointmentKind.ASSESSMENT]
    )
    assert manage.follow_up_clinicians(made) == [clinician]


@pytest.mark.parametrize("bad", ["session", "not a type", "other clinic's patient", "not a patient", "wrong clinician"])
def test_bad_follow_up_links_are_refused_and_write_nothing(
    frontdesk: Any, patient: Any, types: Any, colleague: Any, outsider: Any, bad: str
) -> None:
    from prolotrack.patients import services as patient_services

    kind: Any = types[AppointmentKind.FOLLOW_UP]
    who: Any = None
    person: Any = patient
    if bad == "session":
        kind = types[AppointmentKind.SESSION]
    elif bad == "not a type":
        kind = "follow-up"
    elif bad == "other clinic's patient":
        person = patient_services.create_patient(
            actor_of(outsider),
            {"given_name": "Cy", "family_name": "Other", "date_of_birth": "1970-01-01", "sex": "male"},
        )
    elif bad == "not a patient":
        person = "Ada"
    elif bad == "wrong clinician":
        who = colleague
    before = counts()
    with pytest.raises((ValidationError, AccessDenied, ServiceError)):
        manage.create_follow_up_link(actor_of(frontdesk), person, appointment_type=kind, clinician=who)
    assert counts() == before


def test_a_follow_up_slot_not_free_is_refused_and_the_link_stays_open(
    frontdesk: Any, patient: Any, clinician: Any, types: Any
) -> None:
    made, token = manage.create_follow_up_link(
        actor_of(frontdesk), patient, appointment_type=types[AppointmentKind.FOLLOW_UP]
    )
    day = next_weekday(patient.clinic, 2, at_least=3)
    before = counts()
    with pytest.raises(manage.SlotTaken):
        manage.book_from_follow_up(made, starts_at=at(patient.clinic, day, "12:15"), clinician=clinician)
    with pytest.raises(ValidationError):
        manage.book_from_follow_up(made, starts_at=at(patient.clinic, day, "10:00"), clinician=None)
    assert counts() == before
    assert manage.follow_up_link(token).state() == LinkState.OPEN


def test_a_revoked_follow_up_link_books_nothing(frontdesk: Any, patient: Any, clinician: Any, types: Any) -> None:
    made, token = manage.create_follow_up_link(
        actor_of(frontdesk), patient, appointment_type=types[AppointmentKind.FOLLOW_UP]
    )
    manage.revoke_follow_up_link(actor_of(frontdesk), made, reason="Sent to the wrong address")
    day = next_weekday(patient.clinic, 2, at_least=3)
    before = counts()
    with pytest.raises(manage.LinkClosed):
        manage.book_from_follow_up(
            manage.follow_up_link(token), starts_at=at(patient.clinic, day, "10:00"), clinician=clinician
        )
    assert counts() == before
