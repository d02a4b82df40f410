"""Front-desk checkout (docs/BILLING.md, "Checkout"): one screen from a signed session's draft to the receipt.

Review the draft, issue it after the confirmation (irreversible: a number is taken), take the payment split over
methods, print the receipt. Each step calls the existing services; the page is the invoice's `checkout` URL and
shows the step the invoice is at, so a reload, the back button or a second person never repeats a step.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from prolotrack.audit.services import record_read
from prolotrack.billing import present, queries, services
from prolotrack.billing.forms import IssueForm, SplitPaymentForm
from prolotrack.billing.views.common import REFUSALS
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors


def _page(
    request: ClinicRequest,
    invoice: Any,
    *,
    pay_form: SplitPaymentForm | None = None,
    issue_form: IssueForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = present.checkout_page(invoice)
    context["confirming"] = context["stage"] == "review" and (request.GET.get("confirm") == "issue" or issue_form)
    context["issue_form"] = issue_form or IssueForm(initial={"version": invoice.version})
    context["pay_form"] = pay_form or SplitPaymentForm()
    return render(request, "billing/checkout.html", context, status=status)


@require(Permission.BILLING_PAYMENT)
@require_GET
def checkout(request: ClinicRequest, invoice_uuid: Any) -> HttpResponse:
    row = queries.invoice_or_404(request, invoice_uuid)
    record_read(actor_for(request), "billing.invoice.viewed", record=row, detail={"page": "checkout"})
    return _page(request, row)


@require(Permission.BILLING_INVOICE)
@require_POST
def checkout_issue(request: ClinicRequest, invoice_uuid: Any) -> HttpResponse:
    """The confirmed issue: the draft takes the clinic's next number; then the payment step."""
    row = queries.invoice_or_404(request, invoice_uuid)
    form = IssueForm(request.POST)
    if form.is_valid():
        try:
            issued = services.issue_invoice(actor_for(request), row, expected_version=form.cleaned_data["version"])
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{issued} issued: {present.money(issued.total, issued.currency)}.")
            return redirect("billing:checkout", invoice_uuid=row.uuid)
    return _page(request, row, issue_form=form, status=400)


@require(Permission.BILLING_PAYMENT)
@require_POST
def checkout_pay(request: ClinicRequest, invoice_uuid: Any) -> HttpResponse:
    """The payment split over methods: every part a payment on this invoice, all or none."""
    row = queries.invoice_or_404(request, invoice_uuid)
    form = SplitPaymentForm(request.POST)
    if form.is_valid():
        parts = [
            services.PaymentPart(method=method, amount=amount, reference=reference, row=n)
            for n, method, amount, reference in form.parts()
        ]
        try:
            taken = services.pay_invoice_in_parts(actor_for(request), row, parts)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            said = " + ".join(f"{p.get_method_display().lower()} {present.money(p.amount, p.currency)}" for p in taken)
            messages.success(request, f"Payment recorded: {said}.")
            return redirect("billing:checkout", invoice_uuid=row.uuid)
    return _page(request, row, pay_form=form, status=400)


@require(Permission.BILLING_VIEW)
@require_GET
def session_card(request: ClinicRequest, session_uuid: Any) -> HttpResponse:
    """The session page's billing card (HTMX): the session's invoice with "Check out", or why there is none."""
    session = queries.session_or_404(request, session_uuid)
    record_read(actor_for(request), "billing.session.viewed", record=session, patient_uuid=session.patient.uuid)
    context = queries.session_billing(session, services.clinic_today(request.clinic))
    return render(request, "billing/_session_card.html", context)
