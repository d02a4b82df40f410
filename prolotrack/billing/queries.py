"""Reads of the billing app: the fee schedule, an invoice with its lines and money, a patient's account.

Every lookup is inside the caller's clinic (another clinic's record raises DoesNotExist, answered 404). Balances are
never stored: they are sums over the rows that make them (invoices, credit notes, allocations, refunds), so they
cannot drift from the history.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum

from prolotrack.billing.models import (
    AdvanceNotice,
    Coverage,
    CreditNote,
    FeeItem,
    FeeKind,
    FeeVersion,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    PackageDraw,
    PackageTerms,
    Payment,
    PaymentAllocation,
    Refund,
    SoldPackage,
)
from prolotrack.domain import abn
from prolotrack.domain.packages import PackageState, draw_refusal, remaining, share
from prolotrack.treatment.models import Course, CourseStatus, TreatmentSession

ZERO = Decimal(0)


def _sum(queryset: QuerySet[Any], name: str = "amount") -> Decimal:
    value = queryset.aggregate(total=Sum(name))["total"]
    return value if value is not None else ZERO


# --- Fee schedule --------------------------------------------------------------------------------------------------


def fee_items(clinic: Any, *, packages: bool = True) -> list[FeeItem]:
    """Every item of the clinic's fee schedule with its versions (newest first), by code (package offers too, unless
    `packages` is False: the fee schedule page lists them apart)."""
    versions = Prefetch("versions", queryset=FeeVersion.objects.active().order_by("-effective_from"))
    items = FeeItem.objects.active().filter(clinic=clinic)
    if not packages:
        items = items.exclude(kind=FeeKind.PACKAGE)
    return list(items.prefetch_related(versions).order_by("code"))


def fee_item(clinic: Any, uuid: Any) -> FeeItem:
    return FeeItem.objects.active().get(clinic=clinic, uuid=uuid)


def version_on(item: FeeItem, day: date) -> FeeVersion | None:
    """The version of a fee item in force on a day (the latest that started on or before it)."""
    return FeeVersion.objects.active().filter(item=item, effective_from__lte=day).order_by("-effective_from").first()


def chargeable_items(clinic: Any, day: date, kind: str | None = None) -> list[FeeItem]:
    """Items that may be charged on a day: started, not ended, with a version in force."""
    items = FeeItem.objects.active().filter(clinic=clinic, active_from__lte=day)
    items = items.filter(Q(active_to__isnull=True) | Q(active_to__gte=day))
    if kind is not None:
        items = items.filter(kind=kind)
    items = items.filter(versions__effective_from__lte=day, versions__entered_in_error_at__isnull=True).distinct()
    return list(items.order_by("code"))


# --- Invoices ------------------------------------------------------------------------------------------------------


def invoice(clinic: Any, uuid: Any) -> Invoice:
    return Invoice.objects.active().select_related("patient", "session").get(clinic=clinic, uuid=uuid)


def invoice_lines(invoice: Invoice) -> list[InvoiceLine]:
    return list(InvoiceLine.objects.active().filter(invoice=invoice).order_by("position"))


def invoice_paid(invoice: Invoice) -> Decimal:
    """What payments pay on the invoice (allocations less what credit notes released)."""
    return _sum(PaymentAllocation.objects.active().filter(invoice=invoice))


def invoice_credited(invoice: Invoice) -> Decimal:
    return _sum(CreditNote.objects.active().filter(invoice=invoice))


def invoice_balance(invoice: Invoice) -> Decimal:
    """What is still owed on an issued invoice (nothing on a draft: a draft asks for nothing yet)."""
    if invoice.status == InvoiceStatus.DRAFT:
        return ZERO
    return invoice.total - invoice_credited(invoice) - invoice_paid(invoice)


def invoice_for_session(session: Any) -> Invoice | None:
    """The session's invoice that still stands (a draft or an issued invoice not voided)."""
    return (
        Invoice.objects.active()
        .filter(session=session)
        .exclude(status=InvoiceStatus.VOID)
        .order_by("-created_at")
        .first()
    )


