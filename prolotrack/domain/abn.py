"""The Medicare Advance Beneficiary Notice of Noncoverage (ABN, form CMS-R-131): when a course needs one, whether the
one on file is still current, and the estimated cost of blank F. Pure: the plan, prices and facts are passed in.

Sources (docs/BILLING.md, "Medicare ABN"): CMS, ABN Form Instructions (OMB 0938-0566); Medicare Claims Processing
Manual, Pub. 100-04, ch. 30, §50; NCD 150.7 (prolotherapy is not reasonable and necessary under §1862(a)(1) of the
Social Security Act, so Medicare is expected to deny it); the MAC guidance that an ABN stays effective while there is no
change in the care described, the patient's health status or Medicare's coverage guidelines.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from prolotrack.domain.errors import DomainError
from prolotrack.domain.money import Line, line_amounts, round_money


class AbnError(DomainError):
    """An ABN input the rules refuse (the message says what to fix)."""


class Payer(StrEnum):
    """Who pays for the patient's care (the coverage on the patient)."""

    SELF_PAY = "self_pay"
    ORIGINAL_MEDICARE = "original_medicare"
    MEDICARE_ADVANTAGE = "medicare_advantage"
    COMMERCIAL = "commercial"
    OTHER = "other"


PAYER_LABELS = {
    Payer.SELF_PAY: "Self-pay (no insurance used)",
    Payer.ORIGINAL_MEDICARE: "Original Medicare (Part B)",
    Payer.MEDICARE_ADVANTAGE: "Medicare Advantage (Part C plan)",
    Payer.COMMERCIAL: "Commercial insurance",
    Payer.OTHER: "Other",
}

# HCPCS Level II codes Medicare does not cover nationally for this product's procedure: M0076 "Prolotherapy" (NCD
# 150.7). Every procedure item of a ProloTrack course is a prolotherapy injection session, whatever code a clinic gives
# it, so a procedure item counts as non-covered too (is_non_covered).
NON_COVERED_CODES = frozenset({"M0076"})


class Option(StrEnum):
    """The three options of blank G; the patient checks exactly one."""

    BILL_MEDICARE = "1"
    DO_NOT_BILL = "2"
    DECLINE = "3"


# The option texts of blank G as form CMS-R-131 prints them; "{d}" is the blank (D) header the notifier writes in.
OPTION_TEXTS = {
    Option.BILL_MEDICARE: (
        "OPTION 1. I want the {d} listed above. You may ask to be paid now, but I also want Medicare billed for an "
        "official decision on payment, which is sent to me on a Medicare Summary Notice (MSN). I understand that if "
        "Medicare doesn't pay, I am responsible for payment, but I can appeal to Medicare by following the directions "
        "on the MSN. If Medicare does pay, you will refund any payments I made to you, less co-pays or deductibles."
    ),
    Option.DO_NOT_BILL: (
        "OPTION 2. I want the {d} listed above, but do not bill Medicare. You may ask to be paid now as I am "
        "responsible for payment. I cannot appeal if Medicare is not billed."
    ),
    Option.DECLINE: (
        "OPTION 3. I don't want the {d} listed above. I understand with this choice I am not responsible for payment, "
        "and I cannot appeal to see if Medicare would pay."
    ),
}

# Blank E in plain words (the instructions ask for a reason the patient understands, one for each item of D).
REASON_TEXT = (
    "Medicare does not pay for prolotherapy (injections of a sclerosing or irritant solution such as dextrose into "
    "joints, ligaments or tendons) for any condition: Medicare's national coverage decision 150.7 says it is not "
    "reasonable and necessary. We expect Medicare to deny payment for these sessions."
)

# Blank F: "we would expect the estimate to be within $100 or 25% of the actual costs, whichever is greater" (ABN form
# instructions). Applied in the clinic's currency (Medicare's is USD).
TOLERANCE_AMOUNT = Decimal(100)
TOLERANCE_FRACTION = Decimal("0.25")


