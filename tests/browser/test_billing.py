"""The front desk checks a patient out in the browser (issue 15): from the chart's Account card a new invoice, two
fee items, issued through the confirmation step, then a split payment (card, then cash) that leaves nothing owed."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from prolotrack.billing.models import Invoice, InvoiceStatus, Payment
from prolotrack.billing.services import clinic_today
from prolotrack.billing.testing import fee_schedule
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.patients.models import Patient
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


def test_front_desk_invoices_and_takes_a_split_payment(
    page: Page, admin_user: User, frontdesk: User, patient: Patient
) -> None:
    fee_schedule(actor_of(admin_user), clinic_today(patient.clinic) - timedelta(days=30))
    log_in(page, frontdesk)
    page.goto(f"/patients/{patient.uuid}/")
    card = page.locator("#account")
    expect(card).to_contain_text("Nothing owed")
    card.get_by_role("button", name="New invoice").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft invoice")
    page.get_by_label("Fee item").select_option(label="M0076: Prolotherapy (250.00)")
    page.get_by_role("button", name="Add line").click()
    page.get_by_label("Fee item").select_option(label="BRACE-KNEE: Knee brace (45.00)")
    page.get_by_role("button", name="Add line").click()
    expect(page.locator(".invoice-lines tfoot")).to_contain_text("298.71 USD")
    shot(page, "billing-01-draft")

    page.get_by_role("link", name="Issue…").click()
    expect(page.locator(".confirm-changes")).to_contain_text("takes the clinic's next invoice number")
    page.get_by_role("button", name="Issue the invoice").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Invoice 1")
    expect(page.locator(".invoice-owed")).to_have_text("298.71 USD")
    shot(page, "billing-02-issued")

    page.get_by_role("link", name="Take a payment").click()
    page.get_by_label("Amount received").fill("200.00")
    page.get_by_label("Method").select_option("card")
    page.get_by_label("Terminal or bank reference").fill("TID 4471")
    shot(page, "billing-03-payment")
    page.get_by_role("button", name="Record the payment").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.uuid}/account/$"))
    expect(page.locator("#account")).to_contain_text("Owes 98.71 USD")

    page.get_by_role("link", name="Take a payment").click()
    page.get_by_label("Amount received").fill("98.71")
    page.get_by_label("Method").select_option("cash")
    page.get_by_role("button", name="Record the payment").click()
    expect(page.locator("#account")).to_contain_text("Nothing owed")
    expect(page.locator(".account-history")).to_contain_text("Payment, card (TID 4471)")
    shot(page, "billing-04-account")

    invoice = Invoice.objects.get(patient=patient)
    assert invoice.status == InvoiceStatus.ISSUED and invoice.number == 1
    assert sorted(Payment.objects.filter(patient=patient).values_list("method", flat=True)) == ["card", "cash"]
