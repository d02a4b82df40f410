import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain.agents import Agent
from prolotrack.domain.anaesthetic import (
    DEFAULT_WARN_FRACTION,
    DOSE_RULES,
    MAX_WEIGHT_KG,
    MIN_WEIGHT_KG,
    Administration,
    DoseStatus,
    check_session,
    last_age_advisory,
    last_age_risk,
    max_dose,
)
from prolotrack.domain.errors import DoseError, InputError
from prolotrack.domain.sources import Evidence

D = Decimal
LIDO, PROC, BUPI, MEPI = Agent.LIDOCAINE, Agent.PROCAINE, Agent.BUPIVACAINE, Agent.MEPIVACAINE


@pytest.mark.parametrize(
    ("drug", "epinephrine", "weight", "expected_max"),
    [
        (LIDO, False, "70", "300"),  # min(315, 300): DOMAIN.md §3 worked example
        (LIDO, False, "50", "225"),  # 4.5 × 50
        (LIDO, False, "66.6", "299.7"),  # just under the cap
        (LIDO, False, "66.7", "300"),  # 300.15 capped
        (LIDO, True, "70", "490"),  # 7 × 70
        (LIDO, True, "80", "500"),  # 560 capped at 500
        (PROC, False, "70", "490"),  # 7 × 70
        (PROC, True, "50", "500"),  # 10 × 50
        (PROC, True, "70", "600"),  # 700 capped at the Novocain label's 600
        (BUPI, False, "60", "150"),  # 2.5 × 60
        (BUPI, False, "80", "175"),  # 200 capped at 175
        (BUPI, True, "80", "175"),  # no separate with-epinephrine figure: plain limit
        (MEPI, False, "50", "350"),  # 7 × 50
        (MEPI, False, "70", "400"),  # 490 capped at the label's usual 400
        (LIDO, False, "33.33", "149.9"),  # 149.985 rounded down, never up
    ],
)
def test_max_dose_is_the_lower_of_weight_based_dose_and_cap(drug, epinephrine, weight, expected_max):
    assert max_dose(drug, epinephrine, D(weight)).max_mg == D(expected_max)


def test_max_dose_reports_the_rule_and_its_source():
    limit = max_dose(LIDO, False, D(70))
    assert (limit.mg_per_kg, limit.cap_mg) == (D("4.5"), D(300))
    assert "Xylocaine" in limit.source
    assert limit.evidence is Evidence.ESTABLISHED
    assert limit.describe == "lidocaine plain: 4.5 mg/kg, not over 300 mg"


def test_procaine_cap_is_sourced_to_the_novocain_label_and_marked_as_varying_practice():
    limit = max_dose(PROC, True, D(70))
    assert "Novocain" in limit.source and "WikEM" in limit.source
    assert limit.evidence is Evidence.VARIES
    assert "no absolute cap" in limit.note


def test_every_anaesthetic_has_a_rule_plain_and_with_epinephrine():
    assert set(DOSE_RULES) == {(drug, epi) for drug in (LIDO, PROC, BUPI, MEPI) for epi in (False, True)}
    assert all(rule.source for rule in DOSE_RULES.values())


@pytest.mark.parametrize(
    ("drug", "epinephrine", "weight", "message"),
    [
        (LIDO, False, None, "A body weight is required"),
        (LIDO, False, D(0), "must be above zero"),
        (LIDO, False, D(-70), "must be above zero"),
        (LIDO, False, D("1.9"), "outside 2-400 kg"),
        (LIDO, False, D(700), "outside 2-400 kg: check the unit"),
        (LIDO, False, D("NaN"), "finite number"),
        (LIDO, False, 70.0, "binary float"),
        (Agent.DEXTROSE, False, D(70), "Dextrose is not a local anaesthetic"),
        ("cocaine", False, D(70), "Unknown agent 'cocaine'"),
        (LIDO, "yes", D(70), "epinephrine"),
    ],
)
def test_max_dose_refuses_missing_or_implausible_input(drug, epinephrine, weight, message):
    with pytest.raises(DoseError, match=message):
        max_dose(drug, epinephrine, weight)


def test_weight_bounds_themselves_are_accepted():
    assert max_dose(LIDO, False, MIN_WEIGHT_KG).max_mg == D(9)
    assert max_dose(LIDO, False, MAX_WEIGHT_KG).max_mg == D(300)


def test_drug_names_are_accepted_as_text():
    assert max_dose("Lignocaine", False, D(50)).drug is LIDO


# --- Session check ---


def admin(drug, mg, epinephrine=False):
    return Administration(drug, epinephrine, D(mg))


