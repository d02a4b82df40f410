import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from prolotrack.domain.agents import Agent, AgentConcentration, Concentration, Unit, mg_ml, pct
from prolotrack.domain.errors import DomainError, InputError, MixingError
from prolotrack.domain.mixing import (
    AgentAmount,
    Component,
    Diluent,
    content_of_volume,
    mix,
    parse_diluent,
    round_volume,
    total_content,
)

D = Decimal
DEX, LIDO = Agent.DEXTROSE, Agent.LIDOCAINE


def dex_lido(dex: str, dex_stock: str, lido: str, lido_stock: str) -> list[Component]:
    return [Component(DEX, pct(dex), pct(dex_stock)), Component(LIDO, pct(lido), pct(lido_stock))]


@pytest.mark.parametrize(
    ("final", "components", "expected_stock_ml", "expected_diluent_ml", "expected_mg"),
    [
        # DOMAIN.md §2 worked example: 10 mL of 15% dextrose / 0.5% lidocaine from D50 and 2% lidocaine.
        ("10", dex_lido("15", "50", "0.5", "2"), ["3.00", "2.50"], "4.50", ["1500", "50"]),
        # Same with 1% lidocaine.
        ("10", dex_lido("15", "50", "0.5", "1"), ["3.00", "5.00"], "2.00", ["1500", "50"]),
        # D50 1:1 with 1% lidocaine = 25% / 0.5%; 6 mL holds 30 mg lidocaine.
        ("6", dex_lido("25", "50", "0.5", "1"), ["3.00", "3.00"], "0.00", ["1500", "30"]),
        # Yelland low back solution: 20% glucose / 0.2% lignocaine, 10 mL.
        ("10", dex_lido("20", "50", "0.2", "2"), ["4.00", "1.00"], "5.00", ["2000", "20"]),
        # Osgood-Schlatter: 12.5% dextrose in 1% lidocaine, 10 mL.
        ("10", dex_lido("12.5", "50", "1", "2"), ["2.50", "5.00"], "2.50", ["1250", "100"]),
    ],
)
def test_mix_reproduces_the_worked_examples(final, components, expected_stock_ml, expected_diluent_ml, expected_mg):
    result = mix(D(final), components)
    assert [str(c.stock_volume_ml) for c in result.components] == expected_stock_ml
    assert str(result.diluent_volume_ml) == expected_diluent_ml
    assert [c.amount_mg for c in result.components] == [D(mg) for mg in expected_mg]
    assert result.total_volume_ml == D(final)


def test_worked_example_syringe_holds_one_and_a_half_grams_of_dextrose_and_fifty_mg_lidocaine():
    result = mix(D(10), dex_lido("15", "50", "0.5", "2"))
    assert result.component(DEX).amount_g == D("1.5")
    assert result.component(LIDO).amount_mg == D(50)
    assert result.component(LIDO).amount_g == D("0.05")


def test_default_diluent_is_normal_saline_and_sterile_water_can_be_chosen():
    assert mix(D(10), dex_lido("15", "50", "0.5", "2")).diluent is Diluent.SODIUM_CHLORIDE_0_9
    water = mix(D(10), dex_lido("15", "50", "0.5", "2"), diluent="Sterile water")
    assert water.diluent is Diluent.STERILE_WATER
    assert water.diluent_volume_ml == D("4.50")


def test_mg_per_ml_and_percent_units_give_the_same_recipe():
    in_mg = mix(D(10), [Component(DEX, mg_ml("150"), mg_ml("500")), Component(LIDO, mg_ml("5"), pct("2"))])
    in_pct = mix(D(10), dex_lido("15", "50", "0.5", "2"))
    assert [c.stock_volume_ml for c in in_mg.components] == [c.stock_volume_ml for c in in_pct.components]
    assert in_mg.diluent_volume_ml == in_pct.diluent_volume_ml


def test_p2g_mixes_four_agents_at_their_published_final_concentrations():
    # Dagenais: dextrose 12.5% + glycerin 12.5% + phenol 1.0% + lidocaine 0.25% (DOMAIN.md §2); stocks are examples.
    components = [
        Component(DEX, pct("12.5"), pct("50")),
        Component(Agent.GLYCERIN, pct("12.5"), pct("50")),
        Component(Agent.PHENOL, pct("1"), pct("10")),
        Component(LIDO, pct("0.25"), pct("1")),
    ]
    result = mix(D(20), components)
    assert [c.stock_volume_ml for c in result.components] == [D(5), D(5), D(2), D(5)]
    assert result.diluent_volume_ml == D(3)


