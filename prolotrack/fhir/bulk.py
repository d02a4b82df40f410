"""Bulk Data export (HL7 FHIR Bulk Data Access IG v2): jobs, the NDJSON writer, expiry (docs/FHIR.md, "Bulk export").

The writer streams each type from the database in keyset batches whose size follows the bytes they produce (aiming at
BATCH_BYTES per batch, as HAPI #8374 taught), maps rows straight to JSON and appends them to one file per type, so
memory stays flat whatever the clinic's size. It reads in autocommit, outside any transaction: on SQLite an open
transaction would hold the write lock for the whole export.

Each type's file is spooled to a local temporary file (hashed as it is written), then stored in the file store under
`exports/sha256/...` (core/filestore.py: a local folder or an S3 bucket, written once, never overwritten), so every app
server can serve what any worker wrote. The job's `output` names the stored file (`stored`); jobs from before the file
store name only `file`, read from DATA_DIR/fhir-exports/<uuid>/ as before. At expiry or cancellation a stored file is
removed unless another unexpired export names the same bytes.
"""

import gc
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from prolotrack.audit.services import Actor, record_event
from prolotrack.core import filestore
from prolotrack.fhir.models import ExportJob, ExportLevel, ExportStatus
from prolotrack.fhir.resources import DUMP_OPTION, TYPES, ResourceType, Source

log = logging.getLogger(__name__)

# Files are kept this long after the export finishes, then removed (cleanup runs at every kick-off and status poll,
# and by `manage.py purge_fhir_exports`).
EXPORT_TTL = timedelta(hours=24)
BATCH_BYTES = 4 * 1024 * 1024
FIRST_BATCH = 500
MIN_BATCH, MAX_BATCH = 50, 20_000
ACTIVE = (ExportStatus.QUEUED, ExportStatus.RUNNING)


class ExportCancelled(Exception):
    """The client cancelled the job (DELETE) while it ran."""


def export_dir(job: ExportJob) -> Path:
    """Where jobs from before the file store kept their files (read for those jobs only; nothing is written here)."""
    return Path(settings.DATA_DIR) / "fhir-exports" / str(job.uuid)


def remove_files(job: ExportJob, stored: list[str] | None = None, now: Any = None) -> None:
    """Remove an expired, cancelled or failed job's files: its old folder, and each stored file no other unexpired
    export names (the same bytes exported twice are one stored file)."""
    shutil.rmtree(export_dir(job), ignore_errors=True)
    names = set(stored if stored is not None else [o["stored"] for o in job.output or [] if o.get("stored")])
    if not names:
        return
    live = ExportJob.objects.filter(status=ExportStatus.COMPLETED, expires_at__gt=now or timezone.now())
    live = live.exclude(pk=job.pk)
    for other in live.only("output"):
        names -= {o.get("stored") for o in other.output or []}
    for name in sorted(names):
        filestore.discard_export(name)


def open_file(job: ExportJob, item: dict[str, Any]) -> Any:
    """An open binary handle on one output file (FileNotFoundError/OSError when it is gone)."""
    if item.get("stored"):
        return filestore.open_stored(item["stored"])
    return (export_dir(job) / item["file"]).open("rb")


def file_name(resource_type: str) -> str:
    return f"{resource_type}.ndjson"


@task()
def run_export(job_uuid: str) -> None:
    """Write the job's files; the job ends completed, failed or (when the client cancelled) cancelled."""
    job = ExportJob.objects.select_related("clinic", "membership", "cohort").filter(uuid=job_uuid).first()
    if job is None or job.status != ExportStatus.QUEUED:
        return
    job.status = ExportStatus.RUNNING
    job.save(update_fields=["status"])
    try:
        output = write_files(job)
    except ExportCancelled:
        return
    except Exception as error:  # the client learns of it from the status endpoint
        log.exception("FHIR export %s failed", job.uuid)
        _finish(job, ExportStatus.FAILED, error=f"The export failed ({type(error).__name__}); it was logged.")
        return
    _finish(job, ExportStatus.COMPLETED, output=output)


def _finish(job: ExportJob, status: str, *, output: list[dict[str, Any]] | None = None, error: str = "") -> None:
    now = timezone.now()
    with transaction.atomic():
        # Only a running job finishes; a job cancelled meanwhile stays cancelled.
        current = ExportJob.objects.select_for_update().get(pk=job.pk)
        if current.status != ExportStatus.RUNNING:
            remove_files(current, [o["stored"] for o in output or []])
            return
        current.status = status
        current.output = output or []
        current.error = error
        current.finished_at = now
        current.expires_at = now + EXPORT_TTL
        current.progress = ""
        current.save(update_fields=["status", "output", "error", "finished_at", "expires_at", "progress"])
        actor = Actor(user=job.user, clinic=job.clinic, role=job.membership.role, channel="fhir")
        record_event(
            actor,
            f"fhir.export.{status}",
            detail={"job": str(job.uuid), "counts": {o["type"]: o["count"] for o in current.output}, "error": error},
        )


