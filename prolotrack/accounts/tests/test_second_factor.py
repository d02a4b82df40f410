"""The second factor: forced enrolment, log-in with a code or a recovery code, throttling and lockout, the
administrator's reset, and the clinic setting."""

from datetime import timedelta

import pyotp
import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from prolotrack.accounts import services
from prolotrack.accounts.models import RecoveryCode, RecoveryCodeDevice, hash_recovery_code
from prolotrack.accounts.testing import base32_key, enrolled_totp, totp_code
from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import AccessDenied, Actor, ServiceError
from prolotrack.clinics.services import update_clinic_settings
from prolotrack.clinics.testing import actor_of

PASSWORD = "correct horse battery"
VERIFY = "/accounts/second-factor/"
ENROL = "/accounts/second-factor/set-up/"


def password_login(client, user):
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return response


def set_all_staff(admin_user, clinic, value: bool) -> None:
    with transaction.atomic():
        update_clinic_settings(Actor(admin_user, clinic, "admin"), clinic, {"second_factor_all_staff": value})


def enrol_with_codes(user) -> tuple[TOTPDevice, list[str]]:
    device = services.pending_totp_device(user)
    codes = services.confirm_totp(actor_of(user), user, device, pyotp.TOTP(base32_key(device)).now())
    assert codes is not None
    device.refresh_from_db()
    return device, codes


# --- who must use it -------------------------------------------------------------------------------------------------


def test_administrators_always_need_a_second_factor_and_other_roles_follow_the_clinic_setting(
    admin_user, clinician, researcher, clinic
):
    assert services.second_factor_required(admin_user)
    assert services.second_factor_required(clinician)  # the default: every staff role
    set_all_staff(admin_user, clinic, False)
    assert services.second_factor_required(admin_user)
    assert not services.second_factor_required(clinician)
    assert not services.second_factor_required(researcher)


def test_the_setting_takes_only_true_or_false(admin_user, clinic):
    from prolotrack.clinics.config import ClinicConfigError

    with pytest.raises(ClinicConfigError, match="true or false"):
        update_clinic_settings(Actor(admin_user, clinic, "admin"), clinic, {"second_factor_all_staff": "no"})
    clinic.refresh_from_db()
    assert clinic.config.second_factor_all_staff is True


# --- forced enrolment ------------------------------------------------------------------------------------------------


def test_a_required_user_without_a_factor_is_sent_to_set_one_up_and_reaches_nothing_else(client, clinician, patient):
    password_login(client, clinician)
    for path in ("/patients/", f"/patients/{patient.uuid}/", "/accounts/security/", "/clinic/settings/", "/audit/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(ENROL), (path, response["Location"])
    # A write is refused the same way, and nothing is written.
    response = client.post("/patients/new/", {"given_name": "Eve"})
    assert response.status_code == 302 and response["Location"] == ENROL
    page = client.get(ENROL)
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "Set up your authenticator app" in body
    device = TOTPDevice.objects.get(user=clinician)
    assert not device.confirmed
    # The manual key is the device's key, shown in groups of four.
    assert base32_key(device)[:4] in body


def test_enrolment_with_the_apps_code_turns_the_factor_on_shows_recovery_codes_once_and_is_audited(client, clinician):
    password_login(client, clinician)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=clinician)
    response = client.post(ENROL, {"code": pyotp.TOTP(base32_key(device)).now()})
    assert response.status_code == 200
    body = response.content.decode()
    assert "shown only this once" in body
    device.refresh_from_db()
    assert device.confirmed
    stored = RecoveryCode.objects.filter(device__user=clinician)
    assert stored.count() == 10
    # Only hashes are stored: no code appears in the table, each shown code matches one hash.
    hashes = set(stored.values_list("code_hash", flat=True))
    codes_in_page = [chunk.split("</code>")[0] for chunk in body.split("<li><code>")[1:]]
    assert len(codes_in_page) == 10
    assert {hash_recovery_code(c) for c in codes_in_page} == hashes
    assert not any(c in hashes for c in codes_in_page)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/patients/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.second_factor.enrolled", user=clinician).exists()


