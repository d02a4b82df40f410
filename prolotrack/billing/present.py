"""Shaping for the billing pages: the confirmation steps' texts (core/confirm.html) and the account card."""

from decimal import Decimal
from typing import Any

from django.urls import reverse

from prolotrack.billing import queries
from prolotrack.billing.models import Invoice, InvoiceStatus, Payment, SoldPackage
from prolotrack.domain import packages
from prolotrack.domain.money import format_money, round_money
from prolotrack.treatment.models import CourseStatus


def money(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency)


def invoice_figures(invoice: Invoice) -> dict[str, Any]:
    """An invoice with its lines, credit notes, payments and totals: what the invoice page and its PDF both show."""
    return {
        "invoice": invoice,
        "patient": invoice.patient,
        "lines": queries.invoice_lines(invoice),
        "credit_notes": queries.credit_notes_of(invoice),
        "allocations": queries.allocations_of(invoice),
        "credited": queries.invoice_credited(invoice),
        "paid": queries.invoice_paid(invoice),
        "balance": queries.invoice_balance(invoice),
    }


def invoice_page(invoice: Invoice) -> dict[str, Any]:
    figures = invoice_figures(invoice)
    return {
        **figures,
        "creditable": invoice.total - figures["credited"] if invoice.status == InvoiceStatus.ISSUED else Decimal(0),
        "account_credit": sum((left for _p, left in queries.payments_with_credit(invoice.patient)), Decimal(0)),
    }


def checkout_page(invoice: Invoice) -> dict[str, Any]:
    """The checkout screen of an invoice: its figures, the stage it is at and, for a draft, what issuing changes.

    Stages: `review` (a draft: check the lines, then issue after the confirmation), `pay` (issued, money owed: the
    split payment), `done` (issued and nothing owed: receipts and the printed documents), `closed` (void)."""
    figures = invoice_page(invoice)
    if invoice.status == InvoiceStatus.DRAFT:
        stage = "review"
    elif invoice.status == InvoiceStatus.VOID:
        stage = "closed"
    else:
        stage = "pay" if figures["balance"] > 0 else "done"
    payments: dict[Any, Payment] = {}
    for row in figures["allocations"]:
        if row.amount > 0:
            payments.setdefault(row.payment.pk, row.payment)
    return {
        **figures,
        "stage": stage,
        "payments": list(payments.values()),
        "issue_changes": issue_step(invoice)["changes"] if stage == "review" else [],
    }


def creditable(invoice: Invoice) -> str:
    """What an invoice may still be credited, as the amount field's starting text."""
    return str(round_money(max(invoice.total - queries.invoice_credited(invoice), Decimal(0)), invoice.currency))


def _confirm(invoice: Invoice, title: str, button: str) -> dict[str, Any]:
    back = reverse("billing:invoice", args=[invoice.uuid])
    return {
        "title": title,
        "patient": invoice.patient,
        "crumbs": [(reverse("billing:account", args=[invoice.patient.uuid]), "Account"), (back, str(invoice))],
        "record": f"{invoice}: {money(invoice.total, invoice.currency)}",
        "button": button,
        "back_url": back,
    }


def issue_step(invoice: Invoice) -> dict[str, Any]:
    context = _confirm(invoice, "Issue invoice", "Issue the invoice")
    lines = queries.invoice_lines(invoice)
    if invoice.status != InvoiceStatus.DRAFT:
        context["already"] = f"{invoice} is already issued; it cannot change."
    elif not lines:
        context["already"] = "This draft has no lines: add what is charged before issuing it."
    context["changes"] = [
        "The invoice takes the clinic's next invoice number and today's date.",
        f"Its {len(lines)} line(s) and its total ({money(invoice.total, invoice.currency)}) can no longer change: "
        "a correction is a credit note.",
        "Any account credit the patient holds pays it first.",
    ]
    return context