def test_target_equal_to_stock_uses_the_whole_volume_and_no_diluent():
    result = mix(D(2), [Component(LIDO, pct("1"), pct("1"))])
    assert result.component(LIDO).stock_volume_ml == D("2.00")
    assert result.diluent_volume_ml == D(0)


def test_stock_volumes_are_rounded_half_up_to_a_hundredth_of_a_millilitre():
    # 1 mL of 0.0125% lidocaine from 2%: exactly 0.00625 mL -> 0.01 (half up); 0.1 mL of 0.5% from 2%: 0.025 -> 0.03.
    assert mix(D(1), [Component(LIDO, pct("0.0125"), pct("2"))]).component(LIDO).stock_volume_ml == D("0.01")
    assert mix(D("0.1"), [Component(LIDO, pct("0.5"), pct("2"))]).component(LIDO).stock_volume_ml == D("0.03")


def test_a_third_of_a_millilitre_is_rounded_from_its_exact_value():
    result = mix(D(1), [Component(DEX, pct("10"), pct("30"))])
    assert result.component(DEX).stock_volume_ml == D("0.33")
    assert result.diluent_volume_ml == D("0.67")
    assert result.component(DEX).amount_mg == D("99.00")


@pytest.mark.parametrize(
    ("exact", "rounded"),
    [("0.004", "0.00"), ("0.005", "0.01"), ("1.234999", "1.23"), ("1.235", "1.24"), ("2", "2.00")],
)
def test_round_volume_rounds_halves_up(exact, rounded):
    assert str(round_volume(D(exact))) == rounded


def test_round_volume_of_a_fraction_uses_the_true_value_not_a_truncated_decimal():
    assert round_volume(Fraction(1, 200) - Fraction(1, 10**40)) == D("0.00")


@pytest.mark.parametrize(
    ("final", "components", "message"),
    [
        ("10", dex_lido("30", "25", "0.5", "2"), "Target dextrose 30% is above the stock concentration 25%"),
        ("10", dex_lido("40", "50", "1", "2"), "add up to 13 mL, more than the final volume 10 mL"),
        ("0", dex_lido("15", "50", "0.5", "2"), "Final volume (mL) must be above zero"),
        ("-5", dex_lido("15", "50", "0.5", "2"), "Final volume (mL) must be above zero"),
        ("NaN", dex_lido("15", "50", "0.5", "2"), "must be a finite number"),
        ("Infinity", dex_lido("15", "50", "0.5", "2"), "must be a finite number"),
        ("ten", dex_lido("15", "50", "0.5", "2"), "is not a number"),
        ("10", [], "Add at least one component"),
        ("10", dex_lido("0", "50", "0.5", "2"), "Dextrose target concentration must be above zero"),
        ("10", dex_lido("15", "-50", "0.5", "2"), "Dextrose stock concentration must be above zero"),
        ("10", [Component(DEX, pct("15"), pct("50")), Component(DEX, pct("5"), pct("50"))], "listed twice"),
        (
            "10",
            [Component(LIDO, pct("0.5"), pct("2")), Component(Agent.BUPIVACAINE, pct("0.25"), pct("0.5"))],
            "prepare one local anaesthetic per solution",
        ),
        (
            "1",
            [Component(LIDO, pct("0.001"), pct("2"))],
            "Lidocaine 0.001% in 1 mL needs only 0.0005 mL of the 2% stock, below the 0.01 mL that can be measured",
        ),
        ("1", [Component(LIDO, pct("0.0001"), pct("2"))], "needs only 0.00005 mL"),
        # Exact volumes 0.335 + 0.665 = 1.000 mL fit, but rounded half up they are 0.34 + 0.67 = 1.01 mL.
        (
            "1",
            [Component(DEX, pct("16.75"), pct("50")), Component(LIDO, pct("1.33"), pct("2"))],
            "Rounded to 0.01 mL, the stock volumes add up to 1.01 mL",
        ),
    ],
)
def test_mix_refuses_impossible_recipes_with_a_message_saying_how_to_fix_them(final, components, message):
    with pytest.raises(MixingError, match=re.escape(message)):
        mix(final, components)


