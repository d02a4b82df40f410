"""Passkeys (WebAuthn) as a second factor: registration and sign-in checked by python-fido2, with answers made by a
software authenticator built from fido2's own data classes (accounts/testing.SoftAuthenticator). Every refused answer
leaves no passkey written and no session verified; failures count towards the same lockout as wrong codes."""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from prolotrack.accounts import passkeys, services
from prolotrack.accounts.models import PasskeyDevice
from prolotrack.accounts.testing import SoftAuthenticator, enrolled_totp, totp_code
from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import ServiceError
from prolotrack.clinics.testing import actor_of

RP = passkeys.RelyingParty(rp_id="clinic.example", origin="https://clinic.example")
PASSWORD = "correct horse battery"


class Session(dict[str, Any]):
    """A stand-in for request.session: the passkey module reads and pops keys only."""


def register(user: Any, authenticator: SoftAuthenticator, name: str = "Work laptop") -> PasskeyDevice:
    session = Session()
    options = passkeys.registration_options(
        session, RP, user_handle=user.uuid.bytes, name=user.username, display_name=user.username, existing=[]
    )
    answer = authenticator.register(options, RP.origin)
    state = passkeys.take_challenge(session, passkeys.REGISTER, RP)
    with transaction.atomic():
        return services.register_passkey(actor_of(user), user, name, state, RP, answer)


def sign_in_challenge(user: Any) -> tuple[Session, dict[str, Any]]:
    session = Session()
    credentials = [bytes(p.credential_data) for p in services.active_passkeys(user)]
    return session, passkeys.sign_in_options(session, RP, credentials)


def try_sign_in(user: Any, session: Session, answer: dict[str, Any]) -> services.Verification:
    state = passkeys.take_challenge(session, passkeys.SIGN_IN, RP)
    return services.verify_passkey(actor_of(user), user, state, RP, answer)


# --- registration ----------------------------------------------------------------------------------------------------


def test_a_registered_passkey_stores_only_public_material_and_is_audited(clinician):
    authenticator = SoftAuthenticator()
    device = register(clinician, authenticator)
    assert device.confirmed and device.name == "Work laptop" and device.sign_count == 0
    assert device.transports == ["internal"]
    assert passkeys.credential_id_of(
        authenticator.assert_({"publicKey": {"rpId": RP.rp_id, "challenge": "A" * 43}}, "")
    ) == (device.credential_id)
    private = authenticator.key.private_numbers().private_value.to_bytes(32, "big")
    assert private not in bytes(device.credential_data)
    event = AuditEvent.objects.get(action="auth.second_factor.passkey_added")
    assert event.user == clinician and event.detail["name"] == "Work laptop" and event.detail["passkey"] == device.pk


def _tamper_registration(case: str, options: dict[str, Any], authenticator: SoftAuthenticator) -> tuple[Any, Any]:
    """(answer, origin of the RP the server checks with) for one refused case."""
    if case == "bad challenge":
        other = dict(options["publicKey"], challenge="A" * 43)
        return authenticator.register({"publicKey": other}, RP.origin), RP
    if case == "wrong origin":
        return authenticator.register(options, "https://clinic.example.evil.test"), RP
    if case == "wrong relying party":
        other = dict(options["publicKey"], rp={"id": "evil.test", "name": "x"})
        return authenticator.register({"publicKey": other}, RP.origin), RP
    if case == "an assertion instead":
        request = {"publicKey": {"rpId": RP.rp_id, "challenge": options["publicKey"]["challenge"]}}
        return authenticator.assert_(request, RP.origin), RP
    if case == "not a credential":
        return {"id": "x", "response": {}}, RP
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case", ["bad challenge", "wrong origin", "wrong relying party", "an assertion instead", "not a credential"]
)
def test_a_registration_answer_that_does_not_verify_is_refused_and_nothing_is_written(clinician, case):
    session = Session()
    options = passkeys.registration_options(
        session, RP, user_handle=clinician.uuid.bytes, name="c", display_name="c", existing=[]
    )
    answer, rp = _tamper_registration(case, options, SoftAuthenticator())
    state = passkeys.take_challenge(session, passkeys.REGISTER, rp)
    assert state is not None
    with pytest.raises(ServiceError, match="could not be added"), transaction.atomic():
        services.register_passkey(actor_of(clinician), clinician, "Laptop", state, rp, answer)
    assert not PasskeyDevice.objects.exists()
    assert not AuditEvent.objects.filter(action="auth.second_factor.passkey_added").exists()


