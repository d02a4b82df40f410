"""Reads of the FHIR edge's own records (cohorts, export jobs), always within the caller's clinic or client."""

from typing import Any

from prolotrack.fhir.bulk import ACTIVE
from prolotrack.fhir.models import Cohort, ExportJob


def cohort(clinic: Any, cohort_uuid: Any) -> Cohort | None:
    """A saved cohort of the clinic (not entered in error), or None."""
    return Cohort.objects.filter(clinic=clinic, uuid=cohort_uuid, entered_in_error_at__isnull=True).first()


def active_export(membership: Any) -> ExportJob | None:
    """The client's export still queued or running (one at a time per client: 429 otherwise)."""
    return ExportJob.objects.filter(membership=membership, status__in=ACTIVE).first()


def own_export(membership: Any, job_uuid: Any) -> ExportJob | None:
    """The export job, if this client (the token's membership) started it."""
    return ExportJob.objects.filter(uuid=job_uuid, membership=membership).first()
