"""The two bedside calculators, shared by the API and the calculator page: solution mixing and dose limits.

They store nothing and read no patient data. Each check that fails names the input it is about, so a page can put
the message next to the field and the API can say which field to fix. The clinical rules and their messages are
the domain's (prolotrack/domain/mixing.py, anaesthetic.py); this module only adds sanity bounds against typing errors.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from prolotrack.domain import sources
from prolotrack.domain.agents import LOCAL_ANAESTHETICS, Agent, parse_agent, pct
from prolotrack.domain.anaesthetic import (
    Administration,
    DoseLimit,
    DoseStatus,
    SessionDoseCheck,
    check_session,
    check_weight,
    max_dose,
)
from prolotrack.domain.errors import DomainError
from prolotrack.domain.limits import CONCENTRATION_PCT, PLANNED_ANAESTHETIC_MG, SOLUTION_VOLUME_ML, Limit
from prolotrack.domain.mixing import VOLUME_STEP, Component, Diluent, MixResult, mix, parse_diluent
from prolotrack.domain.quantities import fmt

ANAESTHETICS: tuple[Agent, ...] = (Agent.LIDOCAINE, Agent.PROCAINE, Agent.BUPIVACAINE, Agent.MEPIVACAINE)
FURTHER_AGENTS: tuple[Agent, ...] = (Agent.GLYCERIN, Agent.PHENOL, Agent.SODIUM_MORRHUATE)

# Numbers beyond these are typing accidents, and would not fit the 28-digit arithmetic of messages.
MAX_MAGNITUDE = 9
MAX_DECIMALS = 6

ROUNDING_RULE = (
    f"Each stock volume is rounded to {VOLUME_STEP} mL, halves upwards (the graduation of a 1 mL syringe); the "
    "diluent makes up the rest, so the parts add up exactly to the final volume. Amounts are what the rounded "
    "volumes hold. See docs/clinical/mixing.md."
)


class CalculatorError(DomainError):
    """Reject calculator input, with one message per input that needs fixing."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


@dataclass(frozen=True)
class FurtherAgent:
    """Ask for one further agent (glycerin, phenol, sodium morrhuate) at a target, from a stock."""

    agent: str
    target_pct: Decimal | None
    stock_pct: Decimal | None


@dataclass(frozen=True)
class MixRequest:
    """Describe the solution wanted: final volume, dextrose, optionally one anaesthetic and further agents."""

    final_volume_ml: Decimal | None
    target_dextrose_pct: Decimal | None
    dextrose_stock_pct: Decimal | None
    anesthetic: str | None = None
    target_anesthetic_pct: Decimal | None = None
    anesthetic_stock_pct: Decimal | None = None
    diluent: str | None = None
    further_agents: Sequence[FurtherAgent] = ()

    def missing(self) -> list[str]:
        """Return the names of the inputs not given yet (a live form waits for them instead of complaining)."""
        wanted = ["final_volume_ml", "target_dextrose_pct", "dextrose_stock_pct"]
        if self.anesthetic:
            wanted += ["target_anesthetic_pct", "anesthetic_stock_pct"]
        values = {name: getattr(self, name) for name in wanted}
        for item in self.further_agents:
            values[f"{item.agent}_target_pct"] = item.target_pct
            values[f"{item.agent}_stock_pct"] = item.stock_pct
        return [name for name, value in values.items() if value is None]


def number_problem(value: Decimal, what: str, unit: str = "") -> str | None:
    """Return why a number cannot be used at all (not finite, absurd size or precision), or None."""
    if not value.is_finite():
        return f"The {what} must be a finite number, not {value}."
    if value.adjusted() > MAX_MAGNITUDE:
        return f"The {what} {value}{unit} is far too large: check the number and the unit."
    exponent = value.normalize().as_tuple().exponent  # an int: the value is finite
    if value != 0 and isinstance(exponent, int) and exponent < -MAX_DECIMALS:
        return f"The {what} has more than {MAX_DECIMALS} decimal places: round it."
    return None


def _positive(errors: dict[str, str], field: str, value: Decimal | None, what: str, limit: Limit, unit: str) -> None:
    if value is None:
        errors[field] = f"Enter the {what}."
    elif problem := number_problem(value, what, unit):
        errors[field] = problem
    elif value <= 0:
        errors[field] = f"The {what} must be above zero (got {fmt(value)}{unit}): enter the actual amount."
    elif value > limit.high:
        high = limit.high
        errors[field] = f"The {what} {fmt(value)}{unit} is more than {fmt(high)}{unit}: check the number and the unit."
    elif (problem := limit.problem(value)) is not None:
        errors[field] = problem


