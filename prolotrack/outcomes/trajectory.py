"""A patient's outcome trajectory: each instrument's scores over a course, its sessions, change and responder status.

Reads only (no audit here: the page, the API and the documents that show a trajectory audit their own read).
The numbers come from the domain: change from baseline and the responder verdict from `domain.scoring`, the MCID
band's edge and the course verdict from `domain.analytics`, the non-responder alert from `scoring.non_responder`
with the clinic's "judge after N sessions" setting. Loads in a fixed number of queries.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from prolotrack.domain import analytics
from prolotrack.domain.errors import DomainError
from prolotrack.domain.scoring import Change, Instrument, NonResponderCheck, change_from_baseline, non_responder
from prolotrack.domain.scoring import instrument as scoring_instrument
from prolotrack.domain.wording import change_words
from prolotrack.outcomes.models import QuestionnaireResponse, ResponseStatus
from prolotrack.treatment import queries as treatment_queries
from prolotrack.treatment.models import Course, SessionStatus, TreatmentSession

# The instrument the course verdict and the non-responder alert rest on (DOMAIN.md §8: NRS pain, MCID 2 points or
# 30%, Farrar 2001); without a pair of NRS scores the latest PGIC decides (docs/DASHBOARD.md).
PRIMARY = "nrs_pain"
PGIC = "pgic"


def instrument_for(code: str) -> Instrument | None:
    """The scoring definition (range, direction, MCID) of an instrument code, or None if the product has none."""
    try:
        return scoring_instrument(code)
    except DomainError:
        return None


@dataclass(frozen=True)
class Point:
    """One score on the chart."""

    day: date
    score: Decimal
    timepoint: str
    sessions_before: int


@dataclass(frozen=True)
class Series:
    """One instrument's scores in a course, with its change from baseline and the MCID band's edge."""

    code: str
    name: str
    instrument: Instrument | None
    points: tuple[Point, ...]
    change: Change | None = None
    boundary: Decimal | None = None
    responder: bool | None = None

    @property
    def baseline(self) -> Point | None:
        return self.points[0] if self.points and not self.rates_change else None

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def rates_change(self) -> bool:
        return bool(self.instrument and self.instrument.rates_change)

    @property
    def change_text(self) -> str:
        """The change from baseline in words (domain.wording): 'improved by 3 (37.5%)', 'worse by 1', 'no change'."""
        return change_words(self.change.improvement, self.change.percent) if self.change else ""


@dataclass(frozen=True)
class SessionMark:
    number: int
    day: date


@dataclass(frozen=True)
class Trajectory:
    """Everything the trajectory card, the API and the progress report show for one course."""

    patient: Any
    course: Course | None
    sessions: tuple[SessionMark, ...]
    series: tuple[Series, ...]
    verdict: analytics.CourseVerdict
    check: NonResponderCheck | None
    after_n_sessions: int
    courses: tuple[Course, ...] = field(default=())

    @property
    def sessions_done(self) -> int:
        return len(self.sessions)

    @property
    def alert(self) -> bool:
        return bool(self.check and self.check.non_responder)

    def series_for(self, code: str) -> Series | None:
        return next((s for s in self.series if s.code == code), None)


def _session_day(session: TreatmentSession, tz: Any) -> date:
    return session.starts_at.astimezone(tz).date() if session.starts_at else session.planned_on


def _series(code: str, rows: list[QuestionnaireResponse], marks: tuple[SessionMark, ...]) -> Series:
    inst = instrument_for(code)
    points = tuple(
        Point(
            r.authored_on, r.score, r.timepoint.label if r.timepoint else "", sum(m.day < r.authored_on for m in marks)
        )
        for r in rows
        if r.score is not None  # the query reads scored responses only
    )
    name = inst.name if inst else code
    if inst is None or inst.rates_change or not points:
        responder = None
        if inst is not None and inst.rates_change and points:
            responder = analytics.course_verdict(inst, [], points[-1].score).responder
        return Series(code, name, inst, points, responder=responder)
    boundary = analytics.responder_boundary(inst, points[0].score)
    change = change_from_baseline(inst, points[0].score, points[-1].score) if len(points) > 1 else None
    return Series(code, name, inst, points, change, boundary, change.responder if change else None)


def patient_trajectory(patient: Any, course: Course | None = None) -> Trajectory:
    """The trajectory of one course (by default the latest course with answers, else the latest course)."""
    responses = list(
        QuestionnaireResponse.objects.filter(
            patient=patient,
            clinic=patient.clinic,
            status=ResponseStatus.COMPLETED,
            entered_in_error_at__isnull=True,
            score__isnull=False,
        )
        .select_related("timepoint")
        .order_by("authored_on", "id")
    )
    courses = tuple(treatment_queries.courses_on_record(patient))
    if course is None:
        answered = {r.course_id for r in responses}
        course = next((c for c in courses if c.pk in answered), courses[0] if courses else None)
    if course is not None:
        responses = [r for r in responses if r.course_id == course.pk]
        sessions = TreatmentSession.objects.filter(
            course=course, status=SessionStatus.DONE, entered_in_error_at__isnull=True
        ).order_by("number")
        marks = tuple(SessionMark(s.number, _session_day(s, patient.clinic.tz)) for s in sessions)
    else:
        marks = ()

    by_code: dict[str, list[QuestionnaireResponse]] = {}
    for response in responses:
        by_code.setdefault(response.instrument, []).append(response)
    order = {PRIMARY: 0, PGIC: 2}
    series = tuple(
        _series(code, rows, marks) for code, rows in sorted(by_code.items(), key=lambda i: (order.get(i[0], 1), i[0]))
    )

    primary = next((s for s in series if s.code == PRIMARY), None) or next(
        (s for s in series if s.instrument and not s.rates_change and s.points), None
    )
    pgic = next((s for s in series if s.code == PGIC and s.points), None)
    latest_pgic = pgic.points[-1].score if pgic else None
    if primary is not None and primary.instrument is not None:
        verdict = analytics.course_verdict(primary.instrument, [p.score for p in primary.points], latest_pgic)
    elif latest_pgic is not None:
        verdict = analytics.course_verdict(scoring_instrument(PRIMARY), [], latest_pgic)
    else:
        verdict = analytics.CourseVerdict(None, analytics.Basis.NONE)

    after_n = patient.clinic.config.non_responder_after_sessions
    check = None
    if primary is not None and primary.instrument is not None and primary.points:
        check = non_responder(primary.instrument, len(marks), [p.score for p in primary.points], after_n)
    return Trajectory(patient, course, marks, series, verdict, check, after_n, courses)
