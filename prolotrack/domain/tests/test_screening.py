import re
from dataclasses import replace
from datetime import date

import pytest

from prolotrack.domain.agents import Agent
from prolotrack.domain.anatomy import Region
from prolotrack.domain.errors import AnatomyError, DomainError, OverrideError, ScreeningError
from prolotrack.domain.screening import (
    HARD_STOPS,
    Allergy,
    AllergySeverity,
    Decision,
    Medication,
    MedicationClass,
    Override,
    PatientFacts,
    PlannedProcedure,
    Pregnancy,
    RiskFlag,
    ScreeningSettings,
    Sedation,
    Severity,
    Sex,
    Side,
    apply_overrides,
    screen,
)

PROCEDURE_DAY = date(2025, 3, 10)
DEX, LIDO = Agent.DEXTROSE, Agent.LIDOCAINE

ALWAYS = {"instruction.light_meal", "instruction.consent_off_label"}


def patient(**changes) -> PatientFacts:
    base = PatientFacts(date_of_birth=date(1970, 5, 1), sex=Sex.MALE, pregnancy=Pregnancy.NOT_APPLICABLE)
    return replace(base, **changes)


def knee(**changes) -> PlannedProcedure:
    base = PlannedProcedure(
        date=PROCEDURE_DAY,
        region=Region.KNEE,
        side=Side.LEFT,
        site_description="left knee, medial",
        agents=frozenset({DEX, LIDO}),
    )
    return replace(base, **changes)


def codes(result) -> set[str]:
    return set(result.codes)


def test_a_patient_with_nothing_to_report_is_eligible_with_only_the_standard_instructions():
    result = screen(patient(), knee())
    assert result.decision is Decision.ELIGIBLE
    assert codes(result) == ALWAYS
    assert all(f.severity is Severity.INSTRUCTION for f in result.findings)


@pytest.mark.parametrize(
    ("flag", "code"),
    [
        (RiskFlag.INFECTION_AT_SITE, "contraindication.infection_at_site"),
        (RiskFlag.SYSTEMIC_INFECTION, "contraindication.systemic_infection"),
        (RiskFlag.SEPTIC_JOINT, "contraindication.septic_joint"),
        (RiskFlag.ACUTE_GOUT_FLARE, "contraindication.acute_gout_flare"),
        (RiskFlag.ACUTE_FRACTURE, "contraindication.acute_fracture"),
        (RiskFlag.SUSPECTED_TUMOUR_AT_SITE, "contraindication.suspected_tumour"),
    ],
)
def test_each_contraindication_flag_makes_the_patient_not_eligible(flag, code):
    result = screen(patient(flags=frozenset({flag})), knee())
    assert result.decision is Decision.NOT_ELIGIBLE
    finding = result.finding(code)
    assert finding.severity is Severity.CONTRAINDICATION
    assert finding.source.startswith("DOMAIN.md §5")
    assert result.findings[0] is finding  # contraindications are listed first


@pytest.mark.parametrize(
    ("flags", "agents", "code", "source_mentions"),
    [
        ({RiskFlag.BLEEDING_DISORDER}, {DEX, LIDO}, "caution.bleeding_disorder", "ASRA/ESRA"),
        ({RiskFlag.DIABETES}, {DEX}, "caution.diabetes", "2.6 g"),
        ({RiskFlag.IMMUNOSUPPRESSION}, {DEX}, "caution.immunosuppression", "§5"),
        ({RiskFlag.PROSTHETIC_JOINT_OR_VALVE}, {DEX}, "caution.prosthetic_joint_or_valve", "§5"),
        ({RiskFlag.CORN_ALLERGY}, {DEX}, "caution.corn_allergy", "❓"),
    ],
)
def test_each_caution_flag_makes_the_patient_eligible_with_cautions(flags, agents, code, source_mentions):
    result = screen(patient(flags=frozenset(flags)), knee(agents=frozenset(agents)))
    assert result.decision is Decision.ELIGIBLE_WITH_CAUTIONS
    finding = result.finding(code)
    assert finding.severity is Severity.CAUTION
    assert finding.overridable
    assert source_mentions in finding.source


def test_diabetes_caution_quotes_the_glucose_load_of_a_knee_session():
    result = screen(patient(flags=frozenset({RiskFlag.DIABETES})), knee())
    assert "about 2.6 g" in result.finding("caution.diabetes").reason


