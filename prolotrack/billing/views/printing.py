"""The printed documents: an invoice and a payment's receipt as PDF downloads (audited reads, like every download)."""

from typing import Any

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from prolotrack.audit.services import record_read
from prolotrack.billing import printing, queries
from prolotrack.billing.models import InvoiceStatus
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.pdf import pdf_response


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
