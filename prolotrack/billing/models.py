"""The practice's money: the fee schedule, invoices and their lines, credit notes, payments, their allocations to
invoices, and refunds (docs/BILLING.md).

Every row stands on ClinicalRecord (versioned, audited, never deleted) and is written by billing.services. Money is
a DecimalField everywhere (a test refuses a FloatField in this app): three decimal places hold every ISO 4217 minor
unit the product offers (domain/money.py), and each amount is quantized to its currency's own unit before it is saved.
An issued invoice, a credit note, a payment and a refund never change; a fee's price changes by a new version.
"""

from decimal import Decimal

from django.db import models

from prolotrack.core import filestore
from prolotrack.core.records import ClinicalRecord


def amount_field(default: Decimal | None = None) -> "models.DecimalField[Decimal, Decimal]":
    """An amount of money, three decimals (the largest ISO 4217 minor unit the product offers). Not negative, to the
    currency's own minor unit: the services check it with domain/money.py (parse_amount) before anything is saved;
    no bound is declared here (money limits are not clinical limits; tests/test_one_home_for_limits.py)."""
    if default is None:
        return models.DecimalField(max_digits=15, decimal_places=3)
    return models.DecimalField(max_digits=15, decimal_places=3, default=default)


class FeeKind(models.TextChoices):
    PROCEDURE = "procedure", "Procedure"
    VISIT = "visit", "Assessment or follow-up"
    SOLUTION = "solution", "Solution or add-on"
    PRODUCT = "product", "Product (brace, supplement)"
    OTHER = "other", "Other"
    # A course package offer (PackageTerms on each version): sold with "Sell a package", never as a plain line.
    PACKAGE = "package", "Course package"


class FeeItem(ClinicalRecord):
    """An item of the clinic's fee schedule: a code (HCPCS Level II such as M0076, or the clinic's own) and when it
    may be charged. Its description, price and tax rate are versions (FeeVersion), never edited."""

    code = models.CharField(max_length=20, help_text="HCPCS Level II (e.g. M0076) or the clinic's own code.")
    kind = models.CharField(max_length=10, choices=FeeKind.choices)
    active_from = models.DateField()
    active_to = models.DateField(null=True, blank=True, help_text="Last day it may be charged; empty: no end.")

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["clinic", "code"], name="billing_fee_code_unique_per_clinic")]

    def __str__(self) -> str:
        return self.code


class FeeVersion(ClinicalRecord):
    """What a fee item says and costs from a day on. Immutable: a new price is a new version."""

    item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="versions")
    description = models.CharField(max_length=200)
    price = amount_field()
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal(0))
    effective_from = models.DateField()

    class Meta:
        ordering = ["item", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["item", "effective_from"], name="billing_fee_version_one_per_day")
        ]

    def lock_reason(self) -> str | None:
        if self.pk is not None:
            return "A fee version never changes: add a new version with the new price."
        return None


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    VOID = "void", "Void (credited in full)"


