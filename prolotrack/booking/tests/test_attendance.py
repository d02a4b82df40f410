"""Marking an appointment attended or a no-show once its start has come, and a patient's appointments on the chart
(docs/BOOKING.md, "Attended and no-show", "Appointments on the chart")."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.services import ServiceError
from prolotrack.booking import attendance, services
from prolotrack.booking.models import Appointment, AppointmentKind, AppointmentStatus
from prolotrack.booking.testing import at, next_weekday, pending_booking
from prolotrack.clinics.testing import actor_of
from prolotrack.core.errors import AccessDenied
from prolotrack.core.records import service_write

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (AuditEvent.objects.count(), RecordVersion.objects.count())


def book(clinic: Any, clinician: Any, patient: Any, types: Any, clock: str = "10:00") -> Appointment:
    return services.book_appointment(
        actor_of(clinician),
        patient=patient,
        appointment_type=types[AppointmentKind.FOLLOW_UP],
        clinician=clinician,
        starts_at=at(clinic, next_weekday(clinic, 1), clock),
    )


def started(visit: Appointment, minutes: int = 5) -> Appointment:
    """The same appointment as if its start was `minutes` ago (written directly: staff cannot book the past)."""
    visit.starts_at = timezone.now() - timedelta(minutes=minutes)
    with service_write():
        visit.save(update_fields=["starts_at"])
    return Appointment.objects.get(pk=visit.pk)


def test_attended_then_corrected_to_a_no_show(clinic: Any, clinician: Any, frontdesk: Any, patient: Any,
                                              types: Any) -> None:  # fmt: skip
    visit = started(book(clinic, clinician, patient, types))
    actor = actor_of(frontdesk)
    marked = attendance.set_attendance(actor, visit, "attended", expected_version=visit.version)
    assert marked.status == AppointmentStatus.ATTENDED
    corrected = attendance.set_attendance(actor, marked, "no_show", expected_version=marked.version)
    assert corrected.status == AppointmentStatus.NO_SHOW and corrected.version == visit.version + 2
    actions = list(
        AuditEvent.objects.filter(action__startswith="booking.appointment.").values_list("action", flat=True)
    )
    assert "booking.appointment.attended" in actions and "booking.appointment.no_show" in actions


def test_not_before_the_start_and_nothing_written(clinic: Any, clinician: Any, frontdesk: Any, patient: Any,
                                                   types: Any) -> None:  # fmt: skip
    visit = book(clinic, clinician, patient, types)
    before = counts()
    with pytest.raises(ServiceError, match="once the time has come"):
        attendance.set_attendance(actor_of(frontdesk), visit, "no_show", expected_version=visit.version)
    assert counts() == before and Appointment.objects.get().status == AppointmentStatus.BOOKED


@pytest.mark.parametrize(
    ("status", "error"), [("cancelled", ValidationError), ("booked", ValidationError), ("", ValidationError)]
)
def test_bad_marks_write_nothing(clinic: Any, clinician: Any, frontdesk: Any, patient: Any, types: Any,
                                 status: str, error: Any) -> None:  # fmt: skip
    visit = started(book(clinic, clinician, patient, types))
    before = counts()
    with pytest.raises(error):
        attendance.set_attendance(actor_of(frontdesk), visit, status, expected_version=visit.version)
    assert counts() == before


def test_a_cancelled_appointment_is_not_marked(clinic: Any, clinician: Any, frontdesk: Any, patient: Any,
                                                 types: Any) -> None:  # fmt: skip
    visit = book(clinic, clinician, patient, types)
    visit = services.cancel_appointment(
        actor_of(frontdesk), visit, reason="patient_request", expected_version=visit.version
    )
    visit = started(visit)
    before = counts()
    with pytest.raises(ServiceError, match="cancelled appointment"):
        attendance.set_attendance(actor_of(frontdesk), visit, "no_show", expected_version=visit.version)
    assert counts() == before


def test_a_stale_mark_is_refused(clinic: Any, clinician: Any, frontdesk: Any, patient: Any, types: Any) -> None:
    visit = started(book(clinic, clinician, patient, types))
    before = counts()
    with pytest.raises(Exception, match="after you opened it"):
        attendance.set_attendance(actor_of(frontdesk), visit, "attended", expected_version=visit.version - 1)
    assert counts() == before


def test_a_pending_persons_appointment_is_not_marked(clinic: Any, clinician: Any, frontdesk: Any, types: Any) -> None:
    pending_booking(clinic, types[AppointmentKind.FOLLOW_UP], clinician, at(clinic, next_weekday(clinic, 1), "11:00"))
    visit = started(Appointment.objects.get())
    with pytest.raises(ServiceError, match="Confirm or merge"):
        attendance.set_attendance(actor_of(frontdesk), visit, "attended", expected_version=visit.version)


@pytest.mark.parametrize("persona", ["admin", "researcher"])
def test_who_may_not_mark(personas: Any, clinic: Any, clinician: Any, patient: Any, types: Any, persona: str) -> None:
    visit = started(book(clinic, clinician, patient, types))
    with pytest.raises(AccessDenied):
        attendance.set_attendance(actor_of(personas[persona]), visit, "attended", expected_version=visit.version)


def test_the_buttons_show_from_the_start_and_post(login: Any, clinic: Any, clinician: Any, frontdesk: Any,
                                                  patient: Any, types: Any) -> None:  # fmt: skip
    visit = book(clinic, clinician, patient, types)
    client = login(frontdesk)
    page = client.get(f"/appointments/{visit.uuid}/").content.decode()
    assert "Mark attended" not in page and "can be marked from the start time" in page
    visit = started(visit)
    page = client.get(f"/appointments/{visit.uuid}/").content.decode()
    assert "Mark attended" in page and "Mark no-show" in page
    done = client.post(f"/appointments/{visit.uuid}/attendance/", {"status": "no_show", "version": visit.version})
    assert done.status_code == 302 and Appointment.objects.get().status == AppointmentStatus.NO_SHOW
    assert client.get(f"/appointments/{visit.uuid}/attendance/").status_code == 405
    assert login(clinician).get(f"/appointments/{visit.uuid}/").status_code == 200


def test_the_chart_lists_upcoming_and_past_appointments(login: Any, clinic: Any, clinician: Any, frontdesk: Any,
                                                        patient: Any, make_patient: Any, types: Any) -> None:  # fmt: skip
    past = started(book(clinic, clinician, patient, types, "09:00"), minutes=60 * 24 * 3)
    attendance.set_attendance(actor_of(frontdesk), past, "attended", expected_version=past.version)
    coming = book(clinic, clinician, patient, types, "14:00")
    other = make_patient(given_name="Zed", family_name="Other")
    book(clinic, clinician, other, types, "15:00")
    found = attendance.patient_appointments(clinic, patient)
    assert [a.pk for a in found.upcoming] == [coming.pk] and [a.pk for a in found.past] == [past.pk]
    client = login(frontdesk)
    chart = client.get(f"/patients/{patient.uuid}/").content.decode()
    assert f"/patients/{patient.uuid}/appointments/" in chart
    card = client.get(f"/patients/{patient.uuid}/appointments/", headers={"HX-Request": "true"}).content.decode()
    assert "Upcoming" in card and "Attended" in card and "Booked" in card and "Zed" not in card
    assert "<html" not in card
    page = client.get(f"/patients/{patient.uuid}/appointments/").content.decode()
    assert "<html" in page and "Follow-up" in page
    assert login(personas_researcher(client, clinic)).get(f"/patients/{patient.uuid}/appointments/").status_code == 403


def personas_researcher(client: Any, clinic: Any) -> Any:
    from prolotrack.clinics.models import Membership, Role, User

    user = User.objects.create_user(username="r2", password="correct horse battery")
    Membership.objects.create(user=user, clinic=clinic, role=Role.RESEARCHER)
    return user
