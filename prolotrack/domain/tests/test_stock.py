"""domain/stock.py: no stock past its expiry on the session date, and which stocks a recall names."""

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prolotrack.domain.agents import Agent
from prolotrack.domain.mixing import Diluent
from prolotrack.domain.stock import (
    PRODUCT_LABELS,
    ExpiredStockError,
    RecallBy,
    RecallQuestion,
    Stock,
    StockError,
    check_in_date,
    expired_problem,
    normalise_lot,
    parse_expiry,
    recalled,
)

DAY = date(2026, 11, 2)


@pytest.mark.parametrize(
    ("expiry", "refused"),
    [
        (None, False),  # not written down: nothing to check (the form asks for it, the record keeps it empty)
        (DAY + timedelta(days=365), False),
        (DAY + timedelta(days=1), False),
        (DAY, False),  # usable through its expiry date (21 CFR 211.137)
        (DAY - timedelta(days=1), True),
        (date(2020, 1, 31), True),
    ],
)
def test_a_stock_is_refused_only_when_it_expired_before_the_session_date(expiry, refused):
    problem = expired_problem(Stock("dextrose", "D50-1", expiry), DAY)
    assert (problem is not None) is refused
    if refused:
        assert "Dextrose lot D50-1 expired on" in problem and expiry.isoformat() in problem
        assert "do not use it" in problem


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dates(), st.dates())
def test_the_rule_is_exactly_expiry_before_the_session_day(expiry, day):
    assert (expired_problem(Stock("lidocaine", "L", expiry), day) is not None) is (expiry < day)


def test_check_in_date_names_the_first_expired_stock():
    stocks = [
        Stock("dextrose", "D1", DAY),
        Stock("lidocaine", "", DAY - timedelta(days=3)),
        Stock("phenol", "P", DAY - timedelta(days=9)),
    ]
    with pytest.raises(ExpiredStockError) as raised:
        check_in_date(stocks, DAY)
    assert (raised.value.index, raised.value.product) == (1, "lidocaine")
    assert "Lidocaine lot (no lot given) expired" in str(raised.value)
    check_in_date(stocks[:1], DAY)  # in date: nothing raised


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        (DAY, DAY),
        ("2027-06-30", date(2027, 6, 30)),
        (" 2027-06-30 ", date(2027, 6, 30)),
    ],
)
def test_parse_expiry(value, expected):
    assert parse_expiry(value) == expected


@pytest.mark.parametrize("value", ["06/2027", "2027-02-30", "soon", 20270630])
def test_parse_expiry_refuses_what_is_not_a_date(value):
    with pytest.raises(StockError, match="YYYY-MM-DD"):
        parse_expiry(value)


def test_every_agent_and_diluent_is_a_product():
    assert set(PRODUCT_LABELS) == {a.value for a in Agent} | {d.value for d in Diluent}
    assert PRODUCT_LABELS["sodium_morrhuate"] == "Sodium morrhuate"
    assert PRODUCT_LABELS["0.9% sodium chloride"] == "Sodium chloride 0.9% (saline)"


@pytest.mark.parametrize(("a", "b"), [("D50-1", "d50-1"), (" D50-1 ", "D50-1"), ("AB  12", "ab 12")])
def test_lots_compare_without_case_or_surrounding_spaces(a, b):
    assert normalise_lot(a) == normalise_lot(b)


JUN = date(2027, 6, 30)


@pytest.mark.parametrize(
    ("question", "stock", "named"),
    [
        (RecallQuestion("dextrose", lot="D50-1"), Stock("dextrose", "d50-1 ", JUN), True),
        (RecallQuestion("dextrose", lot="D50-1"), Stock("dextrose", "D50-12", JUN), False),
        (RecallQuestion("dextrose", lot="D50-1"), Stock("lidocaine", "D50-1", JUN), False),
        (RecallQuestion("dextrose", lot="D50-1"), Stock("dextrose", "", JUN), False),
        (RecallQuestion("dextrose", expires_from=JUN, expires_to=JUN), Stock("dextrose", "X", JUN), True),
        (RecallQuestion("dextrose", expires_from=JUN), Stock("dextrose", "X", JUN + timedelta(days=1)), True),
        (RecallQuestion("dextrose", expires_from=JUN), Stock("dextrose", "X", JUN - timedelta(days=1)), False),
        (RecallQuestion("dextrose", expires_to=JUN), Stock("dextrose", "X", JUN - timedelta(days=400)), True),
        (RecallQuestion("dextrose", expires_to=JUN), Stock("dextrose", "X", JUN + timedelta(days=1)), False),
        (RecallQuestion("dextrose", expires_to=JUN), Stock("dextrose", "X", None), False),
        (RecallQuestion("dextrose", lot="X", expires_to=JUN), Stock("dextrose", "X", JUN), True),
        (RecallQuestion("dextrose", lot="X", expires_to=JUN), Stock("dextrose", "X", JUN + timedelta(1)), False),
        (RecallQuestion("0.9% sodium chloride", lot="NS-5"), Stock("0.9% sodium chloride", "ns-5"), True),
    ],
)
def test_which_stocks_a_recall_names(question, stock, named):
    assert question.matches(stock) is named
    assert recalled(question, [stock, Stock("glycerin", "other")]) == ([stock] if named else [])


@pytest.mark.parametrize(
    ("question", "problems"),
    [
        (RecallQuestion("dextrose", lot="D1"), set()),
        (RecallQuestion("dextrose", expires_to=JUN), set()),
        (RecallQuestion("aspirin", lot="D1"), {"product"}),
        (RecallQuestion("dextrose", lot="  "), {"lot"}),
        (RecallQuestion("dextrose", expires_from=JUN, expires_to=JUN - timedelta(days=1)), {"expires_to"}),
    ],
)
def test_a_recall_question_says_what_to_fix(question, problems):
    assert set(question.problems()) == problems


def test_a_question_with_a_lot_is_by_lot():
    assert RecallQuestion("dextrose", lot="D1").by is RecallBy.LOT
    assert RecallQuestion("dextrose", expires_to=JUN).by is RecallBy.EXPIRY
