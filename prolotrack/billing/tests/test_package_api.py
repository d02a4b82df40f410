"""Course packages through the API: an offer, a sale on a draft, a session drawing a use, the package read back with
its draws, a stopped course settled; bad input 422 with nothing written; who may call what."""

from typing import Any

import pytest

from prolotrack.audit.models import AuditEvent
from prolotrack.billing.models import FeeItem, Invoice, PackageTerms, SoldPackage
from prolotrack.billing.tests.test_packages import stop
from prolotrack.clinics.models import User
from prolotrack.treatment.models import Course

OFFER = {
    "code": "PKG-KNEE-3", "description": "Knee course of 3", "price": "600.00", "uses": "3", "validity_days": "180",
    "protocol_id": "knee_oa_rabago", "effective_from": "2026-10-01",
}  # fmt: skip


def _post(client: Any, headers: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json", headers=headers)


def test_a_package_through_the_api(
    client: Any,
    api_token: Any,
    frontdesk: User,
    admin_user: User,
    clinician: User,
    course: Course,
    signed_session: Any,
    fees: dict[str, Any],
) -> None:
    admin, desk = api_token(admin_user), api_token(frontdesk)
    created = _post(client, admin, "/api/billing/packages", OFFER)
    assert created.status_code == 201, created.content
    offer = created.json()
    assert offer["versions"][0]["terms"]["uses"] == 3 and offer["versions"][0]["price"] == "600.00"
    listed = client.get("/api/billing/packages", headers=desk).json()
    assert [o["code"] for o in listed] == ["PKG-KNEE-3"]
    patient = signed_session.patient
    draft = _post(client, desk, f"/api/patients/{patient.uuid}/invoices", {}).json()
    sold = _post(client, desk, f"/api/invoices/{draft['id']}/packages", {"offer_id": offer["id"]})
    assert sold.status_code == 201, sold.content
    package = sold.json()
    assert (package["uses"], package["left"], package["course_id"], package["price"]) == (3, 3, None, "600.00")
    linked = _post(client, desk, f"/api/packages/{package['id']}/course", {"course_id": str(course.uuid)})
    assert linked.status_code == 200 and linked.json()["course_id"] == str(course.uuid)
    issued = _post(client, desk, f"/api/invoices/{draft['id']}/issue", {})
    assert issued.status_code == 200, issued.content
    session_invoice = _post(
        client, desk, f"/api/patients/{patient.uuid}/invoices", {"session_id": str(signed_session.uuid)}
    ).json()
    assert session_invoice["total"] == "0.00"
    read = client.get(f"/api/packages/{package['id']}", headers=desk).json()
    assert (read["drawn"], read["left"]) == (1, 2)
    assert read["draws"][0]["session_id"] == str(signed_session.uuid)
    assert read["draws"][0]["invoice_id"] == session_invoice["id"]
    assert [p["left"] for p in client.get(f"/api/patients/{patient.uuid}/packages", headers=desk).json()] == [2]
    stop(clinician, course)
    refused = _post(client, desk, f"/api/packages/{package['id']}/settle", {})
    assert refused.status_code == 403
    settled = _post(client, admin, f"/api/packages/{package['id']}/settle", {})
    assert settled.status_code == 200, settled.content
    assert (settled.json()["refund"], settled.json()["credit_note_number"]) == ("400.00", 1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"uses": "0"}, "from 1 to 50, not 0"),
        ({"price": "-1.00"}, ""),  # the pattern refuses it
        ({"price": 600}, ""),  # a JSON number: refused (money is decimal text)
        ({"validity_days": "5000"}, "validity in days"),
        ({"protocol_id": "", "item_codes": []}, "Name the protocol"),
    ],
)
def test_bad_offers_answer_422_and_write_nothing(
    client: Any, api_token: Any, admin_user: User, fees: dict[str, Any], changes: dict[str, Any], message: str
) -> None:
    headers = api_token(admin_user)  # the token's own creation is audited: before the count
    before = FeeItem.objects.count(), PackageTerms.objects.count(), AuditEvent.objects.count()
    response = _post(client, headers, "/api/billing/packages", {**OFFER, **changes})
    assert response.status_code == 422 and message in response.content.decode()
    assert (FeeItem.objects.count(), PackageTerms.objects.count(), AuditEvent.objects.count()) == before


def test_selling_on_an_issued_invoice_answers_409_and_researchers_see_nothing(
    client: Any, api_token: Any, admin_user: User, frontdesk: User, researcher: User, patient: Any, fees: Any
) -> None:
    offer = _post(client, api_token(admin_user), "/api/billing/packages", OFFER).json()
    desk = api_token(frontdesk)
    draft = _post(client, desk, f"/api/patients/{patient.uuid}/invoices", {}).json()
    _post(client, desk, f"/api/invoices/{draft['id']}/lines", {"fee_id": str(fees["FOLLOW-UP"].uuid)})
    _post(client, desk, f"/api/invoices/{draft['id']}/issue", {})
    assert Invoice.objects.get(uuid=draft["id"]).number == 1
    researcher_headers = api_token(researcher)
    before = SoldPackage.objects.count(), AuditEvent.objects.count()
    response = _post(client, desk, f"/api/invoices/{draft['id']}/packages", {"offer_id": offer["id"]})
    assert response.status_code == 409 and "sold on a draft invoice" in response.json()["detail"]
    assert (SoldPackage.objects.count(), AuditEvent.objects.count()) == before
    assert client.get(f"/api/patients/{patient.uuid}/packages", headers=researcher_headers).status_code == 403
    assert client.get("/api/billing/packages", headers=researcher_headers).status_code == 403