def test_diabetes_and_corn_allergy_do_not_matter_when_no_dextrose_is_planned():
    result = screen(
        patient(flags=frozenset({RiskFlag.DIABETES, RiskFlag.CORN_ALLERGY})),
        knee(agents=frozenset({Agent.SODIUM_MORRHUATE, LIDO})),
    )
    assert result.decision is Decision.ELIGIBLE


def test_corn_allergy_caution_says_the_evidence_is_unverified():
    result = screen(patient(allergies=(Allergy("Corn starch", "hives", AllergySeverity.MILD),)), knee())
    reason = result.finding("caution.corn_allergy").reason
    assert "unverified" in reason


def test_pregnancy_is_a_caution():
    result = screen(patient(sex=Sex.FEMALE, pregnancy=Pregnancy.PREGNANT), knee())
    assert result.decision is Decision.ELIGIBLE_WITH_CAUTIONS
    assert "caution.pregnancy" in codes(result)


@pytest.mark.parametrize(
    ("sex", "pregnancy", "asks"),
    [
        (Sex.FEMALE, Pregnancy.UNKNOWN, True),
        (Sex.UNKNOWN, Pregnancy.UNKNOWN, True),
        (Sex.OTHER, Pregnancy.UNKNOWN, True),
        (Sex.MALE, Pregnancy.UNKNOWN, False),
        (Sex.FEMALE, Pregnancy.NOT_PREGNANT, False),
    ],
)
def test_unknown_pregnancy_status_prompts_staff_to_ask(sex, pregnancy, asks):
    result = screen(patient(sex=sex, pregnancy=pregnancy), knee())
    assert ("instruction.pregnancy_status" in codes(result)) is asks
    assert result.decision is Decision.ELIGIBLE


# --- Allergies ---


@pytest.mark.parametrize(
    "substance", ["Lidocaine", "LIGNOCAINE", "xylocaine", "Novocain", "procaine", "bupivacaine", "local anesthetic"]
)
def test_any_caine_allergy_contraindicates_a_planned_anaesthetic(substance):
    result = screen(patient(allergies=(Allergy(substance, "rash", AllergySeverity.MODERATE),)), knee())
    assert result.decision is Decision.NOT_ELIGIBLE
    finding = result.finding("contraindication.allergy.local_anaesthetic")
    assert substance in finding.reason
    assert "rash, moderate" in finding.reason
    assert finding.overridable


def test_a_caine_allergy_is_an_instruction_not_a_contraindication_when_no_anaesthetic_is_planned():
    result = screen(
        patient(allergies=(Allergy("lidocaine", "anaphylaxis", AllergySeverity.SEVERE),)), knee(agents={DEX})
    )
    assert result.decision is Decision.ELIGIBLE
    reason = result.finding("instruction.allergy_keep_out").reason
    assert "lidocaine (anaphylaxis, severe)" in reason
    assert "skin wheals included" in reason


@pytest.mark.parametrize(
    ("substance", "agent", "code"),
    [
        ("Sodium morrhuate", Agent.SODIUM_MORRHUATE, "contraindication.allergy.sodium_morrhuate"),
        ("cod liver oil", Agent.SODIUM_MORRHUATE, "contraindication.allergy.sodium_morrhuate"),
        ("Dextrose", DEX, "contraindication.allergy.dextrose"),
        ("glucose", DEX, "contraindication.allergy.dextrose"),
        ("Glycerol", Agent.GLYCERIN, "contraindication.allergy.glycerin"),
        ("phenol", Agent.PHENOL, "contraindication.allergy.phenol"),
    ],
)
def test_an_allergy_to_a_planned_component_is_a_contraindication(substance, agent, code):
    result = screen(patient(allergies=(Allergy(substance),)), knee(agents=frozenset({agent})))
    assert result.decision is Decision.NOT_ELIGIBLE
    assert code in codes(result)


def test_an_allergy_to_a_component_that_is_not_planned_does_not_block():
    result = screen(patient(allergies=(Allergy("morrhuate"),)), knee())
    assert result.decision is Decision.ELIGIBLE
    assert "instruction.allergy_keep_out" in codes(result)


@pytest.mark.parametrize("substance", ["penicillin", "acorn squash", "latex", "shellfish"])
def test_unrelated_allergies_are_not_matched(substance):
    result = screen(patient(allergies=(Allergy(substance),)), knee())
    assert codes(result) == ALWAYS


