"""Writes of the research export: start a job, build it (in the background), hand out the file, expire it.

Every step is on the audit trail: research.export.requested, .completed (with the number of patients and rows),
.failed, .downloaded, .expired, and one research.export.patient_included per patient, so a patient's own audit trail
shows which exports carried their de-identified data.
"""

import logging
import tempfile
import uuid as uuid_lib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from prolotrack.audit.services import Actor, ServiceError, record_event
from prolotrack.clinical.queries import clinic_today
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.core import filestore
from prolotrack.core.access import require_same_clinic
from prolotrack.domain.deidentify import DateMode
from prolotrack.research import queries
from prolotrack.research.models import DataUseAgreement, ExportJob, ExportStatus
from prolotrack.research.vocabulary import INDICATIONS

logger = logging.getLogger(__name__)

# How long a finished file stays on the server. A product default, not a published number: long enough to download it
# the same or the next working day, short enough that de-identified copies do not pile up (docs/RESEARCH.md).
KEEP_HOURS = 24
# Course start years a filter may name.
EARLIEST_YEAR = 1900
MAX_INDICATION_FILTER = 200


class ExportGone(ServiceError):
    """The file was deleted: expired, or a patient in it withdrew consent since."""

    code = "gone"
    status = 410


@dataclass(frozen=True)
class ExportRequest:
    date_mode: str = DateMode.YEAR.value
    indication: str = ""
    year_from: int | None = None
    year_to: int | None = None
    agreement: str | None = None  # uuid of a data use agreement: a limited data set with shifted dates


def export_dir() -> Path:
    """Where exports made before the file store kept their zips (read for those only; nothing new is written here)."""
    return Path(settings.DATA_DIR) / "research-exports"


def file_path(job: ExportJob) -> Path:
    return export_dir() / f"{job.uuid}.zip"


def open_file(job: ExportJob) -> IO[bytes]:
    """An open binary handle on the job's zip: in the file store (exports/sha256/..., local folder or S3), or for an
    export made before the file store its file under DATA_DIR/research-exports (OSError/StoreError when gone)."""
    if job.file_stored:
        return filestore.open_stored(job.file_stored)
    return file_path(job).open("rb")


def file_exists(job: ExportJob) -> bool:
    try:
        open_file(job).close()
    except (OSError, filestore.StoreError):
        return False
    return True


def _remove_file(job: ExportJob) -> None:
    file_path(job).unlink(missing_ok=True)
    if (
        job.file_stored
        and not ExportJob.objects.filter(file_stored=job.file_stored, status=ExportStatus.READY)
        .exclude(pk=job.pk)
        .exists()
    ):
        filestore.discard_export(job.file_stored)


def download_name(job: ExportJob) -> str:
    return f"prolotrack-research-{job.uuid.hex[:8]}.zip"


def _clean(
    request: ExportRequest, this_year: int, clinic: Any, today: Any
) -> tuple[ExportRequest, DataUseAgreement | None]:
    errors: dict[str, str] = {}
    if request.date_mode not in DateMode._value2member_map_:
        errors["date_mode"] = "Choose how dates are exported: 'year' (year only) or 'shift' (shifted per patient)."
    agreement = None
    if request.agreement:
        agreement = DataUseAgreement.objects.filter(clinic=clinic, uuid=_uuid_or_none(request.agreement)).first()
        if agreement is None:
            errors["agreement"] = "No such data use agreement in this clinic."
        elif not agreement.is_active(today):
            errors["agreement"] = (
                "This data use agreement has expired or was ended; an administrator records a new one."
            )
        elif request.date_mode != DateMode.SHIFT.value:
            errors["date_mode"] = (
                "An export under a data use agreement is a limited data set with shifted dates: choose 'shift', or "
                "no agreement for a Safe Harbor export (years only)."
            )
    elif request.date_mode == DateMode.SHIFT.value:
        errors["date_mode"] = (
            "Shifted dates make a limited data set (45 CFR 164.514(e)): choose a data use agreement an administrator "
            "has recorded, or export years only (Safe Harbor)."
        )
    indication = (request.indication or "").strip()
    if indication and indication not in INDICATIONS:
        errors["indication"] = (
            "Choose an indication code of the product's list (free text is not accepted): "
            + ", ".join(INDICATIONS)
            + "."
        )
    for name in ("year_from", "year_to"):
        value = getattr(request, name)
        if value is not None and not EARLIEST_YEAR <= value <= this_year + 1:
            errors[name] = f"Give a year between {EARLIEST_YEAR} and {this_year + 1}, or leave it empty."
    if not errors and request.year_from and request.year_to and request.year_from > request.year_to:
        errors["year_to"] = f"The last year ({request.year_to}) is before the first ({request.year_from})."
    if errors:
        raise ValidationError(errors)
    clean = ExportRequest(request.date_mode, indication, request.year_from, request.year_to, request.agreement)
    return clean, agreement


