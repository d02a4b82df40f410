"""Reads of the outcomes app (questionnaires and links), always within one clinic."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from prolotrack.core.links import token_hash
from prolotrack.domain import instruments as domain
from prolotrack.outcomes.models import (
    ClinicInstrumentText,
    QuestionnaireLink,
    QuestionnaireResponse,
    ResponseStatus,
)
from prolotrack.treatment.models import CourseStatus, CourseTimepoint, TimepointKind


def clinic_texts(clinic: Any) -> dict[str, ClinicInstrumentText]:
    """The clinic's imported (active) licensed-instrument texts, by instrument code."""
    rows = ClinicInstrumentText.objects.filter(clinic=clinic, active=True, entered_in_error_at__isnull=True)
    return {row.instrument: row for row in rows}


def licensed_available(clinic: Any) -> tuple[str, ...]:
    return tuple(clinic_texts(clinic))


def instruments_for_timepoint(timepoint: CourseTimepoint, *, licensed: tuple[str, ...] | None = None) -> list[str]:
    """Instrument codes the timepoint opens: the course region's set (clinic setting), licensed instruments only
    when the clinic imported their texts, no PGIC at baseline."""
    course = timepoint.course
    clinic = course.clinic
    available = licensed_available(clinic) if licensed is None else licensed
    return list(
        domain.instruments_for(
            course.region,
            baseline=timepoint.kind == TimepointKind.BASELINE,
            licensed_available=available,
            overrides=clinic.config.outcome_instruments,
        )
    )


def _completed_for_timepoint() -> Exists:
    return Exists(
        QuestionnaireResponse.objects.filter(
            timepoint=OuterRef("pk"), status=ResponseStatus.COMPLETED, entered_in_error_at__isnull=True
        )
    )


def timepoints_awaiting_answers(clinic: Any, today: date) -> QuerySet[CourseTimepoint]:
    """Timepoints due today or overdue, in courses still running or completed, with no completed answer yet.

    Ordered by due date; `overdue_days` is not annotated (compute today - due_on). Patient and course are joined.
    """
    return (
        CourseTimepoint.objects.filter(
            clinic=clinic,
            due_on__lte=today,
            entered_in_error_at__isnull=True,
            course__entered_in_error_at__isnull=True,
        )
        .exclude(course__status=CourseStatus.STOPPED)
        .annotate(answered=_completed_for_timepoint())
        .filter(answered=False)
        .select_related("patient", "course")
        .order_by("due_on", "id")
    )


def get_timepoint(clinic: Any, timepoint_uuid: Any) -> CourseTimepoint:
    return CourseTimepoint.objects.select_related("course", "patient").get(
        clinic=clinic, uuid=timepoint_uuid, entered_in_error_at__isnull=True
    )


def link_by_token(token: str) -> QuestionnaireLink | None:
    """The link a token opens, or None. One indexed lookup on the token's hash: the time taken does not depend
    on how much of a guessed token is right."""
    if not token or len(token) > 200:
        return None
    return (
        QuestionnaireLink.objects.select_related("clinic", "patient", "timepoint", "course")
        .filter(token_hash=token_hash(token))
        .first()
    )


class LinkState:
    OPEN = "open"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"


def link_state(link: QuestionnaireLink, now: Any = None) -> str:
    now = now or timezone.now()
    if link.is_entered_in_error:
        return LinkState.WITHDRAWN
    if link.revoked_at is not None:
        return LinkState.REVOKED
    if link.completed_at is not None:
        return LinkState.USED
    if link.expires_at <= now:
        return LinkState.EXPIRED
    return LinkState.OPEN


def link_responses(link: QuestionnaireLink) -> dict[str, QuestionnaireResponse]:
    """The link's answers so far, by instrument."""
    rows = QuestionnaireResponse.objects.filter(link=link, entered_in_error_at__isnull=True).order_by("id")
    return {row.instrument: row for row in rows}


def patient_responses(patient: Any) -> QuerySet[QuestionnaireResponse]:
    return (
        QuestionnaireResponse.objects.filter(patient=patient)
        .select_related("timepoint", "created_by")
        .order_by("-authored_on", "-id")
    )


def patient_links(patient: Any) -> QuerySet[QuestionnaireLink]:
    return QuestionnaireLink.objects.filter(patient=patient).select_related("timepoint", "created_by")


@dataclass(frozen=True)
class TimepointRow:
    timepoint: CourseTimepoint
    instruments: list[str]
    completed: list[str]
    in_progress: list[str]

    @property
    def titles(self) -> list[str]:
        return [domain.definition(c).title for c in self.instruments]

    @property
    def completed_titles(self) -> list[str]:
        return [domain.definition(c).title for c in self.completed if c in domain.DEFINITIONS]

    @property
    def done(self) -> bool:
        return bool(self.instruments) and set(self.instruments) <= set(self.completed)


def patient_timepoints(patient: Any) -> list[TimepointRow]:
    """Each timepoint of the patient's courses with the instruments it opens and what has been answered."""
    timepoints = list(
        CourseTimepoint.objects.filter(patient=patient, entered_in_error_at__isnull=True)
        .select_related("course", "course__clinic")
        .order_by("due_on", "id")
    )
    licensed = licensed_available(patient.clinic)
    answered: dict[int, dict[str, set[str]]] = {}
    for tp_id, instrument, status in QuestionnaireResponse.objects.filter(
        patient=patient, timepoint__isnull=False, entered_in_error_at__isnull=True
    ).values_list("timepoint_id", "instrument", "status"):
        answered.setdefault(tp_id, {}).setdefault(status, set()).add(instrument)
    rows = []
    for tp in timepoints:
        done = answered.get(tp.pk, {})
        rows.append(
            TimepointRow(
                tp,
                instruments_for_timepoint(tp, licensed=licensed),
                sorted(done.get(ResponseStatus.COMPLETED, set())),
                sorted(done.get(ResponseStatus.IN_PROGRESS, set())),
            )
        )
    return rows


def link_or_404(request: Any, link_uuid: Any) -> QuestionnaireLink:
    """A questionnaire link of the request's clinic, or a 404 that does not say whether another clinic has one."""
    from django.http import Http404

    try:
        return QuestionnaireLink.objects.select_related("patient").get(clinic=request.clinic, uuid=link_uuid)
    except QuestionnaireLink.DoesNotExist:
        raise Http404("No such link in this clinic.") from None


def instrument_text(clinic: Any, code: str) -> ClinicInstrumentText | None:
    """The clinic's texts of a licensed instrument as last imported, active or not."""
    return ClinicInstrumentText.objects.filter(clinic=clinic, instrument=code).first()