# --- Medications ---


@pytest.mark.parametrize(
    ("drug_class", "last_dose", "code"),
    [
        (MedicationClass.ANTICOAGULANT, None, "caution.anticoagulant"),
        (MedicationClass.ANTIPLATELET, None, "caution.antiplatelet"),
        (MedicationClass.ANTICOAGULANT, date(2025, 2, 24), "caution.anticoagulant"),  # 14 days before: current
    ],
)
def test_current_anticoagulant_or_antiplatelet_therapy_is_a_caution_citing_asra_esra(drug_class, last_dose, code):
    result = screen(patient(medications=(Medication("apixaban", drug_class, last_dose),)), knee())
    finding = result.finding(code)
    assert "ASRA/ESRA" in finding.source and "2018" in finding.source
    assert "do not stop it without the prescriber" in finding.reason
    assert result.decision is Decision.ELIGIBLE_WITH_CAUTIONS


def test_a_medication_stopped_before_the_look_back_window_is_ignored():
    old = Medication("warfarin", MedicationClass.ANTICOAGULANT, date(2025, 2, 23))  # 15 days before
    assert screen(patient(medications=(old,)), knee()).decision is Decision.ELIGIBLE
    longer = ScreeningSettings(medication_lookback_days=30)
    assert "caution.anticoagulant" in codes(screen(patient(medications=(old,)), knee(), longer))


def test_corticosteroids_and_other_medications_add_no_finding_on_their_own():
    meds = (
        Medication("prednisolone", MedicationClass.CORTICOSTEROID),
        Medication("metformin", MedicationClass.OTHER),
    )
    assert codes(screen(patient(medications=meds), knee())) == ALWAYS


def test_an_ongoing_nsaid_gets_a_stop_instruction_with_the_actual_stop_date():
    result = screen(patient(medications=(Medication("Ibuprofen", MedicationClass.NSAID),)), knee())
    assert result.nsaid_stop_date == date(2025, 3, 7)
    assert result.finding("instruction.nsaid_stop").reason == (
        "Stop Ibuprofen from 2025-03-07 (3 days before the procedure on 2025-03-10): no NSAID on or after that "
        "date until the procedure."
    )
    assert result.decision is Decision.ELIGIBLE


@pytest.mark.parametrize(
    ("last_dose", "inside"),
    [
        (date(2025, 3, 6), False),  # the day before the stop date
        (date(2025, 3, 7), True),  # on the stop date
        (date(2025, 3, 10), True),  # on the day of the procedure
    ],
)
def test_an_nsaid_taken_inside_the_window_becomes_a_caution(last_dose, inside):
    result = screen(patient(medications=(Medication("naproxen", MedicationClass.NSAID, last_dose),)), knee())
    assert "instruction.nsaid_stop" in codes(result)
    assert ("caution.nsaid_within_window" in codes(result)) is inside
    expected = Decision.ELIGIBLE_WITH_CAUTIONS if inside else Decision.ELIGIBLE
    assert result.decision is expected


def test_the_nsaid_window_is_a_clinic_setting():
    settings = ScreeningSettings(nsaid_stop_days=14)
    nsaid = Medication("diclofenac", MedicationClass.NSAID, date(2025, 3, 1))
    result = screen(patient(medications=(nsaid,)), knee(), settings)
    assert result.nsaid_stop_date == date(2025, 2, 24)
    assert "caution.nsaid_within_window" in codes(result)
    assert "14-day window" in result.finding("caution.nsaid_within_window").reason


def test_a_clinic_that_does_not_stop_nsaids_gets_no_nsaid_findings():
    result = screen(patient(medications=(Medication("ibuprofen", MedicationClass.NSAID),)), knee(),
                    ScreeningSettings(nsaid_stop_days=0))  # fmt: skip
    assert result.nsaid_stop_date is None
    assert codes(result) == ALWAYS


def test_nsaid_avoidance_after_the_procedure_is_an_optional_instruction():
    result = screen(patient(), knee(), ScreeningSettings(nsaid_avoid_after_days=14))
    reason = result.finding("instruction.nsaid_after").reason
    assert "until 2025-03-24" in reason
    assert "acetaminophen" in reason


# --- Age, sedation, region ---


