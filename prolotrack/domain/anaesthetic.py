"""Maximum local anaesthetic doses by weight, and the check of a session's total against them.

Limit = min(mg/kg × weight, cap), rounded down to 0.1 mg so that rounding never raises a limit. A session is
checked per drug and combined: toxicity of local anaesthetics is additive (Carbocaine label), so the fractions of
each drug's limit are summed and the sum must not exceed 1. See docs/clinical/anaesthetic-limits.md.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from enum import StrEnum
from fractions import Fraction

from . import sources
from .agents import LOCAL_ANAESTHETICS, Agent, parse_agent
from .dates import age_in_years, is_older_than, is_younger_than
from .errors import DoseError
from .limits import BODY_WEIGHT_KG
from .quantities import as_decimal, fmt
from .sources import Evidence

# The chart's weight range (domain/limits.py): a weight the chart accepts is never refused by the dose rule.
MIN_WEIGHT_KG = BODY_WEIGHT_KG.low
MAX_WEIGHT_KG = BODY_WEIGHT_KG.high

# Product default, not a published number: warn when a session reaches 80% of the combined limit.
DEFAULT_WARN_FRACTION = Decimal("0.8")

MAX_MG_STEP = Decimal("0.1")
FRACTION_STEP = Decimal("0.0001")

# DOMAIN.md §3: LAST risk is higher under 6 or over 60 years.
LAST_RISK_UNDER_YEARS = 6
LAST_RISK_OVER_YEARS = 60


@dataclass(frozen=True)
class DoseRule:
    """Hold one published limit: mg per kg, an absolute cap (if any), its source and how firm it is."""

    mg_per_kg: Decimal
    cap_mg: Decimal | None
    source: str
    evidence: Evidence
    note: str = ""


_SAME_AS_PLAIN = (
    "No separate limit with epinephrine is used: the plain limit applies, which is the lower (safer) of the two."
)

DOSE_RULES: dict[tuple[Agent, bool], DoseRule] = {
    (Agent.LIDOCAINE, False): DoseRule(Decimal("4.5"), Decimal(300), sources.FDA_XYLOCAINE, Evidence.ESTABLISHED),
    (Agent.LIDOCAINE, True): DoseRule(Decimal(7), Decimal(500), sources.FDA_XYLOCAINE, Evidence.ESTABLISHED),
    (Agent.PROCAINE, False): DoseRule(
        Decimal(7),
        Decimal(600),
        f"{sources.WIKEM_PROCAINE}; cap: {sources.NOVOCAIN_LABEL}",
        Evidence.VARIES,
        "WikEM gives no absolute cap; the 600 mg cap is the upper end of the Novocain label's single safe total dose.",
    ),
    (Agent.PROCAINE, True): DoseRule(
        Decimal(10),
        Decimal(600),
        f"{sources.WIKEM_PROCAINE}; cap: {sources.NOVOCAIN_LABEL}",
        Evidence.VARIES,
        "WikEM gives no absolute cap; the 600 mg cap is the upper end of the Novocain label's single safe total dose.",
    ),
    (Agent.BUPIVACAINE, False): DoseRule(Decimal("2.5"), Decimal(175), sources.WIKEM_BUPIVACAINE, Evidence.VARIES),
    (Agent.BUPIVACAINE, True): DoseRule(
        Decimal("2.5"), Decimal(175), sources.WIKEM_BUPIVACAINE, Evidence.VARIES, _SAME_AS_PLAIN
    ),
    (Agent.MEPIVACAINE, False): DoseRule(
        Decimal(7),
        Decimal(400),
        sources.CARBOCAINE_LABEL,
        Evidence.VARIES,
        "The label gives no routine per-kg figure: 7 mg/kg is the most it reports as given without harm and "
        "400 mg its usual adult maximum. Below 57 kg the per-kg figure governs; use the lowest effective dose.",
    ),
    (Agent.MEPIVACAINE, True): DoseRule(
        Decimal(7),
        Decimal(400),
        sources.CARBOCAINE_LABEL,
        Evidence.VARIES,
        _SAME_AS_PLAIN,
    ),
}


@dataclass(frozen=True)
class DoseLimit:
    """Give the maximum dose of one anaesthetic for one patient weight, with its source."""

    drug: Agent
    with_epinephrine: bool
    weight_kg: Decimal
    mg_per_kg: Decimal
    cap_mg: Decimal | None
    max_mg: Decimal
    source: str
    evidence: Evidence
    note: str = ""

    @property
    def describe(self) -> str:
        """Return the rule in words, e.g. 'lidocaine plain: 4.5 mg/kg, not over 300 mg'."""
        form = "with epinephrine" if self.with_epinephrine else "plain"
        cap = f", not over {fmt(self.cap_mg)} mg" if self.cap_mg is not None else ""
        return f"{self.drug.label.lower()} {form}: {fmt(self.mg_per_kg)} mg/kg{cap}"


def check_weight(weight_kg: object) -> Decimal:
    """Return a plausible body weight in kg, refusing a missing, non-positive or absurd one."""
    if weight_kg is None:
        raise DoseError("A body weight is required to check a local anaesthetic dose: weigh the patient and record it.")
    weight = as_decimal(weight_kg, "Body weight (kg)", DoseError)
    if weight <= 0:
        raise DoseError(f"Body weight must be above zero (got {fmt(weight)} kg): record the patient's weight in kg.")
    if (problem := BODY_WEIGHT_KG.problem(weight)) is not None:
        raise DoseError(problem)
    return weight


def _anaesthetic(drug: object) -> Agent:
    agent = parse_agent(drug, DoseError)
    if agent not in LOCAL_ANAESTHETICS:
        names = ", ".join(sorted(a.value for a in LOCAL_ANAESTHETICS))
        raise DoseError(f"{agent.label} is not a local anaesthetic: dose limits exist for {names}.")
    return agent


def max_dose(drug: Agent | str, with_epinephrine: bool, weight_kg: Decimal) -> DoseLimit:
    """Return the maximum dose for the drug (an Agent or its name) and weight: min(mg/kg × weight, cap), rounded down to 0.1 mg."""
    agent = _anaesthetic(drug)
    if not isinstance(with_epinephrine, bool):
        raise DoseError("State whether the anaesthetic contains epinephrine (yes or no).")
    weight = check_weight(weight_kg)
    rule = DOSE_RULES[(agent, with_epinephrine)]
    by_weight = rule.mg_per_kg * weight
    limit = by_weight if rule.cap_mg is None else min(by_weight, rule.cap_mg)
    return DoseLimit(
        drug=agent,
        with_epinephrine=with_epinephrine,
        weight_kg=weight,
        mg_per_kg=rule.mg_per_kg,
        cap_mg=rule.cap_mg,
        # Rounded down: a displayed limit must never be above the true one.
        max_mg=limit.quantize(MAX_MG_STEP, rounding=ROUND_DOWN),
        source=rule.source,
        evidence=rule.evidence,
        note=rule.note,
    )


class DoseStatus(StrEnum):
    """Grade a session's anaesthetic total: OK, WARN (near the limit) or BLOCK (over it)."""

    OK = "ok"
    WARN = "warn"
    BLOCK = "block"


