"""Front-desk checkout (docs/BILLING.md, "Checkout"): the session page's billing card, the one-screen flow from the
draft to the receipt (issue after the confirmation, a payment split over methods), its refusals, and who may use it."""

from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from prolotrack.audit.models import AuditEvent
from prolotrack.billing import services
from prolotrack.billing.models import Invoice, InvoiceStatus, Payment, PaymentAllocation
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of

D = Decimal


@contextmanager
def writes_nothing() -> Any:
    before = Payment.objects.count(), PaymentAllocation.objects.count(), AuditEvent.objects.count()
    yield
    assert (Payment.objects.count(), PaymentAllocation.objects.count(), AuditEvent.objects.count()) == before


@pytest.fixture
def draft(signed_session: Any, fees: dict[str, Any]) -> Invoice:
    """The draft drafted on signing (as the session_signed event's listener does once the signature commits)."""
    invoice = services.draft_invoice_for_session(actor_of(signed_session.signed_by), signed_session.pk)
    assert invoice is not None
    return invoice


def card(client: Any, session: Any) -> str:
    response = client.get(reverse("billing:session-card", args=[session.uuid]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return str(response.content.decode())


def test_the_session_page_loads_the_billing_card_and_it_offers_check_out(
    login: Any, frontdesk: User, clinician: User, draft: Invoice, signed_session: Any
) -> None:
    client = login(frontdesk)
    # The front desk's page of a session is the appointment (the clinical note is the clinicians').
    page = client.get(reverse("treatment:session-book", args=[signed_session.uuid])).content.decode()
    assert reverse("billing:session-card", args=[signed_session.uuid]) in page
    body = card(client, signed_session)
    assert "Draft invoice" in body and "500.00 USD" in body
    assert reverse("billing:checkout", args=[draft.uuid]) in body
    # The account card offers the same checkout beside the draft.
    account = client.get(reverse("billing:account", args=[signed_session.patient.uuid]), headers={"HX-Request": "true"})
    assert reverse("billing:checkout", args=[draft.uuid]) in account.content.decode()
    # A clinician's session page loads the card too: the invoice, without the front desk's button.
    client = login(clinician)
    note = client.get(reverse("treatment:session", args=[signed_session.uuid])).content.decode()
    assert reverse("billing:session-card", args=[signed_session.uuid]) in note
    assert reverse("billing:checkout", args=[draft.uuid]) not in card(client, signed_session)


def test_without_a_fee_schedule_the_card_says_why_nothing_was_drafted(
    login: Any, frontdesk: User, signed_session: Any
) -> None:
    body = card(login(frontdesk), signed_session)
    assert "No invoice was drafted: the clinic's fee schedule has no procedure item" in body
    assert reverse("billing:invoice-from-session", args=[signed_session.uuid]) not in body


def test_a_session_not_drafted_is_drafted_from_the_card_into_checkout(
    login: Any, frontdesk: User, signed_session: Any, fees: dict[str, Any]
) -> None:
    client = login(frontdesk)
    body = card(client, signed_session)
    assert "Not charged yet" in body
    response = client.post(reverse("billing:invoice-from-session", args=[signed_session.uuid]), {"then": "checkout"})
    invoice = Invoice.objects.get(session=signed_session)
    assert response["Location"] == reverse("billing:checkout", args=[invoice.uuid])


def test_front_desk_checks_out_issue_after_confirmation_then_card_and_cash(
    login: Any, frontdesk: User, draft: Invoice
) -> None:
    client = login(frontdesk)
    url = reverse("billing:checkout", args=[draft.uuid])
    review = client.get(url).content.decode()
    assert "Prolotherapy (knee, right)" in review and "Issue…" in review
    assert reverse("billing:checkout-issue", args=[draft.uuid]) not in review  # not before the confirmation
    confirm = client.get(url + "?confirm=issue").content.decode()
    assert "Issue this invoice?" in confirm and "can no longer change" in confirm
    assert reverse("billing:checkout-issue", args=[draft.uuid]) in confirm
    response = client.post(reverse("billing:checkout-issue", args=[draft.uuid]), {"version": draft.version})
    assert response.status_code == 302 and response["Location"] == url
    issued = Invoice.objects.get(pk=draft.pk)
    assert issued.status == InvoiceStatus.ISSUED and issued.number == 1
    pay = client.get(url).content.decode()
    assert 'id="checkout-owed">500.00 USD' in pay and reverse("billing:checkout-pay", args=[draft.uuid]) in pay
    # The same confirmation posted again (a double click, the back button) issues nothing more.
    again = client.post(reverse("billing:checkout-issue", args=[draft.uuid]), {"version": draft.version})
    assert again.status_code == 400 and Invoice.objects.get(pk=draft.pk).number == 1
    posted = {
        "method_1": "card", "amount_1": "300.00", "reference_1": "TERM-4471",
        "method_2": "cash", "amount_2": "200", "reference_2": "",
        "method_3": "cheque", "amount_3": "", "reference_3": "",
    }  # fmt: skip
    response = client.post(reverse("billing:checkout-pay", args=[draft.uuid]), posted)
    assert response.status_code == 302 and response["Location"] == url
    payments = list(Payment.objects.filter(patient=draft.patient).order_by("amount"))
    assert [(p.method, p.amount, p.reference) for p in payments] == [
        ("cash", D("200.00"), ""),
        ("card", D("300.00"), "TERM-4471"),
    ]
    assert all(
        list(PaymentAllocation.objects.filter(payment=p).values_list("invoice_id", "amount")) == [(draft.pk, p.amount)]
        for p in payments
    )
    done = client.get(url).content.decode()
    assert "Paid in full" in done
    for payment in payments:
        assert reverse("billing:receipt-pdf", args=[payment.uuid]) in done
    assert reverse("billing:invoice-pdf", args=[draft.uuid]) in done


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"amount_1": "400", "amount_2": "200"}, None, "more than the 500.00 USD"),
        ({"amount_1": "", "amount_2": ""}, "amount_1", "at least one method"),
        ({"amount_1": "100", "amount_2": "-5"}, "amount_2", "cannot be negative"),
        ({"amount_1": "100", "amount_2": "1.005"}, "amount_2", "more decimals"),
        ({"amount_1": "0"}, "amount_1", "more than zero"),
        ({"amount_1": "100", "method_1": "bitcoin"}, "method_1", "Select a valid choice"),
    ],
)
def test_a_bad_split_is_refused_by_its_field_and_writes_nothing(
    login: Any, frontdesk: User, draft: Invoice, posted: dict[str, str], field: str | None, message: str
) -> None:
    services.issue_invoice(actor_of(frontdesk), draft)
    client = login(frontdesk)
    data = {"method_1": "card", "method_2": "cash", "method_3": "cheque", **posted}
    with writes_nothing():
        response = client.post(reverse("billing:checkout-pay", args=[draft.uuid]), data)
    assert response.status_code == 400
    form = response.context["pay_form"]
    errors = form.errors.get(field or "__all__")
    assert errors and message in " ".join(errors)


