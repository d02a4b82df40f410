"""Patient registry endpoints under /api/patients."""

from typing import Any
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import Http404
from ninja import Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate
from ninja.responses import Status

from prolotrack.audit.services import record_event, record_read
from prolotrack.clinics.api_auth import api_actor
from prolotrack.clinics.roles import Permission
from prolotrack.patients import queries, services
from prolotrack.patients.models import Patient
from prolotrack.patients.schemas import ErrorOut, PatientDetail, PatientIn, PatientPatch, PatientSummary

router = Router(tags=["patients"])


class SearchParams(Schema):
    search: str = ""


def _get(request: HttpRequest, patient_id: UUID) -> Patient:
    try:
        return queries.get_patient(request.clinic, patient_id)  # type: ignore[attr-defined]
    except Patient.DoesNotExist:
        raise Http404("No such patient in this clinic.") from None


def _detail(request: HttpRequest, patient: Patient) -> Patient:
    """The patient, with its clinical lists attached when the caller's role may see them."""
    membership = request.auth  # type: ignore[attr-defined]
    if not membership.can(Permission.PATIENT_VIEW_CLINICAL):
        return patient
    chart = queries.load_chart(patient)
    chart.patient.clinical_chart = chart  # type: ignore[attr-defined]
    return chart.patient


@router.get("", response=list[PatientSummary], summary="Search patients by name, record number or date of birth")
@paginate(PageNumberPagination)
def list_patients(request: HttpRequest, filters: Query[SearchParams]) -> Any:
    actor = api_actor(request, Permission.PATIENT_LIST)
    with transaction.atomic():
        record_event(actor, "patient.searched", detail={"search": filters.search[:100]})
    return queries.search_patients(request.clinic, filters.search)  # type: ignore[attr-defined]


@router.get("/{patient_id}", response={200: PatientDetail, 404: ErrorOut}, summary="Read one patient")
def get_patient(request: HttpRequest, patient_id: UUID) -> Any:
    actor = api_actor(request, Permission.PATIENT_VIEW_DEMOGRAPHICS)
    patient = _get(request, patient_id)
    record_read(actor, "patient.chart.viewed", record=patient, patient_uuid=patient.uuid)
    return _detail(request, patient)


@router.post("", response={201: PatientDetail, 422: ErrorOut}, summary="Register a patient")
def create_patient(request: HttpRequest, payload: PatientIn) -> Any:
    actor = api_actor(request, Permission.PATIENT_EDIT_DEMOGRAPHICS)
    patient = services.create_patient(actor, payload.dict())
    return Status(201, patient)


@router.patch(
    "/{patient_id}",
    response={200: PatientDetail, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Change a patient's demographics (send the version you read)",
)
def update_patient(request: HttpRequest, patient_id: UUID, payload: PatientPatch) -> Any:
    actor = api_actor(request, Permission.PATIENT_EDIT_DEMOGRAPHICS)
    patient = _get(request, patient_id)
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    reason = changes.pop("reason", "")
    patient = services.update_patient(actor, patient, changes, expected_version=version, reason=reason)
    return patient
