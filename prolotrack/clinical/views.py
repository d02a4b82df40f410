"""Clinical pages: the bedside calculator, screening for a procedure, protocol templates.

Thin: parse, check access, call the domain or a service, render. Calculator forms answer HTMX requests with the
result panel and the field messages (out of band), and a plain POST with the whole page, so they work without
JavaScript too.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.audit.services import ServiceError, record_read
from prolotrack.clinical import calculators, planning, present, queries, services
from prolotrack.clinical.forms import LimitForm, MixForm, OverrideForm, ProtocolForm, ScreeningForm
from prolotrack.clinical.models import ProtocolTemplate, ScreeningRecord
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core import entered_in_error
from prolotrack.core.access import require
from prolotrack.domain.errors import DomainError
from prolotrack.domain.screening import Severity
from prolotrack.patients import queries as patient_queries
from prolotrack.patients.models import Patient
from prolotrack.patients.queries import patient_or_404

# --- Calculator ----------------------------------------------------------------------------------------------


def _mix(form: MixForm, *, live: bool) -> tuple[dict[str, Any] | None, list[str]]:
    """The recipe as display values, or None; in live mode, what is still missing instead of 'required' errors."""
    if not form.is_valid():
        return None, []
    request = form.request()
    if live:
        missing = [str(form.fields[name].label) for name in request.missing()]  # every MixForm field has a label
        if missing:
            return None, missing
    try:
        return present.mix_json(calculators.mix_solution(request)), []
    except calculators.CalculatorError as error:
        form.apply(error)
        return None, []


def _limit(request: ClinicRequest, form: LimitForm, *, live: bool) -> tuple[dict[str, Any] | None, list[str]]:
    if not form.is_valid():
        return None, []
    question = form.request()
    if live and question.weight_kg is None:
        return None, [str(form.fields["weight_kg"].label)]
    try:
        answer = calculators.anaesthetic_limit(question, request.clinic.config.anaesthetic_warn_fraction)
    except calculators.CalculatorError as error:
        form.apply(error)
        return None, []
    return present.limit_json(answer), []


def _calculator_page(request: ClinicRequest, status: int = 200, **context: Any) -> HttpResponse:
    context.setdefault("mix_form", MixForm())
    context.setdefault("limit_form", LimitForm())
    context["warn_percent"] = request.clinic.config.anaesthetic_warn_fraction * 100
    return render(request, "clinical/calculator.html", context, status=status)


@require(Permission.CALCULATOR_USE)
def calculator(request: ClinicRequest) -> HttpResponse:
    return _calculator_page(request)


@require(Permission.CALCULATOR_USE)
@require_POST
def calculator_mix(request: ClinicRequest) -> HttpResponse:
    form = MixForm(request.POST)
    live = bool(request.htmx)
    mix, missing = _mix(form, live=live)
    if live:
        # 200 even with errors: HTMX swaps only successful responses, and the messages are the content.
        return render(request, "clinical/_mix_result.html", {"mix": mix, "missing": missing, "form": form, "oob": True})
    return _calculator_page(request, status=400 if form.errors else 200, mix_form=form, mix=mix)


@require(Permission.CALCULATOR_USE)
@require_POST
def calculator_limit(request: ClinicRequest) -> HttpResponse:
    form = LimitForm(request.POST)
    live = bool(request.htmx)
    limit, missing = _limit(request, form, live=live)
    if live:
        return render(
            request, "clinical/_limit_result.html", {"limit": limit, "missing": missing, "form": form, "oob": True}
        )
    return _calculator_page(request, status=400 if form.errors else 200, limit_form=form, limit=limit)


# --- Screening -----------------------------------------------------------------------------------------------


def _screening_or_404(request: ClinicRequest, patient: Patient, screening_uuid: Any) -> ScreeningRecord:
    try:
        return queries.get_screening(request.clinic, screening_uuid, patient)
    except ScreeningRecord.DoesNotExist:
        raise Http404("No such screening for this patient.") from None


def _screen(actor: Any, patient: Any, form: ScreeningForm) -> Any:
    """Screen the patient for the procedure the form plans; a refusal goes on the form and gives None."""
    data = form.cleaned_data
    try:
        procedure = planning.planned_procedure(
            day=data["procedure_date"],
            region=data["region"],
            side=data["side"],
            site=data["site_description"],
            agents=data["agents"],
            sedation=data["sedation"],
        )
        return services.screen_patient(
            actor, patient, procedure, day_of_flags=data["day_of_flags"], pregnancy=data["pregnancy"]
        )
    except (DomainError, ServiceError, ValidationError) as error:
        form.add_error(None, getattr(error, "messages", None) or str(error))
    return None


@require(Permission.SCREENING_RUN)
@require_http_methods(["GET", "POST"])
def screening_new(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    actor = actor_for(request)
    today = queries.clinic_today(request.clinic)
    initial = {"procedure_date": today, "pregnancy": "not_applicable" if patient.sex == "male" else "unknown"}
    form = ScreeningForm(request.POST or None, initial=initial)
    screening = _screen(actor, patient, form) if request.method == "POST" and form.is_valid() else None
    if screening is not None:
        return redirect("clinical:screening-detail", patient_uuid=patient.uuid, screening_uuid=screening.uuid)
    record_read(actor, "patient.screening_facts.viewed", record=patient, patient_uuid=patient.uuid)
    chart = queries.registry_facts(
        patient,
        frozenset(),
        None,
        procedure_date=today,
        lookback_days=services.screening_settings(patient.clinic).medication_lookback_days,
    )
    return render(
        request,
        "clinical/screening_form.html",
        {
            "patient": patient,
            "form": form,
            "facts": chart.snapshot,
            "nsaid_stop_days": request.clinic.config.nsaid_stop_days,
        },
        status=400 if form.errors else 200,
    )


SEVERITY_GROUPS = (
    (Severity.CONTRAINDICATION, "Contraindications", "contraindication"),
    (Severity.CAUTION, "Cautions", "caution"),
    (Severity.INSTRUCTION, "Instructions for the patient and the team", "instruction"),
)


def _screening_page(
    request: HttpRequest,
    patient: Patient,
    screening: ScreeningRecord,
    *,
    override_form: OverrideForm | None = None,
    status: int = 200,
) -> HttpResponse:
    data = present.screening_record_json(screening)
    if override_form is not None:
        # Show the refused reason and its message on the finding it was typed for.
        errors = [e for messages in override_form.errors.values() for e in messages]
        for finding in data["findings"]:
            if finding["code"] == override_form.data.get("code"):
                finding["errors"] = errors
                finding["typed"] = override_form.data.get("reason", "")
    groups = [
        {"title": title, "css": css, "findings": [f for f in data["findings"] if f["severity"] == severity.value]}
        for severity, title, css in SEVERITY_GROUPS
    ]
    return render(
        request,
        "clinical/screening_result.html",
        {
            "patient": patient,
            "screening": screening,
            "data": data,
            "groups": groups,
        },
        status=status,
    )


@require(Permission.SCREENING_RUN)
def screening_detail(request: ClinicRequest, patient_uuid: Any, screening_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    screening = _screening_or_404(request, patient, screening_uuid)
    record_read(actor_for(request), "screening.viewed", record=screening, patient_uuid=patient.uuid)
    return _screening_page(request, patient, screening)


@require(Permission.SCREENING_OVERRIDE)
@require_POST
def screening_override(request: ClinicRequest, patient_uuid: Any, screening_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    screening = _screening_or_404(request, patient, screening_uuid)
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            services.override_finding(
                actor_for(request),
                screening,
                form.cleaned_data["code"],
                form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except (DomainError, ServiceError, ValidationError) as error:
            form.add_error("reason", getattr(error, "messages", None) or str(error))
        else:
            messages.success(request, "Override recorded with your reason. It is kept with the screening.")
            return redirect("clinical:screening-detail", patient_uuid=patient.uuid, screening_uuid=screening.uuid)
    screening = _screening_or_404(request, patient, screening_uuid)
    return _screening_page(request, patient, screening, override_form=form, status=400)


# --- Protocols -----------------------------------------------------------------------------------------------


def _entry_or_404(request: ClinicRequest, protocol_id: str) -> queries.ProtocolEntry:
    try:
        return queries.find_protocol(request.clinic, protocol_id)
    except queries.ProtocolNotFound:
        raise Http404("No such protocol template.") from None


def _preview(request: ClinicRequest, entry: queries.ProtocolEntry | None) -> dict[str, Any]:
    """The schedule preview asked for in the query string (?start=YYYY-MM-DD), or why there is none."""
    start_text = request.GET.get("start", "").strip()
    today = queries.clinic_today(request.clinic)
    context: dict[str, Any] = {"start": start_text or today.isoformat(), "plan": None, "preview_error": ""}
    if entry is None:
        return context
    # Without a date the preview starts today, so the page is useful at once.
    start = patient_queries.parse_date(start_text) if start_text else today
    if start is None:
        context["preview_error"] = f"'{start_text}' is not a date: use YYYY-MM-DD."
        return context
    try:
        plan, settings = planning.course_schedule(request.clinic, entry, start)
    except DomainError as error:
        context["preview_error"] = str(error)
        return context
    context["plan"] = present.schedule_json(entry, plan, settings)
    return context


@require(Permission.PROTOCOL_VIEW)
def protocol_list(request: ClinicRequest) -> HttpResponse:
    entries = queries.list_protocols(request.clinic, include_inactive=True)
    chosen = request.GET.get("protocol", "")
    entry = next((e for e in entries if e.id == chosen), None)
    context = {
        "builtin": [e for e in entries if e.builtin],
        "own": [e for e in entries if not e.builtin],
        "chosen": chosen,
        **_preview(request, entry),
    }
    if chosen and entry is None:
        context["preview_error"] = "Choose a template from the list."
    if request.htmx and not request.htmx.boosted:
        return render(request, "clinical/_schedule.html", context)
    return render(request, "clinical/protocols.html", context)


@require(Permission.PROTOCOL_VIEW)
def protocol_detail(request: ClinicRequest, protocol_id: str) -> HttpResponse:
    entry = _entry_or_404(request, protocol_id)
    context = {
        "entry": entry,
        "data": present.protocol_json(entry),
        **_preview(request, entry),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "clinical/_schedule.html", context)
    return render(request, "clinical/protocol_detail.html", context)


def _record_or_404(request: ClinicRequest, template_uuid: Any) -> ProtocolTemplate:
    try:
        return queries.template_record(request.clinic, template_uuid)
    except ProtocolTemplate.DoesNotExist:
        raise Http404("No such protocol template in this clinic.") from None


@require(Permission.PROTOCOL_MANAGE)
@require_http_methods(["GET", "POST"])
def protocol_create(request: ClinicRequest) -> HttpResponse:
    initial: dict[str, Any] = {"session_unit": "weeks", "planned_sessions": "0"}
    source_id = request.GET.get("from", "")
    if source_id:
        entry = _entry_or_404(request, source_id)
        values = present.protocol_json(entry)
        values["notes"] = "\n".join(values["notes"])
        if entry.builtin:
            values["based_on"] = entry.id
            values["code"] = f"{entry.id}_ours"
            values["name"] = f"{values['name']} (our version)"
        else:
            values["code"] = f"{values['code']}_copy"
            values["name"] = f"{values['name']} (copy)"
        initial = ProtocolForm.initial_from(values)
    form = ProtocolForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.create_protocol(actor_for(request), form.values())
        except (ValidationError, ServiceError, DomainError) as error:
            form.apply(error)
        else:
            messages.success(request, f"Template '{record.name}' saved.")
            return redirect("clinical:protocol-detail", protocol_id=record.uuid)
    return render(
        request,
        "clinical/protocol_form.html",
        {"form": form, "title": "New protocol template", "copied_from": source_id},
        status=400 if form.errors else 200,
    )


@require(Permission.PROTOCOL_MANAGE)
@require_http_methods(["GET", "POST"])
def protocol_edit(request: ClinicRequest, template_uuid: Any) -> HttpResponse:
    record = _record_or_404(request, template_uuid)
    if record.is_entered_in_error:
        messages.error(request, "This template was marked entered in error and cannot be edited.")
        return redirect("clinical:protocol-detail", protocol_id=record.uuid)
    initial = ProtocolForm.initial_from({f: getattr(record, f) for f in services.PROTOCOL_FIELDS})
    initial["version"] = record.version
    form = ProtocolForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_protocol(
                actor_for(request),
                record,
                form.values(),
                expected_version=form.cleaned_data.get("version"),
                reason=form.cleaned_data.get("change_reason", ""),
            )
        except (ValidationError, ServiceError, DomainError) as error:
            form.apply(error)
        else:
            messages.success(request, "Template saved as a new version.")
            return redirect("clinical:protocol-detail", protocol_id=record.uuid)
    return render(
        request,
        "clinical/protocol_form.html",
        {"form": form, "record": record, "title": f"Edit {record.name}"},
        status=400 if form.errors else 200,
    )


@require(Permission.PROTOCOL_MANAGE)
@require_http_methods(["GET", "POST"])
def protocol_retire(request: ClinicRequest, template_uuid: Any) -> HttpResponse:
    record = _record_or_404(request, template_uuid)
    detail = reverse("clinical:protocol-detail", args=[record.uuid])

    def retire(reason: str, version: int) -> Any:
        return services.retire_protocol(actor_for(request), record, reason=reason, expected_version=version)

    page = entered_in_error.Page(
        what="protocol template", describe=record.name,
        crumbs=[(reverse("clinical:protocols"), "Protocols"), (detail, record.name)], back_url=detail,
        changes=["It is no longer offered for new courses; courses already opened from it keep their plan."],
        keeps=["Every version stays in its history. To stop offering a template that was correct, edit it and untick "
               "Active instead."],
    )  # fmt: skip
    return entered_in_error.flow(
        request, record, retire, done_url=reverse("clinical:protocols"),
        done="Marked as entered in error. It stays listed, struck through, with your reason.", page=lambda: page,
    )  # fmt: skip
