"""Course packages: a prepaid course of N uses at one price, valid between two dates (docs/BILLING.md, "Course
packages").

Pure: no Django, no clock. The rules:

- **Uses** are counted from the draws recorded (one row a session), never from a counter: what is left is the uses
  sold less the draws, never below zero.
- **Validity**: a package is valid from its first day to its last day, both included; the last day is the first day
  plus the offer's validity in days, less one (a 365-day package sold on 1 January 2026 is valid to 31 December 2026).
- **A draw** is refused when no use is left or the session's day is outside the validity; the session is then charged
  at the normal price and the refusal says so.
- **Stopped early**: by the clinic's rule (`package_refund_rule`), `pro_rata` gives back the unused uses' share of
  what the package cost, rounded half up to the currency's minor unit (as every line is: domain/money.py); `none`
  gives nothing back. The pro-rata share of every use is exactly the price; a refund never exceeds the price.
- **Liability** (uses sold, not yet delivered): the same pro-rata share of the uses left.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from prolotrack.domain.errors import DomainError
from prolotrack.domain.money import ZERO, round_money


class PackageError(DomainError):
    """Refuse a package offer, a draw or a refund that the rules do not allow."""


# A course of prolotherapy is 3-6 sessions in the trials (DOMAIN.md §4); 50 leaves room for a clinic's longer
# programmes (a year of monthly maintenance) and refuses a typing slip such as 300. Validity up to three years.
MAX_USES = 50
MAX_VALIDITY_DAYS = 1096

REFUND_RULES: dict[str, str] = {
    "pro_rata": "Pro rata: the unused uses' share of the price goes back",
    "none": "None: nothing goes back for unused uses",
}
# The clinic's policy choice; pro rata by default because keeping money for services never supplied is a term
# consumer law treats as potentially unfair (docs/BILLING.md, "Course packages", and docs/SETTINGS.md).
DEFAULT_REFUND_RULE = "pro_rata"


def _whole(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool | float):
        raise PackageError(f"{what} must be a whole number from {low} to {high}.")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise PackageError(f"{what} must be a whole number from {low} to {high}, not {value!r}.") from None
    if not low <= number <= high:
        raise PackageError(f"{what} must be a whole number from {low} to {high}, not {number}.")
    return number


def parse_uses(value: object) -> int:
    """The number of uses (sessions) a package gives: 1 to 50."""
    return _whole(value, "The number of uses", 1, MAX_USES)


def parse_validity_days(value: object) -> int:
    """How many days a package is valid from the day it is sold: 1 to 1096 (three years)."""
    return _whole(value, "The validity in days", 1, MAX_VALIDITY_DAYS)


def valid_to(valid_from: date, validity_days: int) -> date:
    """The last day a package may be used: the first day plus the validity, less one (both ends included)."""
    return valid_from + timedelta(days=parse_validity_days(validity_days) - 1)


def remaining(uses: int, drawn: int) -> int:
    """Uses left: never negative (a draw beyond the uses is refused, but a count is never shown below zero)."""
    return max(0, uses - max(0, drawn))


@dataclass(frozen=True)
class PackageState:
    """What a draw needs to know of a sold package."""

    name: str
    uses: int
    drawn: int
    valid_from: date
    valid_to: date

    @property
    def left(self) -> int:
        return remaining(self.uses, self.drawn)


def draw_refusal(state: PackageState, day: date) -> str | None:
    """Why a session on `day` cannot draw a use of the package (None: it can). Each text says the session is then
    charged at the normal price."""
    then = "This session is charged at the normal price."
    if state.left == 0:
        return f"Package '{state.name}' has no use left ({state.drawn} of {state.uses} used). {then}"
    if day < state.valid_from:
        return f"Package '{state.name}' is valid from {state.valid_from:%Y-%m-%d}; the session is on {day:%Y-%m-%d}. {then}"
    if day > state.valid_to:
        return f"Package '{state.name}' expired on {state.valid_to:%Y-%m-%d}; the session is on {day:%Y-%m-%d}. {then}"
    return None


def share(price: Decimal, uses: int, count: int, currency: str) -> Decimal:
    """The pro-rata value of `count` of a package's `uses` that cost `price`: price x count / uses, rounded half up to
    the currency's minor unit. `count` is held to 0..uses, so the share never exceeds the price, and all the uses
    are exactly the price."""
    if uses < 1:
        raise PackageError("A package has at least one use.")
    if price < 0:
        raise PackageError("A package's price cannot be negative.")
    count = min(max(0, count), uses)
    if count == uses:
        return round_money(price, currency)
    return round_money(price * count / uses, currency)


def refund_amount(rule: str, price: Decimal, uses: int, drawn: int, currency: str) -> Decimal:
    """What goes back when a course is stopped early with uses unused, by the clinic's rule."""
    if rule not in REFUND_RULES:
        raise PackageError(f"Unknown package refund rule {rule!r}: choose one of {', '.join(REFUND_RULES)}.")
    if rule == "none":
        return ZERO
    return share(price, uses, remaining(uses, drawn), currency)