@pytest.mark.parametrize(
    ("born", "agents", "flagged"),
    [
        (date(1960, 1, 1), {DEX, LIDO}, True),  # 65
        (date(1960, 1, 1), {DEX}, False),  # no anaesthetic planned
        (date(1965, 3, 10), {DEX, LIDO}, False),  # 60th birthday: not over 60
        (date(1965, 3, 9), {DEX, LIDO}, True),  # 60 years and a day
        (date(2020, 1, 1), {DEX, LIDO}, True),  # 5
        (date(2010, 1, 1), {DEX, LIDO}, False),  # 15
    ],
)
def test_age_under_six_or_over_sixty_with_an_anaesthetic_is_a_last_caution(born, agents, flagged):
    result = screen(patient(date_of_birth=born), knee(agents=frozenset(agents)))
    assert ("caution.last_age_risk" in codes(result)) is flagged


def test_oral_sedation_requires_a_driver():
    result = screen(patient(), knee(sedation=Sedation.ORAL))
    assert "must not drive" in result.finding("instruction.driver").reason
    assert "instruction.driver" not in codes(screen(patient(), knee()))


@pytest.mark.parametrize(
    ("region", "landmarks", "pneumothorax", "dural"),
    [
        (Region.KNEE, (), False, False),
        (Region.SHOULDER, ("shoulder.supraspinatus",), False, False),
        (Region.LUMBOPELVIC, ("lumbopelvic.interspinous_l4_l5",), False, True),
        (Region.NECK_THORACIC, ("neck_thoracic.nuchal_ligament",), True, True),
        (Region.NECK_THORACIC, ("neck_thoracic.thoracic_facet_capsules",), True, True),
    ],
)
def test_region_risks_are_added_to_the_consent(region, landmarks, pneumothorax, dural):
    result = screen(patient(), knee(region=region, landmarks=landmarks, side=Side.MIDLINE))
    assert ("instruction.consent_pneumothorax" in codes(result)) is pneumothorax
    assert ("instruction.consent_dural_puncture" in codes(result)) is dural


def test_consent_always_covers_off_label_use_and_no_insurance_cover():
    reason = screen(patient(), knee()).finding("instruction.consent_off_label").reason
    assert "off-label" in reason and "insurers usually do not pay" in reason


def test_the_meal_instruction_asks_for_a_light_meal_and_never_a_protein_rich_one():
    result = screen(patient(), knee())
    assert "light meal" in result.finding("instruction.light_meal").reason
    assert not any("protein" in f.reason.lower() for f in result.findings)


def test_findings_are_ordered_contraindications_cautions_then_instructions():
    facts = patient(
        flags=frozenset({RiskFlag.DIABETES, RiskFlag.ACUTE_FRACTURE}),
        medications=(Medication("ibuprofen", MedicationClass.NSAID),),
    )
    severities = [f.severity for f in screen(facts, knee()).findings]
    assert severities == sorted(severities, key=list(Severity).index)
    assert severities[0] is Severity.CONTRAINDICATION


