from decimal import Decimal

import pytest

from prolotrack.domain.agents import (
    LOCAL_ANAESTHETICS,
    Agent,
    AgentConcentration,
    Concentration,
    Unit,
    mg_ml,
    parse_agent,
    parse_unit,
    pct,
)
from prolotrack.domain.errors import InputError, MixingError
from prolotrack.domain.quantities import as_decimal, as_positive, as_whole_days, fmt

D = Decimal


@pytest.mark.parametrize(
    ("concentration", "mg_per_ml", "percent", "text"),
    [
        (pct("15"), "150", "15", "15%"),
        (pct("0.5"), "5", "0.5", "0.5%"),
        (pct("12.5"), "125", "12.5", "12.5%"),
        (mg_ml("20"), "20", "2", "20 mg/mL"),
        (mg_ml("2.5"), "2.5", "0.25", "2.5 mg/mL"),
    ],
)
def test_percent_weight_per_volume_times_ten_is_milligrams_per_millilitre(concentration, mg_per_ml, percent, text):
    assert concentration.mg_per_ml == D(mg_per_ml)
    assert concentration.percent == D(percent)
    assert str(concentration) == text


@pytest.mark.parametrize(("text", "unit"), [("%", Unit.PERCENT), ("% w/v", Unit.PERCENT), ("MG/ML", Unit.MG_PER_ML)])
def test_units_are_parsed_case_insensitively(text, unit):
    assert parse_unit(text) is unit
    assert Concentration(D(1), text).unit is unit


@pytest.mark.parametrize("text", ["g/L", "mmol/L", "", None])
def test_unknown_units_are_refused(text):
    with pytest.raises(InputError, match="use % \\(weight/volume\\) or mg/mL"):
        parse_unit(text)


@pytest.mark.parametrize(
    ("text", "agent"),
    [
        ("dextrose", Agent.DEXTROSE),
        (" Glucose ", Agent.DEXTROSE),
        ("sodium-morrhuate", Agent.SODIUM_MORRHUATE),
        ("sodium_morrhuate", Agent.SODIUM_MORRHUATE),
        ("Xylocaine", Agent.LIDOCAINE),
        ("Novocaine", Agent.PROCAINE),
        ("Carbocaine", Agent.MEPIVACAINE),
        ("glycerol", Agent.GLYCERIN),
    ],
)
def test_agents_are_parsed_with_aliases(text, agent):
    assert parse_agent(text) is agent


def test_unknown_agents_are_refused_with_the_error_class_of_the_caller():
    with pytest.raises(MixingError, match="Unknown agent 'saline': choose one of dextrose, glycerin"):
        parse_agent("saline", MixingError)


def test_the_local_anaesthetics_are_the_four_caines():
    assert {a for a in Agent if a.is_local_anaesthetic} == LOCAL_ANAESTHETICS
    assert {a.value for a in LOCAL_ANAESTHETICS} == {"lidocaine", "procaine", "bupivacaine", "mepivacaine"}


def test_agent_concentration_accepts_an_agent_name():
    assert AgentConcentration("lignocaine", pct("1")).agent is Agent.LIDOCAINE


@pytest.mark.parametrize(("value", "expected"), [(D("2.50"), D("2.5")), (3, D(3)), ("4,5", D("4.5")), (" 7 ", D(7))])
def test_as_decimal_accepts_decimals_integers_and_text(value, expected):
    assert as_decimal(value, "Volume") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0.1, "binary float"),
        (True, "must be a number, not True"),
        ("abc", "'abc' is not a number"),
        (D("Infinity"), "finite number"),
        (D("NaN"), "finite number"),
        ([1], "must be a number, not list"),
    ],
)
def test_as_decimal_refuses_floats_booleans_and_non_numbers(value, message):
    with pytest.raises(InputError, match=message):
        as_decimal(value, "Volume")


def test_as_positive_refuses_zero():
    with pytest.raises(InputError, match="Volume must be above zero \\(got 0\\)"):
        as_positive(D("0.00"), "Volume")


@pytest.mark.parametrize("value", [-1, 29, 2.0, True])
def test_as_whole_days_refuses_out_of_range_or_non_integer_days(value):
    with pytest.raises(InputError):
        as_whole_days(value, "Window", 0, 28, InputError)


@pytest.mark.parametrize(
    ("value", "text"), [(D("300.00"), "300"), (D("2.50"), "2.5"), (D("1E+3"), "1000"), (D("0.005"), "0.005")]
)
def test_fmt_prints_numbers_without_exponent_or_trailing_zeros(value, text):
    assert fmt(value) == text