def test_target_above_stock_message_reads_as_a_clinician_would_write_it():
    with pytest.raises(MixingError) as error:
        mix(D(10), [Component(DEX, pct("30"), pct("25"))])
    assert str(error.value) == (
        "Target dextrose 30% is above the stock concentration 25%: choose a stronger stock or a lower target."
    )


def test_two_anaesthetics_can_be_mixed_when_the_clinic_allows_it():
    components = [Component(LIDO, pct("0.5"), pct("2")), Component(Agent.BUPIVACAINE, pct("0.25"), pct("0.5"))]
    result = mix(D(10), components, allow_multiple_anaesthetics=True)
    assert result.component(Agent.BUPIVACAINE).amount_mg == D(25)
    assert result.diluent_volume_ml == D("2.50")


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Component("unobtainium", pct("1"), pct("2")), MixingError, "Unknown agent 'unobtainium'"),
        (lambda: Concentration(D(1), "g/L"), InputError, "Unknown concentration unit 'g/L'"),
        (lambda: Concentration(0.1, Unit.PERCENT), InputError, "binary float"),
        (lambda: Concentration(True, Unit.PERCENT), InputError, "must be a number"),
        (lambda: mix(D(10), dex_lido("15", "50", "0.5", "2"), diluent="orange juice"), MixingError, "Unknown diluent"),
        (lambda: mix(D(10), [("dextrose", "15", "50")]), MixingError, "agent, a target and a stock"),
        (
            lambda: mix(D(10), [Component(DEX, pct("15"), D(50))]),
            MixingError,
            "with a unit",
        ),
    ],
)
def test_unknown_agents_units_diluents_and_malformed_inputs_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_agent_names_are_matched_case_insensitively_with_common_aliases():
    assert Component("Lignocaine", pct("1"), pct("2")).agent is LIDO
    assert Component("GLUCOSE", pct("1"), pct("2")).agent is DEX
    assert Component("Sodium Morrhuate", pct("1"), pct("5")).agent is Agent.SODIUM_MORRHUATE


@pytest.mark.parametrize("text", ["saline", "Normal Saline", "0.9% sodium chloride", "SODIUM CHLORIDE 0.9%"])
def test_saline_is_recognised_under_its_common_names(text):
    assert parse_diluent(text) is Diluent.SODIUM_CHLORIDE_0_9


def test_every_mixing_error_is_a_domain_error_and_a_value_error():
    with pytest.raises(DomainError):
        mix(D(0), dex_lido("15", "50", "0.5", "2"))
    assert issubclass(MixingError, ValueError)


# --- Content of a drawn volume ---


def test_six_millilitres_of_d50_one_to_one_with_lidocaine_hold_thirty_mg_lidocaine():
    solution = mix(D(6), dex_lido("25", "50", "0.5", "1"))
    amounts = {a.agent: a for a in content_of_volume(solution, D(6))}
    assert amounts[LIDO].mg == D(30)
    assert amounts[DEX].g == D("1.5")


def test_half_a_millilitre_drawn_from_the_worked_example_holds_seventy_five_mg_dextrose_and_two_and_a_half_mg_lidocaine():
    solution = mix(D(10), dex_lido("15", "50", "0.5", "2"))
    amounts = {a.agent: a.mg for a in content_of_volume(solution, D("0.5"))}
    assert amounts == {DEX: D(75), LIDO: D("2.5")}


def test_a_rabago_knee_session_holds_about_two_point_six_grams_of_glucose():
    intra_articular = content_of_volume([AgentConcentration(DEX, pct("25"))], D(6))
    per_site = content_of_volume([AgentConcentration(DEX, pct("15"))], D("0.5"))
    totals = total_content([intra_articular] + [per_site] * 15)
    assert totals == (AgentAmount(DEX, D("2625"), D("2.625")),)
    assert totals[0].g == D("2.625")


def test_total_content_sums_per_agent_in_agent_order():
    first = content_of_volume([AgentConcentration(LIDO, pct("1")), AgentConcentration(DEX, pct("10"))], D(2))
    second = content_of_volume([AgentConcentration(LIDO, pct("0.5"))], D(4))
    totals = total_content([first, second])
    assert [(a.agent, a.mg) for a in totals] == [(DEX, D(200)), (LIDO, D(40))]