def credit_step(invoice: Invoice, *, void: bool) -> dict[str, Any]:
    title = "Void invoice" if void else "Credit note"
    context = _confirm(invoice, title, "Void the invoice" if void else "Issue the credit note")
    left = invoice.total - queries.invoice_credited(invoice)
    if invoice.status != InvoiceStatus.ISSUED or left <= 0:
        context["already"] = "Only an issued invoice with something left to credit can be credited or voided."
    context["changes"] = [
        f"A credit note for {money(left, invoice.currency) if void else 'the amount below'} (at most "
        f"{money(left, invoice.currency)}) takes the next credit-note number and references {invoice}.",
        "What was paid beyond what the invoice then asks goes back to the patient's account credit.",
    ]
    if void:
        context["changes"].append("The invoice is marked void.")
    context["keeps"] = ["The invoice itself is kept unchanged, with its number."]
    return context


def refund_step(payment: Payment, limit: Decimal) -> dict[str, Any]:
    back = reverse("billing:account", args=[payment.patient.uuid])
    context = {
        "title": "Refund",
        "patient": payment.patient,
        "crumbs": [(back, "Account")],
        "record": f"Payment of {money(payment.amount, payment.currency)} by {payment.get_method_display().lower()}, "
        f"{payment.received_on:%Y-%m-%d}",
        "button": "Record the refund",
        "back_url": back,
        "changes": [
            f"At most {money(limit, payment.currency)} can go back, to the same method "
            f"({payment.get_method_display().lower()}).",
            "Money that pays an invoice is released first by a credit note on that invoice.",
        ],
    }
    if limit <= 0:
        context["already"] = "Nothing of this payment can be refunded: it pays invoices or was refunded already."
    return context


# --- Course packages -----------------------------------------------------------------------------------------------


def package_page(sold: SoldPackage) -> dict[str, Any]:
    """A package: its terms, uses drawn and left, the sessions that drew them, and what settling would give back."""
    draws = queries.draws_of(sold)
    currency = sold.invoice.currency
    return {
        "package": sold,
        "patient": sold.patient,
        "draws": draws,
        "left": packages.remaining(sold.uses, len(draws)),
        "price": sold.line.gross,
        "currency": currency,
        # Another open course to link it to, while no use is drawn (the linked one is not offered again).
        "courses": [c for c in queries.open_courses(sold.patient) if c.pk != sold.course_id]
        if not draws and sold.settled_on is None
        else [],
        "settleable": sold.settled_on is None
        and sold.course is not None
        and sold.course.status == CourseStatus.STOPPED,
    }


def settle_step(sold: SoldPackage) -> dict[str, Any]:
    back = reverse("billing:package", args=[sold.uuid])
    rule = sold.clinic.config.package_refund_rule
    used = queries.drawn(sold)
    invoice = sold.invoice
    amount = packages.refund_amount(rule, sold.line.gross, sold.uses, used, invoice.currency)
    amount = min(amount, max(invoice.total - queries.invoice_credited(invoice), Decimal(0)))
    context: dict[str, Any] = {
        "title": "Settle package",
        "patient": sold.patient,
        "crumbs": [(reverse("billing:account", args=[sold.patient.uuid]), "Account"), (back, sold.name)],
        "record": f"{sold.name}: {used} of {sold.uses} uses drawn, {money(sold.line.gross, invoice.currency)}",
        "button": "Settle the package",
        "back_url": back,
        "changes": [
            f"The clinic's rule is '{packages.REFUND_RULES[rule]}'.",
            f"A credit note for {money(amount, invoice.currency)} on {invoice} (what was paid beyond what it then "
            "asks goes to the patient's account credit, to use or refund)."
            if amount > 0
            else "Nothing goes back: no credit note.",
            "The package draws no more uses.",
        ],
        "keeps": [f"{invoice} itself is kept unchanged, with its number."],
    }
    if sold.settled_on is not None:
        context["already"] = f"This package was settled on {sold.settled_on:%Y-%m-%d}."
    elif sold.course is None or sold.course.status != CourseStatus.STOPPED:
        context["already"] = "Only a package whose course was stopped early is settled: stop the course first."
    return context


def settled_message(sold: SoldPackage) -> str:
    if sold.credit_note is None:
        return f"{sold.name} settled: nothing given back (the clinic's rule: {sold.settle_rule.replace('_', ' ')})."
    amount = money(sold.credit_note.amount, sold.invoice.currency)
    return f"{sold.name} settled: credit note {sold.credit_note.number} for {amount}."