def test_a_replayed_registration_challenge_is_refused(clinician):
    authenticator = SoftAuthenticator()
    session = Session()
    options = passkeys.registration_options(
        session, RP, user_handle=clinician.uuid.bytes, name="c", display_name="c", existing=[]
    )
    answer = authenticator.register(options, RP.origin)
    first = passkeys.take_challenge(session, passkeys.REGISTER, RP)
    assert first is not None
    assert passkeys.take_challenge(session, passkeys.REGISTER, RP) is None  # the challenge is gone once read
    with pytest.raises(ServiceError), transaction.atomic():
        services.register_passkey(actor_of(clinician), clinician, "Laptop", None, RP, answer)
    assert not PasskeyDevice.objects.exists()


def test_one_authenticator_and_one_name_are_registered_once(clinician):
    authenticator = SoftAuthenticator()
    register(clinician, authenticator, "Laptop")
    with pytest.raises(ServiceError, match="already registered"):
        register(clinician, authenticator, "Laptop 2")
    with pytest.raises(ServiceError, match="already have a passkey named"):
        register(clinician, SoftAuthenticator(), "laptop")
    with pytest.raises(ServiceError, match="1 to 64"):
        register(clinician, SoftAuthenticator(), "   ")
    assert PasskeyDevice.objects.count() == 1


# --- challenges --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("purpose", "rp", "age", "found"),
    [
        (passkeys.SIGN_IN, RP, 0, True),
        (passkeys.REGISTER, RP, 0, False),  # a sign-in challenge does not register
        (passkeys.SIGN_IN, passkeys.RelyingParty("other.example", "https://other.example"), 0, False),
        (passkeys.SIGN_IN, RP, passkeys.CHALLENGE_SECONDS - 5, True),
        (passkeys.SIGN_IN, RP, passkeys.CHALLENGE_SECONDS + 1, False),  # expired
    ],
)
def test_a_challenge_is_taken_once_for_its_purpose_and_relying_party_before_it_expires(
    monkeypatch, purpose, rp, age, found
):
    session = Session()
    passkeys.sign_in_options(session, RP, [])
    now = time.time()
    monkeypatch.setattr(passkeys.time, "time", lambda: now + age)
    assert (passkeys.take_challenge(session, purpose, rp) is not None) is found
    assert passkeys.take_challenge(session, passkeys.SIGN_IN, RP) is None  # taken (or thrown away) either way


# --- sign-in -------------------------------------------------------------------------------------------------------------


def test_a_passkey_signs_in_and_its_counter_and_last_use_are_kept(clinician):
    authenticator = SoftAuthenticator()
    device = register(clinician, authenticator)
    for expected in (1, 2):
        session, options = sign_in_challenge(clinician)
        assert options["publicKey"]["allowCredentials"][0]["id"] == device.credential_id
        result = try_sign_in(clinician, session, authenticator.assert_(options, RP.origin))
        assert result.device == device and result.method == services.PASSKEY_METHOD
        device.refresh_from_db()
        assert device.sign_count == expected and device.last_used_at is not None
    verified = AuditEvent.objects.filter(action="auth.second_factor.verified", user=clinician)
    assert [e.detail["method"] for e in verified] == ["passkey", "passkey"]


