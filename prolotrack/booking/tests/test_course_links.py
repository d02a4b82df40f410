"""A course's "book your next session" link (booking/course_links.py): made by staff, shown once, it books the
course's next planned session through treatment's book_session in the plan's window; course states, window edges, a
taken slot, reuse, revocation and expiry refused with nothing written."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.services import AccessDenied, ServiceError
from prolotrack.booking import course_links, patient_links, services
from prolotrack.booking.models import AppointmentKind, CourseLink
from prolotrack.booking.testing import at, course_with_a_session_done
from prolotrack.clinics.testing import actor_of
from prolotrack.core.links import LinkState, token_hash
from prolotrack.core.records import service_write
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.models import SessionStatus

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (CourseLink.objects.filter(used_at__isnull=False).count(), AuditEvent.objects.count(),
            RecordVersion.objects.count())  # fmt: skip


def monday_from(day: date) -> date:
    return day + timedelta(days=(0 - day.weekday()) % 7)


@pytest.fixture
def course(clinician: Any, patient: Any, types: dict[str, Any]) -> Any:
    return course_with_a_session_done(clinician, patient)


@pytest.fixture
def made(frontdesk: Any, course: Any) -> tuple[CourseLink, str]:
    return course_links.create_course_link(actor_of(frontdesk), course)


def test_the_link_books_the_next_session_once_in_the_plans_window(made: Any, course: Any, clinician: Any) -> None:
    link, token = made
    assert link.token_hash == token_hash(token) and course_links.course_link(token) == link
    assert link.session.number == 2 and link.state() == LinkState.OPEN
    assert abs(link.expires_at - timezone.now() - timedelta(days=14)) < timedelta(minutes=1)  # follow-up link days
    view = course_links.link_view(link)
    assert (view.number, view.of, view.clinician, view.blocked) == (2, 5, str(clinician), "")
    assert view.first == course.started_on + timedelta(weeks=4)  # Rabago: 4 weeks after session 1
    assert course_links.slots(link, view, view.first - timedelta(days=1)) == []
    day = monday_from(view.first)
    start = at(course.clinic, day, "10:00")
    assert any(s.start == start for s in course_links.slots(link, view, day))
    booked = course_links.book_from_course_link(
        link, starts_at=start, clinician=clinician, client_address="203.0.113.9"
    )
    assert (booked.status, booked.starts_at, booked.clinician, booked.duration_minutes) == (
        SessionStatus.BOOKED, start, clinician, 45)  # fmt: skip
    assert AuditEvent.objects.filter(action="treatment.session.booked", channel="patient_link", user=None).count() == 1
    assert AuditEvent.objects.filter(action="booking.course_link.used", client_address="203.0.113.9").count() == 1
    with pytest.raises(patient_links.LinkClosed) as closed:  # single use
        course_links.book_from_course_link(link, starts_at=start + timedelta(hours=1), clinician=clinician)
    assert closed.value.state == LinkState.USED


def _close(course: Any) -> None:
    with service_write():
        course.status = "stopped"
        course.save()


def _withdraw(course: Any) -> None:
    consent = course.consents.get()
    with service_write():
        consent.status = "withdrawn"
        consent.save()


def _staff_book(course: Any) -> None:
    session = course.sessions.get(number=2)
    clinician = course.clinician
    day = monday_from(timezone.localdate(timezone=course.clinic.tz) + timedelta(days=30))
    treatment_services.book_session(actor_of(clinician), session, starts_at=at(course.clinic, day, "14:00"),
                                    clinician=clinician)  # fmt: skip


@pytest.mark.parametrize(
    ("change", "words"),
    [(_close, "has ended"), (_withdraw, "speak with you first"), (_staff_book, "already booked")],
    ids=["course stopped", "consent withdrawn", "booked by staff meanwhile"],
)
def test_an_open_link_says_why_it_books_nothing(
    made: Any, course: Any, clinician: Any, change: Any, words: str
) -> None:
    link, _token = made
    view = course_links.link_view(link)
    start = at(course.clinic, monday_from(view.first), "10:00")
    change(course)
    assert words in course_links.link_view(link).blocked
    before = counts()
    with pytest.raises(course_links.CourseLinkBlocked, match=words):
        course_links.book_from_course_link(link, starts_at=start, clinician=clinician)
    assert counts() == before


def test_window_edges_a_taken_slot_and_a_stranger_clinician_write_nothing(
    made: Any, course: Any, clinician: Any, colleague: Any, patient: Any, frontdesk: Any, types: Any
) -> None:
    link, _token = made
    view = course_links.link_view(link)
    assert view.first is not None and view.last is not None
    early = at(course.clinic, view.first - timedelta(days=1), "10:00")
    late = at(course.clinic, view.last + timedelta(days=1), "10:00")
    day = monday_from(view.first)
    taken = at(course.clinic, day, "10:00")
    services.book_appointment(actor_of(frontdesk), patient=patient, appointment_type=types[AppointmentKind.FOLLOW_UP],
                              clinician=clinician, starts_at=taken)  # fmt: skip
    before = counts()
    for start in (early, late, taken, at(course.clinic, day, "12:15")):  # before, past, taken, over lunch
        with pytest.raises(patient_links.SlotTaken):
            course_links.book_from_course_link(link, starts_at=start, clinician=clinician)
    with pytest.raises(Exception, match="Choose one of the free times"):
        course_links.book_from_course_link(link, starts_at=at(course.clinic, day, "15:00"), clinician=colleague)
    assert counts() == before and course.sessions.get(number=2).status == SessionStatus.PLANNED
    assert link.state() == LinkState.OPEN  # the patient chooses again


def test_a_new_link_revokes_the_old_and_expiry_closes(made: Any, course: Any, frontdesk: Any, clinician: Any) -> None:
    old, _token = made
    new, _new_token = course_links.create_course_link(actor_of(frontdesk), course)
    old.refresh_from_db()
    assert old.state() == LinkState.REVOKED and new.state() == LinkState.OPEN
    start = at(course.clinic, monday_from(course_links.link_view(new).first), "10:00")
    with pytest.raises(patient_links.LinkClosed):
        course_links.book_from_course_link(old, starts_at=start, clinician=clinician)
    assert new.state(new.expires_at) == LinkState.EXPIRED


def test_who_may_make_a_link_and_for_which_course(
    course: Any, frontdesk: Any, researcher: Any, clinician: Any, make_patient: Any
) -> None:
    with pytest.raises(AccessDenied):
        course_links.create_course_link(actor_of(researcher), course)
    _close(course)
    with pytest.raises(ServiceError, match="closed"):
        course_links.create_course_link(actor_of(frontdesk), course)
    fresh = course_with_a_session_done(clinician, make_patient(given_name="Bo"), consent=False)
    with pytest.raises(ServiceError, match="consent"):
        course_links.create_course_link(actor_of(frontdesk), fresh)
    assert CourseLink.objects.count() == 0
