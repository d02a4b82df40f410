"""JSON API of the outcomes app, mounted on the product's API in prolotrack/api.py: questionnaire links for a
timepoint, a patient's answers and scores, and a patient's outcome trajectory."""

from typing import Any
from uuid import UUID

from django.http import Http404
from ninja import Router
from ninja.responses import Status

from prolotrack.audit.services import record_read
from prolotrack.clinics.api_auth import api_require
from prolotrack.clinics.http import ApiRequest
from prolotrack.clinics.roles import Permission
from prolotrack.core.site import site_url
from prolotrack.outcomes import queries, services
from prolotrack.outcomes.schemas import LinkIn, LinkOut, OutcomesOut, ResponseOut, outcomes_payload
from prolotrack.outcomes.trajectory import patient_trajectory
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment import queries as treatment_queries
from prolotrack.treatment.models import CourseTimepoint

router = Router(tags=["outcomes"])


@router.post(
    "/patients/{patient_id}/questionnaire-links",
    response={201: LinkOut},
    summary="Create a single-use questionnaire link (the URL is returned once)",
)
@api_require(Permission.OUTCOMES_COLLECT)
def create_link(request: ApiRequest, patient_id: UUID, payload: LinkIn) -> Any:
    patient = patient_or_404(request, patient_id)
    timepoint = None
    if payload.timepoint_id is not None:
        try:
            timepoint = queries.get_timepoint(request.clinic, payload.timepoint_id)
        except CourseTimepoint.DoesNotExist:
            raise Http404("No such timepoint in this clinic.") from None
    link, path = services.create_link(
        request.actor, patient, timepoint=timepoint, instruments=payload.instruments, delivery=payload.delivery
    )
    return Status(
        201,
        LinkOut(
            id=link.uuid,
            url=site_url(path),
            expires_at=link.expires_at,
            instruments=link.instruments,
            delivery=link.delivery,
            timepoint_id=timepoint.uuid if timepoint else None,
        ),
    )


@router.get(
    "/patients/{patient_id}/questionnaire-responses",
    response={200: list[ResponseOut]},
    summary="A patient's questionnaire answers and scores",
)
@api_require(Permission.OUTCOMES_VIEW)
def list_responses(request: ApiRequest, patient_id: UUID) -> Any:
    patient = patient_or_404(request, patient_id)
    record_read(request.actor, "questionnaire.responses.viewed", record=patient, patient_uuid=patient.uuid)
    rows = queries.patient_responses(patient).select_related("course")
    return [ResponseOut.of(r) for r in rows]


@router.get(
    "/patients/{patient_id}/outcomes",
    response={200: OutcomesOut},
    summary="A patient's outcome series and responder status",
)
@api_require(Permission.OUTCOMES_VIEW)
def patient_outcomes(request: ApiRequest, patient_id: UUID, course: UUID | None = None) -> Any:
    """Series per instrument (dates, scores, sessions before each), change from baseline, responder status and the
    non-responder alert, for one course (by default the latest course with answers)."""
    patient = patient_or_404(request, patient_id)
    chosen = None
    if course is not None:
        chosen = treatment_queries.patient_course(patient, course)
        if chosen is None:
            raise Http404("No such course for this patient.")
    record_read(request.actor, "outcomes.trajectory.viewed", record=patient, patient_uuid=patient.uuid)
    return outcomes_payload(patient_trajectory(patient, chosen))
