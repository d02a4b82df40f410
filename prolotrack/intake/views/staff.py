"""Staff pages of the intake: send it from an appointment or the chart, and review it on the chart side by side with
what the chart holds, item by item (docs/INTAKE.md). Staff pages stay English."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.audit.services import ServiceError, record_read
from prolotrack.booking.models import Appointment
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import can, require
from prolotrack.core.site import site_url
from prolotrack.domain.errors import DomainError
from prolotrack.domain.intake import ItemKind
from prolotrack.domain.vocabulary import ReviewDecision
from prolotrack.intake import queries, services
from prolotrack.intake.models import Intake, IntakeDelivery
from prolotrack.patients import forms as patient_forms
from prolotrack.patients.models import Patient
from prolotrack.patients.queries import patient_or_404

REFUSALS = (ValidationError, ServiceError, DomainError)
EDIT_FORMS: dict[str, Any] = {
    ItemKind.CONDITION.value: patient_forms.ConditionForm,
    ItemKind.MEDICATION.value: patient_forms.MedicationForm,
    ItemKind.ALLERGY.value: patient_forms.AllergyForm,
    ItemKind.WEIGHT.value: patient_forms.WeightForm,
}


def _messages(error: Exception) -> list[str]:
    return list(getattr(error, "messages", None) or [str(error)])


def _appointment_or_404(request: ClinicRequest, appointment_uuid: Any) -> Appointment:
    try:
        return queries.appointment(request.clinic, appointment_uuid)
    except (ObjectDoesNotExist, ValidationError):
        raise Http404("No such appointment in this clinic.") from None


def _intake_or_404(request: ClinicRequest, patient: Patient, intake_uuid: Any) -> Intake:
    try:
        intake = queries.get_intake(request.clinic, intake_uuid)
    except (ObjectDoesNotExist, ValidationError):
        raise Http404("No such intake in this clinic.") from None
    if services.review_patient(intake) != patient:
        raise Http404("No such intake for this patient.")
    return intake


def _send(request: ClinicRequest, appointment: Appointment) -> tuple[str, str]:
    """Send from a POST: ("", the link shown once) or (the refusal, "")."""
    delivery = request.POST.get("delivery", IntakeDelivery.EMAIL)
    try:
        _intake, path = services.request_intake(actor_for(request), appointment, delivery=delivery)
    except REFUSALS as error:
        return " ".join(_messages(error)), ""
    return "", site_url(path) if path else ""


@require(Permission.OUTCOMES_COLLECT)
@require_http_methods(["GET", "POST"])
def appointment_intake(request: ClinicRequest, appointment_uuid: Any) -> HttpResponse:
    appointment = _appointment_or_404(request, appointment_uuid)
    error, shown = "", ""
    if request.method == "POST":
        error, shown = _send(request, appointment)
        if not error and not shown:
            messages.success(request, "The intake link is queued in the outbox; it goes out with the next pass.")
            return redirect("intake:appointment", appointment_uuid=appointment.uuid)
    patient = appointment.patient
    return render(
        request,
        "intake/appointment.html",
        {
            "appointment": appointment,
            "patient": patient,
            "intakes": list(queries.appointment_intakes(appointment)),
            "error": error,
            "shown": shown,
        },
        status=400 if error else 200,
    )


@require(Permission.PATIENT_VIEW_CLINICAL)
def patient_intakes(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "intake.list.viewed", record=patient, patient_uuid=patient.uuid)
    upcoming = queries.upcoming_appointments(patient)
    return render(
        request,
        "intake/patient.html",
        {"patient": patient, "intakes": list(queries.patient_intakes(patient)), "upcoming": upcoming},
    )


def _review_page(
    request: ClinicRequest,
    patient: Patient,
    intake: Intake,
    *,
    errors: dict[str, list[str]] | None = None,
    edit: tuple[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = queries.item_rows(intake)
    may_decide = can(request, Permission.PATIENT_EDIT_CLINICAL) and intake.status == "submitted"
    for row in rows:
        kind = row.item.kind.value
        row.errors = (errors or {}).get(row.item.key, [])
        if edit is not None and edit[0] == row.item.key:
            row.form = edit[1]
        elif kind in EDIT_FORMS and row.decision is None and may_decide:
            row.form = EDIT_FORMS[kind](initial=dict(row.item.values), prefix="edit")
    return render(
        request,
        "intake/review.html",
        {
            "patient": patient,
            "intake": intake,
            "rows": rows,
            "chart": queries.chart_now(patient),
            "may_decide": may_decide,
        },
        status=status,
    )


@require(Permission.PATIENT_VIEW_CLINICAL)
def review(request: ClinicRequest, patient_uuid: Any, intake_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    intake = _intake_or_404(request, patient, intake_uuid)
    record_read(actor_for(request), "intake.viewed", record=intake, patient_uuid=patient.uuid)
    return _review_page(request, patient, intake)


@require(Permission.PATIENT_EDIT_CLINICAL)
@require_POST
def decide(request: ClinicRequest, patient_uuid: Any, intake_uuid: Any, key: str) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    intake = _intake_or_404(request, patient, intake_uuid)
    decision = request.POST.get("decision", "")
    values: dict[str, Any] | None = None
    edit_form = None
    item = next((i for i in queries.items(intake) if i.key == key), None)
    if item is None:
        raise Http404("No such item in this intake.")
    if decision == ReviewDecision.EDITED and item.kind.value in EDIT_FORMS:
        edit_form = EDIT_FORMS[item.kind.value](request.POST, prefix="edit")
        if not edit_form.is_valid():
            return _review_page(request, patient, intake, edit=(key, edit_form), status=400)
        values = edit_form.changes()
    try:
        services.decide(actor_for(request), intake, key, decision, values=values, reason=request.POST.get("reason", ""))
    except REFUSALS as error:
        found = getattr(error, "message_dict", None)
        if edit_form is not None and found:
            for field, problems in found.items():
                edit_form.add_error(field if field in edit_form.fields else None, problems)
            return _review_page(request, patient, intake, edit=(key, edit_form), status=400)
        return _review_page(request, patient, intake, errors={key: _messages(error)}, status=400)
    messages.success(request, f"{item.summary}: {ReviewDecision(decision).label.lower()}.")
    return redirect("intake:review", patient_uuid=patient.uuid, intake_uuid=intake.uuid)
