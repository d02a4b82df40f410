"""Hooks of the booking app (core/hooks.py; listed in docs/ARCHITECTURE.md, "Hooks").

Booking sits below messaging in the layers, yet the public booking page must send its one-time code by email or SMS
at once (booking/online.py), and a booked appointment's confirmation (with its manage link and .ics) goes out through
the messaging outbox (booking/patient_links.py). Messaging provides both in its AppConfig.ready().
"""

from typing import Any

from prolotrack.core.hooks import Hook

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
