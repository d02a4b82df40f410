"""Billing endpoints under /api: the fee schedule, a patient's account, invoices (draft, lines, issue, credit notes),
payments and refunds. The same services and permissions as the pages (docs/BILLING.md); records are looked up inside
the caller's clinic (another clinic's answers 404); reads of a patient's money are audited."""

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import Http404
from ninja import Router
from ninja.responses import Status

from prolotrack.audit.services import record_read
from prolotrack.billing import queries, report_queries, services
from prolotrack.billing import report_present as reports
from prolotrack.billing.models import FeeItem, Invoice, Payment, SoldPackage
from prolotrack.billing.schemas import (
    AbnStateOut,
    AccountOut,
    AgeingOut,
    CoverageIn,
    CoverageOut,
    CreditNoteIn,
    CreditNoteOut,
    FeeItemIn,
    FeeItemOut,
    FeeVersionIn,
    InvoiceIn,
    InvoiceOut,
    IssuedOut,
    IssueIn,
    LiabilityOut,
    LineIn,
    LinkPackageIn,
    PackageOfferIn,
    PackageOfferOut,
    PackageOut,
    PackageVersionIn,
    PaymentIn,
    PaymentOut,
    RefundIn,
    RefundOut,
    SellPackageIn,
    SettlePackageIn,
    TakingsOut,
)
from prolotrack.clinics.api_auth import api_require
from prolotrack.clinics.http import ApiRequest
from prolotrack.clinics.roles import Permission
from prolotrack.domain.money import round_money
from prolotrack.domain.packages import remaining
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment.queries import course_or_404

router = Router(tags=["billing"])


def _get(model: Any, request: ApiRequest, record_id: UUID) -> Any:
    return queries.record_or_404(model, request, record_id)


def _invoice_out(invoice: Invoice) -> dict[str, Any]:
    """The invoice with its money to the currency's minor unit (the columns hold three decimals for every currency)."""
    cur = invoice.currency

    def m(amount: Decimal) -> Decimal:
        return round_money(amount, cur)

    lines = [
        {"uuid": line.uuid, "code": line.code, "description": line.description, "quantity": line.quantity,
         "unit_price": m(line.unit_price), "tax_rate": line.tax_rate.normalize(), "net": m(line.net), "tax": m(line.tax)}
        for line in queries.invoice_lines(invoice)
    ]  # fmt: skip
    return {
        "uuid": invoice.uuid, "version": invoice.version, "status": invoice.status, "number": invoice.number,
        "currency": cur, "issued_on": invoice.issued_on, "net_total": m(invoice.net_total),
        "tax_total": m(invoice.tax_total), "total": m(invoice.total), "credited": m(queries.invoice_credited(invoice)),
        "paid": m(queries.invoice_paid(invoice)), "balance": m(queries.invoice_balance(invoice)),
        "session_id": invoice.session.uuid if invoice.session else None, "lines": lines,
    }  # fmt: skip


@router.get("/billing/fees", response={200: list[FeeItemOut]}, summary="The clinic's fee schedule with its versions")
@api_require(Permission.BILLING_VIEW)
def list_fees(request: ApiRequest) -> Any:
    return queries.fee_items(request.clinic)


@router.post("/billing/fees", response={201: FeeItemOut}, summary="Add a fee item with its first price")
@api_require(Permission.BILLING_FEES)
def create_fee(request: ApiRequest, payload: FeeItemIn) -> Any:
    return Status(201, services.create_fee_item(request.actor, **payload.dict()))


@router.post("/billing/fees/{fee_id}/versions", response={201: FeeItemOut}, summary="A new price from a later day")
@api_require(Permission.BILLING_FEES)
def add_fee_version(request: ApiRequest, fee_id: UUID, payload: FeeVersionIn) -> Any:
    item = _get(FeeItem, request, fee_id)
    services.add_fee_version(request.actor, item, **payload.dict())
    return Status(201, item)


@router.get("/patients/{patient_id}/account", response={200: AccountOut}, summary="A patient's balance and credit")
@api_require(Permission.BILLING_VIEW)
def account(request: ApiRequest, patient_id: UUID) -> Any:
    patient = patient_or_404(request, patient_id)
    record_read(request.actor, "billing.account.viewed", record=patient, patient_uuid=patient.uuid)
    found = queries.account(patient)
    cur = found.currency
    return {
        "currency": cur, "owed": round_money(found.owed, cur), "credit": round_money(found.credit, cur),
        "balance": round_money(found.balance, cur),
        "open_invoices": [i.uuid for i in found.open_invoices], "drafts": [i.uuid for i in found.drafts],
    }  # fmt: skip


