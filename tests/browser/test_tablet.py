"""The patient list on a tablet held upright (820x1180), as used at the chair side."""

from collections.abc import Callable
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from prolotrack.clinics.models import User
from prolotrack.patients.models import Patient
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser

PEOPLE = [
    ("Ada", "Lovelace", date(1960, 5, 17), "female"),
    ("Grace", "Hopper", date(1951, 12, 9), "female"),
    ("Alan", "Turing", date(1962, 6, 23), "male"),
    ("Maximiliana Josefina", "Vandermeulen-Oyelaran", date(1979, 1, 30), "other"),
    ("Sam", "Ng", date(2001, 8, 4), "unknown"),
]


def test_the_patient_list_fits_a_tablet_screen_without_sideways_scrolling(
    tablet_page: Page, clinician: User, make_patient: Callable[..., Patient]
) -> None:
    for given, family, born, sex in PEOPLE:
        make_patient(given_name=given, family_name=family, date_of_birth=born, sex=sex)
    page = log_in(tablet_page, clinician)

    expect(page.locator("#results tbody tr")).to_have_count(len(PEOPLE))
    expect(page.get_by_label("Find a patient")).to_be_visible()
    expect(page.get_by_role("link", name="Register a patient")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Log out")).to_be_in_viewport()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a tablet"
    # Finger-sized targets (44 px): the search button, and each patient's name fills its cell.
    for target in (page.get_by_role("button", name="Search"), page.get_by_role("link", name="Ng, Sam")):
        box = target.bounding_box()
        assert box is not None and box["height"] >= 44, f"{target} is {box} on a tablet"
    shot(page, "tablet-01-patient-list")
