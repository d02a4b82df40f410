"""The FHIR importer and chart-driven screening read codes from one list (domain/concepts.py): a table over every
coded concept shows the importer fills in the problem-list choice that means the same concept to screening, and
gives a medication the class screening gives it (issue 11, "one home for every clinical vocabulary")."""

import pytest

from prolotrack.domain import concepts
from prolotrack.domain.concepts import (
    ATC,
    CONDITION_ICD10_PREFIXES,
    CONDITION_SNOMED,
    GOUT_SNOMED,
    ICD10CM,
    MEDICATION_ATC_PREFIXES,
    MEDICATION_RXNORM,
    PROBLEM_LIST,
    RXNORM,
    SNOMED,
    ChartConcept,
    DrugClass,
)
from prolotrack.fhir import inbound
from prolotrack.patients.models import ScreeningFlag


def coded(system, code, display=""):
    return {"coding": [{"system": system, "code": code, "display": display}]}


@pytest.mark.parametrize(("code", "concept"), sorted(CONDITION_SNOMED.items()))
def test_every_snomed_condition_imports_as_the_choice_screening_reads_the_same(code, concept):
    choice = inbound.screening_flag(coded(SNOMED, code), "")
    assert choice in ScreeningFlag.values and PROBLEM_LIST[choice] is concept
    assert concepts.condition_concept([concepts.token(SNOMED, code)], choice) is concept


@pytest.mark.parametrize(("prefix", "concept"), CONDITION_ICD10_PREFIXES)
def test_every_icd10_category_imports_as_the_choice_screening_reads_the_same(prefix, concept):
    code = prefix[:3] + "." + (prefix[3:] or "0") + "1"  # a code below the category, dotted as FHIR sends it
    choice = inbound.screening_flag(coded(ICD10CM, code), "")
    assert PROBLEM_LIST[choice] is concept, (code, choice)


@pytest.mark.parametrize(
    ("system", "code", "choice"),
    [
        (ICD10CM, "Z95.2", "prosthetic_valve"),
        (ICD10CM, "Z96.651", "prosthetic_joint"),
        (ICD10CM, "M10.9", "gout"),  # the disease: a choice that means nothing to screening
        (ICD10CM, "J06.9", ""),
        (SNOMED, "90560007", "gout"),
        (SNOMED, "38341003", ""),  # hypertension: not a screening concept
    ],
)
def test_importer_choices_that_screening_does_not_derive_from_the_concept_alone(system, code, choice):
    assert inbound.screening_flag(coded(system, code), "") == choice
    assert concepts.problem_list_choice(system, code) == choice


def test_gout_the_disease_means_nothing_to_screening_either_way():
    for code in GOUT_SNOMED:
        assert PROBLEM_LIST[inbound.screening_flag(coded(SNOMED, code), "")] is None
        assert concepts.condition_concept([concepts.token(SNOMED, code)]) is None


def test_every_concept_is_reachable_by_a_code_or_a_choice():
    by_code = set(CONDITION_SNOMED.values()) | {c for _, c in CONDITION_ICD10_PREFIXES}
    by_choice = {c for c in PROBLEM_LIST.values() if c is not None}
    assert set(ChartConcept) == by_code | by_choice
    assert set(PROBLEM_LIST) == set(ScreeningFlag.values) - {""}


@pytest.mark.parametrize(("rxcui", "cls"), sorted(MEDICATION_RXNORM.items()))
def test_every_rxnorm_ingredient_imports_with_the_class_screening_gives_it(rxcui, cls):
    assert inbound.drug_class(coded(RXNORM, rxcui), "") == cls.value


@pytest.mark.parametrize(("prefix", "cls"), MEDICATION_ATC_PREFIXES)
def test_every_atc_group_imports_with_the_class_screening_gives_it(prefix, cls):
    assert inbound.drug_class(coded(ATC, prefix + "01"), "") == cls.value


@pytest.mark.parametrize(
    "name",
    ["Ibuprofen 400 MG Oral Tablet", "Naproxen sodium 220 MG", "Warfarin Sodium 5 MG", "Eliquis 5 mg",
     "clopidogrel 75 MG", "Aspirin 81 MG Oral Tablet", "Aspirin 325 MG Oral Tablet", "Prednisone 5 MG",
     "Acetaminophen 325 MG", "Lisinopril 10 MG", "Nurofen", "Xarelto 20 mg"],
)  # fmt: skip
def test_medication_names_import_with_the_class_screening_gives_them(name):
    assert inbound.drug_class(None, name) == concepts.medication_class(name).value
    assert inbound.drug_class(coded("http://example.org/local", "x", name), "") == concepts.medication_class(name)


def test_the_aspirin_dose_rule_is_the_one_rule():
    assert inbound.drug_class(None, "Aspirin 81 MG") == DrugClass.ANTIPLATELET
    assert inbound.drug_class(None, "Aspirin 325 MG") == DrugClass.NSAID
    assert inbound.drug_class(coded(RXNORM, "1191", "aspirin 500 MG"), "") == DrugClass.NSAID


def test_the_importer_keeps_no_code_list_of_its_own():
    for name in ("FLAG_CODES", "ICD10_FLAGS", "DRUG_CLASS_WORDS", "ATC_CLASSES"):
        assert not hasattr(inbound, name), name
