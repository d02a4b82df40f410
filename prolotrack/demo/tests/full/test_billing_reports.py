"""The demo clinic's financial reports add up (docs/BILLING.md, "Reports"): takings are the demo's payments less its
refunds, the clinician split adds up to them, the ageing owes what the invoices still ask. Read from the full demo."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Max, Min, Sum

from prolotrack.billing import queries, report_queries
from prolotrack.billing.models import Invoice, InvoiceStatus, Payment, Refund
from prolotrack.billing.services import clinic_today
from prolotrack.clinics.models import Clinic
from prolotrack.domain.ledger import MAX_RANGE_DAYS

pytestmark = pytest.mark.xdist_group("full_demo")
ZERO = Decimal(0)


def test_the_demo_report_adds_up(demo: Clinic, db: Any) -> None:
    clinic = demo
    today = clinic_today(clinic)
    payments = Payment.objects.active().filter(clinic=clinic)
    refunds = Refund.objects.active().filter(clinic=clinic)
    assert payments.exists()
    first = min(
        d for d in (payments.aggregate(d=Min("received_on"))["d"], refunds.aggregate(d=Min("refunded_on"))["d"]) if d
    )
    last = max(
        d for d in (payments.aggregate(d=Max("received_on"))["d"], refunds.aggregate(d=Max("refunded_on"))["d"]) if d
    )
    received = refunded = net = by_clinician = ZERO
    start = first
    while start <= last:  # a report covers at most a year: walk the demo's history a year at a time
        end = min(last, start + timedelta(days=MAX_RANGE_DAYS - 1))
        report = report_queries.takings(clinic, start, end)
        received += report.table.received
        refunded += report.table.refunded
        net += sum((report.table.day_total(day) for day in report.table.days), ZERO)
        by_clinician += sum((share.amount for share in report.by_clinician), ZERO)
        start = end + timedelta(days=1)
    assert received == payments.aggregate(s=Sum("amount"))["s"]
    assert refunded == (refunds.aggregate(s=Sum("amount"))["s"] or ZERO)
    assert net == by_clinician == received - refunded
    # The ageing today owes exactly what the issued invoices still ask, and holds the patients' account credit.
    ageing = report_queries.ageing(clinic, today).ageing
    issued = Invoice.objects.active().filter(clinic=clinic, status=InvoiceStatus.ISSUED)
    owed = sum((b for b in (queries.invoice_balance(i) for i in issued) if b > 0), ZERO)
    assert ageing.owed == owed > 0
    patients = {i.patient for i in issued}
    assert ageing.credit == sum((queries.account(p).credit for p in patients), ZERO) > 0
