"""Treatment pages: courses, booking and the calendar, the session record with its injection map, adverse events.

Thin: parse, check the role's permission, look records up inside request.clinic (another clinic's record is a 404),
call the service, render. A service refusal (ValidationError or ServiceError) is shown next to the field it is about
and writes nothing. Forms are plain HTML forms; the site form and the checklist also answer HTMX requests with the
parts of the page that change, so the map, the site list and the running totals update without a reload.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.audit.models import RecordVersion
from prolotrack.audit.services import ServiceError, record_event, record_read
from prolotrack.clinical import calculators, present
from prolotrack.clinical import queries as clinical_queries
from prolotrack.clinics.models import User
from prolotrack.clinics.roles import Permission, Role
from prolotrack.clinics.services import actor_for
from prolotrack.core import entered_in_error
from prolotrack.core.access import require
from prolotrack.core.forms import ReasonForm, apply_errors
from prolotrack.domain.agents import Agent
from prolotrack.domain.anaesthetic import max_dose
from prolotrack.domain.course import COURSE_CLOSE_REASONS
from prolotrack.domain.errors import DomainError
from prolotrack.domain.quantities import fmt
from prolotrack.domain.session import checklist_for, signing_blockers
from prolotrack.patients import queries as patient_queries
from prolotrack.patients.models import Condition, ConditionCategory, Patient
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment import maps, queries, services
from prolotrack.treatment.forms import (
    CHECKLIST_LABELS,
    AddSessionForm,
    AdverseEventForm,
    AttendanceForm,
    BookForm,
    ChecklistForm,
    CourseForm,
    ObservationsForm,
    RescreenForm,
    SessionHeaderForm,
    SignForm,
    SiteForm,
    SolutionForm,
    TimepointForm,
)
from prolotrack.treatment.models import (
    AdverseEvent,
    ChecklistEntry,
    Course,
    CourseStatus,
    CourseTimepoint,
    InjectionSite,
    PreparedSolution,
    SessionStatus,
    TreatmentSession,
)

# --- Look-ups inside the caller's clinic -----------------------------------------------------------------------


def _session_or_404(request: HttpRequest, session_uuid: Any) -> TreatmentSession:
    try:
        return queries.get_session(request.clinic, session_uuid)  # type: ignore[attr-defined]
    except TreatmentSession.DoesNotExist:
        raise Http404("No such session in this clinic.") from None


def _clinicians(clinic: Any) -> list[User]:
    """The clinic's active clinicians, who can be booked and treat."""
    return list(
        User.objects.filter(
            memberships__clinic=clinic, memberships__role=Role.CLINICIAN, memberships__is_active=True
        ).order_by("first_name", "last_name", "username")
    )


def _clinician(clinic: Any, username: str) -> User | None:
    return next((u for u in _clinicians(clinic) if u.username == username), None) if username else None


def _can(request: HttpRequest, permission: Permission) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.can(permission)


def _next_url(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _posted(request: HttpRequest) -> Any:
    """The POST data of a form page, or None on GET (an empty POST is still a submission)."""
    return request.POST if request.method == "POST" else None


def timepoint_answer_status(timepoint: Any, today: date, overdue_after_days: int) -> tuple[str, str]:
    """What the course page says of a timepoint's questionnaires: (text, badge class).

    Overdue after the clinic's questionnaire_overdue_days setting, as the overdue reminder counts it."""
    if timepoint.answered:
        n = timepoint.answered
        return (f"Answered ({n} questionnaire{'s' if n != 1 else ''})", "status-done")
    if timepoint.started:
        return ("Started, not finished", "status-booked")
    if timepoint.due_on > today:
        return ("Not due yet", "status-planned")
    if (today - timepoint.due_on).days > overdue_after_days:
        return ("Not answered (overdue)", "status-no_show")
    return ("Due now", "status-booked")


def _today(request: HttpRequest) -> date:
    return clinical_queries.clinic_today(request.clinic)  # type: ignore[attr-defined]


# --- The patient's courses and adverse events (chart cards) ----------------------------------------------------


def _next_session(course: Course) -> TreatmentSession | None:
    upcoming = [
        s
        for s in course.sessions.all()
        if s.status in (SessionStatus.PLANNED, SessionStatus.BOOKED) and not s.is_entered_in_error
    ]
    return upcoming[0] if upcoming else None


@require(Permission.COURSE_VIEW)
def patient_courses(request: HttpRequest, patient_uuid: Any) -> HttpResponse:
    """The chart's "Treatment courses" card (HTMX), or the same list as a page."""
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "treatment.courses.viewed", record=patient, patient_uuid=patient.uuid)
    courses = queries.patient_courses(patient)
    rows = [{"course": c, "next": _next_session(c), "count": len(c.sessions.all())} for c in courses]
    context = {"patient": patient, "rows": rows}
    if request.htmx and not request.htmx.boosted:  # type: ignore[attr-defined]
        return render(request, "treatment/_courses_card.html", context)
    return render(request, "treatment/patient_courses.html", context)


@require(Permission.COURSE_VIEW)
def chart_cards(request: HttpRequest, patient_uuid: Any) -> HttpResponse:
    """Both chart cards in one request (the chart loads them with HTMX): courses, and adverse events out of band."""
    patient = patient_or_404(request, patient_uuid)
    actor = actor_for(request)
    record_read(actor, "treatment.courses.viewed", record=patient, patient_uuid=patient.uuid)
    record_read(actor, "treatment.adverse_events.viewed", record=patient, patient_uuid=patient.uuid)
    courses = queries.patient_courses(patient)
    context = {
        "patient": patient,
        "rows": [{"course": c, "next": _next_session(c), "count": len(c.sessions.all())} for c in courses],
        "events": _patient_events(patient),
        "oob": True,
    }
    return render(request, "treatment/_chart_cards.html", context)


def _patient_events(patient: Patient) -> list[AdverseEvent]:
    return list(
        AdverseEvent.objects.filter(patient=patient, clinic=patient.clinic)
        .select_related("session", "site", "solution", "course")
        .order_by("-onset_on", "-id")
    )


@require(Permission.COURSE_VIEW)
def patient_adverse_events(request: HttpRequest, patient_uuid: Any) -> HttpResponse:
    """The chart's "Adverse events" card (HTMX), or the same list as a page."""
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "treatment.adverse_events.viewed", record=patient, patient_uuid=patient.uuid)
    context = {"patient": patient, "events": _patient_events(patient)}
    if request.htmx and not request.htmx.boosted:  # type: ignore[attr-defined]
        return render(request, "treatment/_adverse_events_card.html", context)
    return render(request, "treatment/patient_adverse_events.html", context)


