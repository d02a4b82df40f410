"""The front desk sells a course package in the browser (issue 15): from the chart's Account card, "Sell a package"
for the patient's open knee course, the draft invoice issued through the confirmation step, then the sessions left
on the account card, the package's page and, for the clinician, the course page's Packages card."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from prolotrack.billing import services
from prolotrack.billing.models import SoldPackage
from prolotrack.billing.services import clinic_today
from prolotrack.billing.testing import fee_schedule
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.patients.models import Patient
from prolotrack.treatment.testing import knee_course
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


def test_front_desk_sells_a_package_for_a_course(
    page: Page, admin_user: User, frontdesk: User, clinician: User, patient: Patient
) -> None:
    day = clinic_today(patient.clinic)
    admin = actor_of(admin_user)
    fee_schedule(admin, day - timedelta(days=30))
    services.create_package_offer(
        admin, code="PKG-KNEE-3", description="Knee course of 3", price="660.00", uses=3, validity_days=180,
        protocol_id="knee_oa_rabago", active_from=day - timedelta(days=30),
    )  # fmt: skip
    course = knee_course(clinician, patient, day)
    log_in(page, frontdesk)
    page.goto(f"/patients/{patient.uuid}/")
    page.locator("#account").get_by_role("link", name="Sell a package").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sell a package")
    page.get_by_label("Package").select_option(label="PKG-KNEE-3: Knee course of 3, 3 sessions, 660.00, 180 days")
    page.get_by_label("For the course").select_option(str(course.uuid))
    shot(page, "packages-01-sell")
    page.get_by_role("button", name="Put it on a draft invoice").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft invoice")
    expect(page.locator(".invoice-lines")).to_contain_text("Knee course of 3 (3 uses, valid to")
    expect(page.locator(".invoice-lines tfoot")).to_contain_text("660.00 USD")
    page.get_by_role("link", name="Issue…").click()
    page.get_by_role("button", name="Issue the invoice").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Invoice 1")
    shot(page, "packages-02-issued")

    page.goto(f"/patients/{patient.uuid}/account/")
    expect(page.locator("#account .packages")).to_contain_text("3 of 3 sessions left")
    page.locator("#account .packages").get_by_role("link", name="Knee course of 3").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Knee course of 3")
    expect(page.locator("body")).to_contain_text("No use drawn yet.")
    shot(page, "packages-03-package")

    page.context.clear_cookies()  # the course page is the clinician's (the front desk does not open courses)
    log_in(page, clinician)
    page.goto(f"/courses/{course.uuid}/")
    expect(page.locator("#packages-card")).to_contain_text("3 of 3 sessions left")
    shot(page, "packages-04-course-card")
    sold = SoldPackage.objects.get(patient=patient)
    assert sold.course == course and sold.invoice.number == 1