def is_non_covered(code: str, kind: str) -> bool:
    """Whether Medicare is expected to deny a fee item of the plan: M0076, or any procedure item (prolotherapy)."""
    return code.upper() in NON_COVERED_CODES or kind == "procedure"


def abn_required(payer: str | None, gate_on: bool, non_covered_items: int) -> bool:
    """An ABN is asked for when the patient's coverage is Original Medicare, the clinic's gate is on and the course
    plans an item Medicare is expected to deny. Medicare Advantage plans use their own pre-service determinations
    (the ABN is an Original Medicare, fee-for-service notice), and self-pay or commercial patients are not on Medicare."""
    return gate_on and payer == Payer.ORIGINAL_MEDICARE and non_covered_items > 0


# --- Blank F: the estimate -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedSession:
    """One session still to be given: its planned day and the price of its procedure item on that day."""

    on: date
    unit_price: Decimal
    tax_rate: Decimal = Decimal(0)


@dataclass(frozen=True)
class Estimate:
    """What the course's sessions are expected to cost: one amount, or a range when the units are not known yet."""

    low: Decimal
    high: Decimal
    currency: str
    package: bool = False

    @property
    def is_range(self) -> bool:
        return self.low != self.high


def units_per_session(rule: str, sides: int, min_injections: int, max_injections: int) -> tuple[int, int]:
    """How many units of the procedure one session charges under the clinic's fee rule (docs/BILLING.md): one per
    side treated (per_region), the usual range of injections (per_injection), or one (per_session)."""
    if rule == "per_region":
        return (max(sides, 1), max(sides, 1))
    if rule == "per_injection":
        if not 1 <= min_injections <= max_injections:
            raise AbnError("The usual injections per session must be a range from at least 1.")
        return (min_injections, max_injections)
    if rule == "per_session":
        return (1, 1)
    raise AbnError(f"Unknown fee rule {rule!r}.")


def estimate(
    sessions: Sequence[PlannedSession],
    units: tuple[int, int],
    currency: str,
    *,
    package_price: Decimal | None = None,
    package_uses: int = 0,
) -> Estimate:
    """Blank F for the course's sessions: each priced with the fee version in force on its planned day, tax included
    and rounded per line (domain/money.py). A package sold for the course states its price once for the sessions its
    uses cover (the earliest); sessions beyond them are priced as above."""
    low = high = Decimal(0)
    covered = 0
    if package_price is not None:
        low = high = round_money(package_price, currency)
        covered = max(package_uses, 0)
    for session in sorted(sessions, key=lambda s: s.on)[covered:]:
        for quantity, end in ((units[0], "low"), (units[1], "high")):
            amounts = line_amounts(Line(quantity, session.unit_price, session.tax_rate), currency)
            if end == "low":
                low += amounts.net + amounts.tax
            else:
                high += amounts.net + amounts.tax
    return Estimate(low, high, currency, package=package_price is not None)


def tolerance(actual: Decimal) -> Decimal:
    """How far an estimate may be from the actual cost: $100 or 25% of it, whichever is greater."""
    return max(TOLERANCE_AMOUNT, (abs(actual) * TOLERANCE_FRACTION).quantize(Decimal("0.01"), ROUND_HALF_UP))


def within_tolerance(stated: Estimate, now: Estimate) -> bool:
    """Whether what the ABN states still estimates what the plan now costs: each end of the range now expected lies
    within the tolerance of the range stated (a single amount is a range of one)."""
    for actual in (now.low, now.high):
        nearest = min(max(actual, stated.low), stated.high)
        if abs(actual - nearest) > tolerance(actual):
            return False
    return True


# --- Is the ABN on file current? -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeFacts:
    """What a signed ABN states: the plan of blank D, the estimate of blank F, the option chosen (G)."""

    sessions: int
    period_start: date
    period_end: date
    estimate: Estimate
    option: Option
    health_change: str = ""


