"""Reads of the treatment workflow, always within one clinic, in a fixed number of queries per page."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Max, Min, Prefetch, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.http import Http404

from prolotrack.audit.models import RecordVersion
from prolotrack.clinics.models import User
from prolotrack.clinics.roles import Permission, roles_with
from prolotrack.domain.agents import Agent, AgentConcentration, Concentration, Unit
from prolotrack.domain.anatomy import LANDMARKS
from prolotrack.domain.course import Outcome, SessionFact, SessionState, course_outcome
from prolotrack.domain.errors import DomainError
from prolotrack.domain.icd10cm import ChartCondition, Diagnosis, diagnosis, indication_code
from prolotrack.domain.mixing import Diluent
from prolotrack.domain.screening import Decision
from prolotrack.domain.session import (
    Answer,
    ChecklistItem,
    SessionRules,
    SessionTotals,
    SigningState,
    SiteDraw,
    session_totals,
    signing_blockers,
)
from prolotrack.domain.session import (
    PreparedSolution as SolutionContent,
)
from prolotrack.domain.stock import RecallQuestion, Stock, parse_expiry, recalled
from prolotrack.domain.vocabulary import ClinicalStatus
from prolotrack.patients.models import Condition, ConditionCategory, Patient, WeightMeasurement
from prolotrack.treatment import hooks
from prolotrack.treatment.models import (
    AdverseEvent,
    ChecklistEntry,
    Course,
    CourseTimepoint,
    InjectionSite,
    PreparedSolution,
    SessionStatus,
    TreatmentSession,
)

_LANDMARKS = {lm.code: lm for lm in LANDMARKS}


def latest_weight(patient: Patient) -> Decimal | None:
    return (
        WeightMeasurement.objects.filter(patient=patient, entered_in_error_at__isnull=True)
        .order_by("-measured_on", "-id")
        .values_list("weight_kg", flat=True)
        .first()
    )


def landmark_label(code: str, region: str) -> str | None:
    """The landmark's label if it belongs to the region, else None."""
    found = _LANDMARKS.get(code)
    if found is None or found.region.value != region:
        return None
    return found.label


def check_point(body_map: str, x: Decimal, y: Decimal, region: str | None = None) -> None:
    """Refuse an unknown map, a map of another region, or a point outside the drawing."""
    from prolotrack.treatment import maps  # the drawings live beside the templates that render them

    try:
        drawing = maps.body_map(body_map)
    except (KeyError, ValueError, LookupError):
        raise ValidationError({"body_map": f"Unknown map '{body_map}'."}) from None
    if region is not None and drawing.region.value != region:
        raise ValidationError({"body_map": f"The {drawing.title} map is not of this course's region."})
    try:
        maps.validate_point(drawing, float(x), float(y))
    except ValueError as error:
        raise ValidationError({"x": str(error)}) from None


def _active(qs: QuerySet) -> QuerySet:
    return qs.filter(entered_in_error_at__isnull=True)


def solution_content(solution: PreparedSolution) -> SolutionContent:
    return SolutionContent(
        label=solution.label,
        concentrations=tuple(
            AgentConcentration(Agent(c["agent"]), Concentration(Decimal(c["target_pct"]), Unit.PERCENT))
            for c in solution.components
        ),
        with_epinephrine=solution.with_epinephrine,
    )


def rules_for(clinic: Any) -> SessionRules:
    config = clinic.config
    return SessionRules(
        min_injections=config.min_injections_per_session,
        max_injections=config.max_injections_per_session,
        warn_fraction=config.anaesthetic_warn_fraction,
    )


