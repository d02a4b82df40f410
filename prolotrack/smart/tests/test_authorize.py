"""The authorize (consent) page's own checks, with Django's test client: sign-in first, registered scopes only, a
patient for patient/ scopes, deny, and the staff member's clinic."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.testing import actor_of
from prolotrack.smart import services

REDIRECT = "https://diary.example.org/callback"


@pytest.fixture
def app(admin_user: Any) -> Any:
    return services.register_app(
        actor_of(admin_user), name="Pain diary", kind="app", redirect_uris=REDIRECT,
        allowed_scopes="launch/patient openid fhirUser patient/*.rs",
    ).app  # fmt: skip


def params(app: Any, scope: str = "launch/patient patient/Observation.rs", **extra: str) -> dict[str, str]:
    return {
        "response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT, "scope": scope,
        "state": "st", "code_challenge": create_s256_code_challenge("v" * 50), "code_challenge_method": "S256",
        **extra,
    }  # fmt: skip


def error_of(response: Any) -> str:
    assert response.status_code == 302, response.content[:300]
    assert response["Location"].startswith(REDIRECT)
    return parse_qs(urlsplit(response["Location"]).query)["error"][0]


def test_the_page_is_behind_the_staff_sign_in(client: Any, app: Any) -> None:
    response = client.get("/oauth/authorize/", params(app))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


def test_scopes_beyond_the_registration_are_refused(login: Any, clinician: Any, app: Any) -> None:
    assert error_of(login(clinician).get("/oauth/authorize/", params(app, scope="user/*.rs"))) == "invalid_scope"
    assert error_of(login(clinician).get("/oauth/authorize/", params(app, scope="patient/*.cruds"))) == "invalid_scope"


def test_patient_scopes_need_a_patient_context(login: Any, clinician: Any, app: Any) -> None:
    assert error_of(login(clinician).get("/oauth/authorize/", params(app, scope="patient/*.rs"))) == "invalid_scope"


def test_an_unknown_launch_is_refused(login: Any, clinician: Any, admin_user: Any) -> None:
    launched = services.register_app(
        actor_of(admin_user), name="Planner", kind="app", redirect_uris=REDIRECT, allowed_scopes="launch patient/*.rs",
        launch_url="https://planner.example.org/launch",
    ).app  # fmt: skip
    response = login(clinician).get("/oauth/authorize/", params(launched, scope="launch patient/*.rs", launch="nope"))
    assert error_of(response) == "invalid_request"


def test_a_patient_is_chosen_by_record_number_of_the_clinic(login: Any, clinician: Any, app: Any, patient: Any) -> None:
    client = login(client_user := clinician)
    page = client.get("/oauth/authorize/", params(app))
    assert page.status_code == 200 and 'name="patient_mrn"' in page.content.decode()
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    refused = client.post("/oauth/authorize/", {**form, "allow": "Authorize", "patient_mrn": "NO-SUCH"})
    assert refused.status_code == 400 and "No patient of this clinic" in refused.content.decode()
    allowed = client.post("/oauth/authorize/", {**form, "allow": "Authorize", "patient_mrn": patient.mrn})
    assert allowed.status_code == 302 and "code=" in allowed["Location"]
    event = AuditEvent.objects.get(action="smart.authorized")
    assert event.patient_uuid == patient.uuid and event.detail["client_id"] == app.client_id
    assert event.user == client_user


def test_deny_sends_access_denied_and_is_audited(login: Any, clinician: Any, app: Any) -> None:
    client = login(clinician)
    page = client.get("/oauth/authorize/", params(app))
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    assert error_of(client.post("/oauth/authorize/", form)) == "access_denied"
    assert AuditEvent.objects.filter(action="smart.denied", detail__client_id=app.client_id).exists()


def test_a_researcher_cannot_pick_a_patient(login: Any, researcher: Any, app: Any, patient: Any) -> None:
    client = login(researcher)
    page = client.get("/oauth/authorize/", params(app))
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    refused = client.post("/oauth/authorize/", {**form, "allow": "Authorize", "patient_mrn": patient.mrn})
    assert refused.status_code == 400


def test_a_member_of_another_clinic_cannot_authorize(login: Any, outsider: Any, app: Any) -> None:
    response = login(outsider).get("/oauth/authorize/", params(app))
    assert response.status_code == 403 and "another clinic" in response.content.decode()