@pytest.mark.parametrize(
    ("weight", "administrations", "status", "combined"),
    [
        ("70", [], DoseStatus.OK, "0"),
        ("70", [admin(LIDO, "50")], DoseStatus.OK, "0.1667"),  # 50/300 rounded up for display
        ("70", [admin(LIDO, "239.9")], DoseStatus.OK, "0.7997"),
        ("70", [admin(LIDO, "240")], DoseStatus.WARN, "0.8"),  # exactly 80%: warns
        ("70", [admin(LIDO, "300")], DoseStatus.WARN, "1"),  # exactly at the maximum: allowed, warns
        ("70", [admin(LIDO, "300.1")], DoseStatus.BLOCK, "1.0004"),
        ("70", [admin(LIDO, "100"), admin(LIDO, "100"), admin(LIDO, "101")], DoseStatus.BLOCK, "1.0034"),
        ("50", [admin(LIDO, "230")], DoseStatus.BLOCK, "1.0223"),  # 225 mg for 50 kg
        # Additive: 50% lidocaine + 50% bupivacaine = 100% -> allowed but warns; a little more blocks.
        ("70", [admin(LIDO, "150"), admin(BUPI, "87.5")], DoseStatus.WARN, "1"),
        ("70", [admin(LIDO, "150"), admin(BUPI, "88")], DoseStatus.BLOCK, "1.0029"),
        # Each alone under the warning threshold, together over it.
        ("70", [admin(LIDO, "150"), admin(BUPI, "60")], DoseStatus.WARN, "0.8429"),
        # Plain and with epinephrine are separate forms with separate limits, still additive.
        ("70", [admin(LIDO, "150"), admin(LIDO, "245", epinephrine=True)], DoseStatus.WARN, "1"),
    ],
)
def test_check_session_grades_the_combined_fraction(weight, administrations, status, combined):
    result = check_session(D(weight), administrations)
    assert result.status is status
    assert result.combined_fraction == D(combined)


def test_check_session_totals_each_form_across_every_syringe():
    result = check_session(D(70), [admin(LIDO, "25"), admin(BUPI, "10"), admin(LIDO, "2.5"), admin(LIDO, "2.5")])
    totals = {(t.drug, t.with_epinephrine): t.total_mg for t in result.totals}
    assert totals == {(LIDO, False): D(30), (BUPI, False): D(10)}
    assert [t.drug for t in result.totals] == [LIDO, BUPI]
    assert result.totals[0].fraction == D("0.1")
    assert result.totals[0].limit.max_mg == D(300)


def test_a_blocked_session_says_which_drug_is_over_and_how_to_fix_it():
    result = check_session(D(50), [admin(LIDO, "230")])
    assert result.messages == (
        "Lidocaine plain total 230 mg is above the maximum 225 mg for 50 kg "
        "(lidocaine plain: 4.5 mg/kg, not over 300 mg): reduce the volume or the concentration.",
    )


def test_a_combined_block_explains_that_toxicity_adds_up_even_when_each_drug_alone_is_fine():
    result = check_session(D(70), [admin(LIDO, "150"), admin(BUPI, "88")])
    assert result.status is DoseStatus.BLOCK
    assert [t.status for t in result.totals] == [DoseStatus.OK, DoseStatus.OK]
    assert result.messages == (
        "Local anaesthetic toxicity adds up across drugs: lidocaine plain 50% + bupivacaine plain 50.3% = 100.3% "
        "of the combined limit, above 100%: reduce one of the anaesthetics.",
    )
    assert "additive" in result.source


def test_a_single_drug_warning_names_the_threshold_as_a_clinic_setting():
    result = check_session(D(70), [admin(LIDO, "255")])
    assert result.messages == (
        "Lidocaine plain total 255 mg is 85% of the maximum 300 mg, at or above the 80% warning threshold "
        "(clinic setting).",
    )


def test_an_ok_session_has_no_messages():
    assert check_session(D(70), [admin(LIDO, "30")]).messages == ()


@pytest.mark.parametrize(
    ("warn_fraction", "status"),
    [(D("0.5"), DoseStatus.WARN), (D("0.8"), DoseStatus.OK), (D(1), DoseStatus.OK)],
)
def test_warn_threshold_is_a_clinic_setting(warn_fraction, status):
    assert check_session(D(70), [admin(LIDO, "180")], warn_fraction).status is status


