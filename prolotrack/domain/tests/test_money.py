"""Money rules (docs/BILLING.md): tables of cases with exact results, and properties over generated amounts."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain import money
from prolotrack.domain.money import Allocation, Line, MoneyError, OpenItem

D = Decimal


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (D("10.005"), "USD", D("10.01")),  # half up, not banker's rounding (10.00)
        (D("10.004"), "USD", D("10.00")),
        (D("10.015"), "USD", D("10.02")),
        (D("0.5"), "JPY", D("1")),
        (D("1.5"), "JPY", D("2")),
        (D("2.5"), "JPY", D("3")),  # ROUND_HALF_EVEN would give 2
        (D("1.0005"), "KWD", D("1.001")),
        (D("7"), "EUR", D("7.00")),
    ],
)
def test_round_money_half_up_to_the_minor_unit(amount: Decimal, currency: str, expected: Decimal) -> None:
    result = money.round_money(amount, currency)
    assert result == expected
    assert result.as_tuple().exponent == -money.MINOR_UNITS[currency]


@pytest.mark.parametrize(
    ("value", "currency", "message"),
    [
        ("-1", "USD", "cannot be negative"),
        ("10.001", "USD", r"more decimals than USD allows \(2\)"),
        ("100.5", "JPY", r"more decimals than JPY allows \(0\)"),
        ("ten", "USD", "must be a number"),
        ("NaN", "USD", "finite"),
        (1.5, "USD", "exact decimal"),
        ("1", "XXX", "not a currency code"),
    ],
)
def test_parse_amount_refuses(value: object, currency: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        money.parse_amount(value, currency)


def test_parse_amount_accepts_strings_and_pads() -> None:
    assert money.parse_amount("120", "USD") == D("120.00")
    assert str(money.parse_amount("120", "USD")) == "120.00"
    assert money.parse_amount(" 0.10 ", "EUR") == D("0.10")
    assert money.parse_currency(" usd ") == "USD"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, D("0")), ("", D("0")), ("8.875", D("8.875")), ("20", D("20.000")), ("100", D("100"))],
)
def test_tax_rate(value: object, expected: Decimal) -> None:
    assert money.parse_tax_rate(value) == expected


@pytest.mark.parametrize("value", ["-1", "100.001", "8.8755", "x"])
def test_tax_rate_refused(value: str) -> None:
    with pytest.raises(MoneyError):
        money.parse_tax_rate(value)


@pytest.mark.parametrize(
    ("line", "currency", "net", "tax"),
    [
        (Line(1, D("250.00")), "USD", D("250.00"), D("0.00")),
        (Line(3, D("19.99"), D("8.875")), "USD", D("59.97"), D("5.32")),  # 5.3223 -> 5.32
        (Line(1, D("0.10"), D("5")), "USD", D("0.10"), D("0.01")),  # 0.005 -> 0.01 (half up)
        (Line(2, D("1500"), D("10")), "JPY", D("3000"), D("300")),
        (Line(1, D("33.333"), D("0")), "KWD", D("33.333"), D("0.000")),
    ],
)
def test_line_amounts(line: Line, currency: str, net: Decimal, tax: Decimal) -> None:
    amounts = money.line_amounts(line, currency)
    assert (amounts.net, amounts.tax, amounts.gross) == (net, tax, net + tax)


def test_invoice_total_is_the_sum_of_rounded_lines() -> None:
    # Three lines of 0.10 at 5%: per line the tax is 0.01 each (0.005 rounded up), so 0.03; rounding the total
    # tax instead (0.015 -> 0.02) would print lines that do not add up.
    lines = [Line(1, D("0.10"), D("5"))] * 3
    totals = money.invoice_amounts(lines, "USD")
    assert (totals.net, totals.tax, totals.gross) == (D("0.30"), D("0.03"), D("0.33"))


def _items(*balances: str) -> list[OpenItem]:
    start = date(2026, 1, 1)
    return [OpenItem(f"i{n}", start + timedelta(days=n), n + 1, D(b)) for n, b in enumerate(balances)]


@pytest.mark.parametrize(
    ("amount", "balances", "expected", "credit"),
    [
        ("100", ["60", "60"], [("i0", "60"), ("i1", "40")], "0"),
        ("120", ["60", "60"], [("i0", "60"), ("i1", "60")], "0"),
        ("150", ["60", "60"], [("i0", "60"), ("i1", "60")], "30"),
        ("50", [], [], "50"),
        ("10", ["0", "25"], [("i1", "10")], "0"),
    ],
)
def test_allocate_oldest_first(amount: str, balances: list[str], expected: list[tuple[str, str]], credit: str) -> None:
    plan = money.allocate(D(amount), _items(*balances), "USD")
    assert [(a.key, a.amount) for a in plan.allocations] == [(k, D(v)) for k, v in expected]
    assert plan.to_credit == D(credit)


def test_allocate_oldest_first_ignores_the_order_given() -> None:
    items = list(reversed(_items("60", "60")))
    plan = money.allocate(D("60"), items, "USD")
    assert plan.allocations == (Allocation("i0", D("60")),)


def test_allocate_chosen() -> None:
    plan = money.allocate(D("100"), _items("60", "60"), "USD", chosen=[Allocation("i1", D("60"))])
    assert plan.allocations == (Allocation("i1", D("60")),)
    assert plan.to_credit == D("40")


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        ([Allocation("i1", D("61"))], "more than the 60 still owed"),
        ([Allocation("i0", D("60")), Allocation("i1", D("50"))], "more than the payment"),
        ([Allocation("nope", D("1"))], "not open"),
        ([Allocation("i0", D("1")), Allocation("i0", D("1"))], "chosen twice"),
        ([Allocation("i0", D("0"))], "more than zero"),
        ([Allocation("i0", D("-5"))], "negative"),
    ],
)
def test_allocate_chosen_refused(chosen: list[Allocation], message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        money.allocate(D("100"), _items("60", "60"), "USD", chosen=chosen)


@pytest.mark.parametrize("amount", ["0", "-10", "10.001"])
def test_allocate_refuses_a_bad_payment(amount: str) -> None:
    with pytest.raises(MoneyError):
        money.allocate(D(amount), _items("60"), "USD")


def test_release_newest_first() -> None:
    allocations = [Allocation("p1", D("30")), Allocation("p2", D("50"))]
    assert money.release(allocations, D("60")) == (Allocation("p2", D("50")), Allocation("p1", D("10")))
    with pytest.raises(MoneyError, match="only 80"):
        money.release(allocations, D("81"))


@pytest.mark.parametrize(
    ("amount", "paid", "refunded", "allocated", "ok"),
    [
        ("50", "100", "0", "50", True),
        ("50.01", "100", "0", "50", False),
        ("100", "100", "0", "0", True),
        ("1", "100", "100", "0", False),
        ("20", "100", "30", "50", True),
        ("20.01", "100", "30", "50", False),
    ],
)
def test_refund_limits(amount: str, paid: str, refunded: str, allocated: str, ok: bool) -> None:
    if ok:
        assert money.check_refund(amount, D(paid), D(refunded), D(allocated), "USD") == D(amount)
    else:
        with pytest.raises(MoneyError, match="At most"):
            money.check_refund(amount, D(paid), D(refunded), D(allocated), "USD")


def test_credit_limit_and_tax() -> None:
    assert money.check_credit("40", D("100"), D("60"), "USD") == D("40.00")
    with pytest.raises(MoneyError, match=r"At most 40\.00"):
        money.check_credit("40.01", D("100.00"), D("60.00"), "USD")
    with pytest.raises(MoneyError, match="more than zero"):
        money.check_credit("0", D("100.00"), D("60.00"), "USD")
    # A void credits all the invoice still asks: zero for an invoice that charged nothing (a package use).
    assert money.check_credit("0", D("0.00"), D("0.00"), "USD", whole=True) == D("0.00")
    with pytest.raises(MoneyError, match=r"At most 0\.00"):
        money.check_credit("0.01", D("0.00"), D("0.00"), "USD", whole=True)
    invoice = money.Amounts(net=D("100.00"), tax=D("8.88"))
    assert money.credit_tax(D("108.88"), invoice, "USD") == D("8.88")
    assert money.credit_tax(D("54.44"), invoice, "USD") == D("4.44")


@pytest.mark.parametrize(
    ("rule", "sites", "expected"),
    [
        ("per_session", [("knee", "right")] * 8, [("", 1)]),
        ("per_injection", [("knee", "right")] * 8, [("8 injections", 8)]),
        ("per_injection", [("knee", "right")], [("1 injection", 1)]),
        (
            "per_region",
            [("knee", "right"), ("knee", "left"), ("knee", "right")],
            [("knee, right", 1), ("knee, left", 1)],
        ),
        ("per_region", [("lumbar", "")], [("lumbar", 1)]),
    ],
)
def test_procedure_lines(rule: str, sites: list[tuple[str, str]], expected: list[tuple[str, int]]) -> None:
    assert [(p.label, p.quantity) for p in money.procedure_lines(rule, sites)] == expected


def test_procedure_lines_refused() -> None:
    with pytest.raises(MoneyError, match="Unknown fee rule"):
        money.procedure_lines("per_minute", [("knee", "right")])
    with pytest.raises(MoneyError, match="no injection site"):
        money.procedure_lines("per_region", [])


def test_format_money() -> None:
    assert money.format_money(D("1234.5"), "USD") == "1,234.50 USD"
    assert money.format_money(D("1500"), "JPY") == "1,500 JPY"


# --- Properties --------------------------------------------------------------------------------------------------

currencies = st.sampled_from(sorted(money.MINOR_UNITS))


@st.composite
def amounts(draw: st.DrawFn, currency: str, low: int = 0, high: int = 10**7) -> Decimal:
    units = draw(st.integers(min_value=low, max_value=high))
    return Decimal(units).scaleb(-money.MINOR_UNITS[currency])


@st.composite
def payment_case(draw: st.DrawFn) -> tuple[str, Decimal, list[OpenItem]]:
    currency = draw(currencies)
    payment = draw(amounts(currency, low=1))
    balances = draw(st.lists(amounts(currency), max_size=8))
    days = draw(st.lists(st.integers(0, 400), min_size=len(balances), max_size=len(balances)))
    start = date(2026, 1, 1)
    items = [
        OpenItem(f"i{n}", start + timedelta(days=d), n + 1, b)
        for n, (b, d) in enumerate(zip(balances, days, strict=True))
    ]
    return currency, payment, items


@given(payment_case())
def test_allocation_is_exact_and_never_exceeds_a_balance(case: tuple[str, Decimal, list[OpenItem]]) -> None:
    currency, payment, items = case
    plan = money.allocate(payment, items, currency)
    balances = {i.key: i.balance for i in items}
    assert sum((a.amount for a in plan.allocations), Decimal(0)) + plan.to_credit == payment
    assert plan.to_credit >= 0
    assert all(0 < a.amount <= balances[a.key] for a in plan.allocations)
    assert len({a.key for a in plan.allocations}) == len(plan.allocations)
    # Oldest first: an invoice is paid only when every older invoice is paid in full.
    order = sorted(items, key=lambda i: (i.issued_on, i.number, i.key))
    paid = {a.key: a.amount for a in plan.allocations}
    for n, item in enumerate(order):
        if paid.get(item.key):
            assert all(paid.get(older.key, 0) == older.balance for older in order[:n])
    # Credit only when every invoice is paid.
    if plan.to_credit:
        assert all(paid.get(i.key, 0) == i.balance for i in items)


@given(
    currencies.flatmap(
        lambda c: st.tuples(
            st.just(c),
            st.lists(st.tuples(st.integers(1, 50), amounts(c, high=10**6), st.integers(0, 25000)), max_size=10),
        )
    )
)
def test_totals_are_exact_sums_of_rounded_lines(case: tuple[str, list[tuple[int, Decimal, int]]]) -> None:
    currency, raw = case
    lines = [Line(q, price, Decimal(rate).scaleb(-3)) for q, price, rate in raw]
    totals = money.invoice_amounts(lines, currency)
    parts = [money.line_amounts(line, currency) for line in lines]
    assert totals.net == sum((p.net for p in parts), Decimal(0))
    assert totals.gross == sum((p.gross for p in parts), Decimal(0))
    step = money.quantum(currency)
    for line, part in zip(lines, parts, strict=True):
        assert part.net == line.unit_price * line.quantity  # prices are already in minor units
        assert abs(part.tax - part.net * line.tax_rate / 100) <= step / 2
        assert part.tax == part.tax.quantize(step)


@given(
    currencies.flatmap(lambda c: st.tuples(st.just(c), st.lists(amounts(c, low=1), max_size=6), st.integers(0, 100)))
)
def test_release_never_takes_more_than_was_allocated(case: tuple[str, list[Decimal], int]) -> None:
    currency, parts, percent = case
    allocations = [Allocation(f"p{n}", a) for n, a in enumerate(parts)]
    paid = sum(parts, Decimal(0))
    excess = money.round_money(paid * percent / 100, currency)
    released = money.release(allocations, excess)
    assert sum((r.amount for r in released), Decimal(0)) == excess
    given_ = {a.key: a.amount for a in allocations}
    assert all(0 < r.amount <= given_[r.key] for r in released)


@given(currencies.flatmap(lambda c: st.tuples(st.just(c), amounts(c), amounts(c), amounts(c), amounts(c, low=1))))
def test_a_refund_never_exceeds_what_was_paid(case: tuple[str, Decimal, Decimal, Decimal, Decimal]) -> None:
    currency, paid, refunded, allocated, asked = case
    try:
        value = money.check_refund(asked, paid, refunded, allocated, currency)
    except MoneyError:
        assert asked > money.refund_limit(paid, refunded, allocated)
    else:
        assert value + refunded + allocated <= paid
