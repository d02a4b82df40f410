"""Course package rules (docs/BILLING.md, "Course packages"): tables of cases, and properties over generated prices,
uses and draws in every offered currency."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain import money, packages
from prolotrack.domain.packages import PackageError, PackageState

D = Decimal


@pytest.mark.parametrize(
    ("uses", "drawn", "left"),
    [(6, 0, 6), (6, 2, 4), (6, 6, 0), (6, 7, 0), (1, 0, 1), (3, -1, 3)],
)
def test_remaining_uses_are_never_negative(uses: int, drawn: int, left: int) -> None:
    assert packages.remaining(uses, drawn) == left


@pytest.mark.parametrize(
    ("start", "days", "last"),
    [
        (date(2026, 1, 1), 365, date(2026, 12, 31)),
        (date(2026, 1, 1), 1, date(2026, 1, 1)),
        (date(2024, 2, 1), 29, date(2024, 2, 29)),  # leap year
        (date(2026, 11, 2), 180, date(2027, 4, 30)),
    ],
)
def test_valid_to_includes_both_ends(start: date, days: int, last: date) -> None:
    assert packages.valid_to(start, days) == last


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "from 1 to 50, not 0"),
        ("-3", "from 1 to 50, not -3"),
        ("51", "from 1 to 50, not 51"),
        ("two", "not 'two'"),
        (2.0, "whole number"),
        (True, "whole number"),
    ],
)
def test_bad_uses_are_refused(value: object, message: str) -> None:
    with pytest.raises(PackageError, match=message):
        packages.parse_uses(value)


@pytest.mark.parametrize("value", ["0", "1097", "x", -1])
def test_bad_validity_is_refused(value: object) -> None:
    with pytest.raises(PackageError, match="validity in days"):
        packages.parse_validity_days(value)


STATE = PackageState(name="Knee course of 3", uses=3, drawn=1, valid_from=date(2026, 11, 2), valid_to=date(2027, 5, 1))


@pytest.mark.parametrize(
    ("drawn", "day", "refusal"),
    [
        (1, date(2026, 11, 2), None),  # first day
        (1, date(2027, 5, 1), None),  # last day
        (2, date(2026, 12, 1), None),  # the last use
        (3, date(2026, 12, 1), "has no use left (3 of 3 used). This session is charged at the normal price."),
        (1, date(2027, 5, 2), "expired on 2027-05-01; the session is on 2027-05-02. This session is charged"),
        (1, date(2026, 11, 1), "is valid from 2026-11-02; the session is on 2026-11-01. This session is charged"),
    ],
)
def test_draw_refusals(drawn: int, day: date, refusal: str | None) -> None:
    state = PackageState(STATE.name, STATE.uses, drawn, STATE.valid_from, STATE.valid_to)
    result = packages.draw_refusal(state, day)
    if refusal is None:
        assert result is None
    else:
        assert result is not None and refusal in result and "Knee course of 3" in result


@pytest.mark.parametrize(
    ("rule", "price", "uses", "drawn", "currency", "refund"),
    [
        ("pro_rata", D("600.00"), 3, 1, "USD", D("400.00")),
        ("pro_rata", D("600.00"), 3, 0, "USD", D("600.00")),  # nothing used: the whole price
        ("pro_rata", D("600.00"), 3, 3, "USD", D("0.00")),
        ("pro_rata", D("100.00"), 3, 1, "USD", D("66.67")),  # 66.666... half up
        ("pro_rata", D("100.00"), 3, 2, "USD", D("33.33")),
        ("pro_rata", D("100.00"), 6, 1, "USD", D("83.33")),  # 83.333...
        ("pro_rata", D("0.05"), 2, 1, "USD", D("0.03")),  # 0.025 -> 0.03 (half up, not half even)
        ("pro_rata", D("1000"), 3, 1, "JPY", D("667")),
        ("pro_rata", D("10.000"), 3, 2, "KWD", D("3.333")),
        ("none", D("600.00"), 3, 1, "USD", D("0")),
    ],
)
def test_refund_amounts(rule: str, price: Decimal, uses: int, drawn: int, currency: str, refund: Decimal) -> None:
    assert packages.refund_amount(rule, price, uses, drawn, currency) == refund


def test_unknown_rule_and_impossible_packages_are_refused() -> None:
    with pytest.raises(PackageError, match="choose one of pro_rata, none"):
        packages.refund_amount("half", D(100), 3, 1, "USD")
    with pytest.raises(PackageError, match="at least one use"):
        packages.share(D(100), 0, 0, "USD")
    with pytest.raises(PackageError, match="cannot be negative"):
        packages.share(D(-1), 3, 1, "USD")


def test_the_default_rule_is_one_of_the_rules() -> None:
    assert packages.DEFAULT_REFUND_RULE in packages.REFUND_RULES


currencies = st.sampled_from(sorted(money.MINOR_UNITS))


@st.composite
def priced(draw: st.DrawFn) -> tuple[Decimal, str, int, int]:
    currency = draw(currencies)
    places = money.MINOR_UNITS[currency]
    price = Decimal(draw(st.integers(min_value=0, max_value=10**9))).scaleb(-places)
    uses = draw(st.integers(min_value=1, max_value=packages.MAX_USES))
    drawn = draw(st.integers(min_value=-2, max_value=packages.MAX_USES + 5))
    return price, currency, uses, drawn


@given(priced())
def test_a_refund_never_exceeds_the_price_and_is_to_the_minor_unit(case: tuple[Decimal, str, int, int]) -> None:
    price, currency, uses, drawn = case
    refund = packages.refund_amount("pro_rata", price, uses, drawn, currency)
    assert D(0) <= refund <= price
    assert refund == money.round_money(refund, currency)
    assert packages.refund_amount("none", price, uses, drawn, currency) == 0


@given(priced())
def test_the_share_of_all_uses_is_the_whole_price_and_none_is_zero(case: tuple[Decimal, str, int, int]) -> None:
    price, currency, uses, _drawn = case
    assert packages.share(price, uses, uses, currency) == price
    assert packages.refund_amount("pro_rata", price, uses, 0, currency) == price
    assert packages.share(price, uses, 0, currency) == 0


@given(priced())
def test_uses_left_are_never_negative_and_never_more_than_sold(case: tuple[Decimal, str, int, int]) -> None:
    _price, _currency, uses, drawn = case
    assert 0 <= packages.remaining(uses, drawn) <= uses


@given(priced())
def test_the_refund_grows_with_the_uses_left(case: tuple[Decimal, str, int, int]) -> None:
    price, currency, uses, drawn = case
    more_used = packages.refund_amount("pro_rata", price, uses, drawn + 1, currency)
    assert more_used <= packages.refund_amount("pro_rata", price, uses, drawn, currency)


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
    st.integers(min_value=1, max_value=packages.MAX_VALIDITY_DAYS),
    st.integers(min_value=-5, max_value=packages.MAX_VALIDITY_DAYS + 5),
)
def test_a_draw_is_refused_exactly_outside_the_validity(start: date, days: int, offset: int) -> None:
    state = PackageState("P", 3, 0, start, packages.valid_to(start, days))
    day = start + timedelta(days=offset)
    assert (packages.draw_refusal(state, day) is None) == (0 <= offset < days)