def open_invoices(patient: Any) -> list[Invoice]:
    """The patient's issued invoices with money still owed, oldest first, each with `balance` set."""
    out = []
    issued = Invoice.objects.active().filter(patient=patient, status=InvoiceStatus.ISSUED)
    for row in issued.order_by("issued_on", "number"):
        row.balance = invoice_balance(row)
        if row.balance > 0:
            out.append(row)
    return out


def allocations_of(invoice: Invoice) -> list[PaymentAllocation]:
    return list(
        PaymentAllocation.objects.active()
        .filter(invoice=invoice)
        .select_related("payment")
        .order_by("created_at", "id")
    )


# --- Payments and the account --------------------------------------------------------------------------------------


def payment(clinic: Any, uuid: Any) -> Payment:
    return Payment.objects.active().select_related("patient").get(clinic=clinic, uuid=uuid)


def payment_allocated(payment: Payment) -> Decimal:
    return _sum(PaymentAllocation.objects.active().filter(payment=payment))


def payment_refunded(payment: Payment) -> Decimal:
    return _sum(Refund.objects.active().filter(payment=payment))


def payments_with_credit(patient: Any) -> list[tuple[Payment, Decimal]]:
    """The patient's payments with money not paying any invoice nor refunded (account credit), oldest first."""
    out = []
    for row in Payment.objects.active().filter(patient=patient).order_by("received_on", "created_at", "id"):
        left = row.amount - payment_allocated(row) - payment_refunded(row)
        if left > 0:
            out.append((row, left))
    return out


@dataclass
class Account:
    """A patient's account: what is owed, the credit held, and the history, newest first."""

    currency: str
    owed: Decimal
    credit: Decimal
    open_invoices: list[Invoice]
    drafts: list[Invoice]
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def balance(self) -> Decimal:
        """Owed less credit: positive, the patient owes the clinic; negative, the clinic holds the patient's money."""
        return self.owed - self.credit


def account(patient: Any) -> Account:
    currency = patient.clinic.config.currency
    invoices = list(Invoice.objects.active().filter(patient=patient).select_related("session").order_by("-created_at"))
    open_rows = open_invoices(patient)
    credit = sum((left for _row, left in payments_with_credit(patient)), ZERO)
    history: list[dict[str, Any]] = []
    for row in invoices:
        if row.status != InvoiceStatus.DRAFT:
            history.append({"when": row.issued_at, "kind": "invoice", "record": row, "amount": row.total})
    for note in CreditNote.objects.active().filter(patient=patient).select_related("invoice"):
        history.append({"when": note.created_at, "kind": "credit_note", "record": note, "amount": note.amount})
    for pay in Payment.objects.active().filter(patient=patient):
        history.append({"when": pay.created_at, "kind": "payment", "record": pay, "amount": pay.amount})
    for refund in Refund.objects.active().filter(patient=patient).select_related("payment"):
        history.append({"when": refund.created_at, "kind": "refund", "record": refund, "amount": refund.amount})
    history.sort(key=lambda item: item["when"], reverse=True)
    return Account(
        currency=currency,
        owed=sum((row.balance for row in open_rows), ZERO),
        credit=credit,
        open_invoices=open_rows,
        drafts=[row for row in invoices if row.status == InvoiceStatus.DRAFT],
        history=history,
    )


def chargeable_with_prices(clinic: Any, day: date) -> list[tuple[FeeItem, FeeVersion]]:
    """Each item that may be charged on a day with its version in force (for the add-line form)."""
    out = []
    for item in chargeable_items(clinic, day):
        version = version_on(item, day)
        if version is not None:
            out.append((item, version))
    return out


def sessions_to_charge(patient: Any) -> list[Any]:
    """The patient's signed sessions that have no invoice standing (a draft or an issued one not voided)."""
    standing = (
        Invoice.objects.active().filter(patient=patient, session__isnull=False).exclude(status=InvoiceStatus.VOID)
    )
    return list(
        TreatmentSession.objects.active()
        .filter(patient=patient, signed_at__isnull=False)
        .exclude(pk__in=standing.values("session_id"))
        .select_related("course")
        .order_by("-signed_at")
    )


