"""The front desk's online bookers (docs/BOOKING.md, "Pending patients"): the queue, the person beside the patients the
duplicate check finds, and the three ways out (confirm as new, merge, reject), each on the confirmation page."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from prolotrack.audit.services import record_disclosure
from prolotrack.booking import pending as service
from prolotrack.booking.forms import ConfirmPendingForm, MergePendingForm
from prolotrack.booking.models import PendingStatus
from prolotrack.booking.views.common import REFUSALS, found
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import ReasonForm, apply_errors
from prolotrack.domain.reasons import PENDING_REJECT_REASONS


@require(Permission.BOOKING_PENDING)
def waiting(request: ClinicRequest) -> HttpResponse:
    return render(request, "booking/pending_list.html", {"people": service.waiting(request.clinic)})


@require(Permission.BOOKING_PENDING)
def person(request: ClinicRequest, pending_uuid: Any) -> HttpResponse:
    booker = found(service.pending_patient, request.clinic, pending_uuid)
    shown = service.candidates(request.clinic, booker) if booker.status == PendingStatus.PENDING else []
    q = request.GET.get("q", "").strip()
    searched = service.searched(request.clinic, booker, q, shown)
    # The trail names every patient the page sets beside the person (one event each, one insert), or nobody.
    detail = {"pending": str(booker.uuid), "search": q[:100]}
    record_disclosure(
        actor_for(request), "booking.pending.viewed", [c.patient for c in shown + searched], detail=detail
    )
    context = {
        "booker": booker,
        "open": booker.status == PendingStatus.PENDING,
        "candidates": shown,
        "rows": service.compared(booker, shown),
        "searched": searched,
        "q": q,
        "strong": any(c.strong for c in shown),
    }
    return render(request, "booking/pending_person.html", context)


def _step(request: ClinicRequest, booker: Any, title: str, **context: Any) -> HttpResponse:
    """The shared confirmation page (core/confirm.html) of an action on an online booker."""
    back = reverse("booking:pending-person", args=[booker.uuid])
    form = context["form"]
    page = {
        "title": title,
        "crumbs": [(reverse("booking:pending"), "Online bookings"), (back, booker.full_name)],
        "record": f"{booker.full_name}, born {booker.date_of_birth:%Y-%m-%d}, booked online",
        "back_url": back,
        "already": ""
        if booker.status == PendingStatus.PENDING
        else f"Already done: {booker.get_status_display().lower()}. {booker.resolution_note}",
        **context,
    }
    return render(request, "core/confirm.html", page, status=400 if form.errors else 200)


def _visits(request: ClinicRequest, booker: Any, *, open_only: bool = False) -> list[str]:
    """The person's appointments in words, in the clinic's time."""
    return [
        f"{a.appointment_type.name}, {timezone.localtime(a.starts_at, request.clinic.tz):%a %Y-%m-%d %H:%M %Z}, "
        f"with {a.clinician} ({a.get_status_display().lower()})"
        for a in booker.booked
        if not open_only or a.status in service.OPEN
    ]


@require(Permission.BOOKING_PENDING)
def confirm(request: ClinicRequest, pending_uuid: Any) -> HttpResponse:
    booker = found(service.pending_patient, request.clinic, pending_uuid)
    strong = [c for c in service.candidates(request.clinic, booker) if c.strong]
    form = ConfirmPendingForm(request.POST or None, strong=bool(strong), initial={"version": booker.version})
    if request.method == "POST" and form.is_valid():
        try:
            patient = service.confirm_pending(
                actor_for(request),
                booker,
                sex=form.cleaned_data["sex"],
                not_a_duplicate=form.cleaned_data.get("not_a_duplicate", False),
                expected_version=form.cleaned_data["version"],
            )
        except REFUSALS as refused:
            apply_errors(form, refused)
        else:
            messages.success(request, f"{patient.full_name} registered as {patient.mrn}.")
            return redirect("patients:chart", patient.uuid)
    changes = [
        f"A new patient is registered: {booker.given_name} {booker.family_name}, born {booker.date_of_birth:%Y-%m-%d},"
        f" email {booker.email or '(none)'}, phone {booker.phone or '(none)'}, language {booker.preferred_language},"
        " with the next record number.",
        *(f"Moves to the new chart: {v}." for v in _visits(request, booker)),
    ]
    if strong:
        changes.append(f"The check finds {len(strong)} strong match(es): merging may be the right step instead.")
    return _step(request, booker, "Confirm as a new patient", form=form, changes=changes, button="Register")


@require(Permission.BOOKING_PENDING)
def merge(request: ClinicRequest, pending_uuid: Any, patient_uuid: Any) -> HttpResponse:
    booker = found(service.pending_patient, request.clinic, pending_uuid)
    patient = found(service.merge_target, request.clinic, patient_uuid)
    offer = {n: getattr(booker, n) for n in ("email", "phone") if getattr(booker, n) and not getattr(patient, n)}
    initial = {"version": booker.version, "patient_version": patient.version}
    form = MergePendingForm(request.POST or None, offer=offer, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            service.merge_pending(
                actor_for(request), booker, patient, add_email=data.get("add_email", False),
                add_phone=data.get("add_phone", False), expected_version=data["version"],
                patient_version=data["patient_version"],
            )  # fmt: skip
        except REFUSALS as refused:
            apply_errors(form, refused)
        else:
            messages.success(request, f"{booker.full_name}'s booking merged into {patient.full_name}'s chart.")
            return redirect("patients:chart", patient.uuid)
    changes = [f"Moves to {patient.full_name}'s chart: {v}." for v in _visits(request, booker)]
    keeps = [
        "The chart keeps its own details; only what you tick is added.",
        *service.differences(booker, patient),
    ]
    title = f"Merge into {patient.full_name} ({patient.mrn})"
    return _step(request, booker, title, form=form, changes=changes, keeps=keeps, button="Merge")


@require(Permission.BOOKING_PENDING)
def reject(request: ClinicRequest, pending_uuid: Any) -> HttpResponse:
    booker = found(service.pending_patient, request.clinic, pending_uuid)
    form = ReasonForm(request.POST or None, reasons=PENDING_REJECT_REASONS, initial={"version": booker.version})
    if request.method == "POST" and form.is_valid():
        try:
            service.reject_pending(
                actor_for(request), booker, reason=form.cleaned_data["reason"],
                details=form.cleaned_data["details"], expected_version=form.cleaned_data["version"],
            )  # fmt: skip
        except REFUSALS as refused:
            apply_errors(form, refused)
        else:
            messages.success(request, f"{booker.full_name}'s online booking rejected; the appointments are cancelled.")
            return redirect("booking:pending")
    changes = [f"Cancelled with the reason: {v}." for v in _visits(request, booker, open_only=True)]
    keeps = ["No chart is made or changed. The person and the cancelled appointments stay on record."]
    return _step(request, booker, "Reject the online booking", form=form, changes=changes, keeps=keeps, button="Reject")
