"""Research export pages: start an export, watch its progress (HTMX polling), download the zip.

Thin: parse, check the role's permission, look jobs up inside request.clinic (another clinic's job is a 404), call the
service, render. Bad filters are shown next to their field and nothing is queued.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from prolotrack.audit.services import ServiceError
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import can, require
from prolotrack.core.forms import apply_errors
from prolotrack.domain.deidentify import SAFE_HARBOR_IDENTIFIERS
from prolotrack.research import queries, services
from prolotrack.research.api import zip_response
from prolotrack.research.forms import AgreementForm, ExportForm
from prolotrack.research.models import DataUseAgreement, ExportJob


def _job_or_404(request: ClinicRequest, job_uuid: Any) -> ExportJob:
    try:
        return queries.get_job(request.clinic, job_uuid)
    except ExportJob.DoesNotExist:
        raise Http404("No such research export in this clinic.") from None


@require(Permission.RESEARCH_EXPORT)
@require_http_methods(["GET", "POST"])
def exports(request: ClinicRequest) -> HttpResponse:
    clinic = request.clinic
    services.purge_expired(clinic)
    agreements = queries.active_agreements(clinic)
    form = ExportForm(request.POST if request.method == "POST" else None, agreements=agreements)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.start_export(actor_for(request), services.ExportRequest(**form.cleaned_data))
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Export started. This page shows its progress.")
            return redirect("research:export", job.uuid)
    context = {
        "form": form,
        "jobs": queries.clinic_jobs(clinic),
        "consenting": queries.consenting_patients(clinic).count(),
        "agreements": agreements,
        "can_manage": can(request, Permission.CLINIC_MANAGE),
        "identifiers": SAFE_HARBOR_IDENTIFIERS,
        "keep_hours": services.KEEP_HOURS,
    }
    return render(request, "research/exports.html", context, status=400 if form.errors else 200)


@require(Permission.RESEARCH_EXPORT)
def export_detail(request: ClinicRequest, job_uuid: Any) -> HttpResponse:
    job = _job_or_404(request, job_uuid)
    return render(request, "research/export.html", {"job": job, "keep_hours": services.KEEP_HOURS})


@require(Permission.RESEARCH_EXPORT)
def export_status(request: ClinicRequest, job_uuid: Any) -> HttpResponse:
    """The progress box; while the job runs it asks to be fetched again (hx-trigger every second)."""
    services.purge_expired(request.clinic)
    job = _job_or_404(request, job_uuid)
    return render(request, "research/_status.html", {"job": job, "keep_hours": services.KEEP_HOURS})


@require(Permission.RESEARCH_EXPORT)
def export_download(request: ClinicRequest, job_uuid: Any) -> HttpResponseBase:
    job = _job_or_404(request, job_uuid)
    try:
        handle = services.open_download(actor_for(request), job)
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect("research:export", job.uuid)
    return zip_response(job, handle)


@require(Permission.CLINIC_MANAGE)
@require_http_methods(["GET", "POST"])
def agreements(request: ClinicRequest) -> HttpResponse:
    """Data use agreements: an administrator records one (or ends one); exports under one are limited data sets."""
    clinic = request.clinic
    form = AgreementForm(request.POST if request.method == "POST" and "end" not in request.POST else None)
    if request.method == "POST" and "end" in request.POST:
        try:
            agreement = queries.get_agreement(clinic, request.POST["end"])
            services.end_agreement(actor_for(request), agreement)
        except (DataUseAgreement.DoesNotExist, ValidationError):
            raise Http404("No such agreement in this clinic.") from None
        except ServiceError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Agreement “{agreement.study}” ended.")
        return redirect("research:agreements")
    if request.method == "POST" and form.is_valid():
        try:
            services.record_agreement(actor_for(request), services.AgreementRequest(**form.cleaned_data))
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Data use agreement recorded.")
            return redirect("research:agreements")
    context = {"form": form, "agreements": queries.clinic_agreements(clinic)}
    return render(request, "research/agreements.html", context, status=400 if form.errors else 200)
