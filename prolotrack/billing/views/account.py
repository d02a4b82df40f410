"""A patient's account: the chart's card (HTMX) or its page; drafting invoices; taking a payment."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.audit.services import record_read
from prolotrack.billing import present, queries, services
from prolotrack.billing.forms import PaymentForm
from prolotrack.billing.views.common import REFUSALS, posted
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors
from prolotrack.domain.abn import mask_member_id
from prolotrack.patients.queries import patient_or_404


def abn_context(patient: Any) -> dict[str, Any]:
    """The account card's coverage line and the courses whose Medicare ABN is missing or out of date."""
    coverage = queries.current_coverage(patient)
    return {
        "coverage": coverage,
        "member_id": mask_member_id(coverage.member_id) if coverage else "",
        "abn_gates": queries.open_course_gates(patient),
    }


@require(Permission.BILLING_VIEW)
def account(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    """Balance, open invoices, credit, drafts, sessions to charge and history."""
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "billing.account.viewed", record=patient, patient_uuid=patient.uuid)
    context = {
        "patient": patient,
        "account": queries.account(patient),
        "to_charge": queries.sessions_to_charge(patient),
        **abn_context(patient),
        "packages": queries.packages_of(patient),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "billing/_account_card.html", context)
    return render(request, "billing/account.html", context)


@require(Permission.BILLING_INVOICE)
@require_POST
def invoice_new(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    try:
        invoice = services.draft_invoice(actor_for(request), patient)
    except REFUSALS as error:
        messages.error(request, str(error))
        return redirect("billing:account", patient_uuid=patient.uuid)
    return redirect("billing:invoice", invoice_uuid=invoice.uuid)


@require(Permission.BILLING_INVOICE)
@require_POST
def invoice_from_session(request: ClinicRequest, session_uuid: Any) -> HttpResponse:
    session = queries.session_or_404(request, session_uuid)
    try:
        invoice = services.draft_from_session(actor_for(request), session)
    except REFUSALS as error:
        messages.error(request, str(error))
        return redirect("billing:account", patient_uuid=session.patient.uuid)
    messages.success(request, f"Draft invoice for session {session.number}: check it, then issue it.")
    if invoice.note:
        messages.warning(request, invoice.note)  # a package that could not draw a use, and why
    if request.POST.get("then") == "checkout":
        return redirect("billing:checkout", invoice_uuid=invoice.uuid)
    return redirect("billing:invoice", invoice_uuid=invoice.uuid)


@require(Permission.BILLING_PAYMENT)
@require_http_methods(["GET", "POST"])
def payment_new(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    currency = request.clinic.config.currency
    form = PaymentForm(posted(request), invoices=queries.open_invoices(patient))
    if form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.record_payment(
                actor_for(request), patient, amount=data["amount"], currency=currency, method=data["method"],
                received_on=data["received_on"], reference=data["reference"], chosen=form.chosen(),
            )  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Payment of {present.money(payment.amount, currency)} recorded.")
            return redirect("billing:account", patient_uuid=patient.uuid)
    context = {"patient": patient, "form": form, "currency": currency, "account": queries.account(patient)}
    return render(request, "billing/payment.html", context, status=400 if form.errors else 200)
