"""Reads for imaging review, always scoped to one clinic (another clinic's record raises DoesNotExist -> 404)."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q

from prolotrack.imaging import findings as catalogue
from prolotrack.imaging.models import ImagingFile, ImagingStudy
from prolotrack.patients.models import Patient

# DICOM modality codes (PS3.3 C.7.3.1.1.1) that match each study modality, to flag a file from another kind of study.
DICOM_MODALITIES = {
    "ultrasound": {"US"},
    "mri": {"MR"},
    "xray": {"CR", "DX", "RF", "XA", "MG", "PX", "RG", "DR"},
    "ct": {"CT"},
}


def get_study(clinic: Any, study_uuid: Any, patient: Patient | None = None) -> ImagingStudy:
    qs = ImagingStudy.objects.select_related("patient", "reviewed_by", "updated_by", "created_by")
    if patient is not None:
        qs = qs.filter(patient=patient)
    return qs.get(clinic=clinic, uuid=study_uuid)


def get_file(clinic: Any, file_uuid: Any) -> ImagingFile:
    return ImagingFile.objects.select_related("study", "patient").get(clinic=clinic, uuid=file_uuid)


def patient_studies(patient: Patient) -> list[ImagingStudy]:
    """A patient's studies, newest first, each with the number of its files in use (one query)."""
    return list(
        ImagingStudy.objects.filter(patient=patient, clinic=patient.clinic)
        .select_related("reviewed_by")
        .annotate(file_count=Count("files", filter=Q(files__entered_in_error_at__isnull=True)))
    )


def studies_with_files(patient: Patient) -> list[ImagingStudy]:
    """A patient's studies with their files (two queries), for the API."""
    return list(
        ImagingStudy.objects.filter(patient=patient, clinic=patient.clinic)
        .select_related("reviewed_by")
        .prefetch_related(Prefetch("files", queryset=ImagingFile.objects.select_related("created_by")))
    )


def study_with_files(study: ImagingStudy) -> ImagingStudy:
    """One study, fresh, with its files (two queries), for the API."""
    return (
        ImagingStudy.objects.select_related("reviewed_by")
        .prefetch_related(Prefetch("files", queryset=ImagingFile.objects.select_related("created_by")))
        .get(pk=study.pk)
    )


def study_files(study: ImagingStudy) -> list[ImagingFile]:
    return list(study.files.select_related("created_by", "updated_by"))


@dataclass
class FindingRow:
    code: str
    label: str
    concern: bool
    source: str
    detail: str


def finding_rows(codes: list[str]) -> list[FindingRow]:
    """The study's findings as rows for a page, concerns first."""
    rows = []
    for code in codes:
        found = catalogue.BY_CODE.get(code)
        if found is None:
            rows.append(FindingRow(code, code, False, "", ""))
        else:
            rows.append(FindingRow(code, found.label, found.concern, found.source, found.detail))
    return sorted(rows, key=lambda row: not row.concern)


def file_notes(study: ImagingStudy, file: ImagingFile) -> list[str]:
    """Where a DICOM file's own tags disagree with the study it is attached to (a possible mix-up)."""
    notes = []
    tags = file.dicom_tags or {}
    modality = str(tags.get("modality", "")).upper()
    expected = DICOM_MODALITIES.get(study.modality)
    if modality and expected and modality not in expected:
        notes.append(f"The file says modality {modality}, the study is {study.get_modality_display()}.")
    day = tags.get("study_date", "")
    if day and day != study.study_date.isoformat():
        notes.append(f"The file's study date is {day}, the study's is {study.study_date:%Y-%m-%d}.")
    return notes
