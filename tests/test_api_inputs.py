"""Inputs at every boundary: one rule for pages, the JSON API and FHIR (dates of birth, control characters), bounded
integer parameters everywhere, JSON-only bodies (415), oversized bodies (413), and the audit of list reads."""

import json
from datetime import date, timedelta
from typing import Any

import orjson
import pytest
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prolotrack.api import api
from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Patient

pytestmark = pytest.mark.django_db

NEW = {"given_name": "Grace", "family_name": "Hopper", "date_of_birth": "1956-12-09", "sex": "female"}
HYPO = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def api_post(client: Any, headers: dict[str, str], path: str, body: Any, **extra: Any) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers, **extra)


def fhir_patient_bundle(birth_date: str) -> bytes:
    resource = {
        "resourceType": "Patient",
        "identifier": [
            {
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                "system": "urn:x",
                "value": "MRN-DOB",
            }
        ],
        "name": [{"family": "Haddad", "given": ["Rami"]}],
        "birthDate": birth_date,
        "gender": "male",
    }
    return orjson.dumps(
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": "urn:uuid:7e0f6a52-1c1e-4c55-9a53-7f1f8d0a0001",
                    "resource": resource,
                    "request": {"method": "POST", "url": "Patient"},
                }
            ],
        }
    )


# --- dates of birth: one rule, every channel -------------------------------------------------------------------------

IMPLAUSIBLE = ["0001-01-01", "9999-12-31", "1850-01-01"]


@pytest.mark.parametrize("born", IMPLAUSIBLE)
def test_the_api_refuses_an_implausible_date_of_birth(client, clinician, api_token, born):
    response = api_post(client, api_token(clinician), "/api/patients", {**NEW, "date_of_birth": born})
    assert response.status_code == 422
    assert "date_of_birth" in response.json()["detail"]
    assert not Patient.objects.exists()


@pytest.mark.parametrize("born", IMPLAUSIBLE)
def test_fhir_refuses_an_implausible_date_of_birth(client, clinician, api_token, born):
    response = client.post(
        "/fhir/", data=fhir_patient_bundle(born), content_type="application/fhir+json", headers=api_token(clinician)
    )
    assert response.status_code in (400, 422)
    assert not Patient.objects.filter(family_name="Haddad").exists()


@pytest.mark.parametrize("born", IMPLAUSIBLE)
def test_the_form_refuses_an_implausible_date_of_birth(login, clinician, born):
    response = login(clinician).post("/patients/new/", {**NEW, "date_of_birth": born})
    assert response.status_code in (200, 400)
    assert not Patient.objects.exists()


def test_an_edit_through_the_api_gets_the_same_rule(client, clinician, api_token, patient):
    response = client.patch(
        f"/api/patients/{patient.uuid}",
        {"version": patient.version, "date_of_birth": "0001-01-01"},
        content_type="application/json",
        headers=api_token(clinician),
    )
    assert response.status_code == 422
    patient.refresh_from_db()
    assert patient.date_of_birth == date(1960, 5, 17)


def test_a_patient_aged_129_is_registered(client, clinician, api_token):
    born = date.today() - timedelta(days=int(129.5 * 365.25))
    response = api_post(client, api_token(clinician), "/api/patients", {**NEW, "date_of_birth": born.isoformat()})
    assert response.status_code == 201, response.content


# --- control characters: any text field, any channel ------------------------------------------------------------------

CONTROL = st.characters(categories=["Cc"], exclude_characters="\t\n\r") | st.sampled_from(["\x00", "\x1b", "\x7f"])
TEXT_FIELDS = ["given_name", "family_name", "mrn", "address_line", "city"]


@HYPO
@given(bad=CONTROL, field=st.sampled_from(TEXT_FIELDS))
def test_the_api_refuses_control_characters_in_any_text_field(client, clinician, api_token, bad, field):
    response = api_post(client, api_token(clinician), "/api/patients", {**NEW, field: f"Ho{bad}pper"})
    assert response.status_code == 422, response.content
    assert field in response.json()["detail"]
    assert not Patient.objects.filter(clinic__name="Alpha Clinic").exists()


@HYPO
@given(bad=CONTROL, field=st.sampled_from(TEXT_FIELDS))
def test_the_service_refuses_control_characters_for_every_caller(clinician, bad, field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised, transaction.atomic():
        patient_services.create_patient(actor_of(clinician), {**NEW, "date_of_birth": date(1956, 12, 9), field: bad})
    assert field in raised.value.message_dict


def test_the_form_refuses_a_nul_in_a_name(login, clinician):
    response = login(clinician).post("/patients/new/", {**NEW, "family_name": "Hop\x00per"})
    assert not Patient.objects.exists()
    assert response.status_code in (200, 400)


def test_notes_keep_line_breaks_and_tabs(clinician, patient):
    with transaction.atomic():
        weight = patient_services.add_child(
            actor_of(clinician),
            patient,
            "weight",
            {"measured_on": date(2026, 1, 5), "weight_kg": "70.0", "note": "line one\n\tline two\r\n"},
        )
    assert weight.note == "line one\n\tline two\r\n"


def test_a_reason_with_a_control_character_is_refused(clinician, patient):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError), transaction.atomic():
        patient_services.retire_patient(actor_of(clinician), patient, reason="duplicate\x00 record")
    patient.refresh_from_db()
    assert not patient.is_entered_in_error


