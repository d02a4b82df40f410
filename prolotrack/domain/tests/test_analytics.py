"""Group outcome figures: Wilson intervals, responders, medians, rates and the funnel (docs/DASHBOARD.md)."""

import math
from decimal import Decimal
from statistics import NormalDist

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain import analytics
from prolotrack.domain.analytics import (
    Basis,
    course_verdict,
    funnel,
    median,
    median_from_counts,
    proportion,
    rates,
    responder_boundary,
    responder_criteria,
    sessions_to_mcid,
    wilson_interval,
)
from prolotrack.domain.errors import InputError, ScoringError
from prolotrack.domain.scoring import ResponderRule, change_from_baseline, instrument

D = Decimal
NRS = instrument("nrs_pain")
KOOS = instrument("koos_jr")
VAS = instrument("vas_pain")
ODI = instrument("odi")

# Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven methods.
# Stat Med 1998;17:857-872, Table II, method 3 (Wilson score, no continuity correction).
NEWCOMBE_1998 = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
    (29, 29, 0.8830, 1.0000),
]


@pytest.mark.parametrize(("successes", "total", "low", "high"), NEWCOMBE_1998)
def test_wilson_interval_matches_newcombes_published_values(successes, total, low, high):
    got_low, got_high = wilson_interval(successes, total)
    assert round(got_low, 4) == low
    assert round(got_high, 4) == high


def _score_test_bound(successes: int, total: int, upper: bool) -> float:
    """Brute force: the p at which the score test |p̂ - p| / sqrt(p(1-p)/n) equals z, found by bisection."""
    z = NormalDist().inv_cdf(0.975)
    p_hat = successes / total
    lo, hi = (p_hat, 1.0) if upper else (0.0, p_hat)
    if (upper and successes == total) or (not upper and successes == 0):
        return p_hat
    for _ in range(200):
        mid = (lo + hi) / 2
        stat = abs(p_hat - mid) / math.sqrt(mid * (1 - mid) / total)
        inside = stat < z
        if upper:
            lo, hi = (mid, hi) if inside else (lo, mid)
        else:
            lo, hi = (lo, mid) if inside else (mid, hi)
    return (lo + hi) / 2