def test_the_split_service_refuses_a_draft_and_another_clinics_invoice(
    frontdesk: User, outsider: User, draft: Invoice
) -> None:
    part = services.PaymentPart(method="cash", amount="10")
    with writes_nothing(), pytest.raises(services.ServiceError, match="issue the draft first"):
        services.pay_invoice_in_parts(actor_of(frontdesk), draft, [part])
    services.issue_invoice(actor_of(frontdesk), draft)
    with writes_nothing(), pytest.raises(Exception, match=r"allow|another clinic|not found"):
        services.pay_invoice_in_parts(actor_of(outsider), Invoice.objects.get(pk=draft.pk), [part])


@pytest.mark.parametrize(
    ("persona", "page", "issue"),
    [
        ("frontdesk", 200, 302),
        ("admin_user", 200, 302),
        ("clinician", 403, 403),
        ("researcher", 403, 403),
        ("outsider", 403, 403),
    ],
)
def test_who_checks_out(request: Any, login: Any, draft: Invoice, persona: str, page: int, issue: int) -> None:
    client = login(request.getfixturevalue(persona))
    assert client.get(reverse("billing:checkout", args=[draft.uuid])).status_code == page
    response = client.post(reverse("billing:checkout-issue", args=[draft.uuid]), {"version": draft.version})
    assert response.status_code == issue


def test_another_clinics_front_desk_gets_404(login: Any, make_member: Any, other_clinic: Any, draft: Invoice) -> None:
    client = login(make_member("desk2", "frontdesk", other_clinic))
    assert client.get(reverse("billing:checkout", args=[draft.uuid])).status_code == 404
    assert client.post(reverse("billing:checkout-issue", args=[draft.uuid]), {"version": 1}).status_code == 404
