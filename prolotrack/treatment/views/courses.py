"""The course screens: opening a course, the course page (plan, timepoints), adding a session, closing a course."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.audit.services import ServiceError, record_read
from prolotrack.clinical import queries as clinical_queries
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import ReasonForm, apply_errors
from prolotrack.domain.course import COURSE_CLOSE_REASONS
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment import present, queries, services
from prolotrack.treatment.forms import AddSessionForm, CourseForm, TimepointForm
from prolotrack.treatment.models import Course, CourseStatus
from prolotrack.treatment.views.common import posted, today


def _open_course(request: ClinicRequest, form: CourseForm, patient: Any, screenings: list[Any]) -> Course:
    data = form.cleaned_data
    return services.create_course(
        actor_for(request),
        patient,
        protocol_id=data["protocol_id"],
        indication=data["indication"].strip(),
        region=data["region"],
        side=data["side"],
        start_on=data["start_on"],
        clinician=queries.clinician(request.clinic, data["clinician"]),
        screening=next((s for s in screenings if str(s.uuid) == data["screening"]), None),
        note=data["note"],
    )


@require(Permission.COURSE_MANAGE)
@require_http_methods(["GET", "POST"])
def course_new(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    clinic = request.clinic
    protocols = [p for p in clinical_queries.list_protocols(clinic) if p.template is not None]
    clinicians = queries.clinicians(clinic)
    screenings = [s for s in clinical_queries.patient_screenings(patient) if not s.is_entered_in_error]
    complaint = queries.presenting_complaint(patient)
    initial = {
        "start_on": today(request),
        **present.course_initial(complaint, clinicians, screenings, request.user.username),
    }
    form = CourseForm(
        posted(request), initial=initial, protocols=protocols, clinicians=clinicians, screenings=screenings
    )
    if request.method == "POST" and form.is_valid():
        try:
            course = _open_course(request, form, patient, screenings)
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Course opened with {course.sessions.count()} planned sessions.")
            return redirect("treatment:course", course_uuid=course.uuid)
    context = {"patient": patient, "form": form, "complaint": complaint}
    return render(request, "treatment/course_form.html", context, status=400 if form.errors else 200)


def _course_page(request: ClinicRequest, course: Course, *, status: int = 200, **bound: Any) -> HttpResponse:
    clinic = request.clinic
    page = queries.course_page(course)
    day = today(request)
    overdue_after = clinic.config.questionnaire_overdue_days
    timepoints = []
    for t in page.timepoints:
        form = bound.get("timepoint_form") if bound.get("timepoint") == t.pk else None
        form = form or TimepointForm(initial={"due_on": t.due_on, "version": t.version}, auto_id=f"t{t.pk}-%s")
        timepoints.append((t, form, present.timepoint_answer_status(t, day, overdue_after)))
    context = {
        "course": course,
        "patient": course.patient,
        "page": page,
        "rows": present.session_rows(page, clinic, queries.clinicians(clinic)),
        "timepoints": timepoints,
        "add_form": bound.get("add_form") or AddSessionForm(initial={"planned_on": today(request)}),
        "is_open": course.status == CourseStatus.OPEN,
    }
    return render(request, "treatment/course.html", context, status=status)


@require(Permission.COURSE_VIEW)
def course_detail(request: ClinicRequest, course_uuid: Any) -> HttpResponse:
    course = queries.course_or_404(request, course_uuid)
    record_read(actor_for(request), "treatment.course.viewed", record=course, patient_uuid=course.patient.uuid)
    return _course_page(request, course)


@require(Permission.COURSE_MANAGE)
@require_POST
def course_add_session(request: ClinicRequest, course_uuid: Any) -> HttpResponse:
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


@require(Permission.COURSE_MANAGE)
@require_http_methods(["GET", "POST"])
def course_close(request: ClinicRequest, course_uuid: Any) -> HttpResponse:
    """The confirmation step of closing a course: what changes, the derived outcome, a reason from the list."""
    course = queries.course_or_404(request, course_uuid)
    impact = queries.close_impact(course)
    initial = {"version": course.version}
    outcome = impact.outcome.outcome.value
    form = ReasonForm(posted(request), reasons=COURSE_CLOSE_REASONS, outcome=outcome, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            closed = services.close_course(
                actor_for(request), course, reason=data["reason"], details=data["details"],
                expected_version=data["version"],
            )  # fmt: skip
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(
                request,
                f"Course closed as {closed.get_status_display().lower()}: {closed.stop_reason}. "
                f"{present.plural(len(impact.to_cancel), 'session')} not yet done cancelled.",
            )
            return redirect("treatment:course", course_uuid=course.uuid)
    context = {**present.close_course_page(course, impact), "form": form}
    return render(request, "core/confirm.html", context, status=400 if form.errors else 200)


@require(Permission.COURSE_MANAGE)
@require_POST
def timepoint_move(request: ClinicRequest, timepoint_uuid: Any) -> HttpResponse:
    timepoint = queries.timepoint_or_404(request, timepoint_uuid)
    form = TimepointForm(request.POST, auto_id=f"t{timepoint.pk}-%s")
    if form.is_valid():
        due_on = form.cleaned_data["due_on"]
        try:
            services.move_timepoint(
                actor_for(request), timepoint, due_on, expected_version=form.cleaned_data["version"]
            )
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{timepoint.label} now due {due_on:%Y-%m-%d}.")
            return redirect(reverse("treatment:course", args=[timepoint.course.uuid]) + "#timepoints")
    course = queries.course_or_404(request, timepoint.course.uuid)
    return _course_page(request, course, status=400, timepoint=timepoint.pk, timepoint_form=form)