@dataclass(frozen=True)
class Administration:
    """Record one amount of local anaesthetic given in a session (any syringe, skin wheals included)."""

    drug: Agent
    with_epinephrine: bool
    mg: Decimal


@dataclass(frozen=True)
class DrugTotal:
    """Give the session total of one anaesthetic form and the fraction of its limit it uses."""

    drug: Agent
    with_epinephrine: bool
    total_mg: Decimal
    limit: DoseLimit
    fraction: Decimal
    status: DoseStatus


@dataclass(frozen=True)
class SessionDoseCheck:
    """Give the verdict on a session's local anaesthetic: per drug, combined, and the reasons."""

    status: DoseStatus
    totals: tuple[DrugTotal, ...]
    combined_fraction: Decimal
    warn_fraction: Decimal
    messages: tuple[str, ...]
    advisories: tuple[str, ...]
    source: str = sources.ADDITIVE_TOXICITY


def last_age_risk(date_of_birth: date, on: date) -> bool:
    """Return True if the patient is under 6 or over 60 years on the date (higher LAST risk)."""
    return is_younger_than(date_of_birth, LAST_RISK_UNDER_YEARS, on) or is_older_than(
        date_of_birth, LAST_RISK_OVER_YEARS, on
    )


def last_age_advisory(date_of_birth: date, on: date) -> str | None:
    """Return the LAST age advisory for the patient, or None when age does not add risk."""
    age = age_in_years(date_of_birth, on)
    if not last_age_risk(date_of_birth, on):
        return None
    band = f"under {LAST_RISK_UNDER_YEARS}" if age < LAST_RISK_UNDER_YEARS else f"over {LAST_RISK_OVER_YEARS}"
    return (
        f"Patient is {age} years old ({band}): the risk of local anaesthetic systemic toxicity is higher. "
        "Use the lowest effective dose and watch for perioral numbness, metallic taste, tinnitus or confusion, "
        "usually 1-5 minutes after injection and up to 60 minutes."
    )


def _grade(fraction: Fraction, warn: Fraction) -> DoseStatus:
    if fraction > 1:
        return DoseStatus.BLOCK
    if fraction >= warn:
        return DoseStatus.WARN
    return DoseStatus.OK


