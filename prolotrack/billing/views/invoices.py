"""An invoice: its lines and money; a draft's lines; issuing, crediting and voiding through the confirmation page."""

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.audit.services import record_read
from prolotrack.billing import present, queries, services
from prolotrack.billing.forms import AddLineForm, AmountReasonForm, IssueForm
from prolotrack.billing.models import InvoiceStatus
from prolotrack.billing.views.common import REFUSALS, posted
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors
from prolotrack.domain.money import CREDIT_REASONS, VOID_REASONS


def _line_form(request: ClinicRequest, data: Any = None) -> AddLineForm:
    day = services.clinic_today(request.clinic)
    return AddLineForm(data, items=queries.chargeable_with_prices(request.clinic, day))


@require(Permission.BILLING_VIEW)
def invoice(request: ClinicRequest, invoice_uuid: Any) -> HttpResponse:
    return _invoice_page(request, invoice_uuid)


def _invoice_page(request: ClinicRequest, invoice_uuid: Any, line_form: AddLineForm | None = None) -> HttpResponse:
    row = queries.invoice_or_404(request, invoice_uuid)
    record_read(actor_for(request), "billing.invoice.viewed", record=row)
    context = present.invoice_page(row)
    if row.status == InvoiceStatus.DRAFT:
        context["line_form"] = line_form or _line_form(request)
    return render(request, "billing/invoice.html", context, status=400 if line_form else 200)


@require(Permission.BILLING_INVOICE)
@require_POST
def line_add(request: ClinicRequest, invoice_uuid: Any) -> HttpResponse:
    row = queries.invoice_or_404(request, invoice_uuid)
    form = _line_form(request, request.POST)
    if form.is_valid():
        try:
            services.add_line(actor_for(request), row, form.chosen(), quantity=form.cleaned_data["quantity"])
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            return redirect("billing:invoice", invoice_uuid=row.uuid)
    return _invoice_page(request, invoice_uuid, line_form=form)


@require(Permission.BILLING_INVOICE)
@require_POST
def line_remove(request: ClinicRequest, invoice_uuid: Any, line_uuid: Any) -> HttpResponse:
    row = queries.invoice_or_404(request, invoice_uuid)
    try:
        services.remove_line(actor_for(request), queries.line_or_404(row, line_uuid))
    except REFUSALS as error:
        messages.error(request, str(error))
    return redirect("billing:invoice", invoice_uuid=row.uuid)


@require(Permission.BILLING_INVOICE)
@require_http_methods(["GET", "POST"])
def invoice_issue(request: ClinicRequest, invoice_uuid: Any) -> HttpResponse:
    """The confirmation step of issuing: a number is taken and the invoice never changes again."""
    row = queries.invoice_or_404(request, invoice_uuid)
    form = IssueForm(posted(request), initial={"version": row.version})
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.issue_invoice(actor_for(request), row, expected_version=form.cleaned_data["version"])
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{issued} issued: {present.money(issued.total, issued.currency)}.")
            return redirect("billing:invoice", invoice_uuid=row.uuid)
    context = {**present.issue_step(row), "form": form}
    return render(request, "core/confirm.html", context, status=400 if form.errors else 200)


def _credit(request: ClinicRequest, invoice_uuid: Any, *, void: bool) -> HttpResponse:
    row = queries.invoice_or_404(request, invoice_uuid)
    reasons = VOID_REASONS if void else CREDIT_REASONS
    initial = {"version": row.version, "amount": present.creditable(row)}
    form = AmountReasonForm(posted(request), reasons=reasons, initial=initial)
    if void:
        form.fields["amount"].required = False
        form.fields["amount"].widget = form.fields["version"].hidden_widget()
    if request.method == "POST" and form.is_valid():
        try:
            note = services.credit_invoice(
                actor_for(request), row, amount=form.cleaned_data["amount"], reason=form.text, void=void
            )
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Credit note {note.number}: {present.money(note.amount, row.currency)}.")
            return redirect("billing:invoice", invoice_uuid=row.uuid)
    context = {**present.credit_step(row, void=void), "form": form}
    return render(request, "core/confirm.html", context, status=400 if form.errors else 200)


@require(Permission.BILLING_CREDIT)
@require_http_methods(["GET", "POST"])
def invoice_credit(request: ClinicRequest, invoice_uuid: Any) -> HttpResponse:
    return _credit(request, invoice_uuid, void=False)


@require(Permission.BILLING_CREDIT)
@require_http_methods(["GET", "POST"])
def invoice_void(request: ClinicRequest, invoice_uuid: Any) -> HttpResponse:
    return _credit(request, invoice_uuid, void=True)


@require(Permission.BILLING_PAYMENT)
@require_POST
def invoice_use_credit(request: ClinicRequest, invoice_uuid: Any) -> HttpResponse:
    row = queries.invoice_or_404(request, invoice_uuid)
    try:
        used = services.use_credit(actor_for(request), row)
    except REFUSALS as error:
        messages.error(request, str(error))
    else:
        total = sum((a.amount for a in used), Decimal(0))
        messages.success(request, f"Account credit used: {present.money(total, row.currency)}.")
    return redirect("billing:invoice", invoice_uuid=row.uuid)
