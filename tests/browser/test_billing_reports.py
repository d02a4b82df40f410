"""A clinic administrator opens the financial reports in the browser (issue 15), on a desktop and on a 390 px phone:
takings by day and method with its chart, by clinician, ageing with its chart, invoices and credit notes, a CSV.
Screenshots: test-artifacts/screenshots/reports-*.png."""

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import QuerySet
from playwright.sync_api import Page, expect

from prolotrack.billing import services
from prolotrack.billing.models import Invoice
from prolotrack.billing.testing import fee_schedule
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from tests.browser.conftest import log_in, shot, wait_until

pytestmark = pytest.mark.browser

CHARTS_LOADED = "Array.from(document.querySelectorAll('.report-pair img')).every(i => i.complete && i.naturalWidth > 0)"


def _issue(actor: Any, patient: Any, *fees: Any) -> Invoice:
    draft = services.draft_invoice(actor, patient)
    for fee in fees:
        services.add_line(actor, draft, fee)
    return services.issue_invoice(actor, Invoice.objects.get(pk=draft.pk))


@pytest.fixture
def month(admin_user: User, frontdesk: User, make_patient: Any, clinic: Any) -> dict[str, Any]:
    """Three patients, invoices of several ages, payments by card, cash and cheque on different days, a refund, a
    credit note and a void."""
    admin, desk = actor_of(admin_user), actor_of(frontdesk)
    today = services.clinic_today(clinic)
    fees = fee_schedule(admin, today - timedelta(days=200))
    ada = make_patient()
    grace = make_patient(given_name="Grace", family_name="Hopper")
    alan = make_patient(given_name="Alan", family_name="Turing")
    first = _issue(desk, ada, fees["NEW-ASSESS"], fees["US-GUIDE"])
    old = _issue(desk, grace, fees["NEW-ASSESS"])
    older = _issue(desk, alan, fees["FOLLOW-UP"], fees["BRACE-KNEE"])
    # Test-only: issue dates the services always set to today, moved back to give the ageing its buckets.
    QuerySet(model=Invoice).filter(pk=old.pk).update(issued_on=today - timedelta(days=45))
    QuerySet(model=Invoice).filter(pk=older.pk).update(issued_on=today - timedelta(days=100))
    services.record_payment(desk, ada, amount="150.00", currency="USD", method="card",
                            received_on=max(today.replace(day=1), today - timedelta(days=2)))  # fmt: skip
    cash = services.record_payment(desk, ada, amount="140.00", currency="USD", method="cash")
    services.record_payment(desk, grace, amount="100.00", currency="USD", method="cheque")
    services.record_payment(desk, alan, amount="60.00", currency="USD", method="cash")
    services.credit_invoice(admin, first, amount="20.00", reason="Goodwill: the scan was not needed")
    services.refund_payment(admin, cash, amount="10.00", reason="Overpaid at the desk, returned")
    mistake = _issue(desk, grace, fees["FOLLOW-UP"])
    services.void_invoice(admin, mistake, reason="Charged by mistake, no visit")
    return {"today": today}


def test_the_administrator_reads_the_reports_on_a_desktop_and_a_phone(
    page: Page, new_page: Any, admin_user: User, month: dict
) -> None:
    log_in(page, admin_user)
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Financial reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Financial reports")
    summary = page.get_by_label("Summary")
    expect(summary).to_contain_text("Net takings")
    expect(page.locator("#by-clinician")).to_contain_text("No clinician (invoice not from a session)")
    expect(page.locator("#ageing")).to_contain_text("Turing, Alan")
    expect(page.locator("#issued")).to_contain_text("Void (credited in full)")
    wait_until(page, CHARTS_LOADED)
    shot(page, "reports-desktop")

    with page.expect_download() as download:
        page.locator("#ageing").get_by_role("link", name="CSV for the accountant").click()
    assert download.value.suggested_filename.startswith("ageing-")

    page.get_by_label("From").fill("2026-12-05")
    page.get_by_label("To").fill("2026-12-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("is before From")

    phone = new_page(phone=True)
    log_in(phone, admin_user)
    phone.goto("/billing/reports/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Financial reports")
    wait_until(phone, CHARTS_LOADED)
    # Nothing wider than the screen but the scrolling takings table.
    wide = phone.evaluate("document.documentElement.scrollWidth")
    assert wide <= 392, wide
    shot(phone, "reports-phone")
