"""Writes of the billing app (docs/BILLING.md). Each function checks the actor's permission and the input before
anything is written, then writes in one transaction through audit.services (record, version and audit rows commit
together). Money rules are pure functions of domain/money.py; a refused input raises MoneyError (a DomainError),
ValidationError, AccessDenied or ServiceError, and writes nothing.

A patient's account is locked (SELECT ... FOR UPDATE on the patient row on PostgreSQL; SQLite's BEGIN IMMEDIATE
already serialises writers) while money moves, so two payments at once cannot both pay the same balance.
"""

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from prolotrack.audit.services import (
    Actor,
    ServiceError,
    create_record,
    mark_entered_in_error,
    update_record,
)
from prolotrack.billing import queries
from prolotrack.billing.models import (
    AbnOption,
    AdvanceNotice,
    Coverage,
    CreditNote,
    DocumentCounter,
    FeeItem,
    FeeKind,
    FeeVersion,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    PackageDraw,
    PackageTerms,
    PayerType,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    Refund,
    SoldPackage,
)
from prolotrack.clinical.queries import ProtocolNotFound, find_protocol
from prolotrack.clinics.queries import clinic_today as clinic_today  # one definition, re-exported
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.core import filestore
from prolotrack.core.access import require_same_clinic
from prolotrack.domain import money, packages
from prolotrack.domain.money import Allocation, MoneyError, OpenItem
from prolotrack.domain.packages import PackageError
from prolotrack.patients.models import Patient
from prolotrack.treatment import maps
from prolotrack.treatment.models import Course, CourseStatus, InjectionSite, TreatmentSession

log = logging.getLogger(__name__)

CODE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,19}$")
# A credit note, void or refund says why, as an amendment does (audit.services.MIN_AMENDMENT_REASON).
MIN_REASON = 10


def _currency(actor: Actor) -> str:
    return str(actor.clinic.config.currency)


def _reason(reason: str, what: str) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        raise ValidationError({"reason": f"Say why {what} (at least {MIN_REASON} characters): it is kept with it."})
    return text


def _patient(actor: Actor, patient: Patient) -> None:
    require_same_clinic(actor, patient)
    if patient.is_entered_in_error:
        raise ServiceError("This patient record was marked entered in error; charge nothing to it.")


def _lock_account(patient: Patient) -> None:
    Patient.objects.select_for_update(no_key=True).filter(pk=patient.pk).first()


# --- Fee schedule --------------------------------------------------------------------------------------------------


def _fee_values(actor: Actor, description: str, price: Any, tax_rate: Any) -> dict[str, Any]:
    text = (description or "").strip()
    if not text:
        raise ValidationError({"description": "Describe the item as the patient will read it on the invoice."})
    return {
        "description": text,
        "price": money.parse_amount(price, _currency(actor), what="The price"),
        "tax_rate": money.parse_tax_rate(tax_rate),
    }


def create_fee_item(
    actor: Actor,
    *,
    code: str,
    kind: str,
    description: str,
    price: Any,
    tax_rate: Any = None,
    active_from: date,
) -> FeeItem:
    """Add an item to the clinic's fee schedule with its first version."""
    require_permission(actor, Permission.BILLING_FEES)
    clean_code = (code or "").strip().upper()
    if not CODE.match(clean_code):
        raise ValidationError({"code": "A code is 1-20 letters, digits, dots or dashes, e.g. M0076 or KNEE-FU."})
    if kind not in FeeKind.values:
        raise ValidationError({"kind": f"Choose one of {', '.join(FeeKind.values)}."})
    if kind == FeeKind.PACKAGE:
        raise ValidationError({"kind": "A package offer has terms (uses, validity): add it as a package offer."})
    values = _fee_values(actor, description, price, tax_rate)
    if FeeItem.objects.filter(clinic=actor.clinic, code=clean_code).exists():
        raise ValidationError({"code": f"{clean_code} is already on the fee schedule: add a new version to it."})
    with transaction.atomic():
        item = create_record(
            actor,
            FeeItem(clinic=actor.clinic, code=clean_code, kind=kind, active_from=active_from),
            "billing.fee.created",
        )
        create_record(
            actor,
            FeeVersion(clinic=actor.clinic, item=item, effective_from=active_from, **values),
            "billing.fee.version_added",
            detail={"code": clean_code, "price": values["price"]},
        )
    return item


def add_fee_version(
    actor: Actor, item: FeeItem, *, description: str, price: Any, tax_rate: Any = None, effective_from: date
) -> FeeVersion:
    """A new price (or description, or tax rate) from a day on. Earlier versions stay as they were."""
    require_permission(actor, Permission.BILLING_FEES)
    require_same_clinic(actor, item)
    values = _fee_values(actor, description, price, tax_rate)
    with transaction.atomic():
        latest = FeeVersion.objects.active().filter(item=item).order_by("-effective_from").first()
        if latest is not None and effective_from <= latest.effective_from:
            raise ValidationError(
                {
                    "effective_from": f"A new version starts after the latest one ({latest.effective_from:%Y-%m-%d}): "
                    "history is never rewritten."
                }
            )
        return create_record(
            actor,
            FeeVersion(clinic=actor.clinic, item=item, effective_from=effective_from, **values),
            "billing.fee.version_added",
            detail={"code": item.code, "price": values["price"]},
        )


def end_fee_item(actor: Actor, item: FeeItem, *, active_to: date, expected_version: int | None = None) -> FeeItem:
    """The last day an item may be charged (it stays on the schedule and on every invoice that used it)."""
    require_permission(actor, Permission.BILLING_FEES)
    require_same_clinic(actor, item)
    if active_to < item.active_from:
        raise ValidationError({"active_to": "The last day cannot be before the item's first day."})
    with transaction.atomic():
        return update_record(
            actor, item, {"active_to": active_to}, "billing.fee.ended", expected_version=expected_version
        )


# --- Draft invoices ------------------------------------------------------------------------------------------------


