"""A course's "book your next session" link sent by the outbox (messaging/course_links.py): planned once staff's
request is committed, by email (else SMS), in the patient's language; the token made when it goes, so the stored copy
cannot book; a link replaced before it went cancels the message."""

import re
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from prolotrack.billing.testing import set_clinic_settings
from prolotrack.booking import course_links
from prolotrack.booking.testing import course_with_a_session_done, set_up_week
from prolotrack.clinics.testing import actor_of
from prolotrack.messaging.backends import LocmemSMSBackend
from prolotrack.messaging.models import Channel, MessageKind, OutboxMessage
from prolotrack.messaging.services import send_message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _week(admin_user: Any, clinician: Any, clinic: Any) -> None:
    set_clinic_settings(clinic, send_window_start_hour=0, send_window_end_hour=24)
    set_up_week(actor_of(admin_user), [clinician])


def _send(frontdesk: Any, course: Any, capture: Any) -> OutboxMessage:
    with capture(execute=True):
        course_links.create_course_link(actor_of(frontdesk), course, delivery="message")
    message = OutboxMessage.objects.get(kind=MessageKind.COURSE_LINK)
    assert send_message(message, now=timezone.now()) == "sent"
    message.refresh_from_db()
    return message


def test_by_email_in_spanish_with_a_link_only_in_the_patients_copy(
    clinician: Any, frontdesk: Any, make_patient: Any, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    course = course_with_a_session_done(clinician, make_patient(email="ana@example.org", preferred_language="es"))
    message = _send(frontdesk, course, django_capture_on_commit_callbacks)
    assert message.channel == Channel.EMAIL and "[personal booking link: in the patient's copy only]" in message.body
    email = mail.outbox[-1]
    assert (
        email.subject.startswith("Reserve su próxima sesión") and "sesión 2 de su tratamiento (rodilla)" in email.body
    )
    found = re.search(r"https?://[^/\s]+(/course-link/[\w-]+/)", email.body)
    assert found is not None
    assert "Reserve su próxima sesión" in client.get(found.group(1)).content.decode()


def test_by_sms_without_email_and_cancelled_when_replaced(
    clinician: Any, frontdesk: Any, make_patient: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PROLOTRACK_SMS_BACKEND = "prolotrack.messaging.backends.LocmemSMSBackend"
    LocmemSMSBackend.outbox.clear()
    course = course_with_a_session_done(clinician, make_patient(phone="+1 312 555 0199"))
    message = _send(frontdesk, course, django_capture_on_commit_callbacks)
    assert message.channel == Channel.SMS and "/course-link/" in LocmemSMSBackend.outbox[-1]["body"]
    with django_capture_on_commit_callbacks(execute=True):
        course_links.create_course_link(actor_of(frontdesk), course, delivery="message")
    course_links.create_course_link(actor_of(frontdesk), course)  # shown instead: the queued one lapses
    queued = OutboxMessage.objects.filter(kind=MessageKind.COURSE_LINK, status="queued").get()
    assert send_message(queued, now=timezone.now()) == "cancelled"


def test_planned_at_once_and_again_once_committed_is_one_row_and_no_error(
    clinician: Any, frontdesk: Any, make_patient: Any, caplog: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The demo seed plans the message inside its own transaction and the link's after-commit event plans it again
    when the seed commits: the second finds it planned and does nothing (it once failed the outbox's unique check
    and logged an ERROR from the on_commit hook)."""
    from prolotrack.messaging import course_links as messages

    course = course_with_a_session_done(clinician, make_patient(email="ana@example.org"))
    with django_capture_on_commit_callbacks(execute=True):
        link, _token = course_links.create_course_link(actor_of(frontdesk), course, delivery="message")
        assert messages.plan(link.pk)
    assert not messages.plan(link.pk)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert OutboxMessage.objects.filter(kind=MessageKind.COURSE_LINK).count() == 1
