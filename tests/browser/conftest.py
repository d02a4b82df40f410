"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

Every test gets a fresh browser context (no shared cookies) on the live server, so tests cannot
leak a session into each other. `shot(page, name)` saves a full-page screenshot to
test-artifacts/screenshots/<name>.png for a person to look at.

The pages run under the real Content-Security-Policy (never bypassed): every context made here or through
`watch_csp(context)` records each violation the browser reports (the console's "Refused to ..." messages and the
page's securitypolicyviolation events), and the test fails if there was any (docs/SECURITY.md, "Browser hardening").
"""

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from prolotrack.accounts.testing import enrolled_totp, totp_code
from prolotrack.audit.services import Actor
from prolotrack.clinics.models import Membership, User
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Patient

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery"
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"

DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}
PHONE = {"width": 390, "height": 844}

# Auto-waiting assertions give up after this long; a local live server answers in milliseconds.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="package", autouse=True)
def _allow_orm_beside_playwright() -> Iterator[None]:
    """Let tests use the ORM while Playwright's sync API runs an event loop in this thread.

    Without DJANGO_ALLOW_ASYNC_UNSAFE, Django refuses ORM calls made by the test itself (fixtures
    creating patients, assertions reading the database). It is set for this package only and
    removed afterwards: left in the environment, it would leak into later tests, and
    `manage.py check --deploy` run by them fails on it (async.E001).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="package")
def playwright(_allow_orm_beside_playwright: None) -> Iterator[Playwright]:
    # Package scope: the event loop stops after the browser tests, before the rest of the suite runs.
    with sync_playwright() as p:
        yield p


def browser_environment(environ: Any) -> dict[str, str]:
    """Chromium's environment: this process's without libfaketime. `make test-clock` (tests/clock/run) fakes the clock
    of the Python processes; under libfaketime Chromium's page timers stalled (wait_for_function timed out), and no
    page reads the date in JavaScript, so the browser keeps the real clock (docs/CONTRIBUTING.md, "Time in tests")."""
    return {k: v for k, v in environ.items() if "faketime" not in v and not k.startswith("FAKETIME")}


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM}, which is missing. "
            "Run `make browser-deps` (or `make test`, which installs it) and try again.",
            pytrace=False,
        )
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        env=browser_environment(os.environ),
    )
    yield browser
    browser.close()


# Reported by the page itself, so a violation is seen even where Chromium's console wording changes.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""
CSP_CONSOLE = re.compile(r"Content Security Policy|CSP violation", re.IGNORECASE)


class CspWatch:
    """The CSP violations reported in the contexts it watches."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def watch(self, context: BrowserContext) -> BrowserContext:
        context.add_init_script(CSP_LISTENER)
        context.on("console", self._console)
        return context

    def _console(self, message: Any) -> None:
        if CSP_CONSOLE.search(message.text):
            self.violations.append(f"{message.page.url if message.page else '?'}: {message.text}")


@pytest.fixture
def csp_watch() -> Iterator[CspWatch]:
    """Fail the test if any page it opened reported a Content-Security-Policy violation."""
    watch = CspWatch()
    yield watch
    if watch.violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(dict.fromkeys(watch.violations)), pytrace=False)


@pytest.fixture
def watch_csp(csp_watch: CspWatch) -> Callable[[BrowserContext], BrowserContext]:
    """Watch a context a test made itself (JavaScript off, a phone, touch) for CSP violations."""
    return csp_watch.watch


@pytest.fixture
def new_page(browser: Browser, live_server: Any, csp_watch: CspWatch) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh context (its own cookies), watched for CSP violations: new_page() for desktop,
    new_page(tablet=True), new_page(phone=True) for a 390 px phone (touch=True: a touch phone); other keywords go to
    the context (locale="es-ES", timezone_id="Europe/London")."""
    made: list[BrowserContext] = []

    def make(
        *, tablet: bool = False, phone: bool = False, touch: bool = False, timeout: int = 10_000, **options: Any
    ) -> Page:
        if touch:
            options = {"is_mobile": True, "has_touch": True, **options}
        viewport = PHONE if phone else TABLET if tablet else DESKTOP
        context = csp_watch.watch(browser.new_context(viewport=viewport, base_url=live_server.url, **options))
        context.set_default_timeout(timeout)
        made.append(context)
        return context.new_page()

    yield make
    for context in made:
        context.close()


