"""Report rules (docs/BILLING.md, "Reports"): ageing edges, the report's range, takings by day, method and clinician."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain import ledger
from prolotrack.domain.errors import InputError
from prolotrack.domain.ledger import ClinicianShare, Movement, OpenBalance

D = Decimal
AS_OF = date(2026, 12, 31)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "0-30"),  # issued today
        (1, "0-30"),
        (30, "0-30"),  # the edge as written: 30 days is still 0-30
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),  # "90+" starts the day after 90
        (365, "90+"),
        (4000, "90+"),
    ],
)
def test_ageing_bucket_edges_as_written(days: int, bucket: str) -> None:
    assert ledger.ageing_bucket(AS_OF - timedelta(days=days), AS_OF) == bucket


def test_ageing_counts_calendar_days_across_a_leap_day() -> None:
    # 2028-02-29 exists: 2028-01-30 to 2028-03-01 is 31 days.
    assert ledger.days_outstanding(date(2028, 1, 30), date(2028, 3, 1)) == 31
    assert ledger.ageing_bucket(date(2028, 1, 30), date(2028, 3, 1)) == "31-60"


def test_an_invoice_issued_after_the_as_of_day_has_no_age() -> None:
    with pytest.raises(InputError, match="not yet issued"):
        ledger.ageing_bucket(AS_OF + timedelta(days=1), AS_OF)


@given(st.integers(min_value=0, max_value=5000))
def test_every_age_falls_in_exactly_one_bucket(days: int) -> None:
    hits = [label for label, first, last in ledger.AGEING_BUCKETS if days >= first and (last is None or days <= last)]
    assert len(hits) == 1
    assert ledger.ageing_bucket(AS_OF - timedelta(days=days), AS_OF) == hits[0]


def _bal(key: str, days: int, total: str, credited: str = "0", paid: str = "0") -> OpenBalance:
    return OpenBalance(key, f"Patient {key}", AS_OF - timedelta(days=days), D(total), D(credited), D(paid))


def test_ageing_groups_by_patient_and_leaves_settled_and_overpaid_invoices_out() -> None:
    result = ledger.ageing(
        [
            _bal("a", 10, "100.00", paid="40.00"),  # 60 owed, 0-30
            _bal("a", 45, "250.00"),  # 250 owed, 31-60
            _bal("b", 95, "90.00", credited="90.00"),  # voided: nothing owed
            _bal("b", 91, "180.00", paid="200.00"),  # overpaid: not negative owing
            _bal("c", 61, "45.00", credited="5.00", paid="10.00"),  # 30 owed, 61-90
        ],
        AS_OF,
        credits=[("b", "Patient b", D("20.00")), ("c", "Patient c", D("0"))],
    )
    assert [(r.patient_key, r.owed, r.invoices, r.credit) for r in result.rows] == [
        ("a", D("310.00"), 2, D(0)),
        ("c", D("30.00"), 1, D(0)),
        ("b", D(0), 0, D("20.00")),  # listed for its credit only
    ]
    assert result.totals == {"0-30": D("60.00"), "31-60": D("250.00"), "61-90": D("30.00"), "90+": D(0)}
    assert result.owed == D("340.00")
    assert result.credit == D("20.00")


@pytest.mark.parametrize(
    ("start", "end", "today", "expected"),
    [
        ("", "", date(2026, 12, 7), (date(2026, 12, 1), date(2026, 12, 7))),  # default: this month so far
        ("", "", date(2026, 12, 1), (date(2026, 12, 1), date(2026, 12, 1))),  # the 1st: one day
        ("2026-01-01", "2026-12-31", date(2026, 12, 7), (date(2026, 1, 1), date(2026, 12, 31))),  # 365 days
        ("2028-01-01", "2028-12-31", date(2028, 12, 7), (date(2028, 1, 1), date(2028, 12, 31))),  # 366: leap year
        ("2026-11-05", "2026-11-05", date(2026, 12, 7), (date(2026, 11, 5), date(2026, 11, 5))),
        (" 2026-11-05 ", "", date(2026, 12, 7), (date(2026, 11, 5), date(2026, 12, 7))),
    ],
)
def test_report_range(start: str, end: str, today: date, expected: tuple[date, date]) -> None:
    assert ledger.report_range(start, end, today) == expected


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-12-05", "2026-12-04", "To \\(2026-12-04\\) is before From"),
        ("2025-01-01", "2026-01-02", "367 days; a report covers at most 366"),
        ("yesterday", "", "From: 'yesterday' is not a date. Write it as YYYY-MM-DD"),
        ("2026-02-30", "", "From: '2026-02-30' is not a date"),
        ("", "12/31/2026", "To: '12/31/2026' is not a date"),
    ],
)
def test_report_range_refusals_name_the_field(start: str, end: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ledger.report_range(start, end, date(2026, 12, 7))


def test_takings_by_day_and_method_nets_refunds_on_their_own_day() -> None:
    first, last = date(2026, 12, 1), date(2026, 12, 3)
    result = ledger.takings(
        [
            Movement(date(2026, 12, 1), "card", D("100.00")),
            Movement(date(2026, 12, 1), "cash", D("50.00")),  # a split payment: two rows
            Movement(date(2026, 12, 1), "card", D("20.00")),
            Movement(date(2026, 12, 3), "cheque", D("80.00")),
        ],
        [Movement(date(2026, 12, 3), "card", D("30.00"))],
        first,
        last,
        ["cash", "card", "cheque", "transfer", "other"],
    )
    assert result.days == [date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)]  # the empty day listed
    assert result.cells[(date(2026, 12, 1), "card")] == D("120.00")
    assert result.cells[(date(2026, 12, 3), "card")] == D("-30.00")  # more given back than taken that day
    assert result.day_total(date(2026, 12, 2)) == D(0)
    assert result.day_total(date(2026, 12, 3)) == D("50.00")
    assert result.method_total("card") == D("90.00")
    assert (result.received, result.refunded, result.net) == (D("250.00"), D("30.00"), D("220.00"))
    assert sum((result.day_total(d) for d in result.days), D(0)) == result.net
    assert result.moved == {
        (date(2026, 12, 1), "cash"): (D("50.00"), D(0)),
        (date(2026, 12, 1), "card"): (D("120.00"), D(0)),
        (date(2026, 12, 3), "card"): (D(0), D("30.00")),
        (date(2026, 12, 3), "cheque"): (D("80.00"), D(0)),
    }
    assert list(result.moved) == sorted(result.moved, key=lambda k: (k[0], ["cash", "card", "cheque"].index(k[1])))


def test_takings_refuse_a_row_outside_the_range() -> None:
    with pytest.raises(ValueError, match="outside"):
        ledger.takings([Movement(date(2026, 11, 30), "cash", D(1))], [], date(2026, 12, 1), date(2026, 12, 2), [])


@pytest.mark.parametrize(
    ("received", "refunded", "allocated", "expected"),
    [
        # Everything paid invoices of two clinicians.
        ("300", "0", [("x", "Dr X", "200"), ("y", "Dr Y", "100")],
         [("x", "200"), ("y", "100")]),
        # Part stays as account credit.
        ("300", "0", [("x", "Dr X", "250")], [("x", "250"), ("", "50")]),
        # A credit note released 100 of X's allocation back to credit, which was then refunded.
        ("300", "100", [("x", "Dr X", "300"), ("x", "Dr X", "-100")], [("x", "200")]),
        # A refund in the range of an older payment: account credit goes negative, the total still adds up.
        ("0", "40", [], [("", "-40")]),
        # Nothing at all: one zero row, so the table is not empty.
        ("0", "0", [], [("", "0")]),
        # An invoice not from a session has no clinician: its own row.
        ("90", "0", [("none", ledger.NO_CLINICIAN, "90")], [("none", "90")]),
    ],
)  # fmt: skip
def test_takings_by_clinician(
    received: str, refunded: str, allocated: list[tuple[str, str, str]], expected: list[tuple[str, str]]
) -> None:
    rows = ledger.takings_by_clinician(D(received), D(refunded), [ClinicianShare(k, n, D(a)) for k, n, a in allocated])
    assert [(r.key, r.amount) for r in rows] == [(k, D(a)) for k, a in expected]
    assert sum((r.amount for r in rows), D(0)) == D(received) - D(refunded)


@given(
    st.lists(st.decimals(min_value=0, max_value=10_000, places=2), max_size=6),
    st.decimals(min_value=0, max_value=10_000, places=2),
)
def test_clinician_rows_always_add_up_to_net_takings(shares: list[Decimal], refunded: Decimal) -> None:
    received = sum(shares, D(0)) + D("12.34")
    rows = ledger.takings_by_clinician(
        received, refunded, [ClinicianShare(str(n % 3), f"C{n % 3}", s) for n, s in enumerate(shares)]
    )
    assert sum((r.amount for r in rows), D(0)) == received - refunded


def test_issued_counts_and_sums() -> None:
    result = ledger.issued([(D("100.00"), D("0")), (D("41.57"), D("3.43"))])
    assert (result.count, result.net, result.tax, result.total) == (2, D("141.57"), D("3.43"), D("145.00"))
    assert ledger.issued([]).count == 0