@router.post("/patients/{patient_id}/invoices", response={201: InvoiceOut}, summary="Draft an invoice")
@api_require(Permission.BILLING_INVOICE)
def draft_invoice(request: ApiRequest, patient_id: UUID, payload: InvoiceIn) -> Any:
    patient = patient_or_404(request, patient_id)
    if payload.session_id is None:
        return Status(201, _invoice_out(services.draft_invoice(request.actor, patient)))
    session = queries.session_or_404(request, payload.session_id)
    if session.patient_id != patient.pk:
        raise Http404("No such session of this patient.")
    return Status(201, _invoice_out(services.draft_from_session(request.actor, session)))


@router.get("/invoices/{invoice_id}", response={200: InvoiceOut}, summary="Read an invoice with its lines and money")
@api_require(Permission.BILLING_VIEW)
def get_invoice(request: ApiRequest, invoice_id: UUID) -> Any:
    invoice = _get(Invoice, request, invoice_id)
    record_read(request.actor, "billing.invoice.viewed", record=invoice)
    return _invoice_out(invoice)


@router.post("/invoices/{invoice_id}/lines", response={201: InvoiceOut}, summary="Add a fee item to a draft")
@api_require(Permission.BILLING_INVOICE)
def add_line(request: ApiRequest, invoice_id: UUID, payload: LineIn) -> Any:
    invoice = _get(Invoice, request, invoice_id)
    services.add_line(request.actor, invoice, _get(FeeItem, request, payload.fee_id), quantity=payload.quantity)
    return Status(201, _invoice_out(_get(Invoice, request, invoice_id)))


@router.post("/invoices/{invoice_id}/issue", response={200: InvoiceOut}, summary="Issue a draft: numbered, final")
@api_require(Permission.BILLING_INVOICE)
def issue_invoice(request: ApiRequest, invoice_id: UUID, payload: IssueIn) -> Any:
    invoice = _get(Invoice, request, invoice_id)
    return _invoice_out(services.issue_invoice(request.actor, invoice, expected_version=payload.version))


@router.post("/invoices/{invoice_id}/credit-notes", response={201: CreditNoteOut}, summary="Credit or void an invoice")
@api_require(Permission.BILLING_CREDIT)
def credit_invoice(request: ApiRequest, invoice_id: UUID, payload: CreditNoteIn) -> Any:
    invoice = _get(Invoice, request, invoice_id)
    note = services.credit_invoice(
        request.actor, invoice, amount=payload.amount, reason=payload.reason, void=payload.void
    )
    return Status(201, note)


@router.post("/patients/{patient_id}/payments", response={201: PaymentOut}, summary="Record a payment")
@api_require(Permission.BILLING_PAYMENT)
def record_payment(request: ApiRequest, patient_id: UUID, payload: PaymentIn) -> Any:
    patient = patient_or_404(request, patient_id)
    chosen = None
    if payload.allocations:
        chosen = [(_get(Invoice, request, a.invoice_id), a.amount) for a in payload.allocations]
    data = payload.dict(exclude={"allocations"})
    return Status(201, services.record_payment(request.actor, patient, chosen=chosen, **data))


@router.post("/payments/{payment_id}/refunds", response={201: RefundOut}, summary="Refund part of a payment")
@api_require(Permission.BILLING_CREDIT)
def refund_payment(request: ApiRequest, payment_id: UUID, payload: RefundIn) -> Any:
    payment = _get(Payment, request, payment_id)
    return Status(201, services.refund_payment(request.actor, payment, **payload.dict()))


# --- Financial reports (docs/BILLING.md, "Reports"): the page's figures; dates are the clinic's, YYYY-MM-DD --------


def _asked(request: ApiRequest, start: str, end: str, as_of: str = "") -> reports.Question:
    return reports.ask(request.clinic, {"start": start, "end": end, "as_of": as_of})


