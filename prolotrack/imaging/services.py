"""Writes for imaging review. Each function checks the actor's permission, validates before anything is written,
then saves in one transaction through audit.services (record, version and audit rows commit together).

Permissions (clinics/roles.py): adding and changing studies and files needs patient.edit_clinical (clinicians and
nurses); the feasibility decision needs that *and* the clinician role, checked here because it is a clinical
judgement about the procedure (DOMAIN.md §5: "the clinician decides and records why"). Entering in error needs
record.mark_entered_in_error. A file's bytes are never deleted: a file entered in error keeps them in the file store.
"""

import hashlib
import re
import uuid as uuid_lib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from prolotrack.audit.services import (
    AccessDenied,
    Actor,
    ServiceError,
    create_record,
    mark_entered_in_error,
    update_record,
)
from prolotrack.clinics.queries import clinic_today as clinic_today  # one definition, re-exported
from prolotrack.clinics.roles import Permission, require_permission, role_has
from prolotrack.core import filestore
from prolotrack.core.access import require_same_clinic
from prolotrack.imaging import findings as catalogue
from prolotrack.imaging.files import FileRefused, inspect_upload
from prolotrack.imaging.models import MIN_REASON_CHARS, Feasibility, ImagingFile, ImagingStudy
from prolotrack.patients.models import BodyRegion, Patient

STUDY_FIELDS = ("modality", "study_date", "body_region", "laterality", "findings", "report")


