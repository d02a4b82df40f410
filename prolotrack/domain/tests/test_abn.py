"""The Medicare ABN rules (docs/BILLING.md, "Medicare ABN"): tables of cases and properties of the tolerance."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain import abn
from prolotrack.domain.abn import Estimate, GateState, NoticeFacts, Option, PlanFacts, PlannedSession

D = Decimal


@pytest.mark.parametrize(
    ("payer", "gate_on", "non_covered", "required"),
    [
        ("original_medicare", True, 3, True),
        ("original_medicare", False, 3, False),  # the clinic turned the gate off
        ("original_medicare", True, 0, False),  # nothing planned that Medicare denies
        ("medicare_advantage", True, 3, False),  # the ABN is an Original Medicare (fee-for-service) notice
        ("self_pay", True, 3, False),
        ("commercial", True, 3, False),
        ("other", True, 3, False),
        (None, True, 3, False),  # no coverage recorded
    ],
)
def test_when_an_abn_is_required(payer: str | None, gate_on: bool, non_covered: int, required: bool) -> None:
    assert abn.abn_required(payer, gate_on, non_covered) is required


@pytest.mark.parametrize(
    ("code", "kind", "non_covered"),
    [
        ("M0076", "procedure", True),
        ("m0076", "other", True),
        ("PROLO-1", "procedure", True),  # a clinic's own code for the same procedure
        ("NEW-ASSESS", "visit", False),
        ("BRACE-KNEE", "product", False),
    ],
)
def test_which_items_medicare_is_expected_to_deny(code: str, kind: str, non_covered: bool) -> None:
    assert abn.is_non_covered(code, kind) is non_covered


@pytest.mark.parametrize(
    ("rule", "sides", "expected"),
    [("per_region", 1, (1, 1)), ("per_region", 2, (2, 2)), ("per_session", 2, (1, 1)), ("per_injection", 1, (4, 15))],
)
def test_units_per_session_follow_the_fee_rule(rule: str, sides: int, expected: tuple[int, int]) -> None:
    assert abn.units_per_session(rule, sides, 4, 15) == expected


def test_an_unknown_fee_rule_is_refused() -> None:
    with pytest.raises(abn.AbnError):
        abn.units_per_session("per_minute", 1, 4, 15)


THREE = [PlannedSession(date(2026, 11, 2), D("250.00")), PlannedSession(date(2026, 11, 30), D("250.00"))]


@pytest.mark.parametrize(
    ("sessions", "units", "package", "low", "high"),
    [
        (THREE, (1, 1), None, D("500.00"), D("500.00")),
        (THREE, (2, 2), None, D("1000.00"), D("1000.00")),  # both knees
        ([PlannedSession(date(2026, 11, 2), D("20.00"))], (4, 15), None, D("80.00"), D("300.00")),  # per injection
        # A price rise from a later day is priced on that day (the fee version in force for each session)
        (
            [PlannedSession(date(2026, 11, 2), D("250.00")), PlannedSession(date(2027, 1, 4), D("275.00"))],
            (1, 1),
            None,
            D("525.00"),
            D("525.00"),
        ),
        ([PlannedSession(date(2026, 11, 2), D("45.00"), D("8.25"))], (1, 1), None, D("48.71"), D("48.71")),  # taxed
        (THREE, (1, 1), (D("600"), 2), D("600.00"), D("600.00")),  # a package of 2 uses states its price instead
        (THREE, (1, 1), (D("300"), 1), D("550.00"), D("550.00")),  # 1 use: the second session at the fee price
        (THREE, (1, 1), (D("900"), 5), D("900.00"), D("900.00")),  # more uses than sessions
    ],
)
def test_the_estimate_of_blank_f(
    sessions: list[PlannedSession],
    units: tuple[int, int],
    package: tuple[Decimal, int] | None,
    low: Decimal,
    high: Decimal,
) -> None:
    price, uses = package if package is not None else (None, 0)
    result = abn.estimate(sessions, units, "USD", package_price=price, package_uses=uses)
    assert (result.low, result.high, result.package) == (low, high, package is not None)


@pytest.mark.parametrize(
    ("actual", "allowed"),
    [(D("100"), D("100")), (D("400"), D("100")), (D("401"), D("100.25")), (D("750"), D("187.50")), (D("0"), D("100"))],
)
def test_the_tolerance_is_100_or_25_percent_whichever_is_greater(actual: Decimal, allowed: Decimal) -> None:
    assert abn.tolerance(actual) == allowed


def usd(low: str, high: str | None = None) -> Estimate:
    return Estimate(D(low), D(high or low), "USD")


@pytest.mark.parametrize(
    ("stated", "now", "within"),
    [
        (usd("750"), usd("750"), True),
        (usd("750"), usd("937.50"), True),  # +25% of 937.50 = 234.38 allowed
        (usd("750"), usd("1000"), True),  # 250 off, 25% of 1000 is 250
        (usd("750"), usd("1000.01"), False),
        (usd("250"), usd("350"), True),  # $100
        (usd("250"), usd("350.01"), False),
        (usd("750"), usd("500"), False),  # 250 below; 25% of 500 is 125
        (usd("300", "1000"), usd("600"), True),  # inside the stated range
        (usd("300", "1000"), usd("400", "1300"), True),  # 300 above 1000; 25% of 1300 is 325
        (usd("300", "1000"), usd("400", "1400"), False),  # 400 above 1000; 25% of 1400 is 350
    ],
)
def test_an_estimate_stays_valid_within_the_tolerance(stated: Estimate, now: Estimate, within: bool) -> None:
    assert abn.within_tolerance(stated, now) is within


NOTICE = NoticeFacts(
    sessions=3, period_start=date(2026, 11, 2), period_end=date(2026, 12, 28), estimate=usd("750"), option=Option("2")
)
DAYS = (date(2026, 11, 2), date(2026, 11, 30), date(2026, 12, 28))


@pytest.mark.parametrize(
    ("notice", "plan", "expected"),
    [
        (NOTICE, PlanFacts(3, DAYS, usd("750")), ()),
        (NOTICE, PlanFacts(2, DAYS[:2], usd("500")), ("estimated cost",)),  # 250 below is beyond 25% of 500
        (NOTICE, PlanFacts(2, DAYS[:2], usd("750")), ()),  # fewer sessions, same price: within the notice
        (NOTICE, PlanFacts(4, (*DAYS, date(2027, 1, 25)), usd("1000")), ("4 sessions", "outside")),
        (NOTICE, PlanFacts(3, (*DAYS[:2], date(2027, 1, 4)), usd("750")), ("outside",)),
        (NOTICE, PlanFacts(3, DAYS, usd("1000.01")), ("estimated cost",)),
        (
            NoticeFacts(3, date(2026, 11, 2), date(2026, 12, 28), usd("750"), Option("1"), "new fracture of the femur"),
            PlanFacts(3, DAYS, usd("750")),
            ("health status",),
        ),
    ],
)
def test_when_the_abn_on_file_is_out_of_date(notice: NoticeFacts, plan: PlanFacts, expected: tuple[str, ...]) -> None:
    reasons = abn.outdated_reasons(notice, plan)
    assert len(reasons) == len(expected)
    for reason, words in zip(reasons, expected, strict=True):
        assert words in reason


@pytest.mark.parametrize(
    ("state", "count", "words"),
    [
        (GateState.NOT_REQUIRED, 0, ""),
        (GateState.CURRENT, 0, ""),
        (GateState.MISSING, 1, "Original Medicare"),
        (GateState.DECLINED, 1, "option 3"),
        (GateState.OUTDATED, 1, "out of date"),
    ],
)
def test_gate_blockers_name_the_abn(state: GateState, count: int, words: str) -> None:
    blockers = abn.gate_blockers(state, ("the plan changed",))
    assert len(blockers) == count
    for blocker in blockers:
        assert blocker.startswith(abn.ABN_BLOCKER_PREFIX) and words in blocker


@pytest.mark.parametrize(
    ("member_id", "shown"), [("1EG4-TE5-MK73", "····MK73"), ("", ""), ("  AB12  ", "····AB12"), ("XYZ", "····XYZ")]
)
def test_a_member_id_shows_only_its_last_4(member_id: str, shown: str) -> None:
    assert abn.mask_member_id(member_id) == shown


def test_blank_d_names_the_sessions_and_period() -> None:
    assert abn.describe_plan(3, date(2026, 11, 2), date(2026, 12, 28)) == (
        "Prolotherapy (HCPCS M0076): up to 3 injection sessions from November 2, 2026 to December 28, 2026"
    )
    assert "1 injection session on November 2, 2026" in abn.describe_plan(1, date(2026, 11, 2), date(2026, 11, 2))


def test_the_option_texts_are_the_forms_three() -> None:
    assert [o.value for o in abn.OPTION_TEXTS] == ["1", "2", "3"]
    assert "Medicare Summary Notice (MSN)" in abn.OPTION_TEXTS[Option.BILL_MEDICARE]
    assert "do not bill Medicare" in abn.OPTION_TEXTS[Option.DO_NOT_BILL]
    assert "I cannot appeal to see if Medicare would pay" in abn.OPTION_TEXTS[Option.DECLINE]


amounts = st.decimals(min_value=0, max_value=100_000, places=2)


@given(amounts, amounts)
def test_tolerance_property(stated: Decimal, actual: Decimal) -> None:
    """Within tolerance exactly when the actual cost is no further than $100 or 25% of it from the stated one."""
    expected = abs(actual - stated) <= max(D(100), (actual * D("0.25")).quantize(D("0.01"), ROUND_HALF_UP))
    assert abn.within_tolerance(usd(str(stated)), usd(str(actual))) is expected


@given(amounts, st.decimals(min_value=0, max_value=100, places=2))
def test_a_range_always_holds_its_own_ends(low: Decimal, extra: Decimal) -> None:
    stated = usd(str(low), str(low + extra))
    assert abn.within_tolerance(stated, stated)