def totals_from(
    session: TreatmentSession,
    solutions: list[PreparedSolution],
    sites: list[InjectionSite],
) -> SessionTotals:
    """The session's running totals from already-loaded rows."""
    by_id = {s.pk: s for s in solutions}
    contents = {s.label: solution_content(s) for s in solutions}
    draws = []
    for site in sites:
        solution = by_id.get(site.solution_id) or site.solution
        contents.setdefault(solution.label, solution_content(solution))
        draws.append(SiteDraw(solution.label, site.volume_ml))
    try:
        return session_totals(
            contents,
            draws,
            session.weight_kg,
            rules_for(session.clinic),
            date_of_birth=session.patient.date_of_birth,
            on=session.planned_on,
        )
    except DomainError as error:
        raise ValidationError(str(error)) from None


def totals(session: TreatmentSession, extra: InjectionSite | None = None) -> SessionTotals:
    """Totals of the session's active sites, plus one not yet saved."""
    solutions = list(_active(PreparedSolution.objects.filter(session=session)))
    sites = list(_active(InjectionSite.objects.filter(session=session)))
    if extra is not None:
        sites.append(extra)
    return totals_from(session, solutions, sites)


def planned_agents(session: TreatmentSession) -> set[str]:
    agents: set[str] = set()
    for solution in _active(PreparedSolution.objects.filter(session=session)):
        agents.update(c["agent"] for c in solution.components)
    return agents


def unresolved_contraindications(screening: Any) -> tuple[str, ...]:
    if screening is None:
        return ()
    return tuple(
        f["reason"]
        for f in screening.findings
        if f.get("severity") == "contraindication" and not f.get("override_reason")
    )


def signing_state(session: TreatmentSession) -> SigningState:
    answers = {ChecklistItem(e.item): Answer(e.answer) for e in _active(ChecklistEntry.objects.filter(session=session))}
    screening = session.day_screening
    extra: tuple[str, ...] = ()
    if (
        screening is not None
        and screening.decision == Decision.NOT_ELIGIBLE.value
        and not unresolved_contraindications(screening)
    ):
        extra = ("The day's screening says not eligible.",)
    return SigningState(
        sedation=session.sedation != "none",
        answers=answers,
        screened_for_the_day=screening is not None and screening.procedure_date == session.planned_on,
        unresolved_contraindications=unresolved_contraindications(screening),
        totals=totals(session),
        solutions_prepared=_active(PreparedSolution.objects.filter(session=session)).count(),
        already_signed=session.is_signed,
        extra_blocks=extra,
        consent=hooks.consent_state(session.course_id),
        abn=hooks.abn_blockers(session.course_id),
    )


# --- Pages -------------------------------------------------------------------------------------------------------


def patient_courses(patient: Patient) -> list[Course]:
    return list(
        Course.objects.filter(patient=patient)
        .select_related("clinician")
        .prefetch_related(Prefetch("sessions", queryset=TreatmentSession.objects.order_by("number")))
        .order_by("-started_on", "-id")
    )


def get_course(clinic: Any, course_uuid: Any) -> Course:
    return Course.objects.select_related("patient", "clinician", "screening", "updated_by").get(
        clinic=clinic, uuid=course_uuid
    )


@dataclass
class CoursePage:
    course: Course
    sessions: list[TreatmentSession]
    timepoints: list[CourseTimepoint]
    adverse_events: list[AdverseEvent]


def course_page(course: Course) -> CoursePage:
    return CoursePage(
        course=course,
        sessions=list(course.sessions.select_related("clinician", "signed_by").order_by("number")),
        timepoints=list(
            course.timepoints.annotate(
                # Questionnaires answered (or started) for each timepoint, in the same query.
                answered=Count(
                    "responses",
                    filter=Q(responses__status="completed", responses__entered_in_error_at__isnull=True),
                ),
                started=Count(
                    "responses",
                    filter=Q(responses__status="in_progress", responses__entered_in_error_at__isnull=True),
                ),
            ).order_by("due_on", "id")
        ),
        adverse_events=list(course.adverse_events.order_by("-onset_on")),
    )


