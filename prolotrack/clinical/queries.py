"""Reads for the clinical tools, always scoped to one clinic: registry facts for screening, screenings, protocols."""

import uuid as uuid_lib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from prolotrack.clinical import convert, hooks
from prolotrack.clinical.models import ProtocolTemplate as ClinicTemplate
from prolotrack.clinical.models import ScreeningRecord
from prolotrack.clinics.queries import clinic_today as clinic_today  # one definition, re-exported
from prolotrack.domain.concepts import ChartConcept, condition_concept, is_no_known_allergy
from prolotrack.domain.errors import DomainError, ProtocolError, ScreeningError
from prolotrack.domain.protocols import TEMPLATES, ProtocolTemplate
from prolotrack.domain.screening import (
    Allergy,
    AllergySeverity,
    ChartCondition,
    Medication,
    MedicationClass,
    MedicationUse,
    PatientFacts,
    Pregnancy,
    RiskFlag,
    Sex,
    parse_code,
)
from prolotrack.patients.models import Allergy as AllergyRecord
from prolotrack.patients.models import ClinicalStatus, MedicationStatus, Patient
from prolotrack.patients.models import Condition as ConditionRecord
from prolotrack.patients.models import Medication as MedicationRecord

# Found at the bedside on the day, not kept on the chart: they describe the patient now.
DAY_OF_FLAGS: tuple[RiskFlag, ...] = (
    RiskFlag.INFECTION_AT_SITE,
    RiskFlag.SYSTEMIC_INFECTION,
    RiskFlag.SEPTIC_JOINT,
    RiskFlag.ACUTE_GOUT_FLARE,
    RiskFlag.ACUTE_FRACTURE,
    RiskFlag.SUSPECTED_TUMOUR_AT_SITE,
)

DAY_OF_FLAG_LABELS: dict[RiskFlag, str] = {
    RiskFlag.INFECTION_AT_SITE: "Skin or soft-tissue infection at the injection site",
    RiskFlag.SYSTEMIC_INFECTION: "Systemic infection (fever, unwell)",
    RiskFlag.SEPTIC_JOINT: "Septic joint",
    RiskFlag.ACUTE_GOUT_FLARE: "Acute gout or crystal flare",
    RiskFlag.ACUTE_FRACTURE: "Acute fracture",
    RiskFlag.SUSPECTED_TUMOUR_AT_SITE: "Unexplained swelling or suspected tumour at the site",
}

FLAG_LABELS: dict[str, str] = {
    **{flag.value: label for flag, label in DAY_OF_FLAG_LABELS.items()},
    RiskFlag.DIABETES.value: "Diabetes",
    RiskFlag.BLEEDING_DISORDER.value: "Bleeding disorder",
    RiskFlag.IMMUNOSUPPRESSION.value: "Immunosuppression",
    RiskFlag.PROSTHETIC_JOINT_OR_VALVE.value: "Prosthetic joint or heart valve",
    RiskFlag.CORN_ALLERGY.value: "Corn allergy",
    "pregnancy": "Pregnancy",
}

# How the chart's medication status reads to screening.
MEDICATION_USE: dict[str, MedicationUse] = {
    MedicationStatus.ACTIVE: MedicationUse.REGULAR,
    MedicationStatus.AS_NEEDED: MedicationUse.AS_NEEDED,
    MedicationStatus.STOPPED: MedicationUse.STOPPED,
}


def parse_day_of_flags(values: Any) -> frozenset[RiskFlag]:
    """Return the day-of flags named by values, refusing unknown ones and chart conditions."""
    if values is None:
        return frozenset()
    if isinstance(values, str) or not isinstance(values, list | tuple | set | frozenset):
        raise ScreeningError("Day-of flags must be a list of flag codes.")
    flags: set[RiskFlag] = set()
    allowed = ", ".join(f.value for f in DAY_OF_FLAGS)
    for value in values:
        try:
            flag = RiskFlag(value)
        except ValueError:
            raise ScreeningError(f"Unknown day-of flag '{value}': choose from {allowed}.") from None
        if flag not in DAY_OF_FLAGS:
            raise ScreeningError(
                f"'{flag.value}' is read from the patient's chart, not ticked on the day: record it as a condition "
                f"(or allergy) on the chart. Day-of flags are {allowed}."
            )
        flags.add(flag)
    return frozenset(flags)


@dataclass(frozen=True)
class RegistryFacts:
    """Give what screening needs about a patient, and the same as JSON to store with the screening."""

    facts: PatientFacts
    snapshot: dict[str, Any] = field(default_factory=dict)


