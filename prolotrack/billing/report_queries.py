"""Reads of the financial reports (docs/BILLING.md, "Reports"): takings by day and method and by clinician, invoices
and credit notes issued in a range, open balances with their ageing as of a day.

Each report is a fixed number of aggregate queries whatever the number of invoices or payments (no per-row loop;
`billing/tests/test_reports.py` counts them); the rules that shape the figures are pure (`domain/ledger.py`).
Everything is inside one clinic and its currency. Dates are the clinic's local dates: a payment's `received_on`,
a refund's `refunded_on`, an invoice's and a credit note's `issued_on` are stored as the clinic's date already; an
allocation carries only the moment it was written, so it counts from the clinic-local day of that moment.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from prolotrack.billing.models import (
    CreditNote,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    Refund,
)
from prolotrack.clinics.models import User
from prolotrack.domain import ledger

ZERO = Decimal(0)
METHODS = [value for value, _label in PaymentMethod.choices]
METHOD_LABELS = dict(PaymentMethod.choices)
AMOUNT = DecimalField(max_digits=15, decimal_places=3)


def end_of_day(clinic: Any, day: date) -> datetime:
    """The first moment after the clinic-local day `day` (its next midnight in the clinic's zone)."""
    return datetime.combine(day + timedelta(days=1), time.min).replace(tzinfo=clinic.tz)


def patient_label(family: str, given: str, mrn: str) -> str:
    return f"{family}, {given} ({mrn})"


def _currency(clinic: Any) -> str:
    return str(clinic.config.currency)


# --- Takings -------------------------------------------------------------------------------------------------------


@dataclass
class TakingsReport:
    currency: str
    first: date
    last: date
    table: ledger.Takings
    by_clinician: list[ledger.ClinicianShare]


def takings(clinic: Any, first: date, last: date) -> TakingsReport:
    """Payments less refunds of [first, last] by clinic-local day and method, and by clinician (what the range's
    payments pay as the report is run). Four queries."""
    currency = _currency(clinic)
    payments = Payment.objects.active().filter(
        clinic=clinic, currency=currency, received_on__gte=first, received_on__lte=last
    )
    paid_rows = payments.values("received_on", "method").annotate(total=Sum("amount")).order_by()
    refund_rows = (
        Refund.objects.active()
        .filter(clinic=clinic, payment__currency=currency, refunded_on__gte=first, refunded_on__lte=last)
        .values("refunded_on", "method")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    table = ledger.takings(
        [ledger.Movement(r["received_on"], r["method"], r["total"]) for r in paid_rows],
        [ledger.Movement(r["refunded_on"], r["method"], r["total"]) for r in refund_rows],
        first,
        last,
        METHODS,
    )
    # What the range's payments pay now, per rendering clinician (the session's signer, else its booked clinician).
    shares = (
        PaymentAllocation.objects.active()
        .filter(payment__in=payments)
        .annotate(who=Coalesce("invoice__session__signed_by", "invoice__session__clinician"))
        .values("who")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    share_rows = list(shares)
    people = {user.pk: str(user) for user in User.objects.filter(pk__in=[r["who"] for r in share_rows if r["who"]])}
    by_clinician = ledger.takings_by_clinician(
        table.received,
        table.refunded,
        [
            ledger.ClinicianShare(
                str(r["who"] or "none"), people.get(r["who"], ledger.NO_CLINICIAN), r["total"] or ZERO
            )
            for r in share_rows
        ],
    )
    return TakingsReport(currency, first, last, table, by_clinician)


# --- Invoices and credit notes issued ------------------------------------------------------------------------------


@dataclass
class IssuedReport:
    currency: str
    invoices: list[dict[str, Any]]
    invoice_sums: ledger.Issued
    credit_notes: list[dict[str, Any]]
    credit_sums: ledger.Issued


def issued(clinic: Any, first: date, last: date) -> IssuedReport:
    """Invoices issued in [first, last] (a void one too: it was issued; its credit note is listed with the credit
    notes) and credit notes issued in it, each with its sums. Two queries."""
    currency = _currency(clinic)
    invoices = list(
        Invoice.objects.active()
        .filter(clinic=clinic, currency=currency, issued_on__gte=first, issued_on__lte=last)
        .exclude(status=InvoiceStatus.DRAFT)
        .order_by("number")
        .values(
            "uuid", "number", "issued_on", "status", "net_total", "tax_total", "total", "patient__uuid",
            "patient__family_name", "patient__given_name", "patient__mrn",
        )
    )  # fmt: skip
    notes = list(
        CreditNote.objects.active()
        .filter(clinic=clinic, invoice__currency=currency, issued_on__gte=first, issued_on__lte=last)
        .order_by("number")
        .values(
            "number", "issued_on", "amount", "tax", "is_void", "reason", "invoice__number", "invoice__uuid",
            "patient__uuid", "patient__family_name", "patient__given_name", "patient__mrn",
        )
    )  # fmt: skip
    for row in (*invoices, *notes):
        row["patient"] = patient_label(row["patient__family_name"], row["patient__given_name"], row["patient__mrn"])
    return IssuedReport(
        currency=currency,
        invoices=invoices,
        invoice_sums=ledger.issued((r["net_total"], r["tax_total"]) for r in invoices),
        credit_notes=notes,
        credit_sums=ledger.issued((r["amount"] - r["tax"], r["tax"]) for r in notes),
    )


# --- Ageing ----------------------------------------------------------------------------------------------------------


def _sum_of(queryset: Any, key: str) -> Any:
    """A correlated subquery: the sum of `amount` over the rows of `queryset` grouped by `key` (zero if none)."""
    return Coalesce(
        Subquery(queryset.values(key).annotate(s=Sum("amount")).values("s")[:1], output_field=AMOUNT),
        Value(ZERO),
        output_field=AMOUNT,
    )


@dataclass
class AgeingReport:
    currency: str
    ageing: ledger.Ageing


def ageing(clinic: Any, as_of: date) -> AgeingReport:
    """Each patient's open balance on `as_of` by age (days since the invoice's issue date), as the books stood at the
    close of that day: invoices issued by then, less credit notes issued by then, less allocations written by then;
    and each patient's account credit that day (payments received by then less what they paid and refunds made by
    then). Four queries."""
    currency = _currency(clinic)
    closing = end_of_day(clinic, as_of)
    credited = _sum_of(
        CreditNote.objects.active().filter(invoice=OuterRef("pk"), issued_on__lte=as_of).order_by(), "invoice"
    )
    paid = _sum_of(
        PaymentAllocation.objects.active().filter(invoice=OuterRef("pk"), created_at__lt=closing).order_by(), "invoice"
    )
    rows = (
        Invoice.objects.active()
        .filter(clinic=clinic, currency=currency, issued_on__lte=as_of)
        .exclude(status=InvoiceStatus.DRAFT)
        .annotate(credited=credited, paid=paid)
        .annotate(owed=F("total") - F("credited") - F("paid"))
        .filter(owed__gt=0)
        .values(
            "patient__uuid", "patient__family_name", "patient__given_name", "patient__mrn", "issued_on", "total",
            "credited", "paid",
        )
    )  # fmt: skip
    balances = [
        ledger.OpenBalance(
            str(r["patient__uuid"]),
            patient_label(r["patient__family_name"], r["patient__given_name"], r["patient__mrn"]),
            r["issued_on"],
            r["total"],
            r["credited"],
            r["paid"],
        )
        for r in rows
    ]
    return AgeingReport(currency, ledger.ageing(balances, as_of, _credits(clinic, currency, as_of, closing)))


def _credits(clinic: Any, currency: str, as_of: date, closing: datetime) -> list[tuple[str, str, Decimal]]:
    """Each patient's account credit on `as_of`: three grouped sums (payments, allocations, refunds)."""
    fields = ("patient__uuid", "patient__family_name", "patient__given_name", "patient__mrn")
    received = (
        Payment.objects.active()
        .filter(clinic=clinic, currency=currency, received_on__lte=as_of)
        .values(*fields)
        .annotate(total=Sum("amount"))
        .order_by()
    )
    allocated = (
        PaymentAllocation.objects.active()
        .filter(clinic=clinic, payment__currency=currency, payment__received_on__lte=as_of, created_at__lt=closing)
        .values("patient__uuid")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    refunded = (
        Refund.objects.active()
        .filter(clinic=clinic, payment__currency=currency, refunded_on__lte=as_of)
        .values("patient__uuid")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    taken = {r["patient__uuid"]: r["total"] for r in allocated}
    back = {r["patient__uuid"]: r["total"] for r in refunded}
    out = []
    for r in received:
        key = r["patient__uuid"]
        left = r["total"] - taken.get(key, ZERO) - back.get(key, ZERO)
        if left > 0:
            out.append(
                (str(key), patient_label(r["patient__family_name"], r["patient__given_name"], r["patient__mrn"]), left)
            )
    return out