@router.get("/billing/reports/takings", response={200: TakingsOut}, summary="Takings by day and method (and clinician)")
@api_require(Permission.BILLING_TAKINGS)
def report_takings(request: ApiRequest, start: str = "", end: str = "") -> Any:
    asked = _asked(request, start, end)
    full = request.auth.can(Permission.BILLING_REPORTS)
    reports.audit_read(request.actor, "billing.reports.viewed", {"report": "takings", **asked.as_query()}, set())
    found = report_queries.takings(request.clinic, asked.first, asked.last)
    return reports.takings_json(found, with_clinicians=full)


@router.get("/billing/reports/issued", response={200: IssuedOut}, summary="Invoices and credit notes issued")
@api_require(Permission.BILLING_REPORTS)
def report_issued(request: ApiRequest, start: str = "", end: str = "") -> Any:
    asked = _asked(request, start, end)
    found = report_queries.issued(request.clinic, asked.first, asked.last)
    detail = {"report": "issued", "start": asked.first.isoformat(), "end": asked.last.isoformat()}
    reports.audit_read(request.actor, "billing.reports.viewed", detail, reports.named(found, None))
    return reports.issued_json(found, asked.first, asked.last)


@router.get("/billing/reports/ageing", response={200: AgeingOut}, summary="Open balances by age, as of a day")
@api_require(Permission.BILLING_REPORTS)
def report_ageing(request: ApiRequest, as_of: str = "") -> Any:
    asked = _asked(request, "", "", as_of)
    found = report_queries.ageing(request.clinic, asked.as_of)
    detail = {"report": "ageing", "as_of": asked.as_of.isoformat()}
    reports.audit_read(request.actor, "billing.reports.viewed", detail, reports.named(None, found))
    return reports.ageing_json(found)


# --- Course packages -----------------------------------------------------------------------------------------------


def _package_out(sold: SoldPackage) -> dict[str, Any]:
    draws = queries.draws_of(sold)
    cur = sold.invoice.currency
    return {
        "id": sold.uuid, "version": sold.version, "name": sold.name, "uses": sold.uses, "drawn": len(draws),
        "left": remaining(sold.uses, len(draws)), "valid_from": sold.valid_from, "valid_to": sold.valid_to,
        "course_id": sold.course.uuid if sold.course else None, "invoice_id": sold.invoice.uuid,
        "price": round_money(sold.line.gross, cur), "currency": cur, "settled_on": sold.settled_on,
        "refund": None if sold.refund is None else round_money(sold.refund, cur),
        "credit_note_number": sold.credit_note.number if sold.credit_note else None, "draws": draws,
    }  # fmt: skip


@router.get("/billing/packages", response={200: list[PackageOfferOut]}, summary="The clinic's package offers")
@api_require(Permission.BILLING_VIEW)
def list_package_offers(request: ApiRequest) -> Any:
    return queries.package_offers(request.clinic)


@router.post("/billing/packages", response={201: PackageOfferOut}, summary="Add a package offer with its terms")
@api_require(Permission.BILLING_FEES)
def create_package_offer(request: ApiRequest, payload: PackageOfferIn) -> Any:
    data = payload.dict()
    data["active_from"] = data.pop("effective_from")
    return Status(201, services.create_package_offer(request.actor, **data))


@router.post("/billing/packages/{fee_id}/versions", response={201: PackageOfferOut}, summary="New terms or price")
@api_require(Permission.BILLING_FEES)
def add_package_version(request: ApiRequest, fee_id: UUID, payload: PackageVersionIn) -> Any:
    item = _get(FeeItem, request, fee_id)
    services.add_package_version(request.actor, item, **payload.dict())
    return Status(201, item)


@router.get("/patients/{patient_id}/packages", response={200: list[PackageOut]}, summary="A patient's packages")
@api_require(Permission.BILLING_VIEW)
def patient_packages(request: ApiRequest, patient_id: UUID) -> Any:
    patient = patient_or_404(request, patient_id)
    record_read(request.actor, "billing.packages.viewed", record=patient, patient_uuid=patient.uuid)
    return [_package_out(row) for row in queries.packages_of(patient)]


@router.post("/invoices/{invoice_id}/packages", response={201: PackageOut}, summary="Sell a package on a draft")
@api_require(Permission.BILLING_INVOICE)
def sell_package(request: ApiRequest, invoice_id: UUID, payload: SellPackageIn) -> Any:
    invoice = _get(Invoice, request, invoice_id)
    offer = _get(FeeItem, request, payload.offer_id)
    course = None if payload.course_id is None else course_or_404(request, payload.course_id)
    return Status(201, _package_out(services.sell_package(request.actor, invoice, offer, course=course)))


