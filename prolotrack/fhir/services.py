"""The FHIR edge's writes: saved cohorts (FHIR Group, audited and versioned) and Bulk Data export jobs (queued,
cancelled). The export itself runs in fhir/bulk.py as a background task."""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from prolotrack.audit.services import Actor, create_record, record_event
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.fhir.bulk import remove_files, run_export
from prolotrack.fhir.models import Cohort, ExportJob, ExportStatus
from prolotrack.fhir.resources import ResourceType
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


def start_export(
    actor: Actor,
    membership: Any,
    *,
    level: str,
    types: list[str],
    since: Any,
    request_url: str,
    cohort: Cohort | None = None,
) -> ExportJob:
    """Record the job and queue it (the job runs as a background task)."""
    with transaction.atomic():
        job = ExportJob.objects.create(
            clinic=membership.clinic,
            membership=membership,
            user=membership.user,
            level=level,
            cohort=cohort,
            types=types,
            since=since,
            request_url=request_url,
        )
        record_event(
            actor,
            "fhir.export.requested",
            detail={"job": str(job.uuid), "level": level, "types": types, "since": since},
        )
    run_export.enqueue(str(job.uuid))
    return job


def cancel_export(job: ExportJob) -> None:
    """DELETE on the status URL: stop the job if it runs and remove its files."""
    with transaction.atomic():
        current = ExportJob.objects.select_for_update().get(pk=job.pk)
        current.status = ExportStatus.CANCELLED
        current.finished_at = current.finished_at or timezone.now()
        current.save(update_fields=["status", "finished_at"])
    remove_files(current)


def audit_search(actor: Any, rtype: ResourceType, patients: set[Any], matches: int) -> None:
    """One audit event per patient whose data the page shows (a search that shows no patient data: one event)."""
    action = f"fhir.{rtype.name.lower()}.searched"
    with transaction.atomic():
        if not patients:
            if rtype.sources[0].versioned:
                record_event(actor, action, detail={"matches": matches})
            return
        for patient in sorted(patients - {None}, key=str):
            record_event(actor, action, patient_uuid=patient, detail={"matches": matches})