def test_default_warn_threshold_is_eighty_percent():
    assert D("0.8") == DEFAULT_WARN_FRACTION


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"warn_fraction": D(0)}, DoseError, "must be above 0 and at most 1"),
        ({"warn_fraction": D("1.2")}, DoseError, "must be above 0 and at most 1"),
        ({"administrations": [admin(LIDO, "0")]}, DoseError, "Lidocaine amount must be above zero"),
        ({"administrations": [admin(LIDO, "-5")]}, DoseError, "above zero"),
        ({"administrations": [admin(Agent.PHENOL, "5")]}, DoseError, "Phenol is not a local anaesthetic"),
        ({"administrations": [("lidocaine", False, D(5))]}, DoseError, "Each administration must give"),
        ({"administrations": [Administration(LIDO, None, D(5))]}, DoseError, "contains epinephrine"),
        ({"weight_kg": None}, DoseError, "A body weight is required"),
        ({"date_of_birth": date(1950, 1, 1)}, DoseError, "Give both the date of birth and the session date"),
        ({"date_of_birth": date(2030, 1, 1), "on": date(2025, 1, 1)}, InputError, "is after 2025-01-01"),
    ],
)
def test_check_session_refuses_bad_input(kwargs, error, message):
    arguments = {"weight_kg": D(70), "administrations": [admin(LIDO, "50")], **kwargs}
    with pytest.raises(error, match=re.escape(message)):
        check_session(**arguments)


# --- Age advisory (LAST risk under 6 or over 60, DOMAIN.md §3) ---


@pytest.mark.parametrize(
    ("born", "on", "at_risk"),
    [
        (date(2020, 3, 10), date(2026, 3, 9), True),  # the day before the 6th birthday
        (date(2020, 3, 10), date(2026, 3, 10), False),  # 6th birthday: no longer under 6
        (date(1965, 3, 10), date(2025, 3, 10), False),  # 60th birthday: not yet over 60
        (date(1965, 3, 10), date(2025, 3, 11), True),  # the day after: over 60
        (date(1990, 5, 5), date(2025, 5, 5), False),
        (date(1964, 2, 29), date(2024, 2, 29), False),  # 29 February birthday on a leap year
        (date(1963, 2, 28), date(2023, 3, 1), True),
    ],
)
def test_last_age_risk_applies_under_six_and_over_sixty(born, on, at_risk):
    assert last_age_risk(born, on) is at_risk


def test_age_advisory_is_added_only_when_age_adds_risk_and_anaesthetic_is_given():
    old = check_session(D(70), [admin(LIDO, "50")], date_of_birth=date(1950, 6, 1), on=date(2025, 6, 1))
    assert old.status is DoseStatus.OK
    assert len(old.advisories) == 1
    assert old.advisories[0].startswith("Patient is 75 years old (over 60)")
    young_adult = check_session(D(70), [admin(LIDO, "50")], date_of_birth=date(1990, 6, 1), on=date(2025, 6, 1))
    assert young_adult.advisories == ()
    nothing_given = check_session(D(70), [], date_of_birth=date(1950, 6, 1), on=date(2025, 6, 1))
    assert nothing_given.advisories == ()


def test_age_advisory_for_a_young_child_names_the_band_and_the_symptoms():
    advisory = last_age_advisory(date(2021, 1, 1), date(2025, 1, 1))
    assert advisory is not None
    assert "4 years old (under 6)" in advisory
    assert "perioral numbness" in advisory and "60 minutes" in advisory


# --- Properties ---

weights = st.decimals(min_value=MIN_WEIGHT_KG, max_value=MAX_WEIGHT_KG, places=1)
forms = st.sampled_from(sorted(DOSE_RULES))


@given(forms, weights, weights)
def test_max_dose_never_falls_as_weight_rises(form, first, second):
    drug, epinephrine = form
    light, heavy = sorted((first, second))
    assert max_dose(drug, epinephrine, light).max_mg <= max_dose(drug, epinephrine, heavy).max_mg


@given(forms, weights)
def test_max_dose_is_never_above_the_cap_nor_the_weight_based_dose(form, weight):
    drug, epinephrine = form
    limit = max_dose(drug, epinephrine, weight)
    assert limit.cap_mg is not None
    assert limit.max_mg <= limit.cap_mg
    assert limit.max_mg <= limit.mg_per_kg * weight
    assert limit.mg_per_kg * weight - limit.max_mg < D("0.1") or limit.max_mg == limit.cap_mg


@given(forms, weights, st.decimals(min_value=D("0.1"), max_value=D(1000), places=1))
def test_a_single_dose_blocks_exactly_when_it_exceeds_the_maximum(form, weight, mg):
    drug, epinephrine = form
    result = check_session(weight, [Administration(drug, epinephrine, mg)])
    limit = max_dose(drug, epinephrine, weight)
    assert (result.status is DoseStatus.BLOCK) == (mg > limit.max_mg)
