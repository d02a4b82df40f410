"""Passkeys in Chromium, with its virtual authenticator (DevTools protocol, WebAuthn domain): add a passkey on My
security, log out, and pass the second step of logging in with it instead of a code; then remove it. Screenshots
`passkey-*.png` on a desktop and a 390 px wide phone."""

import re

import pytest
from playwright.sync_api import Page, expect

from prolotrack.accounts.models import PasskeyDevice
from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.models import User
from tests.browser.conftest import DESKTOP, PHONE, log_in, shot, submit_login

pytestmark = pytest.mark.browser


def virtual_authenticator(page: Page) -> tuple[object, str]:
    """A platform authenticator (like a laptop's fingerprint reader) that holds passkeys and verifies its user."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    found = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, found["authenticatorId"]


def test_add_a_passkey_log_in_with_it_instead_of_a_code_and_remove_it(page: Page, clinician: User) -> None:
    cdp, authenticator = virtual_authenticator(page)
    page.goto("/accounts/login/", timeout=60_000)  # the first request imports every app's URLs
    log_in(page, clinician)

    # 1. My security shows the passkeys; add one.
    page.goto("/accounts/security/")
    expect(page.get_by_text("Passkeys: 0.")).to_be_visible()
    page.get_by_role("link", name="Add a passkey").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Passkeys")
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    shot(page, "passkey-01-none")
    # Without a name, the page asks for one before the browser is asked anything.
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("[data-passkey-status]")).to_have_text("Give the passkey a name first.")
    page.get_by_label("Name of the passkey").fill("This laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Passkey 'This laptop' added")).to_be_visible()
    expect(page.get_by_role("cell", name="This laptop", exact=True)).to_be_visible()
    shot(page, "passkey-02-added")
    held = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(held) == 1
    device = PasskeyDevice.objects.get(user=clinician, confirmed=True)
    assert held[0]["credentialId"].rstrip("=").replace("+", "-").replace("/", "_") == device.credential_id

    # 2. Log out; after the password, the passkey passes the second step instead of the code.
    page.get_by_role("button", name="Log out").click()
    submit_login(page, clinician.username)
    expect(page).to_have_url(re.compile(r"/accounts/second-factor/"))
    expect(page.get_by_role("heading", name="Or use a passkey")).to_be_visible()
    shot(page, "passkey-03-second-step")
    page.set_viewport_size(PHONE)
    shot(page, "passkey-03-second-step-phone")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/second-factor/"))
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto("/patients/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    device.refresh_from_db()
    assert device.sign_count >= 1 and device.last_used_at is not None
    verified = AuditEvent.objects.filter(action="auth.second_factor.verified", user=clinician).order_by("-id").first()
    assert verified is not None and verified.detail["method"] == "passkey"

    # 3. The same pages on a phone.
    page.set_viewport_size(PHONE)
    page.goto("/accounts/security/passkeys/")
    widths = page.locator("table.stack").evaluate("t => [t.scrollWidth, t.closest('.card').clientWidth]")
    assert widths[0] <= widths[1], f"the passkeys table ({widths[0]} px) is wider than its card ({widths[1]} px)"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    shot(page, "passkey-04-list-phone")

    # 4. Remove it, after a confirmation page; the row stays, deactivated.
    page.set_viewport_size(DESKTOP)
    page.get_by_role("link", name="Remove passkey This laptop").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove the passkey This laptop?")
    shot(page, "passkey-05-remove-confirm")
    page.set_viewport_size(PHONE)
    shot(page, "passkey-06-remove-confirm-phone")
    page.get_by_role("button", name="Remove passkey").click()
    expect(page.get_by_text("Passkey 'This laptop' removed")).to_be_visible()
    device.refresh_from_db()
    assert not device.confirmed and device.deactivated_at is not None
    # This session was verified by that passkey: it is asked for the second factor again, and no passkey is offered.
    expect(page).to_have_url(re.compile(r"/accounts/second-factor/"))
    expect(page.get_by_role("button", name="Use a passkey")).to_have_count(0)
    shot(page, "passkey-07-removed-second-step-phone")
