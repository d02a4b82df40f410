"""The patient registry: demographics, weights, conditions, medications, allergies."""

import uuid as uuid_lib
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from prolotrack.core.limits import validators
from prolotrack.core.records import ClinicalRecord
from prolotrack.domain.errors import InputError
from prolotrack.domain.inputs import check_date_of_birth
from prolotrack.domain.limits import BODY_WEIGHT_KG
from prolotrack.domain.vocabulary import (
    AllergySeverity,
    BodyRegion,
    Chronicity,
    ClinicalStatus,
    ConditionCategory,
    Laterality,
    MedicationClass,
    MedicationStatus,
    ProblemListChoice,
    Sex,
)

# The clinical vocabularies live in prolotrack/domain/vocabulary.py; these names are kept for the apps that import them.
Severity = AllergySeverity
__all__ = [
    "AllergySeverity",
    "BodyRegion",
    "Chronicity",
    "ClinicalStatus",
    "ConditionCategory",
    "Laterality",
    "MedicationClass",
    "MedicationStatus",
    "Severity",
    "Sex",
]


# The problem-list choices screening reads: the domain's vocabulary, under the name the app has always used.
ScreeningFlag = ProblemListChoice


class Patient(ClinicalRecord):
    # Not a field: the API's PatientDetail reads the chart the endpoint loaded (patients.api._detail).
    clinical_chart: Any

    mrn = models.CharField("medical record number", max_length=40)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address_line = models.CharField("address", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state or region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=100, blank=True)
    # The language of the pages and messages the patient sees (settings.LANGUAGES); staff pages stay English.
    preferred_language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    # "None recorded" must not be read as "none": this is set only when a clinician asked and the patient has none.
    no_known_allergies = models.BooleanField(
        default=False, help_text="Asked and confirmed: the patient has no known allergies."
    )
    # Who confirmed it and when, and through which channel (a form, the API, a FHIR import): set together with the
    # flag by patients.services.confirm_no_known_allergies, cleared when a real allergy is recorded.
    no_known_allergies_at = models.DateTimeField(null=True, blank=True)
    no_known_allergies_by = models.CharField(max_length=200, blank=True)
    no_known_allergies_source = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "mrn"],
                name="patient_mrn_unique_per_clinic",
                violation_error_message="Another patient in this clinic already has this record number.",
            )
        ]
        indexes = [
            models.Index(fields=["clinic", "family_name", "given_name"]),
            models.Index(fields=["clinic", "date_of_birth"]),
        ]
        ordering = ["family_name", "given_name"]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    def clean(self) -> None:
        # One date-of-birth rule for every channel (form, API, FHIR, import): the services run clean() before saving.
        if isinstance(self.date_of_birth, date) and self.clinic_id is not None:
            try:
                check_date_of_birth(self.date_of_birth, timezone.localdate(timezone=self.clinic.tz))
            except InputError as error:
                raise ValidationError({"date_of_birth": str(error)}) from None

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def patient_uuid(self) -> uuid_lib.UUID:
        return self.uuid


class WeightMeasurement(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="weights")
    measured_on = models.DateField()
    # The one weight range (domain/limits.py), the same the anaesthetic dose rule accepts.
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, validators=validators(BODY_WEIGHT_KG))
    note = models.CharField(max_length=200, blank=True)
    # The weight as sent by another system when not in kg ({"value", "unit", "system", "code"}, e.g. pounds): served
    # back as sent while weight_kg (what doses use) is still the same weight; empty when typed or sent in kg.
    sent_quantity = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-measured_on", "-created_at"]
        indexes = [models.Index(fields=["patient", "-measured_on"])]


class Condition(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="conditions")
    category = models.CharField(max_length=20, choices=ConditionCategory.choices, default=ConditionCategory.COMPLAINT)
    description = models.CharField(max_length=200)
    screening_flag = models.CharField(max_length=30, choices=ScreeningFlag.choices, blank=True)
    body_region = models.CharField(max_length=20, choices=BodyRegion.choices, blank=True)
    laterality = models.CharField(max_length=10, choices=Laterality.choices, blank=True)
    onset_date = models.DateField(null=True, blank=True)
    chronicity = models.CharField(max_length=10, choices=Chronicity.choices, blank=True)
    clinical_status = models.CharField(max_length=10, choices=ClinicalStatus.choices, default=ClinicalStatus.ACTIVE)
    prior_treatments = models.TextField(blank=True)
    note = models.TextField(blank=True)
    # Coded concepts as "system|code" (SNOMED CT, ICD-10-CM, RxNorm...), kept from an import so screening can
    # recognise them (domain/concepts.py).
    codes = models.JSONField(default=list, blank=True)
    # The codings as sent ({"system", "code", "display"} each, ProloTrack's own codes left out: they are read into
    # the fields above), served back in the FHIR resource so what was written reads back the same.
    codings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["category", "-onset_date"]