def test_a_wrong_code_at_enrolment_says_what_to_check_and_turns_nothing_on(client, clinician):
    password_login(client, clinician)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=clinician)
    good = pyotp.TOTP(base32_key(device)).now()
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post(ENROL, {"code": wrong})
    assert response.status_code == 400
    assert "does not match" in response.content.decode()
    assert client.post(ENROL, {"code": "12ab"}).status_code == 400
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/patients/").status_code == 302


def test_a_user_whose_factor_is_not_required_and_not_set_up_goes_on_with_the_password(
    client, admin_user, clinician, clinic
):
    set_all_staff(admin_user, clinic, False)
    password_login(client, clinician)
    assert client.get("/patients/").status_code == 200


def test_an_unverified_session_cannot_set_up_a_second_authenticator(client, clinician):
    enrol_with_codes(clinician)
    password_login(client, clinician)
    response = client.get(ENROL)
    assert response.status_code == 302 and response["Location"] == "/accounts/second-factor/"
    assert TOTPDevice.objects.filter(user=clinician).count() == 1


# --- logging in with the factor --------------------------------------------------------------------------------------


def test_login_with_a_code_from_the_app(client, clinician):
    device = enrolled_totp(clinician)
    response = password_login(client, clinician)
    assert client.get(response["Location"])["Location"] == "/accounts/second-factor/?next=%2Fpatients%2F"
    response = client.post(VERIFY, {"code": totp_code(device), "next": "/patients/"})
    assert response.status_code == 302 and response["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.second_factor.verified", user=clinician).exists()


def test_a_code_is_accepted_once(client, clinician):
    device = enrolled_totp(clinician)
    code = totp_code(device)
    password_login(client, clinician)
    assert client.post(VERIFY, {"code": code})["Location"] == "/"
    client.post("/accounts/logout/")
    password_login(client, clinician)
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 400
    assert "not right" in response.content.decode()


def test_a_recovery_code_logs_in_once_and_says_how_many_are_left(client, clinician):
    _device, codes = enrol_with_codes(clinician)
    password_login(client, clinician)
    response = client.post(VERIFY, {"code": codes[0].upper().replace("-", " ")}, follow=True)
    assert response.status_code == 200
    assert "9 left" in response.content.decode()
    client.post("/accounts/logout/")
    password_login(client, clinician)
    assert client.post(VERIFY, {"code": codes[0]}).status_code == 400
    assert RecoveryCode.objects.filter(device__user=clinician, used_at__isnull=False).count() == 1


def test_a_wrong_code_is_refused_with_what_to_do(client, clinician):
    enrolled_totp(clinician)
    password_login(client, clinician)
    response = client.post(VERIFY, {"code": "000000"})
    assert response.status_code == 400
    assert "Type the 6 digits your authenticator app shows now" in response.content.decode()
    assert client.get("/patients/").status_code == 302
    assert AuditEvent.objects.filter(action="auth.second_factor.failed", user=clinician).count() == 1


def test_consecutive_wrong_codes_are_throttled(client, clinician):
    device = enrolled_totp(clinician)
    password_login(client, clinician)
    client.post(VERIFY, {"code": "000000"})
    # Right away, even the right code waits: django-otp's exponential back-off.
    response = client.post(VERIFY, {"code": totp_code(device)})
    assert response.status_code == 400
    assert "wait" in response.content.decode()