class Invoice(ClinicalRecord):
    """An invoice of one patient of the clinic, maybe for one session. Drafts change; issued invoices never do."""

    # Not a field: what is still owed, set by billing.queries.open_invoices for the pages.
    balance: Decimal

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(
        "treatment.TreatmentSession", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    currency = models.CharField(max_length=3)
    # Gapless per clinic, given at issue (billing.services.issue_invoice); empty on a draft.
    number = models.PositiveIntegerField(null=True, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    net_total = amount_field(default=Decimal(0))
    tax_total = amount_field(default=Decimal(0))
    total = amount_field(default=Decimal(0))
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-issued_on", "-number", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "number"],
                condition=models.Q(number__isnull=False),
                name="billing_invoice_number_unique_per_clinic",
            )
        ]
        indexes = [models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return f"Invoice {self.number}" if self.number else "Draft invoice"

    def lock_reason(self) -> str | None:
        # Loaded from the database as issued: the change that issues it is the last one allowed (the service).
        if self.pk is not None and self.status != InvoiceStatus.DRAFT and self.issued_at is not None:
            return "This invoice is issued and cannot change: correct it with a credit note."
        return None


class InvoiceLine(ClinicalRecord):
    """One line: the fee version charged (its code, description, price and tax copied as they were)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    fee = models.ForeignKey(FeeVersion, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=20)
    description = models.CharField(max_length=300)
    quantity = models.PositiveSmallIntegerField(help_text="1 to 999 (domain/money.py parse_quantity).")
    unit_price = amount_field()
    tax_rate = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal(0))
    net = amount_field()
    tax = amount_field()

    class Meta:
        ordering = ["invoice", "position"]

    def lock_reason(self) -> str | None:
        if self.invoice.status != InvoiceStatus.DRAFT:
            return "This invoice is issued and cannot change: correct it with a credit note."
        return None

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


class DocumentCounter(models.Model):
    """The last number given to each numbered kind of document of a clinic (invoices, credit notes). Locked while a
    number is taken, so numbers are gapless and never repeat (docs/BILLING.md, "Numbers")."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "kind"], name="billing_counter_one_per_kind")]


class CreditNote(ClinicalRecord):
    """A correction of an issued invoice: an amount given back on it, with a reason. A void is one for the whole."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    issued_on = models.DateField()
    amount = amount_field()
    tax = amount_field(default=Decimal(0))
    reason = models.TextField()
    is_void = models.BooleanField(default=False)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "number"], name="billing_credit_note_number_unique_per_clinic")
        ]

    def lock_reason(self) -> str | None:
        return "A credit note never changes." if self.pk is not None else None


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CARD = "card", "Card"
    CHEQUE = "cheque", "Cheque"
    BANK_TRANSFER = "transfer", "Bank transfer"
    OTHER = "other", "Other"


class Payment(ClinicalRecord):
    """Money received from (or for) a patient, taken elsewhere (a card terminal, the till, the bank)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    amount = amount_field()
    method = models.CharField(max_length=8, choices=PaymentMethod.choices)
    received_on = models.DateField()
    reference = models.CharField(max_length=80, blank=True, help_text="The card terminal's or bank's reference.")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_on", "-created_at"]
        indexes = [models.Index(fields=["patient", "received_on"])]

    def lock_reason(self) -> str | None:
        return "A payment never changes: refund it or credit the invoice." if self.pk is not None else None


class PaymentAllocation(ClinicalRecord):
    """Part of a payment paying an invoice. A credit note that leaves an invoice overpaid gives money back to the
    account with a negative allocation (released), never by editing the first one."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=15, decimal_places=3)
    credit_note = models.ForeignKey(
        CreditNote, null=True, blank=True, on_delete=models.PROTECT, related_name="releases"
    )

    class Meta:
        ordering = ["created_at", "id"]

    def lock_reason(self) -> str | None:
        return "An allocation never changes." if self.pk is not None else None


class Refund(ClinicalRecord):
    """Money given back from a payment, to the payment's own method, with the reason."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    amount = amount_field()
    method = models.CharField(max_length=8, choices=PaymentMethod.choices)
    refunded_on = models.DateField()
    reason = models.TextField()
    reference = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-refunded_on", "-created_at"]

    def lock_reason(self) -> str | None:
        return "A refund never changes." if self.pk is not None else None


# --- Coverage and the Medicare ABN (docs/BILLING.md, "Medicare ABN") -------------------------------------------------


class PayerType(models.TextChoices):
    SELF_PAY = "self_pay", "Self-pay (no insurance used)"
    ORIGINAL_MEDICARE = "original_medicare", "Original Medicare (Part B)"
    MEDICARE_ADVANTAGE = "medicare_advantage", "Medicare Advantage (Part C plan)"
    COMMERCIAL = "commercial", "Commercial insurance"
    OTHER = "other", "Other"


class Coverage(ClinicalRecord):
    """Who pays for a patient's care, as recorded by the clinic. Never edited: a change is a new row, and the
    patient's coverage is the newest one. The member id is kept for the clinic's own use and never printed; pages
    show its last 4 characters. It stays out of version rows (only its last 4 are there)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    payer = models.CharField(max_length=20, choices=PayerType.choices)
    payer_name = models.CharField(max_length=120, blank=True, help_text="The plan or insurer, e.g. the MA plan.")
    member_id = models.CharField(max_length=40, blank=True)
    member_id_last4 = models.CharField(max_length=4, blank=True)

    SNAPSHOT_EXCLUDE = ClinicalRecord.SNAPSHOT_EXCLUDE | {"member_id"}

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "-created_at"])]

    def lock_reason(self) -> str | None:
        return "A recorded coverage never changes: record the new coverage." if self.pk is not None else None


class AbnOption(models.TextChoices):
    BILL_MEDICARE = "1", "Option 1: wants the sessions, bill Medicare for an official decision"
    DO_NOT_BILL = "2", "Option 2: wants the sessions, do not bill Medicare"
    DECLINE = "3", "Option 3: does not want the sessions"


class AdvanceNotice(ClinicalRecord):
    """A signed Advance Beneficiary Notice of Noncoverage (form CMS-R-131) for one course: blanks A-J as the patient
    read and signed them, the plan and estimate it states, the PDF and its SHA-256. Never edited: a new plan, price
    or health status asks for a new notice, and the course's current one is the newest. The only change allowed is
    recording that the patient's health status changed (which makes it out of date)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    course = models.ForeignKey("treatment.Course", on_delete=models.PROTECT, related_name="+")
    notifier = models.TextField(help_text="Blank A: the clinic's name, address and telephone.")
    patient_name = models.CharField(max_length=200, help_text="Blank B.")
    identification = models.CharField(max_length=40, help_text="Blank C: the clinic's record number, never the MBI.")
    items = models.TextField(help_text="Blank D: the sessions and the period.")
    reason = models.TextField(help_text="Blank E.")
    estimate_text = models.CharField(max_length=200, help_text="Blank F, as printed.")
    estimate_low = amount_field()
    estimate_high = amount_field()
    currency = models.CharField(max_length=3)
    package = models.BooleanField(default=False)
    additional = models.TextField(blank=True, help_text="Blank H.")
    option = models.CharField(max_length=1, choices=AbnOption.choices, help_text="Blank G.")
    signer_name = models.CharField(max_length=200, help_text="Blank I: who signed (the patient or a representative).")
    signed_on = models.DateField(help_text="Blank J.")
    signed_at = models.DateTimeField()
    sessions = models.PositiveSmallIntegerField()
    period_start = models.DateField()
    period_end = models.DateField()
    text_sha256 = models.CharField(max_length=64)
    signature = models.BinaryField(editable=False)
    # The signed PDF, stored once under its SHA-256 in the file store when signed (billing.services, core/filestore.py);
    # notices signed before the file store kept the bytes in `pdf`, still read (`pdf_content`).
    pdf = models.BinaryField(null=True, blank=True, editable=True)
    pdf_name = models.CharField(max_length=100, blank=True, editable=False)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    health_change = models.TextField(blank=True)
    health_change_at = models.DateTimeField(null=True, blank=True)

    SNAPSHOT_EXCLUDE = ClinicalRecord.SNAPSHOT_EXCLUDE | {"pdf", "signature"}

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["course", "-signed_at"])]

    @property
    def has_pdf(self) -> bool:
        return bool(self.pdf_name or self.pdf)

    @property
    def pdf_content(self) -> bytes | None:
        """The signed PDF's bytes as stored (unchecked: serve them through audit.integrity.verified)."""
        return filestore.stored_or_inline(self.pdf_name, self.pdf)

    def lock_reason(self) -> str | None:
        if self.pk is not None:
            return "A signed ABN never changes: record a change of health status, or issue a new ABN."
        return None