class Medication(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="medications")
    name = models.CharField(max_length=120)
    drug_class = models.CharField(max_length=20, choices=MedicationClass.choices)
    dose = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=10, choices=MedicationStatus.choices, default=MedicationStatus.ACTIVE)
    last_dose_date = models.DateField(null=True, blank=True, help_text="Needed for NSAID and anticoagulant windows.")
    note = models.CharField(max_length=200, blank=True)
    # Coded concepts as "system|code" (SNOMED CT, ICD-10-CM, RxNorm...), kept from an import so screening can
    # recognise them (domain/concepts.py).
    codes = models.JSONField(default=list, blank=True)
    # The codings as sent ({"system", "code", "display"} each, ProloTrack's own codes left out: they are read into
    # the fields above), served back in the FHIR resource so what was written reads back the same.
    codings = models.JSONField(default=list, blank=True)
    # "MedicationRequest" when the medicine came in as an order (FHIR import), with the order's own elements the
    # chart has no field for (intent, status, authoredOn as sent): served back as a MedicationRequest.
    sent_as = models.CharField(max_length=20, blank=True)
    sent_request = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["status", "name"]


class Allergy(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergies")
    substance = models.CharField(max_length=120)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    note = models.CharField(max_length=200, blank=True)
    # Coded concepts as "system|code" (SNOMED CT, ICD-10-CM, RxNorm...), kept from an import so screening can
    # recognise them (domain/concepts.py).
    codes = models.JSONField(default=list, blank=True)
    # The codings as sent ({"system", "code", "display"} each, ProloTrack's own codes left out: they are read into
    # the fields above), served back in the FHIR resource so what was written reads back the same.
    codings = models.JSONField(default=list, blank=True)
    # The reactions as sent (each FHIR AllergyIntolerance.reaction: manifestation codings, severity, substance...),
    # served back the same while `reaction` and `severity` are still what the import derived from them.
    sent_reactions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["substance"]
        verbose_name_plural = "allergies"


class Observation(ClinicalRecord):
    """An observation received from another system (FHIR Observation), kept as it was sent.

    `resource` is the Observation's JSON as received (without its id and meta, which are ProloTrack's); the columns
    beside it are what search needs (code, category, the effective time as a range) and what a page shows. It is
    served back as the same Observation: same code, value, effective time and everything else it carried, its
    subject pointing at the ProloTrack patient (docs/FHIR-IMPORT.md, "Observations"). A pain severity that is a
    whole number from 0 to 10 (LOINC 72514-3) is also the patient's pain NRS answer (`pain_answer`, an outcomes
    QuestionnaireResponse); nothing else is ever read into the product's own records from here.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="observations")
    # FHIR ObservationStatus (registered, preliminary, final, amended, corrected, unknown); entered in error is the
    # record's own mark.
    status = models.CharField(max_length=20)
    code_text = models.CharField(max_length=200, help_text="What was observed, in words (code.text or a display).")
    # Every coding of `code` (and of `category`) as " system|code " separated by spaces, for token search.
    code_tokens = models.TextField(blank=True)
    category_tokens = models.TextField(blank=True)
    # effective[x] as written, and as the range it stands for (FHIR date search): a dateTime's precision, a
    # Period's start and end (None = unbounded). has_effective is False when the Observation has no effective[x]
    # that is a date (none, or a Timing): it then matches no date search.
    effective_text = models.CharField(max_length=80, blank=True)
    has_effective = models.BooleanField(default=False)
    effective_start = models.DateTimeField(null=True, blank=True)
    effective_end = models.DateTimeField(null=True, blank=True)
    value_text = models.CharField(max_length=200, blank=True, help_text="The value in words, for pages.")
    resource = models.JSONField(help_text="The FHIR Observation as received, without id and meta.")
    pain_answer = models.OneToOneField(
        "outcomes.QuestionnaireResponse",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="source_observation",
        help_text="The pain NRS answer this Observation is (LOINC 72514-3 with a whole number 0-10).",
    )

    class Meta:
        ordering = ["-effective_start", "-created_at"]
        indexes = [models.Index(fields=["patient", "effective_start"])]
