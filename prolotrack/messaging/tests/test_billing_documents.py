"""Invoices, receipts and superbills emailed through the outbox (docs/BILLING.md, "Emailing"): the PDF attached as
made (bytes and SHA-256), sent by the send path with Django's test mail backend, refused with a clear message and
nothing written when the patient has no email or opted out, audited as a disclosure, and who may do it."""

import base64
import hashlib
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import ServiceError
from prolotrack.billing import services as billing
from prolotrack.billing.models import Invoice
from prolotrack.billing.testing import fee_schedule
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.messaging import services
from prolotrack.messaging.models import MessageKind, MessageStatus, OutboxMessage

EMAIL = "ada@example.org"


def counts() -> tuple[int, int]:
    return OutboxMessage.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def paid(admin_user: User, frontdesk: User, make_patient: Any) -> tuple[Invoice, Any]:
    """An issued assessment invoice (180.00) of a patient with an email address, paid by card."""
    patient = make_patient(email=EMAIL)
    desk = actor_of(frontdesk)
    fees = fee_schedule(actor_of(admin_user), billing.clinic_today(patient.clinic) - timedelta(days=30))
    draft = billing.draft_invoice(desk, patient)
    billing.add_line(desk, draft, fees["NEW-ASSESS"])
    invoice = billing.issue_invoice(desk, Invoice.objects.get(pk=draft.pk))
    payment = billing.record_payment(desk, patient, amount="180.00", currency="USD", method="card", reference="T-9")
    return invoice, payment


def noon(clinic: Any) -> datetime:
    """Today at noon in the clinic's zone: inside the default sending window (08-20)."""
    today = billing.clinic_today(clinic)
    return timezone.make_aware(datetime.combine(today, time(12)), clinic.tz)