# --- Courses ---------------------------------------------------------------------------------------------------


def _complaint(patient: Patient) -> Condition | None:
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


@require(Permission.COURSE_MANAGE)
@require_http_methods(["GET", "POST"])
def course_new(request: HttpRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    clinic = request.clinic  # type: ignore[attr-defined]
    protocols = [p for p in clinical_queries.list_protocols(clinic) if p.template is not None]
    clinicians = _clinicians(clinic)
    screenings = [s for s in clinical_queries.patient_screenings(patient) if not s.is_entered_in_error]
    initial: dict[str, Any] = {"start_on": _today(request)}
    complaint = _complaint(patient)
    if complaint is not None:
        initial["region"] = complaint.body_region
        if complaint.laterality in ("left", "right", "bilateral", "midline"):
            initial["side"] = complaint.laterality
        initial["indication"] = complaint.description
    if request.user.username in {u.username for u in clinicians}:
        initial["clinician"] = request.user.username
    if screenings:
        initial["screening"] = str(screenings[0].uuid)
    form = CourseForm(
        _posted(request), initial=initial, protocols=protocols, clinicians=clinicians, screenings=screenings
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        screening = next((s for s in screenings if str(s.uuid) == data["screening"]), None)
        try:
            course = services.create_course(
                actor_for(request),
                patient,
                protocol_id=data["protocol_id"],
                indication=data["indication"].strip(),
                region=data["region"],
                side=data["side"],
                start_on=data["start_on"],
                clinician=_clinician(clinic, data["clinician"]),
                screening=screening,
                note=data["note"],
            )
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Course opened with {course.sessions.count()} planned sessions.")
            return redirect("treatment:course", course_uuid=course.uuid)
    return render(
        request,
        "treatment/course_form.html",
        {"patient": patient, "form": form, "complaint": complaint},
        status=400 if form.errors else 200,
    )


@dataclass
class SessionRow:
    session: TreatmentSession
    book_form: BookForm
    open_form: str = ""

    @property
    def bookable(self) -> bool:
        return self.session.status in (SessionStatus.PLANNED, SessionStatus.BOOKED)


def _book_initial(session: TreatmentSession, clinic: Any) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "day": session.planned_on,
        "time": time(9, 0),
        "clinician": session.clinician.username if session.clinician else "",
        "duration_minutes": session.duration_minutes,
        "version": session.version,
    }
    if session.starts_at is not None:
        local = timezone.localtime(session.starts_at, clinic.tz)
        initial["day"], initial["time"] = local.date(), local.time().replace(second=0, microsecond=0)
    return initial


def _course_page(request: HttpRequest, course: Course, *, status: int = 200, **bound: Any) -> HttpResponse:
    clinic = request.clinic  # type: ignore[attr-defined]
    page = queries.course_page(course)
    clinicians = _clinicians(clinic)
    rows = []
    for s in page.sessions:
        row = SessionRow(
            session=s,
            book_form=BookForm(initial=_book_initial(s, clinic), clinicians=clinicians, auto_id=f"b{s.number}-%s"),
        )
        rows.append(row)
    today = _today(request)
    timepoint_forms = [
        (t, bound.get("timepoint_form") if bound.get("timepoint") == t.pk else None) for t in page.timepoints
    ]
    context = {
        "course": course,
        "patient": course.patient,
        "page": page,
        "rows": rows,
        "timepoints": [
            (
                t,
                form or TimepointForm(initial={"due_on": t.due_on, "version": t.version}, auto_id=f"t{t.pk}-%s"),
                timepoint_answer_status(t, today, clinic.config.questionnaire_overdue_days),
            )
            for t, form in timepoint_forms
        ],
        "add_form": bound.get("add_form") or AddSessionForm(initial={"planned_on": _today(request)}),
        "is_open": course.status == CourseStatus.OPEN,
    }
    return render(request, "treatment/course.html", context, status=status)


@require(Permission.COURSE_VIEW)
def course_detail(request: HttpRequest, course_uuid: Any) -> HttpResponse:
    course = queries.course_or_404(request, course_uuid)
    record_read(actor_for(request), "treatment.course.viewed", record=course, patient_uuid=course.patient.uuid)
    return _course_page(request, course)


@require(Permission.COURSE_MANAGE)
@require_POST
def course_add_session(request: HttpRequest, course_uuid: Any) -> HttpResponse:
    course = queries.course_or_404(request, course_uuid)
    form = AddSessionForm(request.POST)
    if form.is_valid():
        try:
            session = services.add_session(actor_for(request), course, form.cleaned_data["planned_on"])
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Session {session.number} added, planned for {session.planned_on:%Y-%m-%d}.")
            return redirect(reverse("treatment:course", args=[course.uuid]) + "#plan")
    return _course_page(request, course, status=400, add_form=form)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@require(Permission.COURSE_MANAGE)
@require_http_methods(["GET", "POST"])
def course_close(request: HttpRequest, course_uuid: Any) -> HttpResponse:
    """The confirmation step of closing a course: what changes, the derived outcome, a reason from the list."""
    course = queries.course_or_404(request, course_uuid)
    impact = queries.close_impact(course)
    outcome = impact.outcome
    form = ReasonForm(
        _posted(request),
        reasons=COURSE_CLOSE_REASONS,
        outcome=outcome.outcome.value,
        initial={"version": course.version},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                closed = services.close_course(
                    actor_for(request),
                    course,
                    reason=data["reason"],
                    details=data["details"],
                    expected_version=data["version"],
                )
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(
                request,
                f"Course closed as {closed.get_status_display().lower()}: {closed.stop_reason}. "
                f"{_plural(len(impact.to_cancel), 'session')} not yet done cancelled.",
            )
            return redirect("treatment:course", course_uuid=course.uuid)
    back = reverse("treatment:course", args=[course.uuid])
    closes_as = "completed" if outcome.outcome.value == CourseStatus.COMPLETED else "stopped early"
    changes = [
        f"The course closes as {closes_as}: {outcome.required_done} of {outcome.required} required sessions done"
        f" ({_plural(outcome.done, 'session')} done in all). The outcome follows from the sessions done; "
        "it is not chosen here.",
        f"{_plural(len(impact.to_cancel), 'session')} not yet done will be cancelled"
        + (
            ": " + ", ".join(f"session {s.number} ({s.planned_on:%Y-%m-%d})" for s in impact.to_cancel)
            if impact.to_cancel
            else ""
        )
        + ".",
        f"{_plural(impact.reminders, 'reminder')} still to be sent about them will be cancelled.",
        "No session can be added or booked afterwards; a new course is needed for more treatment.",
    ]
    keeps = [
        f"{_plural(impact.links, 'questionnaire link')} of this course stay open: follow-up outcomes are still "
        "collected after a course closes.",
        "Signed session notes, consents and adverse events do not change.",
    ]
    already = (
        "" if course.status == CourseStatus.OPEN else f"This course is already {course.get_status_display().lower()}."
    )
    return render(
        request,
        "core/confirm.html",
        {
            "title": "Close the course",
            "patient": course.patient,
            "crumbs": [(back, f"Course: {course.indication}")],
            "record": str(course),
            "changes": changes,
            "keeps": keeps,
            "form": form,
            "button": f"Close the course as {closes_as}",
            "back_url": back,
            "already": already,
        },
        status=400 if form.errors else 200,
    )


@require(Permission.COURSE_MANAGE)
@require_POST
def timepoint_move(request: HttpRequest, timepoint_uuid: Any) -> HttpResponse:
    try:
        timepoint = CourseTimepoint.objects.select_related("course").get(
            clinic=request.clinic,  # type: ignore[attr-defined]
            uuid=timepoint_uuid,
        )
    except CourseTimepoint.DoesNotExist:
        raise Http404("No such timepoint in this clinic.") from None
    form = TimepointForm(request.POST, auto_id=f"t{timepoint.pk}-%s")
    if form.is_valid():
        try:
            services.move_timepoint(
                actor_for(request),
                timepoint,
                form.cleaned_data["due_on"],
                expected_version=form.cleaned_data["version"],
            )
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{timepoint.label} now due {form.cleaned_data['due_on']:%Y-%m-%d}.")
            return redirect(reverse("treatment:course", args=[timepoint.course.uuid]) + "#timepoints")
    course = queries.course_or_404(request, timepoint.course.uuid)
    return _course_page(request, course, status=400, timepoint=timepoint.pk, timepoint_form=form)


# --- Booking and attendance --------------------------------------------------------------------------------------


def _appointment_page(
    request: HttpRequest,
    session: TreatmentSession,
    *,
    book_form: BookForm | None = None,
    status: int = 200,
) -> HttpResponse:
    clinic = request.clinic  # type: ignore[attr-defined]
    context = {
        "session": session,
        "patient": session.patient,
        "course": session.course,
        "book_form": book_form or BookForm(initial=_book_initial(session, clinic), clinicians=_clinicians(clinic)),
        "next": _next_url(request, ""),
        "bookable": session.status in (SessionStatus.PLANNED, SessionStatus.BOOKED),
    }
    return render(request, "treatment/appointment.html", context, status=status)


def _after_booking(request: HttpRequest, session: TreatmentSession) -> str:
    if _can(request, Permission.COURSE_VIEW):
        fallback = reverse("treatment:course", args=[session.course.uuid]) + "#plan"
    else:
        fallback = reverse("treatment:calendar") + f"?date={session.planned_on:%Y-%m-%d}"
    return _next_url(request, fallback)


@require(Permission.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def session_book(request: HttpRequest, session_uuid: Any) -> HttpResponse:
    session = _session_or_404(request, session_uuid)
    if request.method == "GET":
        return _appointment_page(request, session)
    clinic = request.clinic  # type: ignore[attr-defined]
    form = BookForm(request.POST, clinicians=_clinicians(clinic))
    if form.is_valid():
        data = form.cleaned_data
        starts_at = form.starts_at(clinic.tz)
        if starts_at is None:
            return _appointment_page(request, session, book_form=form, status=400)
        try:
            booked = services.book_session(
                actor_for(request),
                session,
                starts_at=starts_at,
                clinician=_clinician(clinic, data["clinician"]),
                duration_minutes=data["duration_minutes"],
                expected_version=data["version"],
            )
        except ValidationError as error:
            if hasattr(error, "error_dict") and "starts_at" in error.error_dict:
                form.add_error("time", error.error_dict.pop("starts_at"))
            apply_errors(form, error)
        except ServiceError as error:
            apply_errors(form, error)
        else:
            local = timezone.localtime(booked.starts_at, clinic.tz)
            messages.success(
                request,
                f"Session {booked.number} for {booked.patient.full_name} booked on {local:%Y-%m-%d} at "
                f"{local:%H:%M} with {booked.clinician.get_full_name() or booked.clinician.username}.",
            )
            return redirect(_after_booking(request, booked))
    return _appointment_page(request, session, book_form=form, status=400)


@require(Permission.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def session_attendance(request: HttpRequest, session_uuid: Any) -> HttpResponse:
    """The confirmation step of cancelling a session or marking a no-show: what changes, a reason, confirm."""
    session = _session_or_404(request, session_uuid)
    status = (request.POST.get("status") or request.GET.get("status") or SessionStatus.CANCELLED).strip()
    if status not in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW):
        status = SessionStatus.CANCELLED
    form = AttendanceForm(_posted(request), initial={"version": session.version, "status": status})
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.set_attendance(
                    actor_for(request),
                    session,
                    form.cleaned_data["status"],
                    reason=form.cleaned_data["reason"],
                    details=form.cleaned_data["details"],
                    expected_version=form.cleaned_data["version"],
                )
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            label = "a no-show" if form.cleaned_data["status"] == SessionStatus.NO_SHOW else "cancelled"
            messages.success(request, f"Session {session.number} for {session.patient.full_name} marked {label}.")
            return redirect(_after_booking(request, session))
    what = "a no-show" if status == SessionStatus.NO_SHOW else "cancelled"
    reminders = queries.open_reminders([session])
    when = (
        timezone.localtime(session.starts_at, session.clinic.tz).strftime("%Y-%m-%d %H:%M")
        if session.starts_at
        else f"planned for {session.planned_on:%Y-%m-%d}"
    )
    already = (
        ""
        if session.status in (SessionStatus.PLANNED, SessionStatus.BOOKED)
        else f"This session is {session.get_status_display().lower()}: it cannot be marked {what}."
    )
    back = _after_booking(request, session)
    return render(
        request,
        "core/confirm.html",
        {
            "title": "Mark a no-show" if status == SessionStatus.NO_SHOW else "Cancel the session",
            "patient": session.patient,
            "crumbs": [
                (reverse("treatment:course", args=[session.course.uuid]), f"Course: {session.course.indication}")
            ]
            if _can(request, Permission.COURSE_VIEW)
            else [],
            "record": f"Session {session.number} of {session.course.indication}, {when}",
            "changes": [
                f"Session {session.number} is marked {what}; it cannot be booked or recorded afterwards.",
                f"{_plural(reminders, 'reminder')} still to be sent about it will be cancelled.",
            ],
            "keeps": ["The course stays open: add a session to the plan if it is still needed."],
            "form": form,
            "button": f"Mark session {session.number} {what}",
            "back_url": back,
            "next": _next_url(request, ""),
            "already": already,
        },
        status=400 if form.errors else 200,
    )


# --- Calendar ------------------------------------------------------------------------------------------------

DAY_START_HOUR, DAY_END_HOUR = 7, 19
# The side list shows planned sessions due within this many days (and overdue ones) that are not booked yet.
UNBOOKED_DAYS = 14


@dataclass
class Appointment:
    session: TreatmentSession
    start: datetime
    end: datetime
    top: float = 0.0
    height: float = 0.0
    outside: bool = False


@dataclass
class CalendarDay:
    day: date
    appointments: list[Appointment] = field(default_factory=list)


def _place(appointment: Appointment) -> None:
    """Where the appointment sits in the 07:00-19:00 column, as percentages."""
    span = (DAY_END_HOUR - DAY_START_HOUR) * 60
    start = (appointment.start.hour - DAY_START_HOUR) * 60 + appointment.start.minute
    minutes = max(int((appointment.end - appointment.start).total_seconds() // 60), 15)
    appointment.outside = start < 0 or start + minutes > span
    start = min(max(start, 0), span - 15)
    appointment.top = round(start / span * 100, 3)
    appointment.height = round(min(minutes, span - start) / span * 100, 3)


@require(Permission.SCHEDULE_VIEW)
def calendar(request: HttpRequest) -> HttpResponse:
    clinic = request.clinic  # type: ignore[attr-defined]
    today = _today(request)
    view = request.GET.get("view", "week")
    if view not in ("day", "week"):
        view = "week"
    text = request.GET.get("date", "").strip()
    chosen = patient_queries.parse_date(text) if text else today
    problem = ""
    if chosen is None:
        problem, chosen = f"'{text}' is not a date: use YYYY-MM-DD. Showing today.", today
    clinicians = _clinicians(clinic)
    username = request.GET.get("clinician", "")
    clinician = next((u for u in clinicians if u.username == username), None)
    if username and clinician is None:
        problem = f"No clinician '{username}' in this clinic: showing everyone."
        username = ""
    first = chosen - timedelta(days=chosen.weekday()) if view == "week" else chosen
    length = 7 if view == "week" else 1
    with transaction.atomic():
        record_event(
            actor_for(request), "treatment.calendar.viewed", detail={"start": first.isoformat(), "days": length}
        )
    days = [CalendarDay(first + timedelta(days=n)) for n in range(length)]
    by_day = {d.day: d for d in days}
    for s in queries.calendar_sessions(clinic, first, length, clinician):
        start = timezone.localtime(s.starts_at, clinic.tz)
        appointment = Appointment(s, start, start + timedelta(minutes=s.duration_minutes))
        _place(appointment)
        if start.date() in by_day:
            by_day[start.date()].appointments.append(appointment)
    step = timedelta(days=length)
    context = {
        "view": view,
        "chosen": chosen,
        "today": today,
        "days": days,
        "first": first,
        "last": first + timedelta(days=length - 1),
        "previous": first - step,
        "following": first + step,
        "hours": [f"{h:02d}:00" for h in range(DAY_START_HOUR, DAY_END_HOUR)],
        "clinicians": clinicians,
        "clinician": username,
        "unbooked": queries.unbooked_sessions(clinic, today + timedelta(days=UNBOOKED_DAYS)),
        "until": today + timedelta(days=UNBOOKED_DAYS),
        "problem": problem,
        "clinical": _can(request, Permission.COURSE_VIEW),
        "count": sum(len(d.appointments) for d in days),
    }
    return render(request, "treatment/calendar.html", context)


# --- The session record ----------------------------------------------------------------------------------------


@dataclass
class TotalsView:
    """The running totals as the panel shows them."""

    injections: int = 0
    min_injections: int = 0
    max_injections: int = 0
    count_warning: bool = False
    volume_ml: str = "0"
    dextrose_g: str = "0"
    anaesthetic_mg: str = "0"
    lines: list[dict[str, Any]] = field(default_factory=list)
    percent: Decimal = Decimal(0)
    bar_percent: Decimal = Decimal(0)
    warn_percent: Decimal = Decimal(80)
    dose_status: str = "ok"
    status: str = "ok"
    warnings: tuple[str, ...] = ()
    blocks: tuple[str, ...] = ()
    advisories: tuple[str, ...] = ()
    weight: str = ""
    weight_from_chart: bool = False
    error: str = ""


def _totals_view(
    session: TreatmentSession, page: queries.SessionPage, chart_weight: Decimal | None = None
) -> TotalsView:
    config = session.clinic.config
    # Before the first solution the session has no weight yet; the chart's latest is what it will take.
    weight = session.weight_kg if session.weight_kg is not None else chart_weight
    view = TotalsView(
        min_injections=config.min_injections_per_session,
        max_injections=config.max_injections_per_session,
        warn_percent=config.anaesthetic_warn_fraction * 100,
        weight=fmt(weight) if weight is not None else "",
        weight_from_chart=session.weight_kg is None and chart_weight is not None,
    )
    totals = page.totals
    if totals is None:
        view.error, view.status = page.totals_error, "block"
        return view
    view.injections = totals.injections
    view.count_warning = bool(totals.injections) and not (
        view.min_injections <= totals.injections <= view.max_injections
    )
    view.volume_ml = present.volume(totals.volume_ml) if totals.volume_ml else "0"
    view.dextrose_g = fmt(totals.dextrose_g)
    view.anaesthetic_mg = fmt(totals.anaesthetic_mg)
    view.status, view.warnings, view.blocks = totals.status.value, totals.warnings, totals.blocks
    dose = totals.dose
    if dose is not None:
        view.advisories = dose.advisories
        view.dose_status = dose.status.value
        view.percent = dose.combined_fraction * 100
        for t in dose.totals:
            view.lines.append(
                {
                    "label": f"{t.drug.label} {'with epinephrine' if t.with_epinephrine else 'plain'}",
                    "mg": fmt(t.total_mg),
                    "max_mg": fmt(t.limit.max_mg),
                    "rule": t.limit.describe,
                    "percent": fmt((t.fraction * 100).quantize(Decimal("0.1"))),
                    "status": t.status.value,
                }
            )
    else:
        # Nothing injected yet: show the limits of the anaesthetics drawn up, so the ceiling is known in advance.
        seen = set()
        for solution in page.active_solutions:
            for c in solution.components:
                agent = Agent(c["agent"])
                if not agent.is_local_anaesthetic or (agent, solution.with_epinephrine) in seen:
                    continue
                seen.add((agent, solution.with_epinephrine))
                if weight is None:
                    view.dose_status = "block"
                    continue
                try:
                    limit = max_dose(agent, solution.with_epinephrine, weight)
                except DomainError as error:
                    view.error = str(error)
                    continue
                view.lines.append(
                    {
                        "label": f"{agent.label} {'with epinephrine' if solution.with_epinephrine else 'plain'}",
                        "mg": "0",
                        "max_mg": fmt(limit.max_mg),
                        "rule": limit.describe,
                        "percent": "0",
                        "status": "ok",
                    }
                )
        if any(a.agent.is_local_anaesthetic for a in totals.amounts) and session.weight_kg is None:
            view.dose_status = "block"
    view.bar_percent = min(view.percent, Decimal(100))
    return view


def _site_dict(site: InjectionSite, labels: dict[int, str]) -> dict[str, Any]:
    return {
        "number": site.number,
        "x": site.x,
        "y": site.y,
        "label": site.label,
        "solution_label": labels.get(site.solution_id, ""),
        "volume_ml": fmt(site.volume_ml),
    }


def _map_choice(request: HttpRequest, session: TreatmentSession) -> tuple[list[maps.BodyMap], maps.BodyMap | None, str]:
    """The region's maps, the one to show and the side to draw it for."""
    try:
        region_maps = maps.maps_for(session.course.region)
    except (ValueError, LookupError, DomainError):
        region_maps = []
    if not region_maps:
        return [], None, ""
    wanted = request.GET.get("map") or request.POST.get("map") or session.body_map
    body_map = next((m for m in region_maps if m.code == wanted), region_maps[0])
    side = session.course.side
    if not body_map.symmetric and side not in (maps.LEFT, maps.RIGHT):
        asked = request.GET.get("side") or request.POST.get("side") or ""
        side = asked if asked in (maps.LEFT, maps.RIGHT) else maps.RIGHT
    return region_maps, body_map, side


def _amendments(session: TreatmentSession, page: queries.SessionPage) -> list[RecordVersion]:
    """Changes made to the note and its parts after it was signed, with who, when and why."""
    if not session.is_signed:
        return []
    uuids = [session.uuid, *(s.uuid for s in page.solutions), *(s.uuid for s in page.sites)]
    uuids += [e.uuid for e in page.checklist.values()]
    rows = list(
        RecordVersion.objects.filter(clinic=session.clinic, record_uuid__in=uuids)
        .filter(Q(action__endswith=".amended") | Q(action__endswith=".entered_in_error", at__gte=session.signed_at))
        .select_related("user")
        .order_by("at", "id")
    )
    for row in rows:
        kind, _, verb = row.action.removeprefix("treatment.").partition(".")
        row.what = AMENDMENT_WHAT.get((kind, verb), row.action)  # type: ignore[attr-defined]
    return rows


AMENDMENT_WHAT = {
    ("session", "amended"): "Note changed",
    ("site", "amended"): "Site added",
    ("solution", "amended"): "Solution added",
    ("injectionsite", "entered_in_error"): "Site marked entered in error",
    ("preparedsolution", "entered_in_error"): "Solution marked entered in error",
    ("checklistentry", "entered_in_error"): "Checklist answer marked entered in error",
}


def _site_initial(page: queries.SessionPage, body_map: maps.BodyMap | None, side: str) -> dict[str, Any]:
    """A new site starts with the previous site's solution, volume, depth, needle and guidance."""
    initial: dict[str, Any] = {"map": body_map.code if body_map else "", "side": side, "guidance": "landmark"}
    active = page.active_sites
    if active:
        last = active[-1]
        initial.update(
            solution=str(last.solution.uuid),
            volume_ml=fmt(last.volume_ml),
            depth_mm=fmt(last.depth_mm) if last.depth_mm is not None else "",
            needle_gauge=str(last.needle_gauge or ""),
            guidance=last.guidance,
        )
    elif page.active_solutions:
        initial["solution"] = str(page.active_solutions[-1].uuid)
    return initial


def _session_context(request: HttpRequest, session: TreatmentSession, **bound: Any) -> dict[str, Any]:
    page = queries.session_page(session)
    signed = session.is_signed
    recordable = session.status in (SessionStatus.PLANNED, SessionStatus.BOOKED, SessionStatus.DONE)
    can_record = _can(request, Permission.SESSION_RECORD) and recordable
    amending = bool(
        signed
        and can_record
        and _can(request, Permission.SESSION_AMEND)
        and (bound.get("amending") or request.GET.get("amend") == "1")
    )
    editable = (can_record and not signed) or amending
    region_maps, body_map, side = _map_choice(request, session)
    side_choices = []
    if body_map is not None and not body_map.symmetric and session.course.side not in (maps.LEFT, maps.RIGHT):
        side_choices = [maps.RIGHT, maps.LEFT]
    labels = {s.pk: f"{s.label}" for s in page.solutions}
    on_map = [s for s in page.active_sites if body_map and s.body_map == body_map.code]
    previous = [s for s in page.previous_sites if body_map and s.body_map == body_map.code]
    counts = {m.code: sum(1 for s in page.active_sites if s.body_map == m.code) for m in region_maps}
    checklist_rows = []
    for spec in checklist_for(session.sedation != "none"):
        entry: ChecklistEntry | None = page.checklist.get(spec.item.value)
        form = bound.get("checklist_forms", {}).get(spec.item.value) or ChecklistForm(
            initial={
                "item": spec.item.value,
                "answer": entry.answer if entry else None,
                "note": entry.note if entry else "",
            },
            auto_id=f"c-{spec.item.value}-%s",
        )
        checklist_rows.append(
            {"spec": spec, "entry": entry, "form": form, "ok": entry is not None and entry.answer_enum in spec.accepted}
        )
    blockers: list[str] = []
    if not signed:
        try:
            blockers = list(signing_blockers(queries.signing_state(session)))
        except ValidationError as error:
            blockers = list(error.messages)
    screening = session.day_screening
    findings = []
    if screening is not None:
        findings = [f for f in screening.findings if f.get("severity") in ("contraindication", "caution")]
    pregnancy = "not_applicable" if session.patient.sex == "male" else "unknown"
    chart_weight = queries.latest_weight(session.patient) if session.weight_kg is None and not signed else None
    course_count = TreatmentSession.objects.filter(
        course_id=session.course_id, entered_in_error_at__isnull=True
    ).count()
    return {
        "session": session,
        "course": session.course,
        "patient": session.patient,
        "page": page,
        "course_count": course_count,
        "signed": signed,
        "editable": editable,
        "amending": amending,
        "can_record": can_record,
        "totals": _totals_view(session, page, chart_weight),
        "chart_weight": chart_weight,
        "region_maps": region_maps,
        "body_map": body_map,
        "map_side": side,
        "map_sites": [_site_dict(s, labels) for s in on_map],
        "previous_sites": [_site_dict(s, labels) for s in previous],
        "map_counts": counts,
        "map_side_choices": side_choices,
        "chosen_label": _chosen_label(bound.get("site_form"), session),
        "checklist_rows": checklist_rows,
        "blockers": blockers,
        "screening": screening,
        "findings": findings,
        "amendments": _amendments(session, page),
        "header_form": bound.get("header_form")
        or SessionHeaderForm(
            initial={
                "weight_kg": fmt(session.weight_kg) if session.weight_kg is not None else "",
                "sedation": session.sedation,
                "version": session.version,
            },
            signed=amending,
        ),
        "observations_form": bound.get("observations_form")
        or ObservationsForm(
            initial={**{name: getattr(session, name) for name in ObservationsForm.FIELDS}, "version": session.version},
            signed=amending,
        ),
        "rescreen_form": bound.get("rescreen_form") or RescreenForm(initial={"pregnancy": pregnancy}),
        "solution_form": bound.get("solution_form")
        or SolutionForm(
            initial={"label": _next_label(page.active_solutions), "dextrose_stock_pct": "50"},
            signed=amending,
        ),
        "site_form": bound.get("site_form")
        or SiteForm(initial=_site_initial(page, body_map, side), solutions=page.active_solutions, signed=amending),
        "sign_form": SignForm(initial={"version": session.version}),
        "sign_error": bound.get("sign_error", ""),
        "site_added": bound.get("site_added"),
        "open": bound.get("open", ""),
        "form_id": "site-form",
    }


def _chosen_label(form: SiteForm | None, session: TreatmentSession) -> str:
    """The landmark a refused site form had chosen, to show it again beside the form."""
    if form is None or not form.is_bound:
        return ""
    code = form.data.get("landmark", "")
    return (queries.landmark_label(code, session.course.region) or "") if code else ""


def _next_label(solutions: list[PreparedSolution]) -> str:
    used = {s.label for s in solutions}
    return next((c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used), "")


def _session_page(request: HttpRequest, session: TreatmentSession, *, status: int = 200, **bound: Any) -> HttpResponse:
    return render(request, "treatment/session.html", _session_context(request, session, **bound), status=status)


def _session_url(session: TreatmentSession, anchor: str = "", **query: str) -> str:
    url = reverse("treatment:session", args=[session.uuid])
    params = "&".join(f"{k}={v}" for k, v in query.items() if v)
    return url + (f"?{params}" if params else "") + (f"#{anchor}" if anchor else "")


@require(Permission.COURSE_VIEW)
def session_detail(request: HttpRequest, session_uuid: Any) -> HttpResponse:
    session = _session_or_404(request, session_uuid)
    record_read(actor_for(request), "treatment.session.viewed", record=session, patient_uuid=session.patient.uuid)
    context = _session_context(request, session)
    if request.htmx and request.GET.get("part") == "work":  # type: ignore[attr-defined]
        return render(request, "treatment/_site_work.html", context)
    return render(request, "treatment/session.html", context)


def _amending(request: HttpRequest, session: TreatmentSession) -> bool:
    """A change to a signed note is an amendment; only a role with session.amend may make one."""
    if not session.is_signed:
        return False
    if not _can(request, Permission.SESSION_AMEND):
        raise ServiceError(session.lock_reason() or "This note is signed.")
    return True


def _save_session_part(
    request: HttpRequest,
    session_uuid: Any,
    form_class: type,
    *,
    section: str,
    saved: str,
    form_name: str,
    **page: Any,
) -> HttpResponse:
    """Save one part of the session note, or amend it with a reason once the note is signed."""
    session = _session_or_404(request, session_uuid)
    signed = session.is_signed
    form = form_class(request.POST, signed=signed)
    if form.is_valid():
        try:
            with transaction.atomic():
                services.update_session_record(
                    actor_for(request),
                    session,
                    form.changes(),
                    expected_version=form.cleaned_data["version"],
                    reason=form.reason,
                    amendment=_amending(request, session),
                )
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Amendment saved with your reason." if signed else saved)
            return redirect(_session_url(session, section, amend="1" if signed else ""))
    return _session_page(request, session, status=400, amending=signed, **{form_name: form}, **page)


@require(Permission.SESSION_RECORD)
@require_POST
def session_header(request: HttpRequest, session_uuid: Any) -> HttpResponse:
    """Weight used for the limits and sedation."""
    return _save_session_part(
        request, session_uuid, SessionHeaderForm, section="header", saved="Session details saved.",
        form_name="header_form", open="header",
    )  # fmt: skip


@require(Permission.SESSION_RECORD)
@require_POST
def session_observations(request: HttpRequest, session_uuid: Any) -> HttpResponse:
    """Immediate observations and the instructions given."""
    return _save_session_part(
        request, session_uuid, ObservationsForm, section="observations", saved="Observations saved.",
        form_name="observations_form",
    )  # fmt: skip


@require(Permission.SESSION_RECORD)
@require_POST
def session_checklist(request: HttpRequest, session_uuid: Any) -> HttpResponse:
    session = _session_or_404(request, session_uuid)
    item = request.POST.get("item", "")
    signed = session.is_signed
    form = ChecklistForm(request.POST, auto_id=f"c-{item}-%s")
    ok = False
    if form.is_valid():
        try:
            if signed:
                raise ServiceError(session.lock_reason() or "This note is signed.")
            with transaction.atomic():
                services.tick(
                    actor_for(request),
                    session,
                    form.cleaned_data["item"],
                    form.cleaned_data["answer"],
                    note=form.cleaned_data["note"].strip(),
                )
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            ok = True
    elif "answer" in form.errors:
        form.errors["answer"] = form.error_class(["Choose Yes, No or Not applicable."])
    if request.htmx:  # type: ignore[attr-defined]
        session = _session_or_404(request, session_uuid)
        forms_by_item = {} if ok else {form.cleaned_data.get("item") or item: form}
        context = _session_context(request, session, checklist_forms=forms_by_item)
        return render(request, "treatment/_checklist_response.html", context)
    if ok:
        return redirect(_session_url(session, "checklist"))
    return _session_page(request, session, status=400, checklist_forms={item: form})


@require(Permission.SESSION_RECORD)
@require_POST
def session_rescreen(request: HttpRequest, session_uuid: Any) -> HttpResponse:
    session = _session_or_404(request, session_uuid)
    form = RescreenForm(request.POST)
    if form.is_valid():
        try:
            if session.is_signed:
                raise ServiceError(session.lock_reason() or "This note is signed.")
            with transaction.atomic():
                services.rescreen_for_the_day(
                    actor_for(request),
                    session,
                    day_of_flags=form.cleaned_data["day_of_flags"],
                    pregnancy=form.cleaned_data["pregnancy"],
                )
        except (ValidationError, ServiceError, DomainError) as error:
            form.add_error(None, getattr(error, "messages", None) or str(error))
        else:
            messages.success(request, "Screening re-checked for the day of the procedure.")
            return redirect(_session_url(session, "screening"))
    return _session_page(request, session, status=400, rescreen_form=form)


def _mix_preview(form: SolutionForm) -> tuple[dict[str, Any] | None, list[str]]:
    if not form.is_valid():
        return None, []
    mix_request = form.request()
    missing = [str(form.fields[name].label) for name in mix_request.missing()]
    if missing:
        return None, missing
    try:
        return present.mix_json(calculators.mix_solution(mix_request)), []
    except calculators.CalculatorError as error:
        form.apply(error)
        return None, []


@require(Permission.SESSION_RECORD)
@require_POST
def solution_preview(request: HttpRequest, session_uuid: Any) -> HttpResponse:
    """The volumes to draw, live as the solution form is typed (HTMX), exactly as the mixing calculator gives them."""
    session = _session_or_404(request, session_uuid)
    form = SolutionForm(request.POST, signed=session.is_signed)
    mix, missing = _mix_preview(form)
    return render(request, "treatment/_mix_preview.html", {"mix": mix, "missing": missing, "form": form, "oob": True})


@require(Permission.SESSION_RECORD)
@require_POST
def solution_add(request: HttpRequest, session_uuid: Any) -> HttpResponse:
    session = _session_or_404(request, session_uuid)
    signed = session.is_signed
    form = SolutionForm(request.POST, signed=signed)
    if form.is_valid():
        try:
            _amending(request, session)
            mixed = calculators.mix_solution(form.request())
            solution = services.add_solution(
                actor_for(request),
                session,
                label=form.cleaned_data["label"],
                final_volume_ml=form.cleaned_data["final_volume_ml"],
                components=form.components(mixed),
                diluent=form.cleaned_data.get("diluent") or "",
                diluent_lot=form.cleaned_data.get("diluent_lot") or "",
                with_epinephrine=form.cleaned_data.get("with_epinephrine") or False,
                amendment_reason=form.reason,
            )
        except calculators.CalculatorError as error:
            form.apply(error)
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
            if isinstance(error, ValidationError) and hasattr(error, "error_dict") and "components" in error.error_dict:
                form.add_error(None, error.error_dict["components"])
        else:
            messages.success(request, f"Solution {solution.label} recorded: {solution}.")
            return redirect(_session_url(session, "solutions", amend="1" if signed else ""))
    return _session_page(request, session, status=400, solution_form=form, amending=signed, open="solution")


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(str(text).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


@require(Permission.SESSION_RECORD)
@require_POST
def site_add(request: HttpRequest, session_uuid: Any) -> HttpResponse:
    """Place one injection from the map. HTMX gets the map, form, list and totals; a plain POST gets the page."""
    session = _session_or_404(request, session_uuid)
    signed = session.is_signed
    page = queries.session_page(session)
    form = SiteForm(request.POST, solutions=page.active_solutions, signed=signed)
    added = None
    if form.is_valid():
        data = form.cleaned_data
        solution = next((s for s in page.active_solutions if str(s.uuid) == data["solution"]), None)
        try:
            _amending(request, session)
            body_map = maps.body_map(data["map"])
        except ValueError:
            form.add_error(None, f"Unknown map '{data['map']}': choose a view above the drawing.")
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            side = data["side"] if data["side"] in maps.SIDES else session.course.side
            x, y = _decimal(data["x"]), _decimal(data["y"])
            landmark = data["landmark"]
            if landmark:
                try:
                    # A landmark goes where the drawing shows it, whatever a stale point in the form says.
                    px, py = maps.position(body_map, landmark, side if side in maps.SIDES else None)
                    x, y = Decimal(str(round(px, 2))), Decimal(str(round(py, 2)))
                except ValueError as error:
                    form.add_error(None, str(error))
            elif x is None or y is None:
                form.add_error(None, "No point chosen: tap a landmark or the drawing, then add the site.")
            else:
                side = maps.point_side(body_map, float(x), side if side in maps.SIDES else None)
            if not form.errors and side not in (maps.LEFT, maps.RIGHT, maps.MIDLINE, maps.BILATERAL):
                side = maps.RIGHT
            if not form.errors:
                try:
                    with transaction.atomic():
                        added, _ = services.add_site(
                            actor_for(request),
                            session,
                            solution=solution,  # type: ignore[arg-type]
                            body_map=body_map.code,
                            x=x,  # type: ignore[arg-type]
                            y=y,  # type: ignore[arg-type]
                            side=side,
                            volume_ml=data["volume_ml"],
                            landmark=landmark,
                            label=data["label"],
                            depth_mm=data["depth_mm"],
                            needle_gauge=data["needle_gauge"],
                            guidance=data["guidance"],
                            amendment_reason=form.reason,
                        )
                except (ValidationError, ServiceError) as error:
                    apply_errors(form, error)
    if not request.htmx:  # type: ignore[attr-defined]
        if added is not None:
            messages.success(
                request, f"Site {added.number} added: {added.label}, {present.volume(added.volume_ml)} mL."
            )
            return redirect(_session_url(session, "map", map=added.body_map, amend="1" if signed else ""))
        return _session_page(request, session, status=400, site_form=form, amending=signed)
    session = _session_or_404(request, session_uuid)
    bound: dict[str, Any] = {"amending": signed, "site_added": added}
    if added is None:
        bound["site_form"] = form
    # 200 even when refused: HTMX swaps only successful responses, and the refusal is the content.
    return render(request, "treatment/_site_response.html", _session_context(request, session, **bound))


ITEM_MODELS: dict[str, Any] = {"site": InjectionSite, "solution": PreparedSolution, "checklist": ChecklistEntry}
ITEM_NAMES = {"site": "injection site", "solution": "solution", "checklist": "checklist answer"}


@require(Permission.SESSION_RECORD)
@require_http_methods(["GET", "POST"])
def item_entered_in_error(request: HttpRequest, session_uuid: Any, kind: str, item_uuid: Any) -> HttpResponse:
    session = _session_or_404(request, session_uuid)
    model = ITEM_MODELS.get(kind)
    if model is None:
        raise Http404("Unknown record type.")
    try:
        record = model.objects.get(session=session, clinic=session.clinic, uuid=item_uuid)
    except model.DoesNotExist:
        raise Http404("No such record in this session.") from None
    form = entered_in_error.bind(request, record)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.retire_session_item(
                    actor_for(request),
                    record,
                    reason=form.text,
                    amendment=_amending(request, session),
                    expected_version=form.cleaned_data["version"],
                )
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(
                request, f"The {ITEM_NAMES[kind]} was marked entered in error. It stays listed, struck through."
            )
            anchor = {"site": "sites", "solution": "solutions", "checklist": "checklist"}[kind]
            return redirect(_session_url(session, anchor, amend="1" if session.is_signed else ""))
    if kind == "site":
        describe = f"Site {record.number}: {record.label}, {present.volume(record.volume_ml)} mL"
    elif kind == "solution":
        describe = str(record)
    else:
        describe = f"{CHECKLIST_LABELS.get(record.item, record.item)}: {record.get_answer_display()}"
    back = _session_url(session)
    changes = ["The session's totals and dose checks leave it out."] if kind in ("site", "solution") else []
    if session.is_signed:
        changes.append("The note is signed: this is an amendment, kept with the original in the history.")
    return entered_in_error.render_page(
        request, form, record=record, what=ITEM_NAMES[kind], describe=describe, patient=session.patient,
        crumbs=[(back, f"Session {session.number}")], back_url=back, changes=changes,
    )  # fmt: skip


@require(Permission.SESSION_SIGN)
@require_POST
def session_sign(request: HttpRequest, session_uuid: Any) -> HttpResponse:
    session = _session_or_404(request, session_uuid)
    form = SignForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    early_reason = form.cleaned_data.get("early_reason", "") if form.is_valid() else ""
    try:
        with transaction.atomic():
            services.sign_session(actor_for(request), session, expected_version=version, early_reason=early_reason)
    except (ValidationError, ServiceError) as error:
        message = " ".join(getattr(error, "messages", None) or [str(error)])
        return _session_page(request, session, status=400, sign_error=message)
    messages.success(request, "Session note signed. It is now locked; correct it with an amendment that says why.")
    return redirect(_session_url(session))


# --- Adverse events --------------------------------------------------------------------------------------------


def _patient_sessions(patient: Patient) -> list[TreatmentSession]:
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
        s.site_rows, s.solution_rows = [], []  # type: ignore[attr-defined]
    for site in InjectionSite.objects.filter(session_id__in=by_id, entered_in_error_at__isnull=True).order_by("number"):
        site.session = by_id[site.session_id]
        by_id[site.session_id].site_rows.append(site)  # type: ignore[attr-defined]
    for sol in PreparedSolution.objects.filter(session_id__in=by_id, entered_in_error_at__isnull=True).order_by(
        "label"
    ):
        sol.session = by_id[sol.session_id]
        by_id[sol.session_id].solution_rows.append(sol)  # type: ignore[attr-defined]
    return sessions


@require(Permission.ADVERSE_EVENT_RECORD)
@require_http_methods(["GET", "POST"])
def adverse_event_new(request: HttpRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    sessions = _patient_sessions(patient)
    initial: dict[str, Any] = {"onset_on": _today(request), "outcome": "ongoing"}
    for name in ("session", "site", "solution"):
        if request.GET.get(name):
            initial[name] = request.GET[name]
    started_from = next((s for s in sessions if str(s.uuid) == initial.get("session")), None)
    if started_from is not None and "solution" not in initial:
        # One syringe in the session: it is the one the event followed (its lot is then recorded too).
        site = next((x for x in started_from.site_rows if str(x.uuid) == initial.get("site")), None)  # type: ignore[attr-defined]
        if site is not None:
            initial["solution"] = str(site.solution.uuid)
        elif len(started_from.solution_rows) == 1:  # type: ignore[attr-defined]
            initial["solution"] = str(started_from.solution_rows[0].uuid)  # type: ignore[attr-defined]
    form = AdverseEventForm(_posted(request), initial=initial, sessions=sessions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        session = next((s for s in sessions if str(s.uuid) == data["session"]), None)
        site = next((x for s in sessions for x in s.site_rows if str(x.uuid) == data["site"]), None)  # type: ignore[attr-defined]
        solution = next((x for s in sessions for x in s.solution_rows if str(x.uuid) == data["solution"]), None)  # type: ignore[attr-defined]
        try:
            event = services.record_adverse_event(
                actor_for(request), patient, form.changes(), session=session, site=site, solution=solution
            )
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Adverse event recorded: {event.get_event_type_display()}.")
            if event.session is not None:
                return redirect(_session_url(event.session, "adverse-events"))
            return redirect(reverse("patients:chart", args=[patient.uuid]) + "#adverse-events")
    from_session = next((s for s in sessions if str(s.uuid) == request.GET.get("session")), None)
    return render(
        request,
        "treatment/adverse_event_form.html",
        {"patient": patient, "form": form, "from_session": from_session, "title": "Record an adverse event"},
        status=400 if form.errors else 200,
    )


@require(Permission.ADVERSE_EVENT_RECORD)
@require_http_methods(["GET", "POST"])
def adverse_event_edit(request: HttpRequest, event_uuid: Any) -> HttpResponse:
    try:
        event = AdverseEvent.objects.select_related("patient", "session", "site", "solution").get(
            clinic=request.clinic,  # type: ignore[attr-defined]
            uuid=event_uuid,
        )
    except AdverseEvent.DoesNotExist:
        raise Http404("No such adverse event in this clinic.") from None
    initial = {name: getattr(event, name) for name in AdverseEventForm.FIELDS}
    initial["version"] = event.version
    form = AdverseEventForm(_posted(request), initial=initial, sessions=[], editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.update_adverse_event(
                    actor_for(request),
                    event,
                    form.changes(),
                    expected_version=form.cleaned_data["version"],
                    reason=form.cleaned_data.get("change_reason", ""),
                )
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Adverse event updated. The earlier version is kept.")
            return redirect(reverse("treatment:adverse-event-edit", args=[event.uuid]))
    versions = (
        RecordVersion.objects.filter(clinic=event.clinic, record_uuid=event.uuid)
        .select_related("user")
        .order_by("-version")
    )
    return render(
        request,
        "treatment/adverse_event_form.html",
        {
            "patient": event.patient,
            "form": form,
            "event": event,
            "versions": versions,
            "title": "Follow an adverse event",
        },
        status=400 if form.errors else 200,
    )