# --- Input validation ---


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: screen(patient(date_of_birth=date(2026, 1, 1)), knee()), ScreeningError, "is after the procedure"),
        (lambda: knee(agents=frozenset()), ScreeningError, "List the agents planned"),
        (lambda: knee(agents={"snake oil"}), ScreeningError, "Unknown agent 'snake oil'"),
        (lambda: knee(region="elbow", landmarks=("knee.mcl_femoral",)), ScreeningError, "is not in the elbow region"),
        (lambda: knee(landmarks=("knee.nowhere",)), AnatomyError, "Unknown landmark code 'knee.nowhere'"),
        (lambda: knee(region="spleen"), AnatomyError, "Unknown body region 'spleen'"),
        (lambda: knee(side="up"), ScreeningError, "Unknown side 'up'"),
        (lambda: knee(sedation="general"), ScreeningError, "Unknown sedation 'general'"),
        (lambda: patient(flags={"vampirism"}), ScreeningError, "Unknown risk flag 'vampirism'"),
        (lambda: patient(sex="x"), ScreeningError, "Unknown sex 'x'"),
        (lambda: patient(date_of_birth="1970-05-01"), ScreeningError, "date of birth"),
        (lambda: Medication("  ", MedicationClass.NSAID), ScreeningError, "A medication has no name"),
        (lambda: Medication("aspirin", "painkiller"), ScreeningError, "Unknown class for aspirin 'painkiller'"),
        (lambda: Allergy(""), ScreeningError, "An allergy has no substance"),
        (lambda: Allergy("latex", "rash", "deadly"), ScreeningError, "Unknown allergy severity 'deadly'"),
        (lambda: ScreeningSettings(nsaid_stop_days=-1), ScreeningError, "between 0 and 28 days"),
        (lambda: ScreeningSettings(nsaid_stop_days=2.5), ScreeningError, "whole number of days"),
        (lambda: ScreeningSettings(nsaid_avoid_after_days=0), ScreeningError, "between 1 and 84 days"),
        (lambda: screen("patient", knee()), ScreeningError, "needs the patient's facts"),
        (lambda: patient(medications=("ibuprofen",)), ScreeningError, "Each medication must give a name"),
        (lambda: patient(allergies=("latex",)), ScreeningError, "Each allergy must give the substance"),
    ],
)
def test_inconsistent_or_unknown_input_is_refused(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


def test_text_values_from_forms_are_accepted():
    facts = PatientFacts(date(1970, 5, 1), "female", "not_pregnant", flags={"diabetes"})
    procedure = PlannedProcedure(PROCEDURE_DAY, "knee", "right", "right knee", {"Dextrose", "lignocaine"}, "oral")
    result = screen(facts, procedure)
    assert {"caution.diabetes", "instruction.driver"} <= codes(result)


# --- Overrides ---


def blocked_by_fracture_and_allergy():
    facts = patient(
        flags=frozenset({RiskFlag.ACUTE_FRACTURE, RiskFlag.DIABETES}),
        allergies=(Allergy("lidocaine", "rash"),),
    )
    return screen(facts, knee())


def test_overriding_every_contraindication_makes_the_patient_eligible_with_cautions():
    result = blocked_by_fracture_and_allergy()
    assert result.decision is Decision.NOT_ELIGIBLE
    overridden = apply_overrides(
        result,
        [
            Override("contraindication.acute_fracture", "Healed wrist fracture, not near the knee."),
            Override("contraindication.allergy.local_anaesthetic", "Allergist patch test 2024 negative for lidocaine."),
        ],
    )
    assert overridden.decision is Decision.ELIGIBLE_WITH_CAUTIONS
    fracture = overridden.finding("contraindication.acute_fracture")
    assert fracture.overridden
    assert fracture.override_reason == "Healed wrist fracture, not near the knee."
    assert overridden.blocking == ()
    assert len(overridden.findings) == len(result.findings)  # overridden findings stay visible


def test_overriding_only_some_contraindications_leaves_the_patient_not_eligible():
    result = blocked_by_fracture_and_allergy()
    partial = apply_overrides(result, [Override("contraindication.acute_fracture", "Old fracture, other limb.")])
    assert partial.decision is Decision.NOT_ELIGIBLE
    assert [f.code for f in partial.blocking] == ["contraindication.allergy.local_anaesthetic"]


def test_an_overridden_contraindication_alone_still_gives_eligible_with_cautions_not_eligible():
    result = screen(patient(flags=frozenset({RiskFlag.ACUTE_GOUT_FLARE})), knee())
    overridden = apply_overrides(result, [Override("contraindication.acute_gout_flare", "Aspirate: no crystals.")])
    assert overridden.decision is Decision.ELIGIBLE_WITH_CAUTIONS


def test_a_caution_can_be_acknowledged_with_a_reason_and_stays_a_caution():
    result = screen(patient(flags=frozenset({RiskFlag.BLEEDING_DISORDER})), knee())
    acknowledged = apply_overrides(result, [Override("caution.bleeding_disorder", "Mild vWD, haematology agrees.")])
    assert acknowledged.decision is Decision.ELIGIBLE_WITH_CAUTIONS
    assert acknowledged.finding("caution.bleeding_disorder").overridden


def test_override_reasons_are_stored_with_whitespace_tidied():
    result = screen(patient(flags=frozenset({RiskFlag.ACUTE_FRACTURE})), knee())
    overridden = apply_overrides(
        result, [Override("contraindication.acute_fracture", "  Old   fracture,\n other limb ")]
    )
    assert overridden.finding("contraindication.acute_fracture").override_reason == "Old fracture, other limb"


def test_apply_overrides_returns_a_new_result_and_leaves_the_original_untouched():
    result = screen(patient(flags=frozenset({RiskFlag.ACUTE_FRACTURE})), knee())
    apply_overrides(result, [Override("contraindication.acute_fracture", "Old fracture, other limb.")])
    assert result.decision is Decision.NOT_ELIGIBLE
    assert not result.finding("contraindication.acute_fracture").overridden


@pytest.mark.parametrize("code", sorted(HARD_STOPS))
def test_infection_and_septic_joint_are_hard_stops_that_cannot_be_overridden(code):
    flag = {
        "contraindication.infection_at_site": RiskFlag.INFECTION_AT_SITE,
        "contraindication.systemic_infection": RiskFlag.SYSTEMIC_INFECTION,
        "contraindication.septic_joint": RiskFlag.SEPTIC_JOINT,
    }[code]
    result = screen(patient(flags=frozenset({flag})), knee())
    assert not result.finding(code).overridable
    with pytest.raises(OverrideError, match="hard stop and cannot be overridden"):
        apply_overrides(result, [Override(code, "Clinician is confident it is fine.")])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ([Override("contraindication.acute_fracture", "")], "a reason is required"),
        ([Override("contraindication.acute_fracture", "   \n\t ")], "a reason is required"),
        ([Override("contraindication.acute_fracture", "ok fine")], "is too short ('ok fine')"),
        ([Override("contraindication.acute_fracture", None)], "a reason is required"),
        (
            [Override("contraindication.pregnancy", "Reason long enough here.")],
            "No finding 'contraindication.pregnancy'",
        ),
        ([Override("instruction.light_meal", "Patient is fasting for a test.")], "is an instruction"),
        (
            [
                Override("contraindication.acute_fracture", "Old fracture, other limb."),
                Override("contraindication.acute_fracture", "Old fracture, other limb."),
            ],
            "is overridden twice",
        ),
        ([("contraindication.acute_fracture", "Old fracture, other limb.")], "must name a finding code"),
    ],
)
def test_overrides_without_a_proper_reason_or_target_are_refused(overrides, message):
    result = screen(patient(flags=frozenset({RiskFlag.ACUTE_FRACTURE})), knee())
    with pytest.raises(OverrideError, match=re.escape(message)):
        apply_overrides(result, overrides)


