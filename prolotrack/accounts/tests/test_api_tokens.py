"""API tokens: shown once and stored hashed, scoped (read, write, export) on the JSON API and FHIR, expiring, revocable
by their owner and the clinic's administrator (the row stays, with who revoked it)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import ServiceError
from prolotrack.clinics.models import ApiToken, Membership, hash_token
from prolotrack.clinics.services import create_api_token

FHIR = "application/fhir+json"


def bearer(user, *scopes, days=90):
    with transaction.atomic():
        raw = create_api_token(Membership.objects.get(user=user), name="test", scopes=scopes, days=days)
    return {"Authorization": f"Bearer {raw}"}


NEW_PATIENT = {"given_name": "Grace", "family_name": "Hopper", "date_of_birth": "1950-01-02", "sex": "female"}


def test_a_token_made_on_the_page_is_shown_once_and_only_its_hash_is_stored(client, login, clinician):
    login(clinician)
    response = client.post("/accounts/tokens/", {"name": "lab import", "scopes": ["read"], "days": 30})
    assert response.status_code == 200
    body = response.content.decode()
    assert "shown only this once" in body
    raw = body.split('id="new-token" class="token-value" readonly value="')[1].split('"')[0]
    token = ApiToken.objects.get()
    assert token.token_hash == hash_token(raw) and raw not in (token.token_hash, token.hint)
    assert token.scope_set == {"read"}
    assert timedelta(days=29, hours=23) < token.expires_at - timezone.now() <= timedelta(days=30)
    listing = client.get("/accounts/tokens/").content.decode()
    assert token.hint in listing and raw not in listing
    event = AuditEvent.objects.get(action="api.token.created")
    assert event.user == clinician and event.detail["scopes"] == "read"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "x", "days": 30}, "Tick at least one"),
        ({"name": "x", "scopes": ["admin"], "days": 30}, "Select a valid choice"),
        ({"name": "x", "scopes": ["read"], "days": 3650}, "Select a valid choice"),
        ({"name": "", "scopes": ["read"], "days": 30}, "Give the token a name"),
    ],
)
def test_a_bad_token_request_is_refused_with_a_message_and_nothing_is_made(client, login, clinician, form, message):
    response = login(clinician).post("/accounts/tokens/", form)
    assert response.status_code == 400 and message in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_service_refuses_unknown_scopes_and_lifetimes(clinician):
    membership = Membership.objects.get(user=clinician)
    with pytest.raises(ServiceError, match="scopes"):
        create_api_token(membership, scopes=["everything"])
    with pytest.raises(ServiceError, match="days"):
        create_api_token(membership, scopes=["read"], days=0)


def test_a_read_token_reads_and_cannot_write_on_the_api(client, clinician, patient):
    headers = bearer(clinician, "read")
    assert client.get(f"/api/patients/{patient.uuid}", headers=headers).status_code == 200
    response = client.post("/api/patients", NEW_PATIENT, content_type="application/json", headers=headers)
    assert response.status_code == 403
    assert "not write" in response.json()["detail"]
    write = bearer(clinician, "write")
    assert client.post("/api/patients", NEW_PATIENT, content_type="application/json", headers=write).status_code == 201
    # Write alone does not read.
    assert client.get(f"/api/patients/{patient.uuid}", headers=write).status_code == 403


def test_fhir_reads_writes_and_exports_need_their_scopes(client, admin_user, clinician, patient):
    read = bearer(clinician, "read")
    assert client.get(f"/fhir/Patient/{patient.uuid}", headers={**read, "Accept": FHIR}).status_code == 200
    assert client.post("/fhir/Patient/_search", headers={**read, "Accept": FHIR}).status_code == 200
    created = client.post(
        "/fhir/Patient",
        {"resourceType": "Patient", "name": [{"family": "Hopper", "given": ["Grace"]}], "gender": "female",
         "birthDate": "1950-01-02"},
        content_type=FHIR,
        headers={**read, "Accept": FHIR},
    )  # fmt: skip
    assert created.status_code == 403
    assert created.json()["resourceType"] == "OperationOutcome"
    no_export = bearer(admin_user, "read", "write")
    kick_off = {"Accept": FHIR, "Prefer": "respond-async"}
    assert client.get("/fhir/$export", headers={**no_export, **kick_off}).status_code == 403
    export = bearer(admin_user, "export")
    assert client.get("/fhir/$export", headers={**export, **kick_off}).status_code == 202
    assert client.get(f"/fhir/Patient/{patient.uuid}", headers={**export, "Accept": FHIR}).status_code == 403


def test_an_expired_token_stops_working(client, clinician, patient):
    headers = bearer(clinician, "read")
    assert client.get(f"/api/patients/{patient.uuid}", headers=headers).status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(f"/api/patients/{patient.uuid}", headers=headers).status_code == 401
    response = client.get(f"/fhir/Patient/{patient.uuid}", headers={**headers, "Accept": FHIR})
    assert response.status_code == 401 and "expired" in response.json()["issue"][0]["diagnostics"]


def test_the_owner_revokes_a_token_which_stops_at_once_and_stays_listed(client, login, clinician, patient):
    headers = bearer(clinician, "read")
    token = ApiToken.objects.get()
    login(clinician)
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == clinician
    assert client.get(f"/api/patients/{patient.uuid}", headers=headers).status_code == 401
    assert "revoked" in client.get("/accounts/tokens/").content.decode()
    assert AuditEvent.objects.get(action="api.token.revoked").user == clinician


def test_the_clinic_administrator_lists_and_revokes_a_colleagues_token(client, login, admin_user, clinician, patient):
    headers = bearer(clinician, "read")
    token = ApiToken.objects.get()
    login(admin_user)
    listing = client.get("/clinic/tokens/").content.decode()
    assert token.hint in listing and "Clinician" in listing
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/", {"from": "clinic"})
    assert response.status_code == 302 and response["Location"] == "/clinic/tokens/"
    token.refresh_from_db()
    assert token.revoked_by == admin_user
    assert client.get(f"/api/patients/{patient.uuid}", headers=headers).status_code == 401


def test_nobody_else_revokes_or_lists_a_token(client, login, clinician, colleague, outsider, make_member, other_clinic):
    bearer(clinician, "read")
    token = ApiToken.objects.get()
    other_admin = make_member("beta_admin", "admin", other_clinic)
    for user in (colleague, outsider, other_admin):
        login(user)
        assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404, user
        assert token.hint not in client.get("/accounts/tokens/").content.decode()
    login(colleague)
    assert client.get("/clinic/tokens/").status_code == 403
    login(other_admin)
    assert token.hint not in client.get("/clinic/tokens/").content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_command_makes_a_read_only_token_unless_told_otherwise(clinician, capsys):
    from django.core.management import call_command

    call_command("create_api_token", "clinician", "--scope", "read", "--scope", "export", "--days", "7")
    token = ApiToken.objects.get()
    assert token.scope_set == {"read", "export"}
    assert token.expires_at - timezone.now() <= timedelta(days=7)
    call_command("create_api_token", "clinician")
    assert ApiToken.objects.order_by("-id").first().scope_set == {"read"}