def _uuid_or_none(value: Any) -> Any:
    try:
        return uuid_lib.UUID(str(value))
    except ValueError:
        return None


def start_export(actor: Actor, request: ExportRequest) -> ExportJob:
    """Record the job and queue the build. Bad filters are refused with what to fix and nothing is written."""
    require_permission(actor, Permission.RESEARCH_EXPORT)
    today = clinic_today(actor.clinic)
    clean, agreement = _clean(request, today.year, actor.clinic, today)
    with transaction.atomic():
        job = ExportJob.objects.create(
            clinic=actor.clinic,
            requested_by=actor.user,
            requested_at=timezone.now(),
            channel=actor.channel,
            date_mode=clean.date_mode,
            indication=clean.indication,
            year_from=clean.year_from,
            year_to=clean.year_to,
            agreement=agreement,
            stage="Waiting for the background worker to pick it up",
        )
        record_event(
            actor,
            "research.export.requested",
            record=job,
            detail={
                "date_mode": job.date_mode,
                "indication": job.indication,
                "year_from": job.year_from,
                "year_to": job.year_to,
                "agreement": str(agreement.uuid) if agreement else None,
            },
        )
    # Queued after the commit, so the worker finds the job (the test backend runs it here and now).
    build_research_export.enqueue(str(job.uuid))
    job.refresh_from_db()
    return job


@task()
def build_research_export(job_uuid: str) -> dict[str, Any]:
    """The background task (django-tasks; `manage.py db_worker` runs it, tests run it inline): build the job's zip.
    Here rather than in a tasks module that services would import back: one module, no import cycle."""
    job = run_export(job_uuid)
    return {"job": str(job.uuid), "status": job.status, "patients": job.patient_count}


def _system_actor(job: ExportJob) -> Actor:
    return Actor(user=job.requested_by, clinic=job.clinic, role="", client_address=None, channel="system")


def run_export(job_uuid: str) -> ExportJob:
    """Build the job's zip (the background task calls this). A failure is recorded on the job, never lost."""
    from prolotrack.research.export import ExportBuilder

    job = ExportJob.objects.select_related("clinic", "requested_by", "agreement").get(uuid=job_uuid)
    if job.status != ExportStatus.QUEUED:
        return job  # run twice by a retried task: the first run owns it
    job.status = ExportStatus.RUNNING
    job.started_at = timezone.now()
    job.stage = "Starting"
    job.save(update_fields=["status", "started_at", "stage"])

    def progress(done: int, total: int, stage: str) -> None:
        job.done, job.total, job.stage = done, total, stage
        job.save(update_fields=["done", "total", "stage"])

    try:
        # Built in a private temporary folder, then stored once under its SHA-256 in the file store (read from disk in
        # chunks): every app server serves it, whichever worker built it.
        work = Path(settings.DATA_DIR) / "tmp"
        work.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=work, prefix="research-") as tmp:
            result = ExportBuilder(job).build(Path(tmp) / "export.zip", progress)
            stored = filestore.put_path(Path(tmp) / "export.zip", "zip", export=True, digest=result.sha256)
    except Exception as error:
        logger.exception("Research export %s failed", job.uuid)
        with transaction.atomic():
            job.status = ExportStatus.FAILED
            job.finished_at = timezone.now()
            job.stage = ""
            job.error = f"The export could not be built ({type(error).__name__}). Nothing was kept; try again."
            job.save()
            record_event(
                _system_actor(job), "research.export.failed", record=job, detail={"error": type(error).__name__}
            )
        return job
    with transaction.atomic():
        job.status = ExportStatus.READY
        job.finished_at = timezone.now()
        job.expires_at = job.finished_at + timedelta(hours=KEEP_HOURS)
        job.stage = ""
        job.patient_count = len(result.patient_uuids)
        job.row_counts = result.row_counts
        job.patient_uuids = result.patient_uuids
        job.file_name = download_name(job)
        job.file_size = result.size
        job.file_sha256 = result.sha256
        job.file_stored = stored
        job.privacy = result.privacy
        job.save()
        actor = _system_actor(job)
        record_event(
            actor,
            "research.export.completed",
            record=job,
            detail={
                "patients": job.patient_count,
                "rows": result.row_counts,
                "sha256": result.sha256,
                "k": result.privacy.get("k"),
                "l": result.privacy.get("l_diversity"),
                "kind": result.privacy.get("kind"),
            },
        )
        for patient_uuid in result.patient_uuids:
            record_event(
                actor, "research.export.patient_included", record=job, patient_uuid=uuid_lib.UUID(patient_uuid)
            )
    return job


def _expire(job: ExportJob, reason: str) -> None:
    with transaction.atomic():
        job.status = ExportStatus.EXPIRED
        job.error = reason
        job.save(update_fields=["status", "error"])
        record_event(Actor.system(job.clinic), "research.export.expired", record=job, detail={"reason": reason})
    _remove_file(job)


