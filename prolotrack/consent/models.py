"""Informed consent: for a treatment course, or for research use of a patient's de-identified data.

A signed consent is immutable: its PDF and the PDF's SHA-256 are kept; withdrawal is recorded on the row (who, when,
why), never a deletion.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from prolotrack.core import filestore
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
    # The signed PDF, stored once under its SHA-256 in the file store (core/filestore.py; set through the services
    # only). Rows signed before the file store kept the bytes in `pdf`, still read (`pdf_content`).
    pdf = models.BinaryField(null=True, blank=True, editable=True)
    pdf_name = models.CharField(max_length=100, blank=True, editable=False)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The signatures as drawn (PNG), kept so the PDF can be rendered again from exactly what was signed.
    patient_signature = models.BinaryField(null=True, blank=True, editable=False)
    witness_signature = models.BinaryField(null=True, blank=True, editable=False)
    text_sha256 = models.CharField(max_length=64, blank=True)
    # The language the form was read and signed in (docs/LANGUAGES.md, "Documents"); the text is stored as signed.
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")

    # The PDF's and signatures' bytes stay out of version rows; the hashes are in them.
    SNAPSHOT_EXCLUDE = ClinicalRecord.SNAPSHOT_EXCLUDE | {"pdf", "patient_signature", "witness_signature"}
    # What may still change once signed: the withdrawal, nothing else.
    WITHDRAWAL_FIELDS = frozenset({"status", "withdrawn_at", "withdrawal_reason", "withdrawn_by"})

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["clinic", "scope", "status"]), models.Index(fields=["patient", "scope"])]

    @property
    def has_pdf(self) -> bool:
        return bool(self.pdf_name or self.pdf)

    @property
    def pdf_content(self) -> bytes | None:
        """The signed PDF's bytes as stored (unchecked: serve them through audit.integrity.verified)."""
        return filestore.stored_or_inline(self.pdf_name, self.pdf)

    def __str__(self) -> str:
        return f"{self.get_scope_display()} consent ({self.get_status_display().lower()})"

    @property
    def is_current(self) -> bool:
        return self.status == ConsentStatus.SIGNED and not self.is_entered_in_error

    def clean(self) -> None:
        """Refuse any change to a signed or withdrawn consent but its withdrawal."""
        super().clean()
        if self.pk is None:
            return
        stored = type(self).objects.filter(pk=self.pk).first()
        if stored is None or stored.status == ConsentStatus.DRAFT:
            return
        changed = {
            f.name
            for f in self._meta.concrete_fields
            if f.name not in ClinicalRecord.SNAPSHOT_EXCLUDE
            and f.name not in ("entered_in_error_at", "entered_in_error_reason")
            and _bytes(f.value_from_object(self)) != _bytes(f.value_from_object(stored))
        }
        allowed = set(self.WITHDRAWAL_FIELDS) if stored.status == ConsentStatus.SIGNED else set()
        refused = sorted(changed - allowed)
        if refused:
            raise ValidationError(
                f"A {stored.get_status_display().lower()} consent cannot change ({', '.join(refused)}): "
                "record a withdrawal, or prepare a new consent."
            )
        if "status" in changed and self.status != ConsentStatus.WITHDRAWN:
            raise ValidationError("A signed consent can only become withdrawn.")

    def lock_reason(self) -> str | None:
        if self.status == ConsentStatus.SIGNED:
            return "A signed consent cannot change: record a withdrawal, or prepare a new consent."
        if self.status == ConsentStatus.WITHDRAWN:
            return "A withdrawn consent cannot change."
        return None


def _bytes(value: object) -> object:
    return bytes(value) if isinstance(value, memoryview) else value


class ConsentTemplate(ClinicalRecord):
    """The clinic's own paragraphs of its consent forms in one language; every save is a new version (the product
    default is 0). One per clinic and language (docs/CONSENT.md, "The clinic's template")."""

    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    what_it_is = models.TextField()
    expected_benefit = models.TextField()
    off_label = models.TextField()
    insurance = models.TextField()
    alternatives = models.TextField()
    tell_us = models.TextField()
    right_to_stop = models.TextField()
    research = models.TextField()

    TEXT_FIELDS = (
        "what_it_is", "expected_benefit", "off_label", "insurance", "alternatives", "tell_us", "right_to_stop",
        "research",
    )  # fmt: skip

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "language"],
                name="consent_template_one_per_clinic_language",
                violation_error_message="This clinic already has its consent template in this language: edit it.",
            )
        ]
