"""Treatment endpoints under /api: courses, sessions with sites and totals, checklist, signing, adverse events."""

from datetime import timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Query, Router
from ninja.responses import Status

from prolotrack.audit.services import record_disclosure, record_read
from prolotrack.clinical.queries import clinic_today, get_screening
from prolotrack.clinics.api_auth import api_require
from prolotrack.clinics.http import ApiRequest
from prolotrack.clinics.models import User
from prolotrack.clinics.roles import Permission
from prolotrack.domain.session import signing_blockers
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment import present, queries, services
from prolotrack.treatment.models import Course, TreatmentSession
from prolotrack.treatment.schemas import (
    AdverseEventIn,
    AdverseEventOut,
    AppointmentOut,
    CalendarParams,
    ChecklistIn,
    CourseIn,
    CourseOut,
    SessionOut,
    SessionSummary,
    SiteIn,
    SolutionIn,
)

router = Router(tags=["treatment"])


def _course(request: ApiRequest, course_id: UUID) -> Course:
    try:
        return queries.get_course(request.clinic, course_id)
    except Course.DoesNotExist:
        raise Http404("No such course in this clinic.") from None


def _session(request: ApiRequest, session_id: UUID) -> TreatmentSession:
    try:
        return queries.get_session(request.clinic, session_id)
    except TreatmentSession.DoesNotExist:
        raise Http404("No such session in this clinic.") from None


def _clinician(request: ApiRequest, username: str | None) -> User | None:
    if not username:
        return None
    user = queries.staff_member(request.clinic, username)
    if user is None:
        raise ValidationError({"clinician": f"No staff member '{username}' in this clinic."})
    return user


def session_payload(session: TreatmentSession) -> dict[str, Any]:
    """The session with its checklist, solutions, sites, totals and what still blocks signing."""
    page = queries.session_page(session)
    blockers = [] if session.is_signed else list(signing_blockers(queries.signing_state(session)))
    return {
        **SessionSummary.from_orm(session).dict(by_alias=True),
        **present.session_json(session, page),
        "signing_blockers": blockers,
    }


@router.get("/patients/{patient_id}/courses", response={200: list[CourseOut]}, summary="A patient's courses")
@api_require(Permission.COURSE_VIEW)
def list_courses(request: ApiRequest, patient_id: UUID) -> Any:
    patient = patient_or_404(request, patient_id)
    record_read(request.actor, "treatment.courses.viewed", record=patient, patient_uuid=patient.uuid)
    return queries.courses_with_plans(patient)


@router.post("/patients/{patient_id}/courses", response={201: CourseOut}, summary="Open a course")
@api_require(Permission.COURSE_MANAGE)
def create_course(request: ApiRequest, patient_id: UUID, payload: CourseIn) -> Any:
    patient = patient_or_404(request, patient_id)
    screening = None
    if payload.screening_id:
        try:
            screening = get_screening(request.clinic, payload.screening_id, patient)
        except Exception:
            raise ValidationError({"screening_id": "No such screening for this patient."}) from None
    course = services.create_course(
        request.actor,
        patient,
        protocol_id=payload.protocol_id,
        indication=payload.indication,
        region=payload.region,
        side=payload.side,
        start_on=payload.start_on,
        clinician=_clinician(request, payload.clinician),
        screening=screening,
        note=payload.note,
    )
    return Status(201, course)


@router.get("/courses/{course_id}", response={200: CourseOut}, summary="One course with its plan")
@api_require(Permission.COURSE_VIEW)
def get_course(request: ApiRequest, course_id: UUID) -> Any:
    course = _course(request, course_id)
    record_read(request.actor, "treatment.course.viewed", record=course)
    return course


@router.get("/sessions/{session_id}", response={200: SessionOut}, summary="A session with sites and totals")
@api_require(Permission.COURSE_VIEW)
def get_session(request: ApiRequest, session_id: UUID) -> Any:
    session = _session(request, session_id)
    record_read(request.actor, "treatment.session.viewed", record=session)
    return session_payload(session)


@router.post("/sessions/{session_id}/checklist", response={200: SessionOut}, summary="Tick a check")
@api_require(Permission.SESSION_RECORD)
def tick(request: ApiRequest, session_id: UUID, payload: ChecklistIn) -> Any:
    session = _session(request, session_id)
    services.tick(request.actor, session, payload.item, payload.answer, note=payload.note)
    return session_payload(_session(request, session_id))