def course_or_404(request: Any, course_uuid: Any) -> Course:
    """The course of the request's clinic, or a 404 that does not say whether another clinic has one."""
    from django.http import Http404

    try:
        return get_course(request.clinic, course_uuid)
    except Course.DoesNotExist:
        raise Http404("No such course in this clinic.") from None


def get_session(clinic: Any, session_uuid: Any) -> TreatmentSession:
    """The clinic's session with what its pages show; its clinic is the one given (not read again)."""
    session = TreatmentSession.objects.select_related(
        "course", "patient", "clinician", "signed_by", "day_screening", "updated_by"
    ).get(clinic=clinic, uuid=session_uuid)
    session.clinic = clinic
    return session


@dataclass
class SessionPage:
    session: TreatmentSession
    checklist: dict[str, ChecklistEntry]
    solutions: list[PreparedSolution]
    sites: list[InjectionSite]
    previous_sites: list[InjectionSite]
    adverse_events: list[AdverseEvent]
    totals: SessionTotals | None
    totals_error: str

    @property
    def active_solutions(self) -> list[PreparedSolution]:
        return [s for s in self.solutions if not s.is_entered_in_error]

    @property
    def active_sites(self) -> list[InjectionSite]:
        return [s for s in self.sites if not s.is_entered_in_error]


def session_page(session: TreatmentSession) -> SessionPage:
    """Everything the session page shows, in a fixed number of queries."""
    checklist = {
        e.item: e for e in _active(ChecklistEntry.objects.filter(session=session).select_related("updated_by"))
    }
    solutions = list(PreparedSolution.objects.filter(session=session).order_by("label", "id"))
    sites = list(InjectionSite.objects.filter(session=session).select_related("solution").order_by("number"))
    # The sites of the course's last done session before this one, in one statement (the session as a subquery).
    previous = (
        TreatmentSession.objects.filter(
            course_id=session.course_id, number__lt=session.number, status=SessionStatus.DONE
        )
        .order_by("-number")
        .values("pk")[:1]
    )
    previous_sites = list(_active(InjectionSite.objects.filter(session_id=Subquery(previous))).order_by("number"))
    adverse = list(AdverseEvent.objects.filter(session=session).order_by("-onset_on"))
    active_solutions = [s for s in solutions if not s.is_entered_in_error]
    active_sites = [s for s in sites if not s.is_entered_in_error]
    try:
        page_totals: SessionTotals | None = totals_from(session, active_solutions, active_sites)
        error = ""
    except ValidationError as exc:
        page_totals, error = None, " ".join(exc.messages)
    return SessionPage(session, checklist, solutions, sites, previous_sites, adverse, page_totals, error)


def _calendar(clinic: Any, first: date, days: int, clinician: Any) -> QuerySet[TreatmentSession]:
    """Booked and done sessions starting within [first, first + days) in the clinic's time zone, by start."""
    tz = clinic.tz
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(first + timedelta(days=days), time.min, tzinfo=tz)
    qs = TreatmentSession.objects.filter(
        clinic=clinic, starts_at__gte=start, starts_at__lt=end, entered_in_error_at__isnull=True
    )
    if clinician is not None:
        qs = qs.filter(clinician=clinician)
    return qs.order_by("starts_at", "id")


def calendar_sessions(clinic: Any, first: date, days: int, clinician: Any = None) -> list[TreatmentSession]:
    """Booked and done sessions starting within [first, first + days) in the clinic's time zone (the calendar API).

    Only the columns the calendar shows are read: a busy week is hundreds of sessions, each with its patient, course
    and clinician, and reading every column of the four was a third of the page's time."""
    return list(
        _calendar(clinic, first, days, clinician)
        .select_related("patient", "clinician", "course")
        .only(*CALENDAR_COLUMNS)
    )


