"""The practice's financial reports as pure rules: the report's date range, takings (payments less refunds) by day
and method and by clinician, and the ageing of what is still owed (docs/BILLING.md, "Reports").

Pure: no Django, no clock, no floats. Every amount is a `Decimal` of the clinic's currency; dates are the clinic's
local dates (a payment's received day, a refund's day, an invoice's issue day are all stored as the clinic's date).

- **Ageing**: an open balance is aged by the days from its invoice's issue date (invoices carry no due date: they
  are due on issue) to the report's "as of" date, in the buckets 0-30, 31-60, 61-90 and 90+ days, edges inclusive as
  written: day 30 is "0-30", day 31 "31-60", day 90 "61-90", day 91 the first day of "90+".
- **Takings** are money received less money given back: a payment counts on the clinic-local day it was received,
  a refund on the clinic-local day it was made, each under its own method (a refund goes back to its payment's
  method, so a method's figure is what that till or terminal should hold).
- **By clinician**: a payment belongs to the rendering clinician of the invoice(s) it pays (its allocations, a
  release by a credit note counted negative); what pays no invoice is "account credit". A refund only ever comes
  from account credit (domain/money.py `refund_limit`), so refunds are taken from that row. The rows add up to the
  day-by-method total exactly.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from prolotrack.domain.errors import InputError

ZERO = Decimal(0)

# (label, first day, last day or None): inclusive edges, exactly as the issue and accountants write them.
AGEING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)
BUCKET_LABELS: tuple[str, ...] = tuple(label for label, _first, _last in AGEING_BUCKETS)

# The longest range one report covers: a year (366 days, so a leap year's whole year fits). Longer ranges are
# refused, not cut, so nobody reads a partial year as a whole one; run one report a year instead.
MAX_RANGE_DAYS = 366

ACCOUNT_CREDIT = "Account credit (pays no invoice yet)"
NO_CLINICIAN = "No clinician (invoice not from a session)"


# --- The report's dates -------------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def parse_day(text: object, field_name: str) -> date:
    """A date written as YYYY-MM-DD, or an InputError naming the field and the form expected."""
    value = str(text or "").strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{field_name}: {value!r} is not a date. Write it as YYYY-MM-DD, for example 2026-12-01."
        ) from None


def report_range(start: object, end: object, today: date) -> tuple[date, date]:
    """The report's first and last day (both included). Empty values default to this month so far (the 1st of the
    clinic's current month to its today). Refuses garbage, an end before the start, and more than a year."""
    first = parse_day(start, "From") if str(start or "").strip() else month_start(today)
    last = parse_day(end, "To") if str(end or "").strip() else today
    if last < first:
        raise InputError(
            f"To ({last.isoformat()}) is before From ({first.isoformat()}): choose a last day on or after the first."
        )
    days = (last - first).days + 1
    if days > MAX_RANGE_DAYS:
        raise InputError(
            f"The range is {days} days; a report covers at most {MAX_RANGE_DAYS} days (a year). "
            "Choose a shorter range, or run one report per year."
        )
    return first, last


def as_of_day(text: object, default: date) -> date:
    """The ageing's "as of" date (default: the report's last day)."""
    return parse_day(text, "As of") if str(text or "").strip() else default


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- Ageing --------------------------------------------------------------------------------------------------------


def days_outstanding(issued_on: date, as_of: date) -> int:
    """Whole days from the issue date to the "as of" date (0 on the day of issue)."""
    days = (as_of - issued_on).days
    if days < 0:
        raise InputError(
            f"An invoice issued on {issued_on.isoformat()} is not yet issued on {as_of.isoformat()}: it has no age."
        )
    return days


def ageing_bucket(issued_on: date, as_of: date) -> str:
    """The bucket label of a balance from an invoice issued on `issued_on`, seen on `as_of`."""
    days = days_outstanding(issued_on, as_of)
    for label, first, last in AGEING_BUCKETS:
        if days >= first and (last is None or days <= last):
            return label
    raise AssertionError("the buckets cover every day from 0")  # pragma: no cover


@dataclass(frozen=True)
class OpenBalance:
    """What one issued invoice still asks on the "as of" date: total less credit notes less payments, all as the
    books stood at the close of that day."""

    patient_key: str
    patient_label: str
    issued_on: date
    total: Decimal
    credited: Decimal
    paid: Decimal

    @property
    def owed(self) -> Decimal:
        return self.total - self.credited - self.paid


@dataclass
class AgeingRow:
    patient_key: str
    patient_label: str
    buckets: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BUCKET_LABELS, ZERO))
    invoices: int = 0
    credit: Decimal = ZERO

    @property
    def owed(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)


@dataclass
class Ageing:
    as_of: date
    rows: list[AgeingRow]
    totals: dict[str, Decimal]
    credit: Decimal

    @property
    def owed(self) -> Decimal:
        return sum(self.totals.values(), ZERO)


