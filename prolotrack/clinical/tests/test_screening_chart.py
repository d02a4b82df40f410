"""The chart reaches screening: a condition, a medication or an allergy on the chart, through the page and the API."""

import re

import pytest
from django.utils import timezone

from prolotrack.clinical.models import ScreeningRecord
from prolotrack.clinical.tests.conftest import PROCEDURE_DATE
from prolotrack.domain.concepts import ICD10CM, PROBLEM_LIST, RXNORM, SNOMED, token
from prolotrack.patients.models import ScreeningFlag

pytestmark = pytest.mark.django_db

EVALUATE = "/api/screening/evaluate"


def procedure(side: str = "left", region: str = "knee") -> dict:
    return {"date": PROCEDURE_DATE.isoformat(), "region": region, "side": side, "site": "", "agents": ["dextrose"]}


def codes(body: dict) -> list[str]:
    return [f["code"] for f in body["findings"]]


def finding(body: dict, code: str) -> dict:
    return next(f for f in body["findings"] if f["code"] == code)


def cellulitis(add, patient, **changes):
    fields = {
        "description": "Cellulitis of left knee",
        "category": "comorbidity",
        "body_region": "knee",
        "laterality": "left",
        "codes": [token(SNOMED, "128045006")],
    }
    fields.update(changes)
    return add(patient, "condition", **fields)


def test_an_active_coded_cellulitis_on_the_chart_blocks_the_left_knee_through_the_api(call, clinician, patient, add):
    # The defect: this screened as eligible unless the day-of box was ticked too.
    condition = cellulitis(add, patient)
    body = call(clinician, EVALUATE, {"patient_id": str(patient.uuid), "procedure": procedure()}).json()
    assert body["decision"] == "not_eligible"
    reason = finding(body, "contraindication.infection_at_site")["reason"]
    since = timezone.localdate(condition.created_at, timezone=patient.clinic.tz).isoformat()
    assert f"From the chart: Cellulitis of left knee, on the chart since {since}." in reason
    stored = ScreeningRecord.objects.get()
    assert stored.facts["conditions"][0]["concept"] == "infection_at_site"


def test_the_same_cellulitis_is_only_a_caution_for_the_right_knee(call, clinician, patient, add):
    cellulitis(add, patient)
    body = call(clinician, EVALUATE, {"patient_id": str(patient.uuid), "procedure": procedure("right")}).json()
    assert "contraindication.infection_at_site" not in codes(body)
    assert "caution.infection_elsewhere" in codes(body)
    assert body["decision"] == "eligible_with_cautions"


def test_a_resolved_or_entered_in_error_condition_is_not_read(call, clinician, patient, add):
    cellulitis(add, patient, clinical_status="resolved")
    body = call(clinician, EVALUATE, {"patient_id": str(patient.uuid), "procedure": procedure()}).json()
    assert "contraindication.infection_at_site" not in codes(body)


@pytest.mark.parametrize(
    ("condition_codes", "choice", "expected"),
    [
        ([token(ICD10CM, "L03.116")], "", "contraindication.infection_at_site"),
        ([token(SNOMED, "91302008")], "", "contraindication.systemic_infection"),
        ([token(ICD10CM, "S82.002A")], "", "contraindication.acute_fracture"),
        ([token(ICD10CM, "C49.22")], "", "contraindication.suspected_tumour"),
        ([], "septic_joint", "contraindication.septic_joint"),
        ([], "gout_flare", "contraindication.acute_gout_flare"),
        ([], "skin_infection", "contraindication.infection_at_site"),
        ([], "fracture", "contraindication.acute_fracture"),
        ([], "tumour", "contraindication.suspected_tumour"),
        ([], "systemic_infection", "contraindication.systemic_infection"),
        ([token(ICD10CM, "E11.9")], "", "caution.diabetes"),
    ],
)
def test_coded_and_problem_list_conditions_reach_screening(
    call, clinician, patient, add, condition_codes, choice, expected
):
    add(
        patient,
        "condition",
        description="On the chart",
        category="comorbidity",
        screening_flag=choice,
        body_region="knee",
        laterality="left",
        codes=condition_codes,
    )
    body = call(clinician, EVALUATE, {"patient_id": str(patient.uuid), "procedure": procedure()}).json()
    assert expected in codes(body)
    assert "on the chart since" in finding(body, expected)["reason"]


def test_every_problem_list_choice_of_the_model_is_in_the_domain_table():
    assert set(ScreeningFlag.values) - {""} == set(PROBLEM_LIST)


def test_a_medication_recorded_as_other_with_an_rxnorm_code_is_screened_by_its_class(call, clinician, patient, add):
    add(patient, "medication", name="Blood thinner", drug_class="other", codes=[token(RXNORM, "11289")])
    body = call(clinician, EVALUATE, {"patient_id": str(patient.uuid), "procedure": procedure()}).json()
    assert "caution.anticoagulant" in codes(body)


def test_a_coded_lidocaine_allergy_reaches_screening(call, clinician, patient, add):
    add(patient, "allergy", substance="Allergy to drug", severity="severe", codes=[token(SNOMED, "387480006")])
    payload = {"patient_id": str(patient.uuid), "procedure": {**procedure(), "agents": ["dextrose", "lidocaine"]}}
    body = call(clinician, EVALUATE, payload).json()
    assert "contraindication.allergy.local_anaesthetic" in codes(body)


def test_the_screening_page_shows_the_chart_condition_and_its_origin(client, login, clinician, patient, add):
    cellulitis(add, patient)
    login(clinician)
    form = client.get(f"/patients/{patient.uuid}/screening/new/")
    assert "Cellulitis of left knee" in form.content.decode()
    response = client.post(
        f"/patients/{patient.uuid}/screening/new/",
        {
            "procedure_date": PROCEDURE_DATE.isoformat(),
            "region": "knee",
            "side": "left",
            "site_description": "medial knee",
            "agents": ["dextrose", "lidocaine"],
            "sedation": "none",
            "pregnancy": "not_pregnant",
        },
    )
    assert response.status_code == 302
    body = re.sub(r"\s+", " ", client.get(response["Location"]).content.decode())
    assert '<p class="verdict">Not eligible</p>' in body
    assert "From the chart: Cellulitis of left knee, on the chart since" in body


@pytest.mark.parametrize(
    "bad", [["128045006"], "http://snomed.info/sct|128045006", [token(SNOMED, "1 2")], [1], ["|"], ["a|b"] * 21]
)
def test_codes_that_are_not_system_code_pairs_are_refused(add, patient, bad):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        add(patient, "condition", description="X", category="comorbidity", codes=bad)


def test_valid_codes_are_stored_once_each(add, patient):
    code = token(SNOMED, "128045006")
    condition = add(patient, "condition", description="X", category="comorbidity", codes=[code, code])
    condition.refresh_from_db()
    assert condition.codes == [code]
