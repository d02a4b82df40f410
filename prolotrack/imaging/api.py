"""Imaging endpoints under /api: a patient's studies, adding a study, attaching files, the feasibility decision.

Same rules as the pages: patient.view_clinical to read, patient.edit_clinical to add, the clinician role for the
feasibility decision; records are looked up inside the caller's clinic (another clinic's answers 404); reads are
audited. A refused file answers 422 (413 when too large) with the reason; nothing is stored.
"""

from typing import Any
from uuid import UUID

from django.http import Http404
from django.http.response import HttpResponseBase
from ninja import File, Router
from ninja.files import UploadedFile
from ninja.responses import Status

from prolotrack.audit.services import record_read
from prolotrack.clinics.api_auth import api_require
from prolotrack.clinics.http import ApiRequest
from prolotrack.clinics.roles import Permission
from prolotrack.imaging import findings as catalogue
from prolotrack.imaging import queries, services
from prolotrack.imaging.files import check_size
from prolotrack.imaging.models import ImagingFile, ImagingStudy
from prolotrack.imaging.schemas import CatalogueOut, FeasibilityIn, FileOut, StudyIn, StudyOut
from prolotrack.imaging.serve import file_response
from prolotrack.patients.queries import patient_or_404

router = Router(tags=["imaging"])


def _study(request: ApiRequest, study_id: UUID) -> ImagingStudy:
    try:
        return queries.get_study(request.clinic, study_id)
    except ImagingStudy.DoesNotExist:
        raise Http404("No such imaging study in this clinic.") from None


def _with_files(study: ImagingStudy) -> ImagingStudy:
    return queries.study_with_files(study)


@router.get(
    "/imaging/findings",
    response={200: list[CatalogueOut]},
    summary="The findings catalogue: codes by body region, with the grading scale's source",
)
@api_require(Permission.PATIENT_VIEW_CLINICAL)
def findings_catalogue(request: ApiRequest) -> Any:
    return [
        {"code": f.code, "label": f.label, "region": f.region, "concern": f.concern, "source": f.source}
        for f in catalogue.FINDINGS
    ]


@router.get(
    "/patients/{patient_id}/imaging",
    response={200: list[StudyOut]},
    summary="A patient's imaging studies with findings, feasibility and file metadata",
)
@api_require(Permission.PATIENT_VIEW_CLINICAL)
def list_studies(request: ApiRequest, patient_id: UUID) -> Any:
    patient = patient_or_404(request, patient_id)
    record_read(request.actor, "imaging.studies.viewed", record=patient, patient_uuid=patient.uuid)
    return queries.studies_with_files(patient)


@router.post("/patients/{patient_id}/imaging", response={201: StudyOut}, summary="Record an imaging study")
@api_require(Permission.PATIENT_EDIT_CLINICAL)
def create_study(request: ApiRequest, patient_id: UUID, payload: StudyIn) -> Any:
    patient = patient_or_404(request, patient_id)
    study = services.create_study(request.actor, patient, payload.dict())
    return Status(201, _with_files(study))


@router.get("/imaging/{study_id}", response={200: StudyOut}, summary="Read one imaging study")
@api_require(Permission.PATIENT_VIEW_CLINICAL)
def get_study(request: ApiRequest, study_id: UUID) -> Any:
    study = _study(request, study_id)
    record_read(request.actor, "imaging.study.viewed", record=study, patient_uuid=study.patient.uuid)
    return _with_files(study)


@router.post(
    "/imaging/{study_id}/files",
    response={201: FileOut},
    summary="Attach a PNG, JPEG or DICOM image (multipart field 'file')",
)
@api_require(Permission.PATIENT_EDIT_CLINICAL)
def attach_file(request: ApiRequest, study_id: UUID, file: File[UploadedFile]) -> Any:
    study = _study(request, study_id)
    # A refused file answers 422 and one too large 413 (their `status`; prolotrack/api.py maps every ServiceError).
    if file.size is not None:
        check_size(file.size)  # before reading the upload into memory
    attached = services.attach_file(request.actor, study, file.read(), file.name or "")
    return Status(201, attached)


@router.post(
    "/imaging/{study_id}/feasibility",
    response={200: StudyOut},
    summary="The clinician's decision: is the procedure feasible, and why (clinicians only)",
)
@api_require(Permission.PATIENT_EDIT_CLINICAL)
def record_feasibility(request: ApiRequest, study_id: UUID, payload: FeasibilityIn) -> Any:
    study = _study(request, study_id)
    study = services.record_feasibility(
        request.actor, study, payload.feasibility, payload.reason, expected_version=payload.version
    )
    return _with_files(study)


@router.get(
    "/imaging/files/{file_id}/content",
    response={200: None},
    summary="The image (a DICOM's PNG preview), or with original=true the stored file as uploaded",
)
@api_require(Permission.PATIENT_VIEW_CLINICAL)
def file_content(request: ApiRequest, file_id: UUID, original: bool = False) -> HttpResponseBase:
    actor = request.actor
    try:
        file = queries.get_file(request.clinic, file_id)
    except ImagingFile.DoesNotExist:
        raise Http404("No such image in this clinic.") from None
    action = "imaging.file.downloaded" if original else "imaging.file.viewed"
    record_read(actor, action, record=file, patient_uuid=file.patient.uuid)
    return file_response(file, original=original, actor=actor)
