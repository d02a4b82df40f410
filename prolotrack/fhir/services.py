"""Saved cohorts (FHIR Group): create one from the clinic's patients, audited and versioned."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from prolotrack.audit.services import Actor, create_record
from prolotrack.clinics.roles import Permission
from prolotrack.core.access import require_permission
from prolotrack.fhir.models import Cohort
from prolotrack.patients.models import Patient


def create_cohort(actor: Actor, *, name: str, mrns: Iterable[str], description: str = "") -> Cohort:
    """A cohort of the clinic's live patients named by record number; refuses unknown numbers, writing nothing."""
    require_permission(actor, Permission.COHORT_MANAGE)
    name = (name or "").strip()
    wanted = [m.strip() for m in mrns if m and m.strip()]
    errors = {}
    if not name:
        errors["name"] = "Give the cohort a name."
    if not wanted:
        errors["mrns"] = "List at least one record number."
    found = dict(
        Patient.objects.filter(clinic=actor.clinic, mrn__in=wanted, entered_in_error_at__isnull=True).values_list(
            "mrn", "uuid"
        )
    )
    missing = [m for m in wanted if m not in found]
    if missing:
        errors["mrns"] = f"No patient in this clinic has record number {', '.join(missing[:10])}."
    if errors:
        raise ValidationError(errors)
    members = list(dict.fromkeys(str(found[m]) for m in wanted))
    with transaction.atomic():
        return create_record(
            actor,
            Cohort(clinic=actor.clinic, name=name, description=description, patient_uuids=members),
            "cohort.created",
            detail={"members": len(members)},
        )
