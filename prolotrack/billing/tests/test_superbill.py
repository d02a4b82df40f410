"""The superbill over a demo-like set of invoices: a paid assessment, a session's invoice with a credit note and a part
payment, a voided invoice (left out); the practice's NPI and tax id, ICD-10-CM codes from the course, HCPCS lines
with units and charges, what was paid; the date range; who may download it (researchers see no money)."""

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from prolotrack.audit.models import AuditEvent
from prolotrack.billing import printing, services
from prolotrack.billing.models import Invoice
from prolotrack.billing.testing import set_clinic_settings
from prolotrack.billing.tests.conftest import START
from prolotrack.billing.tests.test_printing import pdf_text
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.core.pdf import render_html
from prolotrack.core.templatetags.prolo import person


def _issue(actor: Any, patient: Any, fee: Any) -> Invoice:
    draft = services.draft_invoice(actor, patient)
    services.add_line(actor, draft, fee)
    return services.issue_invoice(actor, Invoice.objects.get(pk=draft.pk))


@pytest.fixture
def invoices(frontdesk: User, admin_user: User, signed_session: Any, fees: dict[str, Any], clinic: Any) -> dict:
    """1: an assessment, paid in cash; 2: session 1 (knee right and left, 2 x 250.00), 50.00 credited, 300.00 paid by
    card; 3: a follow-up, voided."""
    set_clinic_settings(clinic, address="12 Main Street, Springfield, IL 62701", npi="1234567893", tax_id="123456789")
    desk, admin = actor_of(frontdesk), actor_of(admin_user)
    patient = signed_session.patient
    assessment = _issue(desk, patient, fees["NEW-ASSESS"])
    services.record_payment(desk, patient, amount="180.00", currency="USD", method="cash")
    draft = services.draft_from_session(desk, signed_session)
    session_invoice = services.issue_invoice(desk, Invoice.objects.get(pk=draft.pk))
    services.credit_invoice(admin, session_invoice, amount="50.00", reason="Goodwill: the session started late")
    services.record_payment(desk, patient, amount="300.00", currency="USD", method="card", reference="T-1")
    voided = _issue(desk, patient, fees["FOLLOW-UP"])
    services.credit_invoice(admin, voided, amount=None, reason="Charged by mistake", void=True)
    return {"assessment": assessment, "session": session_invoice, "voided": voided, "patient": patient}


def test_the_superbill_lists_services_codes_and_payments(invoices: dict, clinic: Any) -> None:
    today = services.clinic_today(clinic)
    patient, session_invoice = invoices["patient"], invoices["session"]
    context = printing.superbill_context(patient, START - timedelta(days=1), today)
    assert [
        (s["line"].code, s["line"].description, s["line"].quantity, s["pointers"]) for s in context["services"]
    ] == [
        ("M0076", "Prolotherapy (knee, right)", 1, "A"),
        ("M0076", "Prolotherapy (knee, left)", 1, "A"),
        ("NEW-ASSESS", "New patient assessment", 1, ""),
    ]
    assert [s["day"] for s in context["services"]] == [START, START, today]
    assert [(d["letter"], d["code"].code) for d in context["diagnoses"]] == [("A", "M17.11")]
    assert [row["invoice"].number for row in context["invoices"]] == [session_invoice.number, 1]
    assert (context["charges"], context["credited"], context["paid"], context["balance"]) == (680, 50, 480, 150)
    html = render_html(printing.SUPERBILL_TEMPLATE, context)
    for expected in ("NPI", "1234567893", "12-3456789", "12 Main Street, Springfield, IL 62701", "M17.11",
                     "Unilateral primary osteoarthritis, right knee", "680.00 USD", "480.00 USD", "150.00 USD",
                     patient.family_name, patient.mrn):  # fmt: skip
        assert expected in html, expected
    assert "FOLLOW-UP" not in html  # the voided invoice is not claimed
    assert f"{person(session_invoice.session.signed_by)}, NPI not recorded" in html  # the rendering clinician


def test_the_range_is_by_date_of_service(invoices: dict) -> None:
    context = printing.superbill_context(invoices["patient"], START, START)
    assert {s["line"].code for s in context["services"]} == {"M0076"}
    assert (context["charges"], context["paid"]) == (500, 300)
    empty = printing.superbill_context(invoices["patient"], START - timedelta(days=9), START - timedelta(days=1))
    assert empty["services"] == [] and empty["charges"] == 0