@given(st.integers(min_value=1, max_value=400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_inverts_the_score_test(case):
    successes, total = case
    low, high = wilson_interval(successes, total)
    assert low == pytest.approx(_score_test_bound(successes, total, upper=False), abs=1e-9)
    assert high == pytest.approx(_score_test_bound(successes, total, upper=True), abs=1e-9)
    assert 0 <= low <= successes / total <= high <= 1


@pytest.mark.parametrize(
    ("successes", "total", "message"),
    [
        (1, 0, "at least one case"),
        (5, 4, "cannot exceed"),
        (-1, 4, "whole number of 0 or more"),
        (True, 4, "whole number"),
        (1.5, 4, "whole number"),
    ],
)
def test_wilson_interval_refuses_impossible_counts(successes, total, message):
    with pytest.raises(InputError, match=message):
        wilson_interval(successes, total)


@pytest.mark.parametrize(
    ("successes", "total", "suppressed", "rate"),
    [
        (0, 0, True, None),
        (3, 4, True, None),
        (4, 5, False, 0.8),
        (81, 263, False, 0.308),
    ],
)
def test_proportion_suppresses_small_cells(successes, total, suppressed, rate):
    result = proportion(successes, total)
    assert result.suppressed is suppressed
    assert result.as_dict()["rate"] == (None if rate is None else pytest.approx(rate, abs=1e-3))
    if suppressed:
        assert result.as_dict() == {"n": None, "of": None, "rate": None, "low": None, "high": None, "suppressed": True}


def test_proportion_uses_a_clinic_chosen_cell_size():
    assert proportion(3, 4, min_cell=1).suppressed is False
    assert analytics.MIN_CELL == 5


# --- Responders -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inst", "scores", "pgic", "responder", "basis"),
    [
        (NRS, [D(8), D(6)], None, True, Basis.SCORE),  # 2 points
        (NRS, [D(8), D(5), D(7)], D(1), False, Basis.SCORE),  # latest counts, not the best; PGIC ignored with a pair
        (NRS, [D(3), D(2)], None, True, Basis.SCORE),  # 33% of a low baseline
        (NRS, [D(5), D(4)], None, False, Basis.SCORE),
        (NRS, [D(6)], D(2), True, Basis.PGIC),  # no follow-up score: PGIC "much improved"
        (NRS, [D(6)], D(3), False, Basis.PGIC),  # "minimally improved" is not a responder
        (NRS, [], None, None, Basis.NONE),
        (KOOS, [D(40), D(50)], None, True, Basis.SCORE),  # higher is better
        (KOOS, [D(40), D(49)], None, False, Basis.SCORE),
    ],
)
def test_course_verdict(inst, scores, pgic, responder, basis):
    verdict = course_verdict(inst, scores, pgic)
    assert (verdict.responder, verdict.basis) == (responder, basis)


@pytest.mark.parametrize(
    ("inst", "baseline", "rule", "edge"),
    [
        (NRS, D(8), ResponderRule.EITHER, D(6)),  # 2 points beats 30% of 8 (2.4)
        (NRS, D(5), ResponderRule.EITHER, D("3.5")),  # 30% of 5 = 1.5 beats 2 points
        (NRS, D(8), ResponderRule.BOTH, D("5.6")),
        (NRS, D(0), ResponderRule.EITHER, D(-2)),  # percent unavailable; no score can reach it
        (KOOS, D(40), ResponderRule.EITHER, D(50)),
        (KOOS, D(95), ResponderRule.EITHER, D(105)),
        (VAS, D(60), ResponderRule.EITHER, D(45)),
    ],
)
def test_responder_boundary_is_the_edge_of_the_mcid_band(inst, baseline, rule, edge):
    assert responder_boundary(inst, baseline, rule) == edge


@pytest.mark.parametrize("inst", [NRS, VAS, ODI, KOOS])
@pytest.mark.parametrize("rule", [ResponderRule.EITHER, ResponderRule.BOTH])
def test_responder_boundary_agrees_with_change_from_baseline(inst, rule):
    """Every score on the responder side of the edge is a responder by scoring.change_from_baseline, and no other."""
    step = D(1) if inst.whole_numbers else D("0.5")
    for baseline in (inst.minimum + 1, (inst.minimum + inst.maximum) / 2, inst.maximum - 1):
        if rule is ResponderRule.BOTH and inst.mcid_percent is None:
            continue
        edge = responder_boundary(inst, baseline, rule)
        current = inst.minimum
        while current <= inst.maximum:
            expected = change_from_baseline(inst, baseline, current, rule).responder
            beyond = current <= edge if responder_criteria(inst, rule).higher_is_worse else current >= edge
            assert beyond == expected, (inst.code, baseline, current, edge)
            current += step


def test_responder_criteria_refuses_pgic():
    with pytest.raises(InputError, match="already rates change"):
        responder_criteria(instrument("pgic"))


@pytest.mark.parametrize(
    ("follow_ups", "sessions"),
    [
        ([(1, D(7)), (2, D(6)), (3, D(4))], 2),
        ([(1, D(5))], 1),
        ([(1, D(8)), (2, D(7))], None),
        ([], None),
    ],
)
def test_sessions_to_mcid_counts_sessions_before_the_first_responding_score(follow_ups, sessions):
    assert sessions_to_mcid(NRS, D(8), follow_ups) == sessions


def test_sessions_to_mcid_refuses_a_bad_score():
    with pytest.raises(ScoringError, match="outside 0-10"):
        sessions_to_mcid(NRS, D(8), [(1, D(11))])


# --- Medians ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], None), ([3], D(3)), ([3, 1], D(2)), ([1, 2, 9], D(2)), ([4, 1, 3, 2], D("2.5"))],
)
def test_median(values, expected):
    assert median(values) == expected


@given(st.dictionaries(st.integers(0, 12), st.integers(0, 30), max_size=8))
def test_median_from_counts_equals_the_median_of_the_expanded_list(counts):
    expanded = [value for value, count in counts.items() for _ in range(count)]
    assert median_from_counts(counts) == median(expanded)


# --- Rates and the funnel ---------------------------------------------------------------------------------------


def test_rates_share_one_denominator_or_take_one_each():
    shared = rates({"pain_flare": 12, "bruising": 3}, 100)
    assert shared["pain_flare"].value == 0.12
    own = rates({"baseline": 9}, {"baseline": 10, "follow_up": 8})
    assert own["baseline"].value == 0.9
    assert own["follow_up"].value == 0


def test_funnel_in_order_with_shares_and_small_counts_hidden():
    stages = funnel({"planned": 40, "started": 30, "completed": 20, "stopped": 3, "no_show": 0})
    assert [s.code for s in stages] == ["planned", "started", "completed", "stopped", "no_show"]
    assert stages[1].share == 0.75
    assert stages[3].suppressed is True and stages[3].as_dict()["count"] is None
    assert stages[4].suppressed is False and stages[4].count == 0


def test_funnel_refuses_a_stage_larger_than_the_courses_planned():
    with pytest.raises(InputError, match="cannot exceed the courses planned"):
        funnel({"planned": 2, "started": 3})
