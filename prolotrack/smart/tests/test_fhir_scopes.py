"""SMART scopes on every FHIR interaction (Django's test client; the full OAuth flows are in test_stock_clients.py).

Tokens are issued here directly as django-oauth-toolkit stores them, with the context the token endpoint gives them.
"""

import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, set_token_value

from prolotrack.clinics.models import Membership
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services as patient_services
from prolotrack.smart import services
from prolotrack.smart.models import TokenContext


@pytest.fixture
def app(admin_user: Any) -> Any:
    return services.register_app(
        actor_of(admin_user), name="Diary", kind="app", redirect_uris="https://d.example.org/cb",
        allowed_scopes="patient/*.cruds user/*.cruds",
    ).app  # fmt: skip


@pytest.fixture
def issue(app: Any) -> Any:
    def make(user: Any, scope: str, patient: Any = None, expires: timedelta = timedelta(hours=1)) -> dict[str, str]:
        raw = secrets.token_urlsafe(24)
        access = AccessToken(user=user, application=app.application, scope=scope, expires=timezone.now() + expires)
        set_token_value(access, raw)
        access.save()
        membership = Membership.objects.get(user=user, clinic=app.clinic)
        TokenContext.objects.create(access_token=access, app=app, membership=membership,
                                    patient_uuid=patient.uuid if patient else None)  # fmt: skip
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT": "application/fhir+json"}

    return make


@pytest.fixture
def weights(clinician: Any, make_patient: Any) -> tuple[Any, Any, Any, Any]:
    first, second = make_patient(mrn="F-1"), make_patient(mrn="F-2", given_name="Bea")
    today = timezone.localdate(timezone=first.clinic.tz)
    with transaction.atomic():
        w1, w2 = (
            patient_services.add_child(
                actor_of(clinician), p, "weight", {"measured_on": today, "weight_kg": Decimal("70")}
            )
            for p in (first, second)
        )
    return first, second, w1, w2