def test_an_invoice_is_queued_with_its_pdf_and_sent_with_the_same_bytes(
    login: Any, frontdesk: User, paid: tuple[Invoice, Any]
) -> None:
    invoice, _payment = paid
    client = login(frontdesk)
    back = reverse("billing:checkout", args=[invoice.uuid])
    response = client.post(reverse("messaging:email-invoice", args=[invoice.uuid]), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    message = OutboxMessage.objects.get(kind=MessageKind.BILLING_DOCUMENT)
    assert (message.to_address, message.channel, message.status) == (EMAIL, "email", MessageStatus.QUEUED)
    assert message.subject == "Invoice 1 from Alpha Clinic"
    [attached] = message.attachments
    pdf = base64.b64decode(attached["content"])
    assert pdf.startswith(b"%PDF-") and attached["filename"] == "invoice-1.pdf"
    assert attached["sha256"] == hashlib.sha256(pdf).hexdigest()
    event = AuditEvent.objects.get(action="messaging.document.queued")
    assert event.patient_uuid == invoice.patient.uuid  # on the patient's accounting of disclosures
    assert event.detail == {
        "document": "invoice",
        "record": str(invoice.uuid),
        "to": EMAIL,
        "sha256": attached["sha256"],
    }

    mail.outbox.clear()
    assert services.send_message(message, now=noon(invoice.clinic)) == MessageStatus.SENT
    [sent] = mail.outbox
    assert sent.to == [EMAIL] and sent.subject == "Invoice 1 from Alpha Clinic"
    [(filename, data, content_type)] = sent.attachments
    assert (filename, content_type) == ("invoice-1.pdf", "application/pdf")
    assert data == pdf and hashlib.sha256(data).hexdigest() == attached["sha256"]
    assert "at your request" in sent.body


def test_a_receipt_and_a_superbill_are_queued_from_their_pages(
    login: Any, frontdesk: User, paid: tuple[Invoice, Any]
) -> None:
    invoice, payment = paid
    client = login(frontdesk)
    client.post(reverse("messaging:email-receipt", args=[payment.uuid]))
    today = billing.clinic_today(invoice.clinic)
    page = client.get(reverse("billing:superbill", args=[invoice.patient.uuid])).content.decode()
    assert reverse("messaging:email-superbill", args=[invoice.patient.uuid]) in page
    client.post(
        reverse("messaging:email-superbill", args=[invoice.patient.uuid]),
        {"email-start": f"{today - timedelta(days=5):%Y-%m-%d}", "email-end": f"{today:%Y-%m-%d}"},
    )
    rows = {m.target.split(":")[0]: m for m in OutboxMessage.objects.filter(kind=MessageKind.BILLING_DOCUMENT)}
    assert set(rows) == {"receipt", "superbill"}
    for row in rows.values():
        assert base64.b64decode(row.attachments[0]["content"]).startswith(b"%PDF-")
    # The same receipt again is a second message, not a clash with the first.
    client.post(reverse("messaging:email-receipt", args=[payment.uuid]))
    assert OutboxMessage.objects.filter(target__startswith=f"receipt:{payment.uuid}:").count() == 2


def test_no_email_address_is_refused_clearly_and_writes_nothing(
    login: Any, frontdesk: User, paid: tuple[Invoice, Any]
) -> None:
    invoice, _payment = paid
    patient = invoice.patient
    patient.email = ""  # as on a chart without one (an in-memory copy: the service reads what it is given)
    before = counts()
    with pytest.raises(ServiceError, match="has no email address on record"):
        services.queue_billing_document(
            actor_of(frontdesk), patient, document="invoice", record=invoice, title="Invoice 1",
            filename="invoice-1.pdf", pdf=b"%PDF-1.7 test",
        )  # fmt: skip
    assert counts() == before


def test_a_patient_who_opted_out_is_refused_and_one_who_opts_out_later_is_skipped(
    login: Any, frontdesk: User, clinician: User, paid: tuple[Invoice, Any]
) -> None:
    invoice, _payment = paid
    client = login(frontdesk)
    client.post(reverse("messaging:email-invoice", args=[invoice.uuid]))
    queued = OutboxMessage.objects.get(kind=MessageKind.BILLING_DOCUMENT)
    services.set_opt_outs(actor_of(clinician), invoice.patient, {("email", MessageKind.BILLING_DOCUMENT.value)})
    before = counts()
    response = client.post(reverse("messaging:email-invoice", args=[invoice.uuid]))
    assert response.status_code == 302 and counts() == before
    assert "asked not to receive invoices and receipts by email" in client.get(response["Location"]).content.decode()
    mail.outbox.clear()
    assert services.send_message(queued, now=noon(invoice.clinic)) == MessageStatus.SKIPPED_OPTED_OUT
    assert mail.outbox == []


def test_a_draft_is_not_sent(login: Any, frontdesk: User, paid: tuple[Invoice, Any]) -> None:
    invoice, _payment = paid
    draft = billing.draft_invoice(actor_of(frontdesk), invoice.patient)
    client = login(frontdesk)
    before = counts()
    response = client.post(reverse("messaging:email-invoice", args=[draft.uuid]))
    assert response.status_code == 302 and counts() == before
    assert "A draft invoice is not sent" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(("persona", "status"), [("researcher", 403), ("nurse", 403), ("outsider", 404)])
def test_who_may_email(
    request: Any, login: Any, make_member: Any, clinic: Any, paid: tuple[Invoice, Any], persona: str, status: int
) -> None:
    invoice, payment = paid
    user = make_member("nurse1", "nurse", clinic) if persona == "nurse" else request.getfixturevalue(persona)
    client = login(user)
    before = counts()
    assert client.post(reverse("messaging:email-invoice", args=[invoice.uuid])).status_code == status
    assert client.post(reverse("messaging:email-receipt", args=[payment.uuid])).status_code == status
    assert counts() == before


def test_another_clinics_invoice_is_not_found(
    login: Any, make_member: Any, other_clinic: Any, paid: tuple[Invoice, Any]
) -> None:
    invoice, payment = paid
    client = login(make_member("desk2", "frontdesk", other_clinic))
    assert client.post(reverse("messaging:email-invoice", args=[invoice.uuid])).status_code == 404
    assert client.post(reverse("messaging:email-receipt", args=[payment.uuid])).status_code == 404
