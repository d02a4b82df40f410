"""Money for the practice side: exact amounts, rounding, invoice totals, payment allocation, refunds.

Pure: no Django, no clock, no floats. Every amount is a `Decimal` in one currency (ISO 4217 code). The rules and
their sources are in docs/BILLING.md:

- **Minor units** (ISO 4217's "minor unit" column, maintained by SIX as the ISO 4217 maintenance agency): USD, EUR,
  GBP and most currencies have 2 decimals, JPY and KRW 0, BHD, KWD, JOD, OMR and TND 3. An amount is stored and shown
  to its currency's minor unit; a price with more decimals than that is refused, never silently cut.
- **Rounding per line**: a line's net (quantity x unit price) and its tax (net x rate / 100) are each rounded to the
  minor unit with ROUND_HALF_UP ("half away from zero" for the positive amounts used here); the invoice's totals are
  sums of the rounded line values, so the printed lines always add up to the printed total.
- **Allocation**: a payment pays open invoices oldest first (by issue date, then number) or as the person taking it
  chose; what is left is account credit, used by the next invoice. An allocation never exceeds an invoice's balance.
- **Refunds** go back from the part of a payment that pays no invoice (its credit), never above what was paid less
  what was refunded already; money that pays an invoice is first released by a credit note.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from prolotrack.domain.errors import DomainError
from prolotrack.domain.reasons import Reason, other


class MoneyError(DomainError):
    """Refuse an amount, currency, allocation or refund that cannot be booked exactly."""


# ISO 4217 minor units (the number of decimals) of the currencies a clinic may choose. Source: ISO 4217 list one,
# published by SIX Group (the maintenance agency), "Minor unit" column.
MINOR_UNITS: dict[str, int] = {
    "USD": 2,
    "CAD": 2,
    "MXN": 2,
    "EUR": 2,
    "GBP": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "AUD": 2,
    "NZD": 2,
    "SGD": 2,
    "HKD": 2,
    "INR": 2,
    "ZAR": 2,
    "BRL": 2,
    "ILS": 2,
    "AED": 2,
    "JPY": 0,
    "KRW": 0,
    "ISK": 0,
    "CLP": 0,
    "BHD": 3,
    "JOD": 3,
    "KWD": 3,
    "OMR": 3,
    "TND": 3,
}

# The product's codes (HCPCS Level II, Medicare's NCD 150.7) are United States ones: USD unless the clinic says.
DEFAULT_CURRENCY = "USD"
# A tax rate is a percentage with at most three decimals (8.875 %: New York City's combined sales tax rate).
TAX_RATE_PLACES = 3
MAX_TAX_RATE = Decimal(100)
ZERO = Decimal(0)


def parse_currency(code: object) -> str:
    """An ISO 4217 code this product knows, upper case; refuses anything else with the list to choose from."""
    text = str(code or "").strip().upper()
    if text not in MINOR_UNITS:
        raise MoneyError(
            f"{code!r} is not a currency code this clinic can use: choose one of {', '.join(MINOR_UNITS)}."
        )
    return text


def quantum(currency: str) -> Decimal:
    """The currency's smallest amount: Decimal('0.01') for USD, Decimal('1') for JPY, Decimal('0.001') for KWD."""
    return Decimal(1).scaleb(-MINOR_UNITS[parse_currency(currency)])


def round_money(amount: Decimal, currency: str) -> Decimal:
    """An amount rounded to the currency's minor unit, half up (ROUND_HALF_UP)."""
    if not isinstance(amount, Decimal):
        raise MoneyError(f"Amounts are exact decimals, not {type(amount).__name__}.")
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, float | bool):
        raise MoneyError(f"{what} must be given as an exact decimal such as 120.00, not a {type(value).__name__}.")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise MoneyError(f"{what} must be a number such as 120.00, not {value!r}.") from None
    if not number.is_finite():
        raise MoneyError(f"{what} must be a finite number, not {value!r}.")
    return number


def parse_amount(value: object, currency: str, *, what: str = "The amount", allow_zero: bool = True) -> Decimal:
    """An amount in the currency: not negative, no more decimals than its minor unit, as a quantized Decimal."""
    number = _decimal(value, what)
    if number < 0:
        raise MoneyError(f"{what} cannot be negative ({number}); a correction is a credit note or a refund.")
    if number == 0 and not allow_zero:
        raise MoneyError(f"{what} must be more than zero.")
    step = quantum(currency)
    if number != number.quantize(step, rounding=ROUND_HALF_UP):
        places = MINOR_UNITS[parse_currency(currency)]
        raise MoneyError(f"{what} {number} has more decimals than {currency} allows ({places}).")
    return number.quantize(step)


