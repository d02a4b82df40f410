"""Staff booking: free slots offered for a type, a clinician or the first available, and a patient; an appointment's
page with moving (the free slots again) and cancelling with a reason (docs/BOOKING.md, "Staff booking")."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from prolotrack.booking import attendance, queries, services
from prolotrack.booking import patient_links as manage
from prolotrack.booking.models import AppointmentStatus, AppointmentType
from prolotrack.booking.picker import day_picker, parse_slot, slot_value
from prolotrack.booking.views.common import REFUSALS, audit_search, found
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.models import User
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import can, require
from prolotrack.core.forms import ReasonForm
from prolotrack.domain.reasons import SESSION_CANCEL_REASONS
from prolotrack.patients import queries as patient_queries
from prolotrack.patients.models import Patient


def _by_day(slots: list[queries.FreeSlot], tz: Any) -> list[tuple[date, list[tuple[str, str, Any]]]]:
    """Slots grouped by local day: (value, local time, clinician)."""
    days: dict[date, list[tuple[str, str, Any]]] = defaultdict(list)
    for s in slots:
        local = timezone.localtime(s.start, tz)
        days[local.date()].append((slot_value(s), local.strftime("%H:%M %Z"), s.clinician))
    return sorted(days.items())


def _asked_day(request: HttpRequest, today: date) -> tuple[date, str]:
    text = request.GET.get("date", "").strip()
    if not text:
        return today, ""
    chosen = patient_queries.parse_date(text)
    if chosen is None:
        return today, f"'{text}' is not a date: use YYYY-MM-DD. Showing from today."
    return chosen, ""


@dataclass
class Asked:
    """What the booking page was asked for: type, clinician or first available, days, patient (or a search)."""

    types: list[AppointmentType]
    kind: AppointmentType | None
    offering: list[User]
    clinician: User | None
    first: date
    patient: Patient | None
    q: str
    matches: list[Patient] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _patient(clinic: Any, text: str, problems: list[str]) -> Patient | None:
    if not text:
        return None
    found_patient = patient_queries.search_patients(clinic).filter(uuid=text).first() if _is_uuid(text) else None
    if found_patient is None:
        problems.append("No such patient in this clinic: search again.")
    return found_patient


def _asked(request: ClinicRequest) -> Asked:
    clinic = request.clinic
    source = request.POST if request.method == "POST" else request.GET
    types = queries.bookable_types(clinic)
    type_text = source.get("type", "")
    kind = next((t for t in types if str(t.uuid) == type_text), types[0] if types and not type_text else None)
    problems: list[str] = []
    if type_text and kind is None:
        problems.append("That appointment type is not offered here: choose one from the list.")
    offering = queries.offering_clinicians(clinic, kind) if kind else []
    who_text = source.get("clinician", "")
    clinician = next((c for c in offering if str(c.uuid) == who_text), None)
    if who_text and clinician is None:
        problems.append("That clinician does not offer this type: showing everyone who does.")
    first, problem = _asked_day(request, queries.clinic_today(clinic))
    problems += [problem] if problem else []
    patient = _patient(clinic, source.get("patient", ""), problems)
    q = request.GET.get("q", "").strip()
    matches = list(patient_queries.search_patients(clinic, q)[:20]) if q and patient is None else []
    return Asked(types, kind, offering, clinician, first, patient, q, matches, problems)


def _try_book(request: ClinicRequest, asked: Asked) -> HttpResponse | tuple[str, list[queries.FreeSlot]]:
    """Book the chosen slot: a redirect to the appointment, or the refusal and the next free slots."""
    chosen = parse_slot(request.POST.get("slot", ""), asked.offering)
    if asked.kind is None or asked.patient is None or chosen is None:  # say what is missing, not all that might be
        needed = {"the patient": asked.patient, "a type": asked.kind, "one of the free slots": chosen}
        return (
            f"Choose {' and '.join(what for what, given in needed.items() if given is None)}: nothing was booked.",
            [],
        )
    try:
        made = services.book_appointment(
            actor_for(request),
            patient=asked.patient,
            appointment_type=asked.kind,
            clinician=chosen[1],
            starts_at=chosen[0],
            note=request.POST.get("note", ""),
        )
    except services.SlotUnavailable as refused:
        return str(refused), refused.next_slots
    except REFUSALS as refused:
        return " ".join(getattr(refused, "messages", [str(refused)])), []
    manage.send_confirmation(made)  # with its manage link and .ics, by the scheduler's next pass
    local = timezone.localtime(made.starts_at, request.clinic.tz)
    messages.success(
        request, f"{asked.kind.name} booked for {asked.patient} with {made.clinician} on {local:%a %Y-%m-%d %H:%M}."
    )
    return redirect(reverse("booking:appointment", kwargs={"appointment_uuid": made.uuid}))


def _book_context(request: ClinicRequest, asked: Asked, error: str, instead: list[queries.FreeSlot]) -> dict[str, Any]:
    keep = {
        "type": str(asked.kind.uuid) if asked.kind else "",
        "clinician": str(asked.clinician.uuid) if asked.clinician else "",
        "patient": str(asked.patient.uuid) if asked.patient else "",
        "q": asked.q,
    }
    # One day at a time (booking/picker.py): a week of slots is too long on a phone.
    picker = (
        day_picker(
            request.clinic,
            asked.kind,
            asked.first,
            path=request.path,
            query=keep,
            clinician=asked.clinician,
            param="date",
            chosen=request.POST.get("slot", "") if request.method == "POST" else "",
            # Name the clinician on each slot only when the slots are of several clinicians.
            show_who=asked.clinician is None and len(asked.offering) > 1,
        )
        if asked.kind
        else None
    )
    return {
        **vars(asked),
        "picker": picker,
        "instead": _by_day(instead, request.clinic.tz),
        "error": error,
        "note": request.POST.get("note", "") if request.method == "POST" else "",
    }


@require(Permission.SCHEDULE_MANAGE)
def book(request: ClinicRequest) -> HttpResponse:
    asked = _asked(request)
    audit_search(request, asked.q if asked.patient is None else "", asked.matches, "booking.book")
    error, status = "", 200
    instead: list[queries.FreeSlot] = []
    if request.method == "POST":
        outcome = _try_book(request, asked)
        if isinstance(outcome, HttpResponse):
            return outcome
        error, instead = outcome
        status = 409 if instead else 400
    return render(request, "booking/book.html", _book_context(request, asked, error, instead), status=status)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _try_move(request: ClinicRequest, visit: Any) -> HttpResponse | tuple[str, list[queries.FreeSlot], int]:
    """Move to the chosen slot: a redirect, or the refusal, the next free slots and the status."""
    chosen = parse_slot(
        request.POST.get("slot", ""), queries.offering_clinicians(request.clinic, visit.appointment_type)
    )
    if chosen is None:
        return "Choose one of the free slots.", [], 400
    try:
        moved = services.move_appointment(
            actor_for(request),
            visit,
            starts_at=chosen[0],
            clinician=chosen[1],
            expected_version=int(request.POST.get("version") or 0) or None,
        )
    except services.SlotUnavailable as refused:
        return str(refused), refused.next_slots, 409
    except REFUSALS as refused:
        return " ".join(getattr(refused, "messages", [str(refused)])), [], 409
    manage.send_confirmation(moved)  # the new time, with its manage link and .ics
    local = timezone.localtime(moved.starts_at, request.clinic.tz)
    messages.success(request, f"Moved to {local:%a %Y-%m-%d %H:%M} with {moved.clinician}.")
    return redirect("booking:appointment", appointment_uuid=visit.uuid)


@require(Permission.SCHEDULE_VIEW)
def appointment(request: ClinicRequest, appointment_uuid: Any) -> HttpResponse:
    clinic = request.clinic
    visit = found(queries.appointment, clinic, appointment_uuid)
    booked_day = timezone.localtime(visit.starts_at, clinic.tz).date()
    first, problem = _asked_day(request, max(queries.clinic_today(clinic), booked_day))
    error, status = "", 200
    instead: list[queries.FreeSlot] = []
    movable = visit.status == AppointmentStatus.BOOKED and can(request, Permission.SCHEDULE_MANAGE)
    if request.method == "POST":
        if not can(request, Permission.SCHEDULE_MANAGE):
            return HttpResponse("Your role does not allow this.", status=403)
        outcome = _try_move(request, visit)
        if isinstance(outcome, HttpResponse):
            return outcome
        error, instead, status = outcome
    picker = (
        day_picker(clinic, visit.appointment_type, first, path=request.path, query={}, param="date", show_who=True)
        if movable
        else None
    )
    context = {
        "visit": visit,
        "movable": movable,
        "picker": picker,
        "instead": _by_day(instead, clinic.tz),
        "error": error,
        "problem": problem,
        "marks": attendance.marks_offered(visit, clinic) if can(request, Permission.SCHEDULE_MANAGE) else [],
    }
    return render(request, "booking/appointment.html", context, status=status)


@require(Permission.SCHEDULE_MANAGE)
def cancel(request: ClinicRequest, appointment_uuid: Any) -> HttpResponse:
    visit = found(queries.appointment, request.clinic, appointment_uuid)
    form = ReasonForm(request.POST or None, reasons=SESSION_CANCEL_REASONS, initial={"version": visit.version})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.cancel_appointment(
                    actor_for(request),
                    visit,
                    reason=form.cleaned_data["reason"],
                    details=form.cleaned_data["details"],
                    expected_version=form.cleaned_data["version"],
                )
            except REFUSALS as refused:
                from prolotrack.core.forms import apply_errors

                apply_errors(form, refused)
            else:
                messages.success(request, "Appointment cancelled. It stays on record with the reason.")
                return redirect("booking:appointment", appointment_uuid=visit.uuid)
        status = 400
    return render(request, "booking/cancel.html", {"visit": visit, "form": form}, status=status)