# --- content type and size --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""])
def test_a_body_that_is_not_json_gets_415(client, clinician, api_token, content_type):
    response = client.post("/api/patients", json.dumps(NEW), content_type=content_type, headers=api_token(clinician))
    assert response.status_code == 415
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "unsupported_media_type"
    assert not Patient.objects.exists()


def test_json_with_a_charset_is_accepted(client, clinician, api_token):
    response = client.post(
        "/api/patients", json.dumps(NEW), content_type="application/json; charset=utf-8", headers=api_token(clinician)
    )
    assert response.status_code == 201


@pytest.mark.parametrize("debug", [True, False])
def test_a_body_over_the_limit_gets_a_json_413(client, clinician, api_token, debug):
    body = json.dumps({**NEW, "city": "x" * (3 * 1024 * 1024)})
    with override_settings(DEBUG=debug):
        response = client.post("/api/patients", body, content_type="application/json", headers=api_token(clinician))
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not Patient.objects.exists()


def test_the_api_itself_answers_413_when_django_refuses_the_body(rf, clinician, api_token, settings):
    # Behind the edge middleware (e.g. a body that gave no length): Django's RequestDataTooBig becomes a JSON 413.
    from django.urls import resolve

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    request = rf.post("/api/patients", json.dumps({**NEW, "city": "x" * 200}), content_type="application/json")
    request.META["HTTP_AUTHORIZATION"] = api_token(clinician)["Authorization"]
    response = resolve("/api/patients").func(request)
    assert response.status_code == 413
    assert json.loads(response.content)["code"] == "too_large"
    assert not Patient.objects.exists()


# --- integer parameters: bounded everywhere ---------------------------------------------------------------------------


def integer_parameters() -> list[tuple[str, str, str, str, dict[str, Any]]]:
    """(method, path, name, where, schema) of every integer query/path parameter in the published schema."""
    found = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                options = schema.get("anyOf", [schema])
                for option in options:
                    if option.get("type") == "integer":
                        found.append((method, path, parameter["name"], parameter["in"], option))
    return found


def test_every_integer_parameter_of_the_api_has_bounds():
    params = integer_parameters()
    assert params, "the schema has integer parameters (page, page_size, days)"
    for method, path, name, _, schema in params:
        assert "maximum" in schema and schema["maximum"] <= 2**31 - 1, f"{method} {path} {name} has no maximum"
        assert "minimum" in schema, f"{method} {path} {name} has no minimum"


@HYPO
@given(value=st.integers(min_value=2**31, max_value=2**80) | st.integers(max_value=-1))
def test_out_of_range_integers_get_422_on_every_endpoint(client, clinician, api_token, value):
    headers = api_token(clinician)
    for method, path, name, where, _ in integer_parameters():
        assert where == "query", f"{path}: add path integers here"
        response = client.generic(method.upper(), f"{path}?{name}={value}", headers=headers)
        assert response.status_code in (400, 422), (path, name, value, response.status_code)


@pytest.mark.parametrize("path", ["/api/patients?page=9223372036854775808", "/api/outbox?page=9223372036854775808"])
def test_the_reported_page_numbers_get_422(client, admin_user, api_token, path):
    assert client.get(path, headers=api_token(admin_user)).status_code == 422


# --- audit of reads that disclose patients ----------------------------------------------------------------------------


def test_the_patient_list_names_every_patient_it_showed_in_one_insert(
    client, clinician, api_token, make_patient, django_assert_max_num_queries
):
    shown = {make_patient(family_name=f"Lovelace{i}", mrn=f"L-{i}").uuid for i in range(4)}
    headers = api_token(clinician)
    before = AuditEvent.objects.count()
    response = client.get("/api/patients", {"search": "lovelace"}, headers=headers)
    assert response.status_code == 200
    assert {p["id"] for p in response.json()["items"]} == {str(u) for u in shown}
    events = AuditEvent.objects.filter(action="patient.searched").order_by("seq")
    assert AuditEvent.objects.count() - before == 4
    assert {e.patient_uuid for e in events} == shown


def test_a_search_that_found_nobody_is_still_on_the_trail(client, clinician, api_token):
    client.get("/api/patients", {"search": "nobody"}, headers=api_token(clinician))
    events = list(AuditEvent.objects.filter(action="patient.searched"))
    assert len(events) == 1 and events[0].patient_uuid is None


# --- the published schema -----------------------------------------------------------------------------------------


def test_no_two_api_schema_classes_share_a_name():
    # The OpenAPI components are keyed by class name: two classes with one name (SolutionOut in clinical and in
    # treatment) made /api/protocols/{id} publish the other one's fields.
    from ninja import Schema

    import prolotrack.api  # noqa: F401  (every router and schema imported)

    def walk(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    seen: dict[str, str] = {}
    for cls in walk(Schema):
        if not cls.__module__.startswith("prolotrack."):
            continue
        where = f"{cls.__module__}.{cls.__qualname__}"
        assert seen.setdefault(cls.__name__, where) == where, f"{cls.__name__}: {seen[cls.__name__]} and {where}"


def test_every_operation_documents_401():
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            assert 401 in operation["responses"], f"{method} {path}"
