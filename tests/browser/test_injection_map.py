"""The injection map in Chromium: tap or click a landmark, use the keyboard, place a free point; on a desktop and on
a tablet held upright. Every drawing is photographed for both sides (test-artifacts/screenshots/map-*.png)."""

from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from prolotrack.clinics.models import User
from prolotrack.treatment import maps
from tests.browser.conftest import SCREENSHOTS, log_in, shot

pytestmark = pytest.mark.browser

FORM = "#demo-site-form"


def hidden(page: Page, name: str) -> Locator:
    return page.locator(f'{FORM} input[name="{name}"]')


def expect_point(page: Page, *, landmark: str, x: str, y: str, side: str, body_map: str, view: str) -> None:
    expect(hidden(page, "landmark")).to_have_value(landmark)
    expect(hidden(page, "x")).to_have_value(x)
    expect(hidden(page, "y")).to_have_value(y)
    expect(hidden(page, "side")).to_have_value(side)
    expect(hidden(page, "map")).to_have_value(body_map)
    expect(hidden(page, "view")).to_have_value(view)


def target(page: Page, code: str, side: str | None = None) -> Locator:
    selector = f'.map-target[data-landmark="{code}"]' + (f'[data-side="{side}"]' if side else "")
    return page.locator(selector)


def tap_drawing_at(page: Page, body_map: maps.BodyMap, x: float, y: float) -> None:
    """Click the drawing at viewBox point (x, y), scrolling it into view first."""
    drawing = page.locator(".map-svg")
    box = drawing.bounding_box()
    assert box is not None
    drawing.click(position={"x": x * box["width"] / body_map.width, "y": y * box["height"] / body_map.height})


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.mark.parametrize("tablet", [False, True], ids=["desktop", "tablet"])
def test_clicking_a_landmark_fills_the_form_and_moves_to_the_volume(
    new_page: Callable[..., Page], clinician: User, tablet: bool
) -> None:
    page = log_in(new_page(tablet=tablet), clinician)
    page.goto("/tools/maps/knee_medial/")
    target(page, "knee.mcl_femoral").click()
    expect_point(page, landmark="knee.mcl_femoral", x="214", y="222", side="right", body_map="knee_medial", view="side")
    expect(page.get_by_label("Volume (mL)")).to_be_focused()
    expect(page.locator("[data-map-status]")).to_have_text("Next site: MCL femoral origin, right.")
    expect(page.locator(".map-selection")).to_be_visible()
    expect(target(page, "knee.mcl_femoral")).to_have_class("map-target is-selected")
    expect(page.get_by_role("button", name="Medial collateral ligament, femoral origin", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )

    # What the form sends is shown, not saved.
    page.get_by_label("Volume (mL)").fill("0.5")
    page.get_by_role("button", name="Show what would be submitted").click()
    result = page.locator(".map-submitted")
    expect(result).to_contain_text("knee.mcl_femoral")
    expect(result).to_contain_text("214, 222")
    expect(result.locator(".errors")).to_have_count(0)
    # The point chosen is still shown after the page comes back.
    expect(page.locator(".injection-map.has-selection")).to_have_count(1)
    no_sideways_scroll(page)
    shot(page, f"map-demo-submitted-{'tablet' if tablet else 'desktop'}")


@pytest.mark.parametrize("tablet", [False, True], ids=["desktop", "tablet"])
def test_tab_to_a_landmark_and_press_enter(new_page: Callable[..., Page], clinician: User, tablet: bool) -> None:
    page = log_in(new_page(tablet=tablet), clinician)
    page.goto("/tools/maps/knee_front/?side=left")
    page.locator(".map-choices a[aria-current='true']").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('map-target')"):
            break
    focused = page.locator(".map-target:focus")
    expect(focused).to_have_count(1)
    # Its name shows beside it, above any site marker.
    expect(page.locator(".map-float-label")).to_be_visible()
    expect(page.locator(".map-float-label")).to_have_text(focused.get_attribute("data-label") or "")
    code = focused.get_attribute("data-landmark")
    x, y = focused.get_attribute("data-x"), focused.get_attribute("data-y")
    page.keyboard.press("Enter")
    expect_point(page, landmark=code or "", x=x or "", y=y or "", side="left", body_map="knee_front", view="front")
    expect(page.get_by_label("Volume (mL)")).to_be_focused()

    # Arrow keys move between landmarks; Space chooses as Enter does.
    target(page, "knee.patellar_tendon_inferior_pole").focus()
    page.keyboard.press("ArrowDown")
    expect(target(page, "knee.tibial_tuberosity")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(target(page, "knee.quadriceps_tendon_superior_pole")).to_be_focused()
    page.keyboard.press(" ")
    # Left knee: the drawing is mirrored, the midline of the drawing is not.
    expect_point(
        page,
        landmark="knee.quadriceps_tendon_superior_pole",
        x="200",
        y="136",
        side="left",
        body_map="knee_front",
        view="front",
    )


def test_the_landmark_list_does_the_same_as_the_drawing(page: Page, clinician: User) -> None:
    log_in(page, clinician)
    page.goto("/tools/maps/knee_front/?side=left")
    page.get_by_role("button", name="Medial coronary ligament", exact=True).click()
    expect_point(
        page, landmark="knee.coronary_medial", x="122", y="312", side="left", body_map="knee_front", view="front"
    )
    expect(target(page, "knee.coronary_medial")).to_have_class("map-target is-selected")


@pytest.mark.parametrize("tablet", [False, True], ids=["desktop", "tablet"])
def test_a_free_point_sets_coordinates_and_no_landmark(
    new_page: Callable[..., Page], clinician: User, tablet: bool
) -> None:
    page = log_in(new_page(tablet=tablet), clinician)
    knee = maps.body_map("knee_front")
    page.goto("/tools/maps/knee_front/")
    target(page, "knee.tibial_tuberosity").click()
    expect(hidden(page, "landmark")).to_have_value("knee.tibial_tuberosity")
    tap_drawing_at(page, knee, 330, 420)
    expect(hidden(page, "landmark")).to_have_value("")
    x, y = float(hidden(page, "x").input_value()), float(hidden(page, "y").input_value())
    assert abs(x - 330) <= 1.5 and abs(y - 420) <= 1.5, (x, y)
    expect(page.locator("[data-map-status]")).to_contain_text("Next site: free point at")
    page.get_by_label("Volume (mL)").fill("1")
    page.get_by_role("button", name="Show what would be submitted").click()
    expect(page.locator(".map-submitted")).to_contain_text("— (free point)")
    expect(page.locator(".map-submitted .errors")).to_have_count(0)


def test_on_the_back_each_side_is_its_own_target_and_a_free_point_takes_its_side(page: Page, clinician: User) -> None:
    log_in(page, clinician)
    back = maps.body_map("lumbopelvic_back")
    page.goto("/tools/maps/lumbopelvic_back/?side=bilateral")
    target(page, "lumbopelvic.iliolumbar", "left").click()
    expect_point(
        page, landmark="lumbopelvic.iliolumbar", x="150", y="268", side="left", body_map="lumbopelvic_back", view="back"
    )
    target(page, "lumbopelvic.interspinous_l5_s1").click()
    expect(hidden(page, "side")).to_have_value("midline")
    tap_drawing_at(page, back, 420, 420)
    expect(hidden(page, "side")).to_have_value("right")
    expect(hidden(page, "landmark")).to_have_value("")


def test_the_map_still_works_after_it_is_swapped_in_again(page: Page, clinician: User) -> None:
    # HTMX swaps the partial in and out: nothing is wired to the old elements.
    log_in(page, clinician)
    page.goto("/tools/maps/ankle_lateral/")
    page.evaluate(
        """() => { const map = document.querySelector('[data-injection-map]');
                   map.outerHTML = map.outerHTML.replace('data-map-ready="true"', ''); }"""
    )
    target(page, "ankle_foot.atfl").click()
    expect_point(
        page, landmark="ankle_foot.atfl", x="204", y="232", side="right", body_map="ankle_lateral", view="side"
    )


def test_landmarks_are_finger_sized_on_a_tablet(tablet_page: Page, clinician: User) -> None:
    page = log_in(tablet_page, clinician)
    for body_map in maps.MAPS:
        page.goto(f"/tools/maps/{body_map.code}/?side={'bilateral' if body_map.symmetric else 'right'}")
        no_sideways_scroll(page)
        hits = page.locator(".map-target-hit")
        expect(hits).to_have_count(len(body_map.targets("bilateral")))
        for index in range(hits.count()):
            box = hits.nth(index).bounding_box()
            assert box is not None and min(box["width"], box["height"]) >= 32, f"{body_map.code}: {box}"


@pytest.mark.parametrize("body_map", maps.MAPS, ids=lambda m: m.code)
def test_screenshot_every_map_on_both_sides(tablet_page: Page, clinician: User, body_map: maps.BodyMap) -> None:
    page = log_in(tablet_page, clinician)
    sides = ["right", "left"] + (["bilateral"] if body_map.symmetric else [])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for side in sides:
        page.goto(f"/tools/maps/{body_map.code}/?side={side}&sample=1")
        first = page.locator(".map-target").first
        first.click()
        expect(page.get_by_label("Volume (mL)")).to_be_focused()
        first.focus()  # shows its label, as a clinician's finger or the keyboard would
        page.locator(".injection-map").screenshot(path=str(SCREENSHOTS / f"map-{body_map.code}-{side}.png"))


def test_screenshot_the_index_and_a_whole_preview_page(page: Page, clinician: User) -> None:
    log_in(page, clinician)
    page.goto("/tools/maps/")
    expect(page.locator(".map-card")).to_have_count(len(maps.MAPS))
    shot(page, "map-index")
    page.goto("/tools/maps/neck_back/?side=bilateral&sample=1")
    expect(page.locator(".legend-risk")).to_have_text("! Chest wall: pneumothorax risk")
    shot(page, "map-preview-neck-desktop")