def _tamper_assertion(case: str, session: Session, options: dict[str, Any], authenticator: SoftAuthenticator) -> Any:
    if case == "bad challenge":
        return authenticator.assert_({"publicKey": dict(options["publicKey"], challenge="B" * 43)}, RP.origin)
    if case == "wrong origin":
        return authenticator.assert_(options, "https://evil.test")
    if case == "wrong relying party":
        return authenticator.assert_({"publicKey": dict(options["publicKey"], rpId="evil.test")}, RP.origin)
    if case == "unknown credential":
        return SoftAuthenticator().assert_(options, RP.origin)
    if case == "bad signature":
        answer = authenticator.assert_(options, RP.origin)
        answer["response"]["signature"] = SoftAuthenticator().assert_(options, RP.origin)["response"]["signature"]
        return answer
    if case == "counter went back":
        return authenticator.assert_(options, RP.origin, counter=3)
    if case == "not a credential":
        return {"rawId": "!!", "response": None}
    raise AssertionError(case)


ASSERTION_CASES = [
    "bad challenge",
    "wrong origin",
    "wrong relying party",
    "unknown credential",
    "bad signature",
    "counter went back",
    "not a credential",
]


@pytest.mark.parametrize("case", ASSERTION_CASES)
def test_an_assertion_that_does_not_verify_is_refused_counted_and_changes_no_passkey(clinician, case):
    authenticator = SoftAuthenticator()
    device = register(clinician, authenticator)
    PasskeyDevice.objects.filter(pk=device.pk).update(sign_count=5)  # as if used five times
    authenticator.counter = 5
    session, options = sign_in_challenge(clinician)
    result = try_sign_in(clinician, session, _tamper_assertion(case, session, options, authenticator))
    assert result.device is None
    device.refresh_from_db()
    assert device.sign_count == 5 and device.last_used_at is None and device.throttling_failure_count == 1
    failed = AuditEvent.objects.get(action="auth.second_factor.failed", user=clinician)
    assert failed.detail["method"] == "passkey" and failed.detail["reason"]
    clone = AuditEvent.objects.filter(action="auth.second_factor.passkey_clone_warning")
    assert clone.exists() is (case == "counter went back")
    assert not AuditEvent.objects.filter(action="auth.second_factor.verified").exists()


def test_a_replayed_assertion_is_refused(clinician):
    authenticator = SoftAuthenticator()
    device = register(clinician, authenticator)
    session, options = sign_in_challenge(clinician)
    answer = authenticator.assert_(options, RP.origin)
    state = passkeys.take_challenge(session, passkeys.SIGN_IN, RP)
    assert services.verify_passkey(actor_of(clinician), clinician, state, RP, answer).device == device
    # The same answer again: its challenge was taken from the session, so there is none to match.
    again = passkeys.take_challenge(session, passkeys.SIGN_IN, RP)
    assert services.verify_passkey(actor_of(clinician), clinician, again, RP, answer).device is None
    device.refresh_from_db()
    assert device.sign_count == 1 and device.throttling_failure_count == 1


@pytest.mark.parametrize(
    ("stored", "received", "went_back"),
    [(0, 0, False), (0, 1, False), (5, 6, False), (5, 5, True), (5, 4, True), (5, 0, True), (0, 7, False)],
)
def test_the_signature_counter_rule_of_webauthn_l2(stored, received, went_back):
    assert passkeys.counter_went_back(stored, received) is went_back