def draft_invoice(actor: Actor, patient: Patient, *, session: TreatmentSession | None = None) -> Invoice:
    """An empty draft invoice for a patient of the clinic (lines are added to it)."""
    require_permission(actor, Permission.BILLING_INVOICE)
    _patient(actor, patient)
    if session is not None:
        require_same_clinic(actor, session)
        if session.patient_id != patient.pk:
            raise ServiceError("This session is another patient's.")
    with transaction.atomic():
        return _new_draft(actor, patient, session)


def _new_draft(
    actor: Actor, patient: Patient, session: TreatmentSession | None, detail: dict[str, Any] | None = None
) -> Invoice:
    return create_record(
        actor,
        Invoice(clinic=actor.clinic, patient=patient, session=session, currency=_currency(actor)),
        "billing.invoice.drafted",
        detail=detail,
    )


def _require_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise ServiceError("This invoice is issued and cannot change: correct it with a credit note.")
    if invoice.is_entered_in_error:
        raise ServiceError("This draft was discarded.")


def _recompute(actor: Actor, invoice: Invoice) -> Invoice:
    lines = queries.invoice_lines(invoice)
    totals = money.invoice_amounts(
        [money.Line(line.quantity, line.unit_price, line.tax_rate) for line in lines], invoice.currency
    )
    changes = {"net_total": totals.net, "tax_total": totals.tax, "total": totals.gross}
    return update_record(actor, invoice, changes, "billing.invoice.totals", expected_version=None)


def _line(invoice: Invoice, version: FeeVersion, position: int, quantity: int, description: str) -> InvoiceLine:
    amounts = money.line_amounts(money.Line(quantity, version.price, version.tax_rate), invoice.currency)
    return InvoiceLine(
        clinic=invoice.clinic,
        invoice=invoice,
        patient=invoice.patient,
        fee=version,
        position=position,
        code=version.item.code,
        description=description or version.description,
        quantity=quantity,
        unit_price=version.price,
        tax_rate=version.tax_rate,
        net=amounts.net,
        tax=amounts.tax,
    )


def _version_for(actor: Actor, item: FeeItem, day: date) -> FeeVersion:
    require_same_clinic(actor, item)
    if item.active_from > day or (item.active_to is not None and item.active_to < day):
        raise ServiceError(f"{item.code} cannot be charged on {day:%Y-%m-%d}: it is not on the schedule that day.")
    version = queries.version_on(item, day)
    if version is None:
        raise ServiceError(f"{item.code} has no price in force on {day:%Y-%m-%d}.")
    return version


def add_line(actor: Actor, invoice: Invoice, item: FeeItem, *, quantity: Any = 1, description: str = "") -> InvoiceLine:
    """Add a fee item to a draft at today's price."""
    require_permission(actor, Permission.BILLING_INVOICE)
    require_same_clinic(actor, invoice)
    _require_draft(invoice)
    count = money.parse_quantity(quantity)
    if item.kind == FeeKind.PACKAGE:
        raise ServiceError(f"{item.code} is a package offer: sell it with 'Sell a package' so its uses are kept.")
    version = _version_for(actor, item, clinic_today(actor.clinic))
    with transaction.atomic():
        position = len(queries.invoice_lines(invoice)) + 1
        line = create_record(
            actor, _line(invoice, version, position, count, description.strip()), "billing.invoice.line_added"
        )
        _recompute(actor, invoice)
    return line


def change_line(actor: Actor, line: InvoiceLine, *, quantity: Any, expected_version: int | None) -> InvoiceLine:
    """Change a draft line's quantity (its price stays the version it was added at)."""
    require_permission(actor, Permission.BILLING_INVOICE)
    require_same_clinic(actor, line)
    _require_draft(line.invoice)
    count = money.parse_quantity(quantity)
    amounts = money.line_amounts(money.Line(count, line.unit_price, line.tax_rate), line.invoice.currency)
    with transaction.atomic():
        saved = update_record(
            actor,
            line,
            {"quantity": count, "net": amounts.net, "tax": amounts.tax},
            "billing.invoice.line_changed",
            expected_version=expected_version,
        )
        _recompute(actor, line.invoice)
    return saved


def remove_line(actor: Actor, line: InvoiceLine, *, reason: str = "Removed from the draft") -> InvoiceLine:
    """Take a line off a draft (kept in its history as entered in error)."""
    require_permission(actor, Permission.BILLING_INVOICE)
    require_same_clinic(actor, line)
    _require_draft(line.invoice)
    with transaction.atomic():
        removed = mark_entered_in_error(actor, line, "billing.invoice.line_removed", reason=reason)
        _give_back(actor, line=line, reason=reason)
        _recompute(actor, line.invoice)
    return removed


def _site_regions(session: TreatmentSession) -> list[tuple[str, str]]:
    out = []
    for site in InjectionSite.objects.active().filter(session=session).order_by("number"):
        region = maps.body_map(site.body_map).region
        out.append((region.label.lower(), site.side))
    return out


def procedure_item(actor: Actor, day: date) -> FeeItem:
    """The fee item of a prolotherapy session: M0076 if the schedule has it, else its first procedure item."""
    items = queries.chargeable_items(actor.clinic, day, kind=FeeKind.PROCEDURE)
    if not items:
        raise ServiceError(
            "The fee schedule has no procedure item that can be charged today: add one (e.g. HCPCS M0076) first."
        )
    return next((item for item in items if item.code == "M0076"), items[0])


def draft_from_session(actor: Actor, session: TreatmentSession) -> Invoice:
    """A draft invoice for a signed session: its procedure lines as the clinic's fee rule says (docs/BILLING.md)."""
    require_permission(actor, Permission.BILLING_INVOICE)
    require_same_clinic(actor, session)
    if not session.is_signed:
        raise ServiceError("Only a signed session is charged: sign the session note first.")
    existing = queries.invoice_for_session(session)
    if existing is not None:
        raise ServiceError(
            f"This session already has {'a draft invoice' if existing.number is None else f'invoice {existing.number}'}."
        )
    _patient(actor, session.patient)
    with transaction.atomic():
        return _draft_lines(actor, session)


