"""Bulk Data Access IG v2 (https://hl7.org/fhir/uv/bulkdata/export.html): each test names the SHALL (or SHOULD/MAY
the server chose to do) it checks. Background tasks run immediately in tests; tests that need a job still pending
use the dummy task backend."""

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from django.core.files.storage import storages
from django.test import override_settings
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from prolotrack.audit.models import AuditEvent
from prolotrack.core import filestore
from prolotrack.fhir import bulk
from prolotrack.fhir.models import Cohort, ExportJob, ExportStatus
from prolotrack.fhir.resources import PATIENT_EXPORT_TYPES
from prolotrack.patients.models import Patient, WeightMeasurement

pytestmark = pytest.mark.django_db

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}
PENDING = override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}})


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def admin_headers(admin_user: Any, api_token: Any) -> dict[str, str]:
    return api_token(admin_user)


def kick_off(client: Any, headers: dict[str, str], url: str = "/fhir/$export") -> Any:
    return client.get(url, headers={**ASYNC, **headers})


def manifest_of(client: Any, headers: dict[str, str], response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.content
    status = client.get(local(response["Content-Location"]), headers=headers)
    assert status.status_code == 200, status.content
    return orjson.loads(status.content)


def lines(client: Any, headers: dict[str, str], url: str) -> list[dict[str, Any]]:
    response = client.get(local(url), headers=headers)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    return [orjson.loads(line) for line in body.splitlines() if line]


def test_kick_off_answers_202_with_an_absolute_content_location(client: Any, history: Any, admin_headers: Any) -> None:
    """SHALL: kick-off success is 202 Accepted with a Content-Location header holding the absolute status URL."""
    response = kick_off(client, admin_headers)
    assert response.status_code == 202
    assert response["Content-Location"].startswith("http://testserver/fhir/$export-status/")


def test_kick_off_requires_prefer_respond_async(client: Any, history: Any, admin_headers: Any) -> None:
    """SHALL (server): only Prefer: respond-async is supported; without it the request is an error (4XX +
    OperationOutcome)."""
    response = client.get("/fhir/$export", headers=admin_headers)
    assert response.status_code == 400
    assert orjson.loads(response.content)["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("fmt", ["application/fhir+ndjson", "application/ndjson", "ndjson"])
def test_output_format_accepts_the_three_ndjson_spellings(
    client: Any, history: Any, admin_headers: Any, fmt: str
) -> None:
    """SHALL accept application/fhir+ndjson, application/ndjson and ndjson as _outputFormat."""
    response = client.get(f"/fhir/$export?_outputFormat={fmt}", headers={**ASYNC, **admin_headers})
    assert response.status_code == 202


def test_kick_off_errors_are_4xx_with_an_operation_outcome(client: Any, history: Any, admin_headers: Any) -> None:
    """SHALL: a kick-off error is a 4XX/5XX whose body is an OperationOutcome (bad _type, _since, _outputFormat,
    unsupported parameter)."""
    for url in (
        "/fhir/$export?_type=Spaceship",
        "/fhir/$export?_since=yesterday",
        "/fhir/$export?_since=2026-01-01",  # an instant needs a time and zone
        "/fhir/$export?_outputFormat=text/csv",
        "/fhir/$export?_typeFilter=Condition%3Fstatus%3Dactive",
        "/fhir/Patient/$export?_type=Organization",  # outside the Patient compartment
    ):
        response = client.get(url, headers={**ASYNC, **admin_headers})
        assert response.status_code == 400, url
        outcome = orjson.loads(response.content)
        get_fhir_model_class("OperationOutcome").model_validate(outcome)


def test_unsupported_parameter_is_ignored_when_the_client_asks_for_lenient_handling(
    client: Any, history: Any, admin_headers: Any
) -> None:
    """MAY: with Prefer: handling=lenient the server ignores parameters it does not support."""
    response = client.get(
        "/fhir/$export?_elements=id", headers={**admin_headers, "Prefer": "respond-async, handling=lenient"}
    )
    assert response.status_code == 202


def test_complete_status_is_200_json_manifest_with_expires(client: Any, history: Any, admin_headers: Any) -> None:
    """SHALL: complete status is 200 with Content-Type application/json; SHOULD: an Expires header. The manifest
    SHALL hold transactionTime, request (the kick-off URL), requiresAccessToken, output and error."""
    response = kick_off(client, admin_headers, "/fhir/$export?_type=Patient,Condition")
    status = client.get(local(response["Content-Location"]), headers=admin_headers)
    assert status.status_code == 200
    assert status["Content-Type"] == "application/json"
    assert "Expires" in status
    manifest = orjson.loads(status.content)
    assert set(manifest) >= {"transactionTime", "request", "requiresAccessToken", "output", "error"}
    assert manifest["request"] == "http://testserver/fhir/$export?_type=Patient,Condition"
    assert manifest["requiresAccessToken"] is True
    assert manifest["error"] == []
    assert {o["type"] for o in manifest["output"]} == {"Patient", "Condition"}
    for item in manifest["output"]:
        assert set(item) >= {"type", "url"}
        assert item["url"].startswith("http://testserver/")


def test_each_file_holds_one_type_and_every_line_validates(client: Any, history: Any, admin_headers: Any) -> None:
    """SHALL: each file contains resources of only one type; the body is ndjson with Content-Type
    application/fhir+ndjson; the count matches."""
    manifest = manifest_of(client, admin_headers, kick_off(client, admin_headers))
    types = {o["type"] for o in manifest["output"]}
    assert {"Patient", "Procedure", "MedicationAdministration", "Observation", "Organization"} <= types
    for item in manifest["output"]:
        response = client.get(local(item["url"]), headers=admin_headers)
        assert response["Content-Type"] == "application/fhir+ndjson"
        resources = [orjson.loads(x) for x in b"".join(response.streaming_content).splitlines()]
        assert len(resources) == item["count"]
        assert {r["resourceType"] for r in resources} == {item["type"]}
        for resource in resources[:5]:
            get_fhir_model_class(item["type"]).model_validate(resource)


def test_files_require_the_access_token_of_the_requesting_client(
    client: Any, history: Any, admin_headers: Any, make_member: Any, clinic: Any, api_token: Any
) -> None:
    """SHALL (requiresAccessToken true): a file is served only with the bearer token of the client that asked."""
    manifest = manifest_of(client, admin_headers, kick_off(client, admin_headers, "/fhir/$export?_type=Patient"))
    url = local(manifest["output"][0]["url"])
    assert client.get(url).status_code == 401
    other_admin = make_member("admin2", "admin", clinic)
    assert client.get(url, headers=api_token(other_admin)).status_code == 404
    assert client.get(url, headers=admin_headers).status_code == 200


def test_type_limits_the_export_to_the_listed_types(client: Any, history: Any, admin_headers: Any) -> None:
    """SHALL (_type): only resources of the listed types are included."""
    manifest = manifest_of(client, admin_headers, kick_off(client, admin_headers, "/fhir/$export?_type=AdverseEvent"))
    assert [o["type"] for o in manifest["output"]] == ["AdverseEvent"]


def test_since_includes_only_resources_changed_after_it(
    client: Any, history: Any, clinic: Any, clinician: Any, admin_headers: Any
) -> None:
    """SHALL (_since): resources are included when their state changed after the given time."""
    from django.db import transaction

    from prolotrack.clinics.testing import actor_of
    from prolotrack.patients import services

    cut = timezone.now()
    weight = WeightMeasurement.objects.filter(clinic=clinic).first()
    with transaction.atomic():
        services.edit_child(actor_of(clinician), weight, "weight", {"note": "Re-weighed"}, expected_version=1)
    since = cut.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if cut.tzinfo else cut.isoformat()
    url = f"/fhir/$export?_type=Observation,Patient&_since={since.replace('+', '%2B')}"
    manifest = manifest_of(client, admin_headers, kick_off(client, admin_headers, url))
    assert [o["type"] for o in manifest["output"]] == ["Observation"]
    resources = lines(client, admin_headers, manifest["output"][0]["url"])
    assert [r["id"] for r in resources] == [str(weight.uuid)]


def test_no_resources_gives_an_empty_output_array(client: Any, history: Any, admin_headers: Any) -> None:
    """SHOULD: when no resources match, output is an empty array."""
    manifest = manifest_of(
        client, admin_headers, kick_off(client, admin_headers, "/fhir/$export?_since=2999-01-01T00:00:00Z")
    )
    assert manifest["output"] == []


def test_patient_level_export_holds_only_patient_compartment_types(
    client: Any, history: Any, admin_headers: Any
) -> None:
    """Patient/$export: resources in the Patient compartment only (no Organization or Practitioner)."""
    manifest = manifest_of(client, admin_headers, kick_off(client, admin_headers, "/fhir/Patient/$export"))
    types = {o["type"] for o in manifest["output"]}
    assert types <= set(PATIENT_EXPORT_TYPES)
    assert "Organization" not in types and "Practitioner" not in types


def test_group_export_holds_only_the_members(client: Any, history: Any, clinic: Any, admin_headers: Any) -> None:
    """Group/[id]/$export: the resources of the group's members only."""
    cohort = Cohort.objects.get(clinic=clinic)
    member = cohort.patient_uuids[0]
    manifest = manifest_of(client, admin_headers, kick_off(client, admin_headers, f"/fhir/Group/{cohort.uuid}/$export"))
    patients = lines(client, admin_headers, next(o["url"] for o in manifest["output"] if o["type"] == "Patient"))
    assert [p["id"] for p in patients] == [member]
    conditions = lines(client, admin_headers, next(o["url"] for o in manifest["output"] if o["type"] == "Condition"))
    assert {c["subject"]["reference"] for c in conditions} == {f"Patient/{member}"}


def test_another_clinics_group_is_404(
    client: Any, history: Any, clinic: Any, other_clinic: Any, make_member: Any, api_token: Any
) -> None:
    cohort = Cohort.objects.get(clinic=clinic)
    beta_admin = make_member("beta_admin", "admin", other_clinic)
    response = kick_off(client, api_token(beta_admin), f"/fhir/Group/{cohort.uuid}/$export")
    assert response.status_code == 404


def test_in_progress_status_is_202_with_x_progress_and_retry_after(
    client: Any, history: Any, admin_headers: Any
) -> None:
    """SHALL: in-progress status is 202; MAY: X-Progress; and Retry-After tells the client when to poll again."""
    with PENDING:
        response = kick_off(client, admin_headers)
        status = client.get(local(response["Content-Location"]), headers=admin_headers)
    assert status.status_code == 202
    assert status["X-Progress"]
    assert int(status["Retry-After"]) > 0


def test_a_second_concurrent_export_by_the_same_client_is_429(client: Any, history: Any, admin_headers: Any) -> None:
    """MAY: 429 Too Many Requests (with Retry-After and an OperationOutcome) while the client's export runs."""
    with PENDING:
        assert kick_off(client, admin_headers).status_code == 202
        second = kick_off(client, admin_headers)
    assert second.status_code == 429
    assert second["Retry-After"]
    assert orjson.loads(second.content)["issue"][0]["code"] == "throttled"


def test_delete_cancels_with_202_and_the_status_is_then_404(client: Any, history: Any, admin_headers: Any) -> None:
    """SHALL: DELETE on the status URL answers 202; subsequent status requests answer 404 and the job does not run."""
    with PENDING:
        response = kick_off(client, admin_headers)
    status_url = local(response["Content-Location"])
    assert client.delete(status_url, headers=admin_headers).status_code == 202
    assert client.get(status_url, headers=admin_headers).status_code == 404
    job = ExportJob.objects.get()
    bulk.run_export.call(str(job.uuid))  # the worker picks it up late: it must not run
    job.refresh_from_db()
    assert job.status == ExportStatus.CANCELLED
    assert job.output == [] and list(filestore.stored_names()) == []


def test_delete_after_completion_removes_the_files(client: Any, history: Any, admin_headers: Any) -> None:
    """SHOULD: a client's DELETE after download lets the server remove the files."""
    response = kick_off(client, admin_headers, "/fhir/$export?_type=Patient")
    job = ExportJob.objects.get()
    (stored,) = [item["stored"] for item in job.output]
    assert storages["default"].exists(stored)
    assert client.delete(local(response["Content-Location"]), headers=admin_headers).status_code == 202
    assert not storages["default"].exists(stored)


def test_failed_export_status_is_5xx_json_operation_outcome(
    client: Any, history: Any, admin_headers: Any, monkeypatch: Any
) -> None:
    """SHALL: an error status is 4XX/5XX, Content-Type application/json, body an OperationOutcome."""

    def broken(job: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk, "write_files", broken)
    response = kick_off(client, admin_headers)
    status = client.get(local(response["Content-Location"]), headers=admin_headers)
    assert status.status_code == 500
    assert status["Content-Type"] == "application/json"
    body = orjson.loads(status.content)
    assert body["resourceType"] == "OperationOutcome"
    assert "disk full" not in body["issue"][0]["diagnostics"]


def test_files_expire_after_the_ttl_and_are_removed(client: Any, history: Any, admin_headers: Any) -> None:
    """Files expire (EXPORT_TTL after the export finished); expired jobs answer 404 and their folder is gone."""
    response = kick_off(client, admin_headers, "/fhir/$export?_type=Patient")
    job = ExportJob.objects.get()
    (stored,) = [item["stored"] for item in job.output]
    assert job.expires_at - job.finished_at == bulk.EXPORT_TTL
    assert bulk.purge_expired(now=timezone.now()) == 0
    assert storages["default"].exists(stored)
    assert bulk.purge_expired(now=job.expires_at + timedelta(seconds=1)) == 1
    assert not storages["default"].exists(stored)
    assert client.get(local(response["Content-Location"]), headers=admin_headers).status_code == 404


@pytest.mark.parametrize("persona", ["clinician", "colleague", "frontdesk", "researcher"])
def test_only_administrators_export(client: Any, history: Any, personas: Any, api_token: Any, persona: str) -> None:
    """export.bulk: an identifiable export of the clinic is a disclosure, for administrators only (docs/ROLES.md)."""
    response = kick_off(client, api_token(personas[persona]))
    assert response.status_code == 403


def test_status_of_another_clients_job_is_404(
    client: Any, history: Any, admin_headers: Any, outsider: Any, api_token: Any
) -> None:
    response = kick_off(client, admin_headers, "/fhir/$export?_type=Patient")
    assert client.get(local(response["Content-Location"]), headers=api_token(outsider)).status_code in (403, 404)


def test_export_is_audited(client: Any, history: Any, admin_headers: Any) -> None:
    manifest = manifest_of(client, admin_headers, kick_off(client, admin_headers, "/fhir/$export?_type=Patient"))
    lines(client, admin_headers, manifest["output"][0]["url"])
    actions = list(
        AuditEvent.objects.filter(action__startswith="fhir.export").order_by("id").values_list("action", "channel")
    )
    assert actions == [
        ("fhir.export.requested", "fhir"),
        ("fhir.export.completed", "fhir"),
        ("fhir.export.downloaded", "fhir"),
    ]


def test_entered_in_error_patients_are_left_out(
    client: Any, history: Any, clinic: Any, clinician: Any, admin_headers: Any
) -> None:
    from django.db import transaction

    from prolotrack.audit.services import mark_entered_in_error
    from prolotrack.clinics.testing import actor_of

    patient = Patient.objects.filter(clinic=clinic).first()
    with transaction.atomic():
        mark_entered_in_error(actor_of(clinician), patient, "patient.entered_in_error", reason="Duplicate record")
    manifest = manifest_of(client, admin_headers, kick_off(client, admin_headers, "/fhir/$export?_type=Patient"))
    ids = {p["id"] for p in lines(client, admin_headers, manifest["output"][0]["url"])}
    assert str(patient.uuid) not in ids
    assert len(ids) == Patient.objects.filter(clinic=clinic).count() - 1


def test_batches_are_sized_by_bytes(history: Any, clinic: Any) -> None:
    """The writer's batch size follows bytes, not a fixed count: a small byte budget gives small batches."""
    from prolotrack.fhir.resources import TYPES

    rtype = TYPES["MedicationAdministration"]
    chunks = list(bulk.stream(rtype, rtype.sources[0], clinic, batch_bytes=20_000))
    sizes = [n for _, n in chunks]
    assert sum(sizes) == rtype.sources[0].queryset(clinic).count()
    assert all(len(chunk) < 60_000 for chunk, _ in chunks[1:])
    assert max(sizes[1:] or [0]) < bulk.FIRST_BATCH
