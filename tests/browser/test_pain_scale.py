"""The 0-10 pain scale on a 390 px phone: one control per row that a thumb can use, and the review shows the answers.

Eleven buttons of at least 44 px (WCAG 2.5.5 target size; Apple HIG 44 pt) need 484 px plus gaps, more than a
390 px phone offers, so on the phone the scale is a slider with the chosen value shown large, with - and + buttons of
48 px; on wider screens it is one row of buttons, each at least 44 px wide. Screenshots in
test-artifacts/screenshots/q-scale-*.png.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from prolotrack.clinics.testing import actor_of
from prolotrack.outcomes import services
from prolotrack.outcomes.models import QuestionnaireResponse

from .conftest import DESKTOP, TABLET, shot

PHONE = {"width": 390, "height": 844}
NOW = "How bad is your pain right now?"
AVERAGE = "On average, how bad was your pain over the last 7 days?"
WORST = "At its worst, how bad was your pain over the last 7 days?"


def _open(browser: Browser, live_server: Any, viewport: dict[str, int], watch: Any, **kw: Any) -> Page:
    context = watch(browser.new_context(viewport=viewport, base_url=live_server.url, **kw))
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.fixture
def phone(browser: Browser, live_server: Any, watch_csp: Any) -> Iterator[Page]:
    page = _open(browser, live_server, PHONE, watch_csp, is_mobile=True, has_touch=True)
    yield page
    page.context.close()


@pytest.fixture
def nrs_path(clinician, patient) -> str:
    _, path = services.create_link(actor_of(clinician), patient, instruments=["nrs_pain"])
    return path


def set_scale(group: Locator, value: int) -> None:
    """Choose a value on the phone's slider by keyboard (Home, then arrow right), as a switch or keyboard user does."""
    slider = group.get_by_role("slider")
    slider.focus()
    slider.press("Home")
    for _ in range(value):
        slider.press("ArrowRight")
    expect(group.locator("output")).to_have_text(str(value))


def _no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


def test_on_a_390px_phone_the_pain_scale_is_a_slider_with_the_value_shown(phone: Page, nrs_path: str) -> None:
    phone.goto(f"{nrs_path}1/", timeout=60_000)
    now = phone.get_by_role("group", name=NOW)
    expect(now.get_by_role("slider", name=NOW)).to_be_visible()
    # Untouched: no value is claimed for the patient, and the buttons (the form's fields) are not shown.
    expect(now.locator("output")).to_have_text("Not answered yet: move the slider or use − and +")
    expect(now.locator("label.opt").first).to_be_hidden()
    expect(now.locator("input[type=radio]:checked")).to_have_count(0)
    _no_horizontal_scroll(phone)
    shot(phone, "q-scale-1-phone-untouched")

    # Every control a thumb touches is at least 44 px in both directions.
    for control in (now.get_by_role("button", name="Lower"), now.get_by_role("button", name="Higher")):
        box = control.bounding_box()
        assert box is not None and box["width"] >= 44 and box["height"] >= 44, box
    slider_box = now.get_by_role("slider").bounding_box()
    assert slider_box is not None and slider_box["height"] >= 44 and slider_box["width"] >= 150, slider_box
    # The slider, its ends and the - / + buttons sit in one row inside the page.
    lower_box = now.get_by_role("button", name="Lower").bounding_box()
    higher_box = now.get_by_role("button", name="Higher").bounding_box()
    assert lower_box["y"] == higher_box["y"] == slider_box["y"]
    assert higher_box["x"] + higher_box["width"] <= PHONE["width"]

    # Keyboard, a tap on the track, and the + button all choose a value, shown large and checked in the form.
    set_scale(now, 6)
    expect(now.locator('input[type=radio][value="6"]')).to_be_checked()
    average = phone.get_by_role("group", name=AVERAGE)
    track = average.get_by_role("slider")
    box = track.bounding_box()
    thumb = 22  # half the 44 px thumb: the track's ends are the centres of 0 and 10
    track.tap(position={"x": thumb + 3 * (box["width"] - 2 * thumb) / 10, "y": box["height"] / 2})
    expect(average.locator("output")).to_have_text("3")
    expect(average.locator('input[type=radio][value="3"]')).to_be_checked()
    worst = phone.get_by_role("group", name=WORST)
    worst.get_by_role("button", name="Higher").tap()  # untouched: + starts from the middle
    expect(worst.locator("output")).to_have_text("5")
    worst.get_by_role("button", name="Higher").tap()
    worst.get_by_role("button", name="Higher").tap()
    expect(worst.locator("output")).to_have_text("7")
    _no_horizontal_scroll(phone)
    shot(phone, "q-scale-2-phone-answered")

    phone.get_by_role("button", name="Save and review").click()
    expect(phone.get_by_role("heading", name="Check and send your answers")).to_be_visible()
    assert QuestionnaireResponse.objects.get().answers == {"now": 6, "average_week": 3, "worst_week": 7}
    # The review shows each question with the patient's answer, not just "Answered".
    for question, answer in ((NOW, "6"), (AVERAGE, "3"), (WORST, "7")):
        row = phone.locator(".answer-row").filter(has_text=question)
        expect(row.locator("dd")).to_contain_text(answer)
        expect(row.locator("dd")).to_contain_text("0 = No pain")
    _no_horizontal_scroll(phone)
    shot(phone, "q-scale-3-phone-review")

    # Change an answer from the review: the slider comes back with the saved value.
    phone.get_by_role("link", name="Change answers to").first.click()
    expect(phone.get_by_role("group", name=NOW).locator("output")).to_have_text("6")


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (TABLET, "tablet")])
def test_on_wider_screens_the_scale_is_one_row_of_buttons_each_at_least_44px(
    browser: Browser, live_server: Any, nrs_path: str, viewport: dict[str, int], name: str, watch_csp: Any
) -> None:
    page = _open(browser, live_server, viewport, watch_csp)
    try:
        page.goto(f"{nrs_path}1/", timeout=60_000)
        now = page.get_by_role("group", name=NOW)
        buttons = now.locator("label.opt")
        expect(buttons).to_have_count(11)
        boxes = [b.bounding_box() for b in buttons.all()]
        assert all(b is not None for b in boxes)
        assert len({round(b["y"]) for b in boxes}) == 1, "the 0-10 buttons wrap onto more than one row"
        assert min(b["width"] for b in boxes) >= 44 and min(b["height"] for b in boxes) >= 44, boxes
        expect(now.get_by_role("slider")).to_be_hidden()
        now.locator("label.opt", has_text="4").click()
        expect(now.locator('input[type=radio][value="4"]')).to_be_checked()
        shot(page, f"q-scale-4-{name}")
    finally:
        page.context.close()