def _draft_lines(actor: Actor, session: TreatmentSession, detail: dict[str, Any] | None = None) -> Invoice:
    """The draft and its procedure lines at today's prices, inside the caller's transaction (no permission check:
    the callers check it, or are the system drafting on a signature)."""
    day = clinic_today(actor.clinic)
    item = procedure_item(actor, day)
    version = _version_for(actor, item, day)
    lines = money.procedure_lines(actor.clinic.config.session_fee_rule, _site_regions(session))
    # A package of the session's course draws a use instead of a charge (docs/BILLING.md, "Course packages").
    # The course's packages are locked while a use is counted and drawn (SELECT ... FOR UPDATE on PostgreSQL; SQLite's
    # BEGIN IMMEDIATE serialises writers): two sessions drafted at once never both take the last use.
    list(
        SoldPackage.objects.select_for_update(no_key=True)
        .filter(course_id=session.course_id)
        .values_list("pk", flat=True)
    )
    sold, refusal = queries.package_for_session(session, item.code)
    invoice = _new_draft(actor, session.patient, session, detail)
    use = None if sold is None else _draw(actor, sold, session, invoice)
    for position, procedure in enumerate(lines, start=1):
        label = f"{version.description} ({procedure.label})" if procedure.label else version.description
        row = _line(invoice, version, position, procedure.quantity, label)
        if use is not None and sold is not None:
            row.description = f"{label}: package use {use.number} of {sold.uses}, {sold.name}"[:300]
            row.unit_price = row.net = row.tax = Decimal(0)
        create_record(actor, row, "billing.invoice.line_added")
    if refusal and sold is None:
        update_record(actor, invoice, {"note": refusal}, "billing.package.not_drawn", expected_version=None)
    return _recompute(actor, invoice)


def draft_invoice_for_session(signer: Actor, session_pk: int) -> Invoice | None:
    """The automatic draft of a session just signed (the treatment.session_signed event, once the signature is
    committed; docs/BILLING.md, "Automatic draft on signing").

    Written by the system on the signature's behalf (the signing clinician need not hold billing.invoice; the audit
    row says `automatic` and who signed). Nothing is drafted, and None returned, when the session is not signed or
    was entered in error, its patient was, the clinic's fee schedule has no procedure item chargeable today, or the
    session ever had an invoice (a draft, issued, voided, or a draft the front desk discarded): signing again or
    amending never drafts twice, and the session row is locked while this looks, so two calls at once draft once.
    Never raises: a failure is logged and the session stays on the account's "signed sessions not yet charged".
    A signature the system made (the demo seed, a script loading past records: channel "system") is not drafted:
    the automatic draft follows a person signing at the point of care.
    """
    if signer.channel == "system":
        return None
    try:
        with transaction.atomic():
            session = (
                TreatmentSession.objects.select_for_update(no_key=True)
                .select_related("clinic", "patient")
                .filter(pk=session_pk)
                .first()
            )
            if session is None or not session.is_signed or session.is_entered_in_error:
                return None
            if session.patient.is_entered_in_error or Invoice.objects.filter(session=session).exists():
                return None
            system = Actor.system(session.clinic)
            if not queries.chargeable_items(session.clinic, clinic_today(session.clinic), kind=FeeKind.PROCEDURE):
                return None
            signed_by = signer.user.pk if signer.user is not None else None
            return _draft_lines(system, session, {"automatic": True, "session": session.number, "signed_by": signed_by})
    except Exception:
        log.exception("Could not draft the invoice of signed session %s", session_pk)
        return None


def discard_draft(actor: Actor, invoice: Invoice, *, reason: str) -> Invoice:
    """A draft that will not be issued (kept, marked entered in error)."""
    require_permission(actor, Permission.BILLING_INVOICE)
    require_same_clinic(actor, invoice)
    _require_draft(invoice)
    with transaction.atomic():
        _give_back(actor, invoice=invoice, reason=reason)
        return mark_entered_in_error(actor, invoice, "billing.invoice.discarded", reason=reason)


# --- Issue ---------------------------------------------------------------------------------------------------------


def next_number(clinic: Any, kind: str) -> int:
    """The clinic's next number of a kind, gapless: the counter row is locked until the transaction ends (SELECT ...
    FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers), so a rolled-back issue gives its number
    back and two issues at once never share one."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Numbers are taken inside the transaction that uses them.")
    try:
        counter = DocumentCounter.objects.select_for_update(no_key=True).get(clinic=clinic, kind=kind)
    except DocumentCounter.DoesNotExist:
        DocumentCounter.objects.get_or_create(clinic=clinic, kind=kind)
        counter = DocumentCounter.objects.select_for_update(no_key=True).get(clinic=clinic, kind=kind)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def issue_invoice(actor: Actor, invoice: Invoice, *, expected_version: int | None = None) -> Invoice:
    """Issue a draft: it takes the clinic's next number and never changes again; account credit pays it first."""
    require_permission(actor, Permission.BILLING_INVOICE)
    require_same_clinic(actor, invoice)
    _require_draft(invoice)
    if not queries.invoice_lines(invoice):
        raise ServiceError("This draft has no lines: add what is charged before issuing it.")
    with transaction.atomic():
        _lock_account(invoice.patient)
        current = Invoice.objects.select_for_update(no_key=True).get(pk=invoice.pk)
        _require_draft(current)
        changes = {
            "status": InvoiceStatus.ISSUED,
            "number": next_number(actor.clinic, "invoice"),
            "issued_on": clinic_today(actor.clinic),
            "issued_at": timezone.now(),
        }
        issued = update_record(actor, current, changes, "billing.invoice.issued", expected_version=expected_version)
        _use_credit(actor, issued)
    return issued


