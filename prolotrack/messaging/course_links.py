"""A course's "book your next session" link sent by the outbox (docs/BOOKING.md, "Course links").

Staff ask for it on the course (booking/course_links.py); once committed, `plan` writes the outbox row: by email when
the chart has an address, else by SMS to its mobile number (one channel: the link is single use and its token is made
when the message is sent, as a waitlist offer's), due today, sent by the next pass in the sending window, in the
patient's preferred language. The stored copy says "[personal booking link: in the patient's copy only]"; a link used,
revoked or expired before the message went cancels it.
"""

from datetime import datetime

from django.utils import timezone

from prolotrack.booking import course_links as booking_course_links
from prolotrack.booking.models import CourseLink
from prolotrack.core.links import LinkState
from prolotrack.core.patient_words import REGION_WORDS
from prolotrack.core.site import site_url
from prolotrack.messaging import content, waitlist
from prolotrack.messaging.models import Channel, MessageKind, OutboxMessage

TARGET_PREFIX = "course_link:"


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