@dataclass(slots=True)
class CalendarRow:
    """One appointment as the calendar page prints it: values, not the four model instances of
    `calendar_sessions`, which were a third of the page's time in a busy week (docs/PERFORMANCE.md, "Calendar")."""

    uuid: Any
    number: int
    status: str
    starts_at: datetime
    duration_minutes: int
    patient_uuid: Any
    family_name: str
    given_name: str
    indication: str
    clinician: str  # the clinician's full name, else username; "" when the session has none

    def get_status_display(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))


STATUS_LABELS = dict(SessionStatus.choices)


def calendar_day_counts(clinic: Any, first: date, days: int, clinician: Any = None) -> list[int]:
    """How many appointments each day of [first, first + days) holds (the sessions `calendar_rows` reads), in one
    statement that reads no row: the page decides from these which days its week draws before reading any.

    The calendar's own filter (`_calendar`) as a subquery, counted below each day's end in SQL written here: Django's
    aggregate with a filtered count a day cost 1.8 ms of CPU to build for a 0.3 ms statement (SQLite clinic)."""
    bounds = _day_bounds(clinic, first, days)
    inner, params = _calendar(clinic, first, days, clinician).order_by().values("starts_at").query.sql_with_params()
    before = [connection.ops.adapt_datetimefield_value(b) for b in bounds[1:-1]]  # the ends of all days but the last
    columns = "".join(", COUNT(CASE WHEN week.starts_at < %s THEN 1 END)" for _ in before)
    with connection.cursor() as cursor:
        sql = f"SELECT COUNT(*){columns} FROM ({inner}) week"  # noqa: S608 - Django's SQL and placeholders only
        cursor.execute(sql, [*before, *params])
        total, *below = cursor.fetchone()
    ends = [*below, total]  # appointments before each day's end
    return [end - start for start, end in zip([0, *ends[:-1]], ends, strict=True)]


def _day_bounds(clinic: Any, first: date, days: int) -> list[datetime]:
    """The starts of the clinic's days first ... first + days (midnight in its zone, whatever the change of clocks)."""
    return [datetime.combine(first + timedelta(days=n), time.min, tzinfo=clinic.tz) for n in range(days + 1)]


