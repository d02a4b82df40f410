"""Messages sent at once, outside the outbox: the one-time code of an online booking (docs/BOOKING.md, "Online
booking"; the booking.send_now hook) and the confirmation sent to the person right after that code
(messaging/booked_online.py).

A code must reach the person within its 15 minutes, whatever the clinic's sending window (08:00-20:00 by default,
docs/MESSAGING.md) and without waiting for the scheduler's next pass; and it is a secret, so no copy is kept in the
outbox for staff to read (the booking's audit row records that a code was sent, by which channel, to a masked
address). It goes through the same backends as the outbox: Django's email backend (the file backend in the demo,
DATA_DIR/outbox/email/) with the outbox's email layout, and the configured SMS backend (DATA_DIR/outbox/sms.jsonl in
the demo). A failure raises: the caller tells the person the code could not be sent.
"""

import uuid as uuid_lib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from prolotrack.messaging.backends import sms_backend
from prolotrack.messaging.content import contact_line

Attachment = tuple[str, str | bytes, str]


@dataclass(frozen=True)
class ImmediateMessage:
    """What an SMS backend reads of a message (`uuid`, `to_address`, `body`), like an outbox row."""

    to_address: str
    body: str
    subject: str = ""
    uuid: uuid_lib.UUID = field(default_factory=uuid_lib.uuid4)


def send_now(
    clinic: Any, channel: str, to_address: str, subject: str, body: str, attachments: Sequence[Attachment] = ()
) -> None:
    """Send one message now by email or SMS (an email may carry attachments: name, content, type); raise when the
    backend fails."""
    if channel == "sms":
        sms_backend().send(ImmediateMessage(to_address, body, subject))
        return
    footer = contact_line(clinic)
    html = render_to_string(
        "messaging/email.html",
        {"subject": subject, "paragraphs": [p.split("\n") for p in body.split("\n\n")], "footer": footer},
    )
    reply_to = clinic.config.contact_email
    email = EmailMultiAlternatives(
        subject=subject,
        body=f"{body}\n\n--\n{footer}",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to_address],
        reply_to=[reply_to] if reply_to else None,
    )
    email.attach_alternative(html, "text/html")
    for name, content, content_type in attachments:
        email.attach(name, content, content_type)
    email.send(fail_silently=False)
