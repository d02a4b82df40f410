"""The confirmation of a course session booked from the course's link (messaging/course_links.py): planned once the
booking commits, on each channel the patient has, in their language, the day and time as the reminders write them,
the clinic's address and phone, the session's .ics on the email; a session cancelled before it went cancels it."""

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from prolotrack.billing.testing import set_clinic_settings
from prolotrack.booking import course_links
from prolotrack.booking.testing import at, course_with_a_session_done, set_up_week
from prolotrack.clinics.testing import actor_of
from prolotrack.core.records import service_write
from prolotrack.messaging.backends import LocmemSMSBackend
from prolotrack.messaging.models import Channel, MessageKind, OutboxMessage
from prolotrack.messaging.services import send_message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _week(admin_user: Any, clinician: Any, clinic: Any) -> None:
    set_clinic_settings(
        clinic,
        send_window_start_hour=0,
        send_window_end_hour=24,
        address="1 Lake St, Chicago",
        contact_phone="+1 312 555 0100",
    )
    set_up_week(actor_of(admin_user), [clinician])


def _book(frontdesk: Any, clinician: Any, patient: Any, capture: Any) -> Any:
    course = course_with_a_session_done(clinician, patient)
    link, _token = course_links.create_course_link(actor_of(frontdesk), course)
    view = course_links.link_view(link)
    day = view.first + timedelta(days=(0 - view.first.weekday()) % 7)
    with capture(execute=True):
        return course_links.book_from_course_link(link, starts_at=at(course.clinic, day, "10:00"), clinician=clinician)


def test_email_in_spanish_with_the_ics_and_an_sms(
    clinician: Any, frontdesk: Any, make_patient: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PROLOTRACK_SMS_BACKEND = "prolotrack.messaging.backends.LocmemSMSBackend"
    LocmemSMSBackend.outbox.clear()
    patient = make_patient(email="ana@example.org", phone="+1 312 555 0199", preferred_language="es")
    session = _book(frontdesk, clinician, patient, django_capture_on_commit_callbacks)
    messages = OutboxMessage.objects.filter(kind=MessageKind.SESSION_CONFIRMATION).order_by("channel")
    assert [m.channel for m in messages] == [Channel.EMAIL, Channel.SMS]
    assert all(send_message(m, now=timezone.now()) == "sent" for m in messages)
    email = mail.outbox[-1]
    local = timezone.localtime(session.starts_at, session.clinic.tz)
    assert email.subject.startswith("Su sesión está reservada")
    assert "sesión 2 de su tratamiento (rodilla)" in email.body and f"a las {local:%H:%M}" in email.body
    assert "1 Lake St, Chicago" in email.body and "+1 312 555 0100" in email.body
    ((_name, ics, kind),) = email.attachments
    assert kind == "text/calendar" and f"DTSTART;TZID=America/Chicago:{local:%Y%m%dT%H%M}" in ics
    assert "sesión 2" in LocmemSMSBackend.outbox[-1]["body"]


def test_a_session_cancelled_before_it_went_cancels_it(
    clinician: Any, frontdesk: Any, make_patient: Any, django_capture_on_commit_callbacks: Any
) -> None:
    session = _book(frontdesk, clinician, make_patient(email="bo@example.org"), django_capture_on_commit_callbacks)
    message = OutboxMessage.objects.get(kind=MessageKind.SESSION_CONFIRMATION)
    with service_write():
        session.status = "cancelled"
        session.save()
    assert send_message(message, now=timezone.now()) == "cancelled" and not mail.outbox


def test_planned_at_once_and_again_once_committed_is_one_row_each_and_no_error(
    clinician: Any, frontdesk: Any, make_patient: Any, caplog: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The demo seed plans the confirmation inside its own transaction and the booking's after-commit event plans
    it again when the seed commits: nothing more, no ERROR from the on_commit hook."""
    from prolotrack.messaging import course_links as messages

    patient = make_patient(email="ana@example.org", phone="+1 312 555 0199")
    course = course_with_a_session_done(clinician, patient)
    link, _token = course_links.create_course_link(actor_of(frontdesk), course)
    view = course_links.link_view(link)
    day = view.first + timedelta(days=(0 - view.first.weekday()) % 7)
    with django_capture_on_commit_callbacks(execute=True):
        course_links.book_from_course_link(link, starts_at=at(course.clinic, day, "10:00"), clinician=clinician)
        assert messages.plan_confirmation(link.pk) == 2
    assert messages.plan_confirmation(link.pk) == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert OutboxMessage.objects.filter(kind=MessageKind.SESSION_CONFIRMATION).count() == 2