def _use_credit(actor: Actor, invoice: Invoice) -> list[PaymentAllocation]:
    """Pay an issued invoice from the patient's account credit, oldest payment first."""
    due = queries.invoice_balance(invoice)
    out = []
    for payment, left in queries.payments_with_credit(invoice.patient):
        if due <= 0:
            break
        if payment.currency != invoice.currency:
            continue
        part = min(due, left)
        out.append(_allocate(actor, payment, invoice, part, "billing.credit.used"))
        due -= part
    return out


def use_credit(actor: Actor, invoice: Invoice) -> list[PaymentAllocation]:
    """Pay an open invoice from the account credit the patient holds."""
    require_permission(actor, Permission.BILLING_PAYMENT)
    require_same_clinic(actor, invoice)
    if invoice.status != InvoiceStatus.ISSUED:
        raise ServiceError("Only an issued invoice can be paid.")
    with transaction.atomic():
        _lock_account(invoice.patient)
        return _use_credit(actor, invoice)


def _allocate(
    actor: Actor,
    payment: Payment,
    invoice: Invoice,
    amount: Decimal,
    action: str,
    credit_note: CreditNote | None = None,
) -> PaymentAllocation:
    row = PaymentAllocation(
        clinic=actor.clinic,
        payment=payment,
        invoice=invoice,
        patient=invoice.patient,
        amount=amount,
        credit_note=credit_note,
    )
    return create_record(actor, row, action, detail={"invoice": invoice.number, "amount": amount})


# --- Credit notes --------------------------------------------------------------------------------------------------


def credit_invoice(actor: Actor, invoice: Invoice, *, amount: Any, reason: str, void: bool = False) -> CreditNote:
    """A credit note on an issued invoice. What the invoice then asks for less than was paid on it goes back to the
    patient's account credit (newest payments first), to be used or refunded."""
    require_permission(actor, Permission.BILLING_CREDIT)
    require_same_clinic(actor, invoice)
    if invoice.status != InvoiceStatus.ISSUED:
        raise ServiceError("Only an issued invoice (not a draft, not one already voided) can be credited.")
    text = _reason(reason, "it is credited")
    with transaction.atomic():
        _lock_account(invoice.patient)
        credited = queries.invoice_credited(invoice)
        if void:
            amount = money.credit_limit(invoice.total, credited)
        value = money.check_credit(amount, invoice.total, credited, invoice.currency, whole=void)
        tax = money.credit_tax(value, money.Amounts(invoice.net_total, invoice.tax_total), invoice.currency)
        note = create_record(
            actor,
            CreditNote(
                clinic=actor.clinic,
                invoice=invoice,
                patient=invoice.patient,
                number=next_number(actor.clinic, "credit_note"),
                issued_on=clinic_today(actor.clinic),
                amount=value,
                tax=tax,
                reason=text,
                is_void=void,
            ),
            "billing.invoice.voided" if void else "billing.credit_note.issued",
            detail={"invoice": invoice.number, "amount": value},
        )
        _release(actor, invoice, note, invoice.total - credited - value)
        if credited + value == invoice.total:
            _give_back(actor, draws_of=invoice, reason=f"Invoice credited in full: {text}")
            update_record(
                actor,
                invoice,
                {"status": InvoiceStatus.VOID},
                "billing.invoice.credited_in_full",
                expected_version=None,
                reason=text,
                amendment=True,
            )
    return note


def void_invoice(actor: Actor, invoice: Invoice, *, reason: str) -> CreditNote:
    """Void an issued invoice: a credit note for all it still asks."""
    return credit_invoice(actor, invoice, amount=None, reason=reason, void=True)


def _release(actor: Actor, invoice: Invoice, note: CreditNote, now_asks: Decimal) -> None:
    rows = queries.allocations_of(invoice)
    paid = sum((row.amount for row in rows), Decimal(0))
    if paid <= now_asks:
        return
    per_payment: dict[str, Decimal] = {}
    payments: dict[str, Payment] = {}
    for row in rows:
        key = str(row.payment.uuid)
        per_payment[key] = per_payment.get(key, Decimal(0)) + row.amount
        payments[key] = row.payment
    net = [Allocation(key, value) for key, value in per_payment.items() if value > 0]
    for part in money.release(net, paid - now_asks):
        _allocate(actor, payments[part.key], invoice, -part.amount, "billing.credit.released", credit_note=note)


# --- Payments and refunds ------------------------------------------------------------------------------------------


def record_payment(
    actor: Actor,
    patient: Patient,
    *,
    amount: Any,
    currency: str,
    method: str,
    received_on: date | None = None,
    reference: str = "",
    note: str = "",
    chosen: Sequence[tuple[Invoice, Any]] | None = None,
) -> Payment:
    """Money taken from a patient: it pays the open invoices oldest first, or the amounts chosen; what is left is
    account credit (used by the next invoice, or refunded)."""
    require_permission(actor, Permission.BILLING_PAYMENT)
    _patient(actor, patient)
    clinic_currency = _currency(actor)
    given = money.parse_currency(currency)
    if given != clinic_currency:
        raise MoneyError(f"This clinic takes payments in {clinic_currency}; a payment in {given} is refused.")
    value = money.parse_amount(amount, clinic_currency, what="The payment", allow_zero=False)
    if method not in PaymentMethod.values:
        raise ValidationError({"method": f"Choose one of {', '.join(PaymentMethod.values)}."})
    day = received_on or clinic_today(actor.clinic)
    if day > clinic_today(actor.clinic):
        raise ValidationError({"received_on": "A payment cannot be received in the future (the clinic's date)."})
    for invoice, _amount in chosen or ():
        require_same_clinic(actor, invoice)
        if invoice.patient_id != patient.pk:
            raise ServiceError(f"Invoice {invoice.number} is another patient's.")
    with transaction.atomic():
        _lock_account(patient)
        open_rows = [row for row in queries.open_invoices(patient) if row.currency == clinic_currency]
        items = [OpenItem(str(row.uuid), row.issued_on or day, row.number or 0, row.balance) for row in open_rows]
        picks = None if chosen is None else [Allocation(str(inv.uuid), Decimal(str(amt))) for inv, amt in chosen]
        plan = money.allocate(value, items, clinic_currency, chosen=picks)
        payment = create_record(
            actor,
            Payment(
                clinic=actor.clinic,
                patient=patient,
                currency=clinic_currency,
                amount=value,
                method=method,
                received_on=day,
                reference=(reference or "").strip(),
                note=(note or "").strip(),
            ),
            "billing.payment.recorded",
            detail={"amount": value, "method": method, "to_credit": plan.to_credit},
        )
        by_key = {str(row.uuid): row for row in open_rows}
        for part in plan.allocations:
            _allocate(actor, payment, by_key[part.key], part.amount, "billing.payment.allocated")
    return payment


