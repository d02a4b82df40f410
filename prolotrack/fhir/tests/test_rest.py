"""FHIR REST read and search: capability statement, versions and ETags, search parameters, paging, _include, clinic
isolation, entered-in-error records, strict and lenient handling, audit."""

from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from django.db import transaction
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import mark_entered_in_error
from prolotrack.clinics.testing import actor_of
from prolotrack.fhir.resources import TYPES
from prolotrack.patients.models import Condition, Patient, WeightMeasurement
from prolotrack.treatment.models import InjectionSite, TreatmentSession

pytestmark = pytest.mark.django_db


def get(client: Any, url: str, headers: dict[str, str], **extra: Any) -> tuple[int, dict[str, Any], Any]:
    response = client.get(url, headers=headers, **extra)
    assert response["Content-Type"].startswith("application/fhir+json")
    return response.status_code, orjson.loads(response.content), response


def first_patient(clinic: Any) -> Patient:
    return Patient.objects.filter(clinic=clinic).order_by("id").first()


def test_metadata_validates_and_lists_every_type_and_export(client: Any) -> None:
    status, body, _ = get(client, "/fhir/metadata", {})
    assert status == 200
    CapabilityStatement.model_validate(body)
    rest = body["rest"][0]
    types = {r["type"] for r in rest["resource"]}
    assert types == set(TYPES) | {"Questionnaire", "Binary", "Slot"}
    assert rest["operation"][0]["name"] == "export"
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    assert {"read", "search-type", "update"} <= {i["code"] for i in patient["interaction"]}
    procedure = next(r for r in rest["resource"] if r["type"] == "Procedure")
    assert "Procedure:patient" in procedure["searchInclude"]
    assert {"patient", "date", "code", "status", "_id", "_lastUpdated"} <= {p["name"] for p in procedure["searchParam"]}


def test_read_has_etag_meta_and_validates(
    client: Any, history: Any, clinic: Any, clinician: Any, api_token: Any
) -> None:
    patient = first_patient(clinic)
    status, body, response = get(client, f"/fhir/Patient/{patient.uuid}", api_token(clinician))
    assert status == 200
    assert body["id"] == str(patient.uuid)
    assert response["ETag"] == f'W/"{patient.version}"'
    assert body["meta"]["versionId"] == str(patient.version)
    assert "Last-Modified" in response


def test_read_is_audited_on_the_fhir_channel(
    client: Any, history: Any, clinic: Any, clinician: Any, api_token: Any
) -> None:
    patient = first_patient(clinic)
    get(client, f"/fhir/Patient/{patient.uuid}", api_token(clinician))
    event = AuditEvent.objects.filter(action="fhir.patient.read").get()
    assert event.channel == "fhir"
    assert event.patient_uuid == patient.uuid
    assert event.user == clinician


def test_another_clinics_record_is_404(client: Any, history: Any, clinic: Any, outsider: Any, api_token: Any) -> None:
    patient = first_patient(clinic)
    status, body, _ = get(client, f"/fhir/Patient/{patient.uuid}", api_token(outsider))
    assert status == 404
    assert body["resourceType"] == "OperationOutcome"
    status, body, _ = get(client, f"/fhir/Condition?patient={patient.uuid}", api_token(outsider))
    assert status == 200
    assert body["entry"] == []


def test_unknown_type_and_bad_id_are_404(client: Any, clinician: Any, api_token: Any) -> None:
    assert get(client, "/fhir/Spaceship/1", api_token(clinician))[0] == 404
    assert get(client, "/fhir/Patient/not-a-uuid", api_token(clinician))[0] == 404
    assert get(client, "/fhir/Spaceship", api_token(clinician))[0] == 404


def test_entered_in_error_patient_is_410_and_left_out_of_search(
    client: Any, history: Any, clinic: Any, clinician: Any, api_token: Any
) -> None:
    patient = first_patient(clinic)
    with transaction.atomic():
        mark_entered_in_error(actor_of(clinician), patient, "patient.entered_in_error", reason="Duplicate registration")
    status, body, _ = get(client, f"/fhir/Patient/{patient.uuid}", api_token(clinician))
    assert status == 410
    assert body["issue"][0]["code"] == "deleted"
    _, bundle, _ = get(client, f"/fhir/Patient?_id={patient.uuid}", api_token(clinician))
    assert bundle["entry"] == []


def test_entered_in_error_observation_is_served_with_that_status(
    client: Any, history: Any, clinic: Any, clinician: Any, api_token: Any
) -> None:
    weight = WeightMeasurement.objects.filter(clinic=clinic).first()
    with transaction.atomic():
        mark_entered_in_error(actor_of(clinician), weight, "weight.entered_in_error", reason="Wrong scale")
    status, body, _ = get(client, f"/fhir/Observation/{weight.uuid}", api_token(clinician))
    assert status == 200
    assert body["status"] == "entered-in-error"
    _, bundle, _ = get(client, "/fhir/Observation?status=entered-in-error", api_token(clinician))
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(weight.uuid)]


def ids(bundle: dict[str, Any], mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == mode]