def ageing(balances: Iterable[OpenBalance], as_of: date, credits: Iterable[tuple[str, str, Decimal]] = ()) -> Ageing:
    """Each patient's open balances by bucket (only invoices still owing something: a fully paid or credited invoice
    is left out, an overpaid one is not negative owing, its excess is account credit), patients by most owed, then
    name; `credits` is each patient's account credit held on the day (shown beside, never netted against the owed)."""
    rows: dict[str, AgeingRow] = {}
    for balance in balances:
        if balance.issued_on > as_of or balance.owed <= 0:
            continue
        row = rows.setdefault(balance.patient_key, AgeingRow(balance.patient_key, balance.patient_label))
        row.buckets[ageing_bucket(balance.issued_on, as_of)] += balance.owed
        row.invoices += 1
    credit_total = ZERO
    for key, label, amount in credits:
        if amount <= 0:
            continue
        credit_total += amount
        row = rows.setdefault(key, AgeingRow(key, label))
        row.credit += amount
    ordered = sorted(rows.values(), key=lambda r: (-r.owed, r.patient_label, r.patient_key))
    totals = {label: sum((r.buckets[label] for r in ordered), ZERO) for label in BUCKET_LABELS}
    return Ageing(as_of=as_of, rows=ordered, totals=totals, credit=credit_total)


# --- Takings ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """Money in (a payment) or out (a refund) on a clinic-local day, by method."""

    day: date
    method: str
    amount: Decimal


@dataclass
class Takings:
    """Net takings (received less refunded) per day and method, every day of the range listed (a day without money
    shows zeros, so a missing day is not mistaken for a missing report)."""

    days: list[date]
    methods: list[str]
    cells: dict[tuple[date, str], Decimal]
    received: Decimal
    refunded: Decimal
    # (day, method) -> (received, refunded), only where money moved: the accountant's rows.
    moved: dict[tuple[date, str], tuple[Decimal, Decimal]] = field(default_factory=dict)

    @property
    def net(self) -> Decimal:
        return self.received - self.refunded

    def day_total(self, day: date) -> Decimal:
        return sum((self.cells[(day, m)] for m in self.methods), ZERO)

    def method_total(self, method: str) -> Decimal:
        return sum((self.cells[(d, method)] for d in self.days), ZERO)


def takings(
    payments: Iterable[Movement], refunds: Iterable[Movement], first: date, last: date, methods: Iterable[str]
) -> Takings:
    """Takings of [first, last] by day and method. `methods` is the order of the columns (every method offered);
    a movement outside the range is refused (the caller selected the wrong rows)."""
    columns = list(methods)
    days = days_between(first, last)
    cells = {(day, method): ZERO for day in days for method in columns}
    received = refunded = ZERO
    moved: dict[tuple[date, str], tuple[Decimal, Decimal]] = {}
    for sign, rows in ((1, payments), (-1, refunds)):
        for row in rows:
            if not first <= row.day <= last:
                raise ValueError(f"{row.day} is outside the report's range {first} to {last}")
            if row.method not in columns:
                columns.append(row.method)
                cells.update({(day, row.method): ZERO for day in days})
            cells[(row.day, row.method)] += sign * row.amount
            got, back = moved.get((row.day, row.method), (ZERO, ZERO))
            if sign > 0:
                received += row.amount
                moved[(row.day, row.method)] = (got + row.amount, back)
            else:
                refunded += row.amount
                moved[(row.day, row.method)] = (got, back + row.amount)
    ordered = dict(sorted(moved.items(), key=lambda item: (item[0][0], columns.index(item[0][1]))))
    return Takings(days=days, methods=columns, cells=cells, received=received, refunded=refunded, moved=ordered)


@dataclass(frozen=True)
class ClinicianShare:
    key: str
    label: str
    amount: Decimal


def takings_by_clinician(
    received: Decimal, refunded: Decimal, allocated: Iterable[ClinicianShare]
) -> list[ClinicianShare]:
    """The range's net takings split by the rendering clinician of the invoices the range's payments pay
    (`allocated`: net of releases, per clinician), the rest as account credit less the range's refunds. Clinicians
    by amount, largest first; account credit last. Sums exactly to received - refunded."""
    merged: dict[str, ClinicianShare] = {}
    for share in allocated:
        before = merged.get(share.key)
        merged[share.key] = ClinicianShare(share.key, share.label, share.amount + (before.amount if before else ZERO))
    rows = sorted((s for s in merged.values() if s.amount != 0), key=lambda s: (-s.amount, s.label))
    credit = received - sum((s.amount for s in merged.values()), ZERO) - refunded
    if credit != 0 or not rows:
        rows.append(ClinicianShare("", ACCOUNT_CREDIT, credit))
    return rows


# --- Documents issued ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """A count and the sums of documents issued in the range (invoices or credit notes)."""

    count: int
    net: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


def issued(rows: Iterable[tuple[Decimal, Decimal]]) -> Issued:
    """Count and sum (net, tax) pairs: an invoice's net total and tax, or a credit note's amount less its tax."""
    count = 0
    net = tax = ZERO
    for row_net, row_tax in rows:
        count += 1
        net += row_net
        tax += row_tax
    return Issued(count=count, net=net, tax=tax)
