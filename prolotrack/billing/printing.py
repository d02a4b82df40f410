"""Invoices and receipts as PDF, with the clinic's letterhead (docs/BILLING.md, "Printed documents").

Rendered through the one PDF path (core/pdf.py: WeasyPrint, no network); the templates extend
documents/print_base.html. `*_context` gives what a template is filled with, so a test can read the HTML a PDF is made
from (core.pdf.render_html) as well as the PDF's text.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone

from prolotrack.billing import present, queries
from prolotrack.billing.models import Invoice, InvoiceStatus, Payment
from prolotrack.clinics.queries import npis_of
from prolotrack.core.pdf import render_pdf
from prolotrack.domain.icd10cm import Source
from prolotrack.domain.provider_ids import format_tax_id
from prolotrack.treatment.queries import course_diagnosis

INVOICE_TEMPLATE = "billing/invoice_pdf.html"
RECEIPT_TEMPLATE = "billing/receipt_pdf.html"
SUPERBILL_TEMPLATE = "billing/superbill_pdf.html"


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
    return {**_base(invoice.clinic, f"Invoice {invoice.number}"), **present.invoice_figures(invoice)}


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


def _letters(n: int) -> str:
    """Diagnosis pointers as on a claim form: A, B, ... L."""
    return "ABCDEFGHIJKL"[n] if n < 12 else str(n + 1)


def superbill_context(patient: Any, start: date, end: date) -> dict[str, Any]:
    """A superbill for the patient's issued invoices with dates of service in [start, end]: the practice (name,
    address, NPI, tax id: the billing provider), the patient, each service line (date, HCPCS or clinic code, units,
    charge, rendering clinician with their own NPI from their membership, diagnosis pointers), the ICD-10-CM codes of the courses treated (treatment.queries.course_diagnosis),
    and what was credited and paid."""
    clinic = patient.clinic
    head = {**letterhead(clinic), "npi": clinic.config.npi, "tax_id": format_tax_id(clinic.config.tax_id)}
    diagnoses: dict[str, dict[str, Any]] = {}
    by_course: dict[int, list[str]] = {}
    services: list[dict[str, Any]] = []
    invoices: list[dict[str, Any]] = []
    charges = credited = paid = Decimal(0)
    for invoice, day in queries.superbill_invoices(patient, start, end):
        session = invoice.session
        pointers: list[str] = []
        if session is not None:
            if session.course_id not in by_course:
                found = course_diagnosis(session.course)
                for code in found.codes:
                    entry = diagnoses.setdefault(
                        code.code, {"code": code, "letter": _letters(len(diagnoses)), "source": found.source}
                    )
                    by_course.setdefault(session.course_id, []).append(entry["letter"])
                by_course.setdefault(session.course_id, [])
            pointers = by_course[session.course_id]
        clinician = (session.signed_by or session.clinician) if session is not None else None
        for line in queries.invoice_lines(invoice):
            services.append(
                {"day": day, "line": line, "pointers": "".join(pointers), "clinician": clinician, "invoice": invoice}
            )
        row_credited, row_paid = queries.invoice_credited(invoice), queries.invoice_paid(invoice)
        invoices.append({"invoice": invoice, "day": day, "credited": row_credited, "paid": row_paid})
        charges, credited, paid = charges + invoice.total, credited + row_credited, paid + row_paid
    npis = npis_of(clinic, {row["clinician"] for row in services})
    for row in services:
        who = row["clinician"]
        row["npi"] = npis.get(who.pk, "") if who is not None else ""
    return {
        **_base(clinic, "Superbill"),
        "letterhead": head,
        "patient": patient,
        "start": start,
        "end": end,
        "currency": clinic.config.currency,
        "services": services,
        "invoices": invoices,
        "diagnoses": list(diagnoses.values()),
        "uncoded": any(not by_course[c] for c in by_course),
        "chart_source": Source.CHART,
        "charges": charges,
        "credited": credited,
        "paid": paid,
        "balance": charges - credited - paid,
    }


def superbill_pdf(patient: Any, start: date, end: date) -> bytes:
    return render_pdf(SUPERBILL_TEMPLATE, superbill_context(patient, start, end))


def superbill_filename(patient: Any, start: date, end: date) -> str:
    return f"superbill-{patient.mrn or 'patient'}-{start:%Y%m%d}-{end:%Y%m%d}.pdf"
