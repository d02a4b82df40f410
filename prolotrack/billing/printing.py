"""Invoices and receipts as PDF, with the clinic's letterhead (docs/BILLING.md, "Printed documents").

Rendered through the one PDF path (core/pdf.py: WeasyPrint, no network); the templates extend
documents/print_base.html. `*_context` gives what a template is filled with, so a test can read the HTML a PDF is made
from (core.pdf.render_html) as well as the PDF's text.
"""

from decimal import Decimal
from typing import Any

from django.utils import timezone

from prolotrack.billing import queries
from prolotrack.billing.models import Invoice, InvoiceStatus, Payment
from prolotrack.core.pdf import render_pdf

INVOICE_TEMPLATE = "billing/invoice_pdf.html"
RECEIPT_TEMPLATE = "billing/receipt_pdf.html"


def letterhead(clinic: Any) -> dict[str, str]:
    """The clinic's name, address, phone and email, as its settings hold them (empty ones are left out)."""
    config = clinic.config
    return {
        "name": clinic.name,
        "address": config.address,
        "phone": config.contact_phone,
        "email": config.contact_email,
    }


def _base(clinic: Any, title: str) -> dict[str, Any]:
    return {"clinic": clinic, "letterhead": letterhead(clinic), "title": title, "generated_at": timezone.now()}


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    """An issued (or void) invoice: its lines, totals, credit notes, what was paid and what is owed."""
    if invoice.status == InvoiceStatus.DRAFT:
        raise ValueError("A draft invoice has no number yet and is not printed.")
    credited = queries.invoice_credited(invoice)
    return {
        **_base(invoice.clinic, f"Invoice {invoice.number}"),
        "invoice": invoice,
        "patient": invoice.patient,
        "lines": queries.invoice_lines(invoice),
        "credit_notes": queries.credit_notes_of(invoice),
        "allocations": queries.allocations_of(invoice),
        "credited": credited,
        "paid": queries.invoice_paid(invoice),
        "balance": queries.invoice_balance(invoice),
    }


def receipt_context(payment: Payment) -> dict[str, Any]:
    """A payment: how much, how, when, the invoices it pays, what was refunded and what stays as account credit."""
    allocations = queries.allocations_of_payment(payment)
    allocated = sum((a.amount for a in allocations), Decimal(0))
    refunded = queries.payment_refunded(payment)
    return {
        **_base(payment.clinic, "Receipt"),
        "payment": payment,
        "patient": payment.patient,
        "allocations": allocations,
        "refunds": queries.refunds_of(payment),
        "refunded": refunded,
        "credit_left": payment.amount - allocated - refunded,
    }


def invoice_pdf(invoice: Invoice) -> bytes:
    return render_pdf(INVOICE_TEMPLATE, invoice_context(invoice))


def receipt_pdf(payment: Payment) -> bytes:
    return render_pdf(RECEIPT_TEMPLATE, receipt_context(payment))


def invoice_filename(invoice: Invoice) -> str:
    return f"invoice-{invoice.number}.pdf"


def receipt_filename(payment: Payment) -> str:
    return f"receipt-{payment.received_on:%Y%m%d}-{str(payment.uuid)[:8]}.pdf"
