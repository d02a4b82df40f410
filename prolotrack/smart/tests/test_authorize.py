"""The authorize (consent) page's own checks, with Django's test client: sign-in first, registered scopes only, a
patient for patient/ scopes, deny, and the staff member's clinic."""

from datetime import date
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


def consent_form(client: Any, app: Any) -> dict[str, Any]:
    page = client.get("/oauth/authorize/", params(app))
    assert page.status_code == 200 and 'name="patient_search"' in page.content.decode()
    return {k: v for k, v in page.context["form"].initial.items() if v is not None}


def test_a_patient_is_chosen_by_record_number_of_the_clinic(login: Any, clinician: Any, app: Any, patient: Any) -> None:
    client = login(client_user := clinician)
    form = consent_form(client, app)
    refused = client.post("/oauth/authorize/", {**form, "allow": "Authorize", "patient_search": "NO-SUCH"})
    assert refused.status_code == 400 and "No patient of this clinic matches" in refused.content.decode()
    allowed = client.post("/oauth/authorize/", {**form, "allow": "Authorize", "patient_search": patient.mrn})
    assert allowed.status_code == 302 and "code=" in allowed["Location"]
    event = AuditEvent.objects.get(action="smart.authorized")
    assert event.patient_uuid == patient.uuid and event.detail["client_id"] == app.client_id
    assert event.user == client_user


@pytest.fixture
def okafors(make_patient: Any, outsider: Any) -> dict[str, Any]:
    """Alpha's patients, and a namesake at Beta Clinic that Alpha's staff must never be shown."""
    return {
        "ada": make_patient(given_name="Ada", family_name="Okafor", date_of_birth=date(1960, 5, 17), mrn="SM-1"),
        "bea": make_patient(given_name="Bea", family_name="OKAFOR-Lind", date_of_birth=date(1971, 2, 3), mrn="SM-10"),
        "cy": make_patient(given_name="Cy", family_name="Lindqvist", date_of_birth=date(1960, 5, 17), mrn="SM-2"),
        "beta": make_patient(outsider, given_name="Ada", family_name="Okafor", date_of_birth=date(1971, 2, 3)),
    }


@pytest.mark.parametrize(
    ("typed", "listed"),
    [
        ("okaf", ["ada", "bea"]),  # partial family name, any case; not Beta's Okafor
        ("LIND", ["cy", "bea"]),  # matches either name part
        ("ada okafor", ["ada"]),  # given and family, any order
        ("Okafor, Ada", ["ada"]),
        ("1960-05-17", ["cy", "ada"]),  # date of birth (ordered by family name: Lindqvist, Okafor)
        ("17/05/1960", ["cy", "ada"]),
        ("1971-02-03", ["bea"]),  # Beta's patient born that day is not shown
        ("SM-1", ["ada"]),  # an exact record number is that patient only (not SM-10)
        ("sm-", ["cy", "ada", "bea"]),  # the start of record numbers
        ("Zed", []),
        (", ,", []),  # no letters or digits: nothing, not everyone
    ],
)
def test_the_picker_finds_the_clinics_patients_by_name_birth_date_or_record_number(
    login: Any, clinician: Any, app: Any, okafors: dict[str, Any], typed: str, listed: list[str]
) -> None:
    client = login(clinician)
    found = client.post("/oauth/authorize/", {**consent_form(client, app), "find": "1", "patient_search": typed})
    shown = [p.uuid for p in found.context["matches"]]
    assert sorted(map(str, shown)) == sorted(str(okafors[k].uuid) for k in listed)
    assert str(okafors["beta"].uuid) not in found.content.decode()
    assert found.status_code == (200 if listed else 400)
    assert not AuditEvent.objects.filter(action__startswith="smart.").exclude(action="smart.app.registered").exists()
    # Audited as the patient list's search is: one event per patient listed, or one naming nobody.
    searched = list(AuditEvent.objects.filter(action="patient.searched"))
    assert {e.patient_uuid for e in searched} == ({okafors[k].uuid for k in listed} if listed else {None})
    assert all(e.detail["search"] == typed and e.user == clinician for e in searched)


def test_several_matches_are_listed_and_the_ticked_one_is_authorized(
    login: Any, clinician: Any, app: Any, okafors: dict[str, Any]
) -> None:
    client = login(clinician)
    form = {**consent_form(client, app), "patient_search": "okafor"}
    several = client.post("/oauth/authorize/", {**form, "allow": "Authorize"})
    assert several.status_code == 400 and "Several patients match: choose one." in several.content.decode()
    assert not AuditEvent.objects.filter(action="smart.authorized").exists()
    other_clinic = client.post("/oauth/authorize/", {**form, "allow": "Authorize", "patient": okafors["beta"].uuid})
    assert other_clinic.status_code == 400 and "Choose a patient of this clinic." in other_clinic.content.decode()
    chosen = client.post("/oauth/authorize/", {**form, "allow": "Authorize", "patient": okafors["bea"].uuid})
    assert chosen.status_code == 302 and "code=" in chosen["Location"]
    assert AuditEvent.objects.get(action="smart.authorized").patient_uuid == okafors["bea"].uuid


def test_deny_sends_access_denied_and_is_audited(login: Any, clinician: Any, app: Any) -> None:
    client = login(clinician)
    page = client.get("/oauth/authorize/", params(app))
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    assert error_of(client.post("/oauth/authorize/", form)) == "access_denied"
    assert AuditEvent.objects.filter(action="smart.denied", detail__client_id=app.client_id).exists()


def test_a_researcher_cannot_pick_a_patient(login: Any, researcher: Any, app: Any, patient: Any) -> None:
    client = login(researcher)
    form = consent_form(client, app)
    for extra in ({"allow": "Authorize"}, {"find": "1"}):
        refused = client.post("/oauth/authorize/", {**form, **extra, "patient_search": patient.mrn})
        assert refused.status_code == 400 and "Your role cannot choose a patient" in refused.content.decode()
        assert patient.family_name not in refused.content.decode()


def test_a_member_of_another_clinic_cannot_authorize(login: Any, outsider: Any, app: Any) -> None:
    response = login(outsider).get("/oauth/authorize/", params(app))
    assert response.status_code == 403 and "another clinic" in response.content.decode()
