"""Informed consent: for a treatment course, or for research use of a patient's de-identified data.

A signed consent is immutable: its PDF and the PDF's SHA-256 are kept; withdrawal is recorded on the row (who, when,
why), never a deletion.
"""

from django.db import models

from prolotrack.core.records import ClinicalRecord


class ConsentScope(models.TextChoices):
    TREATMENT = "treatment", "Treatment course"
    RESEARCH = "research", "Research use of de-identified data"


class ConsentStatus(models.TextChoices):
    DRAFT = "draft", "Prepared, not signed"
    SIGNED = "signed", "Signed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Consent(ClinicalRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="consents")
    course = models.ForeignKey(
        "treatment.Course", null=True, blank=True, on_delete=models.PROTECT, related_name="consents"
    )
    scope = models.CharField(max_length=10, choices=ConsentScope.choices)
    status = models.CharField(max_length=10, choices=ConsentStatus.choices, default=ConsentStatus.DRAFT)
    # The text the patient read, as generated from the clinic's template and the plan (kept for the record).
    text = models.TextField(blank=True)
    template_version = models.PositiveIntegerField(null=True, blank=True)
    patient_signer_name = models.CharField(max_length=200, blank=True)
    witness_name = models.CharField(max_length=200, blank=True)
    witness_role = models.CharField(max_length=60, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)

    # The PDF's bytes stay out of version rows; its hash is in them.
    SNAPSHOT_EXCLUDE = ClinicalRecord.SNAPSHOT_EXCLUDE | {"pdf"}

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["clinic", "scope", "status"]), models.Index(fields=["patient", "scope"])]

    def lock_reason(self) -> str | None:
        if self.status == ConsentStatus.SIGNED:
            return "A signed consent cannot change: record a withdrawal, or prepare a new consent."
        if self.status == ConsentStatus.WITHDRAWN:
            return "A withdrawn consent cannot change."
        return None