def refunds_of(payment: Payment) -> list[Refund]:
    return list(Refund.objects.active().filter(payment=payment))


def credit_notes_of(invoice: Invoice) -> list[CreditNote]:
    return list(CreditNote.objects.active().filter(invoice=invoice).order_by("number"))


def record_or_404(model: Any, request: Any, uuid: Any) -> Any:
    """A billing record (or a session) of the request's clinic, or a 404 that does not say whether another has it."""
    from django.http import Http404

    try:
        return model.objects.active().get(clinic=request.clinic, uuid=uuid)
    except model.DoesNotExist:
        raise Http404("Not found in this clinic.") from None


def invoice_or_404(request: Any, uuid: Any) -> Invoice:
    invoice_row: Invoice = record_or_404(Invoice, request, uuid)
    return invoice_row


def fee_or_404(request: Any, uuid: Any) -> FeeItem:
    item: FeeItem = record_or_404(FeeItem, request, uuid)
    return item


def payment_or_404(request: Any, uuid: Any) -> Payment:
    row: Payment = record_or_404(Payment, request, uuid)
    return row


def line_or_404(invoice: Invoice, uuid: Any) -> InvoiceLine:
    from django.http import Http404

    try:
        return InvoiceLine.objects.active().get(invoice=invoice, uuid=uuid)
    except InvoiceLine.DoesNotExist:
        raise Http404("No such line on this invoice.") from None


def session_or_404(request: Any, uuid: Any) -> TreatmentSession:
    session: TreatmentSession = record_or_404(TreatmentSession, request, uuid)
    return session


def refund_limit_of(payment: Payment) -> Decimal:
    from prolotrack.domain.money import refund_limit, round_money

    limit = refund_limit(payment.amount, payment_refunded(payment), payment_allocated(payment))
    return round_money(limit, payment.currency)


def allocations_of_payment(payment: Payment) -> list[PaymentAllocation]:
    """What a payment pays, invoice by invoice (a release by a credit note is a negative row), oldest first."""
    return list(
        PaymentAllocation.objects.active()
        .filter(payment=payment)
        .select_related("invoice", "credit_note")
        .order_by("created_at", "id")
    )


def date_of_service(invoice: Invoice) -> date:
    """The day the care an invoice charges was given: its session's booked day in the clinic's zone (else the planned
    day); an invoice without a session, its issue day."""
    session = invoice.session
    if session is None:
        return invoice.issued_on or invoice.created_at.date()
    if session.starts_at is not None:
        return session.starts_at.astimezone(invoice.clinic.tz).date()
    return session.planned_on


def superbill_invoices(patient: Any, start: date, end: date) -> list[tuple[Invoice, date]]:
    """The patient's issued invoices (not void) whose date of service falls in [start, end], by that date."""
    rows = (
        Invoice.objects.active()
        .filter(patient=patient, status=InvoiceStatus.ISSUED)
        .select_related("clinic", "session__course", "session__clinician", "session__signed_by")
        .order_by("issued_on", "number")
    )
    dated = [(row, date_of_service(row)) for row in rows]
    return sorted(((row, day) for row, day in dated if start <= day <= end), key=lambda pair: (pair[1], pair[0].number))


# === Coverage and the Medicare ABN (docs/BILLING.md, "Medicare ABN") =========================================# Rules in domain/abn.py; these reads gather the facts they take: the patient's coverage, the course's plan, the fee
# versions in force on each planned day, the clinic's gate setting and the notice on file.

ABN_D_HEADER = "prolotherapy sessions"
# The session statuses a notice counts: cancelled sessions and no-shows are not care the patient will receive.
ABN_COUNTED = ("planned", "booked", "done")


def current_coverage(patient: Any) -> Coverage | None:
    """The patient's coverage: the newest recorded (a change is a new row, never an edit)."""
    return Coverage.objects.active().filter(patient=patient).order_by("-created_at", "-id").first()


