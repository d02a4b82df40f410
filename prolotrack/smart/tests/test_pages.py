"""The administrator's app registry (under clinic settings), what each app accessed, and the chart's Launch button."""

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import transaction
from oauth2_provider.models import Application

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import Actor, record_event
from prolotrack.clinics.testing import actor_of
from prolotrack.smart import services
from prolotrack.smart.models import LaunchContext, SmartApp

APP = {
    "name": "Pain diary",
    "kind": "app",
    "allowed_scopes": "launch launch/patient openid fhirUser patient/*.rs",
    "redirect_uris": "https://diary.example.org/callback",
    "launch_url": "https://diary.example.org/launch",
}


def test_only_administrators_see_the_registry(login: Any, personas: dict[str, Any]) -> None:
    for name, user in personas.items():
        status = login(user).get("/clinic/apps/").status_code
        assert status == (200 if name == "admin" else 403), name


def test_the_settings_page_links_to_the_registry(login: Any, admin_user: Any) -> None:
    assert 'href="/clinic/apps/"' in login(admin_user).get("/clinic/settings/").content.decode()


def test_registering_a_public_app_shows_its_client_id_and_no_secret(login: Any, admin_user: Any) -> None:
    response = login(admin_user).post("/clinic/apps/", APP)
    assert response.status_code == 200
    app = SmartApp.objects.get()
    page = response.content.decode()
    assert app.client_id in page and 'id="client-secret"' not in page
    assert app.application.client_type == Application.CLIENT_PUBLIC
    assert app.application.redirect_uris == APP["redirect_uris"]
    assert app.allowed_scopes == "patient/*.rs fhirUser launch launch/patient openid"
    event = AuditEvent.objects.get(action="smart.app.registered")
    assert event.detail["client_id"] == app.client_id and event.user == admin_user


def test_a_confidential_apps_secret_is_shown_once_and_stored_hashed(login: Any, admin_user: Any) -> None:
    page = login(admin_user).post("/clinic/apps/", {**APP, "confidential": "on"}).content.decode()
    app = SmartApp.objects.get()
    secret = page.split('id="client-secret"')[1].split('<code class="mono">')[1].split("</code>")[0]
    assert len(secret) > 40 and secret not in app.application.client_secret
    assert app.application.client_secret.startswith(("pbkdf2", "argon2", "md5"))  # a Django password hash
    again = login(admin_user).get(f"/clinic/apps/{app.uuid}/").content.decode()
    assert secret not in again


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"allowed_scopes": "patient/Observation.sr"}, "allowed_scopes", "order"),
        ({"allowed_scopes": "system/*.rs"}, "allowed_scopes", "backend services"),
        ({"allowed_scopes": "openid"}, "allowed_scopes", "at least one resource scope"),
        ({"redirect_uris": ""}, "redirect_uris", "at least one"),
        ({"redirect_uris": "http://diary.example.org/cb"}, "redirect_uris", "https"),
        ({"redirect_uris": "https://diary.example.org/cb#x"}, "redirect_uris", "fragment"),
        ({"kind": "backend", "allowed_scopes": "system/*.rs"}, "jwks", "public keys"),
        ({"kind": "backend", "allowed_scopes": "patient/*.rs", "jwks": "{}"}, "allowed_scopes", "system/ scopes only"),
        ({"kind": "backend", "allowed_scopes": "system/*.rs", "jwks": "not json"}, "jwks", "JSON Web Key Set"),
    ],
)
def test_a_bad_registration_is_refused_with_a_message_and_nothing_written(
    login: Any, admin_user: Any, change: dict[str, str], field: str, message: str
) -> None:
    response = login(admin_user).post("/clinic/apps/", {**APP, **change})
    assert response.status_code == 400
    assert message in " ".join(str(e) for e in response.context["form"].errors.get(field, []))
    assert not SmartApp.objects.exists() and not Application.objects.exists()