def parse_tax_rate(value: object) -> Decimal:
    """A tax rate in percent: 0 to 100, at most three decimals (0 = exempt, most medical services)."""
    if value is None or value == "":
        return ZERO
    rate = _decimal(value, "The tax rate")
    if not ZERO <= rate <= MAX_TAX_RATE:
        raise MoneyError(f"The tax rate is a percentage from 0 to 100, not {rate}.")
    step = Decimal(1).scaleb(-TAX_RATE_PLACES)
    if rate != rate.quantize(step):
        raise MoneyError(f"The tax rate {rate} has more than {TAX_RATE_PLACES} decimals.")
    return rate.quantize(step)


def parse_quantity(value: object) -> int:
    """A line's quantity: a whole number from 1 to 999."""
    if isinstance(value, bool):
        raise MoneyError("The quantity must be a whole number from 1 to 999.")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise MoneyError(f"The quantity must be a whole number from 1 to 999, not {value!r}.") from None
    if not 1 <= number <= 999:
        raise MoneyError(f"The quantity must be a whole number from 1 to 999, not {number}.")
    return number


# --- Lines and totals ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal = ZERO


@dataclass(frozen=True)
class Amounts:
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


def line_amounts(line: Line, currency: str) -> Amounts:
    """A line's net and tax, each rounded half up to the minor unit (rounding per line)."""
    if line.quantity < 1:
        raise MoneyError("A line's quantity must be at least 1.")
    if line.unit_price < 0:
        raise MoneyError("A line's unit price cannot be negative.")
    net = round_money(line.unit_price * line.quantity, currency)
    tax = round_money(net * line.tax_rate / 100, currency)
    return Amounts(net=net, tax=tax)


def invoice_amounts(lines: Iterable[Line], currency: str) -> Amounts:
    """The invoice's totals: the sums of its rounded lines (they always add up to what is printed)."""
    parts = [line_amounts(line, currency) for line in lines]
    return Amounts(net=sum((p.net for p in parts), ZERO), tax=sum((p.tax for p in parts), ZERO))


def credit_tax(amount: Decimal, invoice: Amounts, currency: str) -> Decimal:
    """The tax inside a credit of `amount` (gross) on an invoice: the invoice's tax share, rounded half up.
    A credit of the whole invoice gives back exactly its tax."""
    if invoice.gross == 0:
        return ZERO
    if amount == invoice.gross:
        return invoice.tax
    return round_money(amount * invoice.tax / invoice.gross, currency)


# --- Allocation ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenItem:
    """An issued invoice with money still owed on it."""

    key: str
    issued_on: date
    number: int
    balance: Decimal


@dataclass(frozen=True)
class Allocation:
    key: str
    amount: Decimal


@dataclass(frozen=True)
class Plan:
    """Where a payment goes: to invoices, and what is left as account credit."""

    allocations: tuple[Allocation, ...]
    to_credit: Decimal


def allocate(
    amount: Decimal,
    open_items: Sequence[OpenItem],
    currency: str,
    *,
    chosen: Sequence[Allocation] | None = None,
) -> Plan:
    """Spread a payment over open invoices: oldest first, or the amounts chosen; the rest is account credit."""
    amount = parse_amount(amount, currency, what="The payment", allow_zero=False)
    by_key = {item.key: item for item in open_items}
    if chosen is None:
        remaining = amount
        out: list[Allocation] = []
        for oldest in sorted(open_items, key=lambda i: (i.issued_on, i.number, i.key)):
            if remaining == 0:
                break
            part = min(remaining, oldest.balance)
            if part > 0:
                out.append(Allocation(oldest.key, part))
                remaining -= part
        return Plan(tuple(out), remaining)
    seen: set[str] = set()
    total = ZERO
    for choice in chosen:
        item = by_key.get(choice.key)
        if item is None:
            raise MoneyError(f"Invoice {choice.key} is not open for this patient: choose among the open invoices.")
        if choice.key in seen:
            raise MoneyError(f"Invoice {item.number} is chosen twice: give one amount for it.")
        seen.add(choice.key)
        part = parse_amount(choice.amount, currency, what=f"The amount for invoice {item.number}", allow_zero=False)
        if part > item.balance:
            raise MoneyError(f"{part} is more than the {item.balance} still owed on invoice {item.number}.")
        total += part
    if total > amount:
        raise MoneyError(f"The amounts chosen ({total}) are more than the payment ({amount}).")
    return Plan(tuple(Allocation(c.key, parse_amount(c.amount, currency)) for c in chosen), amount - total)


def release(allocations: Sequence[Allocation], excess: Decimal) -> tuple[Allocation, ...]:
    """Which allocations a credit note gives back to account credit when an invoice would be paid beyond what it
    now asks: the newest allocations first (the allocations are in the order they were made), never more than each."""
    if excess < 0:
        raise MoneyError("Nothing to release: the excess is negative.")
    out: list[Allocation] = []
    remaining = excess
    for allocation in reversed(allocations):
        if remaining == 0:
            break
        part = min(remaining, allocation.amount)
        if part > 0:
            out.append(Allocation(allocation.key, part))
            remaining -= part
    if remaining != 0:
        raise MoneyError(f"Cannot release {excess}: only {excess - remaining} was paid on this invoice.")
    return tuple(out)


