"""Solution mixing by C1V1 = C2V2, and the agent content of any volume drawn from a prepared solution.

Rounding rule: each stock volume is computed exactly, then rounded to 0.01 mL with ROUND_HALF_UP (the
graduation of a 1 mL syringe). The diluent volume is the final volume minus the sum of the rounded stock
volumes, so the parts always add up exactly to the final volume. Amounts (mg, g) are those actually drawn:
rounded stock volume × stock concentration, kept exact. See docs/clinical/mixing.md.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from math import floor

from .agents import Agent, AgentConcentration, Concentration, parse_agent
from .errors import MixingError
from .quantities import as_decimal, as_positive, fmt

VOLUME_STEP = Decimal("0.01")
VOLUME_ROUNDING = ROUND_HALF_UP


class Diluent(StrEnum):
    """Name the liquid that makes up the rest of the final volume."""

    SODIUM_CHLORIDE_0_9 = "0.9% sodium chloride"
    STERILE_WATER = "sterile water for injection"


_DILUENT_ALIASES = {
    "saline": Diluent.SODIUM_CHLORIDE_0_9,
    "normal saline": Diluent.SODIUM_CHLORIDE_0_9,
    "0.9% sodium chloride": Diluent.SODIUM_CHLORIDE_0_9,
    "sodium chloride 0.9%": Diluent.SODIUM_CHLORIDE_0_9,
    "sterile water": Diluent.STERILE_WATER,
    "sterile water for injection": Diluent.STERILE_WATER,
    "water for injection": Diluent.STERILE_WATER,
}


def parse_diluent(value: object) -> Diluent:
    """Return the Diluent named by value (case-insensitive, common names accepted)."""
    if isinstance(value, Diluent):
        return value
    if isinstance(value, str):
        key = " ".join(value.strip().lower().split())
        if key in _DILUENT_ALIASES:
            return _DILUENT_ALIASES[key]
    choices = " or ".join(d.value for d in Diluent)
    raise MixingError(f"Unknown diluent '{value}': choose {choices}.")


@dataclass(frozen=True)
class Component:
    """Ask for one agent at a target concentration, drawn from a stock of known concentration."""

    agent: Agent
    target: Concentration
    stock: Concentration

    def __post_init__(self) -> None:
        """Coerce a typed agent name, refusing unknown agents."""
        object.__setattr__(self, "agent", parse_agent(self.agent, MixingError))


@dataclass(frozen=True)
class MixedComponent:
    """Give the stock volume to draw for one agent and the amount it puts in the syringe."""

    agent: Agent
    target: Concentration
    stock: Concentration
    exact_stock_volume_ml: Decimal
    stock_volume_ml: Decimal
    amount_mg: Decimal
    amount_g: Decimal


@dataclass(frozen=True)
class MixResult:
    """Give the full recipe: each stock volume, the diluent volume and the final volume."""

    final_volume_ml: Decimal
    components: tuple[MixedComponent, ...]
    diluent: Diluent
    diluent_volume_ml: Decimal

    @property
    def total_volume_ml(self) -> Decimal:
        """Return the sum of every part; equal to final_volume_ml by construction."""
        return sum((c.stock_volume_ml for c in self.components), self.diluent_volume_ml)

    @property
    def final_concentrations(self) -> tuple[AgentConcentration, ...]:
        """Return the labelled (target) concentration of each agent in the prepared solution."""
        return tuple(AgentConcentration(c.agent, c.target) for c in self.components)

    def component(self, agent: Agent) -> MixedComponent:
        """Return the line for one agent."""
        for line in self.components:
            if line.agent is agent:
                return line
        raise MixingError(f"{agent.label} is not in this solution.")


def mix(
    final_volume_ml: Decimal,
    components: Sequence[Component],
    diluent: Diluent = Diluent.SODIUM_CHLORIDE_0_9,
    *,
    allow_multiple_anaesthetics: bool = False,
) -> MixResult:
    """Compute the stock and diluent volumes that make final_volume_ml of the requested solution."""
    final = as_positive(final_volume_ml, "Final volume (mL)", MixingError)
    diluent = parse_diluent(diluent)
    if not components:
        raise MixingError("Add at least one component (agent, target and stock concentration) to mix a solution.")

    seen: set[Agent] = set()
    anaesthetics: list[Agent] = []
    for component in components:
        if not isinstance(component, Component):
            raise MixingError("Each component must give an agent, a target and a stock concentration.")
        agent = component.agent
        if agent in seen:
            raise MixingError(
                f"{agent.label} is listed twice: enter each agent once with its final target concentration."
            )
        seen.add(agent)
        if agent.is_local_anaesthetic:
            anaesthetics.append(agent)
        _check_concentrations(component)
    if len(anaesthetics) > 1 and not allow_multiple_anaesthetics:
        # The Carbocaine label advises against mixing local anaesthetics for lack of data, and one anaesthetic per
        # syringe keeps each drug's dose traceable; a clinic can allow it explicitly.
        names = " and ".join(a.label.lower() for a in anaesthetics)
        raise MixingError(
            f"This solution mixes {names}: prepare one local anaesthetic per solution, "
            "or enable mixing of anaesthetics in the clinic settings."
        )

    # Rational arithmetic so that a volume such as 1/3 mL is rounded from its true value, not a 28-digit cut.
    exact = [Fraction(_mg_per_ml(c.target)) * Fraction(final) / Fraction(_mg_per_ml(c.stock)) for c in components]
    exact_total = sum(exact, Fraction(0))
    if exact_total > Fraction(final):
        raise MixingError(
            f"The stock volumes add up to {_show(exact_total)} mL, more than the final volume {fmt(final)} mL: "
            "lower a target concentration, use stronger stocks or make a larger final volume."
        )

    lines: list[MixedComponent] = []
    for component, exact_volume in zip(components, exact, strict=True):
        volume = round_volume(exact_volume)
        if volume == 0:
            raise MixingError(
                f"{component.agent.label} {component.target} in {fmt(final)} mL needs only {_show(exact_volume)} mL "
                f"of the {component.stock} stock, below the 0.01 mL that can be measured: "
                "use a weaker stock or make a larger final volume."
            )
        amount_mg = volume * _mg_per_ml(component.stock)
        lines.append(
            MixedComponent(
                agent=component.agent,
                target=component.target,
                stock=component.stock,
                exact_stock_volume_ml=_to_decimal(exact_volume),
                stock_volume_ml=volume,
                amount_mg=amount_mg,
                amount_g=amount_mg.scaleb(-3),
            )
        )

    rounded_total = sum((line.stock_volume_ml for line in lines), Decimal(0))
    diluent_volume = final - rounded_total
    if diluent_volume < 0:
        raise MixingError(
            f"Rounded to 0.01 mL, the stock volumes add up to {fmt(rounded_total)} mL, more than the final volume "
            f"{fmt(final)} mL: lower a target concentration slightly or make a larger final volume."
        )
    return MixResult(final_volume_ml=final, components=tuple(lines), diluent=diluent, diluent_volume_ml=diluent_volume)


def round_volume(volume: Fraction | Decimal) -> Decimal:
    """Round a non-negative volume to 0.01 mL, halves upwards (ROUND_HALF_UP), from its exact value."""
    hundredths = floor(Fraction(volume) * 100 + Fraction(1, 2))
    return Decimal(hundredths).scaleb(-2).quantize(VOLUME_STEP, rounding=VOLUME_ROUNDING)


def _to_decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def _show(value: Fraction) -> str:
    # Messages show volumes to 0.001 mL, or 3 significant digits below 0.01 mL, so a too-small volume never reads "0".
    number = _to_decimal(value)
    if 0 < number < Decimal("0.01"):
        return fmt(number.quantize(Decimal(1).scaleb(number.adjusted() - 2), rounding=ROUND_HALF_UP))
    return fmt(number.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))


def _mg_per_ml(concentration: Concentration) -> Decimal:
    return concentration.mg_per_ml


def _check_concentrations(component: Component) -> None:
    agent = component.agent.label
    for role, concentration in (("target", component.target), ("stock", component.stock)):
        if not isinstance(concentration, Concentration):
            raise MixingError(f"{agent}: give the {role} concentration with a unit (% or mg/mL).")
        if concentration.value <= 0:
            raise MixingError(
                f"{agent} {role} concentration must be above zero (got {concentration}): "
                "enter the concentration printed on the vial or the one you want in the syringe."
            )
    if component.target.mg_per_ml > component.stock.mg_per_ml:
        raise MixingError(
            f"Target {agent.lower()} {component.target} is above the stock concentration {component.stock}: "
            "choose a stronger stock or a lower target."
        )


@dataclass(frozen=True)
class AgentAmount:
    """Give how much of one agent a volume holds, in mg and g."""

    agent: Agent
    mg: Decimal
    g: Decimal


def content_of_volume(
    solution: MixResult | Sequence[AgentConcentration], volume_ml: Decimal
) -> tuple[AgentAmount, ...]:
    """Return the mg and g of each agent in volume_ml drawn from a prepared solution."""
    volume = as_decimal(volume_ml, "Drawn volume (mL)", MixingError)
    if volume <= 0:
        raise MixingError(f"Drawn volume must be above zero (got {fmt(volume)} mL): enter the volume injected.")
    concentrations = solution.final_concentrations if isinstance(solution, MixResult) else tuple(solution)
    if isinstance(solution, MixResult) and volume > solution.final_volume_ml:
        raise MixingError(
            f"Drawn volume {fmt(volume)} mL is more than the {fmt(solution.final_volume_ml)} mL prepared: "
            "check the volume or prepare more solution."
        )
    amounts: list[AgentAmount] = []
    seen: set[Agent] = set()
    for item in concentrations:
        if not isinstance(item, AgentConcentration):
            raise MixingError("Describe the solution as agents with their final concentrations.")
        if item.agent in seen:
            raise MixingError(f"{item.agent.label} is listed twice in the solution: list each agent once.")
        seen.add(item.agent)
        # Labelled concentration × volume is exact; it differs from the drawn stock by at most the 0.01 mL rounding.
        mg = item.concentration.mg_per_ml * volume
        amounts.append(AgentAmount(agent=item.agent, mg=mg, g=mg.scaleb(-3)))
    return tuple(amounts)


def total_content(contents: Iterable[Iterable[AgentAmount]]) -> tuple[AgentAmount, ...]:
    """Sum the amounts of several draws per agent (e.g. every syringe of a session), in agent order."""
    totals: dict[Agent, Decimal] = {}
    for content in contents:
        for amount in content:
            totals[amount.agent] = totals.get(amount.agent, Decimal(0)) + amount.mg
    return tuple(AgentAmount(agent=a, mg=totals[a], g=totals[a].scaleb(-3)) for a in Agent if a in totals)


__all__ = [
    "VOLUME_ROUNDING",
    "VOLUME_STEP",
    "AgentAmount",
    "Component",
    "Diluent",
    "MixResult",
    "MixedComponent",
    "MixingError",
    "content_of_volume",
    "mix",
    "parse_diluent",
    "round_volume",
    "total_content",
]