def test_failed_passkey_assertions_lock_the_second_factor_like_wrong_codes(clinician):
    authenticator = SoftAuthenticator()
    register(clinician, authenticator)
    totp = enrolled_totp(clinician)
    limit = django_settings.AXES_FAILURE_LIMIT
    with pytest.raises(services.SecondFactorLocked):
        for n in range(limit):
            PasskeyDevice.objects.filter(user=clinician).update(
                throttling_failure_timestamp=timezone.now() - timedelta(seconds=2**n + 1)
            )
            session, options = sign_in_challenge(clinician)
            try_sign_in(clinician, session, SoftAuthenticator().assert_(options, RP.origin))
    assert AuditEvent.objects.filter(action="auth.second_factor.locked_out", user=clinician).count() == 1
    # Locked: neither the right passkey nor the right code gets in.
    session, options = sign_in_challenge(clinician)
    with pytest.raises(services.SecondFactorLocked):
        try_sign_in(clinician, session, authenticator.assert_(options, RP.origin))
    with pytest.raises(services.SecondFactorLocked):
        services.verify_second_factor(actor_of(clinician), clinician, totp_code(totp))


def test_recovery_codes_keep_working_beside_a_passkey(clinician):
    from prolotrack.accounts.tests.test_second_factor import enrol_with_codes

    _device, codes = enrol_with_codes(clinician)
    register(clinician, SoftAuthenticator())
    result = services.verify_second_factor(actor_of(clinician), clinician, codes[0])
    assert result.method == services.RECOVERY_METHOD and result.device is not None


# --- removal and the administrator's reset ---------------------------------------------------------------------------


def test_removing_a_passkey_deactivates_it_keeps_the_row_and_is_audited(clinician, colleague):
    authenticator = SoftAuthenticator()
    device = register(clinician, authenticator)
    with pytest.raises(ServiceError), transaction.atomic():
        services.remove_passkey(actor_of(colleague), colleague, device.pk)  # not theirs
    with transaction.atomic():
        services.remove_passkey(actor_of(clinician), clinician, device.pk)
    device.refresh_from_db()
    assert not device.confirmed and device.deactivated_at and device.deactivated_by == clinician
    assert AuditEvent.objects.filter(action="auth.second_factor.passkey_removed", user=clinician).count() == 1
    # It no longer signs in (not even offered), and cannot be removed twice.
    assert not services.has_passkeys(clinician)
    result = try_sign_in(
        clinician, Session(), authenticator.assert_({"publicKey": {"rpId": RP.rp_id, "challenge": "A" * 43}}, RP.origin)
    )
    assert result.device is None
    with pytest.raises(ServiceError), transaction.atomic():
        services.remove_passkey(actor_of(clinician), clinician, device.pk)


def test_the_administrators_reset_deactivates_passkeys_and_ends_a_passkey_verified_session(
    client, admin_user, clinician
):
    device = register(clinician, SoftAuthenticator())
    client.force_login(clinician)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    assert client.get("/patients/").status_code == 200  # verified by the passkey
    with transaction.atomic():
        removed = services.reset_second_factor(actor_of(admin_user), clinician, "Lost laptop")
    assert removed == 1
    device.refresh_from_db()
    assert not device.confirmed and device.deactivated_by == admin_user and device.deactivation_reason == "Lost laptop"
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/second-factor/set-up/")


# --- the relying party -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "host", "secure", "rp_id", "origin"),
    [
        ("https://clinic.example", "clinic.example", False, "clinic.example", "https://clinic.example"),  # TLS proxy
        ("http://localhost:8000", "localhost:8000", False, "localhost", "http://localhost:8000"),
        ("https://clinic.example", "localhost:8000", False, "localhost", "http://localhost:8000"),
        ("https://clinic.example", "intranet.example", True, "intranet.example", "https://intranet.example"),
    ],
)
def test_the_relying_party_is_the_site_address_or_else_the_requests_host(settings, site, host, secure, rp_id, origin):
    settings.PROLOTRACK_SITE_URL = site
    settings.ALLOWED_HOSTS = ["*"]
    request = RequestFactory().get("/", HTTP_HOST=host, secure=secure)
    assert passkeys.relying_party(request) == passkeys.RelyingParty(rp_id, origin)


# --- the pages -----------------------------------------------------------------------------------------------------------


