"""Transaction Bundle import through the services: mapping, references, all-or-nothing, re-import, refusals."""

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.clinics.testing import actor_of
from prolotrack.fhir import importer
from prolotrack.fhir.importer import ImportFailure, import_bundle
from prolotrack.fhir.tests.fixtures.synthea import transaction_bundle
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.patients.models import Allergy, Condition, Medication, Patient, WeightMeasurement

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


def synthea() -> dict[str, Any]:
    return json.loads((FIXTURES / "synthea_transaction.json").read_text())


def fhir_actor(user: Any) -> Any:
    actor = actor_of(user)
    return type(actor)(actor.user, actor.clinic, actor.role, actor.client_address, "fhir")


def counts(clinic: Any) -> dict[str, int]:
    return {
        "patients": Patient.objects.filter(clinic=clinic).count(),
        "weights": WeightMeasurement.objects.filter(clinic=clinic).count(),
        "conditions": Condition.objects.filter(clinic=clinic).count(),
        "medications": Medication.objects.filter(clinic=clinic).count(),
        "allergies": Allergy.objects.filter(clinic=clinic).count(),
        "pain": QuestionnaireResponse.objects.filter(clinic=clinic, instrument="nrs_pain").count(),
        "versions": RecordVersion.objects.filter(clinic=clinic).count(),
    }


def entry(resource: dict[str, Any], full_url: str | None = None, method: str = "POST", url: str | None = None) -> dict:
    out: dict[str, Any] = {"resource": resource, "request": {"method": method, "url": url or resource["resourceType"]}}
    if full_url:
        out["fullUrl"] = full_url
    return out


def patient_resource(mrn: str = "MRN-1", **extra: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "Patient",
        "identifier": [
            {"type": {"coding": [{"system": importer_type(), "code": "MR"}]}, "system": "urn:x", "value": mrn}
        ],
        "name": [{"family": "Okafor", "given": ["Ngozi"]}],
        "birthDate": "1971-03-04",
        "gender": "female",
    }
    resource.update(extra)
    return resource


def importer_type() -> str:
    return "http://terminology.hl7.org/CodeSystem/v2-0203"


def weight(subject: str, value: float = 80, code: str = "kg", day: str = "2024-05-01") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": subject},
        "effectiveDateTime": day,
        "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": code},
    }