def coverages_of(patient: Any) -> list[Coverage]:
    return list(Coverage.objects.active().filter(patient=patient).order_by("-created_at", "-id"))


def current_notice(course: Any) -> AdvanceNotice | None:
    """The course's ABN on file: the newest signed (earlier ones are superseded, kept as they were)."""
    return AdvanceNotice.objects.active().filter(course=course).order_by("-signed_at", "-id").first()


def notices_of(course: Any) -> list[AdvanceNotice]:
    return list(AdvanceNotice.objects.active().filter(course=course).order_by("-signed_at", "-id"))


def notice_or_404(request: Any, uuid: Any) -> AdvanceNotice:
    return record_or_404(AdvanceNotice, request, uuid)


def _planned_days(course: Any) -> list[date]:
    sessions = TreatmentSession.objects.active().filter(course=course, status__in=ABN_COUNTED)
    return sorted(sessions.values_list("planned_on", flat=True))


def _procedure_price(clinic: Any, day: date) -> tuple[FeeItem, FeeVersion] | None:
    """The procedure item a session on `day` is charged with (M0076 first, as billing.services.procedure_item) and its
    version in force that day."""
    items = chargeable_items(clinic, day, kind=FeeKind.PROCEDURE)
    if not items:
        return None
    item = next((i for i in items if i.code == "M0076"), items[0])
    version = version_on(item, day)
    return (item, version) if version is not None else None


def package_price_for(course: Any) -> tuple[Decimal, int] | None:
    """The price (tax included) and uses of the packages sold for this course that can still be drawn (sold on an
    issued invoice, not settled): blank F states that price for the sessions the uses cover. None without one."""
    rows = [row for row in packages_of_course(course) if drawable(row)]
    if not rows:
        return None
    price = sum((row.line.net + row.line.tax for row in rows), ZERO)
    return price, sum(row.uses for row in rows)


@dataclass
class PlanNow:
    """The course's plan as the ABN rules read it, or why no ABN can be drawn from it."""

    sessions: int
    days: tuple[date, ...]
    estimate: abn.Estimate | None
    non_covered: int
    error: str = ""

    def facts(self) -> abn.PlanFacts:
        assert self.estimate is not None
        return abn.PlanFacts(sessions=self.sessions, days=self.days, estimate=self.estimate)


def plan_now(course: Any) -> PlanNow:
    """The course's counted sessions, their days, and blank F priced from the fee versions in force on each day."""
    clinic = course.clinic
    config = clinic.config
    days = tuple(_planned_days(course))
    if not days:
        return PlanNow(0, (), None, 0, "The course has no planned session: plan the sessions before the ABN.")
    planned = []
    for day in days:
        priced = _procedure_price(clinic, day)
        if priced is None:
            return PlanNow(
                len(days),
                days,
                None,
                0,
                f"The fee schedule has no procedure item (e.g. HCPCS M0076) with a price on {day:%Y-%m-%d}: "
                "add one before the ABN, which states the estimated cost.",
            )
        _item, version = priced
        planned.append(abn.PlannedSession(day, version.price, version.tax_rate))
    sides = 2 if course.side == "bilateral" else 1
    units = abn.units_per_session(
        config.session_fee_rule, sides, config.min_injections_per_session, config.max_injections_per_session
    )
    package = package_price_for(course)
    estimate = abn.estimate(
        planned,
        units,
        str(config.currency),
        package_price=package[0] if package else None,
        package_uses=package[1] if package else 0,
    )
    return PlanNow(len(days), days, estimate, len(planned))


def notice_facts(notice: AdvanceNotice) -> abn.NoticeFacts:
    return abn.NoticeFacts(
        sessions=notice.sessions,
        period_start=notice.period_start,
        period_end=notice.period_end,
        estimate=abn.Estimate(notice.estimate_low, notice.estimate_high, notice.currency, notice.package),
        option=abn.Option(notice.option),
        health_change=notice.health_change,
    )