def calendar_rows(
    clinic: Any,
    first: date,
    days: int,
    clinician: Any = None,
    *,
    skip: frozenset[int] = frozenset(),
    not_with: Sequence[int] | None = None,
) -> list[CalendarRow]:
    """The calendar page's appointments: the same sessions as `calendar_sessions`, as `CalendarRow`s; none of the
    days numbered in `skip` (0 = `first`), which the week does not draw (too full: `present.DAY_CAP`). Nothing is
    read when every day is skipped. With `not_with` (user ids), only the sessions with no clinician or one not among
    them (a day listed by clinician shows these itself: they have no clinician to choose)."""
    qs = _calendar(clinic, first, days, clinician)
    if not_with is not None:
        qs = qs.filter(Q(clinician__isnull=True) | ~Q(clinician_id__in=list(not_with)))
    if skip:
        bounds = _day_bounds(clinic, first, days)
        kept = [n for n in range(days) if n not in skip]
        if not kept:
            return []
        ranges: list[list[int]] = []  # runs of days next to each other: one range each
        for n in kept:
            if ranges and ranges[-1][1] == n:
                ranges[-1][1] = n + 1
            else:
                ranges.append([n, n + 1])
        wanted = Q()
        for a, b in ranges:
            wanted |= Q(starts_at__gte=bounds[a], starts_at__lt=bounds[b])
        qs = qs.filter(wanted)
    rows = qs.values_list(
        "uuid", "number", "status", "starts_at", "duration_minutes", "patient__uuid", "patient__family_name",
        "patient__given_name", "course__indication", "clinician__username", "clinician__first_name",
        "clinician__last_name",
    )  # fmt: skip
    return [
        CalendarRow(
            uuid, number, status, cast(datetime, starts_at), minutes, patient, family, given, indication,  # in range: set
            (f"{first_name} {last_name}".strip() or username) if username is not None else "",
        )
        for uuid, number, status, starts_at, minutes, patient, family, given, indication, username, first_name,
        last_name in rows
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ClinicianDay:
    """One clinician's sessions on a day (`calendar_day_by_clinician`)."""

    clinician_id: int | None
    username: str  # "" for the sessions with no clinician
    name: str  # full name, else username; "" for no clinician
    sessions: int
    first: datetime  # the first and last start
    last: datetime


def calendar_day_by_clinician(clinic: Any, day: date) -> list[ClinicianDay]:
    """How many sessions each clinician has on the day, with the first and last start, in one statement that reads
    no session row: the day view of a clinic too busy to list as one (present.DAY_LIST_CAP)."""
    rows = (
        _calendar(clinic, day, 1, None)
        .order_by()
        .values_list("clinician_id", "clinician__username", "clinician__first_name", "clinician__last_name")
        .annotate(n=Count("id"), first=Min("starts_at"), last=Max("starts_at"))
    )
    return [
        ClinicianDay(
            pk, username or "", (f"{first_name} {last_name}".strip() or username) if username else "", n, start, end
        )
        for pk, username, first_name, last_name, n, start, end in rows
    ]


CALENDAR_COLUMNS = (
    "uuid", "clinic_id", "number", "status", "starts_at", "duration_minutes", "planned_on", "signed_at",
    "patient__uuid", "patient__clinic_id", "patient__family_name", "patient__given_name",
    "course__uuid", "course__indication", "course__clinic_id",
    "clinician__username", "clinician__first_name", "clinician__last_name",
)  # fmt: skip


UNBOOKED_SHOWN = 50  # the "to book" list's length; past it the page says more are waiting


def unbooked_sessions(clinic: Any, until: date) -> list[TreatmentSession]:
    """Planned sessions of open courses not yet booked, due by `until`, the soonest first: UNBOOKED_SHOWN of them
    and one more when there are more (the page says so rather than end the list silently)."""
    return list(
        TreatmentSession.objects.filter(
            clinic=clinic,
            status=SessionStatus.PLANNED,
            planned_on__lte=until,
            entered_in_error_at__isnull=True,
            course__status="open",
        )
        .select_related("patient", "course")
        .order_by("planned_on", "id")[: UNBOOKED_SHOWN + 1]
    )


# --- What an irreversible step will change (shown on its confirmation page) -------------------------------------


def session_facts(course: Course) -> list[SessionFact]:
    """The course's sessions (not entered in error) as the closing rule sees them."""
    return [
        SessionFact(SessionState(s.status), optional=s.optional, signed=s.signed_at is not None)
        for s in course.sessions.filter(entered_in_error_at__isnull=True).only("status", "optional", "signed_at")
    ]


def open_reminders(sessions: Any) -> int:
    """Reminders still to be sent about these sessions (queued or to retry)."""
    return hooks.open_reminders(sessions)


def open_links(course: Course) -> int:
    """Questionnaire links of the course that a patient can still open (not answered, revoked or expired)."""
    from django.utils import timezone

    return course.questionnaire_links.filter(
        completed_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
        entered_in_error_at__isnull=True,
    ).count()


@dataclass(frozen=True)
class CloseImpact:
    """What closing a course changes: its derived outcome, the sessions cancelled, the reminders they take with them."""

    outcome: Outcome
    to_cancel: list[TreatmentSession]
    reminders: int
    links: int


def close_impact(course: Course) -> CloseImpact:
    to_cancel = list(
        course.sessions.filter(
            status__in=[SessionStatus.PLANNED, SessionStatus.BOOKED], entered_in_error_at__isnull=True
        ).order_by("number")
    )
    return CloseImpact(
        outcome=course_outcome(session_facts(course)),
        to_cancel=to_cancel,
        reminders=open_reminders(to_cancel),
        links=open_links(course),
    )


# --- Look-ups of the pages, inside the caller's clinic ----------------------------------------------------------


def _not_found(message: str) -> Exception:
    return Http404(message)


def session_or_404(request: Any, session_uuid: Any) -> TreatmentSession:
    """The session of the request's clinic, or a 404 that does not say whether another clinic has one."""
    try:
        return get_session(request.clinic, session_uuid)
    except TreatmentSession.DoesNotExist:
        raise _not_found("No such session in this clinic.") from None


def timepoint_or_404(request: Any, timepoint_uuid: Any) -> CourseTimepoint:
    try:
        return CourseTimepoint.objects.select_related("course").get(clinic=request.clinic, uuid=timepoint_uuid)
    except CourseTimepoint.DoesNotExist:
        raise _not_found("No such timepoint in this clinic.") from None


def adverse_event_or_404(request: Any, event_uuid: Any) -> AdverseEvent:
    try:
        return AdverseEvent.objects.select_related("patient", "session", "site", "solution").get(
            clinic=request.clinic, uuid=event_uuid
        )
    except AdverseEvent.DoesNotExist:
        raise _not_found("No such adverse event in this clinic.") from None


SESSION_ITEM_MODELS: dict[str, Any] = {"site": InjectionSite, "solution": PreparedSolution, "checklist": ChecklistEntry}


def session_item_or_404(session: TreatmentSession, kind: str, item_uuid: Any) -> Any:
    """A site, solution or checklist answer of this session (404 for another session's or an unknown kind)."""
    model = SESSION_ITEM_MODELS.get(kind)
    if model is None:
        raise _not_found("Unknown record type.")
    try:
        return model.objects.get(session=session, clinic=session.clinic, uuid=item_uuid)
    except model.DoesNotExist:
        raise _not_found("No such record in this session.") from None


def clinicians(clinic: Any) -> list[User]:
    """The clinic's active clinicians, who can be booked and treat."""
    return list(
        User.objects.filter(
            memberships__clinic=clinic,
            memberships__role__in=roles_with(Permission.SESSION_TREAT),
            memberships__is_active=True,
        ).order_by("first_name", "last_name", "username")
    )


def clinician(clinic: Any, username: str) -> User | None:
    """The active clinician of this clinic with this username, or None."""
    return next((u for u in clinicians(clinic) if u.username == username), None) if username else None


def patient_adverse_events(patient: Patient) -> list[AdverseEvent]:
    return list(
        AdverseEvent.objects.filter(patient=patient, clinic=patient.clinic)
        .select_related("session", "site", "solution", "course")
        .order_by("-onset_on", "-id")
    )


def presenting_complaint(patient: Patient) -> Condition | None:
    """The latest active presenting complaint with a body region, to prefill a new course."""
    return (
        Condition.objects.filter(
            patient=patient,
            clinic=patient.clinic,
            category=ConditionCategory.COMPLAINT,
            entered_in_error_at__isnull=True,
            clinical_status="active",
        )
        .exclude(body_region="")
        .order_by("-onset_date", "-id")
        .first()
    )


def active_session_count(session: TreatmentSession) -> int:
    """How many sessions the session's course has (not entered in error)."""
    return TreatmentSession.objects.filter(course_id=session.course_id, entered_in_error_at__isnull=True).count()


def signing_problems(session: TreatmentSession) -> list[str]:
    """What still stops this session from being signed (nothing once it is signed)."""
    if session.is_signed:
        return []
    try:
        return list(signing_blockers(signing_state(session)))
    except ValidationError as error:
        return list(error.messages)


def session_amendments(session: TreatmentSession, page: SessionPage) -> list[RecordVersion]:
    """Changes made to the note and its parts after it was signed, with who made them."""
    if not session.is_signed:
        return []
    uuids = [session.uuid, *(s.uuid for s in page.solutions), *(s.uuid for s in page.sites)]
    uuids += [e.uuid for e in page.checklist.values()]
    return list(
        RecordVersion.objects.filter(clinic=session.clinic, record_uuid__in=uuids)
        .filter(Q(action__endswith=".amended") | Q(action__endswith=".entered_in_error", at__gte=session.signed_at))
        .select_related("user")
        .order_by("at", "id")
    )


def record_versions(record: Any) -> QuerySet[RecordVersion]:
    """Every saved version of a record, newest first, with who saved it."""
    return (
        RecordVersion.objects.filter(clinic=record.clinic, record_uuid=record.uuid)
        .select_related("user")
        .order_by("-version")
    )


def linkable_sessions(patient: Patient) -> list[TreatmentSession]:
    """The patient's sessions done (signed), with their sites and solutions, for linking an event (three queries).

    Only sessions that happened can be linked: the service refuses the others, and one on or before the onset."""
    sessions = list(
        TreatmentSession.objects.filter(
            patient=patient,
            clinic=patient.clinic,
            entered_in_error_at__isnull=True,
            status=SessionStatus.DONE,
            signed_at__isnull=False,
        )
        .select_related("course")
        .order_by("-planned_on", "-number")
    )
    by_id = {s.pk: s for s in sessions}
    for s in sessions:
        s.site_rows, s.solution_rows = [], []
    for site in InjectionSite.objects.filter(session_id__in=by_id, entered_in_error_at__isnull=True).order_by("number"):
        site.session = by_id[site.session_id]
        by_id[site.session_id].site_rows.append(site)
    for sol in PreparedSolution.objects.filter(session_id__in=by_id, entered_in_error_at__isnull=True).order_by(
        "label"
    ):
        sol.session = by_id[sol.session_id]
        by_id[sol.session_id].solution_rows.append(sol)
    return sessions


def patient_course(patient: Patient, course_uuid: Any) -> Course | None:
    """One course of this patient (in the patient's clinic), or None."""
    return Course.objects.filter(clinic_id=patient.clinic_id, patient=patient, uuid=course_uuid).first()


def courses_on_record(patient: Patient) -> QuerySet[Course]:
    """The patient's courses not entered in error, the latest started first."""
    return Course.objects.filter(patient=patient, clinic=patient.clinic, entered_in_error_at__isnull=True).order_by(
        "-started_on", "-id"
    )


def staff_member(clinic: Any, username: str) -> User | None:
    """An active member of the clinic with this username (any role), or None."""
    return User.objects.filter(username=username, memberships__clinic=clinic, memberships__is_active=True).first()


def courses_with_plans(patient: Patient) -> list[Course]:
    """The patient's courses with their sessions and timepoints, the latest started first (the API's list)."""
    return list(
        Course.objects.filter(patient=patient)
        .select_related("patient")
        .prefetch_related("sessions__clinician", "timepoints")
        .order_by("-started_on", "-id")
    )


def session_solution(session: TreatmentSession, label: str) -> PreparedSolution | None:
    """The session's solution (not entered in error) with this label, or None."""
    return PreparedSolution.objects.filter(session=session, label=label, entered_in_error_at__isnull=True).first()


def adverse_events_with_links(patient: Patient) -> list[AdverseEvent]:
    """The patient's adverse events with the session, site and solution each followed."""
    return list(AdverseEvent.objects.filter(patient=patient).select_related("session", "site", "solution"))


def clinic_site(clinic: Any, site_uuid: Any) -> InjectionSite | None:
    return InjectionSite.objects.filter(clinic=clinic, uuid=site_uuid).first()


# --- Lot recall (docs/clinical/lot-recall.md) -------------------------------------------------------------------

# A lot typed with only these characters is looked for in the stored components' text first (the same characters in
# SQLite's JSON text and PostgreSQL's jsonb::text); any other lot is matched in Python only, over the product's rows.
_PLAIN_LOT = re.compile(r"^[A-Za-z0-9._/-]+$")


@dataclass(frozen=True)
class RecallRow:
    """One injection of a recalled stock (or one solution of it with no injection recorded): who, when, where, how
    much."""

    patient: Patient
    session: TreatmentSession
    solution: PreparedSolution
    stock: Stock
    site: InjectionSite | None


def _solution_stocks(solution: PreparedSolution) -> list[Stock]:
    stocks = []
    for c in solution.components:
        try:
            expiry = parse_expiry(c.get("expiry"))
        except DomainError:
            expiry = None  # stored before expiry was checked; shown without it, never hidden from a recall
        stocks.append(Stock(product=c.get("agent", ""), lot=c.get("lot", ""), expiry=expiry))
    stocks.append(Stock(product=solution.diluent, lot=solution.diluent_lot))
    return stocks


def recall(clinic: Any, question: RecallQuestion) -> list[RecallRow]:
    """Every patient, session, site and volume that received the recalled stock, in two queries whatever the count:
    the clinic's solutions of the product (with session, course, patient and clinician), then their live sites.

    Solutions and sites entered in error are left out (they record nothing given); sessions of every status are kept
    and show their status. Rows: session date, patient, solution label, site number."""
    solutions = PreparedSolution.objects.filter(clinic=clinic, entered_in_error_at__isnull=True)
    if question.product in {d.value for d in Diluent}:
        solutions = solutions.filter(diluent=question.product)
    else:
        text = Cast("components", TextField())
        solutions = solutions.annotate(components_text=text).filter(components_text__contains=f'"{question.product}"')
        lot = question.lot.strip()
        if _PLAIN_LOT.match(lot):
            solutions = solutions.filter(components_text__icontains=lot)
    found: list[tuple[PreparedSolution, Stock]] = []
    for solution in solutions.select_related("patient", "session__course", "session__clinician").order_by(
        "session__planned_on", "patient__family_name", "patient__given_name", "session__number", "label", "id"
    ):
        found.extend((solution, stock) for stock in recalled(question, _solution_stocks(solution)))
    sites: dict[int, list[InjectionSite]] = {}
    if found:
        live = InjectionSite.objects.filter(
            solution_id__in={s.pk for s, _ in found}, entered_in_error_at__isnull=True
        ).order_by("number", "id")
        for site in live:
            sites.setdefault(site.solution_id, []).append(site)
    rows: list[RecallRow] = []
    for solution, stock in found:
        given: list[InjectionSite | None] = list(sites.get(solution.pk, [])) or [None]
        rows.extend(RecallRow(solution.patient, solution.session, solution, stock, site) for site in given)
    return rows


# --- ICD-10-CM for the superbill (docs/clinical/icd10cm.md) ---------------------------------------------------------


def _chart_condition(condition: Condition) -> ChartCondition:
    """A chart condition as domain/icd10cm.py reads it: the codings as sent (with their display), then any code kept
    only as "system|code"."""
    codings: dict[tuple[str, str], str] = {}
    for coding in condition.codings or []:
        if isinstance(coding, dict) and coding.get("system") and coding.get("code"):
            codings[(str(coding["system"]), str(coding["code"]))] = str(coding.get("display") or condition.description)
    for text in condition.codes or []:
        system, _, code = str(text).rpartition("|")
        if system and code:
            codings.setdefault((system, code), condition.description)
    return ChartCondition(
        codings=tuple((system, code, display) for (system, code), display in codings.items()),
        region=condition.body_region,
        laterality=condition.laterality,
    )


def course_diagnosis(course: Course) -> Diagnosis:
    """The course's ICD-10-CM codes: a coded active condition of the chart that describes the complaint, else the
    code of the course's indication (its protocol template's) for its side. One query (the chart's conditions)."""
    conditions = Condition.objects.filter(
        patient_id=course.patient_id, entered_in_error_at__isnull=True, clinical_status=ClinicalStatus.ACTIVE
    ).order_by("id")
    chart = [_chart_condition(c) for c in conditions]
    return diagnosis(indication_code(course.protocol_id), course.side, course.region, chart)
