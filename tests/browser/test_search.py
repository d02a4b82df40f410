"""Finding a patient from the search box on the patient list (live results through HTMX)."""

import re
from collections.abc import Callable
from datetime import date

import pytest
from playwright.sync_api import Locator, Page, expect

from prolotrack.clinics.models import User
from prolotrack.patients.models import Patient
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def registry(make_patient: Callable[..., Patient]) -> dict[str, Patient]:
    return {
        "ada": make_patient(given_name="Ada", family_name="Lovelace", date_of_birth=date(1960, 5, 17)),
        "byron": make_patient(given_name="Byron", family_name="Lovelace", date_of_birth=date(1988, 2, 3), sex="male"),
        "grace": make_patient(given_name="Grace", family_name="Hopper", date_of_birth=date(1951, 12, 9)),
        "alan": make_patient(given_name="Alan", family_name="Turing", date_of_birth=date(1960, 5, 17), sex="male"),
    }


def result_names(page: Page) -> Locator:
    return page.locator("#results tbody tr td:first-child")


def search(page: Page, text: str) -> None:
    """Type into the search box key by key, as a person does; HTMX fires after a 250 ms pause."""
    box = page.get_by_label("Find a patient")
    box.fill("")
    box.press_sequentially(text, delay=20)


def test_typing_a_surname_narrows_the_list_to_matching_patients_without_reloading_the_page(
    page: Page, clinician: User, registry: dict[str, Patient]
) -> None:
    log_in(page, clinician)
    expect(result_names(page)).to_have_count(4)
    # A marker that a full page load would wipe: the results must come from HTMX, not a form submit.
    page.evaluate("window.__samePage = true")

    search(page, "lovel")

    expect(result_names(page)).to_have_text(["Lovelace, Ada", "Lovelace, Byron"])
    expect(page.locator("#result-count")).to_contain_text("2 patients matching “lovel”")
    expect(page).to_have_url(re.compile(r"\?q=lovel$"))
    assert page.evaluate("window.__samePage") is True
    shot(page, "search-01-surname")

    search(page, "Nobody-here")
    expect(page.locator("#results .empty")).to_contain_text("No patient matches “Nobody-here”")
    expect(page.locator("#results table")).to_have_count(0)
    shot(page, "search-02-no-match")


def test_searching_by_record_number_finds_that_one_patient(
    page: Page, clinician: User, registry: dict[str, Patient]
) -> None:
    grace = registry["grace"]
    log_in(page, clinician)

    search(page, grace.mrn)

    expect(result_names(page)).to_have_text(["Hopper, Grace"])
    expect(page.locator("#results tbody td.mono")).to_have_text([grace.mrn])
    shot(page, "search-03-record-number")

    page.get_by_role("link", name="Hopper, Grace").click()
    expect(page).to_have_url(re.compile(rf"/patients/{grace.uuid}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hopper, Grace")


def test_searching_by_date_of_birth_finds_everyone_born_that_day(
    page: Page, clinician: User, registry: dict[str, Patient]
) -> None:
    log_in(page, clinician)

    search(page, "1960-05-17")

    expect(result_names(page)).to_have_text(["Lovelace, Ada", "Turing, Alan"])
    expect(page.locator("#results tbody tr td:nth-child(3)")).to_have_text(["1960-05-17", "1960-05-17"])
    shot(page, "search-04-date-of-birth")
