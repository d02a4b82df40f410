"""`GET /api/patients/{id}/outcomes`: a patient's outcome series per instrument, change from baseline, responder status."""

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from prolotrack.audit.services import record_read
from prolotrack.clinics.api_auth import api_actor
from prolotrack.clinics.roles import Permission
from prolotrack.outcomes.trajectory import Series, Trajectory, patient_trajectory
from prolotrack.patients.queries import patient_or_404
from prolotrack.patients.schemas import ErrorOut
from prolotrack.treatment.models import Course

router = Router(tags=["outcomes"])
ERRORS = {403: ErrorOut, 404: ErrorOut}


class PointOut(Schema):
    date: date
    score: Decimal
    timepoint: str
    sessions_before: int


class ChangeOut(Schema):
    absolute: Decimal
    improvement: Decimal
    percent: Decimal | None


class SeriesOut(Schema):
    instrument: str
    name: str
    direction: str | None
    mcid_absolute: Decimal | None
    mcid_percent: Decimal | None
    points: list[PointOut]
    baseline: Decimal | None
    latest: Decimal | None
    change: ChangeOut | None
    mcid_boundary: Decimal | None
    responder: bool | None


class TrajectorySessionOut(Schema):
    number: int
    date: date


class VerdictOut(Schema):
    responder: bool | None
    basis: str


class AlertOut(Schema):
    status: str
    non_responder: bool
    reason: str
    after_n_sessions: int


class CourseRef(Schema):
    id: UUID
    indication: str
    started_on: date
    status: str


class OutcomesOut(Schema):
    patient_id: UUID
    course: CourseRef | None
    courses: list[CourseRef]
    sessions: list[TrajectorySessionOut]
    series: list[SeriesOut]
    responder: VerdictOut
    non_responder: AlertOut | None


def _course_ref(course: Course) -> dict[str, Any]:
    return {
        "id": course.uuid,
        "indication": course.indication,
        "started_on": course.started_on,
        "status": course.status,
    }


def _series(series: Series) -> dict[str, Any]:
    inst = series.instrument
    change = series.change
    return {
        "instrument": series.code,
        "name": series.name,
        "direction": inst.direction.value if inst else None,
        "mcid_absolute": inst.mcid_absolute if inst else None,
        "mcid_percent": inst.mcid_percent if inst else None,
        "points": [
            {"date": p.day, "score": p.score, "timepoint": p.timepoint, "sessions_before": p.sessions_before}
            for p in series.points
        ],
        "baseline": series.baseline.score if series.baseline else None,
        "latest": series.latest.score if series.latest else None,
        "change": None
        if change is None
        else {"absolute": change.absolute, "improvement": change.improvement, "percent": change.percent},
        "mcid_boundary": series.boundary,
        "responder": series.responder,
    }


def outcomes_payload(trajectory: Trajectory) -> dict[str, Any]:
    """The API's view of a trajectory (also used by tests and other apps that want plain data)."""
    check = trajectory.check
    return {
        "patient_id": trajectory.patient.uuid,
        "course": _course_ref(trajectory.course) if trajectory.course else None,
        "courses": [_course_ref(c) for c in trajectory.courses],
        "sessions": [{"number": m.number, "date": m.day} for m in trajectory.sessions],
        "series": [_series(s) for s in trajectory.series],
        "responder": {"responder": trajectory.verdict.responder, "basis": trajectory.verdict.basis.value},
        "non_responder": None
        if check is None
        else {
            "status": check.status.value,
            "non_responder": check.non_responder,
            "reason": check.reason,
            "after_n_sessions": trajectory.after_n_sessions,
        },
    }


@router.get(
    "/patients/{patient_id}/outcomes",
    response={200: OutcomesOut, **ERRORS},
    summary="A patient's outcome series and responder status",
)
def patient_outcomes(request: HttpRequest, patient_id: UUID, course: UUID | None = None) -> Any:
    """Series per instrument (dates, scores, sessions before each), change from baseline, responder status and the
    non-responder alert, for one course (by default the latest course with answers)."""
    actor = api_actor(request, Permission.OUTCOMES_VIEW)
    patient = patient_or_404(request, patient_id)
    chosen = None
    if course is not None:
        chosen = Course.objects.filter(clinic=request.clinic, patient=patient, uuid=course).first()  # type: ignore[attr-defined]
        if chosen is None:
            raise Http404("No such course for this patient.")
    record_read(actor, "outcomes.trajectory.viewed", record=patient, patient_uuid=patient.uuid)
    return outcomes_payload(patient_trajectory(patient, chosen))
