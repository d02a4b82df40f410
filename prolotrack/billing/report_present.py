"""The financial reports shaped for the page, the accountant's CSV files, the charts and the API (docs/BILLING.md,
"Reports").

Amounts leave as plain decimal text to the currency's minor unit ("1234.50": no thousands separator, no symbol) with
a currency column, so a spreadsheet reads them as numbers. Every other CSV cell goes through `audit.queries.csv_cell`
(OWASP CSV injection: a cell starting with = + - @ is quoted with '), so a patient's name or a credit note's reason
never runs as a formula. A cell that is wholly a plain decimal number ("-20.00") is left as it is: it cannot be a
formula, and quoting it would turn the accountant's negative figure into text.
"""

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from prolotrack.audit.queries import csv_cell
from prolotrack.audit.services import Actor, record_disclosure, record_read
from prolotrack.billing.report_queries import METHOD_LABELS, AgeingReport, IssuedReport, TakingsReport
from prolotrack.billing.services import clinic_today
from prolotrack.domain import ledger
from prolotrack.domain.errors import InputError
from prolotrack.domain.ledger import BUCKET_LABELS
from prolotrack.domain.money import round_money

CSV_NAMES = ("takings", "takings-by-clinician", "invoices", "credit-notes", "ageing", "package-liability")
# The CSV files the front desk's takings permission covers; the others need billing.reports.
TAKINGS_CSV = frozenset({"takings"})


@dataclass(frozen=True)
class Question:
    """The dates a report is asked for (clinic-local): the range and the ageing's "as of"."""

    first: date
    last: date
    as_of: date

    def as_query(self) -> dict[str, str]:
        return {"start": self.first.isoformat(), "end": self.last.isoformat(), "as_of": self.as_of.isoformat()}


def ask(clinic: Any, params: Mapping[str, Any]) -> Question:
    """The dates asked (`start`, `end`, `as_of`), or an InputError naming the field: the range defaults to this month
    so far and is at most a year; "as of" defaults to the range's last day (today at the latest) and is not after the
    clinic's today."""
    today = clinic_today(clinic)
    first, last = ledger.report_range(params.get("start"), params.get("end"), today)
    as_of = ledger.as_of_day(params.get("as_of"), min(last, today))
    if as_of > today:
        raise InputError(f"As of: {as_of.isoformat()} is after today ({today.isoformat()}); choose today or earlier.")
    return Question(first, last, as_of)


def named(issued: IssuedReport | None, ageing: AgeingReport | None, liability: Any = None) -> set[Any]:
    """The patients a report names (their uuids)."""
    uuids: set[Any] = set()
    if liability is not None:
        uuids.update(str(r.package.patient.uuid) for r in liability.rows)
    if issued is not None:
        uuids.update(r["patient__uuid"] for r in (*issued.invoices, *issued.credit_notes))
    if ageing is not None:
        uuids.update(row.patient_key for row in ageing.ageing.rows)
    return uuids


def audit_read(actor: Actor, action: str, detail: dict[str, Any], patient_uuids: set[Any]) -> None:
    """Audit showing a report: one event per patient it names (audit.services.record_disclosure, the project's rule
    for a read that lists patients, so each patient's accounting of disclosures shows it), or one event naming
    nobody (the takings)."""
    from prolotrack.patients.models import Patient

    if not patient_uuids:
        record_read(actor, action, record=None, detail=detail)
        return
    patients = list(Patient.objects.filter(clinic=actor.clinic, uuid__in=patient_uuids).order_by("pk"))
    with transaction.atomic():
        record_disclosure(actor, action, patients, detail=detail)


def amount(value: Decimal, currency: str) -> str:
    """Plain decimal text to the currency's minor unit: "1234.50", "-20.00", "0"."""
    return format(round_money(value, currency), "f")


def method_label(method: str) -> str:
    return METHOD_LABELS.get(method, method)


@dataclass
class Cell:
    text: str
    negative: bool = False


# --- CSV -------------------------------------------------------------------------------------------------------------


PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def cell(value: Any) -> str:
    """A CSV cell: a plain number as it is, anything else made safe from running as a spreadsheet formula."""
    text = "" if value is None else str(value)
    return text if PLAIN_NUMBER.fullmatch(text) else csv_cell(text)


def _csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def takings_csv(report: TakingsReport) -> str:
    """One row per day and method where money moved: received, refunded (positive), net."""
    cur = report.currency
    rows = [
        (day.isoformat(), method_label(method), amount(got, cur), amount(back, cur), amount(got - back, cur), cur)
        for (day, method), (got, back) in report.table.moved.items()
    ]
    return _csv(("date", "method", "received", "refunded", "net", "currency"), rows)


def clinician_csv(report: TakingsReport) -> str:
    cur = report.currency
    rows = [(share.label, amount(share.amount, cur), cur) for share in report.by_clinician]
    return _csv(
        (f"rendering clinician ({report.first.isoformat()} to {report.last.isoformat()})", "net", "currency"), rows
    )


def invoices_csv(report: IssuedReport) -> str:
    cur = report.currency
    rows = [
        (r["number"], r["issued_on"].isoformat(), r["patient"], r["status"], amount(r["net_total"], cur),
         amount(r["tax_total"], cur), amount(r["total"], cur), cur)
        for r in report.invoices
    ]  # fmt: skip
    return _csv(("number", "issued_on", "patient", "status", "net", "tax", "total", "currency"), rows)


