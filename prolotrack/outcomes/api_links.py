"""Questionnaire endpoints under /api: create a link for a timepoint, list a patient's answers."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from prolotrack.audit.services import record_read
from prolotrack.clinics.api_auth import api_actor
from prolotrack.clinics.roles import Permission
from prolotrack.core.site import site_url
from prolotrack.outcomes import queries, services
from prolotrack.outcomes.models import LinkDelivery, QuestionnaireResponse
from prolotrack.patients.queries import patient_or_404
from prolotrack.patients.schemas import ErrorOut
from prolotrack.treatment.models import CourseTimepoint

router = Router(tags=["outcomes"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class LinkIn(Schema):
    timepoint_id: UUID | None = Field(None, description="The course timepoint the answers are for.")
    instruments: list[str] | None = Field(
        None, description="Instrument codes; default: the timepoint's set (region, licences, no PGIC at baseline)."
    )
    delivery: LinkDelivery = Field(LinkDelivery.COPIED, description="email, qr, tablet or copied.")

    model_config = {"extra": "forbid"}


class LinkOut(Schema):
    id: UUID
    url: str = Field(description="The link, shown once: only a hash of its token is stored.")
    expires_at: datetime
    instruments: list[str]
    delivery: str
    timepoint_id: UUID | None


class ResponseOut(Schema):
    id: UUID
    instrument: str
    status: str
    score: Decimal | None
    subscores: dict[str, Any]
    answers: dict[str, Any]
    authored_on: date
    completed_at: datetime | None
    source: str
    timepoint_id: UUID | None
    timepoint_label: str | None
    course_id: UUID | None
    entered_in_error: bool

    @staticmethod
    def of(r: QuestionnaireResponse) -> "ResponseOut":
        return ResponseOut(
            id=r.uuid,
            instrument=r.instrument,
            status=r.status,
            score=r.score,
            subscores=r.subscores,
            answers=r.answers,
            authored_on=r.authored_on,
            completed_at=r.completed_at,
            source=r.source,
            timepoint_id=r.timepoint.uuid if r.timepoint else None,
            timepoint_label=r.timepoint.label if r.timepoint else None,
            course_id=r.course.uuid if r.course else None,
            entered_in_error=r.is_entered_in_error,
        )


@router.post(
    "/patients/{patient_id}/questionnaire-links",
    response={201: LinkOut, **ERRORS},
    summary="Create a single-use questionnaire link (the URL is returned once)",
)
def create_link(request: HttpRequest, patient_id: UUID, payload: LinkIn) -> Any:
    actor = api_actor(request, Permission.OUTCOMES_COLLECT)
    patient = patient_or_404(request, patient_id)
    timepoint = None
    if payload.timepoint_id is not None:
        try:
            timepoint = queries.get_timepoint(request.clinic, payload.timepoint_id)  # type: ignore[attr-defined]
        except CourseTimepoint.DoesNotExist:
            raise Http404("No such timepoint in this clinic.") from None
    link, path = services.create_link(
        actor, patient, timepoint=timepoint, instruments=payload.instruments, delivery=payload.delivery
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
    response={200: list[ResponseOut], **ERRORS},
    summary="A patient's questionnaire answers and scores",
)
def list_responses(request: HttpRequest, patient_id: UUID) -> Any:
    actor = api_actor(request, Permission.OUTCOMES_VIEW)
    patient = patient_or_404(request, patient_id)
    record_read(actor, "questionnaire.responses.viewed", record=patient, patient_uuid=patient.uuid)
    rows = queries.patient_responses(patient).select_related("course")
    return [ResponseOut.of(r) for r in rows]