@dataclass(frozen=True)
class PaymentPart:
    """One method's part of a payment taken at checkout: the method, the amount (as typed) and its reference."""

    method: str
    amount: Any
    reference: str = ""
    row: int = 0  # the form's row it came from (its fields are named method_<row>, amount_<row>); 0: its place


def pay_invoice_in_parts(actor: Actor, invoice: Invoice, parts: Sequence[PaymentPart]) -> list[Payment]:
    """Checkout (docs/BILLING.md): an issued invoice paid by several methods at once (the card terminal's part with
    its reference, the rest in cash, say). Each part is a payment of its own, paying this invoice, so each keeps its
    method and reference for the takings and refunds; all parts are written in one transaction, or none. Together
    they are at most what the invoice still owes: money paid ahead goes through "Take a payment" on the account.
    Refusals name the part (`amount_2`, `method_1`) and write nothing."""
    require_permission(actor, Permission.BILLING_PAYMENT)
    require_same_clinic(actor, invoice)
    _patient(actor, invoice.patient)
    if invoice.status != InvoiceStatus.ISSUED:
        raise ServiceError("Only an issued invoice is paid at checkout: issue the draft first.")
    if not parts:
        raise ValidationError({"amount_1": "Type the amount taken by at least one method."})
    values = []
    for place, part in enumerate(parts, start=1):
        n = part.row or place
        if part.method not in PaymentMethod.values:
            raise ValidationError({f"method_{n}": f"Choose one of {', '.join(PaymentMethod.values)}."})
        try:
            values.append(money.parse_amount(part.amount, invoice.currency, what=f"Part {n}", allow_zero=False))
        except MoneyError as error:
            raise ValidationError({f"amount_{n}": str(error)}) from None
    total = sum(values, Decimal(0))
    with transaction.atomic():
        _lock_account(invoice.patient)
        owed = queries.invoice_balance(Invoice.objects.get(pk=invoice.pk))
        if total > owed:
            raise ValidationError(
                f"The parts add up to {money.format_money(total, invoice.currency)}, more than the "
                f"{money.format_money(owed, invoice.currency)} {invoice} still owes: lower a part (money paid ahead "
                "is taken with 'Take a payment' on the account)."
            )
        return [
            record_payment(
                actor,
                invoice.patient,
                amount=value,
                currency=invoice.currency,
                method=part.method,
                reference=part.reference,
                chosen=[(invoice, value)],
            )
            for part, value in zip(parts, values, strict=True)
        ]


def refund_payment(actor: Actor, payment: Payment, *, amount: Any, reason: str, reference: str = "") -> Refund:
    """Give money back from a payment, to its own method: never more than its part that pays no invoice."""
    require_permission(actor, Permission.BILLING_CREDIT)
    require_same_clinic(actor, payment)
    text = _reason(reason, "the money goes back")
    with transaction.atomic():
        _lock_account(payment.patient)
        value = money.check_refund(
            amount,
            payment.amount,
            queries.payment_refunded(payment),
            queries.payment_allocated(payment),
            payment.currency,
        )
        return create_record(
            actor,
            Refund(
                clinic=actor.clinic,
                payment=payment,
                patient=payment.patient,
                amount=value,
                method=payment.method,
                refunded_on=clinic_today(actor.clinic),
                reason=text,
                reference=(reference or "").strip(),
            ),
            "billing.payment.refunded",
            detail={"amount": value, "method": payment.method},
        )


# === Coverage and the Medicare ABN (docs/BILLING.md, "Medicare ABN") =========================================
MEMBER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{1,38}[A-Za-z0-9]$")
# A health-status change recorded on an ABN says what changed, as an amendment does.
MIN_HEALTH_CHANGE = 10


def record_coverage(
    actor: Actor, patient: Patient, *, payer: str, payer_name: str = "", member_id: str = ""
) -> Coverage:
    """Record who pays for the patient's care: a new coverage row (the newest is the patient's coverage). The member
    id is kept for the clinic's own use, shown by its last 4 characters, never printed (docs/BILLING.md)."""
    require_permission(actor, Permission.BILLING_ABN)
    _patient(actor, patient)
    if payer not in PayerType.values:
        raise ValidationError({"payer": f"Choose who pays: {', '.join(PayerType.labels)}."})
    payer_name = " ".join((payer_name or "").split())
    if len(payer_name) > 120:
        raise ValidationError({"payer_name": "The plan or insurer's name: at most 120 characters."})
    member_id = " ".join((member_id or "").split())
    if member_id and not MEMBER_ID.match(member_id):
        raise ValidationError(
            {"member_id": "A member id is 3-40 letters, digits, spaces or dashes, as printed on the card."}
        )
    if payer in (PayerType.ORIGINAL_MEDICARE, PayerType.MEDICARE_ADVANTAGE, PayerType.COMMERCIAL) and not member_id:
        raise ValidationError({"member_id": "Type the member id from the patient's card for this coverage."})
    if payer == PayerType.SELF_PAY and member_id:
        raise ValidationError({"member_id": "A self-pay patient has no member id: leave it empty."})
    current = queries.current_coverage(patient)
    if (
        current is not None
        and current.payer == payer
        and current.payer_name == payer_name
        and current.member_id == member_id
    ):
        return current
    with transaction.atomic():
        return create_record(
            actor,
            Coverage(
                clinic=patient.clinic,
                patient=patient,
                payer=payer,
                payer_name=payer_name,
                member_id=member_id,
                member_id_last4=member_id.replace(" ", "").replace("-", "")[-4:],
            ),
            "billing.coverage.recorded",
            detail={"payer": payer},
        )