def test_the_front_desk_downloads_it_as_pdf_and_it_is_audited(login: Any, frontdesk: User, invoices: dict) -> None:
    patient = invoices["patient"]
    url = reverse("billing:superbill", args=[patient.uuid])
    client = login(frontdesk)
    form = client.get(url)
    assert form.status_code == 200 and 'name="start"' in form.content.decode()
    response = client.get(url, {"start": START.isoformat(), "end": START.isoformat()})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in (
        "Superbill",
        "1234567893",
        "12-3456789",
        "M17.11",
        "M0076",
        "250.00 USD",
        "Amount paid 300.00 USD",
    ):
        assert expected in text, f"{expected!r} not in {text!r}"
    event = AuditEvent.objects.get(action="billing.superbill.downloaded")
    assert event.detail["start"] == START.isoformat() and event.patient_uuid == patient.uuid


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [("2026-11-10", "2026-11-01", "The first day is after the last"), ("soon", "2026-11-01", "Enter a valid date")],
)
def test_a_bad_range_is_refused_and_nothing_is_audited(
    login: Any, frontdesk: User, invoices: dict, start: str, end: str, message: str
) -> None:
    url = reverse("billing:superbill", args=[invoices["patient"].uuid])
    response = login(frontdesk).get(url, {"start": start, "end": end})
    assert response.status_code == 400 and message in response.content.decode()
    assert not AuditEvent.objects.filter(action="billing.superbill.downloaded").exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("frontdesk", 200), ("admin_user", 200), ("clinician", 200), ("nurse", 403), ("researcher", 403),
     ("outsider", 404)],
)  # fmt: skip
def test_who_may_get_a_superbill(
    request: Any, login: Any, make_member: Any, clinic: Any, invoices: dict, persona: str, status: int
) -> None:
    user = make_member("nurse1", "nurse", clinic) if persona == "nurse" else request.getfixturevalue(persona)
    url = reverse("billing:superbill", args=[invoices["patient"].uuid])
    response = login(user).get(url, {"start": START.isoformat(), "end": START.isoformat()})
    assert response.status_code == status
    if status != 200:
        assert b"M17.11" not in response.content and b"USD" not in response.content


@pytest.mark.parametrize(
    ("settings", "shown", "not_shown"),
    [
        ({"tax_id": "123456789"}, "<br>Tax ID 12-3456789", "NPI 1"),
        ({"npi": "1234567893"}, "<br>NPI 1234567893</div>", "Tax ID 1"),
        ({}, "not recorded (clinic settings)", "<br>NPI"),
    ],
)
def test_the_letterhead_leaves_out_what_the_clinic_has_not_recorded(
    clinic: Any, patient: Any, settings: dict, shown: str, not_shown: str
) -> None:
    set_clinic_settings(clinic, **settings)
    patient.refresh_from_db()
    html = render_html(printing.SUPERBILL_TEMPLATE, printing.superbill_context(patient, START, START))
    assert shown in html and not_shown not in html
    assert "No issued invoice has a date of service in this period." in html


def test_the_rendering_clinicians_own_npi_is_printed_beside_the_name(
    invoices: dict, clinic: Any, admin_user: User
) -> None:
    from prolotrack.clinics.models import Membership
    from prolotrack.clinics.services import set_member_npi

    clinician = invoices["session"].session.signed_by
    member = Membership.objects.get(user=clinician, clinic=clinic)
    set_member_npi(actor_of(admin_user), member, "1245319599")  # a valid NPI (CMS check digit)
    context = printing.superbill_context(invoices["patient"], START, START)
    assert {s["npi"] for s in context["services"]} == {"1245319599"}
    text = pdf_text(printing.superbill_pdf(invoices["patient"], START, START))
    assert "1245319599" in text  # the rendering provider's own NPI
    assert "1234567893" in text  # the practice's stays the billing provider's
    html = render_html(printing.SUPERBILL_TEMPLATE, context)
    assert f"{person(clinician)}, NPI 1245319599" in html