def credit_notes_csv(report: IssuedReport) -> str:
    cur = report.currency
    rows = [
        (r["number"], r["issued_on"].isoformat(), r["invoice__number"], r["patient"], "yes" if r["is_void"] else "no",
         amount(r["amount"] - r["tax"], cur), amount(r["tax"], cur), amount(r["amount"], cur), cur, r["reason"])
        for r in report.credit_notes
    ]  # fmt: skip
    return _csv(
        ("number", "issued_on", "invoice_number", "patient", "void", "net", "tax", "amount", "currency", "reason"),
        rows,
    )


def ageing_csv(report: AgeingReport) -> str:
    cur = report.currency
    found = report.ageing
    rows = [
        (found.as_of.isoformat(), row.patient_label, row.invoices,
         *(amount(row.buckets[label], cur) for label in BUCKET_LABELS), amount(row.owed, cur),
         amount(row.credit, cur), cur)
        for row in found.rows
    ]  # fmt: skip
    headers = ("as_of", "patient", "open_invoices", *(f"days_{label}" for label in BUCKET_LABELS), "owed",
               "account_credit", "currency")  # fmt: skip
    return _csv(headers, rows)


def liability_csv(liability: Any) -> str:
    """Package liability on a day (billing.queries.package_liability): one row per package with uses left."""
    cur = liability.currency
    rows = [
        (liability.on_date.isoformat(), r.package.name, patient_label(r.package.patient), r.package.invoice.number,
         r.package.uses, r.uses_left, r.package.valid_to.isoformat(), amount(r.value, cur), cur)
        for r in liability.rows
    ]  # fmt: skip
    return _csv(("as_of", "package", "patient", "invoice_number", "uses_sold", "uses_left", "valid_to", "value",
                 "currency"), rows)  # fmt: skip


def patient_label(patient: Any) -> str:
    return f"{patient.family_name}, {patient.given_name} ({patient.mrn})"


def liability_json(liability: Any) -> dict[str, Any]:
    cur = liability.currency
    return {
        "currency": cur, "as_of": liability.on_date, "packages": liability.packages, "uses": liability.uses,
        "value": amount(liability.value, cur),
        "items": [
            {"package": r.package.name, "patient_id": r.package.patient.uuid, "invoice_number": r.package.invoice.number,
             "uses_sold": r.package.uses, "uses_left": r.uses_left, "valid_to": r.package.valid_to,
             "value": amount(r.value, cur)}
            for r in liability.rows
        ],
    }  # fmt: skip


# --- Charts (their tables are on the page beside them) ---------------------------------------------------------------


def takings_chart_series(report: TakingsReport) -> tuple[list[date], list[tuple[str, list[Decimal]]]]:
    """Net takings per day, one series per method that moved money in the range."""
    table = report.table
    used = [m for m in table.methods if any(table.cells[(d, m)] for d in table.days)]
    return table.days, [(method_label(m), [table.cells[(d, m)] for d in table.days]) for m in used]


# --- API -------------------------------------------------------------------------------------------------------------


def takings_json(report: TakingsReport, *, with_clinicians: bool) -> dict[str, Any]:
    cur = report.currency
    table = report.table
    out: dict[str, Any] = {
        "currency": cur,
        "start": report.first,
        "end": report.last,
        "received": amount(table.received, cur),
        "refunded": amount(table.refunded, cur),
        "net": amount(table.net, cur),
        "days": [
            {"date": day, "method": method, "received": amount(got, cur), "refunded": amount(back, cur),
             "net": amount(got - back, cur)}
            for (day, method), (got, back) in table.moved.items()
        ],
        "by_method": {m: amount(table.method_total(m), cur) for m in table.methods},
    }  # fmt: skip
    if with_clinicians:
        out["by_clinician"] = [{"clinician": s.label, "net": amount(s.amount, cur)} for s in report.by_clinician]
    return out


def issued_json(report: IssuedReport, first: date, last: date) -> dict[str, Any]:
    cur = report.currency
    return {
        "currency": cur,
        "start": first,
        "end": last,
        "invoices": {
            "count": report.invoice_sums.count, "net": amount(report.invoice_sums.net, cur),
            "tax": amount(report.invoice_sums.tax, cur), "total": amount(report.invoice_sums.total, cur),
            "items": [
                {"id": r["uuid"], "number": r["number"], "issued_on": r["issued_on"], "status": r["status"],
                 "total": amount(r["total"], cur)}
                for r in report.invoices
            ],
        },
        "credit_notes": {
            "count": report.credit_sums.count, "net": amount(report.credit_sums.net, cur),
            "tax": amount(report.credit_sums.tax, cur), "total": amount(report.credit_sums.total, cur),
            "items": [
                {"number": r["number"], "issued_on": r["issued_on"], "invoice_number": r["invoice__number"],
                 "void": r["is_void"], "amount": amount(r["amount"], cur)}
                for r in report.credit_notes
            ],
        },
    }  # fmt: skip


def ageing_json(report: AgeingReport) -> dict[str, Any]:
    cur = report.currency
    found = report.ageing
    return {
        "currency": cur,
        "as_of": found.as_of,
        "totals": {label: amount(found.totals[label], cur) for label in BUCKET_LABELS},
        "owed": amount(found.owed, cur),
        "account_credit": amount(found.credit, cur),
        "patients": [
            {"patient_id": row.patient_key, "open_invoices": row.invoices,
             "buckets": {label: amount(row.buckets[label], cur) for label in BUCKET_LABELS},
             "owed": amount(row.owed, cur), "account_credit": amount(row.credit, cur)}
            for row in found.rows
        ],
    }  # fmt: skip