def write_files(job: ExportJob) -> list[dict[str, Any]]:
    """One NDJSON file per type with at least one resource, stored in the file store:
    [{"type", "file", "count", "stored", "sha256", "size"}]. On any failure (or cancellation) the files already stored
    for this job are removed again (unless another export names the same bytes) and the error goes on."""
    patients = None
    if job.level == ExportLevel.GROUP and job.cohort is not None:
        patients = [str(u) for u in job.cohort.patient_uuids]
    output: list[dict[str, Any]] = []
    try:
        for index, name in enumerate(job.types, start=1):
            rtype = TYPES[name]
            count = 0
            with filestore.Spool("ndjson") as out:
                for source in rtype.sources:
                    for chunk, n in stream(rtype, source, job.clinic, since=job.since, patients=patients, job=job):
                        out.write(chunk)
                        count += n
                        _progress(job, f"{name} ({index} of {len(job.types)} types): {count:,} resources")
                if count:
                    stored = out.store()
                    output.append(
                        {
                            "type": name,
                            "file": file_name(name),
                            "count": count,
                            "stored": stored,
                            "sha256": out.sha256,
                            "size": out.size,
                        }
                    )
    except BaseException:
        remove_files(job, [o["stored"] for o in output])
        raise
    return output


def stream(
    rtype: ResourceType,
    source: Source,
    clinic: Any,
    *,
    since: Any = None,
    patients: list[str] | None = None,
    job: ExportJob | None = None,
    batch_bytes: int = BATCH_BYTES,
) -> Iterator[tuple[bytes, int]]:
    """NDJSON chunks of one source, each from one keyset batch whose row count is sized by the bytes it produced."""
    qs = source.queryset(clinic)
    if rtype.gone_when_eie and source.versioned:
        qs = qs.filter(entered_in_error_at__isnull=True)
    if since is not None:
        qs = qs.filter(**{f"{source.updated_path}__gt": since})
    if patients is not None:
        if not source.patient_path:
            return
        qs = qs.filter(**{f"{source.patient_path}__in": patients})
    dumps = orjson.dumps
    option = DUMP_OPTION | orjson.OPT_APPEND_NEWLINE
    last = 0
    size = FIRST_BATCH
    while True:
        with _collector_paused():
            rows = source.fetch_raw(qs.filter(pk__gt=last).order_by("pk")[:size])
            if not rows:
                return
            chunk = b"".join([dumps(r, option=option) for r in source.map_rows(rows)])
            n, last = len(rows), rows[-1]["id"]
            del rows  # freed before the collector is back on: it never walks a batch's rows
        yield chunk, n
        if n < size:
            return  # a short batch is the last one
        size = max(MIN_BATCH, min(MAX_BATCH, int(batch_bytes * n / len(chunk))))
        if job is not None and _cancelled(job):
            raise ExportCancelled


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while one batch is read, mapped and dumped. A batch makes hundreds of
    thousands of small dicts and lists, none in a cycle (refcounting frees them when the batch is done); with the
    collector on, their allocation kept triggering collections that walked every live object of the process: at
    9,000 patients on PostgreSQL that was about half of the CPU a resource cost (29.1 µs with it, 14.9 without;
    docs/PERFORMANCE.md, "Bulk export at 9,000 network-shape patients: where the time went"). Turned back on after
    each batch (or error), and left alone when something else had turned it off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _cancelled(job: ExportJob) -> bool:
    return ExportJob.objects.filter(pk=job.pk, status=ExportStatus.CANCELLED).exists()


def _progress(job: ExportJob, text: str) -> None:
    ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(progress=text[:100])


def purge_expired(now: Any = None) -> int:
    """Remove the files of every finished job past its expiry; returns how many jobs were purged."""
    now = now or timezone.now()
    purged = 0
    for job in ExportJob.objects.filter(
        status__in=(ExportStatus.COMPLETED, ExportStatus.FAILED), expires_at__lt=now
    ).only("pk", "uuid", "output"):
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.EXPIRED)
        remove_files(job, now=now)
        purged += 1
    return purged