def bundle(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


def test_synthea_bundle_imports_what_prolotrack_keeps(clinician: Any, clinic: Any) -> None:
    result = import_bundle(fhir_actor(clinician), synthea())
    got = counts(clinic)
    assert got["patients"] == 3
    assert got["weights"] == 12
    assert got["pain"] == 12
    assert got["conditions"] == 16
    assert got["medications"] == 8
    assert got["allergies"] == 5
    skipped = result.skipped()
    assert skipped["Encounter"] == 12 and skipped["Claim"] == 12 and skipped["ExplanationOfBenefit"] == 12
    # Height and blood pressure (24) and the pain scores (12) are kept as the Observations they are; the pain scores
    # are also the patients' pain NRS answers.
    assert skipped["Observation"] == 0
    from prolotrack.patients.models import Observation

    assert Observation.objects.filter(clinic=clinic).count() == 36
    assert Observation.objects.filter(clinic=clinic, pain_answer__isnull=False).count() == 12
    # Each of the 8 MedicationRequests names a medicine the patient's MedicationStatement in the same bundle holds:
    # the statement is kept, the request skipped with that reason (alone, a request is kept: test_real_synthea.py).
    assert skipped["MedicationRequest"] == 8
    reasons = {o.reason for o in result.outcomes if o.resource_type == "MedicationRequest"}
    assert reasons == {"a MedicationStatement for the same medicine in this bundle is kept instead"}
    assert len(result.outcomes) == len(synthea()["entry"])
    # Mapped as a clinician would read it.
    jacinda = Patient.objects.get(clinic=clinic, given_name="Jacinda0")
    assert jacinda.mrn == synthea()["entry"][0]["resource"]["identifier"][1]["value"]
    assert (jacinda.city, jacinda.region, jacinda.postal_code, jacinda.phone) == ("Boston", "MA", "02118", "555-0100")
    assert jacinda.address_line == "100 Main Street, Unit 2"
    knee = Condition.objects.get(patient=jacinda, description="Osteoarthritis of knee")
    assert (knee.body_region, knee.category, knee.clinical_status) == ("knee", "complaint", "active")
    elbow = Condition.objects.get(patient=jacinda, description="Lateral epicondylitis")
    assert (elbow.body_region, elbow.laterality) == ("elbow", "left")
    assert Condition.objects.get(patient=jacinda, description__startswith="Diabetes").screening_flag == "diabetes"
    assert Condition.objects.get(patient=jacinda, description="Sprain of ankle").clinical_status == "resolved"
    classes = dict(Medication.objects.filter(patient=jacinda).values_list("name", "drug_class"))
    assert classes["Ibuprofen 200 MG Oral Tablet"] == "nsaid"
    assert classes["Clopidogrel 75 MG Oral Tablet"] == "antiplatelet"
    marcus = Patient.objects.get(clinic=clinic, given_name="Marcus1")
    assert Medication.objects.get(patient=marcus, name__startswith="Warfarin").drug_class == "anticoagulant"
    stopped = Medication.objects.get(patient=marcus, name__startswith="Acetaminophen")
    assert stopped.status == "stopped" and str(stopped.last_dose_date) == "2020-01-07"
    # Marcus was weighed in pounds: 156.5 [lb_av] = 70.99 kg.
    assert WeightMeasurement.objects.filter(patient=marcus).order_by("measured_on").first().weight_kg == Decimal("71.0")
    pains = QuestionnaireResponse.objects.filter(patient=jacinda).order_by("authored_on")
    # One reported 0-10 rating is stored as the instrument's scored item (average pain over the last week).
    assert [p.answers for p in pains] == [{"average_week": v} for v in (7, 6, 5, 4)]
    assert [int(p.score) for p in pains] == [7, 6, 5, 4]
    # Audited on the fhir channel, versioned like any other write.
    assert AuditEvent.objects.filter(action="patient.created", channel="fhir").count() == 3
    summary = AuditEvent.objects.get(action="fhir.bundle.imported")
    # 56 records of the registry and 24 kept Observations (height, blood pressure); the 12 pain scores are both.
    assert summary.detail["created"] == 80 and summary.detail["skipped"] == len(result.outcomes) - 80
    assert RecordVersion.objects.filter(record_uuid=jacinda.uuid, version=1).exists()


def test_response_bundle_has_status_location_etag_and_summary(clinician: Any) -> None:
    result = import_bundle(fhir_actor(clinician), synthea())
    response = result.response_bundle()
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(response)
    assert response["type"] == "transaction-response"
    first = response["entry"][0]["response"]
    assert first["status"] == "201 Created"
    assert first["location"].startswith("Patient/") and first["location"].endswith("/_history/1")
    assert first["etag"] == 'W/"1"'
    summary = [i["diagnostics"] for i in first["outcome"]["issue"]]
    assert "Patient: 3 created." in summary
    assert "Claim: 12 skipped (not imported by ProloTrack)." in summary
    skipped_encounter = response["entry"][3]["response"]
    assert skipped_encounter["outcome"]["issue"][0]["code"] == "not-supported"


def test_reimport_updates_rather_than_duplicates(clinician: Any, clinic: Any) -> None:
    import_bundle(fhir_actor(clinician), synthea())
    before = counts(clinic)
    again = synthea()
    again["entry"][0]["resource"]["telecom"][0]["value"] = "555-9999"
    result = import_bundle(fhir_actor(clinician), again)
    after = counts(clinic)
    assert {k: v for k, v in after.items() if k != "versions"} == {k: v for k, v in before.items() if k != "versions"}
    assert after["versions"] == before["versions"] + 1  # only the changed phone number made a version
    tally = result.counts()
    assert tally[("Patient", "updated")] == 1 and tally[("Patient", "unchanged")] == 2
    assert tally[("Condition", "unchanged")] == 16 and tally[("Observation", "unchanged")] == 48
    jacinda = Patient.objects.get(clinic=clinic, given_name="Jacinda0")
    assert jacinda.phone == "555-9999" and jacinda.version == 2
    assert result.outcomes[0].status == "200 OK" and result.outcomes[0].etag == 'W/"2"'


def test_one_bad_entry_writes_nothing(clinician: Any, clinic: Any) -> None:
    data = synthea()
    data["entry"][-5]["resource"]["birthDate"] = "not-a-date"  # somewhere late: a Claim or Procedure
    data["entry"][40]["resource"]["effectiveDateTime"] = "yesterday"
    with pytest.raises(ImportFailure) as caught:
        import_bundle(fhir_actor(clinician), data)
    assert caught.value.status in (400, 422)
    paths = [i.expression for i in caught.value.issues]
    assert any(p and p.startswith("Bundle.entry[40].resource.effectiveDateTime") for p in paths)
    assert all(v == 0 for v in counts(clinic).values())


def test_a_refusal_at_write_time_rolls_back_earlier_writes(clinician: Any, clinic: Any) -> None:
    # Valid FHIR that the registry refuses: a weight of 900 kg (plausible range 2-400). Patients were written first.
    data = synthea()
    data["entry"].append(entry(weight(data["entry"][0]["fullUrl"], value=900)))
    with pytest.raises(ImportFailure) as caught:
        import_bundle(fhir_actor(clinician), data)
    assert caught.value.status == 422
    issue = caught.value.issues[0]
    assert issue.expression == f"Bundle.entry[{len(data['entry']) - 1}].resource.valueQuantity"
    assert all(v == 0 for v in counts(clinic).values())
    assert not AuditEvent.objects.filter(channel="fhir").exists()


def test_unresolvable_reference_is_refused(clinician: Any, clinic: Any) -> None:
    data = bundle(entry(weight("urn:uuid:00000000-0000-4000-8000-000000000000")))
    with pytest.raises(ImportFailure) as caught:
        import_bundle(fhir_actor(clinician), data)
    assert caught.value.status == 422
    assert caught.value.issues[0].expression == "Bundle.entry[0].resource.subject"
    assert "resolves to no Patient" in caught.value.issues[0].diagnostics


def test_conditional_reference_to_bundle_and_existing_patient(clinician: Any, clinic: Any, make_patient: Any) -> None:
    existing = make_patient(mrn="EXIST-7")
    data = bundle(
        entry(patient_resource("NEW-1"), "urn:uuid:11111111-1111-4111-8111-111111111111"),
        entry(weight("Patient?identifier=urn:x|NEW-1", value=61)),
        entry(weight("Patient?identifier=EXIST-7", value=72)),
        entry(weight(f"Patient/{existing.uuid}", value=73, day="2024-05-02")),
    )
    import_bundle(fhir_actor(clinician), data)
    new = Patient.objects.get(clinic=clinic, mrn="NEW-1")
    assert list(new.weights.values_list("weight_kg", flat=True)) == [Decimal("61.0")]
    assert sorted(existing.weights.values_list("weight_kg", flat=True)) == [Decimal("72.0"), Decimal("73.0")]


def test_conditional_reference_with_no_match_is_refused(clinician: Any, clinic: Any) -> None:
    with pytest.raises(ImportFailure) as caught:
        import_bundle(fhir_actor(clinician), bundle(entry(weight("Patient?identifier=urn:x|NOBODY"))))
    assert "No patient matches" in caught.value.issues[0].diagnostics


def test_conditional_create_if_none_exist(clinician: Any, clinic: Any, make_patient: Any) -> None:
    existing = make_patient(mrn="MRN-1", given_name="Kept")
    first = entry(patient_resource("MRN-1"), "urn:uuid:22222222-2222-4222-8222-222222222222")
    first["request"]["ifNoneExist"] = "identifier=urn:x|MRN-1"
    second = entry(patient_resource("MRN-2"), "urn:uuid:33333333-3333-4333-8333-333333333333")
    second["request"]["ifNoneExist"] = "identifier=urn:x|MRN-2"
    result = import_bundle(
        fhir_actor(clinician),
        bundle(first, second, entry(weight("urn:uuid:22222222-2222-4222-8222-222222222222"))),
    )
    assert [o.result for o in result.outcomes] == ["unchanged", "created", "created"]
    existing.refresh_from_db()
    assert existing.given_name == "Kept" and existing.version == 1  # matched, not changed
    assert existing.weights.count() == 1


def test_put_by_id_with_if_match_and_stale(clinician: Any, clinic: Any, make_patient: Any) -> None:
    patient = make_patient(mrn="MRN-1")
    put = entry(
        patient_resource("MRN-1", id=str(patient.uuid), gender="other"), method="PUT", url=f"Patient/{patient.uuid}"
    )
    put["request"]["ifMatch"] = 'W/"1"'
    import_bundle(fhir_actor(clinician), bundle(put))
    patient.refresh_from_db()
    assert (patient.sex, patient.version, patient.given_name) == ("other", 2, "Ngozi")
    with pytest.raises(ImportFailure) as caught:
        import_bundle(fhir_actor(clinician), bundle(put))  # still says version 1
    assert caught.value.status == 412


def test_put_unknown_or_other_clinic_id_is_404(clinician: Any, outsider: Any, make_patient: Any) -> None:
    theirs = make_patient(by=outsider, mrn="B-1")
    put = entry(patient_resource("B-1", id=str(theirs.uuid)), method="PUT", url=f"Patient/{theirs.uuid}")
    with pytest.raises(ImportFailure) as caught:
        import_bundle(fhir_actor(clinician), bundle(put))
    assert caught.value.status == 404
    theirs.refresh_from_db()
    assert theirs.version == 1


def test_reference_to_another_clinics_patient_is_not_found(clinician: Any, outsider: Any, make_patient: Any) -> None:
    theirs = make_patient(by=outsider, mrn="B-2")
    with pytest.raises(ImportFailure) as caught:
        import_bundle(fhir_actor(clinician), bundle(entry(weight(f"Patient/{theirs.uuid}"))))
    assert caught.value.status == 422
    with pytest.raises(ImportFailure):
        import_bundle(fhir_actor(clinician), bundle(entry(weight("Patient?identifier=B-2"))))
    assert theirs.weights.count() == 0


@pytest.mark.parametrize(
    ("mutate", "status", "needle"),
    [
        (lambda b: b.update(type="collection"), 422, "is not accepted"),
        (lambda b: b.update(type="searchset"), 422, "send 'transaction' or 'batch'"),
        (lambda b: b.update(resourceType="Patient"), 400, "takes a Bundle"),
        (lambda b: b["entry"][0]["request"].update(method="DELETE"), 400, "DELETE is not supported"),
        (lambda b: b["entry"][0]["request"].update(url="Condition"), 400, "does not name the resource's type"),
        (lambda b: b["entry"][0].pop("request"), 400, "needs request"),
        (lambda b: b["entry"][1].update(fullUrl=b["entry"][0]["fullUrl"]), 400, "appears twice"),
        (
            lambda b: (
                b["entry"][0]["resource"].update(resourceType="Nonsense"),
                b["entry"][0]["request"].update(url="Nonsense"),
            ),
            422,
            "not a FHIR R4 resource",
        ),
        (lambda b: b["entry"][0]["resource"].update(gender="woman"), 422, "gender must be"),
        (lambda b: b["entry"][0]["resource"].update(birthDate="1971"), 422, "partial"),
        (lambda b: b["entry"][0]["resource"].pop("name"), 422, "family name"),
    ],
)
def test_bad_bundles_are_refused_with_what_to_fix(
    clinician: Any, clinic: Any, mutate: Any, status: int, needle: str
) -> None:
    data = bundle(
        entry(patient_resource("MRN-1"), "urn:uuid:44444444-4444-4444-8444-444444444444"),
        entry(weight("urn:uuid:44444444-4444-4444-8444-444444444444"), "urn:uuid:55555555-5555-4555-8555-555555555555"),
    )
    mutate(data)
    with pytest.raises(ImportFailure) as caught:
        import_bundle(fhir_actor(clinician), data)
    assert caught.value.status == status, caught.value.issues
    assert any(needle in i.diagnostics for i in caught.value.issues), caught.value.issues
    assert Patient.objects.filter(clinic=clinic).count() == 0


def test_huge_bundle_is_refused_before_reading(clinician: Any) -> None:
    data = bundle(*[entry(patient_resource(f"M{i}")) for i in range(11)])
    with pytest.raises(ImportFailure) as caught:
        import_bundle(fhir_actor(clinician), data, max_entries=10)
    assert caught.value.status == 413
    assert "at most 10" in caught.value.issues[0].diagnostics


def test_admin_may_import_patients_but_not_clinical_records(admin_user: Any, clinic: Any) -> None:
    import_bundle(fhir_actor(admin_user), bundle(entry(patient_resource("MRN-A"))))
    assert Patient.objects.filter(clinic=clinic, mrn="MRN-A").exists()
    with pytest.raises(ImportFailure) as caught:
        import_bundle(fhir_actor(admin_user), synthea())
    assert caught.value.status == 403
    refused = " ".join(i.diagnostics for i in caught.value.issues)
    assert "Condition" in refused and "patient.edit_clinical" in refused
    assert Patient.objects.filter(clinic=clinic).count() == 1


def test_dry_run_writes_nothing(clinician: Any, clinic: Any) -> None:
    result = importer.import_bundle(fhir_actor(clinician), synthea(), dry_run=True)
    assert result.counts()[("Patient", "created")] == 3
    assert all(v == 0 for v in counts(clinic).values())


def test_unit_conversion_and_unknown_unit(clinician: Any, clinic: Any) -> None:
    url = "urn:uuid:66666666-6666-4666-8666-666666666666"
    result = import_bundle(
        fhir_actor(clinician),
        bundle(
            entry(patient_resource(), url),
            entry(weight(url, 176.4, "[lb_av]")),
            entry(weight(url, 80500, "g", "2024-05-03")),
        ),
    )
    kg = sorted(WeightMeasurement.objects.filter(clinic=clinic).values_list("weight_kg", flat=True))
    assert kg == [Decimal("80.0"), Decimal("80.5")]
    assert "recorded as 80.0 kg" in result.outcomes[1].issues[0].diagnostics
    with pytest.raises(ImportFailure) as caught:
        import_bundle(
            fhir_actor(clinician), bundle(entry(patient_resource(), url), entry(weight(url, 12, "[stone_av]")))
        )
    assert "UCUM kg, g or [lb_av]" in caught.value.issues[0].diagnostics


def test_the_fixture_is_not_changed_by_import(clinician: Any) -> None:
    data = synthea()
    before = copy.deepcopy(data)
    import_bundle(fhir_actor(clinician), data)
    assert data == before


def test_generated_bundle_matches_committed_fixture() -> None:
    assert transaction_bundle() == synthea()


def test_batch_imports_each_entry_on_its_own(clinician: Any, clinic: Any) -> None:
    url = "urn:uuid:77777777-7777-4777-8777-777777777777"
    data = bundle(
        entry(patient_resource("B-1"), url),
        entry(patient_resource("B-2", birthDate="1971-13-40")),  # invalid: refused alone
        entry(weight(url)),  # a reference to another batch entry: refused (no interdependencies in a batch)
        entry(weight("Patient?identifier=B-1", value=66)),  # a conditional reference works
        {"resource": weight("Patient?identifier=B-1"), "request": {"method": "DELETE", "url": "Observation/1"}},
    )
    data["type"] = "batch"
    result = import_bundle(fhir_actor(clinician), data)
    response = result.response_bundle()
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(response)
    assert response["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in response["entry"]]
    assert statuses == [
        "201 Created",
        "422 Unprocessable Entity",
        "422 Unprocessable Entity",
        "201 Created",
        "400 Bad Request",
    ]
    assert response["entry"][1]["response"]["outcome"]["issue"][0]["expression"] == [
        "Bundle.entry[1].resource.birthDate"
    ]
    assert "resolves to no Patient" in response["entry"][2]["response"]["outcome"]["issue"][0]["diagnostics"]
    kept = Patient.objects.get(clinic=clinic, mrn="B-1")
    assert list(kept.weights.values_list("weight_kg", flat=True)) == [Decimal("66.0")]
    assert not Patient.objects.filter(mrn="B-2").exists()
    summary = AuditEvent.objects.get(action="fhir.batch.imported")
    assert summary.detail == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 0, "refused": 3}