@dataclass
class Gate:
    """Whether the course needs an ABN, and the state of the one on file."""

    required: bool
    state: abn.GateState
    reasons: tuple[str, ...] = ()
    notice: AdvanceNotice | None = None
    coverage: Coverage | None = None

    @property
    def blockers(self) -> tuple[str, ...]:
        return abn.gate_blockers(self.state, self.reasons)


def abn_gate(course: Any) -> Gate:
    """The ABN gate of a course (domain/abn.py): not required, current, missing, out of date, or declined."""
    coverage = current_coverage(course.patient)
    notice = current_notice(course)
    payer = coverage.payer if coverage is not None else None
    if course.status != "open" or not abn.abn_required(
        payer, bool(course.clinic.config.abn_gate), len(_planned_days(course))
    ):
        return Gate(False, abn.GateState.NOT_REQUIRED, notice=notice, coverage=coverage)
    if notice is None:
        return Gate(True, abn.GateState.MISSING, coverage=coverage)
    if notice.option == abn.Option.DECLINE:
        return Gate(True, abn.GateState.DECLINED, notice=notice, coverage=coverage)
    plan = plan_now(course)
    if plan.estimate is None:
        # No price to compare: the plan and health checks still apply, the estimate as stated.
        stated = notice_facts(notice).estimate
        plan = PlanNow(plan.sessions, plan.days, stated, plan.non_covered)
    reasons = abn.outdated_reasons(notice_facts(notice), plan.facts())
    if reasons:
        return Gate(True, abn.GateState.OUTDATED, reasons, notice, coverage)
    return Gate(True, abn.GateState.CURRENT, notice=notice, coverage=coverage)


def open_course_gates(patient: Any) -> list[tuple[Any, Gate]]:
    """The ABN gate of each open course of an Original Medicare patient (none for other coverage)."""
    from prolotrack.treatment.models import Course

    coverage = current_coverage(patient)
    if coverage is None or coverage.payer != abn.Payer.ORIGINAL_MEDICARE:
        return []
    courses = Course.objects.active().filter(patient=patient, status="open").select_related("clinic", "patient")
    return [(course, abn_gate(course)) for course in courses.order_by("started_on", "id")]


def abn_blockers(course_id: int) -> tuple[str, ...]:
    """The treatment.abn_blockers hook: the signing gate's ABN reasons for a course ("()" when signing may go on)."""
    from prolotrack.treatment.models import Course

    course = Course.objects.select_related("patient", "clinic").get(pk=course_id)
    return abn_gate(course).blockers


@dataclass
class AbnDraft:
    """Blanks A-F and H of a new ABN for a course as the patient will read them, and the hash of that text (the
    signature is refused if the text changed since the page was opened, as for consent)."""

    notifier: str = ""
    patient_name: str = ""
    identification: str = ""
    items: str = ""
    reason: str = abn.REASON_TEXT
    estimate_text: str = ""
    d_header: str = ABN_D_HEADER
    options: tuple[tuple[str, str], ...] = ()
    plan: PlanNow | None = None
    sha256: str = ""
    error: str = ""


def abn_draft(course: Any) -> AbnDraft:
    clinic = course.clinic
    config = clinic.config
    plan = plan_now(course)
    if plan.error or plan.estimate is None:
        return AbnDraft(error=plan.error or "The course has no estimate.")
    notifier = " · ".join(part for part in (clinic.name, config.address, config.contact_phone) if part)
    patient = course.patient
    start, end = plan.days[0], plan.days[-1]
    estimate_text = abn.describe_estimate(plan.estimate)
    estimate_text += (
        " in all: the package sold for this course, and the fee schedule's prices for sessions beyond its uses"
        if plan.estimate.package
        else " in all (fee schedule, tax included)"
    )
    draft = AbnDraft(
        notifier=notifier,
        patient_name=f"{patient.given_name} {patient.family_name}",
        identification=patient.mrn,
        items=abn.describe_plan(plan.sessions, start, end),
        estimate_text=estimate_text,
        options=tuple((o.value, text.format(d=ABN_D_HEADER)) for o, text in abn.OPTION_TEXTS.items()),
        plan=plan,
    )
    text = "\n".join(
        (draft.notifier, draft.patient_name, draft.identification, draft.items, draft.reason, draft.estimate_text)
    )
    draft.sha256 = hashlib.sha256(text.encode()).hexdigest()
    return draft


