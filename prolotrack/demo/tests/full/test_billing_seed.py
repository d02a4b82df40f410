"""The demo clinic's billing: a fee schedule with M0076, paid, partly paid and open invoices numbered 1..N, a credit
note, a split payment, account credit; seeding again changes nothing. Read from the full demo (conftest.py)."""

from decimal import Decimal
from typing import Any

import pytest

from prolotrack.billing import printing, queries
from prolotrack.billing.models import CreditNote, FeeItem, Invoice, InvoiceStatus, Payment
from prolotrack.clinics.models import Clinic
from prolotrack.demo.billing_seed import seed_billing

pytestmark = pytest.mark.xdist_group("full_demo")


def test_the_demo_billing(demo: Clinic, db: Any) -> None:
    clinic = demo
    assert "M0076" in set(FeeItem.objects.filter(clinic=clinic).values_list("code", flat=True))
    invoices = list(Invoice.objects.filter(clinic=clinic, status=InvoiceStatus.ISSUED).order_by("number"))
    assert len(invoices) >= 6
    assert [i.number for i in invoices] == list(range(1, len(invoices) + 1))
    balances = [queries.invoice_balance(i) for i in invoices]
    assert Decimal(0) in balances and any(b > 0 for b in balances)
    assert CreditNote.objects.filter(clinic=clinic).count() == 1
    assert set(Payment.objects.filter(clinic=clinic).values_list("method", flat=True)) >= {"card", "cash", "cheque"}
    patients = {i.patient for i in invoices}
    assert any(queries.account(p).credit > 0 for p in patients)
    assert seed_billing(clinic, today=invoices[0].issued_on) == {"fee_items": 0, "invoices": 0}
    # The superbill of a session of a course on a product protocol: the practice's identifiers, its ICD-10-CM codes,
    # the M0076 lines.
    first = next(i for i in invoices if i.session is not None and i.session.course.protocol_id)
    day = queries.date_of_service(first)
    bill = printing.superbill_context(first.patient, day, day)
    assert (bill["letterhead"]["npi"], bill["letterhead"]["tax_id"]) == ("1234567893", "00-0000000")
    assert bill["diagnoses"] and "M0076" in {s["line"].code for s in bill["services"]}
    same_day = [row["invoice"] for row in bill["invoices"]]
    assert first in same_day and bill["charges"] == sum((i.total for i in same_day), Decimal(0))
