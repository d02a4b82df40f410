"""Patient-reported outcomes: questionnaire answers and the single-use links patients answer by.

An instrument (its items, scoring, range, direction, MCID and licence) is data in `prolotrack.domain.instruments`;
these rows hold what a patient answered, its score on the instrument's scale, and how it was collected.
"""

from django.db import models

from prolotrack.core.records import ClinicalRecord


class ResponseStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


class ResponseSource(models.TextChoices):
    PATIENT_LINK = "patient_link", "Patient, by link"
    CLINIC_TABLET = "tablet", "Patient, on a clinic tablet"
    STAFF_PAPER = "staff_paper", "Staff, from a paper form"


class LinkDelivery(models.TextChoices):
    EMAIL = "email", "Email"
    QR = "qr", "QR code"
    TABLET = "tablet", "Clinic tablet"
    COPIED = "copied", "Copied link"


class QuestionnaireLink(ClinicalRecord):
    """A signed, expiring, single-use link that opens one timepoint's questionnaires for one patient.

    Only a hash of the token is stored; the token itself is shown once (URL, QR code, email) and never again.
    """

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="questionnaire_links")
    course = models.ForeignKey(
        "treatment.Course", null=True, blank=True, on_delete=models.PROTECT, related_name="questionnaire_links"
    )
    timepoint = models.ForeignKey(
        "treatment.CourseTimepoint", null=True, blank=True, on_delete=models.PROTECT, related_name="links"
    )
    instruments = models.JSONField(help_text="Instrument codes this link opens, in order.")
    token_hash = models.CharField(max_length=64, unique=True)
    delivery = models.CharField(max_length=10, choices=LinkDelivery.choices, default=LinkDelivery.COPIED)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["clinic", "expires_at"]), models.Index(fields=["patient", "-created_at"])]


class QuestionnaireResponse(ClinicalRecord):
    """One instrument answered once: the raw answers, the score on the instrument's scale, and where it came from."""

    # Not a field: the instrument's title, set by the patient's questionnaires page for display.
    title: str

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="questionnaire_responses")
    course = models.ForeignKey(
        "treatment.Course", null=True, blank=True, on_delete=models.PROTECT, related_name="questionnaire_responses"
    )
    timepoint = models.ForeignKey(
        "treatment.CourseTimepoint", null=True, blank=True, on_delete=models.PROTECT, related_name="responses"
    )
    link = models.ForeignKey(
        QuestionnaireLink, null=True, blank=True, on_delete=models.PROTECT, related_name="responses"
    )
    instrument = models.CharField(max_length=40, help_text="Instrument code (prolotrack.domain.instruments).")
    status = models.CharField(max_length=12, choices=ResponseStatus.choices, default=ResponseStatus.IN_PROGRESS)
    answers = models.JSONField(default=dict, blank=True, help_text="Item linkId -> answer value.")
    score = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    subscores = models.JSONField(default=dict, blank=True, help_text="Subscale or per-day scores, by code.")
    authored_on = models.DateField(help_text="The day the answers describe (clinic time zone).")
    completed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=12, choices=ResponseSource.choices)

    class Meta:
        ordering = ["authored_on", "id"]
        indexes = [
            models.Index(fields=["clinic", "instrument", "authored_on"]),
            models.Index(fields=["patient", "instrument", "authored_on"]),
        ]


class ClinicInstrumentText(ClinicalRecord):
    """A licensed instrument's item texts, imported by a clinic under its own licence (a FHIR Questionnaire).

    One row per clinic and instrument; a new import is a new version of the row (the earlier texts stay in the
    record's history), with the licence statement the clinic recorded.
    """

    instrument = models.CharField(max_length=40, help_text="Instrument code (prolotrack.domain.instruments).")
    title = models.CharField(max_length=200)
    texts = models.JSONField(help_text='{"items": {linkId: text}, "options": {linkId: {value: label}}}')
    licence_statement = models.TextField(help_text="Who licensed the texts to the clinic, and the licence's terms.")
    questionnaire = models.JSONField(help_text="The FHIR Questionnaire as imported.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["instrument"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "instrument"], name="one_instrument_text_per_clinic"),
        ]