def test_an_already_overridden_finding_cannot_be_overridden_again():
    result = screen(patient(flags=frozenset({RiskFlag.ACUTE_FRACTURE})), knee())
    once = apply_overrides(result, [Override("contraindication.acute_fracture", "Old fracture, other limb.")])
    with pytest.raises(OverrideError, match="already overridden"):
        apply_overrides(once, [Override("contraindication.acute_fracture", "Second opinion agrees.")])


def test_the_minimum_reason_length_can_be_set():
    result = screen(patient(flags=frozenset({RiskFlag.ACUTE_FRACTURE})), knee())
    overridden = apply_overrides(result, [Override("contraindication.acute_fracture", "old")], min_reason_chars=3)
    assert overridden.decision is Decision.ELIGIBLE_WITH_CAUTIONS


def test_override_errors_are_screening_and_domain_errors():
    assert issubclass(OverrideError, ScreeningError)
    assert issubclass(OverrideError, DomainError)


def test_the_worked_example_of_the_screening_page():
    facts = PatientFacts(
        date_of_birth=date(1970, 5, 1),
        sex=Sex.MALE,
        pregnancy=Pregnancy.NOT_APPLICABLE,
        medications=(Medication("Ibuprofen", MedicationClass.NSAID),),
        allergies=(Allergy("lidocaine", "rash"),),
        flags=frozenset({RiskFlag.ACUTE_FRACTURE, RiskFlag.DIABETES}),
    )
    result = screen(facts, knee())
    assert result.decision is Decision.NOT_ELIGIBLE
    assert result.codes == (
        "contraindication.acute_fracture",
        "contraindication.allergy.local_anaesthetic",
        "caution.diabetes",
        "instruction.nsaid_stop",
        "instruction.light_meal",
        "instruction.consent_off_label",
    )
    overridden = apply_overrides(
        result,
        [
            Override("contraindication.acute_fracture", "Healed wrist fracture, not near the knee."),
            Override("contraindication.allergy.local_anaesthetic", "Allergist patch test 2024 negative for lidocaine."),
        ],
    )
    assert overridden.decision is Decision.ELIGIBLE_WITH_CAUTIONS
    assert [f.code for f in overridden.findings if f.overridden] == list(result.codes[:2])
