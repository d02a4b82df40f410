"""Hooks of the intake app (core/hooks.py; listed in docs/ARCHITECTURE.md, "Hooks").

Intake sits below messaging in the layers (messaging writes the email and asks intake for a fresh link when it sends
it), so a request to email an intake is told to messaging as an event.
"""

from prolotrack.core.hooks import AfterCommit

intake_email_requested: AfterCommit[[int]] = AfterCommit(
    "intake.intake_email_requested",
    "staff (or a booking) asked for an intake's link to be emailed (the intake's pk): messaging plans the outbox row "
    "once the request is committed; its scheduler pass plans any the event missed",
)