def test_the_failure_limit_locks_the_second_factor_logs_out_and_holds_after_a_new_password_login(client, clinician):
    device = enrolled_totp(clinician)
    limit = django_settings.AXES_FAILURE_LIMIT
    password_login(client, clinician)
    for n in range(limit):
        # Age the last failure past the back-off so each attempt is really checked.
        TOTPDevice.objects.filter(pk=device.pk).update(
            throttling_failure_timestamp=timezone.now() - timedelta(seconds=2**n + 1)
        )
        response = client.post(VERIFY, {"code": "000000"})
    assert response.status_code == 429
    assert "Too many wrong codes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.second_factor.locked_out", user=clinician).count() == 1
    # The right password and then the right code: still locked until the cool-off passes.
    password_login(client, clinician)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(minutes=1))
    response = client.post(VERIFY, {"code": totp_code(device)})
    assert response.status_code == 429
    # After the cool-off, the right code works and resets the count.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - django_settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    password_login(client, clinician)
    assert client.post(VERIFY, {"code": totp_code(device)}).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_wrong_recovery_codes_count_towards_the_same_lockout(clinician):
    _device, _codes = enrol_with_codes(clinician)
    limit = django_settings.AXES_FAILURE_LIMIT
    with pytest.raises(services.SecondFactorLocked):
        for n in range(limit):
            for model in (TOTPDevice, RecoveryCodeDevice):
                model.objects.filter(user=clinician).update(
                    throttling_failure_timestamp=timezone.now() - timedelta(seconds=2**n + 1)
                )
            guess = "000000" if n % 2 else "aaaa-bbbb-cccc"
            services.verify_second_factor(actor_of(clinician), clinician, guess)
    assert services.locked_until(clinician) is not None


# --- the administrator's reset -------------------------------------------------------------------------------------------


def test_an_administrator_resets_a_colleagues_factor_with_a_reason_after_a_confirmation_page(
    client, login, admin_user, clinician
):
    device, _codes = enrol_with_codes(clinician)
    login(admin_user)
    staff = client.get("/clinic/staff/").content.decode()
    assert f"/clinic/staff/{clinician.uuid}/reset-second-factor/" in staff
    assert device.key not in staff and base32_key(device) not in staff
    url = f"/clinic/staff/{clinician.uuid}/reset-second-factor/"
    confirm = client.get(url).content.decode()
    assert "What will change" in confirm and device.key not in confirm and base32_key(device) not in confirm
    refused = client.post(url, {"reason": "  "})
    assert refused.status_code == 400 and "Say why" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=clinician).exists()
    response = client.post(url, {"reason": "Lost phone, asked in person"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=clinician).exists()
    assert not RecoveryCodeDevice.objects.filter(user=clinician).exists()
    event = AuditEvent.objects.get(action="auth.second_factor.reset")
    assert event.user == admin_user
    assert event.detail["username"] == "clinician" and event.detail["reason"] == "Lost phone, asked in person"


def test_after_a_reset_the_colleagues_open_session_must_set_up_a_new_factor(client, login, admin_user, clinician):
    enrolled_totp(clinician)
    login(clinician)
    assert client.get("/patients/").status_code == 200
    with transaction.atomic():
        services.reset_second_factor(actor_of(admin_user), clinician, "Lost phone")
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith(ENROL)


def test_only_an_administrator_of_the_same_clinic_resets_and_not_their_own(
    client, login, admin_user, clinician, outsider, colleague
):
    enrolled_totp(outsider)
    with pytest.raises(AccessDenied):
        services.reset_second_factor(actor_of(admin_user), outsider, "Lost phone")
    with pytest.raises(AccessDenied):
        services.reset_second_factor(actor_of(admin_user), admin_user, "Lost phone")
    with pytest.raises(AccessDenied):
        services.reset_second_factor(actor_of(colleague), clinician, "Lost phone")
    with pytest.raises(ServiceError):
        services.reset_second_factor(actor_of(admin_user), clinician, "")
    login(admin_user)
    assert client.get(f"/clinic/staff/{outsider.uuid}/reset-second-factor/").status_code == 404
    assert TOTPDevice.objects.filter(user=outsider).exists()
    login(clinician)
    assert client.get("/clinic/staff/").status_code == 403
    assert client.post(f"/clinic/staff/{colleague.uuid}/reset-second-factor/", {"reason": "x"}).status_code == 403


def test_nobody_sees_a_secret_after_enrolment(client, login, clinician):
    device, codes = enrol_with_codes(clinician)
    login(clinician)
    for path in ("/accounts/security/", "/accounts/second-factor/set-up/"):
        body = client.get(path, follow=True).content.decode()
        assert base32_key(device)[:16] not in body and device.key not in body
        assert not any(code in body for code in codes)
