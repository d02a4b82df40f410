"""Signing in: argon2 hashes, throttling with lockout, idle log-off, all audited."""

import time

import pytest
from django.conf import settings as django_settings
from django.db import transaction

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import Actor
from prolotrack.clinics.models import Clinic
from prolotrack.clinics.queries import SESSION_ACTIVITY_KEY
from prolotrack.clinics.services import update_clinic_settings


def test_production_hasher_is_argon2():
    # The autouse fixture swaps in a fast hasher for tests; the configured first hasher is argon2.
    from prolotrack import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert django_settings.AUTH_USER_MODEL == "clinics.User"


def test_a_good_password_signs_in_and_is_audited(client, clinician):
    response = client.post("/accounts/login/", {"username": "clinician", "password": "correct horse battery"})
    assert response.status_code == 302
    assert response["Location"] == "/patients/"
    event = AuditEvent.objects.get(action="auth.login")
    assert event.user == clinician
    assert event.role == "clinician"


def test_a_wrong_password_is_refused_with_a_message(client, clinician):
    response = client.post("/accounts/login/", {"username": "clinician", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, clinician):
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "clinician", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "clinician", "password": "correct horse battery"})
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.locked_out").exists()


def test_idle_sessions_are_logged_off_after_the_clinic_timeout(client, login, clinician, patient):
    login(clinician)
    assert client.get("/patients/").status_code == 200
    session = client.session
    session[SESSION_ACTIVITY_KEY] = time.time() - 16 * 60
    session.save()
    response = client.get(f"/patients/{patient.uuid}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/patients/").status_code == 302
    assert AuditEvent.objects.filter(action="auth.idle_logout", user=clinician).exists()


def test_an_active_session_within_the_timeout_stays(client, login, clinician):
    login(clinician)
    client.get("/patients/")
    session = client.session
    session[SESSION_ACTIVITY_KEY] = time.time() - 14 * 60
    session.save()
    assert client.get("/patients/").status_code == 200


def test_the_idle_timeout_is_a_clinic_setting(client, login, clinician, admin_user, clinic):
    with transaction.atomic():
        update_clinic_settings(Actor(admin_user, clinic, "admin"), clinic, {"idle_timeout_minutes": 5})
    login(clinician)
    client.get("/patients/")
    session = client.session
    session[SESSION_ACTIVITY_KEY] = time.time() - 6 * 60
    session.save()
    assert client.get("/patients/").status_code == 302


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"idle_timeout_minutes": 0}, "between 1 and 240"),
        ({"idle_timeout_minutes": "soon"}, "whole number"),
        ({"nsaid_stop_days": 99}, "between 0 and 28"),
        ({"non_responder_after_sessions": 0}, "between 1 and 20"),
        ({"anaesthetic_warn_fraction": "0.3"}, "between 0.5 and 1"),
        ({"anaesthetic_warn_fraction": "1.2"}, "between 0.5 and 1"),
        ({"anaesthetic_warn_fraction": "most"}, "decimal number"),
        ({"anaesthetic_warn_fraction": "NaN"}, "finite number"),
        ({"anaesthetic_warn_fraction": 0.8}, "decimal number"),
        ({"favourite_colour": 3}, "Unknown clinic setting"),
        ({"min_injections_per_session": 10, "max_injections_per_session": 5}, "above the maximum"),
    ],
)
def test_bad_clinic_settings_are_refused_and_nothing_changes(admin_user, clinic, values, message):
    from prolotrack.clinics.config import ClinicConfigError

    with pytest.raises(ClinicConfigError, match=message):
        update_clinic_settings(Actor(admin_user, clinic, "admin"), clinic, values)
    assert Clinic.objects.get(pk=clinic.pk).settings == {}


# The settings page itself (every setting, its validation, audit and access): test_settings_page.py.


def test_a_member_of_two_clinics_can_switch_and_sees_the_other_clinic(
    client, login, clinician, other_clinic, make_patient, outsider
):
    from prolotrack.clinics.models import Membership

    Membership.objects.create(user=clinician, clinic=other_clinic, role="clinician")
    theirs = make_patient(by=outsider, family_name="Betaperson")
    login(clinician)
    assert client.get(f"/patients/{theirs.uuid}/").status_code == 404
    client.post("/clinic/switch/", {"clinic": str(other_clinic.uuid), "next": "/patients/"})
    page = client.get(f"/patients/{theirs.uuid}/")
    assert page.status_code == 200
    # The switcher lists both clinics (read with the active membership, one query) and marks the one acted in.
    html = page.content.decode()
    assert f'<option value="{other_clinic.uuid}" selected>{other_clinic.name}</option>' in html
    home = clinician.memberships.exclude(clinic=other_clinic).get().clinic
    assert f'<option value="{home.uuid}" >{home.name}</option>' in html


def test_switching_to_a_clinic_you_do_not_belong_to_is_refused(client, login, clinician, other_clinic):
    login(clinician)
    assert client.post("/clinic/switch/", {"clinic": str(other_clinic.uuid)}).status_code == 404


def test_clinic_defaults_match_the_domains_defaults():
    from prolotrack.clinics.config import ClinicConfig
    from prolotrack.domain.anaesthetic import DEFAULT_WARN_FRACTION
    from prolotrack.domain.scoring import DEFAULT_NON_RESPONDER_AFTER_SESSIONS
    from prolotrack.domain.session import DEFAULT_MAX_INJECTIONS, DEFAULT_MIN_INJECTIONS

    config = ClinicConfig()
    assert config.non_responder_after_sessions == DEFAULT_NON_RESPONDER_AFTER_SESSIONS
    assert config.anaesthetic_warn_fraction == DEFAULT_WARN_FRACTION
    assert (config.min_injections_per_session, config.max_injections_per_session) == (
        DEFAULT_MIN_INJECTIONS,
        DEFAULT_MAX_INJECTIONS,
    )


def test_a_page_view_saves_the_session_only_when_the_activity_stamp_moved_30_s(client, login, clinician):
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(clinician)
    client.get("/patients/")
    with CaptureQueriesContext(connection) as seen:
        assert client.get("/patients/").status_code == 200
    assert not [q for q in seen.captured_queries if q["sql"].startswith("UPDATE") and "django_session" in q["sql"]]
    session = client.session
    session[SESSION_ACTIVITY_KEY] = time.time() - 31
    session.save()
    assert client.get("/patients/").status_code == 200
    stamp = Session.objects.get(session_key=client.session.session_key).get_decoded()[SESSION_ACTIVITY_KEY]
    assert time.time() - stamp < 5


def test_an_idle_session_is_kept_until_the_timeout_and_30_s_at_most(client, login, clinician):
    login(clinician)
    client.get("/patients/")
    session = client.session
    session[SESSION_ACTIVITY_KEY] = time.time() - 15 * 60 - 10
    session.save()
    assert client.get("/patients/").status_code == 200
    session = client.session
    session[SESSION_ACTIVITY_KEY] = time.time() - 15 * 60 - 31
    session.save()
    assert client.get("/patients/").status_code == 302
