"""Injectable agents, concentration units and the value types shared by mixing, dosing and protocols."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from .errors import DomainError, InputError
from .quantities import as_decimal, fmt


class Agent(StrEnum):
    """Name an agent that can go into a prolotherapy solution."""

    DEXTROSE = "dextrose"
    GLYCERIN = "glycerin"
    PHENOL = "phenol"
    SODIUM_MORRHUATE = "sodium_morrhuate"
    LIDOCAINE = "lidocaine"
    PROCAINE = "procaine"
    BUPIVACAINE = "bupivacaine"
    MEPIVACAINE = "mepivacaine"

    @property
    def label(self) -> str:
        """Return the name shown to clinicians."""
        return self.value.replace("_", " ").capitalize()

    @property
    def is_local_anaesthetic(self) -> bool:
        """Return True for the local anaesthetics, whose doses are limited per kg."""
        return self in LOCAL_ANAESTHETICS


LOCAL_ANAESTHETICS = frozenset({Agent.LIDOCAINE, Agent.PROCAINE, Agent.BUPIVACAINE, Agent.MEPIVACAINE})

# Names clinicians type for the same agent; British and brand spellings included because trials use them
# (Yelland writes "lignocaine", Scarpone "morrhuate").
_AGENT_ALIASES = {
    "glucose": Agent.DEXTROSE,
    "glycerol": Agent.GLYCERIN,
    "glycerine": Agent.GLYCERIN,
    "morrhuate": Agent.SODIUM_MORRHUATE,
    "sodium morrhuate": Agent.SODIUM_MORRHUATE,
    "lignocaine": Agent.LIDOCAINE,
    "xylocaine": Agent.LIDOCAINE,
    "novocain": Agent.PROCAINE,
    "novocaine": Agent.PROCAINE,
    "marcaine": Agent.BUPIVACAINE,
    "carbocaine": Agent.MEPIVACAINE,
    "polocaine": Agent.MEPIVACAINE,
}


def parse_agent(value: object, error: type[DomainError] = InputError) -> Agent:
    """Return the Agent named by value (case-insensitive, common aliases accepted)."""
    if isinstance(value, Agent):
        return value
    if isinstance(value, str):
        key = " ".join(value.strip().lower().replace("-", " ").split())
        if key.replace(" ", "_") in Agent._value2member_map_:
            return Agent(key.replace(" ", "_"))
        if key in _AGENT_ALIASES:
            return _AGENT_ALIASES[key]
    known = ", ".join(agent.label.lower() for agent in Agent)
    raise error(f"Unknown agent '{value}': choose one of {known}.")


class Unit(StrEnum):
    """Name a concentration unit: percent weight/volume or milligrams per millilitre."""

    PERCENT = "%"
    MG_PER_ML = "mg/mL"


def parse_unit(value: object, error: type[DomainError] = InputError) -> Unit:
    """Return the Unit named by value ("%", "% w/v" or "mg/mL", case-insensitive)."""
    if isinstance(value, Unit):
        return value
    if isinstance(value, str):
        key = value.strip().lower().replace(" ", "")
        if key in {"%", "%w/v", "percent"}:
            return Unit.PERCENT
        if key == "mg/ml":
            return Unit.MG_PER_ML
    raise error(f"Unknown concentration unit '{value}': use % (weight/volume) or mg/mL.")


# Percent w/v means grams per 100 mL, so 1% = 10 mg/mL (DOMAIN.md §2).
MG_PER_ML_PER_PERCENT = Decimal(10)


@dataclass(frozen=True)
class Concentration:
    """Hold a concentration as entered: a finite Decimal value and its unit."""

    value: Decimal
    unit: Unit = Unit.PERCENT

    def __post_init__(self) -> None:
        """Coerce text input and refuse non-numbers and unknown units."""
        object.__setattr__(self, "unit", parse_unit(self.unit))
        object.__setattr__(self, "value", as_decimal(self.value, "Concentration"))

    @property
    def mg_per_ml(self) -> Decimal:
        """Return the concentration in mg/mL (exact)."""
        if self.unit is Unit.PERCENT:
            return self.value * MG_PER_ML_PER_PERCENT
        return self.value

    @property
    def percent(self) -> Decimal:
        """Return the concentration in percent w/v (exact: a division by 10 only shifts the decimal point)."""
        if self.unit is Unit.PERCENT:
            return self.value
        return self.value.scaleb(-1)

    def __str__(self) -> str:
        """Return the concentration as a clinician writes it, e.g. '15%' or '20 mg/mL'."""
        if self.unit is Unit.PERCENT:
            return f"{fmt(self.value)}%"
        return f"{fmt(self.value)} mg/mL"


def pct(value: str | int | Decimal) -> Concentration:
    """Return a percent w/v concentration."""
    return Concentration(as_decimal(value, "Concentration"), Unit.PERCENT)


def mg_ml(value: str | int | Decimal) -> Concentration:
    """Return a mg/mL concentration."""
    return Concentration(as_decimal(value, "Concentration"), Unit.MG_PER_ML)


@dataclass(frozen=True)
class AgentConcentration:
    """Pair an agent with its concentration in a prepared solution."""

    agent: Agent
    concentration: Concentration

    def __post_init__(self) -> None:
        """Coerce a typed agent name."""
        object.__setattr__(self, "agent", parse_agent(self.agent))
