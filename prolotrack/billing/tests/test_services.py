"""Billing services: fees and their versions, drafting from a signed session, issuing, credit notes, payments,
allocation, account credit, refunds. Each refusal is checked to write nothing (no row, no audit event)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import AccessDenied, RecordClosedError, ServiceError, update_record
from prolotrack.billing import queries, services
from prolotrack.billing.models import (
    CreditNote,
    FeeVersion,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    Refund,
)
from prolotrack.billing.testing import set_clinic_settings
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.domain.errors import DomainError
from prolotrack.domain.money import MoneyError

D = Decimal
MODELS = (FeeVersion, Invoice, InvoiceLine, CreditNote, Payment, PaymentAllocation, Refund)


@contextmanager
def writes_nothing() -> Iterator[None]:
    before = [m.objects.count() for m in MODELS], AuditEvent.objects.count()
    yield
    assert ([m.objects.count() for m in MODELS], AuditEvent.objects.count()) == before


def today(clinic: Any) -> Any:
    return services.clinic_today(clinic)


@pytest.fixture
def issued(frontdesk: User, patient: Any, fees: dict[str, Any]) -> Callable[..., Invoice]:
    """Issue an invoice of the patient for the given fee codes (one each)."""

    def make(*codes: str, who: User | None = None) -> Invoice:
        actor = actor_of(who or frontdesk)
        invoice = services.draft_invoice(actor, patient)
        for code in codes:
            services.add_line(actor, invoice, fees[code])
        return services.issue_invoice(actor, Invoice.objects.get(pk=invoice.pk))

    return make


# --- Fees ----------------------------------------------------------------------------------------------------------


def test_a_price_change_is_a_new_version_and_old_lines_keep_their_price(
    admin_user: User, frontdesk: User, patient: Any, fees: dict[str, Any], clinic: Any
) -> None:
    actor = actor_of(frontdesk)
    old = services.draft_invoice(actor, patient)
    services.add_line(actor, old, fees["FOLLOW-UP"])
    services.add_fee_version(
        actor_of(admin_user),
        fees["FOLLOW-UP"],
        description="Follow-up visit",
        price="95.00",
        effective_from=today(clinic),
    )
    new = services.draft_invoice(actor, patient)
    services.add_line(actor, new, fees["FOLLOW-UP"])
    assert [line.unit_price for line in queries.invoice_lines(old)] == [D("90.00")]
    assert [line.unit_price for line in queries.invoice_lines(new)] == [D("95.00")]
    assert FeeVersion.objects.filter(item=fees["FOLLOW-UP"]).count() == 2
    first = FeeVersion.objects.filter(item=fees["FOLLOW-UP"]).order_by("effective_from").first()
    assert first is not None
    with pytest.raises(RecordClosedError, match="new version"):
        update_record(actor_of(admin_user), first, {"price": D(1)}, "x", expected_version=None)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"price": "-1"}, MoneyError, "cannot be negative"),
        ({"price": "10.001"}, MoneyError, "more decimals"),
        ({"price": 12.5}, MoneyError, "exact decimal"),
        ({"tax_rate": "101"}, MoneyError, "0 to 100"),
        ({"code": "M 0076"}, ValidationError, "letters, digits"),
        ({"code": "FOLLOW-UP"}, ValidationError, "already on the fee schedule"),
        ({"kind": "spa"}, ValidationError, "Choose one of"),
        ({"description": " "}, ValidationError, "Describe the item"),
    ],
)
def test_bad_fee_input_is_refused_and_writes_nothing(
    admin_user: User, fees: dict[str, Any], clinic: Any, changes: dict[str, Any], error: type, message: str
) -> None:
    values: dict[str, Any] = {
        "code": "NEW",
        "kind": "visit",
        "description": "Something",
        "price": "10.00",
        "active_from": today(clinic),
        **changes,
    }
    with writes_nothing(), pytest.raises(error, match=message):
        services.create_fee_item(actor_of(admin_user), **values)


def test_a_version_cannot_rewrite_history(admin_user: User, fees: dict[str, Any], clinic: Any) -> None:
    with writes_nothing(), pytest.raises(ValidationError, match="after the latest"):
        services.add_fee_version(
            actor_of(admin_user),
            fees["M0076"],
            description="Prolotherapy",
            price="300.00",
            effective_from=fees["M0076"].active_from,
        )


def test_only_administrators_manage_the_fee_schedule(frontdesk: User, clinician: User, clinic: Any) -> None:
    for user in (frontdesk, clinician):
        with writes_nothing(), pytest.raises(AccessDenied):
            services.create_fee_item(
                actor_of(user), code="X1", kind="visit", description="X", price="1.00", active_from=today(clinic)
            )


def test_an_ended_item_cannot_be_charged(
    admin_user: User, frontdesk: User, patient: Any, fees: dict[str, Any], clinic: Any
) -> None:
    services.end_fee_item(actor_of(admin_user), fees["US-GUIDE"], active_to=today(clinic) - timedelta(days=1))
    draft = services.draft_invoice(actor_of(frontdesk), patient)
    with writes_nothing(), pytest.raises(ServiceError, match="not on the schedule"):
        services.add_line(actor_of(frontdesk), draft, fees["US-GUIDE"].__class__.objects.get(pk=fees["US-GUIDE"].pk))


# --- Drafting from a session ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "lines"),
    [
        ("per_region", [("Prolotherapy (knee, right)", 1), ("Prolotherapy (knee, left)", 1)]),
        ("per_injection", [("Prolotherapy (8 injections)", 8)]),
        ("per_session", [("Prolotherapy", 1)]),
    ],
)
def test_a_signed_session_drafts_its_invoice_by_the_fee_rule(
    frontdesk: User, signed_session: Any, fees: dict[str, Any], clinic: Any, rule: str, lines: list[tuple[str, int]]
) -> None:
    set_clinic_settings(clinic, session_fee_rule=rule)
    signed_session.clinic.refresh_from_db()
    invoice = services.draft_from_session(actor_of(frontdesk), signed_session)
    got = queries.invoice_lines(invoice)
    assert [(line.description, line.quantity) for line in got] == lines
    assert {line.code for line in got} == {"M0076"}
    assert invoice.total == sum((D(250) * q for _d, q in lines), D(0))
    assert invoice.session == signed_session and invoice.status == InvoiceStatus.DRAFT
    with writes_nothing(), pytest.raises(ServiceError, match="already has a draft"):
        services.draft_from_session(actor_of(frontdesk), signed_session)


def test_an_unsigned_session_is_not_charged(frontdesk: User, course: Any, fees: dict[str, Any]) -> None:
    with writes_nothing(), pytest.raises(ServiceError, match="signed"):
        services.draft_from_session(actor_of(frontdesk), course.sessions.get(number=1))


def test_the_fee_rule_setting_is_validated(clinic: Any) -> None:
    from prolotrack.clinics.config import ClinicConfig, ClinicConfigError

    assert ClinicConfig().session_fee_rule == "per_region" and ClinicConfig().currency == "USD"
    assert ClinicConfig.validated({"currency": "eur"}).currency == "EUR"
    for bad in ({"session_fee_rule": "per_minute"}, {"currency": "XYZ"}):
        with pytest.raises(ClinicConfigError, match="must be one of"):
            ClinicConfig.validated(bad)


# --- Issue ---------------------------------------------------------------------------------------------------------


def test_issue_numbers_and_locks(frontdesk: User, issued: Callable[..., Invoice], fees: dict[str, Any]) -> None:
    first, second = issued("FOLLOW-UP"), issued("BRACE-KNEE")
    assert (first.number, second.number) == (1, 2)
    assert second.total == D("48.71")  # 45.00 + 8.25% (3.7125 -> 3.71)
    assert second.tax_total == D("3.71")
    actor = actor_of(frontdesk)
    with writes_nothing():
        with pytest.raises(ServiceError, match="credit note"):
            services.add_line(actor, first, fees["M0076"])
        with pytest.raises(ServiceError, match="credit note"):
            services.issue_invoice(actor, first)
        with pytest.raises(RecordClosedError, match="credit note"):
            update_record(actor, Invoice.objects.get(pk=first.pk), {"note": "x"}, "x", expected_version=None)
        line = queries.invoice_lines(first)[0]
        with pytest.raises(ServiceError, match="credit note"):
            services.change_line(actor, line, quantity=2, expected_version=line.version)


def test_an_empty_draft_is_not_issued(frontdesk: User, patient: Any) -> None:
    draft = services.draft_invoice(actor_of(frontdesk), patient)
    with writes_nothing(), pytest.raises(ServiceError, match="no lines"):
        services.issue_invoice(actor_of(frontdesk), draft)


def test_a_draft_is_edited_then_issued(frontdesk: User, patient: Any, fees: dict[str, Any]) -> None:
    actor = actor_of(frontdesk)
    draft = services.draft_invoice(actor, patient)
    line = services.add_line(actor, draft, fees["BRACE-KNEE"])
    services.add_line(actor, draft, fees["FOLLOW-UP"])
    services.change_line(actor, line, quantity=2, expected_version=line.version)
    services.remove_line(actor, queries.invoice_lines(draft)[1])
    draft.refresh_from_db()
    assert (draft.net_total, draft.tax_total, draft.total) == (D("90.00"), D("7.43"), D("97.43"))
    with pytest.raises(MoneyError, match="whole number"):
        services.change_line(actor, InvoiceLine.objects.get(pk=line.pk), quantity=0, expected_version=None)
    issued = services.issue_invoice(actor, draft)
    assert issued.number == 1 and issued.total == D("97.43")


def test_another_clinics_patient_is_refused(
    outsider: User, frontdesk: User, make_member: Any, other_clinic: Any, patient: Any
) -> None:
    stranger = make_member("desk2", "frontdesk", other_clinic)
    with writes_nothing():
        with pytest.raises(AccessDenied, match="another clinic"):
            services.draft_invoice(actor_of(stranger), patient)
        with pytest.raises(AccessDenied, match="another clinic"):
            services.record_payment(actor_of(stranger), patient, amount="10.00", currency="USD", method="cash")


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("frontdesk", True), ("admin_user", True), ("clinician", False), ("researcher", False)],
)
def test_who_takes_payments(request: Any, patient: Any, persona: str, allowed: bool) -> None:
    user = request.getfixturevalue(persona)
    if allowed:
        assert services.record_payment(actor_of(user), patient, amount="10.00", currency="USD", method="cash")
    else:
        with writes_nothing(), pytest.raises(AccessDenied):
            services.record_payment(actor_of(user), patient, amount="10.00", currency="USD", method="cash")


# --- Payments, credit and refunds ----------------------------------------------------------------------------------


def test_a_payment_pays_oldest_first_and_keeps_the_rest_as_credit(
    frontdesk: User, patient: Any, issued: Callable[..., Invoice]
) -> None:
    first, second = issued("FOLLOW-UP"), issued("NEW-ASSESS")  # 90.00, 180.00
    payment = services.record_payment(
        actor_of(frontdesk), patient, amount="300.00", currency="USD", method="card", reference="TID 4471"
    )
    assert queries.invoice_balance(first) == 0 and queries.invoice_balance(second) == 0
    account = queries.account(patient)
    assert account.credit == D("30.00") and account.owed == 0 and account.balance == D("-30.00")
    # The credit pays the next invoice as it is issued.
    third = issued("US-GUIDE")  # 60.00
    assert queries.invoice_balance(third) == D("30.00")
    assert queries.account(patient).credit == 0
    assert queries.payment_allocated(payment) == D("300.00")


def test_a_payment_to_chosen_invoices(frontdesk: User, patient: Any, issued: Callable[..., Invoice]) -> None:
    first, second = issued("FOLLOW-UP"), issued("NEW-ASSESS")
    services.record_payment(
        actor_of(frontdesk), patient, amount="100.00", currency="USD", method="cash", chosen=[(second, "100.00")]
    )
    assert queries.invoice_balance(first) == D("90.00")
    assert queries.invoice_balance(second) == D("80.00")


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"currency": "EUR"}, MoneyError, "payment in EUR is refused"),
        ({"amount": "-5.00"}, MoneyError, "cannot be negative"),
        ({"amount": "0"}, MoneyError, "more than zero"),
        ({"amount": "5.001"}, MoneyError, "more decimals"),
        ({"method": "bitcoin"}, ValidationError, "Choose one of"),
        ({"chosen": "over"}, MoneyError, "still owed"),
    ],
)
def test_bad_payments_are_refused_and_write_nothing(
    frontdesk: User, patient: Any, issued: Callable[..., Invoice], changes: dict[str, Any], error: type, message: str
) -> None:
    invoice = issued("FOLLOW-UP")
    values: dict[str, Any] = {"amount": "100.00", "currency": "USD", "method": "cash", **changes}
    if values.get("chosen") == "over":
        values["chosen"] = [(invoice, "95.00")]
    with writes_nothing(), pytest.raises(error, match=message):
        services.record_payment(actor_of(frontdesk), patient, **values)
    assert issubclass(MoneyError, DomainError)


def test_a_credit_note_and_a_void_release_money_to_credit_then_a_refund(
    admin_user: User, frontdesk: User, patient: Any, issued: Callable[..., Invoice]
) -> None:
    invoice = issued("NEW-ASSESS")  # 180.00
    payment = services.record_payment(actor_of(frontdesk), patient, amount="180.00", currency="USD", method="card")
    admin = actor_of(admin_user)
    with writes_nothing(), pytest.raises(MoneyError, match=r"At most 0\.00 USD can be refunded"):
        services.refund_payment(admin, payment, amount="1.00", reason="Patient asked for it back")
    note = services.credit_invoice(admin, invoice, amount="30.00", reason="Shorter assessment than booked")
    assert (note.number, note.amount) == (1, D("30.00"))
    assert queries.invoice_balance(invoice) == 0
    assert queries.account(patient).credit == D("30.00")
    void = services.void_invoice(admin, Invoice.objects.get(pk=invoice.pk), reason="Booked in error, not seen")
    assert (void.number, void.amount, void.is_void) == (2, D("150.00"), True)
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.VOID
    assert queries.account(patient).credit == D("180.00")
    with writes_nothing(), pytest.raises(MoneyError, match=r"At most 180\.00"):
        services.refund_payment(admin, payment, amount="180.01", reason="Patient asked for it back")
    refund = services.refund_payment(admin, payment, amount="180.00", reason="Booked in error, money back")
    assert refund.method == "card" and queries.account(patient).credit == 0
    with writes_nothing(), pytest.raises(MoneyError, match=r"At most 0\.00"):
        services.refund_payment(admin, payment, amount="0.01", reason="Patient asked for it back")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"amount": "180.01", "reason": "Too much charged today"}, MoneyError, "At most 180.00"),
        ({"amount": "10.00", "reason": "short"}, ValidationError, "Say why"),
        ({"amount": "-1", "reason": "Too much charged today"}, MoneyError, "negative"),
    ],
)
def test_bad_credit_notes_are_refused(
    admin_user: User, issued: Callable[..., Invoice], kwargs: dict[str, Any], error: type, message: str
) -> None:
    invoice = issued("NEW-ASSESS")
    with writes_nothing(), pytest.raises(error, match=message):
        services.credit_invoice(actor_of(admin_user), invoice, **kwargs)


def test_front_desk_cannot_credit_or_refund(frontdesk: User, patient: Any, issued: Callable[..., Invoice]) -> None:
    invoice = issued("FOLLOW-UP")
    payment = services.record_payment(actor_of(frontdesk), patient, amount="100.00", currency="USD", method="cash")
    with writes_nothing():
        with pytest.raises(AccessDenied):
            services.void_invoice(actor_of(frontdesk), invoice, reason="Wrong patient charged")
        with pytest.raises(AccessDenied):
            services.refund_payment(actor_of(frontdesk), payment, amount="10.00", reason="Overpaid at the desk")


def test_every_write_is_audited(
    admin_user: User, frontdesk: User, patient: Any, issued: Callable[..., Invoice]
) -> None:
    invoice = issued("FOLLOW-UP")
    payment = services.record_payment(actor_of(frontdesk), patient, amount="100.00", currency="USD", method="cash")
    services.refund_payment(actor_of(admin_user), payment, amount="10.00", reason="Overpaid at the desk")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "billing.fee.created",
        "billing.fee.version_added",
        "billing.invoice.drafted",
        "billing.invoice.line_added",
        "billing.invoice.issued",
        "billing.payment.recorded",
        "billing.payment.allocated",
        "billing.payment.refunded",
    } <= actions
    issue = AuditEvent.objects.get(action="billing.invoice.issued")
    assert issue.record_uuid == invoice.uuid and issue.patient_uuid == patient.uuid
