"""Hooks of the booking app (core/hooks.py; listed in docs/ARCHITECTURE.md, "Hooks").

Booking sits below messaging in the layers, yet the public booking page must send its one-time code by email or SMS
at once (booking/online.py), and a booked appointment's confirmation (with its manage link and .ics) goes out through
the messaging outbox (booking/patient_links.py). Messaging provides both in its AppConfig.ready(), and the welcome of a
booking verified on the public page (its intake opened, its confirmation sent at once).

Booking also sits below intake: an appointment booked, moved or cancelled tells intake, which opens, re-times or
cancels the visit's pre-visit intake (docs/INTAKE.md, "Sent when a visit is booked").
"""

from typing import Any

from prolotrack.core.hooks import AfterCommit, Hook

send_now: Hook[[Any, str, str, str, str], None] = Hook(
    "booking.send_now",
    "send one message at once, outside the outbox's planning and sending window, through the configured email or SMS "
    "backend: (clinic, channel 'email' or 'sms', address, subject, body); raises when the backend fails (messaging)",
)

appointment_message: Hook[[Any, Any, str], int] = Hook(
    "booking.appointment_message",
    "queue a message about an appointment (the actor, the appointment, the kind: 'confirmation'), written and sent by "
    "the messaging scheduler with the manage link and the .ics; returns how many were queued (messaging)",
)

online_booked: Hook[[Any, str], Any] = Hook(
    "booking.online_booked",
    "a booking on the public page was just verified by its code (the appointment, the page's language): open its "
    "intake when the visit needs one and send the confirmation at once to the verified contact; returns what the "
    "booked page shows (the manage and intake paths, where the message went) (messaging)",
)

pending_messages: Hook[[list[int]], dict[int, list[str]]] = Hook(
    "booking.pending_messages",
    "the messages to people still pending, for the front desk's list of online bookings: for each appointment id, "
    "its confirmation's and reminder's state in words (sent, failed with the next try, planned) (messaging)",
)

appointment_changed: Hook[[Any, Any, str], int] = Hook(
    "booking.appointment_changed",
    "an appointment was moved or cancelled (the actor, the appointment, 'moved' or 'cancelled'), inside the booking's "
    "transaction: a moved visit keeps its intake with its link's expiry following the new start; a cancelled visit's "
    "open intake is cancelled and its link revoked; returns how many intakes changed (intake)",
)

appointment_booked: AfterCommit[[int]] = AfterCommit(
    "booking.appointment_booked",
    "an appointment was booked for a patient (its pk), by staff or from a patient's link: once committed, intake "
    "emails the pre-visit intake link of an assessment when the clinic's intake_auto_send is on",
)

course_link_requested: AfterCommit[[int]] = AfterCommit(
    "booking.course_link_requested",
    "staff asked for a course's 'book your next session' link to be sent by message (the link's pk): once committed, "
    "messaging plans the outbox row (email, else SMS, in the patient's language); the token is made when it is sent",
)

course_session_booked: AfterCommit[[int]] = AfterCommit(
    "booking.course_session_booked",
    "a course's session was booked from its course link (the link's pk): once committed, messaging plans the "
    "confirmation to the patient (each channel they have, in their language, the .ics attached to the email)",
)
