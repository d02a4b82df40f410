"""Pre-visit intake (docs/INTAKE.md): the form a new patient fills before an assessment, the link that opens it, and
the clinician's decision on each item it proposes for the chart.

What the patient writes stays here, patient-reported, until a clinician accepts (or edits) an item: only then is it
written to the chart, through the patients services, like any chart entry. Nothing is deleted: an intake is
cancelled, a link revoked, a decision kept.
"""

from django.conf import settings
from django.db import models

from prolotrack.core.links import PatientLinkBase
from prolotrack.core.records import ClinicalRecord
from prolotrack.domain.vocabulary import ReviewDecision


class IntakeStatus(models.TextChoices):
    REQUESTED = "requested", "Sent, not started"
    IN_PROGRESS = "in_progress", "Started, not sent yet"
    SUBMITTED = "submitted", "Sent by the patient, to review"
    REVIEWED = "reviewed", "Reviewed"
    CANCELLED = "cancelled", "Cancelled"


class IntakeDelivery(models.TextChoices):
    EMAIL = "email", "Email (messaging outbox)"
    SHOWN = "shown", "Link shown once (copied, or opened by the person who booked)"


class Intake(ClinicalRecord):
    """One pre-visit intake for one appointment: the patient's answers, as they gave them."""

    appointment = models.ForeignKey("booking.Appointment", on_delete=models.PROTECT, related_name="+")
    # The person: a patient of the clinic, or an online booker not confirmed yet (then `patient` is filled in when the
    # first item is reviewed, after the front desk confirmed or merged them: docs/INTAKE.md, "People not confirmed yet").
    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    pending_patient = models.ForeignKey(
        "booking.PendingPatient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=12, choices=IntakeStatus.choices, default=IntakeStatus.REQUESTED)
    delivery = models.CharField(max_length=6, choices=IntakeDelivery.choices, default=IntakeDelivery.EMAIL)
    answers = models.JSONField(default=dict, blank=True, help_text="The patient's answers by step (domain/intake.py).")
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_on = models.DateField(null=True, blank=True, help_text="The clinic's day the answers were sent.")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(patient__isnull=False) | models.Q(pending_patient__isnull=False),
                name="intake_for_a_person",
                violation_error_message="An intake is for a patient or an online booker.",
            )
        ]
        indexes = [models.Index(fields=["clinic", "status"]), models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return f"Intake for {self.appointment}"


class IntakeLink(PatientLinkBase):
    """The link that opens one intake's form: single use once the answers are sent, expiring (docs/INTAKE.md)."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    intake = models.ForeignKey(Intake, on_delete=models.PROTECT, related_name="links")

    class Meta:
        ordering = ["-created_at", "-id"]


class IntakeDecision(ClinicalRecord):
    """A clinician's decision on one item of a submitted intake: accepted, edited or rejected, by whom and when."""

    intake = models.ForeignKey(Intake, on_delete=models.PROTECT, related_name="decisions")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    item_key = models.CharField(max_length=60)
    kind = models.CharField(max_length=20)
    decision = models.CharField(max_length=10, choices=ReviewDecision.choices)
    reported = models.JSONField(default=dict, blank=True, help_text="What the patient reported (summary, values).")
    written = models.JSONField(default=dict, blank=True, help_text="What was written to the chart (none if rejected).")
    record_uuid = models.UUIDField(null=True, blank=True, help_text="The chart entry written, if any.")
    reason = models.CharField(max_length=300, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["intake", "item_key"],
                name="intake_one_decision_per_item",
                violation_error_message="This item was already reviewed.",
            )
        ]
