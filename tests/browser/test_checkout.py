"""A front-desk person checks out a signed session in Chromium (issue 15): the draft drafted on signing, issued after
the confirmation, paid by card and cash, the receipt downloaded and read, and a superbill for a date range; at
desktop width and on a 390 px phone. Screenshots go to test-artifacts/screenshots/checkout-*.png."""

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from prolotrack.billing.models import Invoice, InvoiceStatus, Payment
from prolotrack.billing.services import clinic_today, create_package_offer
from prolotrack.billing.testing import fee_schedule, set_clinic_settings
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Patient
from prolotrack.treatment import services as treatment
from prolotrack.treatment.models import TreatmentSession
from prolotrack.treatment.testing import knee_course
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(data)).pages)


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.fixture
def course(clinician: User, patient: Patient) -> Any:
    start = clinic_today(patient.clinic) - timedelta(days=60)
    with transaction.atomic():
        patient_services.add_child(
            actor_of(clinician), patient, "weight", {"measured_on": start - timedelta(days=5), "weight_kg": Decimal(70)}
        )
    return knee_course(clinician, patient, start)


def record_and_sign(clinician: User, session: TreatmentSession) -> TreatmentSession:
    """A session recorded and signed through the services (six sites right, two left), as a clinician would; the
    signature commits, so the invoice is drafted as in production."""
    actor = actor_of(clinician)
    solution = treatment.add_solution(
        actor, session, label="A", final_volume_ml=Decimal(10), diluent_lot="NS-5",
        components=[
            {"agent": "dextrose", "target_pct": "15", "stock_pct": "50", "lot": "D50-1",
             "expiry": session.planned_on + timedelta(days=300)},
            {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2", "lot": "L-1",
             "expiry": session.planned_on + timedelta(days=300)},
        ],
    )  # fmt: skip
    for item, answer in (
        ("meal", "yes"),
        ("consent", "yes"),
        ("skin_prep", "yes"),
        ("numbing", "na"),
        ("time_out", "yes"),
    ):
        treatment.tick(actor, session, item, answer)
    treatment.rescreen_for_the_day(actor, session)
    for side in ["right"] * 6 + ["left"] * 2:
        treatment.add_site(
            actor, TreatmentSession.objects.get(pk=session.pk), solution=solution, body_map="knee_front",
            x=Decimal(100), y=Decimal(100), side=side, volume_ml=Decimal("0.5"), label="Tender point",
        )  # fmt: skip
    return treatment.sign_session(actor, TreatmentSession.objects.get(pk=session.pk))