@router.get("/packages/{package_id}", response={200: PackageOut}, summary="A package with its uses")
@api_require(Permission.BILLING_VIEW)
def get_package(request: ApiRequest, package_id: UUID) -> Any:
    sold = _get(SoldPackage, request, package_id)
    record_read(request.actor, "billing.package.viewed", record=sold, patient_uuid=sold.patient.uuid)
    return _package_out(sold)


@router.post("/packages/{package_id}/course", response={200: PackageOut}, summary="Link a package to a course")
@api_require(Permission.BILLING_INVOICE)
def link_package(request: ApiRequest, package_id: UUID, payload: LinkPackageIn) -> Any:
    sold = _get(SoldPackage, request, package_id)
    course = course_or_404(request, payload.course_id)
    return _package_out(services.link_package(request.actor, sold, course, expected_version=payload.version))


@router.post("/packages/{package_id}/settle", response={200: PackageOut}, summary="Settle: its course stopped early")
@api_require(Permission.BILLING_CREDIT)
def settle_package(request: ApiRequest, package_id: UUID, payload: SettlePackageIn) -> Any:
    sold = _get(SoldPackage, request, package_id)
    return _package_out(services.settle_stopped_package(request.actor, sold, expected_version=payload.version))


# --- Coverage and the Medicare ABN (docs/BILLING.md, "Medicare ABN") -------------------------------------------------


def _coverage_out(coverage: Any) -> dict[str, Any]:
    if coverage is None:
        return {"payer": None}
    return {
        "payer": coverage.payer,
        "payer_name": coverage.payer_name,
        "member_id_last4": coverage.member_id_last4,
        "recorded_at": coverage.created_at,
    }


@router.get("/patients/{patient_id}/coverage", response={200: CoverageOut}, summary="Who pays for a patient's care")
@api_require(Permission.BILLING_VIEW)
def get_coverage(request: ApiRequest, patient_id: UUID) -> Any:
    patient = patient_or_404(request, patient_id)
    record_read(request.actor, "billing.coverage.viewed", record=patient, patient_uuid=patient.uuid)
    return _coverage_out(queries.current_coverage(patient))


@router.post("/patients/{patient_id}/coverage", response={201: CoverageOut}, summary="Record a patient's coverage")
@api_require(Permission.BILLING_ABN)
def record_coverage(request: ApiRequest, patient_id: UUID, payload: CoverageIn) -> Any:
    patient = patient_or_404(request, patient_id)
    coverage = services.record_coverage(request.actor, patient, **payload.dict())
    return Status(201, _coverage_out(coverage))


@router.get("/courses/{course_id}/abn", response={200: AbnStateOut}, summary="A course's Medicare ABN state")
@api_require(Permission.BILLING_VIEW)
def abn_state(request: ApiRequest, course_id: UUID) -> Any:
    course = course_or_404(request, course_id)
    record_read(request.actor, "billing.abn.viewed", record=course, patient_uuid=course.patient.uuid)
    gate = queries.abn_gate(course)
    notice = gate.notice
    cur = notice.currency if notice else ""
    return {
        "required": gate.required,
        "state": gate.state.value,
        "blockers": list(gate.blockers),
        "notice": None
        if notice is None
        else {
            "id": notice.uuid,
            "signed_on": notice.signed_on,
            "option": notice.option,
            "sessions": notice.sessions,
            "period_start": notice.period_start,
            "period_end": notice.period_end,
            "estimate_low": round_money(notice.estimate_low, cur),
            "estimate_high": round_money(notice.estimate_high, cur),
            "currency": cur,
            "health_change": notice.health_change,
            "pdf_sha256": notice.pdf_sha256,
        },
    }


@router.get("/billing/reports/package-liability", response={200: LiabilityOut}, summary="Package uses not yet given")
@api_require(Permission.BILLING_REPORTS)
def report_package_liability(request: ApiRequest, as_of: str = "") -> Any:
    asked = _asked(request, "", "", as_of)
    found = queries.package_liability(request.clinic, asked.as_of)
    detail = {"report": "package-liability", "as_of": asked.as_of.isoformat()}
    reports.audit_read(request.actor, "billing.reports.viewed", detail, reports.named(None, None, found))
    return reports.liability_json(found)