def _show_fraction(value: Fraction) -> Decimal:
    # Rounded up for display so a total just over a threshold never reads as under it.
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(FRACTION_STEP, rounding=ROUND_CEILING)


def _percent(value: Fraction) -> str:
    exact = Decimal(value.numerator * 100) / Decimal(value.denominator)
    return fmt(exact.quantize(Decimal("0.1"), rounding=ROUND_CEILING))


def check_session(
    weight_kg: Decimal,
    administrations: Sequence[Administration],
    warn_fraction: Decimal = DEFAULT_WARN_FRACTION,
    *,
    date_of_birth: date | None = None,
    on: date | None = None,
) -> SessionDoseCheck:
    """Check a session's local anaesthetic totals against the weight-based limits, per drug and combined."""
    weight = check_weight(weight_kg)
    warn = as_decimal(warn_fraction, "Warning threshold", DoseError)
    if not 0 < warn <= 1:
        raise DoseError(
            f"Warning threshold {fmt(warn)} must be above 0 and at most 1 (a fraction of the maximum, e.g. 0.8)."
        )
    if (date_of_birth is None) != (on is None):
        raise DoseError("Give both the date of birth and the session date to include the age advisory, or neither.")

    totals: dict[tuple[Agent, bool], Decimal] = {}
    for item in administrations:
        if not isinstance(item, Administration):
            raise DoseError("Each administration must give the drug, whether it has epinephrine, and the mg given.")
        drug = _anaesthetic(item.drug)
        if not isinstance(item.with_epinephrine, bool):
            raise DoseError(f"State whether the {drug.label.lower()} contains epinephrine (yes or no).")
        mg = as_decimal(item.mg, f"{drug.label} amount (mg)", DoseError)
        if mg <= 0:
            raise DoseError(
                f"{drug.label} amount must be above zero (got {fmt(mg)} mg): remove the line or enter the mg given."
            )
        key = (drug, item.with_epinephrine)
        totals[key] = totals.get(key, Decimal(0)) + mg

    warn_exact = Fraction(warn)
    lines: list[DrugTotal] = []
    combined = Fraction(0)
    messages: list[str] = []
    for (drug, epi), total in sorted(totals.items(), key=lambda kv: (list(Agent).index(kv[0][0]), kv[0][1])):
        limit = max_dose(drug, epi, weight)
        fraction = Fraction(total) / Fraction(limit.max_mg)
        combined += fraction
        status = _grade(fraction, warn_exact)
        lines.append(DrugTotal(drug, epi, total, limit, _show_fraction(fraction), status))
        if status is DoseStatus.BLOCK:
            messages.append(
                f"{_form(drug, epi)} total {fmt(total)} mg is above the maximum {fmt(limit.max_mg)} mg for "
                f"{fmt(weight)} kg ({limit.describe}): reduce the volume or the concentration."
            )

    status = _grade(combined, warn_exact)
    if len(lines) > 1:
        parts = " + ".join(f"{_form(t.drug, t.with_epinephrine).lower()} {_percent(_exact(t))}%" for t in lines)
        if status is DoseStatus.BLOCK:
            messages.append(
                f"Local anaesthetic toxicity adds up across drugs: {parts} = {_percent(combined)}% of the combined "
                "limit, above 100%: reduce one of the anaesthetics."
            )
        elif status is DoseStatus.WARN:
            messages.append(
                f"Local anaesthetic toxicity adds up across drugs: {parts} = {_percent(combined)}% of the combined "
                f"limit, at or above the {_percent(warn_exact)}% warning threshold (clinic setting)."
            )
    elif status is DoseStatus.WARN:
        line = lines[0]
        messages.append(
            f"{_form(line.drug, line.with_epinephrine)} total {fmt(line.total_mg)} mg is {_percent(combined)}% of "
            f"the maximum {fmt(line.limit.max_mg)} mg, at or above the {_percent(warn_exact)}% warning threshold "
            "(clinic setting)."
        )

    advisories: list[str] = []
    if date_of_birth is not None and on is not None and totals:
        advisory = last_age_advisory(date_of_birth, on)
        if advisory:
            advisories.append(advisory)

    return SessionDoseCheck(
        status=status,
        totals=tuple(lines),
        combined_fraction=_show_fraction(combined),
        warn_fraction=warn,
        messages=tuple(messages),
        advisories=tuple(advisories),
    )


def _exact(total: DrugTotal) -> Fraction:
    return Fraction(total.total_mg) / Fraction(total.limit.max_mg)


def _form(drug: Agent, with_epinephrine: bool) -> str:
    return f"{drug.label} {'with epinephrine' if with_epinephrine else 'plain'}"