def test_front_desk_checks_out_a_signed_session_and_prints_receipt_and_superbill(
    new_page: Any, admin_user: User, clinician: User, frontdesk: User, patient: Patient, course: Any,
    signed_consent: Any,
) -> None:  # fmt: skip
    clinic = patient.clinic
    start = course.sessions.get(number=1).planned_on
    set_clinic_settings(clinic, address="12 Main Street, Springfield, IL 62701", npi="1234567893")
    fee_schedule(actor_of(admin_user), start - timedelta(days=30))
    create_package_offer(
        actor_of(admin_user), code="PKG-KNEE-3", description="Knee course of 3", price="600.00", uses=3,
        validity_days=180, protocol_id="knee_oa_rabago", active_from=start - timedelta(days=30),
    )  # fmt: skip
    first = record_and_sign(clinician, course.sessions.get(number=1))
    draft = Invoice.objects.get(session=first)  # drafted on signing
    assert draft.status == InvoiceStatus.DRAFT and draft.total == 500

    page = new_page()
    log_in(page, frontdesk)
    # The front desk opens the signed session's appointment (from the calendar): its Invoice card offers checkout.
    page.goto(f"/sessions/{first.uuid}/appointment/")
    invoice_card = page.locator("#session-billing")
    expect(invoice_card).to_contain_text("Draft invoice of 500.00 USD")
    shot(page, "checkout-01-appointment-card")
    invoice_card.get_by_role("link", name="Check out").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Checkout")
    expect(page.locator(".checkout-lines")).to_contain_text("Prolotherapy (knee, right)")
    expect(page.locator(".checkout-totals .total")).to_contain_text("500.00 USD")
    shot(page, "checkout-02-review")
    page.get_by_role("link", name="Issue…").click()
    confirm = page.locator("#issue")
    expect(confirm).to_contain_text("takes the clinic's next invoice number")
    expect(confirm.get_by_role("button", name="Issue invoice (500.00 USD)")).to_be_focused()
    shot(page, "checkout-03-confirm-issue")
    page.keyboard.press("Enter")  # the focused confirmation button, as a keyboard user would

    expect(page.locator(".msg-success")).to_contain_text("Invoice 1 issued")
    expect(page.locator("#checkout-owed")).to_have_text("500.00 USD")
    expect(page.get_by_label("Amount (USD)").first).to_be_focused()
    rows = page.locator(".pay-row")
    rows.nth(0).get_by_label("Amount (USD)").fill("300.00")
    rows.nth(0).get_by_label("Terminal or bank reference").fill("TID 4471")
    rows.nth(1).get_by_label("Method").select_option("cash")
    rows.nth(1).get_by_label("Amount (USD)").fill("200.00")
    shot(page, "checkout-04-split-payment")
    page.get_by_role("button", name="Record the payment").click()

    expect(page.locator(".msg-success")).to_contain_text("card 300.00 USD + cash 200.00 USD")
    expect(page.locator(".ok-banner")).to_contain_text("Paid in full")
    expect(page.locator("#checkout-owed")).to_have_text("0.00 USD")
    shot(page, "checkout-05-paid")
    payments = {p.method: p for p in Payment.objects.filter(patient=patient)}
    assert (payments["card"].amount, payments["card"].reference, payments["cash"].amount) == (300, "TID 4471", 200)

    card_row = page.locator(".checkout-payments li", has_text="Card")
    with page.expect_download() as receipt:
        card_row.get_by_role("link", name="Receipt (PDF)").click()
    text = pdf_text(receipt.value.path().read_bytes())
    for expected in ("Receipt", "300.00 USD", "Card (ref. TID 4471)", "Invoice 1", patient.family_name):
        assert expected in text, expected

    # Emailing needs the patient's address: this patient has none, and the front desk is told so.
    card_row.get_by_role("button", name="Email receipt").click()
    expect(page.locator(".msg-error")).to_contain_text("has no email address on record")
    shot(page, "checkout-06-email-refused")

    page.get_by_role("link", name="Superbill…").click()
    download_form = page.locator("form[method=get]")
    download_form.get_by_label("Services from").fill(f"{start - timedelta(days=1):%Y-%m-%d}")
    download_form.get_by_label("to", exact=True).fill(f"{clinic_today(clinic):%Y-%m-%d}")
    shot(page, "checkout-06-superbill-range")
    with page.expect_download() as superbill:
        download_form.get_by_role("button", name="Download the superbill (PDF)").click()
    text = pdf_text(superbill.value.path().read_bytes())
    for expected in ("Superbill", "1234567893", "M0076", "M17.11", "500.00 USD", f"{start:%Y-%m-%d}"):
        assert expected in text, expected

    # On a 390 px phone: the patient buys a package of three sessions for the course, paid by card and cash; the next
    # signed session then draws a use instead of a charge.
    phone = new_page(phone=True)
    log_in(phone, frontdesk)
    phone.goto(f"/patients/{patient.uuid}/account/")
    phone.get_by_role("link", name="Sell a package").click()
    phone.get_by_label("Package").select_option(label="PKG-KNEE-3: Knee course of 3, 3 sessions, 600.00, 180 days")
    phone.get_by_label("For the course").select_option(label=str(course))
    no_sideways_scroll(phone)
    shot(phone, "checkout-07-phone-sell-package")
    phone.get_by_role("button", name="Put it on a draft invoice").click()
    phone.get_by_role("link", name="Check out").click()
    expect(phone.locator(".checkout-totals .total")).to_contain_text("600.00 USD")
    no_sideways_scroll(phone)
    shot(phone, "checkout-08-phone-review")
    phone.get_by_role("link", name="Issue…").click()
    shot(phone, "checkout-09-phone-confirm")
    phone.get_by_role("button", name="Issue invoice (600.00 USD)").click()
    rows = phone.locator(".pay-row")
    rows.nth(0).get_by_label("Amount (USD)").fill("450")
    rows.nth(0).get_by_label("Terminal or bank reference").fill("TID 4480")
    rows.nth(1).get_by_label("Method").select_option("cash")
    rows.nth(1).get_by_label("Amount (USD)").fill("150")
    no_sideways_scroll(phone)
    shot(phone, "checkout-10-phone-split-payment")
    phone.get_by_role("button", name="Record the payment").click()
    expect(phone.locator(".ok-banner")).to_contain_text("Paid in full")
    no_sideways_scroll(phone)
    shot(phone, "checkout-11-phone-paid")

    second = record_and_sign(clinician, course.sessions.get(number=2))
    drawn = Invoice.objects.get(session=second)
    assert drawn.total == 0  # the package's use, not a charge
    phone.goto(f"/sessions/{second.uuid}/appointment/")
    expect(phone.locator("#session-billing")).to_contain_text("Draft invoice of 0.00 USD")
    phone.locator("#session-billing").get_by_role("link", name="Check out").click()
    expect(phone.locator(".checkout-lines")).to_contain_text("Knee course of 3")
    phone.get_by_role("link", name="Issue…").click()
    phone.get_by_role("button", name="Issue invoice (0.00 USD)").click()
    expect(phone.locator(".ok-banner")).to_contain_text("Nothing to pay")
    no_sideways_scroll(phone)
    shot(phone, "checkout-12-phone-package-session")