def session_billing(session: TreatmentSession, day: date) -> dict[str, Any]:
    """What the session page's billing card says: the session's invoice that stands (with what it still owes), or
    why there is none (no procedure item on the fee schedule that day, or not drafted)."""
    row = invoice_for_session(session)
    return {
        "session": session,
        "invoice": row,
        "balance": invoice_balance(row) if row is not None else ZERO,
        "has_fees": bool(chargeable_items(session.clinic, day, kind=FeeKind.PROCEDURE)),
        "ever_invoiced": Invoice.objects.filter(session=session).exists(),
    }


# --- Course packages (docs/BILLING.md, "Course packages") -----------------------------------------------------------


def session_day(session: Any) -> date:
    """A session's day in the clinic's zone: its booked start, else its planned day."""
    if session.starts_at is not None:
        return session.starts_at.astimezone(session.clinic.tz).date()
    return session.planned_on


def package_offers(clinic: Any) -> list[FeeItem]:
    """The clinic's package offers with their versions (newest first) and each version's terms."""
    versions = Prefetch(
        "versions",
        queryset=FeeVersion.objects.active().select_related("package_terms").order_by("-effective_from"),
    )
    items = FeeItem.objects.active().filter(clinic=clinic, kind=FeeKind.PACKAGE)
    return list(items.prefetch_related(versions).order_by("code"))


def sellable_offers(clinic: Any, day: date) -> list[tuple[FeeItem, FeeVersion, PackageTerms]]:
    """Package offers that may be sold on a day, each with its version and terms in force."""
    out = []
    for item in chargeable_items(clinic, day, kind=FeeKind.PACKAGE):
        version = version_on(item, day)
        terms = PackageTerms.objects.active().filter(fee_version=version).first() if version else None
        if version is not None and terms is not None:
            out.append((item, version, terms))
    return out


def package(clinic: Any, uuid: Any) -> SoldPackage:
    return (
        SoldPackage.objects.active()
        .select_related("patient", "course", "invoice", "terms")
        .get(clinic=clinic, uuid=uuid)
    )


def package_or_404(request: Any, uuid: Any) -> SoldPackage:
    row: SoldPackage = record_or_404(SoldPackage, request, uuid)
    return row


def draws_of(sold: SoldPackage) -> list[PackageDraw]:
    """The package's uses still standing, first first, with their sessions and invoices."""
    return list(
        PackageDraw.objects.active()
        .filter(package=sold)
        .select_related("session", "invoice")
        .order_by("number", "created_at")
    )


def drawn(sold: SoldPackage) -> int:
    return PackageDraw.objects.active().filter(package=sold).count()


def package_state(sold: SoldPackage) -> PackageState:
    return PackageState(sold.name, sold.uses, drawn(sold), sold.valid_from, sold.valid_to)


def _with_left(rows: list[SoldPackage]) -> list[SoldPackage]:
    for row in rows:
        row.drawn = drawn(row)
        row.left = remaining(row.uses, row.drawn)
    return rows


def packages_of(patient: Any) -> list[SoldPackage]:
    """The patient's packages (on drafts too), newest first, each with `drawn` and `left` set."""
    rows = SoldPackage.objects.active().filter(patient=patient).select_related("course", "invoice", "terms")
    return _with_left(list(rows.order_by("-valid_from", "-id")))


def packages_of_course(course: Any) -> list[SoldPackage]:
    """The packages linked to a course, oldest first, each with `drawn` and `left` set."""
    rows = SoldPackage.objects.active().filter(course=course).select_related("invoice", "terms", "line")
    return _with_left(list(rows.order_by("valid_from", "id")))


def drawable(sold: SoldPackage) -> bool:
    """Sold on an issued invoice (not a draft, not voided) and not settled."""
    return sold.invoice.status == InvoiceStatus.ISSUED and sold.settled_on is None


