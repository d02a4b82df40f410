"""Reads of the research export, always inside one clinic: who has consented, the jobs, the research key."""

import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet

from prolotrack.clinical.queries import clinic_today
from prolotrack.consent.models import Consent, ConsentScope, ConsentStatus
from prolotrack.domain.deidentify import MIN_KEY_BYTES
from prolotrack.patients.models import Patient
from prolotrack.research.models import DataUseAgreement, ExportJob, ResearchKey


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


def clinic_agreements(clinic: Any) -> list[DataUseAgreement]:
    return list(DataUseAgreement.objects.filter(clinic=clinic).select_related("recorded_by", "ended_by"))


def active_agreements(clinic: Any) -> list[DataUseAgreement]:
    """Agreements under which a limited data set may be exported today."""
    today = clinic_today(clinic)
    return [a for a in clinic_agreements(clinic) if a.is_active(today)]


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
    return list(ExportJob.objects.filter(clinic=clinic).select_related("requested_by", "agreement")[:limit])


def get_job(clinic: Any, job_uuid: Any) -> ExportJob:
    """The clinic's export job; another clinic's raises DoesNotExist (a 404 at the edge)."""
    return ExportJob.objects.select_related("requested_by", "clinic", "agreement").get(clinic=clinic, uuid=job_uuid)


def get_agreement(clinic: Any, agreement_uuid: Any) -> DataUseAgreement:
    """One of the clinic's data use agreements (DoesNotExist for another clinic's)."""
    return DataUseAgreement.objects.get(clinic=clinic, uuid=agreement_uuid)