def render_abn_pdf(notice: AdvanceNotice, options: Sequence[tuple[str, str]]) -> bytes:
    """The ABN as signed (blanks A-J, the option checked, the signature embedded as a data: URI)."""
    from prolotrack.core.pdf import render_pdf
    from prolotrack.core.signatures import data_url

    clinic = notice.clinic
    with timezone.override(clinic.tz):
        return render_pdf(
            "billing/abn/pdf.html",
            {
                "clinic": clinic,
                "title": "Advance Beneficiary Notice of Noncoverage (ABN)",
                "notice": notice,
                "options": options,
                "signature": data_url(notice.signature),
                "d_header": queries.ABN_D_HEADER,
            },
        )


def sign_abn(
    actor: Actor,
    course: Any,
    *,
    text_sha256: str,
    option: str,
    signer_name: str,
    signature: bytes,
    additional: str = "",
    render: bool = True,
) -> AdvanceNotice:
    """Record an ABN for a course, read and signed on screen: blanks A-F from the plan, the option the patient
    checked (G), additional information (H), the signature (I) and the date (J); PDF and SHA-256 stored with it.

    `text_sha256` is the hash of blanks A-F the patient was shown: if the plan, the prices or the clinic changed since,
    nothing is signed. A new ABN supersedes the course's earlier ones (they stay as they were). `render=False` is for
    tests only (no PDF stored)."""
    from prolotrack.core.signatures import check_png

    require_permission(actor, Permission.BILLING_ABN)
    require_same_clinic(actor, course)
    patient = course.patient
    _patient(actor, patient)
    if course.is_entered_in_error or course.status != "open":
        raise ServiceError("An ABN is given for an open course: this course is closed or was entered in error.")
    coverage = queries.current_coverage(patient)
    if coverage is None or coverage.payer != PayerType.ORIGINAL_MEDICARE:
        raise ServiceError(
            "An ABN is for a patient whose coverage is Original Medicare: record the patient's coverage first."
        )
    draft = queries.abn_draft(course)
    if draft.error:
        raise ServiceError(draft.error)
    if text_sha256 != draft.sha256:
        raise ServiceError(
            "The ABN's blanks changed since this page was opened (the plan, a price or the clinic's details): "
            "nothing was signed. Reload the page, go through the new notice with the patient, and sign again."
        )
    if option not in AbnOption.values:
        raise ValidationError({"option": "The patient checks one option: 1, 2 or 3."})
    signer_name = " ".join((signer_name or "").split())
    if len(signer_name) < 2:
        raise ValidationError({"signer_name": "Type the name of who signed (the patient or a representative)."})
    if len(signer_name) > 200:
        raise ValidationError({"signer_name": "A name of at most 200 characters."})
    additional = (additional or "").strip()
    if len(additional) > 1000:
        raise ValidationError({"additional": "Additional information: at most 1000 characters."})
    check_png(signature, "signature", "The patient")
    assert draft.plan is not None and draft.plan.estimate is not None
    estimate = draft.plan.estimate
    now = timezone.now()
    notice = AdvanceNotice(
        clinic=patient.clinic,
        patient=patient,
        course=course,
        notifier=draft.notifier,
        patient_name=draft.patient_name,
        identification=draft.identification,
        items=draft.items,
        reason=draft.reason,
        estimate_text=draft.estimate_text,
        estimate_low=estimate.low,
        estimate_high=estimate.high,
        currency=estimate.currency,
        package=estimate.package,
        additional=additional,
        option=option,
        signer_name=signer_name,
        signed_on=clinic_today(patient.clinic),
        signed_at=now,
        sessions=draft.plan.sessions,
        period_start=draft.plan.days[0],
        period_end=draft.plan.days[-1],
        text_sha256=draft.sha256,
        signature=signature,
    )
    if render:
        pdf = render_abn_pdf(notice, draft.options)
        notice.pdf_name = filestore.put(pdf, "pdf")  # stored once, before the row that names it
        notice.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    with transaction.atomic():
        return create_record(
            actor,
            notice,
            "billing.abn.signed",
            detail={"course": str(course.uuid), "option": option, "sessions": notice.sessions},
        )


def record_health_change(
    actor: Actor, notice: AdvanceNotice, *, reason: str, expected_version: int | None = None
) -> AdvanceNotice:
    """Record that the patient's health status changed since the ABN: it no longer describes the care, and the next
    session needs a new one. The notice's blanks stay as signed; this is an amendment with its reason."""
    require_permission(actor, Permission.BILLING_ABN)
    require_same_clinic(actor, notice)
    text = " ".join((reason or "").split())
    if len(text) < MIN_HEALTH_CHANGE:
        raise ValidationError(
            {"reason": f"Say what changed in the patient's health (at least {MIN_HEALTH_CHANGE} characters)."}
        )
    if notice.health_change:
        raise ServiceError("A change of health status is already recorded on this ABN: issue a new ABN.")
    with transaction.atomic():
        return update_record(
            actor,
            notice,
            {"health_change": text, "health_change_at": timezone.now()},
            "billing.abn.health_changed",
            expected_version=expected_version,
            reason=f"Health status changed: {text}",
            amendment=True,
        )


def ensure_abn_pdf(actor: Actor, notice: AdvanceNotice) -> AdvanceNotice:
    """The notice with its stored PDF (rendered once, when signed; never rendered again later)."""
    require_permission(actor, Permission.BILLING_VIEW)
    require_same_clinic(actor, notice)
    if not notice.pdf_sha256:
        raise ServiceError("This ABN has no stored PDF.")
    return notice


# --- Course packages (docs/BILLING.md, "Course packages") -----------------------------------------------------------


