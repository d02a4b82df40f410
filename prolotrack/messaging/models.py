"""Messages to patients (the outbox), patients' opt-outs, and staff calendar feed tokens.

An outbox row is the record of a message: what was (or will be) sent to whom, about which event, when, and what
happened. Rows are clinical records: never deleted, every status change versioned and audited.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from prolotrack.core.records import ClinicalRecord
from prolotrack.domain.reminders import ReminderKind


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class MessageKind(models.TextChoices):
    APPOINTMENT = ReminderKind.APPOINTMENT.value, "Appointment reminder"
    NSAID_STOP = ReminderKind.NSAID_STOP.value, "NSAID stop reminder"
    PRE_PROCEDURE = ReminderKind.PRE_PROCEDURE.value, "Pre-procedure instructions"
    QUESTIONNAIRE_DUE = ReminderKind.QUESTIONNAIRE_DUE.value, "Questionnaire due"
    QUESTIONNAIRE_OVERDUE = ReminderKind.QUESTIONNAIRE_OVERDUE.value, "Questionnaire overdue"
    # Not a reminder: a booked (or moved) appointment's confirmation, with its manage link and .ics
    # (messaging/appointments.py).
    APPOINTMENT_CONFIRMATION = "appointment_confirmation", "Appointment confirmation"
    # Not a reminder: an invoice, receipt or superbill the staff chose to email (messaging.services.queue_document).
    BILLING_DOCUMENT = "billing_document", "Invoice, receipt or superbill"
    # Not a reminder: a freed slot offered to a waitlisted patient, with its hold link (messaging/waitlist.py).
    WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"
    # Not a reminder: the link to a pre-visit intake form (intake.services.request_intake; docs/INTAKE.md).
    INTAKE_LINK = "intake_link", "Pre-visit intake form"
    # Not a reminder: a course's "book your next session" link (messaging/course_links.py; docs/BOOKING.md).
    COURSE_LINK = "course_link", "Link to book the next session"
    # Not a reminder: the confirmation of a course session booked from its course link, with the .ics
    # (messaging/course_links.py; docs/BOOKING.md, "Course links").
    SESSION_CONFIRMATION = "session_confirmation", "Course session confirmation"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED_OPTED_OUT = "skipped_opted_out", "Skipped: patient opted out"
    CANCELLED = "cancelled", "Not sent: no longer applies"


OPEN_STATUSES = (MessageStatus.QUEUED, MessageStatus.FAILED)


class OutboxMessage(ClinicalRecord):
    """One message to one patient on one channel, planned for a day, sent at most once."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="messages")
    channel = models.CharField(max_length=5, choices=Channel.choices)
    kind = models.CharField(max_length=24, choices=MessageKind.choices)
    # What the message is about, with the local start when it matters ("session:<uuid>:2026-11-20T09:30"): a session
    # moved to another day or hour gets fresh reminders for its new time, and the same reminder is never planned twice
    # (constraint below).
    target = models.CharField(max_length=120)
    session = models.ForeignKey(
        "treatment.TreatmentSession", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    timepoint = models.ForeignKey(
        "treatment.CourseTimepoint", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A booking-app appointment (an assessment, a follow-up): its confirmation and reminder.
    appointment = models.ForeignKey(
        "booking.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_address = models.CharField(max_length=254, help_text="Email address or phone number at planning time.")
    # The words as sent, written from the facts at the moment of sending; empty while the message is planned (the
    # outbox shows a preview from the current facts instead).
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    # [{"filename", "content_type", "content"}]: text attachments such as the appointment's .ics, as sent.
    attachments = models.JSONField(default=list, blank=True)
    scheduled_for = models.DateField(help_text="The day it is due, in the clinic's time zone.")
    status = models.CharField(max_length=20, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "kind", "channel", "target"], name="outbox_once_per_target")
        ]
        indexes = [
            models.Index(fields=["clinic", "status", "scheduled_for"]),
            models.Index(fields=["clinic", "-scheduled_for"]),
            models.Index(fields=["patient", "-scheduled_for"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_channel_display()} for {self.scheduled_for:%Y-%m-%d}"


class PendingMessageKind(models.TextChoices):
    CONFIRMATION = "confirmation", "Confirmation"
    REMINDER = "reminder", "Reminder"


class PendingMessage(ClinicalRecord):
    """A message to a person who booked online and is still pending (no chart, so no outbox row: docs/BOOKING.md,
    "After the code"): the confirmation sent at once and its bounded retries, and the reminder before the visit.

    It keeps no words and no link: each try writes them from the facts of that moment, with a fresh manage link (and
    the intake's, for a confirmation) made with the earlier ones revoked, so one link works at a time. Sent by the
    scheduler's pass (messaging/booked_online.py `send_due`), every state change versioned and audited."""

    appointment = models.ForeignKey("booking.Appointment", on_delete=models.PROTECT, related_name="+")
    pending_patient = models.ForeignKey("booking.PendingPatient", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=PendingMessageKind.choices)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    # The reminder's key is the appointment's local start to the minute (a moved visit gets a new reminder); a
    # confirmation's is "confirmation".
    target = models.CharField(max_length=120)
    language = models.CharField(max_length=8)
    scheduled_for = models.DateField(help_text="The day it is due, in the clinic's time zone.")
    status = models.CharField(max_length=20, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)  # the error's type and why; never an address or a link

    class Meta:
        ordering = ["scheduled_for", "id"]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "kind", "target"], name="pending_message_once_per_target")
        ]
        indexes = [models.Index(fields=["clinic", "status", "scheduled_for"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_channel_display()} to a pending person"


class MessageOptOut(ClinicalRecord):
    """A patient's choice about one kind of message on one channel; switching back is a new version, not a delete."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="message_opt_outs")
    channel = models.CharField(max_length=5, choices=Channel.choices)
    kind = models.CharField(max_length=24, choices=MessageKind.choices)
    opted_out = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "channel", "kind"], name="opt_out_once_per_channel_kind")
        ]


class CalendarFeedToken(models.Model):
    """A secret feed URL of one staff member in one clinic. Only the SHA-256 of the token is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "clinic"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_live_calendar_feed_per_member",
            )
        ]

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None
