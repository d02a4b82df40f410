from django.urls import path

from prolotrack.accounts import passkey_views, views

app_name = "accounts"

urlpatterns = [
    path("accounts/second-factor/", views.verify, name="verify"),
    path("accounts/second-factor/set-up/", views.enrol, name="enrol"),
    path("accounts/second-factor/passkey/", passkey_views.sign_in, name="passkey-sign-in"),
    path("accounts/second-factor/passkey/options/", passkey_views.sign_in_options, name="passkey-sign-in-options"),
    path("accounts/security/", views.security, name="security"),
    path("accounts/security/passkeys/", passkey_views.manage, name="passkeys"),
    path("accounts/security/passkeys/options/", passkey_views.register_options, name="passkey-options"),
    path("accounts/security/passkeys/<int:passkey_id>/remove/", passkey_views.remove, name="passkey-remove"),
    path("accounts/security/recovery-codes/", views.recovery_codes, name="recovery-codes"),
    path("accounts/password/", views.password, name="password"),
    path("accounts/sessions/", views.sessions, name="sessions"),
    path("accounts/tokens/", views.tokens, name="tokens"),
    path("accounts/tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke-token"),
    path("clinic/staff/", views.staff, name="staff"),
    path("clinic/staff/<int:membership_id>/npi/", views.staff_npi, name="staff-npi"),
    path("clinic/staff/<uuid:user_uuid>/reset-second-factor/", views.reset, name="reset"),
    path("clinic/tokens/", views.clinic_tokens, name="clinic-tokens"),
]
