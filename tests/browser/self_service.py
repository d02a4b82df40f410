"""Steps of issue 16's patient pages shared by the browser tests (the link pages' tour and the whole walk): the intake
form filled as a patient fills it on a phone, by the fields' names so the same steps work in English and Spanish."""

import re

from django.core import mail
from playwright.sync_api import Page, expect

from tests.browser.conftest import fits, shot
from tests.browser.test_pain_scale import set_scale


def _next(page: Page) -> None:
    page.locator("button[name=action][value=next]").click()


def fill_intake(page: Page, name: str) -> None:
    """From the intake's start page: every step answered (the region chosen on the body picture, the pain on the
    slider by keyboard, ibuprofen named, no allergies, diabetes, a weight, the pain questionnaire), checked and
    sent. A screenshot of each step as test-artifacts/screenshots/<name>-<n>-<step>.png."""
    fits(page)
    shot(page, f"{name}-0-start")
    page.locator("main a.button.primary").click()

    expect(page.locator("#fs-region")).to_be_visible()
    page.locator("textarea[name=description]").fill("Dolor en la rodilla izquierda al subir escaleras")
    page.locator(".body-map circle[data-region=knee]").first.click()  # the body picture ticks the list's answer
    expect(page.locator("input[name=region][value=knee]")).to_be_checked()
    expect(page.locator(".body-map circle.chosen")).to_have_count(2)  # both knees drawn as chosen
    page.locator("input[name=side][value=left]").check()
    page.locator("input[name=duration][value=chronic]").check()
    set_scale(page.locator("#fs-pain_now"), 6)
    page.locator("input[name=treatments][value=physiotherapy]").check()
    fits(page)
    shot(page, f"{name}-1-complaint")
    _next(page)

    page.locator("input[name=take_ibuprofen]").check()
    page.locator("input[name=dose_ibuprofen]").fill("400 mg")
    fits(page)
    shot(page, f"{name}-2-medicines")
    _next(page)

    page.locator("input[name=answer][value=none]").check()
    fits(page)
    shot(page, f"{name}-3-allergies")
    _next(page)

    for radio in page.locator("input[type=radio][value=no]").all():
        radio.check()
    page.locator("input[name=diabetes][value=yes]").check()
    fits(page)
    shot(page, f"{name}-4-conditions")
    _next(page)

    page.locator("input[name=weight_value]").fill("72")
    page.locator("select[name=unit]").select_option("kg")
    fits(page)
    shot(page, f"{name}-5-weight")
    _next(page)

    # The region's baseline questionnaire: the pain now is carried from the first step (not asked twice).
    groups = page.get_by_role("group").filter(has=page.get_by_role("slider"))
    expect(groups.first).to_be_visible()
    for n in range(1, groups.count()):
        set_scale(groups.nth(n), 5)
    fits(page)
    shot(page, f"{name}-6-questionnaire")
    _next(page)

    expect(page.locator("form button.primary")).to_be_visible()
    expect(page.locator(".check-list .error")).to_have_count(0)
    fits(page)
    shot(page, f"{name}-7-check")
    page.locator("form button.primary").click()
    fits(page)
    shot(page, f"{name}-8-sent")


def link_path(url: str) -> str:
    """The path of a full link (what the browser goes to on the live server)."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def emailed_link(to: str, part: str) -> tuple[str, str]:
    """The path of the latest link to `part` emailed to `to`, and that email's text."""
    for message in reversed(mail.outbox):
        found = re.search(rf"https?://\S+{part}[\w-]+/", message.body)
        if to in message.to and found:
            return link_path(found.group(0)), message.body
    raise AssertionError(f"No email to {to} with a {part} link")