def registry_facts(
    patient: Patient,
    day_of_flags: frozenset[RiskFlag],
    pregnancy_today: str | None,
    *,
    procedure_date: date,
    lookback_days: int,
) -> RegistryFacts:
    """Read the patient's medications, allergies and active conditions for screening (three queries).

    Every active condition is offered to the domain's concept lists (domain/concepts.py): its codes (SNOMED CT,
    ICD-10-CM) and its problem-list choice decide what it means; the domain decides whether it is at the site.
    """
    medications = list(
        MedicationRecord.objects.filter(patient=patient, clinic=patient.clinic, entered_in_error_at__isnull=True)
        # A stopped drug still counts when its last dose is recent (an anticoagulant stopped yesterday), so stopped
        # ones with a last dose are read too; the domain's look-back window decides whether each is current.
        .filter(Q(status__in=(MedicationStatus.ACTIVE, MedicationStatus.AS_NEEDED)) | Q(last_dose_date__isnull=False))
        .order_by("name", "id")
    )
    allergies = list(
        AllergyRecord.objects.filter(patient=patient, clinic=patient.clinic, entered_in_error_at__isnull=True).order_by(
            "substance", "id"
        )
    )
    conditions = list(
        ConditionRecord.objects.filter(
            patient=patient,
            clinic=patient.clinic,
            entered_in_error_at__isnull=True,
            clinical_status=ClinicalStatus.ACTIVE,
        ).order_by("id")
    )
    tz = patient.clinic.tz

    def since(record: Any) -> date:
        return timezone.localdate(record.created_at, timezone=tz)

    chart_conditions: list[tuple[ConditionRecord, ChartCondition]] = []
    for condition in conditions:
        concept = condition_concept(condition.codes or [], condition.screening_flag)
        if concept is None:
            continue
        chart_conditions.append(
            (
                condition,
                ChartCondition(
                    description=condition.description,
                    concept=concept,
                    region=condition.body_region,
                    side=condition.laterality,
                    since=since(condition),
                    onset=condition.onset_date,
                ),
            )
        )
    pregnant_on_chart = any(c.concept is ChartConcept.PREGNANCY for _, c in chart_conditions)
    if pregnant_on_chart:
        # The chart wins over a "not pregnant" ticked on the day: the safer reading. Resolve the condition to change it.
        pregnancy, pregnancy_source = Pregnancy.PREGNANT, "condition on the chart"
    else:
        pregnancy, pregnancy_source = (
            parse_code(Pregnancy, pregnancy_today or Pregnancy.UNKNOWN, "pregnancy status"),
            "asked on the day",
        )

    # Stored codes become the domain's members through its own parser (and messages).
    chart_medications = tuple(
        Medication(
            m.name,
            parse_code(MedicationClass, m.drug_class, f"class for {m.name}"),
            _last_dose(m, procedure_date, lookback_days),
            use=MEDICATION_USE.get(m.status, MedicationUse.REGULAR),
            codes=tuple(m.codes or ()),
        )
        for m in medications
    )
    chart_allergies = tuple(
        Allergy(
            a.substance,
            a.reaction,
            parse_code(AllergySeverity, a.severity, "allergy severity"),
            codes=tuple(a.codes or ()),
            since=since(a),
        )
        for a in allergies
    )
    facts = PatientFacts(
        date_of_birth=patient.date_of_birth,
        sex=parse_code(Sex, patient.sex, "sex"),
        pregnancy=pregnancy,
        medications=chart_medications,
        allergies=chart_allergies,
        flags=frozenset(day_of_flags),
        conditions=tuple(c for _, c in chart_conditions),
    )
    flag_sources: dict[str, list[str]] = {flag.value: ["found today"] for flag in day_of_flags}
    for _, chart_condition in chart_conditions:
        if chart_condition.concept is not ChartConcept.PREGNANCY:
            flag_sources.setdefault(chart_condition.concept.value, []).append(f"chart: {chart_condition.provenance}")
    snapshot = {
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "pregnancy": str(facts.pregnancy),
        "pregnancy_source": pregnancy_source,
        "medications": [
            {
                "record": str(m.uuid),
                "name": m.name,
                # The class screening used: a drug recorded as "other" is screened by its name or code.
                "drug_class": str(screened.drug_class),
                "status": m.status,
                "last_dose": m.last_dose_date.isoformat() if m.last_dose_date else None,
            }
            for m, screened in zip(medications, facts.medications, strict=True)
        ],
        "allergies": [
            {"record": str(a.uuid), "substance": a.substance, "reaction": a.reaction, "severity": a.severity}
            for a, screened in zip(allergies, facts.allergies, strict=True)
            # A "no known allergy" row kept from before is not an allergy.
            if not is_no_known_allergy(screened.substance, screened.codes)
        ],
        "conditions": [
            {
                "record": str(record.uuid),
                "description": record.description,
                "concept": str(condition.concept),
                "body_region": record.body_region,
                "laterality": record.laterality,
                "since": condition.since.isoformat() if condition.since else None,
            }
            for record, condition in chart_conditions
        ],
        # "None recorded" is not "none": without this the allergy checks had nothing to check against.
        "allergies_asked": bool(allergies) or patient.no_known_allergies,
        "flags": sorted(flag_sources),
        "flag_sources": flag_sources,
        # What the patient reported in a pre-visit intake that no clinician has reviewed (the intake app, through
        # clinical.hooks): shown beside the chart's facts, never one of them (docs/INTAKE.md).
        "patient_reported": hooks.unreviewed_intake(patient),
    }
    return RegistryFacts(facts=facts, snapshot=snapshot)


