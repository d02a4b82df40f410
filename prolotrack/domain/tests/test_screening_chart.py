"""Screening reads the whole chart: conditions (at the site or elsewhere), medications by use, coded allergies."""

import itertools
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain.agents import Agent
from prolotrack.domain.anatomy import Region
from prolotrack.domain.concepts import RXNORM, SNOMED, ChartConcept, token
from prolotrack.domain.screening import (
    ELSEWHERE_CAUTIONS,
    HARD_STOPS,
    Allergy,
    ChartCondition,
    Decision,
    Medication,
    MedicationClass,
    MedicationUse,
    PatientFacts,
    PlannedProcedure,
    Pregnancy,
    RiskFlag,
    Severity,
    Sex,
    Side,
    screen,
)

DAY = date(2026, 12, 7)
SINCE = date(2026, 11, 30)

# The finding each site-dependent concept raises at the site.
AT_SITE_CODES = {
    ChartConcept.INFECTION: "contraindication.infection_at_site",
    ChartConcept.SEPTIC_JOINT: "contraindication.septic_joint",
    ChartConcept.ACUTE_GOUT_FLARE: "contraindication.acute_gout_flare",
    ChartConcept.ACUTE_FRACTURE: "contraindication.acute_fracture",
    ChartConcept.TUMOUR: "contraindication.suspected_tumour",
}
ANYWHERE_CODES = {
    ChartConcept.SYSTEMIC_INFECTION: ("contraindication.systemic_infection", {Agent.DEXTROSE}),
    ChartConcept.BLEEDING_DISORDER: ("caution.bleeding_disorder", {Agent.DEXTROSE}),
    ChartConcept.IMMUNOSUPPRESSION: ("caution.immunosuppression", {Agent.DEXTROSE}),
    ChartConcept.DIABETES: ("caution.diabetes", {Agent.DEXTROSE}),
    ChartConcept.PROSTHETIC_JOINT_OR_VALVE: ("caution.prosthetic_joint_or_valve", {Agent.DEXTROSE}),
    ChartConcept.PREGNANCY: ("caution.pregnancy", {Agent.DEXTROSE}),
}


def facts(*conditions, **changes) -> PatientFacts:
    base = PatientFacts(date_of_birth=date(1970, 5, 1), sex=Sex.FEMALE, pregnancy=Pregnancy.NOT_PREGNANT)
    return replace(base, conditions=tuple(conditions), **changes)


def plan(region=Region.KNEE, side=Side.LEFT, agents=(Agent.DEXTROSE, Agent.LIDOCAINE)) -> PlannedProcedure:
    return PlannedProcedure(date=DAY, region=region, side=side, site_description="", agents=frozenset(agents))


def cellulitis(region="knee", side="left") -> ChartCondition:
    return ChartCondition("Cellulitis of left knee", ChartConcept.INFECTION, region, side, since=SINCE)


def test_cellulitis_of_the_left_knee_on_the_chart_is_a_hard_stop_for_the_left_knee():
    # The defect: this screened as eligible unless someone also ticked the day-of box.
    result = screen(facts(cellulitis()), plan())
    assert result.decision is Decision.NOT_ELIGIBLE
    finding = result.finding("contraindication.infection_at_site")
    assert not finding.overridable
    assert "From the chart: Cellulitis of left knee, on the chart since 2026-11-30." in finding.reason


def test_cellulitis_of_the_left_knee_is_a_caution_for_the_right_knee():
    result = screen(facts(cellulitis()), plan(side=Side.RIGHT))
    assert "contraindication.infection_at_site" not in result.codes
    finding = result.finding("caution.infection_elsewhere")
    assert "on the chart since 2026-11-30" in finding.reason and "not at the planned site" in finding.reason
    assert result.decision is Decision.ELIGIBLE_WITH_CAUTIONS


