"""A patient's coverage and a course's Medicare ABN (form CMS-R-131): the pages (docs/BILLING.md, "Medicare ABN")."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from prolotrack.audit.integrity import IntegrityMismatch, verified
from prolotrack.audit.services import record_read
from prolotrack.billing import queries, services
from prolotrack.billing.forms import AbnSignForm, CoverageForm, HealthChangeForm
from prolotrack.billing.views.common import REFUSALS, posted
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors
from prolotrack.domain.abn import mask_member_id
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment.queries import course_or_404


@require(Permission.BILLING_ABN)
@require_http_methods(["GET", "POST"])
def coverage(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    """Record who pays: a new coverage row each time (the newest is the patient's)."""
    patient = patient_or_404(request, patient_uuid)
    current = queries.current_coverage(patient)
    initial = {"payer": current.payer, "payer_name": current.payer_name} if current else {"payer": "self_pay"}
    form = CoverageForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_coverage(actor_for(request), patient, **form.cleaned_data)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Coverage recorded.")
            return redirect("billing:account", patient_uuid=patient.uuid)
    history = [(c, mask_member_id(c.member_id)) for c in queries.coverages_of(patient)]
    return render(request, "billing/abn/coverage.html", {"patient": patient, "form": form, "history": history})


@require(Permission.BILLING_VIEW)
def abn_course(request: ClinicRequest, course_uuid: Any) -> HttpResponse:
    """The course's ABN: whether one is needed, the ones on file, and the notice to read and sign."""
    course = course_or_404(request, course_uuid)
    draft = queries.abn_draft(course)
    return _course_page(request, course, draft, AbnSignForm(initial={"text_sha256": draft.sha256}))


@require(Permission.BILLING_ABN)
@require_http_methods(["POST"])
def abn_sign(request: ClinicRequest, course_uuid: Any) -> HttpResponse:
    """The patient's option and signature: the ABN is stored with its PDF, or the page comes back with what to fix."""
    course = course_or_404(request, course_uuid)
    draft = queries.abn_draft(course)
    form = AbnSignForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.sign_abn(
                actor_for(request),
                course,
                text_sha256=data["text_sha256"],
                option=data["option"],
                signer_name=data["signer_name"],
                signature=data["signature"],
                additional=data["additional"],
            )
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "ABN signed and stored as a PDF. Give the patient a copy (print it).")
            return redirect("billing:abn-course", course_uuid=course.uuid)
    return _course_page(request, course, draft, form, status=422)


def _course_page(
    request: ClinicRequest, course: Any, draft: queries.AbnDraft, form: AbnSignForm, status: int = 200
) -> HttpResponse:
    actor = actor_for(request)
    record_read(actor, "billing.abn.viewed", record=course, patient_uuid=course.patient.uuid)
    coverage = queries.current_coverage(course.patient)
    context = {
        "course": course,
        "patient": course.patient,
        "gate": queries.abn_gate(course),
        "coverage": coverage,
        "member_id": mask_member_id(coverage.member_id) if coverage else "",
        "draft": draft,
        "notices": queries.notices_of(course),
        "form": form,
        "health_form": HealthChangeForm(),
        "d_header": queries.ABN_D_HEADER,
        "today": services.clinic_today(course.clinic),
    }
    return render(request, "billing/abn/course.html", context, status=status)


@require(Permission.BILLING_ABN)
@require_http_methods(["POST"])
def abn_health_change(request: ClinicRequest, notice_uuid: Any) -> HttpResponse:
    notice = queries.notice_or_404(request, notice_uuid)
    form = HealthChangeForm(request.POST)
    if form.is_valid():
        try:
            services.record_health_change(actor_for(request), notice, reason=form.cleaned_data["reason"])
        except REFUSALS as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Change of health status recorded: a new ABN is needed before the next session.")
    else:
        messages.error(request, " ".join(str(e) for e in form.errors.get("reason", ["Say what changed."])))
    return redirect("billing:abn-course", course_uuid=notice.course.uuid)


@require(Permission.BILLING_VIEW)
def abn_pdf(request: ClinicRequest, notice_uuid: Any) -> HttpResponse:
    """The signed ABN, byte for byte as stored, checked against its SHA-256 before it is served."""
    notice = queries.notice_or_404(request, notice_uuid)
    if not notice.has_pdf or not notice.pdf_sha256:
        raise Http404("This ABN has no stored PDF.")
    actor = actor_for(request)
    try:
        data = notice.pdf_content or b""
    except OSError:
        raise Http404("The stored PDF cannot be found; tell the clinic administrator.") from None
    try:
        verified(data, notice.pdf_sha256, actor=actor, record=notice, what="Medicare ABN PDF")
    except IntegrityMismatch as error:
        context = {"message": str(error), "record": notice, "title": "Document not served"}
        return render(request, "documents/not_ready.html", context, status=409)
    record_read(actor, "billing.abn.downloaded", record=notice)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="abn-{notice.uuid}.pdf"'
    response["X-Content-SHA256"] = notice.pdf_sha256
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
