"""Stored clinical decisions: candidacy screenings and the clinic's own protocol templates.

Both stand on ClinicalRecord: versioned, audited, never deleted. JSON columns hold the domain's own shapes
(see prolotrack/clinical/convert.py), so what was shown to the clinician is what is stored.
"""

from django.db import models

from prolotrack.core.records import ClinicalRecord
from prolotrack.domain.vocabulary import MapRegion, PregnancyStatus, ScreeningDecision, ScreeningSide, SedationLevel

# Display names live with the vocabularies (prolotrack/domain/vocabulary.py).
REGION_CHOICES = MapRegion.choices
SIDE_CHOICES = ScreeningSide.choices
SEDATION_CHOICES = SedationLevel.choices
PREGNANCY_CHOICES = PregnancyStatus.choices
DECISION_CHOICES = ScreeningDecision.choices


class ScreeningRecord(ClinicalRecord):
    """One candidacy screening of a patient for a planned procedure, with the facts and settings it used."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="screenings")
    procedure_date = models.DateField()
    region = models.CharField(max_length=20, choices=REGION_CHOICES)
    side = models.CharField(max_length=10, choices=SIDE_CHOICES)
    site_description = models.CharField(max_length=200, blank=True)
    agents = models.JSONField(default=list, help_text="Agent codes planned (prolotrack.domain.agents.Agent).")
    sedation = models.CharField(max_length=10, choices=SEDATION_CHOICES, default="none")
    day_of_flags = models.JSONField(default=list, blank=True, help_text="Risk flags found on the day.")
    pregnancy = models.CharField(max_length=20, choices=PREGNANCY_CHOICES)
    # What the registry said when the screen ran: medications, allergies, flags and where each flag came from.
    facts = models.JSONField(default=dict)
    decision = models.CharField(max_length=30, choices=DECISION_CHOICES)
    nsaid_stop_date = models.DateField(null=True, blank=True)
    # Every finding with its code, severity, reason, source, overridable, and once overridden the reason, who and when.
    findings = models.JSONField(default=list)
    settings_used = models.JSONField(default=dict)

    class Meta:
        ordering = ["-procedure_date", "-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "-procedure_date"])]

    def __str__(self) -> str:
        return f"Screening {self.procedure_date:%Y-%m-%d} {self.region}"


class ProtocolTemplate(ClinicalRecord):
    """A clinic's own protocol template, usually copied from a built-in trial template and edited."""

    code = models.SlugField(max_length=60, help_text="Short unique name, e.g. knee_oa_rabago_ours.")
    name = models.CharField(max_length=120)
    indication = models.CharField(max_length=200)
    region = models.CharField(max_length=20, choices=REGION_CHOICES)
    # Shapes: see prolotrack/clinical/convert.py (solutions_to_json, sessions_to_json); validated by building a
    # prolotrack.domain.protocols.ProtocolTemplate before every save.
    solutions = models.JSONField(default=list, blank=True)
    landmarks = models.JSONField(default=list, blank=True)
    sessions = models.JSONField(default=list)
    source = models.CharField(
        max_length=300, help_text="Where the protocol comes from: the trial, or the clinic's agreed protocol."
    )
    based_on = models.CharField(max_length=60, blank=True, help_text="The built-in template it was copied from.")
    notes = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "code"],
                name="protocol_template_code_unique_per_clinic",
                violation_error_message="Another template of this clinic already has this code.",
            )
        ]

    def __str__(self) -> str:
        return self.name
