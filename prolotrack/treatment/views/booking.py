"""Booking a session and recording attendance (cancelled, no-show), from the course page or the calendar."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from prolotrack.audit.services import ServiceError
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import can, require
from prolotrack.core.forms import apply_errors
from prolotrack.treatment import present, queries, services
from prolotrack.treatment.forms import AttendanceForm, BookForm
from prolotrack.treatment.models import SessionStatus, TreatmentSession
from prolotrack.treatment.views.common import next_url, posted


def _appointment_page(
    request: ClinicRequest, session: TreatmentSession, *, book_form: BookForm | None = None, status: int = 200
) -> HttpResponse:
    clinic = request.clinic
    initial = present.book_initial(session, clinic)
    context = {
        "session": session,
        "patient": session.patient,
        "course": session.course,
        "book_form": book_form or BookForm(initial=initial, clinicians=queries.clinicians(clinic)),
        "next": next_url(request, ""),
        "bookable": session.status in (SessionStatus.PLANNED, SessionStatus.BOOKED),
    }
    return render(request, "treatment/appointment.html", context, status=status)


def _after_booking(request: HttpRequest, session: TreatmentSession) -> str:
    if can(request, Permission.COURSE_VIEW):
        fallback = reverse("treatment:course", args=[session.course.uuid]) + "#plan"
    else:
        fallback = reverse("treatment:calendar") + f"?date={session.planned_on:%Y-%m-%d}"
    return next_url(request, fallback)


def _book(request: ClinicRequest, session: TreatmentSession, form: BookForm, starts_at: Any) -> TreatmentSession | None:
    """Book the session; a refusal goes next to its field (the time for a clash) and gives None."""
    data = form.cleaned_data
    try:
        return services.book_session(
            actor_for(request),
            session,
            starts_at=starts_at,
            clinician=queries.clinician(request.clinic, data["clinician"]),
            duration_minutes=data["duration_minutes"],
            expected_version=data["version"],
        )
    except ValidationError as error:
        if hasattr(error, "error_dict") and "starts_at" in error.error_dict:
            form.add_error("time", error.error_dict.pop("starts_at"))
        apply_errors(form, error)
    except ServiceError as error:
        apply_errors(form, error)
    return None


@require(Permission.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def session_book(request: ClinicRequest, session_uuid: Any) -> HttpResponse:
    session = queries.session_or_404(request, session_uuid)
    if request.method == "GET":
        return _appointment_page(request, session)
    clinic = request.clinic
    form = BookForm(request.POST, clinicians=queries.clinicians(clinic))
    starts_at = form.starts_at(clinic.tz) if form.is_valid() else None
    booked = _book(request, session, form, starts_at) if starts_at is not None else None
    if booked is None:
        return _appointment_page(request, session, book_form=form, status=400)
    local = timezone.localtime(booked.starts_at, clinic.tz)
    clinician = booked.clinician
    assert clinician is not None, "book_session refuses a booking without a clinician"
    messages.success(
        request,
        f"Session {booked.number} for {booked.patient.full_name} booked on {local:%Y-%m-%d} at "
        f"{local:%H:%M} with {clinician.get_full_name() or clinician.username}.",
    )
    return redirect(_after_booking(request, booked))


@require(Permission.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def session_attendance(request: ClinicRequest, session_uuid: Any) -> HttpResponse:
    """The confirmation step of cancelling a session or marking a no-show: what changes, a reason, confirm."""
    session = queries.session_or_404(request, session_uuid)
    status = (request.POST.get("status") or request.GET.get("status") or SessionStatus.CANCELLED).strip()
    if status not in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW):
        status = SessionStatus.CANCELLED
    form = AttendanceForm(posted(request), initial={"version": session.version, "status": status})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.set_attendance(
                actor_for(request), session, data["status"], reason=data["reason"], details=data["details"],
                expected_version=data["version"],
            )  # fmt: skip
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            label = "a no-show" if data["status"] == SessionStatus.NO_SHOW else "cancelled"
            messages.success(request, f"Session {session.number} for {session.patient.full_name} marked {label}.")
            return redirect(_after_booking(request, session))
    course_url = reverse("treatment:course", args=[session.course.uuid])
    crumbs = [(course_url, f"Course: {session.course.indication}")] if can(request, Permission.COURSE_VIEW) else []
    context = {
        **present.attendance_page(session, status, queries.open_reminders([session])),
        "crumbs": crumbs,
        "form": form,
        "back_url": _after_booking(request, session),
        "next": next_url(request, ""),
    }
    return render(request, "core/confirm.html", context, status=400 if form.errors else 200)
