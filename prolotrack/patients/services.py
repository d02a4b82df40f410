"""Writes to the patient registry. Each function is one transaction with its audit row."""

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from prolotrack.audit.services import (
    Actor,
    ServiceError,
    create_record,
    create_records,
    mark_entered_in_error,
    only_fields,
    update_record,
)
from prolotrack.clinics.roles import Permission
from prolotrack.core.access import require_permission
from prolotrack.patients.models import Allergy, Condition, Medication, Patient, WeightMeasurement

PATIENT_FIELDS = (
    "mrn",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "email",
    "phone",
    "address_line",
    "city",
    "region",
    "postal_code",
    "country",
)

# Child records of a patient: model, the fields a user may set, and the action-code stem.
CHILD_MODELS: dict[str, tuple[type, tuple[str, ...]]] = {
    "weight": (WeightMeasurement, ("measured_on", "weight_kg", "note")),
    "condition": (
        Condition,
        (
            "category",
            "description",
            "screening_flag",
            "body_region",
            "laterality",
            "onset_date",
            "chronicity",
            "clinical_status",
            "prior_treatments",
            "note",
        ),
    ),
    "medication": (Medication, ("name", "drug_class", "dose", "status", "last_dose_date", "note")),
    "allergy": (Allergy, ("substance", "reaction", "severity", "note")),
}

MRN_PATTERN = re.compile(r"^PT-(\d+)$")


def next_mrn(clinic: Any) -> str:
    """Next clinic-generated record number (PT-000001, …) for patients registered without one."""
    highest = 0
    for mrn in Patient.objects.filter(clinic=clinic, mrn__startswith="PT-").values_list("mrn", flat=True):
        match = MRN_PATTERN.match(mrn)
        if match:
            highest = max(highest, int(match.group(1)))
    return f"PT-{highest + 1:06d}"


def create_patient(actor: Actor, data: Mapping[str, Any]) -> Patient:
    """Register a patient in the actor's clinic."""
    require_permission(actor, Permission.PATIENT_EDIT_DEMOGRAPHICS)
    values = only_fields(data, PATIENT_FIELDS)
    try:
        with transaction.atomic():
            if not (values.get("mrn") or "").strip():
                values["mrn"] = next_mrn(actor.clinic)
            patient = Patient(clinic=actor.clinic, **values)
            return create_record(actor, patient, "patient.created")
    except IntegrityError:
        raise ValidationError({"mrn": "Another patient in this clinic already has this record number."}) from None


def create_patients(actor: Actor, rows: list[Mapping[str, Any]]) -> list[Patient]:
    """`create_patient` for many patients at once (an import): same permission, fields and checks, written with
    `create_records` (one bulk insert, one audit-chain lock). A row without a record number gets the next PT-
    number, counting the numbers of the rows before it; a number already taken, in the clinic or twice in the
    rows, refuses them all."""
    require_permission(actor, Permission.PATIENT_EDIT_DEMOGRAPHICS)
    values = [only_fields(data, PATIENT_FIELDS) for data in rows]
    if not values:
        return []
    try:
        with transaction.atomic():
            if any(not (v.get("mrn") or "").strip() for v in values):
                highest = int(next_mrn(actor.clinic).removeprefix("PT-")) - 1
                for v in values:
                    match = MRN_PATTERN.match(v.get("mrn") or "")
                    if match:
                        highest = max(highest, int(match.group(1)))
                for v in values:
                    if not (v.get("mrn") or "").strip():
                        highest += 1
                        v["mrn"] = f"PT-{highest:06d}"
            patients = [Patient(clinic=actor.clinic, **v) for v in values]
            return create_records(actor, patients, "patient.created")
    except IntegrityError:
        raise ValidationError({"mrn": "Another patient in this clinic already has this record number."}) from None


