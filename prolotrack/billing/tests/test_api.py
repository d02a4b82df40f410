"""The billing API: a check-out through the JSON endpoints, who may call what, another clinic's records 404, bad
input 422 with the reason and nothing written, money out as decimal strings."""

from typing import Any

import pytest

from prolotrack.audit.models import AuditEvent
from prolotrack.billing.models import Invoice, Payment
from prolotrack.clinics.models import User


def _post(client: Any, headers: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json", headers=headers)


def test_check_out_a_signed_session_through_the_api(
    client: Any, api_token: Any, frontdesk: User, admin_user: User, signed_session: Any, fees: dict[str, Any]
) -> None:
    desk = api_token(frontdesk)
    patient = signed_session.patient
    drafted = _post(client, desk, f"/api/patients/{patient.uuid}/invoices", {"session_id": str(signed_session.uuid)})
    assert drafted.status_code == 201, drafted.content
    invoice = drafted.json()
    assert invoice["status"] == "draft" and invoice["number"] is None
    assert [(line["code"], line["quantity"]) for line in invoice["lines"]] == [("M0076", 1), ("M0076", 1)]
    assert invoice["total"] == "500.00"  # decimal strings to the minor unit, never JSON numbers
    issued = _post(client, desk, f"/api/invoices/{invoice['id']}/issue", {"version": invoice["version"]})
    assert issued.status_code == 200 and issued.json()["number"] == 1
    paid = _post(
        client, desk, f"/api/patients/{patient.uuid}/payments",
        {"amount": "550.00", "currency": "USD", "method": "card", "reference": "TID 9",
         "allocations": [{"invoice_id": invoice["id"], "amount": "500.00"}]},
    )  # fmt: skip
    assert paid.status_code == 201, paid.content
    account = client.get(f"/api/patients/{patient.uuid}/account", headers=desk).json()
    assert (account["owed"], account["credit"], account["balance"]) == ("0.00", "50.00", "-50.00")
    refund = _post(
        client, api_token(admin_user), f"/api/payments/{paid.json()['id']}/refunds",
        {"amount": "50.00", "reason": "Overpaid at the desk, card refunded"},
    )  # fmt: skip
    assert refund.status_code == 201 and refund.json()["method"] == "card"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"amount": "10.00", "currency": "EUR", "method": "cash"}, "payment in EUR is refused"),
        ({"amount": "-10.00", "currency": "USD", "method": "cash"}, ""),
        ({"amount": "10.001", "currency": "USD", "method": "cash"}, "more decimals"),
        ({"amount": 10.5, "currency": "USD", "method": "cash"}, ""),
        ({"amount": "10.00", "currency": "USD", "method": "bitcoin"}, ""),
    ],
)
def test_bad_payments_answer_422_and_write_nothing(
    client: Any, api_token: Any, frontdesk: User, patient: Any, body: dict[str, Any], message: str
) -> None:
    before = Payment.objects.count(), AuditEvent.objects.count()
    response = _post(client, api_token(frontdesk), f"/api/patients/{patient.uuid}/payments", body)
    assert response.status_code == 422 and message in str(response.json()["detail"])
    assert (Payment.objects.count(), AuditEvent.objects.filter(action__startswith="billing.").count()) == (before[0], 0)


@pytest.mark.parametrize(
    ("persona", "fees_list", "payment", "fee_create"),
    [
        ("frontdesk", 200, 201, 403),
        ("admin_user", 200, 201, 201),
        ("clinician", 200, 403, 403),
        ("researcher", 403, 403, 403),
    ],
)
def test_who_may_call_what(
    client: Any, request: Any, api_token: Any, patient: Any, persona: str, fees_list: int, payment: int, fee_create: int
) -> None:
    headers = api_token(request.getfixturevalue(persona))
    assert client.get("/api/billing/fees", headers=headers).status_code == fees_list
    pay = {"amount": "10.00", "currency": "USD", "method": "cash"}
    assert _post(client, headers, f"/api/patients/{patient.uuid}/payments", pay).status_code == payment
    fee = {"code": "X1", "kind": "visit", "description": "X", "price": "1.00", "active_from": "2026-01-01"}
    assert _post(client, headers, "/api/billing/fees", fee).status_code == fee_create


def test_another_clinics_records_are_not_found(
    client: Any,
    api_token: Any,
    make_member: Any,
    other_clinic: Any,
    frontdesk: User,
    patient: Any,
    fees: dict[str, Any],
) -> None:
    drafted = _post(client, api_token(frontdesk), f"/api/patients/{patient.uuid}/invoices", {}).json()
    stranger = api_token(make_member("desk2", "frontdesk", other_clinic))
    assert client.get(f"/api/invoices/{drafted['id']}", headers=stranger).status_code == 404
    assert client.get(f"/api/patients/{patient.uuid}/account", headers=stranger).status_code == 404
    pay = {"amount": "10.00", "currency": "USD", "method": "cash"}
    assert _post(client, stranger, f"/api/patients/{patient.uuid}/payments", pay).status_code == 404
    assert Invoice.objects.count() == 1 and Payment.objects.count() == 0
