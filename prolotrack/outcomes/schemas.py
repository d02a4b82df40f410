"""Shapes of the outcomes API: questionnaire links and answers in, links, answers and trajectories out."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ninja import Field, Schema

from prolotrack.outcomes.models import LinkDelivery, QuestionnaireResponse
from prolotrack.outcomes.trajectory import Series, Trajectory
from prolotrack.treatment.models import Course


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