def _terms(actor: Actor, uses: Any, validity_days: Any, protocol_id: str, item_codes: Sequence[str]) -> dict[str, Any]:
    """The terms of a package offer's version, checked: uses, validity, and a protocol or chosen fee items."""
    try:
        clean_uses = packages.parse_uses(uses)
    except PackageError as error:
        raise ValidationError({"uses": str(error)}) from None
    try:
        days = packages.parse_validity_days(validity_days)
    except PackageError as error:
        raise ValidationError({"validity_days": str(error)}) from None
    protocol = (protocol_id or "").strip()
    codes = list(dict.fromkeys(code.strip().upper() for code in item_codes or () if code and code.strip()))
    if protocol and codes:
        raise ValidationError({"item_codes": "Name a protocol or chosen fee items, not both."})
    if not protocol and not codes:
        raise ValidationError({"protocol_id": "Name the protocol whose sessions it covers, or choose fee items."})
    name = ""
    if protocol:
        try:
            entry = find_protocol(actor.clinic, protocol)
        except ProtocolNotFound as error:
            raise ValidationError({"protocol_id": f"{error} Choose one of the clinic's protocols."}) from None
        name = entry.record.name if entry.record is not None else entry.template.name if entry.template else protocol
    for code in codes:
        item = FeeItem.objects.active().filter(clinic=actor.clinic, code=code).first()
        if item is None or item.kind == FeeKind.PACKAGE:
            raise ValidationError({"item_codes": f"{code} is not a fee item of this clinic a package can cover."})
    return {"uses": clean_uses, "validity_days": days, "protocol_id": protocol, "protocol_name": name,
            "item_codes": codes}  # fmt: skip


def create_package_offer(
    actor: Actor,
    *,
    code: str,
    description: str,
    price: Any,
    uses: Any,
    validity_days: Any,
    protocol_id: str = "",
    item_codes: Sequence[str] = (),
    tax_rate: Any = None,
    active_from: date,
) -> FeeItem:
    """A package offer on the fee schedule: a fee item of kind 'package' whose first version carries its terms."""
    require_permission(actor, Permission.BILLING_FEES)
    clean_code = (code or "").strip().upper()
    if not CODE.match(clean_code):
        raise ValidationError({"code": "A code is 1-20 letters, digits, dots or dashes, e.g. PKG-KNEE-3."})
    values = _fee_values(actor, description, price, tax_rate)
    terms = _terms(actor, uses, validity_days, protocol_id, item_codes)
    if FeeItem.objects.filter(clinic=actor.clinic, code=clean_code).exists():
        raise ValidationError({"code": f"{clean_code} is already on the fee schedule: add a new version to it."})
    with transaction.atomic():
        item = create_record(
            actor,
            FeeItem(clinic=actor.clinic, code=clean_code, kind=FeeKind.PACKAGE, active_from=active_from),
            "billing.fee.created",
        )
        version = create_record(
            actor,
            FeeVersion(clinic=actor.clinic, item=item, effective_from=active_from, **values),
            "billing.fee.version_added",
            detail={"code": clean_code, "price": values["price"]},
        )
        create_record(
            actor,
            PackageTerms(clinic=actor.clinic, fee_version=version, **terms),
            "billing.package.terms_added",
            detail={"code": clean_code, "uses": terms["uses"], "validity_days": terms["validity_days"]},
        )
    return item


def add_package_version(
    actor: Actor,
    item: FeeItem,
    *,
    description: str,
    price: Any,
    uses: Any,
    validity_days: Any,
    protocol_id: str = "",
    item_codes: Sequence[str] = (),
    tax_rate: Any = None,
    effective_from: date,
) -> FeeVersion:
    """New terms or a new price of a package offer from a day on; packages already sold keep theirs."""
    require_permission(actor, Permission.BILLING_FEES)
    require_same_clinic(actor, item)
    if item.kind != FeeKind.PACKAGE:
        raise ValidationError({"code": f"{item.code} is not a package offer."})
    terms = _terms(actor, uses, validity_days, protocol_id, item_codes)
    with transaction.atomic():
        version = add_fee_version(
            actor, item, description=description, price=price, tax_rate=tax_rate, effective_from=effective_from
        )
        create_record(
            actor,
            PackageTerms(clinic=actor.clinic, fee_version=version, **terms),
            "billing.package.terms_added",
            detail={"code": item.code, "uses": terms["uses"], "validity_days": terms["validity_days"]},
        )
    return version


def _check_course(actor: Actor, course: Course, patient: Patient, terms: PackageTerms) -> None:
    require_same_clinic(actor, course)
    if course.patient_id != patient.pk:
        raise ServiceError("This course is another patient's: link the package to a course of its own patient.")
    if course.is_entered_in_error or course.status != CourseStatus.OPEN:
        raise ServiceError("A package is linked to an open course only.")
    if terms.protocol_id and course.protocol_id != terms.protocol_id:
        raise ServiceError(
            f"This package covers sessions of {terms.protocol_name or terms.protocol_id}; the course follows "
            f"{course.protocol_name or 'no protocol'}. Choose a course of that protocol."
        )


