"""Concept lists: every code of every list is recognised, site matching across all regions and sides, NKA words."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain import concepts
from prolotrack.domain.anatomy import Region
from prolotrack.domain.concepts import (
    ALLERGY_CODES,
    CONDITION_ICD10_PREFIXES,
    CONDITION_SNOMED,
    ICD10,
    ICD10CM,
    MEDICATION_ATC_PREFIXES,
    MEDICATION_RXNORM,
    NO_KNOWN_ALLERGY_SNOMED,
    PROBLEM_LIST,
    RXNORM,
    SNOMED,
    AllergyConcept,
    ChartConcept,
    DrugClass,
    allergy_concepts,
    at_site,
    condition_concept,
    effective_class,
    is_no_known_allergy,
    medication_class,
    sides_match,
    token,
)

# --- conditions ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "concept"), sorted(CONDITION_SNOMED.items()))
def test_every_snomed_condition_code_is_recognised(code, concept):
    assert condition_concept([token(SNOMED, code)]) is concept


@pytest.mark.parametrize(("prefix", "concept"), CONDITION_ICD10_PREFIXES)
@pytest.mark.parametrize("system", [ICD10CM, ICD10])
def test_every_icd10_prefix_covers_its_codes_with_or_without_the_dot(prefix, concept, system):
    # The category itself, a dotted child and an undotted grandchild all fall under the prefix.
    dotted = prefix[:3] + "." + (prefix[3:] or "0") + "1"
    for code in (prefix, dotted, dotted.replace(".", "") + "A", dotted.lower()):
        assert condition_concept([token(system, code)]) is concept, code


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("L03.116", ChartConcept.INFECTION),  # Cellulitis of left lower limb
        ("A41.9", ChartConcept.SYSTEMIC_INFECTION),  # Sepsis, unspecified organism
        ("R65.20", ChartConcept.SYSTEMIC_INFECTION),  # Severe sepsis without septic shock
        ("R65.10", None),  # SIRS of non-infectious origin: not R65.2
        ("M00.062", ChartConcept.SEPTIC_JOINT),  # Staphylococcal arthritis, left knee
        ("S82.001A", ChartConcept.ACUTE_FRACTURE),  # Fracture of right patella
        ("C50.911", ChartConcept.TUMOUR),
        ("D36.9", None),  # benign neoplasm: not in the list
        ("R73.03", None),  # prediabetes is not diabetes
        ("E11.9", ChartConcept.DIABETES),
        ("Z96.651", ChartConcept.PROSTHETIC_JOINT_OR_VALVE),  # Presence of right artificial knee joint
        ("Z96.1", None),  # Presence of intraocular lens: not a joint
        ("M10.9", None),  # gout, the disease: the flare is its own choice
        ("J06.9", None),
    ],
)
def test_icd10_examples(code, expected):
    assert condition_concept([token(ICD10CM, code)]) is expected


@pytest.mark.parametrize(("choice", "concept"), sorted(PROBLEM_LIST.items()))
def test_every_problem_list_choice(choice, concept):
    assert condition_concept([], choice) is concept


def test_codes_of_other_systems_and_unknown_codes_mean_nothing():
    assert condition_concept([token(RXNORM, "128045006")]) is None
    assert condition_concept([token(SNOMED, "999999999")]) is None
    assert condition_concept(["128045006"]) is None  # a bare code has no system
    assert condition_concept([]) is None


def test_the_gravest_reading_wins():
    codes = [token(SNOMED, "73211009"), token(SNOMED, "91302008")]
    assert condition_concept(codes, "diabetes") is ChartConcept.SYSTEMIC_INFECTION


def test_every_concept_is_reachable_from_some_list():
    reachable = set(CONDITION_SNOMED.values()) | {c for _, c in CONDITION_ICD10_PREFIXES} | set(PROBLEM_LIST.values())
    assert reachable - {None} == set(ChartConcept)


# --- site matching ------------------------------------------------------------------------------------------------

REGIONS = [r.value for r in Region]
SIDES = ["left", "right", "bilateral", "midline", "na", ""]


@pytest.mark.parametrize(("condition_region", "planned_region"), list(itertools.product(REGIONS, REGIONS)))
@pytest.mark.parametrize(
    ("condition_side", "planned_side"), list(itertools.product(SIDES, ["left", "right", "bilateral", "midline"]))
)
def test_at_site_across_all_regions_and_sides(condition_region, planned_region, condition_side, planned_side):
    opposite = {condition_side, planned_side} == {"left", "right"}
    expected = condition_region == planned_region and not opposite
    assert at_site(condition_region, condition_side, planned_region, planned_side) is expected


@pytest.mark.parametrize("planned_region", REGIONS)
@pytest.mark.parametrize("side", SIDES)
def test_a_condition_without_a_region_counts_as_at_the_site(planned_region, side):
    assert at_site("", side, planned_region, "left") is True


@pytest.mark.parametrize("planned_region", REGIONS)
def test_other_region_is_never_the_planned_site(planned_region):
    assert at_site("other", "left", planned_region, "left") is False


def test_sides_match_table():
    assert not sides_match("left", "right")
    assert not sides_match("RIGHT", "left")
    for a, b in itertools.product(SIDES, SIDES):
        if {a, b} != {"left", "right"}:
            assert sides_match(a, b)


def test_site_dependence():
    assert {c for c in ChartConcept if c.site_dependent} == {
        ChartConcept.INFECTION,
        ChartConcept.SEPTIC_JOINT,
        ChartConcept.ACUTE_GOUT_FLARE,
        ChartConcept.ACUTE_FRACTURE,
        ChartConcept.TUMOUR,
    }
    assert not ChartConcept.SYSTEMIC_INFECTION.site_dependent


# --- medications --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rxcui", "cls"), sorted(MEDICATION_RXNORM.items()))
def test_every_rxnorm_ingredient_is_recognised_without_a_name(rxcui, cls):
    assert medication_class("Tablet", [token(RXNORM, rxcui)]) is cls


@pytest.mark.parametrize(("prefix", "cls"), MEDICATION_ATC_PREFIXES)
def test_every_atc_prefix(prefix, cls):
    assert medication_class("Tablet", [token(concepts.ATC, prefix + "01")]) is cls


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("Ibuprofen 400 MG Oral Tablet", DrugClass.NSAID),
        ("naproxen sodium 220 MG Oral Tablet", DrugClass.NSAID),
        ("Advil", DrugClass.NSAID),
        ("Celebrex 200 mg", DrugClass.NSAID),
        ("Warfarin Sodium 5 MG Oral Tablet", DrugClass.ANTICOAGULANT),
        ("Eliquis 5 mg", DrugClass.ANTICOAGULANT),
        ("Aspirin 81 MG Oral Tablet", DrugClass.ANTIPLATELET),
        ("Aspirin 325 MG Oral Tablet", DrugClass.NSAID),  # analgesic dose
        ("clopidogrel 75 MG Oral Tablet", DrugClass.ANTIPLATELET),
        ("prednisone 5 MG Oral Tablet", DrugClass.CORTICOSTEROID),
        ("Acetaminophen 325 MG Oral Tablet", DrugClass.OTHER),
        ("Metformin", DrugClass.OTHER),
    ],
)
def test_medication_names(name, cls):
    assert medication_class(name) is cls


def test_effective_class_keeps_what_the_clinician_recorded():
    assert effective_class("antiplatelet", "Aspirin 325 mg") is DrugClass.ANTIPLATELET
    assert effective_class("other", "Ibuprofen") is DrugClass.NSAID
    assert effective_class("", "Ibuprofen") is DrugClass.NSAID
    assert effective_class("other", "Vitamin D") is DrugClass.OTHER


# --- allergies ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "concept"), sorted(ALLERGY_CODES.items()))
def test_every_allergy_code_is_recognised_without_words(key, concept):
    assert allergy_concepts("Substance", [token(*key)]) == {concept}


@pytest.mark.parametrize(
    ("substance", "expected"),
    [
        ("Lidocaine", {AllergyConcept.LOCAL_ANAESTHETIC}),
        ("XYLOCAINE", {AllergyConcept.LOCAL_ANAESTHETIC}),
        ("amide anaesthetic", {AllergyConcept.LOCAL_ANAESTHETIC}),
        ("Amide local anesthetics", {AllergyConcept.LOCAL_ANAESTHETIC}),
        ("Dextrose", {AllergyConcept.DEXTROSE}),
        ("glucose", {AllergyConcept.DEXTROSE}),
        ("Corn", {AllergyConcept.CORN}),
        ("corn starch", {AllergyConcept.CORN}),
        ("Maize", {AllergyConcept.CORN}),
        ("popcorn", set()),
        ("Glycerol", {AllergyConcept.GLYCERIN}),
        ("Phenol", {AllergyConcept.PHENOL}),
        ("cod liver oil", {AllergyConcept.SODIUM_MORRHUATE}),
        ("Penicillin", set()),
    ],
)
def test_allergy_words(substance, expected):
    assert allergy_concepts(substance) == expected


# --- no known allergy ---------------------------------------------------------------------------------------------

NKA_SPELLINGS = [
    "NKA",
    "nka",
    "NKDA",
    "nkda",
    "N.K.D.A.",
    "No known allergies",
    "no known allergy",
    "NO KNOWN ALLERGIES",
    "No Known Drug Allergies",
    "no known drug allergy",
    "No known environmental allergy",
    "No known food allergies",
    "  no   known\tallergies ",
    "No allergies",
    "no allergies known",
    "none known",
    "Nil known",
]


@pytest.mark.parametrize("code", sorted(NO_KNOWN_ALLERGY_SNOMED))
def test_every_nka_code(code):
    assert is_no_known_allergy("Something", [token(SNOMED, code)])
    assert is_no_known_allergy("", [code])


@pytest.mark.parametrize("text", NKA_SPELLINGS)
def test_nka_spellings(text):
    assert is_no_known_allergy(text)


@pytest.mark.parametrize(
    "text", ["Lidocaine", "penicillin", "Known allergy to latex", "NKA? check latex", "Nuts", "", "   ", "nkda latex"]
)
def test_real_allergies_are_not_nka(text):
    assert not is_no_known_allergy(text)


def _respell(draw_case: list[bool], text: str) -> str:
    return "".join(c.upper() if up else c.lower() for c, up in zip(text, draw_case, strict=False))


@given(
    base=st.sampled_from(["nka", "nkda", "no known allergies", "no known drug allergies", "no known allergy"]),
    cases=st.lists(st.booleans(), min_size=30, max_size=30),
    left=st.text(alphabet=" \t\n", max_size=3),
    right=st.text(alphabet=" \t\n.", max_size=3),
    gap=st.text(alphabet=" \t", min_size=1, max_size=3),
)
def test_nka_in_any_case_and_spacing(base, cases, left, right, gap):
    text = left + _respell(cases, base).replace(" ", gap) + right
    assert is_no_known_allergy(text)


@given(substance=st.sampled_from(["lidocaine", "dextrose", "corn", "latex", "penicillin"]), extra=st.text(max_size=10))
def test_a_named_substance_is_never_nka(substance, extra):
    assert not is_no_known_allergy(substance + extra)
