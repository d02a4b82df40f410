"""A course's "book your next session" link sent by the outbox (docs/BOOKING.md, "Course links").

Staff ask for it on the course (booking/course_links.py); once committed, `plan` writes the outbox row: by email when
the chart has an address, else by SMS to its mobile number (one channel: the link is single use and its token is made
when the message is sent, as a waitlist offer's), due today, sent by the next pass in the sending window, in the
patient's preferred language. The stored copy says "[personal booking link: in the patient's copy only]"; a link used,
revoked or expired before the message went cancels it.

Once the patient books from it, `plan_confirmation` queues the session's confirmation (kind `session_confirmation`,
on each channel the patient has, due today), written at send time from the session as it is then, with the session's
.ics (messaging/ics.py `patient_appointment`, the reminder's file) on the email; a session cancelled or moved before it
went cancels it (the new time is the staff's to confirm, and the reminders follow it).
"""

from datetime import datetime

from django.utils import timezone

from prolotrack.audit.services import Actor
from prolotrack.booking import course_links as booking_course_links
from prolotrack.booking.models import CourseLink
from prolotrack.core.links import LinkState
from prolotrack.core.patient_words import REGION_WORDS
from prolotrack.core.site import site_url
from prolotrack.messaging import content, ics, outbox, waitlist
from prolotrack.messaging.models import Channel, MessageKind, OutboxMessage

TARGET_PREFIX = "course_link:"
CONFIRMATION_PREFIX = "session_confirmation:"


def link_of(message: OutboxMessage) -> CourseLink:
    uuid = message.target.removeprefix(TARGET_PREFIX)
    return CourseLink.objects.select_related("clinic", "course", "session", "patient").get(
        clinic=message.clinic, uuid=uuid
    )


def plan(link_pk: int) -> bool:
    """The listener of booking.course_link_requested: one outbox row for the link (email, else SMS)."""
    link = CourseLink.objects.select_related("clinic", "patient").get(pk=link_pk)
    patient = link.patient
    if not (patient.email or patient.phone) or link.state() != LinkState.OPEN:
        return False
    today = timezone.localtime(timezone.now(), link.clinic.tz).date()
    return bool(
        waitlist.plan_link_message(link.clinic, patient, MessageKind.COURSE_LINK, f"{TARGET_PREFIX}{link.uuid}", today)
    )


def lapse_reason(message: OutboxMessage, now: datetime) -> str:
    """Why the message is no longer to send: its link was used, revoked (a newer one) or has expired."""
    state = link_of(message).state(now)
    return "" if state == LinkState.OPEN else f"Its link is {state} (used, replaced or expired) before it went."


def words(message: OutboxMessage, *, with_link: bool) -> tuple[str, str, str]:
    """(subject, the stored body, the patient's body): the token is made only for the patient's copy, now."""
    link = link_of(message)
    written = content.course_link(
        message.patient, message.clinic, link.session.number, str(REGION_WORDS.get(link.course.region, "")),
        message.clinic.config.booking_follow_up_link_days, sms=message.channel == Channel.SMS,
    )  # fmt: skip
    stored = written.body.replace(content.LINK_PLACEHOLDER, content.COURSE_LINK_REDACTED)
    if not with_link:
        return written.subject, stored, stored
    path = booking_course_links.issue_token(link)
    return written.subject, stored, written.body.replace(content.LINK_PLACEHOLDER, site_url(path))


# --- The confirmation of the session booked from the link -----------------------------------------------------------


def _session_key(link: CourseLink) -> str:
    """The link and the session's local start to the minute: a session moved since has another key."""
    session = link.session
    assert session.starts_at is not None, "a booked session has its start"
    return f"{CONFIRMATION_PREFIX}{link.uuid}:{timezone.localtime(session.starts_at, link.clinic.tz):%Y-%m-%dT%H:%M}"


def confirmation_link(message: OutboxMessage) -> CourseLink:
    uuid = message.target.removeprefix(CONFIRMATION_PREFIX).split(":", 1)[0]
    return CourseLink.objects.select_related(
        "clinic", "course", "session", "session__clinic", "session__clinician", "patient"
    ).get(clinic=message.clinic, uuid=uuid)


def plan_confirmation(link_pk: int) -> int:
    """The listener of booking.course_session_booked: the confirmation on each channel the patient has (email with
    the .ics, SMS), due today. Returns how many were planned."""
    link = CourseLink.objects.select_related("clinic", "patient", "session").get(pk=link_pk)
    patient = link.patient
    if patient.is_entered_in_error or link.session.starts_at is None:
        return 0
    today = timezone.localtime(timezone.now(), link.clinic.tz).date()
    planned = 0
    for channel, address in ((Channel.EMAIL, patient.email), (Channel.SMS, patient.phone)):
        if not address:
            continue
        message = OutboxMessage(
            clinic=link.clinic, patient=patient, channel=channel, kind=MessageKind.SESSION_CONFIRMATION,
            target=_session_key(link), to_address=address, scheduled_for=today,
        )  # fmt: skip
        planned += outbox.plan(Actor.system(link.clinic), message)
    return planned


def confirmation_lapse(message: OutboxMessage, now: datetime) -> str:
    """Why the confirmation is no longer to send: the session was cancelled, moved or has started."""
    link = confirmation_link(message)
    session = link.session
    if session.is_entered_in_error or session.status != "booked" or session.starts_at is None:
        return "The session is no longer booked."
    if _session_key(link) != message.target:
        return "The session was moved; its reminders give the new time."
    if session.starts_at <= now:
        return "The session began before the confirmation could be sent."
    return ""


def confirmation_words(message: OutboxMessage) -> tuple[str, str, list[dict[str, str]]]:
    """(subject, body, attachments): the session as it is now; the .ics on the email only."""
    link = confirmation_link(message)
    session = link.session
    assert session.starts_at is not None, "a booked session has its start"
    written = content.session_confirmation(
        message.patient, message.clinic, session.number, str(REGION_WORDS.get(link.course.region, "")),
        timezone.localtime(session.starts_at, message.clinic.tz), str(session.clinician),
        sms=message.channel == Channel.SMS,
    )  # fmt: skip
    if message.channel == Channel.SMS:
        return written.subject, written.body, []
    attachment = {
        "filename": ics.ics_filename(session),
        "content_type": "text/calendar",
        "content": ics.patient_appointment(session).decode(),
    }
    return written.subject, written.body, [attachment]