# --- Course packages (docs/BILLING.md, "Course packages") -----------------------------------------------------------


class PackageTerms(ClinicalRecord):
    """What a package offer's version gives: the uses, the days it is valid from the sale, and what a use covers (a
    protocol the linked course must follow, or chosen fee items the session's procedure must be one of). Immutable
    with its version: new terms are a new version of the offer."""

    fee_version = models.OneToOneField(FeeVersion, on_delete=models.PROTECT, related_name="package_terms")
    uses = models.PositiveSmallIntegerField(help_text="Sessions the package gives (domain/packages.py parse_uses).")
    validity_days = models.PositiveSmallIntegerField(help_text="Days it may be used from the day it is sold.")
    protocol_id = models.CharField(max_length=60, blank=True, help_text="Built-in template code or clinic template.")
    protocol_name = models.CharField(max_length=200, blank=True)
    item_codes = models.JSONField(default=list, blank=True, help_text="Fee item codes a use may cover.")

    def lock_reason(self) -> str | None:
        if self.pk is not None:
            return "A package offer's terms never change: add a new version of the offer."
        return None

    def covers(self) -> str:
        """What a use covers, in words."""
        if self.protocol_id:
            return f"sessions of {self.protocol_name or self.protocol_id}"
        return "sessions charged as " + ", ".join(self.item_codes)


