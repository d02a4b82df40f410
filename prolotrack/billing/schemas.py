"""The billing API's schemas. Money goes out as decimal strings and comes in as text that the services parse
(domain/money.py): no float anywhere (billing/tests/test_no_floats.py)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from ninja import Field, Schema

from prolotrack.billing.models import CreditNote, FeeItem, FeeVersion, PackageDraw, PackageTerms, Payment, Refund
from prolotrack.domain.money import round_money

# An amount as text: digits, at most three decimals (the currency's own minor unit is checked by the service).
AMOUNT = r"^\d{1,12}(\.\d{1,3})?$"
AmountText = Field(pattern=AMOUNT, max_length=16, description="Decimal text such as 120.00, in the clinic's currency")
FeeKindCode = Literal["procedure", "visit", "solution", "product", "other"]
MethodCode = Literal["cash", "card", "cheque", "transfer", "other"]


class FeeVersionOut(Schema):
    description: str
    price: Decimal
    tax_rate: Decimal
    effective_from: date

    @staticmethod
    def resolve_price(obj: FeeVersion) -> Decimal:
        return round_money(obj.price, obj.clinic.config.currency)

    @staticmethod
    def resolve_tax_rate(obj: FeeVersion) -> Decimal:
        return obj.tax_rate.normalize() if obj.tax_rate else Decimal(0)


class FeeItemOut(Schema):
    id: UUID = Field(alias="uuid")
    code: str
    kind: str
    active_from: date
    active_to: date | None
    versions: list[FeeVersionOut] = Field(description="Newest first")

    @staticmethod
    def resolve_versions(obj: FeeItem) -> list[FeeVersion]:
        return list(FeeVersion.objects.active().filter(item=obj).order_by("-effective_from"))


class FeeItemIn(Schema):
    code: str = Field(max_length=20, description="HCPCS Level II (e.g. M0076) or the clinic's own code")
    kind: FeeKindCode
    description: str = Field(max_length=200)
    price: str = AmountText
    tax_rate: str = Field("", pattern=r"^(\d{1,3}(\.\d{1,3})?)?$", max_length=7, description="Percent; empty: exempt")
    active_from: date


class FeeVersionIn(Schema):
    description: str = Field(max_length=200)
    price: str = AmountText
    tax_rate: str = Field("", pattern=r"^(\d{1,3}(\.\d{1,3})?)?$", max_length=7)
    effective_from: date


class InvoiceLineOut(Schema):
    id: UUID = Field(alias="uuid")
    code: str
    description: str
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal
    net: Decimal
    tax: Decimal


class InvoiceOut(Schema):
    id: UUID = Field(alias="uuid")
    version: int
    status: str = Field(description="draft, issued or void")
    number: int | None = Field(description="Gapless per clinic, given at issue")
    currency: str
    issued_on: date | None
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    credited: Decimal
    paid: Decimal
    balance: Decimal = Field(description="Still owed (0 on a draft)")
    session_id: UUID | None
    lines: list[InvoiceLineOut]


class InvoiceIn(Schema):
    session_id: UUID | None = Field(None, description="A signed session: the draft gets its procedure lines")


class LineIn(Schema):
    fee_id: UUID
    quantity: str = Field("1", pattern=r"^\d{1,3}$", description="A whole number from 1 to 999")


class IssueIn(Schema):
    version: int | None = Field(None, description="The version read; a stale one answers 409")


class CreditNoteIn(Schema):
    amount: str | None = Field(None, pattern=AMOUNT, max_length=16, description="Empty with void=true")
    void: bool = False
    reason: str = Field(min_length=1, max_length=500, description="Why, at least 10 characters")


class CreditNoteOut(Schema):
    id: UUID = Field(alias="uuid")
    number: int
    issued_on: date
    amount: Decimal
    tax: Decimal
    reason: str
    is_void: bool

    @staticmethod
    def resolve_amount(obj: CreditNote) -> Decimal:
        return round_money(obj.amount, obj.invoice.currency)

    @staticmethod
    def resolve_tax(obj: CreditNote) -> Decimal:
        return round_money(obj.tax, obj.invoice.currency)


class AllocationIn(Schema):
    invoice_id: UUID
    amount: str = AmountText


class PaymentIn(Schema):
    amount: str = AmountText
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217; must be the clinic's currency")
    method: MethodCode
    reference: str = Field("", max_length=80, description="The card terminal's or bank's reference")
    received_on: date | None = None
    allocations: list[AllocationIn] | None = Field(
        None, max_length=100, description="Amounts per open invoice; empty: the oldest invoices first"
    )


class PaymentOut(Schema):
    id: UUID = Field(alias="uuid")
    amount: Decimal
    currency: str
    method: str
    received_on: date
    reference: str
    created_at: datetime

    @staticmethod
    def resolve_amount(obj: Payment) -> Decimal:
        return round_money(obj.amount, obj.currency)


class RefundIn(Schema):
    amount: str = AmountText
    reason: str = Field(min_length=1, max_length=500, description="Why, at least 10 characters")
    reference: str = Field("", max_length=80)


class RefundOut(Schema):
    id: UUID = Field(alias="uuid")
    amount: Decimal
    method: str = Field(description="The payment's own method")
    refunded_on: date
    reason: str

    @staticmethod
    def resolve_amount(obj: Refund) -> Decimal:
        return round_money(obj.amount, obj.payment.currency)


class AccountOut(Schema):
    currency: str
    owed: Decimal
    credit: Decimal
    balance: Decimal = Field(description="Owed less credit; negative: the clinic holds the patient's money")
    open_invoices: list[UUID]
    drafts: list[UUID]


# --- Financial reports (docs/BILLING.md, "Reports"): amounts as plain decimal text to the currency's minor unit ---


class TakingsDayOut(Schema):
    date: date
    method: MethodCode
    received: str
    refunded: str
    net: str


class ClinicianTakingsOut(Schema):
    clinician: str = Field(description="The rendering clinician, or account credit (pays no invoice yet)")
    net: str


class TakingsOut(Schema):
    currency: str
    start: date
    end: date
    received: str
    refunded: str
    net: str
    days: list[TakingsDayOut] = Field(description="Each day and method where money moved")
    by_method: dict[str, str]
    by_clinician: list[ClinicianTakingsOut] | None = Field(
        None, description="With billing.reports only (administrators)"
    )


class IssuedInvoiceOut(Schema):
    id: UUID
    number: int
    issued_on: date
    status: str
    total: str


class IssuedCreditNoteOut(Schema):
    number: int
    issued_on: date
    invoice_number: int
    void: bool
    amount: str


class IssuedInvoicesOut(Schema):
    count: int
    net: str
    tax: str
    total: str
    items: list[IssuedInvoiceOut]


class IssuedCreditNotesOut(Schema):
    count: int
    net: str
    tax: str
    total: str
    items: list[IssuedCreditNoteOut]


class IssuedOut(Schema):
    currency: str
    start: date
    end: date
    invoices: IssuedInvoicesOut
    credit_notes: IssuedCreditNotesOut


class AgeingPatientOut(Schema):
    patient_id: UUID
    open_invoices: int
    buckets: dict[str, str] = Field(description="Owed by days since issue: 0-30, 31-60, 61-90, 90+")
    owed: str
    account_credit: str


class AgeingOut(Schema):
    currency: str
    as_of: date
    totals: dict[str, str]
    owed: str
    account_credit: str
    patients: list[AgeingPatientOut]


# --- Course packages (docs/BILLING.md, "Course packages") -----------------------------------------------------------

UsesText = Field(pattern=r"^\d{1,2}$", max_length=2, description="Sessions the package gives, 1 to 50")
DaysText = Field(pattern=r"^\d{1,4}$", max_length=4, description="Days it is valid from the sale, 1 to 1096")


class PackageTermsOut(Schema):
    uses: int
    validity_days: int
    protocol_id: str = Field(description="The protocol whose sessions it covers; empty: the chosen items")
    item_codes: list[str] = Field(description="Fee item codes a use may cover; empty: the protocol")


class PackageOfferVersionOut(Schema):
    description: str
    price: Decimal
    tax_rate: Decimal
    effective_from: date
    terms: PackageTermsOut | None

    @staticmethod
    def resolve_price(obj: FeeVersion) -> Decimal:
        return round_money(obj.price, obj.clinic.config.currency)

    @staticmethod
    def resolve_tax_rate(obj: FeeVersion) -> Decimal:
        return obj.tax_rate.normalize() if obj.tax_rate else Decimal(0)

    @staticmethod
    def resolve_terms(obj: FeeVersion) -> PackageTerms | None:
        return PackageTerms.objects.active().filter(fee_version=obj).first()


class PackageOfferOut(Schema):
    id: UUID = Field(alias="uuid")
    code: str
    active_from: date
    active_to: date | None
    versions: list[PackageOfferVersionOut] = Field(description="Newest first")

    @staticmethod
    def resolve_versions(obj: FeeItem) -> list[FeeVersion]:
        return list(FeeVersion.objects.active().filter(item=obj).order_by("-effective_from"))


class PackageVersionIn(Schema):
    description: str = Field(max_length=200)
    price: str = AmountText
    tax_rate: str = Field("", pattern=r"^(\d{1,3}(\.\d{1,3})?)?$", max_length=7, description="Percent; empty: exempt")
    uses: str = UsesText
    validity_days: str = DaysText
    protocol_id: str = Field("", max_length=60, description="A protocol's id; or give item_codes instead")
    item_codes: list[str] = Field(default_factory=list, max_length=20, description="Fee item codes; or a protocol")
    effective_from: date


class PackageOfferIn(PackageVersionIn):
    code: str = Field(max_length=20, description="The clinic's own code, e.g. PKG-KNEE-3")


class SellPackageIn(Schema):
    offer_id: UUID = Field(description="A package offer of the fee schedule")
    course_id: UUID | None = Field(None, description="One of the patient's open courses; empty: link it later")


class LinkPackageIn(Schema):
    course_id: UUID
    version: int | None = Field(None, description="The version read; a stale one answers 409")


class SettlePackageIn(Schema):
    version: int | None = Field(None, description="The version read; a stale one answers 409")


class PackageDrawOut(Schema):
    number: int = Field(description="Use n of the package's uses")
    session_id: UUID
    invoice_id: UUID
    service_date: date

    @staticmethod
    def resolve_session_id(obj: PackageDraw) -> UUID:
        return obj.session.uuid

    @staticmethod
    def resolve_invoice_id(obj: PackageDraw) -> UUID:
        return obj.invoice.uuid


class PackageOut(Schema):
    id: UUID
    version: int
    name: str
    uses: int
    drawn: int
    left: int = Field(description="Uses left: uses less the draws standing, never below 0")
    valid_from: date
    valid_to: date
    course_id: UUID | None
    invoice_id: UUID = Field(description="The invoice that sold it (a draft sells nothing yet)")
    price: Decimal = Field(description="The package line with its tax")
    currency: str
    settled_on: date | None = Field(description="Settled when its course stopped early")
    refund: Decimal | None
    credit_note_number: int | None
    draws: list[PackageDrawOut]


# --- Coverage and the Medicare ABN (docs/BILLING.md, "Medicare ABN") -------------------------------------------------

PayerCode = Literal["self_pay", "original_medicare", "medicare_advantage", "commercial", "other"]


class CoverageIn(Schema):
    payer: PayerCode
    payer_name: str = Field(default="", max_length=120)
    member_id: str = Field(default="", max_length=40, description="As on the card; never returned, only its last 4")


class CoverageOut(Schema):
    """Who pays for the patient's care. The member id goes out as its last 4 characters only."""

    payer: str | None = None
    payer_name: str = ""
    member_id_last4: str = ""
    recorded_at: datetime | None = None


class AbnNoticeOut(Schema):
    id: UUID
    signed_on: date
    option: str
    sessions: int
    period_start: date
    period_end: date
    estimate_low: Decimal
    estimate_high: Decimal
    currency: str
    health_change: str
    pdf_sha256: str


class AbnStateOut(Schema):
    """Whether the course needs a Medicare ABN, and whether the one on file lets its sessions be signed."""

    required: bool
    state: Literal["not_required", "current", "missing", "outdated", "declined"]
    blockers: list[str]
    notice: AbnNoticeOut | None = None


class LiabilityItemOut(Schema):
    package: str
    patient_id: UUID
    invoice_number: int
    uses_sold: int
    uses_left: int
    valid_to: date
    value: str


class LiabilityOut(Schema):
    currency: str
    as_of: date
    packages: int
    uses: int
    value: str = Field(description="Price x uses left / uses, per package, summed")
    items: list[LiabilityItemOut]
