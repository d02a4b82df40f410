"""The Content-Security-Policy in the browser: the watch every browser test runs under does see a violation, and the
pages that run third-party or HTMX code (the API docs, live search) work under the policy (docs/SECURITY.md)."""

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from prolotrack.clinics.models import User
from tests.browser.conftest import DESKTOP, CspWatch, log_in, shot, wait_until

pytestmark = pytest.mark.browser

INJECT_SCRIPT = (
    "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1'; document.body.append(s); }"
)
INJECT_STYLE = "() => { const d = document.createElement('div'); d.innerHTML = '<p style=\"color:red\">x</p>'; document.body.append(d); }"


def test_the_watch_reports_an_inline_script_and_an_inline_style(browser: Browser, live_server: Any) -> None:
    watch = CspWatch()
    context = watch.watch(browser.new_context(viewport=DESKTOP, base_url=live_server.url))
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        assert "script-src 'self'" in (page.request.get("/accounts/login/").headers["content-security-policy"])
        page.evaluate(INJECT_SCRIPT)
        page.evaluate(INJECT_STYLE)
        wait_until(page, "true")  # let the console messages arrive
        deadline = 50
        while len(watch.violations) < 2 and deadline:
            page.wait_for_timeout(100)
            deadline -= 1
        assert page.evaluate("window.ran === undefined"), "the inline script ran"
        joined = "\n".join(watch.violations)
        assert "script-src" in joined and "style-src" in joined, joined
    finally:
        context.close()


def test_the_api_docs_work_under_the_policy(page: Page, clinician: User) -> None:
    log_in(page, clinician)
    page.goto("/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ProloTrack")
    expect(page.locator(".opblock-tag").first).to_be_visible()
    shot(page, "csp-api-docs")


def test_live_search_swaps_results_under_the_policy(page: Page, clinician: User, patient: Any) -> None:
    log_in(page, clinician)
    page.goto("/patients/")
    page.get_by_role("searchbox").fill(patient.family_name[:4])
    expect(page.locator("#results")).to_contain_text(patient.family_name)
    # No copy of the page (patients' names) is kept in the browser's storage for the back button.
    assert page.evaluate("localStorage.getItem('htmx-history-cache')") is None
