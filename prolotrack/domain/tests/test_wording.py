"""A change from baseline in words: 'worse by 1' when the patient got worse, whichever way the instrument runs."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain.scoring import INSTRUMENTS, Direction, change_from_baseline, instrument, non_responder
from prolotrack.domain.wording import change_words


@pytest.mark.parametrize(
    ("improvement", "percent", "expected"),
    [
        (D(4), D("57.1"), "improved by 4 (57.1%)"),
        (D(1), None, "improved by 1"),
        (D("0.5"), None, "improved by 0.5"),
        (D(0), None, "no change"),
        (D(0), D(0), "no change"),
        (D(-1), None, "worse by 1"),
        (D(-1), D(-25), "worse by 1 (25%)"),
        (D("-12.50"), None, "worse by 12.5"),
    ],
)
def test_the_words_for_a_change(improvement, percent, expected):
    assert change_words(improvement, percent) == expected


SCORED = [i for i in INSTRUMENTS if not i.rates_change]


# Every instrument, both directions: (baseline, current) as a step of 1 from the middle of the scale.
@pytest.mark.parametrize("inst", SCORED, ids=lambda i: i.code)
@pytest.mark.parametrize(("step_better", "expected"), [(1, "improved by 1"), (0, "no change"), (-1, "worse by 1")])
def test_every_instrument_says_worse_when_the_score_moves_the_worse_way(inst, step_better, expected):
    middle = ((inst.minimum + inst.maximum) / 2).to_integral_value()
    sign = -1 if inst.direction is Direction.HIGHER_IS_WORSE else 1
    change = change_from_baseline(inst, middle, middle + sign * step_better)
    assert change_words(change.improvement) == expected


def test_both_directions_are_covered():
    assert {i.direction for i in SCORED} == set(Direction)


@pytest.mark.parametrize(
    ("code", "series", "words"),
    [
        ("nrs_pain", ["6", "7"], "worse by 1"),  # higher is worse: 6 -> 7 is worse
        ("nrs_pain", ["6", "6"], "no change"),
        ("nrs_pain", ["8", "7"], "improved by 1"),
        ("koos", ["50", "45"], "worse by 5"),  # higher is better: 50 -> 45 is worse
        ("koos", ["50", "55"], "improved by 5"),
        ("odi", ["40", "41"], "worse by 1"),
    ],
)
def test_the_non_responder_alert_says_worse_by_never_improved_by_a_negative(code, series, words):
    check = non_responder(instrument(code), 3, [D(s) for s in series])
    assert check.non_responder is True
    assert f"compared with baseline: {words}," in check.reason
    assert "by -" not in check.reason


@given(
    st.sampled_from(SCORED),
    st.integers(min_value=0, max_value=100),
    st.integers(min_value=0, max_value=100),
)
def test_no_change_is_ever_said_with_a_minus_sign_and_the_words_match_the_direction(inst, a, b):
    baseline, current = D(min(a, int(inst.maximum))), D(min(b, int(inst.maximum)))
    change = change_from_baseline(inst, baseline, current)
    words = change_words(change.improvement, change.percent)
    assert "-" not in words
    worse = current > baseline if inst.direction is Direction.HIGHER_IS_WORSE else current < baseline
    better = current < baseline if inst.direction is Direction.HIGHER_IS_WORSE else current > baseline
    assert words.startswith("worse by") is worse
    assert words.startswith("improved by") is better
    assert (words == "no change") is (current == baseline)
