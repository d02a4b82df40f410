"""Registry pages: search, register, chart, edit. Thin: parse, check access, call the service, render."""

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.audit.services import ServiceError, export_disclosures, record_disclosure, record_read
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core import entered_in_error
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors, form_copy
from prolotrack.patients import queries, services
from prolotrack.patients.forms import CHILD_FORMS, PatientForm
from prolotrack.patients.models import Patient
from prolotrack.patients.queries import patient_or_404

CHILD_LABELS = {"weight": "weight", "condition": "condition", "medication": "medication", "allergy": "allergy"}


def _child_or_404(patient: Patient, kind: str, record_uuid: Any) -> Any:
    if kind not in services.CHILD_MODELS:
        raise Http404("Unknown record type.")
    try:
        return queries.get_child(patient, kind, record_uuid)
    except ObjectDoesNotExist:
        raise Http404("No such record on this patient.") from None


@require(Permission.PATIENT_LIST)
def patient_list(request: ClinicRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()
    results = queries.search_patients(request.clinic, text)
    page = queries.SearchPaginator(results, 25).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    # The trail names every patient the page shows (one event each, one insert), or nobody when none matched.
    detail = {"search": text[:100], "page": page.number}
    record_disclosure(actor_for(request), "patient.searched", page.object_list, detail=detail)
    context = {"page": page, "q": text}
    template = "patients/_results.html" if request.htmx and not request.htmx.boosted else "patients/list.html"
    return render(request, template, context)


@require(Permission.PATIENT_EDIT_DEMOGRAPHICS)
@require_http_methods(["GET", "POST"])
def patient_create(request: ClinicRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.create_patient(actor_for(request), form.changes())
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{patient.full_name} registered with record number {patient.mrn}.")
            return redirect("patients:chart", patient_uuid=patient.uuid)
    return render(
        request, "patients/form.html", {"form": form, "title": "Register a patient"}, status=400 if form.errors else 200
    )


@require(Permission.PATIENT_VIEW_DEMOGRAPHICS)
def patient_chart(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "patient.chart.viewed", record=patient, patient_uuid=patient.uuid)
    chart = queries.load_chart(patient)
    return render(request, "patients/chart.html", {"chart": chart, "patient": chart.patient})


@require(Permission.PATIENT_EDIT_DEMOGRAPHICS)
@require_http_methods(["GET", "POST"])
def patient_edit(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    if patient.is_entered_in_error:
        messages.error(request, "This patient record was marked entered in error and cannot be edited.")
        return redirect("patients:chart", patient_uuid=patient.uuid)
    form = PatientForm(request.POST or None, instance=form_copy(patient))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_patient(
                actor_for(request),
                patient,
                form.changes(),
                expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data.get("change_reason", ""),
            )
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Patient details saved.")
            return redirect("patients:chart", patient_uuid=patient.uuid)
    return render(
        request,
        "patients/form.html",
        {"form": form, "patient": patient, "title": f"Edit {patient.full_name}"},
        status=400 if form.errors else 200,
    )


@require(Permission.PATIENT_EDIT_CLINICAL)
@require_http_methods(["GET", "POST"])
def child_add(request: ClinicRequest, patient_uuid: Any, kind: str) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    if kind not in CHILD_FORMS:
        raise Http404("Unknown record type.")
    form = CHILD_FORMS[kind](request.POST or None, prefix=kind)
    context = {"form": form, "patient": patient, "kind": kind, "title": f"Add a {CHILD_LABELS[kind]}"}
    if request.method == "GET":
        template = "patients/_child_add_form.html" if request.htmx else "patients/child_form.html"
        return render(request, template, context)
    if form.is_valid():
        try:
            added = services.add_child(actor_for(request), patient, kind, form.changes())
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            if isinstance(added, Patient):
                # "NKA", "NKDA", "no known allergies": the chart's confirmation, not an allergy.
                messages.success(
                    request, "Recorded as \u201cno known allergies\u201d (asked and confirmed), not as an allergy."
                )
            else:
                messages.success(request, f"The {CHILD_LABELS[kind]} was added.")
            return redirect(f"/patients/{patient.uuid}/#{kind}")
    return render(request, "patients/child_form.html", context, status=400)


@require(Permission.PATIENT_EDIT_CLINICAL)
@require_POST
def no_known_allergies(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    version = request.POST.get("version", "")
    try:
        services.confirm_no_known_allergies(
            actor_for(request), patient, expected_version=int(version) if version.isdigit() else None
        )
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Recorded: no known allergies.")
    return redirect(f"/patients/{patient.uuid}/#allergy")


@require(Permission.PATIENT_EDIT_CLINICAL)
@require_http_methods(["GET", "POST"])
def child_edit(request: ClinicRequest, patient_uuid: Any, kind: str, record_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    record = _child_or_404(patient, kind, record_uuid)
    if record.is_entered_in_error:
        messages.error(request, "This record was marked entered in error and cannot be edited.")
        return redirect("patients:chart", patient_uuid=patient.uuid)
    form = CHILD_FORMS[kind](request.POST or None, instance=record)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_child(
                actor_for(request),
                record,
                kind,
                form.changes(),
                expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data.get("change_reason", ""),
            )
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"The {CHILD_LABELS[kind]} was updated.")
            return redirect(f"/patients/{patient.uuid}/#{kind}")
    return render(
        request,
        "patients/child_form.html",
        {"form": form, "patient": patient, "kind": kind, "record": record, "title": f"Edit {CHILD_LABELS[kind]}"},
        status=400 if form.errors else 200,
    )


@require(Permission.RECORD_MARK_ERROR)
@require_http_methods(["GET", "POST"])
def mark_error(request: ClinicRequest, patient_uuid: Any, kind: str = "", record_uuid: Any = None) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    record = _child_or_404(patient, kind, record_uuid) if kind else patient
    actor = actor_for(request)

    def retire(reason: str, version: int) -> Any:
        if kind:
            return services.retire_child(actor, record, kind, reason=reason, expected_version=version)
        return services.retire_patient(actor, record, reason=reason, expected_version=version)

    chart = reverse("patients:chart", args=[patient.uuid])
    page = entered_in_error.Page(
        what=CHILD_LABELS[kind] if kind else "patient record", describe=str(record), back_url=chart, patient=patient,
        changes=[] if kind else ["The patient is no longer found by search; the chart stays readable."],
        keeps=["To correct a detail, edit the record instead."],
    )  # fmt: skip
    return entered_in_error.flow(
        request, record, retire, done_url=chart if kind else reverse("patients:list"),
        done="Marked as entered in error. It stays in the record's history.", page=lambda: page,
    )  # fmt: skip


@require(Permission.RECORD_VIEW_HISTORY)
def patient_history(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "patient.history.viewed", record=patient, patient_uuid=patient.uuid)
    versions = queries.chart_history(patient)
    return render(request, "patients/history.html", {"patient": patient, "versions": versions})


@require(Permission.AUDIT_VIEW)
def patient_disclosures_csv(request: ClinicRequest, patient_uuid: object) -> HttpResponse:
    """The patient's accounting of disclosures as CSV (HIPAA 45 CFR 164.528): every audit event naming the patient.
    The export is audited first, so it lists itself. (Linked from the audit page; here because it is the patient's.)"""
    clinic = request.clinic
    patient = queries.clinic_patient(clinic, patient_uuid)
    if patient is None:
        raise Http404("No patient of this clinic has that id.")
    response = HttpResponse(export_disclosures(actor_for(request), patient), content_type="text/csv; charset=utf-8")
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", patient.mrn)
    day = timezone.localdate(timezone=clinic.tz).isoformat()
    response["Content-Disposition"] = f'attachment; filename="disclosures-{safe}-{day}.csv"'
    response["Cache-Control"] = "no-store"
    return response
