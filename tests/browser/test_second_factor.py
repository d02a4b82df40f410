"""The second factor in the browser: enrol with an authenticator (codes computed here with pyotp from the key the page
shows), log out, log in with a code, recover with a recovery code; the administrator's reset; sessions and password."""

import re
import time

import pyotp
import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from prolotrack.clinics.models import Membership, User
from prolotrack.clinics.services import create_api_token
from tests.browser.conftest import PASSWORD, log_in, shot, submit_login

pytestmark = pytest.mark.browser


def fresh_code(key: str, user: User) -> str:
    """The code an authenticator app with `key` shows, for a time step the server has not seen used yet (it refuses
    a code twice, and accepts the next step's code as clock drift)."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    now_step = int(time.time()) // 30
    step = max(now_step, device.last_t + 1)
    if step > now_step + 1:
        time.sleep((step - 1) * 30 - time.time() + 0.1)
    return pyotp.TOTP(key).at(step * 30)


def test_enrol_log_in_with_a_code_and_recover_with_a_recovery_code(page: Page, clinician: User) -> None:
    # 1. The first log-in asks for the second factor to be set up; nothing else is reachable. (The first request
    # imports every app's URLs, seconds under load: allow for it.)
    page.goto("/accounts/login/", timeout=60_000)
    submit_login(page, clinician.username)
    expect(page).to_have_url(re.compile(r"/accounts/second-factor/set-up/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.get_by_role("link", name="Patients")).to_have_count(0)
    expect(page.get_by_label("6-digit code from the app")).to_be_focused()
    key = page.locator("#manual-key").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", key), key
    shot(page, "2fa-01-enrol")

    # A wrong code says what to check; the factor stays off.
    page.get_by_label("6-digit code from the app").fill("123")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("The code is 6 digits")
    page.goto("/patients/")
    expect(page).to_have_url(re.compile(r"/accounts/second-factor/set-up/"))
    shot(page, "2fa-02-enrol-wrong-code")

    # 2. The app's code (computed here from the key on the page) turns it on; the recovery codes are shown once.
    page.get_by_label("6-digit code from the app").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Turn on the second factor").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", c) for c in codes)
    shot(page, "2fa-03-recovery-codes")
    page.get_by_role("link", name="I have saved my codes, continue").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto("/patients/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")

    # 3. Log out; the next log-in asks for a code, and the app's code lets the user in.
    page.get_by_role("button", name="Log out").click()
    submit_login(page, clinician.username)
    expect(page).to_have_url(re.compile(r"/accounts/second-factor/\?next="))
    expect(page.get_by_label("Code")).to_be_focused()
    page.get_by_label("Code").fill("000000")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    shot(page, "2fa-04-login-wrong-code")
    # django-otp's back-off after a wrong code: one second.
    time.sleep(1.1)
    page.get_by_label("Code").fill(fresh_code(key, clinician))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/patients/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")

    # 4. Without the phone: a recovery code lets the user in once, and the page says how many are left.
    page.get_by_role("button", name="Log out").click()
    submit_login(page, clinician.username)
    expect(page).to_have_url(re.compile(r"/accounts/second-factor/"))
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("status")).to_contain_text("9 left")
    shot(page, "2fa-05-recovered")
    page.get_by_role("button", name="Log out").click()
    submit_login(page, clinician.username)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")


def test_an_administrator_resets_a_colleagues_second_factor_and_they_enrol_again(
    new_page, admin_user: User, clinician: User
) -> None:
    colleague = new_page()
    log_in(colleague, clinician)
    admin = new_page()
    log_in(admin, admin_user)
    admin.get_by_role("link", name="Staff").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Staff of "))
    shot(admin, "2fa-06-staff")
    admin.get_by_role("link", name=re.compile(r"Reset second factor of Clinician")).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(re.compile(r"Reset Clinician.*second factor\?"))
    admin.get_by_role("button", name="Reset second factor").click()
    expect(admin.get_by_role("alert")).to_contain_text("Say why")
    expect(admin.get_by_label("Why reset this second factor")).to_be_visible()
    shot(admin, "2fa-07-reset-confirm")
    admin.get_by_label("Why reset this second factor").fill("Lost phone; asked in person at the front desk")
    admin.get_by_role("button", name="Reset second factor").click()
    expect(admin.get_by_role("status")).to_contain_text("second factor was reset")
    expect(admin.get_by_role("row").filter(has_text="clinician")).to_contain_text("not set up")

    # The colleague's open session now asks them to set up a new authenticator.
    colleague.goto("/patients/")
    expect(colleague).to_have_url(re.compile(r"/accounts/second-factor/set-up/"))


def test_sessions_and_password_change(new_page, clinician: User) -> None:
    first = new_page()
    log_in(first, clinician)
    second = new_page()
    log_in(second, clinician)
    second.get_by_role("link", name="My security").click()
    expect(second.get_by_role("heading", level=1)).to_have_text("My security")
    shot(second, "2fa-08-my-security")
    second.get_by_role("link", name="Sessions", exact=True).click()
    rows = second.get_by_role("row")
    expect(rows).to_have_count(3)  # the header and two sessions
    expect(second.get_by_text("this browser")).to_have_count(1)
    shot(second, "2fa-09-sessions")
    second.get_by_role("button", name="End all other sessions").click()
    expect(second.get_by_role("status")).to_contain_text("Ended 1 other session")
    first.goto("/patients/")
    expect(first).to_have_url(re.compile(r"/accounts/login/"))

    second.get_by_role("link", name="Password", exact=True).click()
    second.get_by_label("Old password").fill("not my password")
    second.get_by_label("New password", exact=True).fill("a much longer passphrase 2026")
    second.get_by_label("New password confirmation").fill("a much longer passphrase 2026")
    second.get_by_role("button", name="Change password").click()
    expect(second.get_by_role("alert").first).to_contain_text("old password was entered incorrectly")
    shot(second, "2fa-10-password-wrong")
    second.get_by_label("Old password").fill(PASSWORD)
    second.get_by_label("New password", exact=True).fill("a much longer passphrase 2026")
    second.get_by_label("New password confirmation").fill("a much longer passphrase 2026")
    second.get_by_role("button", name="Change password").click()
    expect(second.get_by_role("status")).to_contain_text("Your password was changed")


def test_the_security_tables_fit_a_phone(new_page, clinician: User, admin_user: User) -> None:
    """At 390 px the sessions and token tables become one block per row (label: value), inside their card."""
    membership = Membership.objects.get(user=clinician)
    create_api_token(membership, "Spreadsheet sync with a long descriptive name")
    for user, path, name in (
        (clinician, "/accounts/sessions/", "sessions"),
        (clinician, "/accounts/tokens/", "tokens"),
        (admin_user, "/clinic/tokens/", "clinic-tokens"),
    ):
        phone = log_in(new_page(phone=True), user)
        phone.goto(path)
        table = phone.locator("table.stack")
        expect(table).to_be_visible()
        widths = table.evaluate("t => [t.scrollWidth, t.closest('.card').clientWidth]")
        assert widths[0] <= widths[1], f"{path}: the table ({widths[0]} px) is wider than its card ({widths[1]} px)"
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{path} scrolls sideways"
        # Each value carries its column's name, since the header row is hidden on a phone.
        first_cell = phone.locator("table.stack tbody tr").first.locator("td").first
        label = first_cell.evaluate("td => getComputedStyle(td, '::before').content")
        assert label.strip('"').endswith(": "), label
        shot(phone, f"phone-{name}")