@pytest.mark.parametrize("concept", sorted(AT_SITE_CODES))
@pytest.mark.parametrize("planned", list(Region))
@pytest.mark.parametrize(
    ("condition_side", "planned_side"), list(itertools.product(["left", "right", "bilateral", ""], list(Side)))
)
def test_every_site_dependent_concept_in_every_region_and_side(concept, planned, condition_side, planned_side):
    for region in Region:
        condition = ChartCondition("Problem", concept, region.value, condition_side, since=SINCE)
        result = screen(facts(condition), plan(region=planned, side=planned_side))
        here = region is planned and {condition_side, planned_side.value} != {"left", "right"}
        assert (AT_SITE_CODES[concept] in result.codes) is here
        assert (f"caution.{ELSEWHERE_CAUTIONS[concept][0]}" in result.codes) is not here
        assert result.decision is (Decision.NOT_ELIGIBLE if here else Decision.ELIGIBLE_WITH_CAUTIONS)


@pytest.mark.parametrize(("concept", "expected"), sorted(ANYWHERE_CODES.items()))
@pytest.mark.parametrize("region", ["", "other", "hip", "knee"])
def test_conditions_that_count_wherever_they_are(concept, expected, region):
    code, agents = expected
    condition = ChartCondition("On the chart", concept, region, "right", since=SINCE)
    result = screen(facts(condition), plan(agents=agents))
    assert "on the chart since 2026-11-30" in result.finding(code).reason
    assert not any(c.endswith("_elsewhere") for c in result.codes)


def test_systemic_infection_stays_a_contraindication_anywhere():
    sepsis = ChartCondition("Sepsis", ChartConcept.SYSTEMIC_INFECTION, "other", "", since=SINCE)
    result = screen(facts(sepsis), plan())
    assert result.decision is Decision.NOT_ELIGIBLE
    assert "contraindication.systemic_infection" in HARD_STOPS


def test_a_condition_without_a_region_counts_at_the_site_and_asks_for_the_region():
    result = screen(facts(ChartCondition("Fracture", ChartConcept.ACUTE_FRACTURE, since=SINCE)), plan())
    assert "record where it is" in result.finding("contraindication.acute_fracture").reason


def test_day_of_tick_and_chart_give_one_finding_saying_both():
    result = screen(facts(cellulitis(), flags=frozenset({RiskFlag.INFECTION_AT_SITE})), plan())
    assert result.codes.count("contraindication.infection_at_site") == 1
    assert "Also ticked on the day." in result.finding("contraindication.infection_at_site").reason


def test_the_day_of_tick_alone_reads_as_before():
    result = screen(facts(flags=frozenset({RiskFlag.INFECTION_AT_SITE})), plan())
    assert "From the chart" not in result.finding("contraindication.infection_at_site").reason


def test_pregnancy_on_the_chart_overrides_not_pregnant_today():
    pregnancy = ChartCondition("Pregnancy", ChartConcept.PREGNANCY, since=SINCE)
    result = screen(facts(pregnancy), plan())
    assert "on the chart since" in result.finding("caution.pregnancy").reason


def test_finding_codes_stay_unique_with_many_conditions():
    conditions = [
        ChartCondition(f"C{i}", c, r.value, "left") for i, (c, r) in enumerate(itertools.product(ChartConcept, Region))
    ]
    result = screen(facts(*conditions), plan())
    assert len(result.codes) == len(set(result.codes))


# --- NSAIDs by how they are taken -------------------------------------------------------------------------------


@pytest.mark.parametrize("last_dose", [None, date(2026, 11, 20), date(2026, 11, 30)])
def test_an_nsaid_stopped_for_good_raises_nothing(last_dose):
    # The defect: a stopped NSAID whose last dose was within the 14-day look-back still raised "Stop ... from".
    stopped = Medication("Ibuprofen", MedicationClass.NSAID, last_dose, use=MedicationUse.STOPPED)
    result = screen(facts(medications=(stopped,)), plan())
    assert not any("nsaid" in c for c in result.codes)
    assert result.nsaid_stop_date is None
    assert result.decision is Decision.ELIGIBLE


