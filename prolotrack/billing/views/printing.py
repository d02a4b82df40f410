"""The printed documents: an invoice, a payment's receipt and a superbill as PDF downloads (audited reads, like every
download)."""

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from prolotrack.audit.services import record_read
from prolotrack.billing import printing, queries
from prolotrack.billing.forms import SuperbillForm
from prolotrack.billing.models import InvoiceStatus
from prolotrack.billing.services import clinic_today
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.pdf import pdf_response
from prolotrack.patients.queries import patient_or_404


@require(Permission.BILLING_VIEW)
@require_GET
def invoice_pdf(request: ClinicRequest, invoice_uuid: Any) -> HttpResponse:
    row = queries.invoice_or_404(request, invoice_uuid)
    if row.status == InvoiceStatus.DRAFT:
        raise Http404("A draft invoice is not printed: issue it first.")
    record_read(actor_for(request), "billing.invoice.downloaded", record=row, patient_uuid=row.patient.uuid)
    inline = request.GET.get("inline") == "1"
    return pdf_response(printing.invoice_pdf(row), printing.invoice_filename(row), inline=inline)


@require(Permission.BILLING_VIEW)
@require_GET
def receipt_pdf(request: ClinicRequest, payment_uuid: Any) -> HttpResponse:
    payment = queries.payment_or_404(request, payment_uuid)
    record_read(actor_for(request), "billing.receipt.downloaded", record=payment, patient_uuid=payment.patient.uuid)
    inline = request.GET.get("inline") == "1"
    return pdf_response(printing.receipt_pdf(payment), printing.receipt_filename(payment), inline=inline)


@require(Permission.BILLING_VIEW)
@require_GET
def superbill(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    """The dates to cover (a form), then the superbill as PDF for those dates of service."""
    patient = patient_or_404(request, patient_uuid)
    today = clinic_today(request.clinic)
    initial = {"start": today.replace(month=1, day=1), "end": today}
    form = SuperbillForm(request.GET if "start" in request.GET else None, initial=initial)
    if not form.is_valid():
        email_form = SuperbillForm(prefix="email", initial=initial)
        context = {"patient": patient, "form": form, "email_form": email_form}
        return render(request, "billing/superbill.html", context, status=400 if form.is_bound else 200)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    detail = {"start": start.isoformat(), "end": end.isoformat()}
    record_read(
        actor_for(request), "billing.superbill.downloaded", record=patient, patient_uuid=patient.uuid, detail=detail
    )
    data = printing.superbill_pdf(patient, start, end)
    return pdf_response(data, printing.superbill_filename(patient, start, end), inline=request.GET.get("inline") == "1")