def _study_values(actor: Actor, patient: Patient, data: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(STUDY_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be set here."))
    values = dict(data)
    errors: dict[str, str] = {}
    day = values.get("study_date")
    if day is not None and not isinstance(day, date):
        errors["study_date"] = "Give the study date as YYYY-MM-DD."
    elif isinstance(day, date):
        if day > clinic_today(actor.clinic):
            errors["study_date"] = "The study date cannot be in the future (the clinic's local date)."
        elif day < patient.date_of_birth:
            errors["study_date"] = f"The study date is before the patient's birth ({patient.date_of_birth:%Y-%m-%d})."
    region = str(values.get("body_region", ""))
    codes = values.get("findings", [])
    if region not in BodyRegion.values:
        errors["body_region"] = f"'{region}' is not a valid choice: choose one of {', '.join(BodyRegion.values)}."
    elif not isinstance(codes, list | tuple):
        errors["findings"] = "Findings are a list of finding codes."
    else:
        try:
            values["findings"] = catalogue.validate(region, codes)
        except catalogue.FindingsError as error:
            errors["findings"] = str(error)
    values["report"] = (values.get("report") or "").strip()
    values["laterality"] = values.get("laterality") or ""
    if errors:
        raise ValidationError(errors)
    return values


def create_study(actor: Actor, patient: Patient, data: Mapping[str, Any]) -> ImagingStudy:
    """Record an imaging study of a patient of the actor's clinic."""
    require_permission(actor, Permission.PATIENT_EDIT_CLINICAL)
    require_same_clinic(actor, patient)
    if patient.is_entered_in_error:
        raise ServiceError("This patient record was marked entered in error; add nothing to it.")
    values = _study_values(actor, patient, {"findings": [], **data})
    with transaction.atomic():
        study = ImagingStudy(clinic=patient.clinic, patient=patient, **values)
        return create_record(actor, study, "imaging.study.added")


def update_study(
    actor: Actor, study: ImagingStudy, data: Mapping[str, Any], *, expected_version: int | None, reason: str = ""
) -> ImagingStudy:
    """Correct a study's details or findings, refusing a stale edit."""
    require_permission(actor, Permission.PATIENT_EDIT_CLINICAL)
    require_same_clinic(actor, study)
    merged = {name: getattr(study, name) for name in STUDY_FIELDS}
    merged.update(data)
    values = _study_values(actor, study.patient, merged)
    with transaction.atomic():
        return update_record(
            actor, study, values, "imaging.study.updated", expected_version=expected_version, reason=reason
        )


def record_feasibility(
    actor: Actor, study: ImagingStudy, feasibility: str, reason: str, *, expected_version: int | None
) -> ImagingStudy:
    """The clinician's decision: is the procedure feasible at this site, given the images, and why."""
    require_permission(actor, Permission.PATIENT_EDIT_CLINICAL)
    require_same_clinic(actor, study)
    if not role_has(actor.role, Permission.IMAGING_DECIDE):
        raise AccessDenied(
            "Only a clinician records whether the procedure is feasible: it is a clinical decision. "
            "Add the findings and ask the clinician to decide."
        )
    if feasibility not in Feasibility.values:
        raise ValidationError({"feasibility": "Choose feasible, not feasible or uncertain."})
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_CHARS:
        raise ValidationError(
            {"feasibility_reason": f"Say why (at least {MIN_REASON_CHARS} characters): the decision is kept with it."}
        )
    changes = {
        "feasibility": feasibility,
        "feasibility_reason": reason,
        "reviewed_by": actor.user,
        "reviewed_at": timezone.now(),
    }
    with transaction.atomic():
        return update_record(
            actor, study, changes, "imaging.feasibility.recorded", expected_version=expected_version, reason=reason
        )


def retire_study(
    actor: Actor, study: ImagingStudy, *, reason: str, expected_version: int | None = None
) -> ImagingStudy:
    """Mark a study recorded by mistake as entered in error. Its files stay attached and stored."""
    require_permission(actor, Permission.RECORD_MARK_ERROR)
    require_same_clinic(actor, study)
    with transaction.atomic():
        return mark_entered_in_error(
            actor, study, "imaging.study.entered_in_error", reason=reason, expected_version=expected_version
        )


def retire_file(actor: Actor, file: ImagingFile, *, reason: str, expected_version: int | None = None) -> ImagingFile:
    """Mark a file attached by mistake as entered in error. The stored bytes are kept."""
    require_permission(actor, Permission.RECORD_MARK_ERROR)
    require_same_clinic(actor, file)
    with transaction.atomic():
        return mark_entered_in_error(
            actor, file, "imaging.file.entered_in_error", reason=reason, expected_version=expected_version
        )


# --- Files ---------------------------------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")


def clean_original_name(name: str) -> str:
    """The uploader's file name as data: its last path part, no control characters, at most 255 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    return _UNSAFE_NAME.sub("", base).strip()[:255]


def media_path(relative: str) -> Path:
    """An absolute path under MEDIA_ROOT (the local file store); refuses anything that would leave it."""
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise ServiceError("Stored file path is outside the file store.")
    return path


EXTENSIONS = {"png": "png", "jpeg": "jpg", "dicom": "dcm"}


def attach_file(actor: Actor, study: ImagingStudy, data: bytes, name: str = "") -> ImagingFile:
    """Check an uploaded image and, if it is a readable PNG, JPEG or DICOM within the size limit, store it.

    A refused file raises FileRefused (a ServiceError) before anything is written: no row, no file on disk.
    """
    require_permission(actor, Permission.PATIENT_EDIT_CLINICAL)
    require_same_clinic(actor, study)
    if study.is_entered_in_error:
        raise ServiceError("This study was marked entered in error; attach the images to the correct study.")
    if study.patient.is_entered_in_error:
        raise ServiceError("This patient record was marked entered in error; add nothing to it.")
    inspected = inspect_upload(data, clean_original_name(name))
    digest = hashlib.sha256(data).hexdigest()
    twin = study.files.filter(sha256=digest, entered_in_error_at__isnull=True).select_related("created_by").first()
    if twin is not None:
        when = timezone.localtime(twin.created_at, actor.clinic.tz).strftime("%Y-%m-%d %H:%M")
        raise FileRefused(f"This image is already attached to this study (added {when}); nothing was saved.")
    # Stored once under their SHA-256 before the row (core/filestore.py): the row never names a missing file, the
    # same image attached twice is one stored file, and nothing stored is ever overwritten or deleted. A
    # transaction that rolls back leaves an unnamed file behind, which is harmless.
    try:
        stored = filestore.put(data, EXTENSIONS[inspected.kind])
        preview = filestore.put(inspected.preview_png, "png") if inspected.preview_png else ""
    except filestore.StoreError as error:
        raise ServiceError(f"The file could not be stored, nothing was saved: {error}") from error
    record = ImagingFile(
        uuid=uuid_lib.uuid4(),
        clinic=study.clinic,
        study=study,
        patient=study.patient,
        kind=inspected.kind,
        original_name=clean_original_name(name),
        size_bytes=len(data),
        sha256=digest,
        stored_path=stored,
        preview_path=preview,
        width=inspected.width,
        height=inspected.height,
        dicom_tags=inspected.dicom_tags,
    )
    with transaction.atomic():
        create_record(
            actor,
            record,
            "imaging.file.added",
            detail={"kind": inspected.kind, "size_bytes": len(data), "sha256": digest},
        )
    return record


__all__ = [
    "STUDY_FIELDS",
    "FileRefused",
    "attach_file",
    "clean_original_name",
    "create_study",
    "media_path",
    "record_feasibility",
    "retire_file",
    "retire_study",
    "update_study",
]