@router.post("/sessions/{session_id}/solutions", response={201: SessionOut}, summary="Record a solution")
@api_require(Permission.SESSION_RECORD)
def add_solution(request: ApiRequest, session_id: UUID, payload: SolutionIn) -> Any:
    session = _session(request, session_id)
    services.add_solution(
        request.actor,
        session,
        label=payload.label,
        final_volume_ml=payload.final_volume_ml,
        components=[c.dict() for c in payload.components],
        diluent=payload.diluent,
        diluent_lot=payload.diluent_lot,
        with_epinephrine=payload.with_epinephrine,
        amendment_reason=payload.amendment_reason,
    )
    return Status(201, session_payload(_session(request, session_id)))


@router.post("/sessions/{session_id}/sites", response={201: SessionOut}, summary="Place an injection site")
@api_require(Permission.SESSION_RECORD)
def add_site(request: ApiRequest, session_id: UUID, payload: SiteIn) -> Any:
    session = _session(request, session_id)
    solution = queries.session_solution(session, payload.solution.strip().upper())
    if solution is None:
        raise ValidationError({"solution": f"No solution '{payload.solution}' in this session."})
    data = payload.dict(exclude={"solution"})
    services.add_site(request.actor, session, solution=solution, **data)
    return Status(201, session_payload(_session(request, session_id)))


@router.post("/sessions/{session_id}/sign", response={200: SessionOut}, summary="Sign the session note")
@api_require(Permission.SESSION_SIGN)
def sign(request: ApiRequest, session_id: UUID, early_reason: str = "") -> Any:
    """`early_reason` (query parameter) is needed only to sign before the booked start less the clinic's margin."""
    services.sign_session(request.actor, _session(request, session_id), early_reason=early_reason)
    return session_payload(_session(request, session_id))


@router.get("/patients/{patient_id}/adverse-events", response={200: list[AdverseEventOut]}, summary="Adverse events")
@api_require(Permission.COURSE_VIEW)
def list_adverse_events(request: ApiRequest, patient_id: UUID) -> Any:
    patient = patient_or_404(request, patient_id)
    record_read(request.actor, "treatment.adverse_events.viewed", record=patient, patient_uuid=patient.uuid)
    return queries.adverse_events_with_links(patient)


@router.post(
    "/patients/{patient_id}/adverse-events",
    response={201: AdverseEventOut},
    summary="Record an adverse event",
)
@api_require(Permission.ADVERSE_EVENT_RECORD)
def create_adverse_event(request: ApiRequest, patient_id: UUID, payload: AdverseEventIn) -> Any:
    patient = patient_or_404(request, patient_id)
    session = _session(request, payload.session_id) if payload.session_id else None
    site = None
    if payload.site_id:
        site = queries.clinic_site(request.clinic, payload.site_id)
        if site is None:
            raise ValidationError({"site_id": "No such injection site in this clinic."})
    data = payload.dict(exclude={"session_id", "site_id"})
    event = services.record_adverse_event(request.actor, patient, data, session=session, site=site)
    return Status(201, event)


@router.get("/calendar", response={200: list[AppointmentOut]}, summary="Booked sessions in a date range")
@api_require(Permission.SCHEDULE_VIEW)
def calendar(request: ApiRequest, params: Query[CalendarParams]) -> Any:
    actor = request.actor
    clinic = request.clinic
    today = clinic_today(clinic)
    start = params.start or today - timedelta(days=today.weekday())
    clinician = _clinician(request, params.clinician) if params.clinician else None
    sessions = list(queries.calendar_sessions(clinic, start, params.days, clinician))
    # The trail names every patient the calendar showed (one event each, one insert).
    record_disclosure(
        actor, "treatment.calendar.viewed", [s.patient for s in sessions], detail={"start": start, "days": params.days}
    )
    return [
        {
            "session_id": s.uuid,
            "patient_id": s.patient.uuid,
            "patient_name": f"{s.patient.family_name}, {s.patient.given_name}",
            "course": s.course.indication,
            "number": s.number,
            "starts_at": s.starts_at,
            "duration_minutes": s.duration_minutes,
            "clinician": s.clinician.get_username() if s.clinician else None,
            "status": s.status,
        }
        for s in sessions
    ]