@dataclass(frozen=True)
class PlanFacts:
    """The course's plan now: the days of the sessions still to come and (all sessions counted) how many there are."""

    sessions: int
    days: tuple[date, ...]
    estimate: Estimate


def outdated_reasons(notice: NoticeFacts, plan: PlanFacts) -> tuple[str, ...]:
    """Why the ABN on file no longer describes the care (each asks for a new ABN); empty while it is current.

    A new ABN is needed when the care differs from what the notice describes (more sessions than it lists, or a session
    outside its period), when the patient's health status changed (recorded on the notice), or when the estimated cost
    moved beyond the instructions' tolerance. Fewer sessions than listed stay within the notice."""
    reasons: list[str] = []
    if plan.sessions > notice.sessions:
        reasons.append(f"the plan now has {plan.sessions} sessions, the ABN lists {notice.sessions}")
    outside = [d for d in plan.days if not notice.period_start <= d <= notice.period_end]
    if outside:
        reasons.append(
            f"a session is planned on {min(outside):%Y-%m-%d}, outside the ABN's period "
            f"{notice.period_start:%Y-%m-%d} to {notice.period_end:%Y-%m-%d}"
        )
    if notice.health_change:
        reasons.append(f"the patient's health status changed ({notice.health_change})")
    if plan.days and not within_tolerance(notice.estimate, plan.estimate):
        reasons.append(
            "the estimated cost is now "
            f"{describe_estimate(plan.estimate)}, beyond $100 or 25% of the ABN's {describe_estimate(notice.estimate)}"
        )
    return tuple(reasons)


class GateState(StrEnum):
    NOT_REQUIRED = "not_required"
    CURRENT = "current"
    MISSING = "missing"
    OUTDATED = "outdated"
    DECLINED = "declined"


# The blocker texts start with "No current ABN" so the session page puts the ABN page's link beside them.
ABN_BLOCKER_PREFIX = "No current ABN"


def gate_blockers(state: GateState, reasons: Sequence[str] = ()) -> tuple[str, ...]:
    """The session-signing blockers of the ABN gate (next to the consent gate, domain/session.py)."""
    if state in (GateState.NOT_REQUIRED, GateState.CURRENT):
        return ()
    if state is GateState.MISSING:
        return (
            f"{ABN_BLOCKER_PREFIX}: the patient's coverage is Original Medicare, which does not pay for prolotherapy "
            "(NCD 150.7); the patient reads and signs an Advance Beneficiary Notice (CMS-R-131) before the session is "
            "signed.",
        )
    if state is GateState.DECLINED:
        return (
            f"{ABN_BLOCKER_PREFIX}: on the ABN on file the patient chose option 3 (does not want the sessions); a new "
            "ABN with option 1 or 2 is needed before a session is signed.",
        )
    return (f"{ABN_BLOCKER_PREFIX}: the ABN on file is out of date ({'; '.join(reasons)}); issue a new one.",)


def describe_estimate(value: Estimate) -> str:
    amount = f"{value.currency} {value.low:,.2f}"
    if value.is_range:
        return f"between {amount} and {value.currency} {value.high:,.2f}"
    return amount


def describe_plan(sessions: int, start: date, end: date) -> str:
    """Blank D: the items and the period, in words."""
    many = "session" if sessions == 1 else "sessions"
    if start == end:
        return f"Prolotherapy (HCPCS M0076): {sessions} injection {many} on {_day(start)}"
    return f"Prolotherapy (HCPCS M0076): up to {sessions} injection {many} from {_day(start)} to {_day(end)}"


def mask_member_id(member_id: str) -> str:
    """A member id as pages show it: the last 4 characters only (never the whole number)."""
    value = (member_id or "").strip()
    if not value:
        return ""
    return "····" + value[-4:]


def _day(value: date) -> str:
    return f"{value:%B} {value.day}, {value.year}"