def refund_limit(paid: Decimal, refunded: Decimal, allocated: Decimal) -> Decimal:
    """How much of a payment may go back: what was paid, less what was refunded, less what pays invoices."""
    return max(ZERO, paid - refunded - allocated)


def check_refund(amount: object, paid: Decimal, refunded: Decimal, allocated: Decimal, currency: str) -> Decimal:
    """A refund amount within the limit, or a MoneyError that says the limit and why."""
    value = parse_amount(amount, currency, what="The refund", allow_zero=False)
    paid, refunded, allocated = (round_money(x, currency) for x in (paid, refunded, allocated))
    limit = round_money(refund_limit(paid, refunded, allocated), currency)
    if value > limit:
        parts = [f"{paid} paid"]
        if refunded:
            parts.append(f"{refunded} already refunded")
        if allocated:
            parts.append(f"{allocated} paying invoices (credit the invoice first to release it)")
        raise MoneyError(f"At most {limit} {currency} can be refunded from this payment ({', '.join(parts)}).")
    return value


def credit_limit(invoice_total: Decimal, credited: Decimal) -> Decimal:
    """How much more an invoice can be credited: its total less earlier credit notes."""
    return max(ZERO, invoice_total - credited)


def check_credit(
    amount: object, invoice_total: Decimal, credited: Decimal, currency: str, *, whole: bool = False
) -> Decimal:
    """A credit note's amount: more than zero and at most what the invoice still asks. A void (`whole`) credits all
    it still asks, which is zero for an invoice that charged nothing (a session drawn from a package): a 0.00 credit
    note then voids it, so it leaves the books by a numbered document like any other."""
    value = parse_amount(amount, currency, what="The credit", allow_zero=whole)
    limit = round_money(credit_limit(invoice_total, credited), currency)
    if value > limit:
        raise MoneyError(f"At most {limit} {currency} can still be credited on this invoice (its total less credits).")
    return value


def format_money(amount: Decimal, currency: str) -> str:
    """'1,234.50 USD': the amount to its minor unit with thousands separators, then the code."""
    places = MINOR_UNITS[parse_currency(currency)]
    return f"{round_money(amount, currency):,.{places}f} {currency}"


# --- The clinic's fee rule for a session's procedure ---------------------------------------------------------------

FEE_RULES: dict[str, str] = {
    "per_region": "Per region and side treated",
    "per_injection": "Per injection",
    "per_session": "Per session",
}
DEFAULT_FEE_RULE = "per_region"


@dataclass(frozen=True)
class ProcedureLine:
    label: str
    quantity: int


def procedure_lines(rule: str, sites: Sequence[tuple[str, str]]) -> tuple[ProcedureLine, ...]:
    """The procedure lines of a signed session from its injection sites ((region, side) each), by the fee rule."""
    if rule not in FEE_RULES:
        raise MoneyError(f"Unknown fee rule {rule!r}: choose one of {', '.join(FEE_RULES)}.")
    if not sites:
        raise MoneyError("The session records no injection site: there is no procedure to charge.")
    if rule == "per_session":
        return (ProcedureLine("", 1),)
    if rule == "per_injection":
        return (ProcedureLine(f"{len(sites)} injection{'s' if len(sites) != 1 else ''}", len(sites)),)
    regions = list(dict.fromkeys(sites))
    return tuple(ProcedureLine(f"{region}, {side}" if side else region, 1) for region, side in regions)


# --- Reasons of the irreversible steps (the shared confirmation page, core.forms.ReasonForm) -------------------------

CREDIT_REASONS: tuple[Reason, ...] = (
    Reason("charged_in_error", "Charged in error"),
    Reason("wrong_item", "Wrong item or quantity charged"),
    Reason("not_given", "Service not given as charged"),
    Reason("goodwill", "Goodwill reduction agreed with the patient"),
    other("Other (say why, at least a few words)"),
)
VOID_REASONS: tuple[Reason, ...] = (
    Reason("wrong_patient", "Invoiced to the wrong patient"),
    Reason("duplicate", "Duplicate of another invoice"),
    Reason("not_seen", "Patient not seen, nothing to charge"),
    other("Other (say why, at least a few words)"),
)
REFUND_REASONS: tuple[Reason, ...] = (
    Reason("overpaid", "Overpaid: credit not wanted"),
    Reason("credited", "Invoice credited, money returned"),
    Reason("course_stopped", "Course stopped, unused money returned"),
    other("Other (say why, at least a few words)"),
)