def sell_package(actor: Actor, invoice: Invoice, offer: FeeItem, *, course: Course | None = None) -> SoldPackage:
    """Sell a package on a draft invoice: a line at the offer's price today, and the package with its uses, linked
    to one of the patient's open courses if given. It is valid for the offer's days from today; sold for a course,
    from the course's first day (a session given before the sale and not yet charged may draw a use)."""
    require_permission(actor, Permission.BILLING_INVOICE)
    require_same_clinic(actor, invoice)
    require_same_clinic(actor, offer)
    if invoice.status != InvoiceStatus.DRAFT or invoice.is_entered_in_error:
        raise ServiceError("A package is sold on a draft invoice: this one is issued (or discarded). Start a new one.")
    _patient(actor, invoice.patient)
    if offer.kind != FeeKind.PACKAGE:
        raise ValidationError({"offer": f"{offer.code} is not a package offer."})
    day = clinic_today(actor.clinic)
    version = _version_for(actor, offer, day)
    terms = PackageTerms.objects.active().filter(fee_version=version).first()
    if terms is None:
        raise ServiceError(f"{offer.code} has no package terms in force today: add a version of the offer.")
    if course is not None:
        _check_course(actor, course, invoice.patient, terms)
    last = packages.valid_to(day, terms.validity_days)
    first = min(day, course.started_on) if course is not None else day
    with transaction.atomic():
        position = len(queries.invoice_lines(invoice)) + 1
        label = f"{version.description} ({terms.uses} uses, valid to {last:%Y-%m-%d})"
        line = create_record(actor, _line(invoice, version, position, 1, label), "billing.invoice.line_added")
        sold = create_record(
            actor,
            SoldPackage(
                clinic=actor.clinic,
                patient=invoice.patient,
                offer=offer,
                terms=terms,
                invoice=invoice,
                line=line,
                course=course,
                name=version.description,
                uses=terms.uses,
                valid_from=first,
                valid_to=last,
            ),
            "billing.package.sold",
            detail={"code": offer.code, "uses": terms.uses, "price": line.gross},
        )
        _recompute(actor, invoice)
    return sold


def link_package(
    actor: Actor, sold: SoldPackage, course: Course, *, expected_version: int | None = None
) -> SoldPackage:
    """Link a package to one of its patient's open courses (another course only while no use was drawn); it then
    covers the course's sessions from the course's first day, as when sold for it."""
    require_permission(actor, Permission.BILLING_INVOICE)
    require_same_clinic(actor, sold)
    _check_course(actor, course, sold.patient, sold.terms)
    if sold.settled_on is not None:
        raise ServiceError("This package is settled: its course stopped early.")
    if sold.course_id not in (None, course.pk) and queries.drawn(sold):
        raise ServiceError("Uses of this package were drawn by its course: it stays linked to it.")
    changes = {"course": course, "valid_from": min(sold.valid_from, course.started_on)}
    with transaction.atomic():
        return update_record(actor, sold, changes, "billing.package.linked", expected_version=expected_version)


def _draw(actor: Actor, sold: SoldPackage, session: TreatmentSession, invoice: Invoice) -> PackageDraw:
    # Use n of the uses: the lowest number no standing draw holds (a use given back is taken again first).
    held = {draw.number for draw in queries.draws_of(sold)}
    number = min(set(range(1, sold.uses + 2)) - held)
    return create_record(
        actor,
        PackageDraw(
            clinic=actor.clinic,
            package=sold,
            patient=session.patient,
            session=session,
            invoice=invoice,
            service_date=queries.session_day(session),
            number=number,
        ),
        "billing.package.drawn",
        detail={"package": str(sold.uuid), "use": number, "of": sold.uses},
    )


def _give_back(
    actor: Actor,
    *,
    invoice: Invoice | None = None,
    line: InvoiceLine | None = None,
    draws_of: Invoice | None = None,
    reason: str,
) -> None:
    """Packages sold on a discarded draft (`invoice`) or a removed line, and uses drawn by a discarded draft or a
    voided invoice (`draws_of`), go with it (marked entered in error: kept, with the reason). A package whose sale is
    voided stays, settled or not: it is no longer drawable (queries.drawable)."""
    if line is not None:
        for sold in SoldPackage.objects.active().filter(line=line):
            mark_entered_in_error(actor, sold, "billing.package.removed", reason=reason)
    if invoice is not None:
        for sold in SoldPackage.objects.active().filter(invoice=invoice):
            mark_entered_in_error(actor, sold, "billing.package.removed", reason=reason)
        draws_of = invoice
    if draws_of is not None:
        for draw in PackageDraw.objects.active().filter(invoice=draws_of):
            mark_entered_in_error(actor, draw, "billing.package.use_returned", reason=reason)


def settle_stopped_package(actor: Actor, sold: SoldPackage, *, expected_version: int | None = None) -> SoldPackage:
    """A package whose course stopped early: its unused uses give back what the clinic's rule says (pro rata or
    nothing) as a credit note on the invoice that sold it; the package is then settled and draws no more."""
    require_permission(actor, Permission.BILLING_CREDIT)
    require_same_clinic(actor, sold)
    if sold.settled_on is not None:
        raise ServiceError(f"This package was settled on {sold.settled_on:%Y-%m-%d}.")
    course = sold.course
    if course is None or course.status != CourseStatus.STOPPED:
        raise ServiceError("Only a package whose course was stopped early is settled: stop the course first.")
    invoice = sold.invoice
    if invoice.status != InvoiceStatus.ISSUED:
        raise ServiceError(
            "The invoice that sold this package is not issued or was voided: there is nothing to give back."
        )
    rule = actor.clinic.config.package_refund_rule
    used = queries.drawn(sold)
    left = packages.remaining(sold.uses, used)
    amount = packages.refund_amount(rule, sold.line.gross, sold.uses, used, invoice.currency)
    with transaction.atomic():
        note = None
        # Never more than the invoice may still be credited (an earlier credit note may have given part back).
        amount = min(amount, money.credit_limit(invoice.total, queries.invoice_credited(invoice)))
        if amount > 0:
            note = credit_invoice(
                actor,
                invoice,
                amount=amount,
                reason=f"Course stopped early: {left} of {sold.uses} uses of '{sold.name}' unused, given back pro rata "
                "(the clinic's package refund rule).",
            )
        return update_record(
            actor,
            sold,
            {"settled_on": clinic_today(actor.clinic), "settle_rule": rule, "refund": amount, "credit_note": note},
            "billing.package.settled",
            expected_version=expected_version,
        )


def sell_package_on_new_draft(
    actor: Actor, patient: Patient, offer: FeeItem, *, course: Course | None = None
) -> SoldPackage:
    """'Sell a package' from the account: a new draft invoice of the patient with the package on it."""
    with transaction.atomic():
        return sell_package(actor, draft_invoice(actor, patient), offer, course=course)