def test_search_by_patient_and_subject(client: Any, history: Any, clinic: Any, clinician: Any, api_token: Any) -> None:
    patient = first_patient(clinic)
    expected = {str(u) for u in Condition.objects.filter(patient=patient).values_list("uuid", flat=True)}
    for query in (f"patient={patient.uuid}", f"subject=Patient/{patient.uuid}"):
        status, bundle, _ = get(client, f"/fhir/Condition?{query}", api_token(clinician))
        assert status == 200
        Bundle.model_validate(bundle)
        assert set(ids(bundle)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("date=2025", lambda d: d.year == 2025),
        ("date=ge2025-06-01", lambda d: d.isoformat() >= "2025-06-01"),
        ("date=gt2025-06-01", lambda d: d.isoformat() > "2025-06-01"),
        ("date=le2025-06-01", lambda d: d.isoformat() <= "2025-06-01"),
        ("date=lt2025-06", lambda d: d.isoformat() < "2025-06-01"),
        ("date=eq2025-06", lambda d: d.isoformat()[:7] == "2025-06"),
        ("date=ge2025-01-01&date=lt2025-07-01", lambda d: "2025-01-01" <= d.isoformat() < "2025-07-01"),
    ],
)
def test_search_by_date_prefixes(
    query: str, expected: Any, client: Any, history: Any, clinic: Any, clinician: Any, api_token: Any
) -> None:
    want = {str(w.uuid) for w in WeightMeasurement.objects.filter(clinic=clinic) if expected(w.measured_on)}
    _, bundle, _ = get(
        client, f"/fhir/Observation?code=http://loinc.org|29463-7&{query}&_count=500", api_token(clinician)
    )
    assert set(ids(bundle)) == want


def test_unknown_date_prefix_and_bad_date_are_400(client: Any, clinician: Any, api_token: Any) -> None:
    assert get(client, "/fhir/Observation?date=ap2025", api_token(clinician))[0] == 200  # sa, eb, ap: issue 12
    assert get(client, "/fhir/Observation?date=xx2025", api_token(clinician))[0] == 400
    assert get(client, "/fhir/Observation?date=2025-13-40", api_token(clinician))[0] == 400
    assert get(client, "/fhir/Observation?date=yesterday", api_token(clinician))[0] == 400


def test_search_by_code_splits_weights_and_pain_scores(
    client: Any, history: Any, clinic: Any, clinician: Any, api_token: Any
) -> None:
    headers = api_token(clinician)
    _, weights, _ = get(client, "/fhir/Observation?code=http://loinc.org|29463-7&_count=500", headers)
    assert weights["entry"]
    assert all(e["resource"]["code"]["coding"][0]["code"] == "29463-7" for e in weights["entry"])
    _, pain, _ = get(client, "/fhir/Observation?code=72514-3&_count=500", headers)
    assert pain["entry"]
    assert all(e["resource"]["code"]["coding"][0]["code"] == "72514-3" for e in pain["entry"])
    _, none, _ = get(client, "/fhir/Observation?code=http://loinc.org|0000-0", headers)
    assert none["entry"] == []
    _, procs, _ = get(client, "/fhir/Procedure?code=M0076&_count=1", headers)
    assert len(procs["entry"]) == 1


def test_search_by_status(client: Any, history: Any, clinic: Any, clinician: Any, api_token: Any) -> None:
    done = TreatmentSession.objects.filter(clinic=clinic, status="done").count()
    _, bundle, _ = get(client, "/fhir/Procedure?status=completed&_count=500", api_token(clinician))
    assert len(bundle["entry"]) == done
    assert all(e["resource"]["status"] == "completed" for e in bundle["entry"])


def test_search_by_id_and_last_updated(client: Any, history: Any, clinic: Any, clinician: Any, api_token: Any) -> None:
    patients = list(Patient.objects.filter(clinic=clinic).order_by("id")[:2])
    headers = api_token(clinician)
    _, bundle, _ = get(client, f"/fhir/Patient?_id={patients[0].uuid},{patients[1].uuid}", headers)
    assert set(ids(bundle)) == {str(p.uuid) for p in patients}
    _, bundle, _ = get(client, "/fhir/Patient?_lastUpdated=gt2100-01-01", headers)
    assert bundle["entry"] == []
    _, bundle, _ = get(client, "/fhir/Patient?_lastUpdated=le2100-01-01", headers)
    assert len(bundle["entry"]) == Patient.objects.filter(clinic=clinic).count()


def test_paging_walks_every_record_once_forward_and_back(
    client: Any, history: Any, clinic: Any, clinician: Any, api_token: Any
) -> None:
    headers = api_token(clinician)
    total = WeightMeasurement.objects.filter(clinic=clinic).count() + sum(1 for _ in _scores(clinic))
    seen: list[str] = []
    pages = []
    url = "/fhir/Observation?_count=7"
    while url:
        status, bundle, _ = get(client, url, headers)
        assert status == 200
        assert "total" not in bundle
        pages.append(ids(bundle))
        seen += ids(bundle)
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        url = _local(links.get("next"))
    assert len(seen) == total == len(set(seen))
    # And back from the last page with the previous links.
    back: list[list[str]] = []
    while url is None or url:
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        url = _local(links.get("previous"))
        if not url:
            break
        _, bundle, _ = get(client, url, headers)
        back.append(ids(bundle))
    assert list(reversed(back)) == pages[:-1]