def package_for_session(session: Any, item_code: str) -> tuple[SoldPackage | None, str]:
    """The package a session of its course draws a use from, or None with why not ('' when the course has none).

    Among the course's packages that cover the session's procedure item, sold on an issued invoice and not settled,
    the one ending first that the rules let draw (domain/packages.py draw_refusal); else the first refusal."""
    day = session_day(session)
    refusals = []
    candidates = [
        row
        for row in packages_of_course(session.course)
        if not row.terms.item_codes or item_code in row.terms.item_codes
    ]
    for row in sorted(candidates, key=lambda r: (r.valid_to, r.id)):
        if not drawable(row):
            if row.settled_on is None:
                refusals.append(
                    f"Package '{row.name}' is sold on an invoice that is not issued (or was voided). "
                    "This session is charged at the normal price."
                )
            continue
        refusal = draw_refusal(package_state(row), day)
        if refusal is None:
            return row, ""
        refusals.append(refusal)
    return None, refusals[0] if refusals else ""


@dataclass(frozen=True)
class LiabilityRow:
    package: SoldPackage
    uses_left: int
    value: Decimal


@dataclass(frozen=True)
class PackageLiability:
    """Package liability on a day: uses sold and not yet delivered, and their value (each package's price shared
    pro rata over its uses)."""

    on_date: date
    currency: str
    packages: int
    uses: int
    value: Decimal
    rows: list[LiabilityRow]


def package_liability(clinic: Any, on_date: date) -> PackageLiability:
    """Uses sold and not yet delivered on `on_date`, and their value, for the reports (docs/BILLING.md).

    Counted: packages sold on an invoice issued on or before the day, not voided by then, valid that day (an expired
    package is owed nothing more) and not settled by then (a course stopped early). Delivered: the draws for sessions
    on or before the day. Value: price x uses left / uses, rounded half up, per package (domain/packages.py share)."""
    currency = clinic.config.currency
    rows = (
        SoldPackage.objects.active()
        .filter(
            clinic=clinic,
            invoice__issued_on__lte=on_date,
            invoice__status__in=[InvoiceStatus.ISSUED, InvoiceStatus.VOID],
            valid_from__lte=on_date,
            valid_to__gte=on_date,
        )
        .exclude(settled_on__lte=on_date)
        .select_related("invoice", "line", "patient")
        .order_by("valid_to", "id")
    )
    voided = set(
        CreditNote.objects.active()
        .filter(clinic=clinic, is_void=True, issued_on__lte=on_date)
        .values_list("invoice_id", flat=True)
    )
    out = []
    for row in rows:
        if row.invoice_id in voided:
            continue
        used = PackageDraw.objects.active().filter(package=row, service_date__lte=on_date).count()
        left = remaining(row.uses, used)
        if left:
            out.append(LiabilityRow(row, left, share(row.line.gross, row.uses, left, currency)))
    return PackageLiability(
        on_date=on_date,
        currency=currency,
        packages=len(out),
        uses=sum(r.uses_left for r in out),
        value=sum((r.value for r in out), ZERO),
        rows=out,
    )


def open_courses(patient: Any) -> list[Course]:
    """The patient's open courses (a package is sold for, or linked to, one of them)."""
    return list(
        Course.objects.active().filter(patient=patient, status=CourseStatus.OPEN).order_by("-started_on", "-id")
    )


def offer_choices(clinic: Any, day: date) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """What a package offer may cover: the clinic's protocols (id, name) and its fee items other than packages."""
    from prolotrack.clinical.queries import list_protocols

    protocols = [(entry.id, entry.name) for entry in list_protocols(clinic) if entry.template is not None]
    items = [
        (item.code, f"{item.code}: {version.description}")
        for item, version in chargeable_with_prices(clinic, day)
        if item.kind != FeeKind.PACKAGE
    ]
    return protocols, items


def course_packages(course: Any) -> dict[str, Any]:
    """The course card's packages: each with its uses left and its draws."""
    rows = packages_of_course(course)
    return {"course": course, "packages": [(row, draws_of(row)) for row in rows]}
