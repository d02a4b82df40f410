"""Reads of the research export, always inside one clinic: who has consented, the jobs, the research key."""

import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet

from prolotrack.consent.models import Consent, ConsentScope, ConsentStatus
from prolotrack.domain.deidentify import MIN_KEY_BYTES, WITHHELD, safe_label
from prolotrack.patients.models import Patient
from prolotrack.research.models import ExportJob, ResearchKey
from prolotrack.treatment.models import Course


def current_research_consents(clinic: Any) -> QuerySet[Consent]:
    """Signed research consents of the clinic that are not withdrawn (and not entered in error)."""
    return Consent.objects.filter(
        clinic=clinic,
        scope=ConsentScope.RESEARCH,
        status=ConsentStatus.SIGNED,
        withdrawn_at__isnull=True,
        signed_at__isnull=False,
        entered_in_error_at__isnull=True,
    )


def consenting_patients(clinic: Any) -> QuerySet[Patient]:
    """The clinic's patients with a current research consent: the only patients an export may contain."""
    consented = current_research_consents(clinic).filter(patient=OuterRef("pk"))
    return Patient.objects.filter(clinic=clinic, entered_in_error_at__isnull=True).filter(Exists(consented))


def patient_identifiers(patient: Patient) -> tuple[str, ...]:
    """The patient's own identifiers, against which exported labels are checked (safe_label)."""
    return (
        patient.given_name,
        patient.family_name,
        patient.mrn,
        patient.email,
        patient.phone,
        patient.address_line,
        patient.city,
        patient.region,
        patient.postal_code,
    )


def indication_choices(clinic: Any) -> list[str]:
    """Indications a filter can name: those of consenting patients' courses that pass safe_label, sorted."""
    found: set[str] = set()
    rows = Course.objects.filter(
        clinic=clinic, entered_in_error_at__isnull=True, patient__in=consenting_patients(clinic)
    ).select_related("patient")
    for course in rows.only(
        "indication", *(f"patient__{f}" for f in ("given_name", "family_name", "mrn", "email", "phone")),
        "patient__address_line", "patient__city", "patient__region", "patient__postal_code",
    ):  # fmt: skip
        label = safe_label(course.indication, patient_identifiers(course.patient))
        if label and label != WITHHELD:
            found.add(label)
    return sorted(found, key=str.lower)


def research_key(clinic: Any) -> bytes:
    """The clinic's research key, created with 32 random bytes the first time it is needed."""
    found = ResearchKey.objects.filter(clinic=clinic).values_list("secret", flat=True).first()
    if found is None:
        try:
            with transaction.atomic():
                ResearchKey.objects.create(clinic=clinic, secret=secrets.token_bytes(MIN_KEY_BYTES))
        except IntegrityError:
            pass  # another export created it first: use theirs
        found = ResearchKey.objects.values_list("secret", flat=True).get(clinic=clinic)
    return bytes(found)


def clinic_jobs(clinic: Any, limit: int = 20) -> list[ExportJob]:
    return list(ExportJob.objects.filter(clinic=clinic).select_related("requested_by")[:limit])


def get_job(clinic: Any, job_uuid: Any) -> ExportJob:
    """The clinic's export job; another clinic's raises DoesNotExist (a 404 at the edge)."""
    return ExportJob.objects.select_related("requested_by", "clinic").get(clinic=clinic, uuid=job_uuid)