def test_an_nsaid_stopped_inside_the_window_still_reports_the_dose():
    stopped = Medication("Ibuprofen", MedicationClass.NSAID, date(2026, 12, 5), use=MedicationUse.STOPPED)
    result = screen(facts(medications=(stopped,)), plan())
    assert "instruction.nsaid_stop" not in result.codes
    assert "(stopped since)" in result.finding("caution.nsaid_within_window").reason


@pytest.mark.parametrize("last_dose", [None, date(2026, 10, 1), date(2026, 12, 6)])
def test_an_nsaid_taken_as_needed_raises_the_stop_instruction_only_and_says_why(last_dose):
    prn = Medication("Ibuprofen", MedicationClass.NSAID, last_dose, use=MedicationUse.AS_NEEDED)
    result = screen(facts(medications=(prn,)), plan())
    nsaid_codes = {c for c in result.codes if "nsaid" in c}
    assert nsaid_codes == {"instruction.nsaid_stop"}
    reason = result.finding("instruction.nsaid_stop").reason
    assert "Ibuprofen (taken as needed)" in reason and "not a reason to postpone" in reason
    assert result.finding("instruction.nsaid_stop").severity is Severity.INSTRUCTION
    assert result.decision is Decision.ELIGIBLE


def test_a_regular_nsaid_inside_the_window_is_still_a_caution():
    regular = Medication("Ibuprofen", MedicationClass.NSAID, date(2026, 12, 6))
    assert "caution.nsaid_within_window" in screen(facts(medications=(regular,)), plan()).codes


@pytest.mark.parametrize(
    ("name", "codes", "expected"),
    [
        ("Ibuprofen 400 MG Oral Tablet", (), "instruction.nsaid_stop"),
        ("Tablet", (token(RXNORM, "5640"),), "instruction.nsaid_stop"),
        ("Warfarin Sodium 5 MG Oral Tablet", (), "caution.anticoagulant"),
        ("Tablet", (token(RXNORM, "32968"),), "caution.antiplatelet"),
    ],
)
def test_a_medication_recorded_as_other_is_screened_by_its_name_or_code(name, codes, expected):
    med = Medication(name, MedicationClass.OTHER, codes=codes)
    assert expected in screen(facts(medications=(med,)), plan()).codes


@given(use=st.sampled_from(list(MedicationUse)), days_before=st.integers(min_value=0, max_value=400))
def test_no_nsaid_use_ever_blocks(use, days_before):
    last = date.fromordinal(DAY.toordinal() - days_before)
    result = screen(facts(medications=(Medication("Naproxen", MedicationClass.NSAID, last, use=use),)), plan())
    assert result.decision is not Decision.NOT_ELIGIBLE
    if use is MedicationUse.STOPPED:
        assert "instruction.nsaid_stop" not in result.codes


# --- allergies by code ------------------------------------------------------------------------------------------


def test_a_coded_lidocaine_allergy_without_the_word_blocks_the_anaesthetic():
    allergy = Allergy("Allergy to substance", codes=(token(SNOMED, "387480006"),), since=SINCE)
    finding = screen(facts(allergies=(allergy,)), plan()).finding("contraindication.allergy.local_anaesthetic")
    assert "on the chart since 2026-11-30" in finding.reason


@pytest.mark.parametrize(
    "allergy",
    [
        Allergy("NKA"),
        Allergy("No known drug allergies"),
        Allergy("Unknown", codes=(token(SNOMED, "716186003"),)),
    ],
)
def test_a_no_known_allergy_row_is_never_read_as_an_allergy(allergy):
    result = screen(facts(allergies=(allergy,)), plan(agents=(Agent.DEXTROSE, Agent.LIDOCAINE, Agent.PHENOL)))
    assert not any("allergy" in c for c in result.codes)
