"""Demo billing: the demo clinic's fee schedule, then invoices for some of its signed sessions, issued by the front
desk, most paid (one by card and cash together), one partly paid, one left open, one corrected by a credit note and
one paid beyond its total (the rest kept as account credit); a course package sold for an open knee course, two of
its sessions drawing uses; the practice's address, NPI and tax id for the
letterhead and superbill. Safe to run again: a clinic with a fee schedule is left
as it is."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from prolotrack.audit.services import Actor
from prolotrack.billing import printing, queries, services
from prolotrack.billing.models import FeeItem, Invoice, SoldPackage
from prolotrack.billing.testing import fee_schedule
from prolotrack.clinics.models import Membership
from prolotrack.clinics.roles import Permission, roles_with
from prolotrack.clinics.services import update_clinic_settings
from prolotrack.messaging.services import queue_billing_document
from prolotrack.treatment.models import Course, CourseStatus, TreatmentSession

# The letterhead and superbill details of the demo practice: a made-up address; the NPI is CMS's worked example of
# the check digit (1234567893), the tax id an EIN no one holds (00 is not a valid EIN prefix: IRS, "How EINs are
# assigned and valid EIN prefixes").
DEMO_PRACTICE = {"address": "100 Example Avenue, Springfield, IL 62701", "npi": "1234567893", "tax_id": "000000000"}


def seed_actor(clinic: Any, permission: Permission) -> Actor:
    """The clinic's first active member whose role has the permission, acting for the demo seed."""
    member = (
        Membership.objects.filter(clinic=clinic, is_active=True, role__in=roles_with(permission))
        .select_related("user")
        .order_by("id")
        .first()
    )
    if member is None:
        raise RuntimeError(f"The demo clinic has nobody who may {permission.value}.")
    return Actor(user=member.user, clinic=clinic, role=member.role, channel="system")


def seed_billing(clinic: Any, *, today: date, invoices: int = 8) -> dict[str, int]:
    """The fee schedule, and invoices for up to `invoices` signed sessions (oldest first)."""
    if FeeItem.objects.filter(clinic=clinic).exists():
        return {"fee_items": 0, "invoices": 0}
    admin = seed_actor(clinic, Permission.BILLING_FEES)
    desk = seed_actor(clinic, Permission.BILLING_PAYMENT)
    fees = fee_schedule(admin, today - timedelta(days=400))
    update_clinic_settings(admin, clinic, DEMO_PRACTICE)
    sessions = list(
        TreatmentSession.objects.active()
        .filter(clinic=clinic, signed_at__isnull=False)
        .order_by("signed_at")[:invoices]
    )
    issued = []
    for n, session in enumerate(sessions):
        draft = services.draft_from_session(desk, session)
        if n == 2:
            services.add_line(desk, draft, fees["BRACE-KNEE"])
        invoice = services.issue_invoice(desk, Invoice.objects.get(pk=draft.pk))
        _pay(desk, admin, invoice, n if n < len(sessions) - 1 else -1)
        issued.append(invoice)
    _email_one(desk, issued)
    seed_package(admin, desk, today=today)
    return {"fee_items": len(fees), "invoices": len(sessions)}


def _email_one(desk: Actor, invoices: list[Invoice]) -> None:
    """The first invoice of a patient with an email address, queued to them as the front desk's "Email invoice" does
    (the outbox then shows a billing document with its PDF attached)."""
    invoice = next((i for i in invoices if i.patient.email and not i.patient.is_entered_in_error), None)
    if invoice is None:
        return
    queue_billing_document(
        desk, invoice.patient, document="invoice", record=invoice, title=f"Invoice {invoice.number}",
        filename=printing.invoice_filename(invoice), pdf=printing.invoice_pdf(invoice),
    )  # fmt: skip


def seed_package(admin: Actor, desk: Actor, *, today: date) -> SoldPackage | None:
    """A package offer (three sessions of the Rabago knee protocol for 660.00 instead of 3 x 250.00, valid 180 days)
    sold and paid for an open knee course whose signed sessions are not charged yet; those sessions then draw their
    uses (docs/BILLING.md, "Course packages")."""
    offer = services.create_package_offer(
        admin, code="PKG-KNEE-3", description="Knee course of 3 sessions", price=Decimal("660.00"), uses=3,
        validity_days=180, protocol_id="knee_oa_rabago", active_from=today - timedelta(days=400),
    )  # fmt: skip
    charged = Invoice.objects.filter(clinic=admin.clinic, session__isnull=False).values("session__course_id")
    courses = (
        Course.objects.active()
        .filter(clinic=admin.clinic, status=CourseStatus.OPEN, protocol_id="knee_oa_rabago")
        .exclude(pk__in=charged)
        .filter(sessions__signed_at__isnull=False)
        .distinct()
        .order_by("started_on", "id")
    )
    # One with sessions still to come, the most sessions signed first (two draw their uses below).
    open_ended = [c for c in courses if c.sessions.filter(signed_at__isnull=True).exists()]
    course = max(open_ended, key=lambda c: min(2, c.sessions.filter(signed_at__isnull=False).count()), default=None)
    if course is None:
        return None
    sold = services.sell_package_on_new_draft(desk, course.patient, offer, course=course)
    sale = services.issue_invoice(desk, Invoice.objects.get(pk=sold.invoice_id))
    services.record_payment(
        desk, course.patient, amount=sale.total, currency=sale.currency, method="card", reference="TID 4720"
    )
    signed = TreatmentSession.objects.active().filter(course=course, signed_at__isnull=False).order_by("number")
    for session in signed[:2]:
        draft = services.draft_from_session(desk, session)
        services.issue_invoice(desk, Invoice.objects.get(pk=draft.pk))
    return sold


def _pay(desk: Actor, admin: Actor, invoice: Invoice, n: int) -> None:
    """The n-th invoice's story (-1: the last invoice, paid beyond its total so the patient holds account credit)."""
    patient, total = invoice.patient, invoice.total
    currency = invoice.currency
    if n == 0:  # a split payment: part by card, the rest in cash
        services.record_payment(
            desk, patient, amount=Decimal(200), currency=currency, method="card", reference="TID 4471"
        )
        services.record_payment(desk, patient, amount=total - 200, currency=currency, method="cash")
    elif n == 1:  # a goodwill credit note, then the rest paid by card
        services.credit_invoice(admin, invoice, amount=Decimal(50), reason="Goodwill reduction agreed with the patient")
        services.record_payment(
            desk,
            patient,
            amount=queries.invoice_balance(invoice),
            currency=currency,
            method="card",
            reference="TID 4502",
        )
    elif n == 3:  # partly paid
        services.record_payment(
            desk, patient, amount=Decimal(100), currency=currency, method="cheque", reference="CHQ 1123"
        )
    elif n == -1:  # paid beyond what is owed: the rest stays as account credit
        owed = sum((row.balance for row in queries.open_invoices(patient)), Decimal(0))
        services.record_payment(desk, patient, amount=owed + 40, currency=currency, method="transfer")
    elif n == 5:  # left open
        return
    else:
        services.record_payment(
            desk, patient, amount=total, currency=currency, method="card", reference=f"TID {4600 + n}"
        )
