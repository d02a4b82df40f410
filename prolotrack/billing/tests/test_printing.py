"""Invoices and receipts as PDF: the letterhead, the invoice's number, lines and totals, the payment and where it
went; downloads are audited; another clinic's records answer 404; who may download, persona by persona."""

import io
from typing import Any

import pytest
from django.urls import reverse
from pypdf import PdfReader

from prolotrack.audit.models import AuditEvent
from prolotrack.billing import services
from prolotrack.billing.models import Invoice, Payment
from prolotrack.billing.testing import set_clinic_settings
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of


def pdf_text(data: bytes) -> str:
    """Every page's text, whitespace collapsed."""
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def paid_part(frontdesk: User, patient: Any, fees: dict[str, Any], clinic: Any) -> tuple[Invoice, Payment]:
    """Invoice 1 (an assessment and a taxed knee brace: 228.71 USD), paid 100.00 by card."""
    set_clinic_settings(
        clinic, address="12 Main Street, Springfield, IL 62701", contact_phone="(217) 555-0100",
        contact_email="desk@alpha.example",
    )  # fmt: skip
    actor = actor_of(frontdesk)
    draft = services.draft_invoice(actor, patient)
    services.add_line(actor, draft, fees["NEW-ASSESS"])
    services.add_line(actor, Invoice.objects.get(pk=draft.pk), fees["BRACE-KNEE"])
    invoice = services.issue_invoice(actor, Invoice.objects.get(pk=draft.pk))
    payment = services.record_payment(
        actor, patient, amount="100.00", currency="USD", method="card", reference="TERM-7781"
    )
    return invoice, payment


def test_the_invoice_pdf_has_the_letterhead_number_lines_and_totals(
    login: Any, frontdesk: User, paid_part: tuple[Invoice, Payment]
) -> None:
    invoice, _payment = paid_part
    response = login(frontdesk).get(reverse("billing:invoice-pdf", args=[invoice.uuid]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="invoice-{invoice.number}.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    text = pdf_text(response.content)
    for expected in (
        "Alpha Clinic",
        "12 Main Street, Springfield, IL 62701",
        "(217) 555-0100",
        f"Invoice {invoice.number}",
        "NEW-ASSESS New patient assessment 1 180.00 USD — 180.00 USD",
        "BRACE-KNEE Knee brace 1 45.00 USD 3.71 USD (8.25%) 48.71 USD",
        "Net 225.00 USD",
        "Tax 3.71 USD",
        "Total 228.71 USD",
        "Paid −100.00 USD",
        "Amount due 128.71 USD",
        invoice.patient.family_name,
    ):
        assert expected in text, f"{expected!r} not in {text!r}"
    event = AuditEvent.objects.get(action="billing.invoice.downloaded")
    assert event.user == frontdesk and event.patient_uuid == invoice.patient.uuid


def test_the_receipt_says_what_was_paid_how_and_for_which_invoice(
    login: Any, frontdesk: User, paid_part: tuple[Invoice, Payment]
) -> None:
    invoice, payment = paid_part
    response = login(frontdesk).get(reverse("billing:receipt-pdf", args=[payment.uuid]))
    assert response.status_code == 200 and response["Content-Disposition"].startswith('attachment; filename="receipt-')
    text = pdf_text(response.content)
    for expected in (
        "12 Main Street, Springfield, IL 62701",
        "Receipt",
        "Amount 100.00 USD",
        "Method Card (ref. TERM-7781)",
        f"Invoice {invoice.number} {invoice.issued_on:%Y-%m-%d} 100.00 USD",
        "Held as account credit 0.00 USD",
    ):
        assert expected in text, f"{expected!r} not in {text!r}"
    assert AuditEvent.objects.filter(action="billing.receipt.downloaded", user=frontdesk).count() == 1


def test_an_overpayment_receipt_shows_the_credit_held(
    login: Any, frontdesk: User, patient: Any, paid_part: tuple[Invoice, Payment]
) -> None:
    extra = services.record_payment(actor_of(frontdesk), patient, amount="150.00", currency="USD", method="cash")
    text = pdf_text(login(frontdesk).get(reverse("billing:receipt-pdf", args=[extra.uuid])).content)
    # 128.71 still owed on invoice 1: the rest (21.29) is account credit.
    assert "128.71 USD" in text and "Held as account credit 21.29 USD" in text


def test_the_pages_link_the_pdfs(login: Any, frontdesk: User, paid_part: tuple[Invoice, Payment]) -> None:
    invoice, payment = paid_part
    client = login(frontdesk)
    page = client.get(reverse("billing:invoice", args=[invoice.uuid])).content.decode()
    assert reverse("billing:invoice-pdf", args=[invoice.uuid]) in page
    assert reverse("billing:receipt-pdf", args=[payment.uuid]) in page
    account = client.get(reverse("billing:account", args=[invoice.patient.uuid])).content.decode()
    assert reverse("billing:receipt-pdf", args=[payment.uuid]) in account
    assert reverse("billing:invoice-pdf", args=[invoice.uuid]) in account


def test_a_draft_is_not_printed(login: Any, frontdesk: User, patient: Any, fees: dict[str, Any]) -> None:
    draft = services.draft_invoice(actor_of(frontdesk), patient)
    assert login(frontdesk).get(reverse("billing:invoice-pdf", args=[draft.uuid])).status_code == 404
    assert not AuditEvent.objects.filter(action="billing.invoice.downloaded").exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("frontdesk", 200),
        ("admin_user", 200),
        ("clinician", 200),
        ("nurse", 403),
        ("researcher", 403),  # researchers see no money
        ("outsider", 404),  # a clinician of another clinic: not found
    ],
)
def test_who_may_download(
    request: Any, login: Any, make_member: Any, clinic: Any, paid_part: tuple[Invoice, Payment], persona: str,
    status: int,
) -> None:  # fmt: skip
    invoice, payment = paid_part
    user = make_member("nurse1", "nurse", clinic) if persona == "nurse" else request.getfixturevalue(persona)
    client = login(user)
    urls = [reverse("billing:invoice-pdf", args=[invoice.uuid]), reverse("billing:receipt-pdf", args=[payment.uuid])]
    assert [client.get(url).status_code for url in urls] == [status, status]
    downloads = AuditEvent.objects.filter(action__in=["billing.invoice.downloaded", "billing.receipt.downloaded"])
    assert downloads.count() == (2 if status == 200 else 0)