@pytest.fixture
def contexts(new_page: Callable[..., Page]) -> Callable[..., Page]:
    """A page for the patient walks: contexts(phone=True, locale="es-ES") is a touch phone in the browser's
    language, contexts(phone=False) a desktop; other keywords go to the context (timezone_id="Europe/London" for a
    phone set elsewhere than the clinic)."""

    def page(*, phone: bool, locale: str = "en-US", **options: Any) -> Page:
        return new_page(phone=phone, touch=phone, timeout=15_000, locale=locale, **options)

    return page


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A 1280x900 desktop page on the live server."""
    return new_page()


@pytest.fixture
def tablet_page(new_page: Callable[..., Page]) -> Page:
    """An 820x1180 page: a tablet held upright, as at the chair side."""
    return new_page(tablet=True)


@pytest.fixture
def add_record(clinician: User) -> Callable[..., Any]:
    """Add a weight, condition, medication or allergy to a patient through the service, as the clinician."""

    def add(patient: Patient, kind: str, **fields: Any) -> Any:
        membership = Membership.objects.select_related("clinic").get(user=clinician)
        actor = Actor(user=clinician, clinic=membership.clinic, role=membership.role, client_address="127.0.0.1")
        with transaction.atomic():
            return patient_services.add_child(actor, patient, kind, fields)

    return add


def submit_login(page: Page, username: str, password: str = PASSWORD) -> None:
    """Fill in and submit the real login form."""
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("form button[type=submit]").click()


def log_in(page: Page, user: User | str, password: str = PASSWORD) -> Page:
    """Log in through the login form and the second step, with a code the user's authenticator would show now
    (the user gets an authenticator if it has none), and wait until the app has let the user in."""
    found = user if isinstance(user, User) else User.objects.get(username=user)
    device = enrolled_totp(found)
    submit_login(page, found.username, password)
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    if "/accounts/second-factor/" in page.url:
        page.locator("#id_code").fill(totp_code(device))
        page.get_by_role("button", name="Continue").click()
        expect(page).not_to_have_url(re.compile(r"/accounts/second-factor/"))
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


def wait_until(page: Page, expression: str, timeout: float = 10.0) -> None:
    """Wait until a JavaScript expression is true in the page.

    Page.wait_for_function compiles its predicate with eval inside the page, which the Content-Security-Policy
    refuses (no 'unsafe-eval'); page.evaluate runs outside the page's policy."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"Still false after {timeout} s: {expression}")
        page.wait_for_timeout(100)


FITS = "document.documentElement !== null && document.documentElement.scrollWidth <= window.innerWidth"
# What sticks out, when something does (for the failure's message).
WIDEST = (
    "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > window.innerWidth)"
    ".map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
)


def fits(page: Page) -> None:
    """Nothing on the page is wider than the screen (no sideways scrolling on a phone). Waits for the page in the
    tab to finish loading and polls across a navigation a click may have just started (reading the width while the
    old document is being replaced once failed CI with "documentElement is null"). Polls from here, not with
    `wait_for_function`, whose polling evaluates a string in the page, which the app's CSP refuses (no unsafe-eval):
    a page that did not fit failed with a CSP error instead of saying what sticks out."""
    page.wait_for_load_state()
    deadline = time.monotonic() + 3
    while True:
        try:
            if page.evaluate(FITS):
                return
        except PlaywrightError:
            pass  # the document is being replaced by a navigation: look again
        if time.monotonic() > deadline:
            raise AssertionError(f"{page.url} is wider than the screen: {page.evaluate(WIDEST)}")
        page.wait_for_timeout(100)


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot to test-artifacts/screenshots/<name>.png and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