def _last_dose(medication: MedicationRecord, procedure_date: date, lookback_days: int) -> date | None:
    """The last dose as screening reads it: None means "still being taken"."""
    last = medication.last_dose_date
    if medication.status in (MedicationStatus.ACTIVE, MedicationStatus.AS_NEEDED) and (
        last is None or last < procedure_date - timedelta(days=lookback_days)
    ):
        # Marked "taking" on the chart: an old last-dose date must not make a current anticoagulant look stopped.
        return None
    return last


# --- Screenings ----------------------------------------------------------------------------------------------


def patient_screenings(patient: Patient, limit: int = 20) -> list[ScreeningRecord]:
    """The patient's most recent screenings, newest procedure first."""
    return list(ScreeningRecord.objects.filter(patient=patient, clinic=patient.clinic).order_by(
        "-procedure_date", "-created_at", "-id"
    )[:limit])  # fmt: skip


def get_screening(clinic: Any, screening_uuid: Any, patient: Patient | None = None) -> ScreeningRecord:
    """One screening of this clinic (and patient); raises ScreeningRecord.DoesNotExist for anyone else's."""
    qs = ScreeningRecord.objects.select_related("patient", "created_by", "updated_by").filter(clinic=clinic)
    if patient is not None:
        qs = qs.filter(patient=patient)
    return qs.get(uuid=screening_uuid)


# --- Protocols -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProtocolEntry:
    """One protocol as listed: a built-in trial template (id = its code) or a clinic template (id = its UUID)."""

    id: str
    template: ProtocolTemplate | None
    record: ClinicTemplate | None = None
    problem: str = ""

    @property
    def builtin(self) -> bool:
        return self.record is None

    @property
    def name(self) -> str:
        if self.record is not None:
            return self.record.name
        assert self.template is not None, "an entry is a clinic's record or a built-in template"
        return self.template.name

    @property
    def source(self) -> str:
        if self.record is not None:
            return self.record.source
        assert self.template is not None, "an entry is a clinic's record or a built-in template"
        return self.template.source

    def usable(self) -> ProtocolTemplate:
        """Return the domain template, or raise ProtocolError saying why this one cannot be used."""
        if self.record is not None and self.record.is_entered_in_error:
            raise ProtocolError(f"Template '{self.record.name}' was entered in error and cannot be used.")
        if self.template is None:
            raise ProtocolError(self.problem)
        return self.template


def builtin_entries() -> list[ProtocolEntry]:
    return [ProtocolEntry(id=t.code, template=t) for t in TEMPLATES]


def clinic_entry(record: ClinicTemplate) -> ProtocolEntry:
    try:
        template = convert.protocol_from_record(record)
    except DomainError as error:
        # Stored templates are validated on save; this only happens if the domain's rules change later.
        return ProtocolEntry(
            id=str(record.uuid), template=None, record=record, problem=f"This template needs editing: {error}"
        )
    return ProtocolEntry(id=str(record.uuid), template=template, record=record)


def clinic_templates(clinic: Any, *, include_inactive: bool = False) -> QuerySet[ClinicTemplate]:
    qs = ClinicTemplate.objects.filter(clinic=clinic).select_related("updated_by")
    if not include_inactive:
        qs = qs.filter(active=True, entered_in_error_at__isnull=True)
    return qs.order_by("name", "id")


def list_protocols(clinic: Any, *, include_inactive: bool = False) -> list[ProtocolEntry]:
    """Built-in templates, then the clinic's own (active ones unless asked)."""
    return builtin_entries() + [clinic_entry(r) for r in clinic_templates(clinic, include_inactive=include_inactive)]


class ProtocolNotFound(LookupError):
    """No built-in template with this code and no template of this clinic with this id."""


def find_protocol(clinic: Any, protocol_id: str) -> ProtocolEntry:
    """The protocol with this id: a built-in code, or the UUID of one of this clinic's templates."""
    try:
        key = uuid_lib.UUID(str(protocol_id))
    except ValueError:
        for entry in builtin_entries():
            if entry.id == protocol_id:
                return entry
        raise ProtocolNotFound(f"No protocol template '{protocol_id}'.") from None
    try:
        record = ClinicTemplate.objects.select_related("updated_by").get(clinic=clinic, uuid=key)
    except ClinicTemplate.DoesNotExist:
        raise ProtocolNotFound("No such protocol template in this clinic.") from None
    return clinic_entry(record)


def template_record(clinic: Any, template_uuid: Any) -> ClinicTemplate:
    """One of the clinic's own protocol templates (DoesNotExist for another clinic's)."""
    return ClinicTemplate.objects.get(clinic=clinic, uuid=template_uuid)