def mix_solution(request: MixRequest) -> MixResult:
    """Return the recipe for the requested solution, or raise CalculatorError naming the inputs to fix."""
    errors: dict[str, str] = {}
    _positive(errors, "final_volume_ml", request.final_volume_ml, "final volume", SOLUTION_VOLUME_ML, " mL")
    wanted: list[tuple[Agent, str, str, Decimal | None, Decimal | None]] = [
        (Agent.DEXTROSE, "target_dextrose_pct", "dextrose_stock_pct", request.target_dextrose_pct,
         request.dextrose_stock_pct),
    ]  # fmt: skip

    diluent = Diluent.SODIUM_CHLORIDE_0_9
    if request.diluent:
        try:
            diluent = parse_diluent(request.diluent)
        except DomainError as error:
            errors["diluent"] = str(error)

    if request.anesthetic:
        try:
            drug = parse_agent(request.anesthetic)
            if drug not in LOCAL_ANAESTHETICS:
                raise DomainError(f"{drug.label} is not a local anaesthetic: choose {_names(ANAESTHETICS)}.")
        except DomainError as error:
            errors["anesthetic"] = str(error)
        else:
            wanted.append(
                (drug, "target_anesthetic_pct", "anesthetic_stock_pct", request.target_anesthetic_pct,
                 request.anesthetic_stock_pct)
            )  # fmt: skip
    elif request.target_anesthetic_pct is not None or request.anesthetic_stock_pct is not None:
        errors["anesthetic"] = "Choose the anaesthetic these concentrations are for, or clear them."

    seen: set[Agent] = set()
    for item in request.further_agents:
        try:
            agent = parse_agent(item.agent)
        except DomainError as error:
            errors["further_agents"] = str(error)
            continue
        if agent not in FURTHER_AGENTS:
            errors["further_agents"] = (
                f"{agent.label} cannot be a further agent: further agents are {_names(FURTHER_AGENTS)} "
                "(dextrose and the anaesthetic have their own fields)."
            )
            continue
        if agent in seen:
            errors["further_agents"] = f"{agent.label} is listed twice: enter each agent once."
            continue
        seen.add(agent)
        wanted.append((agent, f"{agent.value}_target_pct", f"{agent.value}_stock_pct", item.target_pct, item.stock_pct))

    components: list[Component] = []
    for agent, target_field, stock_field, target, stock in wanted:
        name = agent.label.lower()
        _positive(errors, target_field, target, f"target {name} concentration", CONCENTRATION_PCT, "%")
        _positive(errors, stock_field, stock, f"{name} stock concentration", CONCENTRATION_PCT, "%")
        if target_field in errors or stock_field in errors or target is None or stock is None:
            continue
        component = Component(agent, pct(target), pct(stock))
        if "final_volume_ml" not in errors and request.final_volume_ml is not None:
            # Mixed on its own first, so a problem with this agent (target above stock, too small to measure)
            # is shown next to its own field.
            try:
                mix(request.final_volume_ml, [component], diluent)
            except DomainError as error:
                errors[target_field] = str(error)
                continue
        components.append(component)

    if errors:
        raise CalculatorError(errors)
    assert request.final_volume_ml is not None  # checked above; narrows the type
    try:
        return mix(request.final_volume_ml, components, diluent)
    except DomainError as error:
        # Only the combination can fail here (the stocks together need more than the final volume).
        raise CalculatorError({"final_volume_ml": str(error)}) from None


@dataclass(frozen=True)
class LimitRequest:
    """Ask for one anaesthetic's maximum dose for a weight, and optionally check a planned amount against it."""

    drug: str | None
    with_epinephrine: bool
    weight_kg: Decimal | None
    planned_mg: Decimal | None = None


@dataclass(frozen=True)
class LimitAnswer:
    """Give the maximum dose and, when an amount was planned, its grade against the limit."""

    limit: DoseLimit
    check: SessionDoseCheck | None
    warn_fraction: Decimal

    @property
    def status(self) -> DoseStatus | None:
        return self.check.status if self.check else None

    @property
    def fraction(self) -> Decimal | None:
        return self.check.combined_fraction if self.check else None

    @property
    def percent(self) -> str | None:
        """Share of the maximum in percent, rounded up to 0.1 as the domain's messages show it."""
        if self.check is None:
            return None
        return fmt((self.check.combined_fraction * 100).quantize(Decimal("0.1"), rounding=ROUND_CEILING))

    @property
    def message(self) -> str | None:
        if self.check is None:
            return None
        if self.check.messages:
            return " ".join(self.check.messages)
        total = self.check.totals[0]
        return (
            f"{fmt(total.total_mg)} mg is {self.percent}% of the maximum {fmt(self.limit.max_mg)} mg: within the "
            f"limit and below the {fmt(self.warn_fraction * 100)}% warning threshold (clinic setting)."
        )

    @property
    def source(self) -> str:
        return self.limit.source


def anaesthetic_limit(request: LimitRequest, warn_fraction: Decimal) -> LimitAnswer:
    """Return the weight-based maximum and, for a planned amount, the session check (warn at the clinic's fraction)."""
    errors: dict[str, str] = {}
    if not request.drug:
        errors["drug"] = f"Choose the anaesthetic: {_names(ANAESTHETICS)}."
    if not isinstance(request.with_epinephrine, bool):
        errors["with_epinephrine"] = "State whether the anaesthetic contains epinephrine (yes or no)."
    weight = None
    if request.weight_kg is not None and (problem := number_problem(request.weight_kg, "body weight", " kg")):
        errors["weight_kg"] = problem
    else:
        try:
            weight = check_weight(request.weight_kg)
        except DomainError as error:
            errors["weight_kg"] = str(error)
    if request.planned_mg is not None:
        _positive(errors, "planned_mg", request.planned_mg, "planned amount", PLANNED_ANAESTHETIC_MG, " mg")
    if "drug" not in errors and "with_epinephrine" not in errors:
        try:
            # The weight is valid or already reported, so an error here is about the drug.
            max_dose(request.drug or "", request.with_epinephrine, weight or Decimal(70))
        except DomainError as error:
            errors["drug"] = str(error)
    if errors:
        raise CalculatorError(errors)
    assert weight is not None
    limit = max_dose(request.drug or "", request.with_epinephrine, weight)
    check = None
    if request.planned_mg is not None:
        check = check_session(
            weight,
            [Administration(limit.drug, request.with_epinephrine, request.planned_mg)],
            warn_fraction,
        )
    return LimitAnswer(limit=limit, check=check, warn_fraction=warn_fraction)


def _names(agents: Sequence[Agent]) -> str:
    return ", ".join(a.label.lower() for a in agents)


MIXING_SOURCE = sources.MIXING_C1V1