def purge_expired(clinic: Any = None, now: Any = None) -> int:
    """Delete the files whose time is up; returns how many. Pages call it, and `manage.py purge_research_exports`."""
    now = now or timezone.now()
    due = ExportJob.objects.filter(status=ExportStatus.READY, expires_at__lte=now).select_related("clinic")
    if clinic is not None:
        due = due.filter(clinic=clinic)
    count = 0
    for job in due:
        _expire(job, f"Deleted after {KEEP_HOURS} hours.")
        count += 1
    return count


def withdrawn_since(job: ExportJob) -> bool:
    """True when a patient in the file no longer has a current research consent."""
    if not job.patient_uuids:
        return False
    current = {
        str(u)
        for u in queries.consenting_patients(job.clinic)
        .filter(uuid__in=job.patient_uuids)
        .values_list("uuid", flat=True)
    }
    return any(u not in current for u in job.patient_uuids)


def open_download(actor: Actor, job: ExportJob) -> IO[bytes]:
    """An open handle on a ready file for the caller, audited; refused when expired or a patient withdrew consent
    since."""
    require_permission(actor, Permission.RESEARCH_EXPORT)
    require_same_clinic(actor, job)
    if job.status == ExportStatus.READY and job.expires_at and job.expires_at <= timezone.now():
        _expire(job, f"Deleted after {KEEP_HOURS} hours.")
    if job.status == ExportStatus.READY and withdrawn_since(job):
        _expire(job, "A patient in this export withdrew research consent after it was made; start a new export.")
    if job.status == ExportStatus.EXPIRED:
        raise ExportGone(f"This export's file was deleted: {job.error} Start a new export.")
    if job.status != ExportStatus.READY:
        raise ServiceError(f"This export is not ready ({job.get_status_display().lower()}).")
    try:
        handle = open_file(job)
    except (OSError, filestore.StoreError):
        _expire(job, "The file is no longer on the server.")
        raise ExportGone("This export's file is no longer on the server. Start a new export.") from None
    try:
        with transaction.atomic():
            job.downloads += 1
            job.save(update_fields=["downloads"])
            record_event(actor, "research.export.downloaded", record=job, detail={"sha256": job.file_sha256})
    except BaseException:
        handle.close()
        raise
    return handle


# --- Data use agreements (limited data sets, 45 CFR 164.514(e)) ---------------------------------------------------


@dataclass(frozen=True)
class AgreementRequest:
    study: str = ""
    recipient: str = ""
    purpose: str = ""
    signed_on: Any = None
    expires_on: Any = None
    longitudinal: bool = False


def record_agreement(actor: Actor, request: AgreementRequest) -> DataUseAgreement:
    """An administrator records a signed data use agreement; refused with what to fix, nothing written."""
    require_permission(actor, Permission.CLINIC_MANAGE)
    errors: dict[str, str] = {}
    study, recipient, purpose = (
        " ".join((v or "").split()) for v in (request.study, request.recipient, request.purpose)
    )
    if not study:
        errors["study"] = "Give the study a short name."
    if not recipient:
        errors["recipient"] = "Say who receives the data (person and institution)."
    if not purpose:
        errors["purpose"] = "State the research purpose the agreement permits."
    if request.signed_on is None:
        errors["signed_on"] = "Give the day the agreement was signed."
    if request.expires_on is None:
        errors["expires_on"] = "Give the day the agreement expires."
    elif request.signed_on is not None and request.expires_on < request.signed_on:
        errors["expires_on"] = "The expiry is before the signing day."
    elif request.expires_on < clinic_today(actor.clinic):
        errors["expires_on"] = "This agreement has already expired."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        agreement = DataUseAgreement.objects.create(
            clinic=actor.clinic,
            study=study[:120],
            recipient=recipient[:200],
            purpose=purpose[:500],
            signed_on=request.signed_on,
            expires_on=request.expires_on,
            longitudinal=request.longitudinal,
            recorded_by=actor.user,
            recorded_at=timezone.now(),
        )
        record_event(
            actor,
            "research.agreement.recorded",
            record=agreement,
            detail={
                "study": agreement.study,
                "recipient": agreement.recipient,
                "purpose": agreement.purpose,
                "signed_on": agreement.signed_on.isoformat(),
                "expires_on": agreement.expires_on.isoformat(),
                "longitudinal": agreement.longitudinal,
            },
        )
    return agreement


def end_agreement(actor: Actor, agreement: DataUseAgreement) -> DataUseAgreement:
    """An administrator ends an agreement early: no further limited data set under it (the record is kept)."""
    require_permission(actor, Permission.CLINIC_MANAGE)
    require_same_clinic(actor, agreement)
    if agreement.ended_at is not None:
        raise ServiceError("This agreement was already ended.")
    with transaction.atomic():
        agreement.ended_at = timezone.now()
        agreement.ended_by = actor.user
        agreement.save(update_fields=["ended_at", "ended_by"])
        record_event(actor, "research.agreement.ended", record=agreement, detail={"study": agreement.study})
    return agreement