def _scores(clinic: Any) -> Any:
    from prolotrack.outcomes.models import QuestionnaireResponse

    return QuestionnaireResponse.objects.filter(clinic=clinic, status="completed", score__isnull=False)


def _local(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_include_brings_patients_and_procedures(
    client: Any, history: Any, clinic: Any, clinician: Any, api_token: Any
) -> None:
    headers = api_token(clinician)
    _, bundle, _ = get(client, "/fhir/Procedure?_include=Procedure:patient&_count=5", headers)
    Bundle.model_validate(bundle)
    included = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert included and all(r["resourceType"] == "Patient" for r in included)
    referenced = {e["resource"]["subject"]["reference"] for e in bundle["entry"] if e["search"]["mode"] == "match"}
    assert {f"Patient/{r['id']}" for r in included} == referenced
    _, bundle, _ = get(
        client,
        "/fhir/MedicationAdministration?_include=MedicationAdministration:partOf"
        "&_include=MedicationAdministration:medication&_count=3",
        headers,
    )
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"] if e["search"]["mode"] == "include"}
    assert kinds == {"Procedure", "Medication"}


def test_unknown_parameter_is_ignored_and_reported_or_refused_when_strict(
    client: Any, history: Any, clinician: Any, api_token: Any
) -> None:
    headers = api_token(clinician)
    status, bundle, _ = get(client, "/fhir/Condition?colour=blue", headers)
    assert status == 200
    outcome = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert "colour" in outcome[0]["resource"]["issue"][0]["diagnostics"]
    assert "colour" not in bundle["link"][0]["url"]
    status, body, _ = get(client, "/fhir/Condition?colour=blue", {**headers, "Prefer": "handling=strict"})
    assert status == 400
    assert body["issue"][0]["expression"] == ["colour"]


def test_bad_count_and_cursor_are_400(client: Any, clinician: Any, api_token: Any) -> None:
    assert get(client, "/fhir/Condition?_count=many", api_token(clinician))[0] == 400
    assert get(client, "/fhir/Condition?_cursor=zzz", api_token(clinician))[0] == 400


@pytest.mark.parametrize("name", sorted(TYPES))
def test_every_type_searches_into_a_valid_bundle(
    name: str, client: Any, history: Any, clinician: Any, admin_user: Any, api_token: Any
) -> None:
    who = admin_user if name == "Group" else clinician
    status, bundle, _ = get(client, f"/fhir/{name}?_count=20", api_token(who))
    assert status == 200, bundle
    assert bundle["entry"], name
    Bundle.model_validate(bundle)
    first = bundle["entry"][0]["resource"]
    status, body, _ = get(client, f"/fhir/{name}/{first['id']}", api_token(who))
    assert status == 200
    assert body == first


def test_questionnaires_read_and_search(client: Any, clinician: Any, api_token: Any) -> None:
    status, body, _ = get(client, "/fhir/Questionnaire/nrs-pain", api_token(clinician))
    assert status == 200
    assert body["resourceType"] == "Questionnaire"
    _, bundle, _ = get(client, "/fhir/Questionnaire", api_token(clinician))
    Bundle.model_validate(bundle)
    assert len(bundle["entry"]) > 5


def test_search_audits_one_event_per_patient_shown(
    client: Any, history: Any, clinic: Any, clinician: Any, api_token: Any
) -> None:
    patient = first_patient(clinic)
    get(client, f"/fhir/Condition?patient={patient.uuid}", api_token(clinician))
    events = AuditEvent.objects.filter(action="fhir.condition.searched")
    assert [e.patient_uuid for e in events] == [patient.uuid]
    assert events[0].channel == "fhir"


def test_procedure_targets_are_readable_body_structures(
    client: Any, history: Any, clinic: Any, clinician: Any, api_token: Any
) -> None:
    site = InjectionSite.objects.filter(clinic=clinic).first()
    _, procedure, _ = get(client, f"/fhir/Procedure/{site.session.uuid}", api_token(clinician))
    targets = [e["valueReference"]["reference"] for e in procedure["extension"]]
    assert f"BodyStructure/{site.uuid}" in targets
    assert get(client, f"/fhir/BodyStructure/{site.uuid}", api_token(clinician))[0] == 200


def test_document_reference_points_at_its_pdf_as_binary(
    client: Any, history: Any, clinic: Any, clinician: Any, frontdesk: Any, api_token: Any
) -> None:
    from prolotrack.documents.models import Document

    from .conftest import PDF

    document = Document.objects.get(clinic=clinic)
    _, body, _ = get(client, f"/fhir/DocumentReference/{document.uuid}", api_token(clinician))
    attachment = body["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    response = client.get(f"/fhir/{attachment['url']}", headers={**api_token(clinician), "Accept": "application/pdf"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == PDF
    assert client.get(f"/fhir/{attachment['url']}", headers=api_token(frontdesk)).status_code == 403