def test_add_a_passkey_then_log_in_with_it_through_the_pages(client, login, clinician):
    authenticator = SoftAuthenticator()
    origin = "http://testserver"
    login(clinician)
    page = client.get("/accounts/security/passkeys/").content.decode()
    assert "prolotrack/passkeys.js" in page and "data-passkey-register" in page
    options = client.post("/accounts/security/passkeys/options/").json()
    assert options["publicKey"]["rp"]["id"] == "testserver" and options["publicKey"]["timeout"] == 300_000
    import json

    answer = json.dumps(authenticator.register(options, origin))
    response = client.post("/accounts/security/passkeys/", {"name": "Desk key", "credential": answer})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert PasskeyDevice.objects.get(user=clinician).name == "Desk key"
    # Replaying the same registration: its challenge is gone.
    again = client.post("/accounts/security/passkeys/", {"name": "Desk key 2", "credential": answer})
    assert again.status_code == 400 and PasskeyDevice.objects.count() == 1

    client.logout()
    client.post("/accounts/login/", {"username": clinician.username, "password": PASSWORD})
    assert client.get("/patients/").status_code == 302  # not verified yet
    verify = client.get("/accounts/second-factor/").content.decode()
    assert "Use a passkey" in verify
    options = client.post("/accounts/second-factor/passkey/options/").json()
    signed = json.dumps(authenticator.assert_(options, origin))
    response = client.post("/accounts/second-factor/passkey/", {"credential": signed, "next": "/patients/"})
    assert response.status_code == 302 and response["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200
    assert client.session[DEVICE_ID_SESSION_KEY] == PasskeyDevice.objects.get().persistent_id


def test_a_refused_registration_page_asks_the_browser_again(client, login, clinician):
    """The challenge of a refused answer is used up: the page must not send the same credential again."""
    import json

    register(clinician, SoftAuthenticator(), "Desk key")
    login(clinician)
    options = client.post("/accounts/security/passkeys/options/").json()
    answer = json.dumps(SoftAuthenticator().register(options, "http://testserver"))
    response = client.post("/accounts/security/passkeys/", {"name": "desk key", "credential": answer})
    page = response.content.decode()
    assert response.status_code == 400 and "already have a passkey named" in page
    assert '<input type="hidden" name="credential" value="">' in page and answer not in page
    assert PasskeyDevice.objects.count() == 1


def test_a_refused_passkey_at_log_in_says_so_and_leaves_the_session_unverified(client, clinician):
    authenticator = SoftAuthenticator()
    register(clinician, authenticator)
    enrolled_totp(clinician)
    client.post("/accounts/login/", {"username": clinician.username, "password": PASSWORD})
    import json

    options = client.post("/accounts/second-factor/passkey/options/").json()
    wrong = json.dumps(authenticator.assert_(options, "http://evil.test"))  # wrong origin
    response = client.post("/accounts/second-factor/passkey/", {"credential": wrong})
    assert response.status_code == 400 and "was not accepted" in response.content.decode()
    assert client.get("/patients/").status_code == 302


def test_removing_a_passkey_asks_first(client, login, clinician, colleague):
    device = register(clinician, SoftAuthenticator())
    login(clinician)
    url = f"/accounts/security/passkeys/{device.pk}/remove/"
    page = client.get(url).content.decode()
    assert "What will change" in page and device.name in page
    device.refresh_from_db()
    assert device.confirmed
    assert client.post(url).status_code == 302
    device.refresh_from_db()
    assert not device.confirmed and PasskeyDevice.objects.filter(pk=device.pk).exists()
    login(colleague)
    assert client.post(url).status_code == 302  # not theirs: told so, nothing changes
    assert AuditEvent.objects.filter(action="auth.second_factor.passkey_removed").count() == 1


def test_an_unverified_session_cannot_add_a_passkey(client, login, clinician):
    enrolled_totp(clinician)
    login(clinician, verified=False)
    response = client.post("/accounts/security/passkeys/options/")
    assert response.status_code in (302, 403)
    assert passkeys.SESSION_KEY not in client.session