class SoldPackage(ClinicalRecord):
    """A package sold to a patient on an invoice line: its uses, validity and the course it is linked to. Uses left
    are counted from its draws (PackageDraw), never stored. Settled when its course stopped early: the refund, by
    the clinic's rule, is a credit note on the sale invoice (the sale itself never changes)."""

    # Not fields: the uses drawn and left, set by billing.queries.packages_of / packages_of_course for the pages.
    drawn: int
    left: int

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    offer = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="+")
    terms = models.ForeignKey(PackageTerms, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    line = models.OneToOneField(InvoiceLine, on_delete=models.PROTECT, related_name="package")
    course = models.ForeignKey("treatment.Course", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    uses = models.PositiveSmallIntegerField()
    valid_from = models.DateField()
    valid_to = models.DateField()
    # Settled (course stopped early): the rule applied, the amount given back and its credit note (none under 'none').
    settled_on = models.DateField(null=True, blank=True)
    settle_rule = models.CharField(max_length=10, blank=True)
    refund = models.DecimalField(max_digits=15, decimal_places=3, null=True, blank=True)
    credit_note = models.ForeignKey(CreditNote, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-valid_from", "-id"]
        indexes = [models.Index(fields=["patient", "valid_to"]), models.Index(fields=["course"])]

    def __str__(self) -> str:
        return self.name

    def lock_reason(self) -> str | None:
        if self.pk is not None and self.settled_on is not None:
            return "This package is settled (its course stopped early) and cannot change."
        return None


class PackageDraw(ClinicalRecord):
    """One use of a package: a session of the linked course, charged on `invoice` at no charge for its procedure.
    A draw given back (its draft discarded, its invoice voided) is marked entered in error, never deleted."""

    package = models.ForeignKey(SoldPackage, on_delete=models.PROTECT, related_name="draws")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey("treatment.TreatmentSession", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    service_date = models.DateField(help_text="The session's day in the clinic's zone.")
    number = models.PositiveSmallIntegerField(help_text="Use n of the package's uses.")

    class Meta:
        ordering = ["package", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=models.Q(entered_in_error_at__isnull=True),
                name="billing_one_live_draw_per_session",
            ),
            # The last guard against two drafts at once taking the same use (the services lock the packages first).
            models.UniqueConstraint(
                fields=["package", "number"],
                condition=models.Q(entered_in_error_at__isnull=True),
                name="billing_one_live_draw_per_use",
            ),
        ]
