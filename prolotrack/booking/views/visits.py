"""A patient's appointments on the chart (an HTMX card, or the same list as a page), and marking an appointment
attended or a no-show (docs/BOOKING.md, "Appointments on the chart", "Attended and no-show")."""

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_time
from django.views.decorators.http import require_POST

from prolotrack.audit.services import record_read
from prolotrack.booking import attendance, queries, services
from prolotrack.booking.views.common import REFUSALS, found
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.domain.attendance import MARKS
from prolotrack.patients.queries import patient_or_404


@require(Permission.SCHEDULE_VIEW)
def patient_appointments(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    """The chart's "Appointments" card (HTMX), or the same lists as a page."""
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "booking.appointments.viewed", record=patient, patient_uuid=patient.uuid)
    context = {"patient": patient, "visits": attendance.patient_appointments(request.clinic, patient)}
    if request.htmx and not request.htmx.boosted:
        return render(request, "booking/_appointments_card.html", context)
    return render(request, "booking/patient_appointments.html", context)


@require(Permission.SCHEDULE_MANAGE)
@require_POST
def mark(request: ClinicRequest, appointment_uuid: Any) -> HttpResponse:
    visit = found(queries.appointment, request.clinic, appointment_uuid)
    status = request.POST.get("status", "")
    try:
        attendance.set_attendance(
            actor_for(request), visit, status, expected_version=int(request.POST.get("version") or 0) or None
        )
    except REFUSALS as refused:
        messages.error(request, " ".join(getattr(refused, "messages", [str(refused)])))
    else:
        messages.success(request, f"Marked {MARKS[status]}.")
    return redirect("booking:appointment", appointment_uuid=visit.uuid)


@require(Permission.SCHEDULE_MANAGE)
@require_POST
def drop(request: ClinicRequest, appointment_uuid: Any) -> JsonResponse:
    """An appointment dragged on the calendar's week to a day and a wall-clock time (the clinic's zone): moved through
    the same service as the appointment page's form, with the same clinician. JSON: the sentence to show."""
    visit = found(queries.appointment, request.clinic, appointment_uuid)
    try:
        day = parse_date(request.POST.get("day", ""))
        clock = parse_time(request.POST.get("time", ""))
    except ValueError:
        day = clock = None
    if day is None or clock is None:
        return JsonResponse({"message": "Drop the appointment on a day and a time."}, status=400)
    start = datetime.combine(day, clock, tzinfo=request.clinic.tz)
    try:
        moved = services.move_appointment(
            actor_for(request), visit, starts_at=start, expected_version=int(request.POST.get("version") or 0) or None
        )
    except REFUSALS as refused:
        return JsonResponse({"message": " ".join(getattr(refused, "messages", [str(refused)]))}, status=409)
    local = timezone.localtime(moved.starts_at, request.clinic.tz)
    messages.success(request, f"Moved to {local:%a %Y-%m-%d %H:%M} with {moved.clinician}.")
    return JsonResponse({"message": f"Moved to {local:%a %Y-%m-%d %H:%M}."})