def test_a_private_key_in_the_jwks_is_refused(login: Any, admin_user: Any) -> None:
    from joserfc.jwk import RSAKey

    private = json.dumps({"keys": [RSAKey.generate_key(2048).as_dict(private=True)]})
    response = login(admin_user).post(
        "/clinic/apps/", {"name": "Analytics", "kind": "backend", "allowed_scopes": "system/*.rs", "jwks": private}
    )
    assert response.status_code == 400 and "public keys only" in str(response.context["form"].errors["jwks"])


def test_the_app_page_lists_what_the_app_accessed_and_only_that(
    login: Any, admin_user: Any, clinician: Any, patient: Any
) -> None:
    app = services.register_app(actor_of(admin_user), **APP).app
    actor = actor_of(clinician)
    with transaction.atomic():
        record_event(Actor(actor.user, actor.clinic, actor.role, None, "fhir", client_id=app.client_id),
                     "fhir.observation.read", patient_uuid=patient.uuid)  # fmt: skip
        record_event(actor, "fhir.procedure.read", patient_uuid=patient.uuid)  # an API token, not the app
    page = login(admin_user).get(f"/clinic/apps/{app.uuid}/").content.decode()
    access = page.split('id="access"')[1]
    assert "fhir.observation.read" in access and "fhir.procedure.read" not in access


def test_stopping_an_app_needs_a_reason_and_is_audited(login: Any, admin_user: Any) -> None:
    app = services.register_app(actor_of(admin_user), **APP).app
    client = login(admin_user)
    assert client.post(f"/clinic/apps/{app.uuid}/", {"reason": ""}).status_code == 400
    assert client.post(f"/clinic/apps/{app.uuid}/", {"reason": "Contract ended"}).status_code == 302
    app.refresh_from_db()
    assert not app.is_active
    assert AuditEvent.objects.get(action="smart.app.deactivated").detail["reason"] == "Contract ended"


def test_another_clinics_app_is_404(login: Any, admin_user: Any, make_member: Any, other_clinic: Any) -> None:
    app = services.register_app(actor_of(admin_user), **APP).app
    other_admin = make_member("otheradmin", "admin", other_clinic)
    assert login(other_admin).get(f"/clinic/apps/{app.uuid}/").status_code == 404


def test_the_chart_launches_an_app_with_the_patient(login: Any, admin_user: Any, clinician: Any, patient: Any) -> None:
    app = services.register_app(actor_of(admin_user), **APP).app
    client = login(clinician)
    chart = client.get(f"/patients/{patient.uuid}/").content.decode()
    assert "Launch Pain diary" in chart
    response = client.post(f"/patients/{patient.uuid}/launch/{app.uuid}/")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == APP["launch_url"]
    query = parse_qs(target.query)
    assert query["iss"] == ["http://testserver/fhir"]
    launch = LaunchContext.objects.get()
    assert launch.patient_uuid == patient.uuid and launch.launch_hash == services.hash_launch(query["launch"][0])
    assert AuditEvent.objects.filter(action="smart.launched", patient_uuid=patient.uuid,
                                     detail__client_id=app.client_id).exists()  # fmt: skip
    assert client.get(f"/patients/{patient.uuid}/launch/{app.uuid}/").status_code == 405


def test_a_stopped_app_has_no_launch_button(login: Any, admin_user: Any, clinician: Any, patient: Any) -> None:
    app = services.register_app(actor_of(admin_user), **APP).app
    services.deactivate_app(actor_of(admin_user), app, "Contract ended")
    client = login(clinician)
    assert "Launch Pain diary" not in client.get(f"/patients/{patient.uuid}/").content.decode()
    assert client.post(f"/patients/{patient.uuid}/launch/{app.uuid}/").status_code == 404


def test_researchers_cannot_launch_apps_with_a_patient(
    login: Any, admin_user: Any, researcher: Any, patient: Any
) -> None:
    app = services.register_app(actor_of(admin_user), **APP).app
    assert login(researcher).post(f"/patients/{patient.uuid}/launch/{app.uuid}/").status_code == 403
