"""The FHIR edge: every error is an OperationOutcome with the right status; tokens, roles and formats."""

from typing import Any

import orjson
import pytest
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from fhir.resources.R4B.operationoutcome import OperationOutcome

from prolotrack.audit.services import StaleEditError
from prolotrack.clinics.roles import Permission
from prolotrack.fhir.http import FHIR_JSON, FhirError, fhir_actor, fhir_endpoint, fhir_response, operation_outcome

pytestmark = pytest.mark.django_db


def outcome_of(response: HttpResponse) -> dict[str, Any]:
    assert response["Content-Type"].startswith(FHIR_JSON)
    body = orjson.loads(response.content)
    OperationOutcome.model_validate(body)
    return body


def test_operation_outcome_validates_with_expression() -> None:
    body = operation_outcome("error", "invalid", "Bad date", expression=["Observation.effectiveDateTime"])
    OperationOutcome.model_validate(body)
    assert body["issue"][0]["expression"] == ["Observation.effectiveDateTime"]


def test_fhir_response_is_fhir_json() -> None:
    response = fhir_response({"resourceType": "Patient", "id": "x"}, 201, {"ETag": 'W/"1"'})
    assert response.status_code == 201
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert response["ETag"] == 'W/"1"'


def test_no_token_is_401_with_outcome(client: Any) -> None:
    response = client.get("/fhir/Patient")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert outcome_of(response)["issue"][0]["code"] == "login"


def test_bad_token_is_401(client: Any) -> None:
    response = client.get("/fhir/Patient", HTTP_AUTHORIZATION="Bearer pt_nonsense")
    assert response.status_code == 401
    outcome_of(response)


def test_xml_format_is_406(client: Any, clinician: Any, api_token: Any) -> None:
    headers = api_token(clinician)
    response = client.get("/fhir/metadata?_format=xml", headers=headers)
    assert response.status_code == 406
    response = client.get("/fhir/metadata", headers={**headers, "Accept": "application/fhir+xml"})
    assert response.status_code == 406
    outcome_of(response)


def test_wrong_method_is_405_with_allow(client: Any, clinician: Any, api_token: Any) -> None:
    response = client.delete("/fhir/metadata", headers=api_token(clinician))
    assert response.status_code == 405
    assert "GET" in response["Allow"]
    outcome_of(response)


def test_unknown_path_is_404_outcome(client: Any) -> None:
    response = client.get("/fhir/Patient/abc/_history/1/what")
    assert response.status_code == 404
    outcome_of(response)


def _call(view: Any, request: Any) -> HttpResponse:
    return view(request)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (FhirError(410, "gone"), 410, "deleted"),
        (FhirError(429, "busy", headers={"Retry-After": "60"}), 429, "throttled"),
        (Http404("No such patient."), 404, "not-found"),
        (StaleEditError("someone saved"), 412, "conflict"),
        (ValidationError({"birthDate": ["Not a date."]}), 422, "invalid"),
        (RuntimeError("boom"), 500, "exception"),
    ],
)
def test_errors_become_operation_outcomes(
    error: Exception, status: int, code: str, clinician: Any, api_token: Any
) -> None:
    @fhir_endpoint(interaction="r", resource_type="Patient")
    def view(request: Any) -> HttpResponse:
        raise error

    request = RequestFactory().get("/fhir/x", headers=api_token(clinician))
    response = view(request)
    assert response.status_code == status
    body = outcome_of(response)
    assert body["issue"][0]["code"] == code
    if status == 500:
        assert "boom" not in body["issue"][0]["diagnostics"]


def test_role_without_permission_is_403(researcher: Any, api_token: Any) -> None:
    @fhir_endpoint(interaction="r", resource_type="Patient")
    def view(request: Any) -> HttpResponse:
        fhir_actor(request, Permission.PATIENT_VIEW_CLINICAL)
        return fhir_response({})

    response = view(RequestFactory().get("/fhir/x", headers=api_token(researcher)))
    assert response.status_code == 403
    assert outcome_of(response)["issue"][0]["code"] == "forbidden"


def test_actor_is_on_the_fhir_channel(clinician: Any, api_token: Any) -> None:
    seen = {}

    @fhir_endpoint(interaction="r", resource_type="Patient")
    def view(request: Any) -> HttpResponse:
        seen["actor"] = fhir_actor(request, Permission.PATIENT_VIEW_CLINICAL)
        return fhir_response({})

    assert view(RequestFactory().get("/fhir/x", headers=api_token(clinician))).status_code == 200
    assert seen["actor"].channel == "fhir"
    assert seen["actor"].user == clinician
