"""A used course link opens as the page of the session it booked (booking/course_links.py, "Once used"): the patient
sees it and cancels it with a reason within the clinic's cancellation window, through treatment's cancel on the
patient channel, audited; outside the window, after a move by staff or once the course closes, nothing is written."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.billing.testing import set_clinic_settings
from prolotrack.booking import course_links
from prolotrack.booking.testing import at, course_with_a_session_done
from prolotrack.clinics.testing import actor_of
from prolotrack.core.records import service_write
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.models import SessionStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    cache.clear()  # rate-limit counts live in the cache


@pytest.fixture
def booked(frontdesk: Any, clinician: Any, make_patient: Any, types: dict[str, Any]) -> tuple[Any, str]:
    """A course whose session 2 was booked from its link, 3 to 9 days ahead (under 336 hours, the longest
    cancellation window): (the session, the link's token)."""
    course = course_with_a_session_done(
        clinician, make_patient(email="ada@example.org", preferred_language="es"), days_ago=25
    )  # session 2 from in 3 days
    link, token = course_links.create_course_link(actor_of(frontdesk), course)
    first = course_links.link_view(link).first
    day = first + timedelta(days=(0 - first.weekday()) % 7)
    session = course_links.book_from_course_link(link, starts_at=at(course.clinic, day, "10:00"), clinician=clinician)
    return session, token


def counts() -> tuple[int, int]:
    return AuditEvent.objects.count(), RecordVersion.objects.count()


def test_the_used_link_shows_the_session_and_cancels_it_with_a_reason(client: Any, booked: Any) -> None:
    session, token = booked
    page = client.get(f"/course-link/{token}/")
    text = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"] and 'lang="es"' in text
    assert "Su sesión" in text and "Sesión de proloterapia 2" in text and f"/course-link/{token}/cancel/" in text
    assert "Ada" not in text  # the page names no one
    refused = client.post(f"/course-link/{token}/cancel/", {"reason": "other", "details": ""})
    assert refused.status_code == 400
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED
    done = client.post(f"/course-link/{token}/cancel/", {"reason": "unwell"}, REMOTE_ADDR="203.0.113.7")
    said = done.content.decode()
    assert done.status_code == 200 and "Su sesión está cancelada" in said and "Sesión cancelada" in said
    assert "cita" not in said.lower()  # a course session, not an appointment (the manage link's page says "cita")
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED and session.status_reason.startswith("Patient unwell")
    event = AuditEvent.objects.get(action="treatment.session.cancelled")
    assert (event.channel, event.user_id) == ("patient_link", None)
    assert AuditEvent.objects.filter(action="booking.course_link.session_cancelled").count() == 1
    assert client.get(f"/course-link/{token}/").status_code == 410
    assert client.post(f"/course-link/{token}/cancel/", {"reason": "unwell"}).status_code == 410


def test_the_cancelled_page_speaks_of_a_session_in_english_too(client: Any, booked: Any) -> None:
    _, token = booked
    done = client.post(f"/course-link/{token}/cancel/?lang=en", {"reason": "unwell"})
    said = done.content.decode()
    assert done.status_code == 200 and 'lang="en"' in said
    assert "Your session is cancelled" in said and "<title>Session cancelled" in said
    assert "To book this session at another time, please contact the clinic." in said
    assert "appointment" not in said.lower()


def test_inside_the_window_it_says_to_call_and_writes_nothing(client: Any, booked: Any) -> None:
    session, token = booked
    set_clinic_settings(session.clinic, booking_cancel_window_hours=336, contact_phone="+1 312 555 0100")
    page = client.get(f"/course-link/{token}/")
    assert page.status_code == 200 and "llame a la clínica" in page.content.decode()
    assert f"/course-link/{token}/cancel/" not in page.content.decode()
    before = counts()
    posted = client.post(f"/course-link/{token}/cancel/", {"reason": "unwell"})
    assert posted.status_code == 400 and "llame a la clínica" in posted.content.decode()
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED and counts() == before


def _staff_move(session: Any) -> None:
    treatment_services.book_session(
        actor_of(session.clinician), session, starts_at=session.starts_at + timedelta(hours=4),
        clinician=session.clinician,
    )  # fmt: skip


def _close(session: Any) -> None:
    with service_write():
        session.course.status = "stopped"
        session.course.save()


@pytest.mark.parametrize("change", [_staff_move, _close])
def test_a_move_by_staff_or_a_closed_course_closes_it(client: Any, booked: Any, change: Any) -> None:
    session, token = booked
    change(session)
    before = counts()
    assert client.get(f"/course-link/{token}/").status_code == 410
    assert client.post(f"/course-link/{token}/cancel/", {"reason": "unwell"}).status_code == 410
    assert counts() == before


def test_the_used_link_moves_the_session_within_the_plans_window(client: Any, booked: Any) -> None:
    session, token = booked
    link = course_links.course_link(token)
    window = course_links.move_window(link)
    assert window.blocked is None and window.first is not None
    assert course_links.move_slots(link, window.first - timedelta(days=1)) == []  # before the plan allows
    page = client.get(f"/course-link/{token}/move/?day={session.starts_at.date().isoformat()}")
    assert page.status_code == 200 and "Cambiar esta sesión de horario" in page.content.decode()
    before = counts()
    early = at(session.clinic, window.first - timedelta(days=1), "10:00")
    refused = client.post(f"/course-link/{token}/move/", {"slot": early.isoformat()})
    assert refused.status_code == 409 and counts() == before
    day = timezone.localtime(session.starts_at, session.clinic.tz).date()
    slot = next(s for s in course_links.move_slots(link, day) if s.start != session.starts_at)
    moved = client.post(f"/course-link/{token}/move/", {"slot": slot.start.isoformat()}, REMOTE_ADDR="203.0.113.8")
    assert moved.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED and session.starts_at == slot.start
    assert AuditEvent.objects.get(action="booking.course_link.session_moved").channel == "patient_link"
    again = client.get(f"/course-link/{token}/?done=moved")
    assert again.status_code == 200 and "Su sesión se cambió de horario" in again.content.decode()