WEIGHT = {
    "resourceType": "Observation", "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
    "valueQuantity": {"value": 72, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
}  # fmt: skip


def _weight(patient: Any) -> bytes:
    today = timezone.localdate(timezone=patient.clinic.tz)
    return orjson.dumps(
        {**WEIGHT, "subject": {"reference": f"Patient/{patient.uuid}"}, "effectiveDateTime": str(today)}
    )


def requests_for(first: Any, w1: Any) -> list[tuple[str, str, str, bytes | None, dict[str, str]]]:
    """(interaction it needs, method, path, body, headers): one request per FHIR interaction."""
    body = {"content_type": "application/fhir+json"}
    return [
        ("read", "get", f"/fhir/Observation/{w1.uuid}", None, {}),
        ("read", "get", f"/fhir/Observation/{w1.uuid}/_history", None, {}),
        ("read", "get", f"/fhir/Observation/{w1.uuid}/_history/1", None, {}),
        ("search", "get", "/fhir/Observation", None, {}),
        ("search", "post", "/fhir/Observation/_search", b"", {"content_type": "application/x-www-form-urlencoded"}),
        ("create", "post", "/fhir/Observation", _weight(first), body),
        ("update", "put", f"/fhir/Observation/{w1.uuid}", _weight(first), {**body, "HTTP_IF_MATCH": 'W/"1"'}),
        ("delete", "delete", f"/fhir/Observation/{w1.uuid}", None, {}),
    ]


LETTER = {"read": "r", "search": "s", "create": "c", "update": "u", "delete": "d"}


@pytest.mark.parametrize("granted", ["r", "s", "c", "u", "d"])
def test_each_interaction_needs_its_own_letter(
    client: Any, clinician: Any, issue: Any, weights: Any, granted: str
) -> None:
    first, _, w1, _ = weights
    headers = issue(clinician, f"user/Observation.{granted}")
    for name, method, path, data, extra in requests_for(first, w1):
        kwargs = {**extra}
        if data is not None:
            kwargs["data"] = data
        response = getattr(client, method)(path, **headers, **kwargs)
        if LETTER[name] == granted:
            assert response.status_code != 403, (name, path, response.content[:300])
        else:
            assert response.status_code == 403, (name, path, response.content[:300])
            assert orjson.loads(response.content)["issue"][0]["code"] == "forbidden"


def test_another_type_is_refused_everywhere(client: Any, clinician: Any, issue: Any, weights: Any) -> None:
    first, _, w1, _ = weights
    headers = issue(clinician, "user/Condition.cruds")
    for _name, method, path, data, extra in requests_for(first, w1):
        kwargs = {**extra, **({"data": data} if data is not None else {})}
        assert getattr(client, method)(path, **headers, **kwargs).status_code == 403, path


def test_include_of_a_type_outside_the_scopes_is_refused(client: Any, clinician: Any, issue: Any, weights: Any) -> None:
    headers = issue(clinician, "user/Observation.rs")
    assert client.get("/fhir/Observation?_include=Observation:patient", **headers).status_code == 403
    both = issue(clinician, "user/Observation.rs user/Patient.r")
    assert client.get("/fhir/Observation?_include=Observation:patient", **both).status_code == 200


def test_a_patient_token_writes_only_in_its_patients_compartment(
    client: Any, clinician: Any, issue: Any, weights: Any
) -> None:
    first, second, w1, w2 = weights
    headers = issue(clinician, "patient/Observation.cruds", patient=first)
    json = {"content_type": "application/fhir+json"}
    assert client.post("/fhir/Observation", data=_weight(second), **headers, **json).status_code == 403
    assert client.post("/fhir/Observation", data=_weight(first), **headers, **json).status_code in (200, 201)
    assert client.put(f"/fhir/Observation/{w2.uuid}", data=_weight(second), HTTP_IF_MATCH='W/"1"', **headers,
                      **json).status_code == 403  # fmt: skip
    assert client.delete(f"/fhir/Observation/{w2.uuid}", **headers).status_code == 403
    assert client.delete(f"/fhir/Observation/{w1.uuid}", **headers).status_code == 200
    bundle = {"resourceType": "Bundle", "type": "transaction",
              "entry": [{"resource": orjson.loads(_weight(first)), "request": {"method": "POST", "url": "Observation"}}]}  # fmt: skip
    assert client.post("/fhir", data=orjson.dumps(bundle), **headers, **json).status_code == 403


def test_a_transaction_needs_the_scope_of_every_entry(client: Any, clinician: Any, issue: Any, weights: Any) -> None:
    first, _, _, _ = weights
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": orjson.loads(_weight(first)), "request": {"method": "POST", "url": "Observation"}},
        {"resource": {"resourceType": "Condition", "subject": {"reference": f"Patient/{first.uuid}"},
                      "code": {"text": "Knee pain"}}, "request": {"method": "POST", "url": "Condition"}},
    ]}  # fmt: skip
    json = {"content_type": "application/fhir+json"}
    only_obs = issue(clinician, "user/Observation.c")
    refused = client.post("/fhir", data=orjson.dumps(bundle), **only_obs, **json)
    assert refused.status_code == 403 and "Condition" in refused.content.decode()
    both = issue(clinician, "user/Observation.c user/Condition.c")
    assert client.post("/fhir", data=orjson.dumps(bundle), **both, **json).status_code == 200


def test_expired_and_revoked_tokens_are_401(client: Any, clinician: Any, issue: Any, weights: Any) -> None:
    expired = issue(clinician, "user/*.rs", expires=timedelta(seconds=-1))
    response = client.get("/fhir/Observation", **expired)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    live = issue(clinician, "user/*.rs")
    assert client.get("/fhir/Observation", **live).status_code == 200
    AccessToken.objects.filter(scope="user/*.rs", expires__gt=timezone.now()).delete()  # what revocation does
    assert client.get("/fhir/Observation", **live).status_code == 401


def test_the_role_still_bounds_a_wide_scope(client: Any, frontdesk: Any, issue: Any, weights: Any) -> None:
    headers = issue(frontdesk, "user/*.cruds")
    assert client.get("/fhir/Patient", **headers).status_code == 200
    assert client.get("/fhir/Condition", **headers).status_code == 403  # front desk never reads clinical records


def test_a_deactivated_member_s_token_stops(client: Any, clinician: Any, issue: Any, weights: Any) -> None:
    headers = issue(clinician, "user/*.rs")
    Membership.objects.filter(user=clinician).update(is_active=False)
    assert client.get("/fhir/Observation", **headers).status_code == 401


def test_api_tokens_keep_working_beside_oauth(client: Any, clinician: Any, api_token: Any, weights: Any) -> None:
    headers = api_token(clinician)
    assert client.get("/fhir/Observation", HTTP_AUTHORIZATION=headers["Authorization"]).status_code == 200