@pytest.mark.parametrize(
    ("volume", "message"),
    [("0", "Drawn volume must be above zero"), ("-1", "above zero"), ("11", "more than the 10 mL prepared")],
)
def test_content_of_volume_refuses_impossible_draws(volume, message):
    solution = mix(D(10), dex_lido("15", "50", "0.5", "2"))
    with pytest.raises(MixingError, match=message):
        content_of_volume(solution, D(volume))


def test_content_of_volume_refuses_a_solution_listing_an_agent_twice():
    twice = [AgentConcentration(DEX, pct("10")), AgentConcentration(DEX, pct("15"))]
    with pytest.raises(MixingError, match="listed twice"):
        content_of_volume(twice, D(1))


# --- Properties ---

concentrations = st.decimals(min_value=D("0.01"), max_value=D("50"), places=2)
volumes = st.decimals(min_value=D("0.5"), max_value=D("100"), places=2)
agents = st.lists(
    st.sampled_from([DEX, Agent.GLYCERIN, Agent.PHENOL, Agent.SODIUM_MORRHUATE, LIDO]),
    min_size=1,
    max_size=4,
    unique=True,
)


@st.composite
def recipes(draw, feasible=True):
    final = draw(volumes)
    chosen = draw(agents)
    components = []
    for agent in chosen:
        stock = draw(concentrations)
        # Feasible recipes keep each target within stock / n so the exact stock volumes fit in the final volume.
        ceiling = (stock / len(chosen)).quantize(D("0.01"), rounding="ROUND_DOWN") if feasible else stock
        assume(ceiling >= D("0.01"))
        target = draw(st.decimals(min_value=D("0.01"), max_value=ceiling, places=2))
        components.append(Component(agent, pct(target), pct(stock)))
    return final, components


@given(recipes())
def test_parts_always_add_up_exactly_to_the_final_volume(recipe):
    final, components = recipe
    try:
        result = mix(final, components)
    except MixingError:
        assume(False)
        return
    assert sum((c.stock_volume_ml for c in result.components), result.diluent_volume_ml) == final
    assert result.diluent_volume_ml >= 0
    assert all(c.stock_volume_ml == c.stock_volume_ml.quantize(D("0.01")) for c in result.components)


@given(recipes())
def test_stock_times_stock_concentration_matches_target_times_final_within_the_rounding(recipe):
    final, components = recipe
    try:
        result = mix(final, components)
    except MixingError:
        assume(False)
        return
    for line in result.components:
        wanted = line.target.mg_per_ml * final
        # Rounding the stock volume by at most 0.005 mL moves the amount by at most 0.005 mL × stock mg/mL.
        assert abs(line.amount_mg - wanted) <= D("0.005") * line.stock.mg_per_ml
        assert abs(line.stock_volume_ml - line.exact_stock_volume_ml) <= D("0.005")


@given(recipes())
def test_grams_are_always_milligrams_divided_by_a_thousand(recipe):
    final, components = recipe
    try:
        result = mix(final, components)
    except MixingError:
        assume(False)
        return
    for line in result.components:
        assert line.amount_g * 1000 == line.amount_mg
        assert line.amount_mg == line.stock_volume_ml * line.stock.mg_per_ml


@given(recipes(feasible=False))
def test_a_recipe_is_refused_exactly_when_the_exact_stock_volumes_exceed_the_final_volume(recipe):
    final, components = recipe
    exact_total = sum(
        (Fraction(c.target.mg_per_ml) * Fraction(final) / Fraction(c.stock.mg_per_ml) for c in components), Fraction(0)
    )
    if exact_total > final:
        with pytest.raises(MixingError, match=r"^The stock volumes add up to .* more than the final volume"):
            mix(final, components)
        return
    try:
        result = mix(final, components)
    except MixingError as error:
        # Feasible in exact terms: any refusal must be about rounding or an unmeasurable volume, never the total.
        assert not str(error).startswith("The stock volumes add up to")
        return
    assert result.total_volume_ml == final


@given(volumes, concentrations, st.decimals(min_value=D("0.01"), max_value=D("10"), places=2))
def test_drawn_content_is_proportional_to_the_drawn_volume(final, conc, draw):
    assume(draw <= final)
    solution = mix(final, [Component(DEX, pct(conc), pct(conc))])
    (amount,) = content_of_volume(solution, draw)
    assert amount.mg == conc * 10 * draw
    assert amount.g * 1000 == amount.mg