def update_patient(
    actor: Actor, patient: Patient, data: Mapping[str, Any], *, expected_version: int, reason: str = ""
) -> Patient:
    """Change a patient's demographics, refusing a stale edit."""
    require_permission(actor, Permission.PATIENT_EDIT_DEMOGRAPHICS)
    values = only_fields(data, PATIENT_FIELDS)
    if "mrn" in values and not (values["mrn"] or "").strip():
        raise ValidationError({"mrn": "A registered patient keeps a record number; it cannot be blank."})
    try:
        with transaction.atomic():
            return update_record(
                actor, patient, values, "patient.updated", expected_version=expected_version, reason=reason
            )
    except IntegrityError:
        raise ValidationError({"mrn": "Another patient in this clinic already has this record number."}) from None


def retire_patient(actor: Actor, patient: Patient, *, reason: str, expected_version: int | None = None) -> Patient:
    """Mark a patient registered by mistake (e.g. a duplicate) as entered in error."""
    require_permission(actor, Permission.RECORD_MARK_ERROR)
    with transaction.atomic():
        return mark_entered_in_error(
            actor, patient, "patient.entered_in_error", reason=reason, expected_version=expected_version
        )


def add_child(actor: Actor, patient: Patient, kind: str, data: Mapping[str, Any]) -> Any:
    """Add a weight, condition, medication or allergy to a patient's record."""
    return add_children(actor, kind, [(patient, data)])[0]


def add_children(actor: Actor, kind: str, rows: list[tuple[Patient, Mapping[str, Any]]]) -> list[Any]:
    """Add records of one kind to patients' records (one for `add_child`, many for an import), written with
    `create_records` in one go. A patient marked as having no known allergies who gets an allergy has the mark
    cleared."""
    model, fields = CHILD_MODELS[kind]
    require_permission(actor, Permission.PATIENT_EDIT_CLINICAL)
    records = []
    for patient, data in rows:
        if patient.is_entered_in_error:
            raise ServiceError("This patient record was marked entered in error; add nothing to it.")
        records.append(model(clinic=patient.clinic, patient=patient, **only_fields(data, fields)))
    with transaction.atomic():
        created = create_records(actor, records, f"patient.{kind}.added")
        if kind == "allergy":
            cleared: set[int] = set()
            for patient, _ in rows:
                if patient.no_known_allergies and patient.pk not in cleared:
                    cleared.add(patient.pk)
                    update_record(
                        actor,
                        patient,
                        {"no_known_allergies": False},
                        "patient.allergies.reviewed",
                        expected_version=None,
                        reason="An allergy was recorded.",
                    )
        return created


def confirm_no_known_allergies(actor: Actor, patient: Patient, *, expected_version: int | None = None) -> Patient:
    """Record that the patient was asked and has no known allergies."""
    require_permission(actor, Permission.PATIENT_EDIT_CLINICAL)
    active = patient.allergies.filter(entered_in_error_at__isnull=True)
    if active.exists():
        names = ", ".join(active.values_list("substance", flat=True))
        raise ServiceError(f"This patient has recorded allergies ({names}): mark them entered in error first if wrong.")
    with transaction.atomic():
        return update_record(
            actor,
            patient,
            {"no_known_allergies": True},
            "patient.allergies.reviewed",
            expected_version=expected_version,
            reason="Asked: no known allergies.",
        )


def edit_child(
    actor: Actor, record: Any, kind: str, data: Mapping[str, Any], *, expected_version: int, reason: str = ""
) -> Any:
    """Change a weight, condition, medication or allergy, refusing a stale edit."""
    _, fields = CHILD_MODELS[kind]
    require_permission(actor, Permission.PATIENT_EDIT_CLINICAL)
    values = only_fields(data, fields)
    with transaction.atomic():
        return update_record(
            actor, record, values, f"patient.{kind}.updated", expected_version=expected_version, reason=reason
        )


def retire_child(actor: Actor, record: Any, kind: str, *, reason: str, expected_version: int | None = None) -> Any:
    """Mark a weight, condition, medication or allergy as entered in error."""
    require_permission(actor, Permission.RECORD_MARK_ERROR)
    with transaction.atomic():
        return mark_entered_in_error(
            actor, record, f"patient.{kind}.entered_in_error", reason=reason, expected_version=expected_version
        )
