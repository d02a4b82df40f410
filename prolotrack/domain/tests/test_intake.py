"""Pre-visit intake: tables of answers and the review items they propose (domain/intake.py, docs/INTAKE.md)."""

from datetime import date
from decimal import Decimal

import pytest

from prolotrack.domain import intake
from prolotrack.domain.concepts import DrugClass, condition_concept
from prolotrack.domain.intake import IntakeError, ItemKind, missing, review_items
from prolotrack.domain.vocabulary import NamedMedicine

DAY = date(2030, 3, 4)

# Every medicine asked by name, and the screening class domain/concepts.py gives it.
NAMED_CLASSES = {
    "ibuprofen": DrugClass.NSAID,
    "naproxen": DrugClass.NSAID,
    "diclofenac": DrugClass.NSAID,
    "celecoxib": DrugClass.NSAID,
    "aspirin": DrugClass.ANTIPLATELET,
    "warfarin": DrugClass.ANTICOAGULANT,
    "apixaban": DrugClass.ANTICOAGULANT,
    "rivaroxaban": DrugClass.ANTICOAGULANT,
    "dabigatran": DrugClass.ANTICOAGULANT,
    "edoxaban": DrugClass.ANTICOAGULANT,
    "heparin": DrugClass.ANTICOAGULANT,
    "clopidogrel": DrugClass.ANTIPLATELET,
    "prasugrel": DrugClass.ANTIPLATELET,
    "ticagrelor": DrugClass.ANTIPLATELET,
}


def test_every_named_medicine_is_in_the_table():
    assert set(NAMED_CLASSES) == set(NamedMedicine.values)


@pytest.mark.parametrize(("code", "expected"), sorted(NAMED_CLASSES.items()))
def test_each_named_medicine_maps_to_its_screening_class(code, expected):
    items = review_items({"medicines": {"named": {code: {"dose": "", "last_dose": ""}}}}, DAY)
    assert len(items) == 1
    item = items[0]
    assert item.kind is ItemKind.MEDICATION
    assert item.key == f"medication:{code}"
    assert item.values["drug_class"] == expected.value
    assert item.concept == expected.value
    assert item.values["status"] == "active"


@pytest.mark.parametrize(
    ("name", "dose", "expected"),
    [
        ("aspirin", "81 mg", DrugClass.ANTIPLATELET),
        ("aspirin", "600 mg", DrugClass.NSAID),  # an analgesic dose (concepts.ASPIRIN_ANALGESIC_MG)
        ("Eliquis", "5 mg twice a day", DrugClass.ANTICOAGULANT),  # a brand name typed as "other"
        ("Advil", "", DrugClass.NSAID),
        ("paracetamol", "1 g", DrugClass.OTHER),
        ("metformin", "500 mg", DrugClass.OTHER),
    ],
)
def test_other_medicines_are_classed_by_their_words(name, dose, expected):
    items = review_items({"medicines": {"other": [{"name": name, "dose": dose}]}}, DAY)
    assert [i.values["drug_class"] for i in items] == [expected.value]
    assert items[0].concept == ("" if expected is DrugClass.OTHER else expected.value)


def test_a_last_dose_is_a_date_on_the_proposed_medication():
    items = review_items({"medicines": {"named": {"warfarin": {"dose": "5 mg", "last_dose": "2030-03-01"}}}}, DAY)
    assert items[0].values["last_dose_date"] == date(2030, 3, 1)
    assert items[0].summary == "Takes Warfarin 5 mg, last dose 2030-03-01"


@pytest.mark.parametrize(
    ("allergies", "expected"),
    [
        # The explicit answer, and only it, proposes "no known allergies".
        ({"answer": "none", "items": []}, [("no_known_allergies", ItemKind.NO_KNOWN_ALLERGIES)]),
        # An empty list is not an answer: nothing is proposed, never NKA.
        ({"answer": "", "items": []}, []),
        ({}, []),
        ({"answer": "some", "items": []}, []),
        (
            {"answer": "some", "items": [{"substance": "Lidocaine", "reaction": "hives", "severity": "moderate"}]},
            [("allergy:1", ItemKind.ALLERGY)],
        ),
        # "none" typed as a substance is not an allergy, and not an NKA either (the answer was "some").
        ({"answer": "some", "items": [{"substance": "NKDA", "reaction": "", "severity": "mild"}]}, []),
    ],
)
def test_allergy_answers(allergies, expected):
    items = review_items({"allergies": allergies}, DAY)
    assert [(i.key, i.kind) for i in items] == expected


def test_an_allergy_names_what_screening_reads_in_it():
    items = review_items(
        {"allergies": {"answer": "some", "items": [{"substance": "Xylocaine", "reaction": "", "severity": "severe"}]}},
        DAY,
    )
    assert items[0].concept == "local_anaesthetic"
    assert items[0].values == {
        "substance": "Xylocaine",
        "reaction": "",
        "severity": "severe",
        "note": "Reported by the patient before the visit.",
    }


@pytest.mark.parametrize(
    ("key", "flag"),
    [
        ("pregnancy", "pregnancy"),
        ("diabetes", "diabetes"),
        ("bleeding_disorder", "bleeding_disorder"),
        ("prosthetic_joint", "prosthetic_joint"),
        ("skin_infection", "skin_infection"),
        ("systemic_infection", "systemic_infection"),
    ],
)
@pytest.mark.parametrize(
    ("answer", "proposed", "unsure"), [("yes", True, False), ("unsure", True, True), ("no", False, False)]
)
def test_condition_answers_map_to_the_screening_flags(key, flag, answer, proposed, unsure):
    items = review_items(
        {"conditions": {key: answer}, "complaint": {"description": "x", "region": "knee", "side": "left"}}, DAY
    )
    conditions = [i for i in items if i.key.startswith("condition:")]
    if not proposed:
        assert conditions == []
        return
    (item,) = conditions
    assert item.values["screening_flag"] == flag
    assert item.values["category"] == "comorbidity"
    assert item.concept == condition_concept(problem_choice=flag).value
    assert item.unsure is unsure
    assert ("not sure" in item.values["note"]) is unsure


