"""Staff booking: free slots offered for a type, a clinician or the first available, and a patient; an appointment's
page with moving (the free slots again) and cancelling with a reason (docs/BOOKING.md, "Staff booking")."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from prolotrack.booking import queries, services
from prolotrack.booking.models import AppointmentStatus, AppointmentType
from prolotrack.booking.views.common import REFUSALS, found
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.models import User
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import can, require
from prolotrack.core.forms import ReasonForm
from prolotrack.domain.reasons import SESSION_CANCEL_REASONS
from prolotrack.patients import queries as patient_queries
from prolotrack.patients.models import Patient

# Free slots are offered a week at a time; at most this many, so a wide-open week stays a readable page.
DAYS_SHOWN = 7
MAX_SLOTS = 120


def _slot_value(slot: queries.FreeSlot) -> str:
    return f"{slot.start.isoformat()}|{slot.clinician.uuid}"


def _parse_slot(text: str, clinicians: list[User]) -> tuple[datetime, User] | None:
    start_text, _, who = (text or "").partition("|")
    try:
        start = datetime.fromisoformat(start_text)
    except ValueError:
        return None
    person = next((c for c in clinicians if str(c.uuid) == who), None)
    if person is None or timezone.is_naive(start):
        return None
    return start, person


def _by_day(slots: list[queries.FreeSlot], tz: Any) -> list[tuple[date, list[tuple[str, str, Any]]]]:
    """Slots grouped by local day: (value, local time, clinician)."""
    days: dict[date, list[tuple[str, str, Any]]] = defaultdict(list)
    for s in slots:
        local = timezone.localtime(s.start, tz)
        days[local.date()].append((_slot_value(s), local.strftime("%H:%M %Z"), s.clinician))
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
    chosen = _parse_slot(request.POST.get("slot", ""), asked.offering)
    if asked.kind is None or asked.patient is None or chosen is None:
        return "Choose a patient, a type and one of the free slots.", []
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
    local = timezone.localtime(made.starts_at, request.clinic.tz)
    messages.success(
        request, f"{asked.kind.name} booked for {asked.patient} with {made.clinician} on {local:%a %Y-%m-%d %H:%M}."
    )
    return redirect(reverse("booking:appointment", kwargs={"appointment_uuid": made.uuid}))


def _book_context(request: ClinicRequest, asked: Asked, error: str, instead: list[queries.FreeSlot]) -> dict[str, Any]:
    last = asked.first + timedelta(days=DAYS_SHOWN - 1)
    slots = (
        queries.free_slots(request.clinic, asked.kind, asked.first, last, clinician=asked.clinician, limit=MAX_SLOTS)
        if asked.kind
        else []
    )
    keep = {
        "type": str(asked.kind.uuid) if asked.kind else "",
        "clinician": str(asked.clinician.uuid) if asked.clinician else "",
    }
    if asked.patient:
        keep["patient"] = str(asked.patient.uuid)
    return {
        **vars(asked),
        "last": last,
        "previous": asked.first - timedelta(days=DAYS_SHOWN),
        "following": asked.first + timedelta(days=DAYS_SHOWN),
        "keep": urlencode(keep),
        "days": _by_day(slots, request.clinic.tz),
        "capped": len(slots) >= MAX_SLOTS,
        # Name the clinician on each slot only when the slots are of several clinicians.
        "several": asked.clinician is None and len(asked.offering) > 1,
        "instead": _by_day(instead, request.clinic.tz),
        "error": error,
        "note": request.POST.get("note", "") if request.method == "POST" else "",
    }


@require(Permission.SCHEDULE_MANAGE)
def book(request: ClinicRequest) -> HttpResponse:
    asked = _asked(request)
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
    chosen = _parse_slot(
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
    last = first + timedelta(days=DAYS_SHOWN - 1)
    slots = queries.free_slots(clinic, visit.appointment_type, first, last, limit=MAX_SLOTS) if movable else []
    context = {
        "visit": visit,
        "movable": movable,
        "days": _by_day(slots, clinic.tz),
        "instead": _by_day(instead, clinic.tz),
        "first": first,
        "previous": first - timedelta(days=DAYS_SHOWN),
        "following": first + timedelta(days=DAYS_SHOWN),
        "error": error,
        "problem": problem,
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
