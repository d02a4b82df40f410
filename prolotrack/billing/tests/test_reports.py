"""Financial reports over a small set (docs/BILLING.md, "Reports"): split payments, a refund, credit notes, a void,
account credit, an invoice not from a session, a clinic far from UTC; a fixed number of queries; another clinic's
money never counted."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import QuerySet
from django.utils import timezone

from prolotrack.billing import report_queries, services
from prolotrack.billing.models import Invoice, PaymentAllocation
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.domain import ledger

D = Decimal


def _backdate(model: Any, **values: Any) -> Any:
    """Test-only: a plain QuerySet of the model, to move a date the services always set to today (an issue date, the
    moment an allocation was written) into the past. The services refuse this, as they should."""
    return QuerySet(model=model).filter(**values)


def _issue(actor: Any, patient: Any, fee: Any) -> Invoice:
    draft = services.draft_invoice(actor, patient)
    services.add_line(actor, draft, fee)
    return services.issue_invoice(actor, Invoice.objects.get(pk=draft.pk))


@pytest.fixture(name="books")
def books_fixture(
    frontdesk: User, admin_user: User, clinician: User, signed_session: Any, fees: dict, clinic: Any, make_patient: Any
) -> dict:
    """Today (the clinic's): an assessment (180.00, no session) and session 1 (2 x 250.00, the clinician's);
        yesterday's card payment of 300.00 (pays the assessment, then 120.00 of the session); today's cash 500.00 (380.00
        of the session, 120.00 credit); a cash refund of 20.00 from the credit; a 50.00 credit note on the session
        (releases 50.00 back to credit); a follow-up voided; and a second patient's knee brace left open (45.00 + 8.25 %
    = 48.71)."""
    desk, admin = actor_of(frontdesk), actor_of(admin_user)
    patient = signed_session.patient
    today = services.clinic_today(clinic)
    assessment = _issue(desk, patient, fees["NEW-ASSESS"])
    session_invoice = services.issue_invoice(
        desk, Invoice.objects.get(pk=services.draft_from_session(desk, signed_session).pk)
    )
    card = services.record_payment(
        desk, patient, amount="300.00", currency="USD", method="card", received_on=today - timedelta(days=1)
    )
    cash = services.record_payment(desk, patient, amount="500.00", currency="USD", method="cash")
    services.refund_payment(admin, cash, amount="20.00", reason="Asked for part of the credit back")
    services.credit_invoice(admin, session_invoice, amount="50.00", reason="Goodwill: the session started late")
    voided = _issue(desk, patient, fees["FOLLOW-UP"])
    services.void_invoice(admin, voided, reason="Charged by mistake")
    other = make_patient(given_name="Grace", family_name="Hopper")
    brace = _issue(desk, other, fees["BRACE-KNEE"])
    return {"today": today, "patient": patient, "other": other, "assessment": assessment, "session": session_invoice,
            "card": card, "cash": cash, "voided": voided, "brace": brace}  # fmt: skip


def test_takings_by_day_method_and_clinician(books: dict, clinician: User) -> None:
    today = books["today"]
    report = report_queries.takings(books["patient"].clinic, today - timedelta(days=2), today)
    table = report.table
    assert table.days == [today - timedelta(days=2), today - timedelta(days=1), today]
    assert table.cells[(today - timedelta(days=1), "card")] == D("300.00")
    assert table.cells[(today, "cash")] == D("480.00")  # 500.00 received, 20.00 refunded the same day
    assert table.day_total(today - timedelta(days=2)) == 0
    assert (table.received, table.refunded, table.net) == (D("800.00"), D("20.00"), D("780.00"))
    shares = {row.label: row.amount for row in report.by_clinician}
    assert shares == {
        str(clinician): D("450.00"),  # 120 + 380 on the session's invoice, less the 50.00 released
        ledger.NO_CLINICIAN: D("180.00"),  # the assessment
        ledger.ACCOUNT_CREDIT: D("150.00"),  # 120 + 50 released - 20 refunded
    }
    assert sum(shares.values()) == table.net


def test_a_day_range_counts_each_payment_on_its_received_day(books: dict) -> None:
    today = books["today"]
    yesterday = report_queries.takings(books["patient"].clinic, today - timedelta(days=1), today - timedelta(days=1))
    assert (yesterday.table.received, yesterday.table.refunded) == (D("300.00"), D(0))
    # The card payment paid the assessment and 120.00 of the session: no account credit left from it.
    assert [(r.label, r.amount) for r in yesterday.by_clinician] == [
        (ledger.NO_CLINICIAN, D("180.00")),
        ("Clinician", D("120.00")),
    ]


def test_invoices_and_credit_notes_issued(books: dict) -> None:
    today = books["today"]
    report = report_queries.issued(books["patient"].clinic, today, today)
    assert [r["number"] for r in report.invoices] == [1, 2, 3, 4]
    assert [r["status"] for r in report.invoices] == ["issued", "issued", "void", "issued"]  # a void was issued
    assert (report.invoice_sums.count, report.invoice_sums.net, report.invoice_sums.tax) == (
        4, D("815.00"), D("3.71"),
    )  # fmt: skip
    assert report.invoice_sums.total == D("818.71")
    assert [(r["number"], r["amount"], r["is_void"], r["invoice__number"]) for r in report.credit_notes] == [
        (1, D("50.000"), False, 2),
        (2, D("90.000"), True, 3),
    ]
    assert (report.credit_sums.count, report.credit_sums.total) == (2, D("140.00"))
    assert (
        report_queries.issued(
            books["patient"].clinic, today + timedelta(days=1), today + timedelta(days=9)
        ).invoice_sums.count
        == 0
    )


def test_ageing_as_of_today_and_by_the_issue_date(books: dict) -> None:
    today, patient, other = books["today"], books["patient"], books["other"]
    report = report_queries.ageing(patient.clinic, today)
    assert [(r.patient_key, r.invoices, r.owed, r.credit) for r in report.ageing.rows] == [
        (str(other.uuid), 1, D("48.71"), 0),
        (str(patient.uuid), 0, 0, D("150.00")),  # listed for the account credit held
    ]
    row = report.ageing.rows[0]
    assert row.buckets == {"0-30": D("48.71"), "31-60": 0, "61-90": 0, "90+": 0}
    # The same balance, 91 days later, is in 90+ (the issue date moved back, the test's only direct write).
    _backdate(Invoice, pk=books["brace"].pk).update(issued_on=today - timedelta(days=91))
    later = report_queries.ageing(patient.clinic, today).ageing
    assert later.totals == {"0-30": 0, "31-60": 0, "61-90": 0, "90+": D("48.71")}
    # As of a day before everything: nothing owed, no credit.
    assert report_queries.ageing(patient.clinic, today - timedelta(days=200)).ageing.rows == []


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_ageing_counts_a_payment_from_the_clinic_local_day_it_was_written(
    zone: str, clinic: Any, frontdesk: User, patient: Any, fees: dict
) -> None:
    """Kiritimati is UTC+14, Pago Pago UTC-11: the UTC date of a moment differs from the clinic's date for much of the
    day. A payment written at 12:00 UTC on 30 November is on 1 December in Kiritimati, on 30 November in Pago Pago
    (01:00); one written at 05:00 UTC on 1 December is 30 November (18:00) in Pago Pago."""
    clinic.timezone = zone
    clinic.save(update_fields=["timezone"])
    desk = actor_of(frontdesk)
    invoice = _issue(desk, patient, fees["FOLLOW-UP"])
    _backdate(Invoice, pk=invoice.pk).update(issued_on=date(2026, 11, 20))
    services.record_payment(
        desk, patient, amount="90.00", currency="USD", method="card", received_on=date(2026, 11, 29)
    )
    written = (
        datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
        if zone == "Pacific/Kiritimati"
        else datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    )
    _backdate(PaymentAllocation, invoice=invoice).update(created_at=written)
    local_day = written.astimezone(clinic.tz).date()
    assert local_day != written.date()  # the case where the zone matters
    before = report_queries.ageing(clinic, local_day - timedelta(days=1)).ageing
    assert (before.owed, before.credit) == (D("90.00"), D("90.00"))  # received, not yet applied at that day's close
    on_the_day = report_queries.ageing(clinic, local_day).ageing
    assert (on_the_day.owed, on_the_day.credit, on_the_day.rows) == (0, 0, [])


def test_other_clinics_money_is_never_counted(
    books: dict, make_member: Any, make_patient: Any, other_clinic: Any, fees: dict
) -> None:
    desk2 = make_member("desk2", "frontdesk", other_clinic)
    admin2 = make_member("admin2", "admin", other_clinic)
    from prolotrack.billing.testing import fee_schedule

    theirs = fee_schedule(actor_of(admin2), books["today"] - timedelta(days=30))
    other_patient = make_patient(by=make_member("doc2", "clinician", other_clinic))
    _issue(actor_of(desk2), other_patient, theirs["M0076"])
    services.record_payment(actor_of(desk2), other_patient, amount="999.00", currency="USD", method="cash")
    today = books["today"]
    clinic = books["patient"].clinic
    assert report_queries.takings(clinic, today, today).table.received == D("500.00")
    assert report_queries.issued(clinic, today, today).invoice_sums.count == 4
    assert len(report_queries.ageing(clinic, today).ageing.rows) == 2
    # The other clinic's own today (Europe/London): from 18:00 in Chicago it is already tomorrow there.
    theirs_today = services.clinic_today(other_clinic)
    assert report_queries.takings(other_clinic, theirs_today, theirs_today).table.received == D("999.00")


def test_each_report_is_a_fixed_number_of_queries(
    books: dict, frontdesk: User, fees: dict, django_assert_num_queries: Any
) -> None:
    clinic, today = books["patient"].clinic, books["today"]
    clinic.refresh_from_db()

    def run() -> None:
        report_queries.takings(clinic, today - timedelta(days=30), today)
        report_queries.issued(clinic, today - timedelta(days=30), today)
        report_queries.ageing(clinic, today)

    with django_assert_num_queries(4 + 2 + 4):
        run()
    for _ in range(3):  # more invoices and payments: the same number of queries
        _issue(actor_of(frontdesk), books["patient"], fees["FOLLOW-UP"])
        services.record_payment(actor_of(frontdesk), books["patient"], amount="10.00", currency="USD", method="other")
    with django_assert_num_queries(4 + 2 + 4):
        run()


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_a_payment_taken_now_is_on_the_clinics_today_in_this_months_report(
    zone: str, clinic: Any, frontdesk: User, patient: Any, login: Any, admin_user: User
) -> None:
    """UTC+14 and UTC-11: for much of any day the clinic's date is not the UTC date. A payment taken now counts on
    the clinic's today, and the default report (this month so far, in the clinic's zone) ends on that day."""
    clinic.timezone = zone
    clinic.save(update_fields=["timezone"])
    services.record_payment(actor_of(frontdesk), patient, amount="75.00", currency="USD", method="card")
    local_today = timezone.localdate(timezone=clinic.tz)
    first, last = ledger.report_range("", "", services.clinic_today(clinic))
    assert (first, last) == (local_today.replace(day=1), local_today)
    report = report_queries.takings(clinic, first, last)
    assert report.table.cells[(local_today, "card")] == D("75.00")
    page = login(admin_user).get("/billing/reports/").content.decode()
    assert f'name="end" value="{local_today.isoformat()}"' in page and "75.00 USD" in page
