"""Marking a record entered in error: nothing is deleted, the record stays visible and struck through."""

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from prolotrack.clinics.models import User
from prolotrack.patients.models import Patient
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


def test_a_weight_marked_entered_in_error_stays_on_the_chart_struck_through_with_its_reason(
    page: Page, clinician: User, patient: Patient, add_record: Callable[..., Any]
) -> None:
    weight = add_record(patient, "weight", measured_on=date(2024, 3, 1), weight_kg=Decimal("61.2"), note="")
    log_in(page, clinician)
    page.goto(f"/patients/{patient.uuid}/")
    expect(page.locator(".patient-banner")).to_contain_text("Weight 61.2 kg")

    row = page.locator("section#weight tbody tr", has_text="61.2 kg")
    row.get_by_role("link", name="Error…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mark this weight entered in error")
    expect(page.locator(".confirm-changes")).to_contain_text("marked entered in error")
    page.get_by_label("Wrong value or typing error").check()
    page.get_by_label("Details").fill("Weighed with shoes and a coat on")
    shot(page, "error-01-reason")
    page.get_by_role("button", name="Mark entered in error").click()

    expect(page).to_have_url(re.compile(rf"/patients/{patient.uuid}/$"))
    expect(page.locator(".msg-success")).to_contain_text("Marked as entered in error")
    expect(row).to_be_visible()
    expect(row).to_have_class(re.compile(r"\bretired\b"))
    expect(row.locator("td").first).to_have_css("text-decoration-line", "line-through")
    status = row.locator(".row-actions")
    expect(status).to_have_text("entered in error")
    expect(status.locator("[title]")).to_have_attribute(
        "title", "Wrong value or typing error: Weighed with shoes and a coat on"
    )
    expect(row.get_by_role("link", name="Edit")).to_have_count(0)
    # The reason is on the page, not only in a tooltip that a tablet cannot show.
    expect(page.locator("section#weight tr.retired-reason")).to_have_text(
        "Reason: Wrong value or typing error: Weighed with shoes and a coat on"
    )
    # The banner no longer quotes a weight that is known to be wrong.
    expect(page.locator(".patient-banner")).to_contain_text("Weight not recorded")
    shot(page, "error-02-weight-struck-through")

    weight.refresh_from_db()
    assert weight.is_entered_in_error
    assert weight.entered_in_error_reason == "Wrong value or typing error: Weighed with shoes and a coat on"
