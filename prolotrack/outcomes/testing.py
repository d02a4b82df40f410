"""Test data for outcome figures: courses with sessions done and questionnaire answers, written through audited helpers.

Answers are written with audit.services.create_record (the outcomes service adds answer validation on top; here the
score is given directly so a test controls the figures exactly); each helper refreshes the course's dashboard facts as
the services do (treatment.course_changed).
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from prolotrack.audit.services import create_record, update_record
from prolotrack.clinics.testing import actor_of
from prolotrack.outcomes.models import QuestionnaireResponse, ResponseSource, ResponseStatus
from prolotrack.treatment import hooks as treatment_hooks
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.models import Course, PreparedSolution, SessionStatus, TreatmentSession

START = date(2026, 3, 2)


def make_course(
    user: Any,
    patient: Any,
    *,
    start: date = START,
    protocol_id: str = "knee_oa_rabago",
    indication: str = "Knee osteoarthritis",
    region: str = "knee",
    clinician: Any = None,
) -> Course:
    return treatment_services.create_course(
        actor_of(user),
        patient,
        protocol_id=protocol_id,
        indication=indication,
        region=region,
        side="right",
        start_on=start,
        clinician=clinician if clinician is not None else user,
    )


def set_session(user: Any, course: Course, number: int, status: str = SessionStatus.DONE) -> TreatmentSession:
    """Mark one session done or a no-show (test shortcut past the checklist and signing)."""
    session = TreatmentSession.objects.get(course=course, number=number)
    with transaction.atomic():
        updated = update_record(
            actor_of(user), session, {"status": status}, "test.session.status", expected_version=None
        )
        treatment_hooks.course_changed(course.clinic_id, [course.pk])
        return updated


def add_dextrose(user: Any, course: Course, number: int, percent: str) -> PreparedSolution:
    session = TreatmentSession.objects.get(course=course, number=number)
    components = [
        {"agent": "dextrose", "target_pct": percent, "stock_pct": "50", "stock_volume_ml": "4", "amount_mg": "0"},
        {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2", "stock_volume_ml": "2.5", "amount_mg": "50"},
    ]
    solution = PreparedSolution(
        clinic=course.clinic,
        session=session,
        patient=course.patient,
        label="A",
        final_volume_ml=Decimal("10"),
        diluent="saline",
        diluent_volume_ml=Decimal("3.5"),
        components=components,
    )
    with transaction.atomic():
        created = create_record(actor_of(user), solution, "test.solution.added")
        treatment_hooks.course_changed(course.clinic_id, [course.pk])
        return created


def answer(
    user: Any,
    patient: Any,
    instrument: str,
    score: Any,
    day: date,
    *,
    course: Course | None = None,
    timepoint_code: str | None = None,
    status: str = ResponseStatus.COMPLETED,
) -> QuestionnaireResponse:
    timepoint = course.timepoints.get(code=timepoint_code) if course is not None and timepoint_code else None
    record = QuestionnaireResponse(
        clinic=patient.clinic,
        patient=patient,
        course=course,
        timepoint=timepoint,
        instrument=instrument,
        status=status,
        answers={},
        score=None if score is None else Decimal(str(score)),
        authored_on=day,
        completed_at=timezone.make_aware(datetime.combine(day, time(9))) if status == "completed" else None,
        source=ResponseSource.STAFF_PAPER,
    )
    with transaction.atomic():
        created = create_record(actor_of(user), record, "test.response.recorded")
        treatment_hooks.course_changed(patient.clinic_id, [course.pk if course is not None else None])
        return created


def session_day(course: Course, number: int) -> date:
    return TreatmentSession.objects.get(course=course, number=number).planned_on


def days_after(day: date, n: int) -> date:
    return day + timedelta(days=n)