def test_a_skin_infection_is_placed_at_the_complaint_and_a_fever_is_not():
    answers = {
        "complaint": {"description": "Knee pain", "region": "knee", "side": "left"},
        "conditions": {"skin_infection": "yes", "systemic_infection": "yes"},
    }
    by_key = {i.key: i for i in review_items(answers, DAY)}
    assert (
        by_key["condition:skin_infection"].values["body_region"],
        by_key["condition:skin_infection"].values["laterality"],
    ) == ("knee", "left")
    assert by_key["condition:systemic_infection"].values["body_region"] == ""


def test_the_complaint_becomes_a_presenting_complaint():
    answers = {
        "complaint": {
            "description": "Pain inside the knee on stairs",
            "region": "knee",
            "side": "right",
            "duration": "chronic",
            "pain_now": 6,
            "treatments": ["physiotherapy", "steroid_injection"],
            "treatments_other": "acupuncture",
        }
    }
    (item,) = review_items(answers, DAY)
    assert item.key == "complaint"
    assert item.values["category"] == "complaint"
    assert (item.values["body_region"], item.values["laterality"], item.values["chronicity"]) == (
        "knee",
        "right",
        "chronic",
    )
    assert item.values["prior_treatments"] == "Physiotherapy or exercises; Steroid (cortisone) injection; acupuncture"
    assert "Pain now 6/10" in item.values["note"]
    assert "pain now 6/10" in item.summary


@pytest.mark.parametrize(
    ("value", "unit", "kg"),
    [
        ("72.5", "kg", Decimal("72.5")),
        ("72,5", "kg", Decimal("72.5")),
        ("160", "lb", Decimal("72.6")),  # 160 x 0.45359237 = 72.57
        ("2", "kg", Decimal("2.0")),
        ("400", "kg", Decimal("400.0")),
    ],
)
def test_weights_in_kg_and_lb(value, unit, kg):
    assert intake.weight_kg(value, unit) == kg
    (item,) = review_items({"weight": {"value": value, "unit": unit}}, DAY)
    assert item.values["weight_kg"] == kg
    assert item.values["measured_on"] == DAY
    if unit == "lb":
        assert "as 160 lb" in item.values["note"]


@pytest.mark.parametrize(
    ("value", "unit", "message"),
    [
        ("401", "kg", "between 2 and 400 kg"),
        ("1", "kg", "between 2 and 400 kg"),
        ("900", "lb", "between 4 and 882 lb"),
        ("abc", "kg", "as a number"),
        ("NaN", "kg", "as a number"),
        ("70", "stone", "kilograms or pounds"),
    ],
)
def test_weights_refused_with_a_message(value, unit, message):
    with pytest.raises(IntakeError, match=message):
        intake.weight_kg(value, unit)


@pytest.mark.parametrize(("value", "ok"), [("0", True), ("10", True), ("11", False), ("-1", False), ("x", False)])
def test_pain_now_is_the_nrs(value, ok):
    if ok:
        assert intake.pain_now(value) == int(value)
    else:
        with pytest.raises(IntakeError, match="0 \\(no pain\\) to 10"):
            intake.pain_now(value)


def test_questionnaires_become_items_with_their_answers():
    items = review_items({"questionnaires": {"nrs_pain": {"now": 6, "average_week": 5, "worst_week": 8}}}, DAY)
    (item,) = items
    assert item.kind is ItemKind.QUESTIONNAIRE
    assert item.values["instrument"] == "nrs_pain"
    assert "complete" in item.summary


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, ["complaint", "medicines", "allergies", "conditions", "weight"]),
        (
            {
                "complaint": {"description": "x", "region": "knee", "pain_now": 0},
                "medicines": {"none": True},
                "allergies": {"answer": "none"},
                "conditions": dict.fromkeys(intake.CONDITION_KEYS, "no"),
                "weight": {"unknown": True},
            },
            [],
        ),
        # Allergies "some" without any listed, and a condition left unanswered, are not answers.
        (
            {
                "complaint": {"description": "x", "region": "knee", "pain_now": 3},
                "medicines": {"named": {"ibuprofen": {}}},
                "allergies": {"answer": "some", "items": []},
                "conditions": dict.fromkeys(intake.CONDITION_KEYS[1:], "no"),
                "weight": {"value": "70", "unit": "kg"},
            },
            ["allergies", "conditions"],
        ),
    ],
)
def test_missing_answers(answers, expected):
    assert missing(answers) == expected


@pytest.mark.parametrize(
    ("region", "licensed", "expected"),
    [
        ("knee", (), ("nrs_pain",)),
        ("knee", ("koos_jr",), ("nrs_pain", "koos_jr")),
        ("lumbopelvic", ("odi",), ("nrs_pain", "odi")),
        ("tmj", (), ("nrs_pain",)),
        ("other", (), ("nrs_pain",)),
        ("", (), ("nrs_pain",)),
    ],
)
def test_baseline_questionnaires_of_the_region_never_pgic(region, licensed, expected):
    assert intake.baseline_instruments(region, licensed_available=licensed) == expected
