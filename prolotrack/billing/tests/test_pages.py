"""The billing pages: who sees what (every persona), the front desk checking out a signed session through the pages
(draft, issue on the confirmation page, a split payment), an administrator's credit note, void and refund, and
another clinic's records answering 404."""

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from prolotrack.billing import queries, services
from prolotrack.billing.models import CreditNote, Invoice, InvoiceStatus, Payment
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of

D = Decimal


@pytest.fixture
def issued_invoice(frontdesk: User, patient: Any, fees: dict[str, Any]) -> Invoice:
    actor = actor_of(frontdesk)
    draft = services.draft_invoice(actor, patient)
    services.add_line(actor, draft, fees["NEW-ASSESS"])
    return services.issue_invoice(actor, Invoice.objects.get(pk=draft.pk))


@pytest.mark.parametrize(
    ("persona", "account", "fees_page", "payment_page", "credit_page"),
    [
        ("frontdesk", 200, 200, 200, 403),
        ("admin_user", 200, 200, 200, 200),
        ("clinician", 200, 200, 403, 403),
        ("nurse", 403, 403, 403, 403),
        ("researcher", 403, 403, 403, 403),
        ("outsider", 404, 200, 403, 403),  # a clinician of another clinic: not found, or not allowed at all
    ],
)
def test_who_sees_the_money(
    request: Any, login: Any, make_member: Any, clinic: Any, patient: Any, issued_invoice: Invoice, persona: str,
    account: int, fees_page: int, payment_page: int, credit_page: int,
) -> None:  # fmt: skip
    user = make_member("nurse1", "nurse", clinic) if persona == "nurse" else request.getfixturevalue(persona)
    client = login(user)
    pages = {
        reverse("billing:account", args=[patient.uuid]): account,
        reverse("billing:fees"): fees_page,
        reverse("billing:payment-new", args=[patient.uuid]): payment_page,
        reverse("billing:invoice-credit", args=[issued_invoice.uuid]): credit_page,
        reverse("billing:invoice", args=[issued_invoice.uuid]): account,
    }
    got = {url: client.get(url).status_code for url in pages}
    assert got == pages
    if account == 200:
        body = client.get(reverse("billing:account", args=[patient.uuid])).content.decode()
        assert "180.00 USD" in body and f"{issued_invoice.number}" in body
        fee_body = client.get(reverse("billing:fees")).content.decode()
        assert ("Add a fee item" in fee_body) is (persona == "admin_user")


def test_the_chart_loads_the_account_card_for_those_who_see_money(
    login: Any, frontdesk: User, researcher: User, patient: Any
) -> None:
    url = reverse("patients:chart", args=[patient.uuid])
    assert reverse("billing:account", args=[patient.uuid]) in login(frontdesk).get(url).content.decode()
    card = login(frontdesk).get(reverse("billing:account", args=[patient.uuid]), headers={"HX-Request": "true"})
    assert card.status_code == 200 and next(t.name for t in card.templates) == "billing/_account_card.html"


def test_front_desk_checks_out_a_signed_session(
    login: Any, frontdesk: User, signed_session: Any, fees: dict[str, Any]
) -> None:
    client = login(frontdesk)
    patient = signed_session.patient
    card = client.get(reverse("billing:account", args=[patient.uuid]), headers={"HX-Request": "true"}).content.decode()
    assert reverse("billing:invoice-from-session", args=[signed_session.uuid]) in card
    response = client.post(reverse("billing:invoice-from-session", args=[signed_session.uuid]))
    invoice = Invoice.objects.get(session=signed_session)
    assert response.status_code == 302 and response["Location"] == reverse("billing:invoice", args=[invoice.uuid])
    page = client.get(response["Location"]).content.decode()
    assert "Prolotherapy (knee, right)" in page and "500.00 USD" in page
    # Add a brace, then issue through the shared confirmation page.
    client.post(
        reverse("billing:line-add", args=[invoice.uuid]), {"item": str(fees["BRACE-KNEE"].uuid), "quantity": "1"}
    )
    confirm = client.get(reverse("billing:invoice-issue", args=[invoice.uuid]))
    assert next(t.name for t in confirm.templates) == "core/confirm.html"
    invoice.refresh_from_db()
    client.post(reverse("billing:invoice-issue", args=[invoice.uuid]), {"version": invoice.version, "confirm": "yes"})
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED and invoice.number == 1 and invoice.total == D("548.71")
    # A split payment: card now, cash for the rest.
    url = reverse("billing:payment-new", args=[patient.uuid])
    assert client.post(url, {"amount": "300.00", "method": "card", "reference": "TID 881"}).status_code == 302
    refused = client.post(url, {"amount": "-5", "method": "cash"})
    assert refused.status_code == 400 and "cannot be negative" in refused.content.decode()
    assert client.post(url, {"amount": "248.71", "method": "cash"}).status_code == 302
    assert queries.invoice_balance(invoice) == 0
    assert sorted(Payment.objects.filter(patient=patient).values_list("method", flat=True)) == ["card", "cash"]


def test_an_administrator_credits_voids_and_refunds(
    login: Any, admin_user: User, frontdesk: User, patient: Any, issued_invoice: Invoice
) -> None:
    payment = services.record_payment(actor_of(frontdesk), patient, amount="180.00", currency="USD", method="card")
    client = login(admin_user)
    credit = reverse("billing:invoice-credit", args=[issued_invoice.uuid])
    too_much = client.post(credit, {"amount": "500", "reason": "charged_in_error", "version": issued_invoice.version})
    assert too_much.status_code == 400 and "At most 180.00 USD" in too_much.content.decode()
    client.post(credit, {"amount": "30.00", "reason": "goodwill", "version": issued_invoice.version})
    void = reverse("billing:invoice-void", args=[issued_invoice.uuid])
    client.post(void, {"reason": "not_seen", "version": issued_invoice.version})
    assert list(CreditNote.objects.order_by("number").values_list("amount", "is_void")) == [
        (D("30"), False),
        (D("150"), True),
    ]
    assert Invoice.objects.get(pk=issued_invoice.pk).status == InvoiceStatus.VOID
    refund = reverse("billing:payment-refund", args=[payment.uuid])
    assert "180.00 USD" in client.get(refund).content.decode()
    response = client.post(refund, {"amount": "180.00", "reason": "credited", "version": payment.version})
    assert response.status_code == 302 and queries.account(patient).credit == 0


def test_fee_schedule_pages(login: Any, admin_user: User, clinic: Any, fees: dict[str, Any]) -> None:
    client = login(admin_user)
    today = services.clinic_today(clinic).isoformat()
    bad = client.post(
        reverse("billing:fee-add"),
        {"code": "PRP", "kind": "procedure", "description": "PRP", "price": "-1", "active_from": today},
    )
    assert bad.status_code == 400 and "cannot be negative" in bad.content.decode()
    good = client.post(
        reverse("billing:fee-add"),
        {"code": "prp", "kind": "procedure", "description": "PRP", "price": "400", "active_from": today},
    )
    assert good.status_code == 302
    client.post(
        reverse("billing:fee-version", args=[fees["M0076"].uuid]),
        {"description": "Prolotherapy", "price": "275.00", "effective_from": today},
    )
    page = client.get(reverse("billing:fees")).content.decode()
    assert "PRP" in page and "275.00 USD" in page and "250.00 USD" in page
