"""Every clinical limit of the product, defined once (docs/clinical/limits.md gives each one's source).

Models (validators), forms, API schemas (published bounds), FHIR import and the dose rules read these objects; a test
walks every model field and API schema and fails when a bounded value is defined anywhere else.
"""

from dataclasses import dataclass
from decimal import Decimal

from .errors import InputError
from .quantities import fmt


class LimitError(InputError):
    """Refuse a value outside its clinical limit."""


@dataclass(frozen=True)
class Limit:
    """A closed range [low, high] (or (low, high] when low_open) for one kind of value, with its unit and source."""

    key: str
    what: str
    unit: str
    low: Decimal
    high: Decimal
    source: str
    hint: str = "check the number and the unit"
    low_open: bool = False
    whole: bool = False

    def __post_init__(self) -> None:
        """Refuse an empty range: a limit that accepts nothing is a typing error in this module."""
        if not self.low < self.high:
            raise ValueError(f"{self.key}: low {self.low} must be below high {self.high}.")

    @property
    def span(self) -> str:
        """Return the range in words, e.g. '2-400 kg' or 'above 0, at most 100 %'."""
        unit = f" {self.unit}" if self.unit else ""
        if self.low_open:
            return f"above {fmt(self.low)}, at most {fmt(self.high)}{unit}"
        return f"{fmt(self.low)}-{fmt(self.high)}{unit}"

    def contains(self, value: Decimal | int) -> bool:
        """Return True when value lies in the range."""
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high

    def problem(self, value: Decimal | int) -> str | None:
        """Return the message for a value outside the range, or None when it is inside."""
        if self.contains(value):
            return None
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.what} {fmt(Decimal(value))}{unit} is outside {self.span}: {self.hint}."

    def check(self, value: Decimal | int) -> Decimal | int:
        """Return value, or raise LimitError with the message when it lies outside the range."""
        if (message := self.problem(value)) is not None:
            raise LimitError(message)
        return value


BODY_WEIGHT_KG = Limit(
    "body_weight_kg",
    "Body weight",
    "kg",
    Decimal(2),
    Decimal(400),
    "Typing-error bounds (product choice), not clinical limits: every dose rule is capped (docs/clinical/"
    "anaesthetic-limits.md), so no weight above about 86 kg changes a maximum dose; the upper bound is wide enough "
    "for the heaviest patients a clinic weighs and still refuses grams or an extra digit. docs/clinical/limits.md.",
    hint="check the unit (kg, not lb or g) and re-enter it",
)

SITE_VOLUME_ML = Limit(
    "site_volume_ml",
    "Volume",
    "mL",
    Decimal("0.01"),
    Decimal(60),
    "Product choice: the smallest step a 1 mL syringe is read to (0.01 mL) up to the largest common syringe "
    "(60 mL); trial volumes per site are 0.5-6 mL (DOMAIN.md §4). docs/clinical/limits.md.",
    hint="enter the millilitres injected at this one site",
)

SOLUTION_VOLUME_ML = Limit(
    "solution_volume_ml",
    "Final volume",
    "mL",
    Decimal("0.01"),
    Decimal(500),
    "Product choice: a clinic mixes syringes and small batches; litres typed for mL are refused "
    "(docs/clinical/mixing.md, docs/clinical/limits.md).",
)

CONCENTRATION_PCT = Limit(
    "concentration_pct",
    "Concentration",
    "%",
    Decimal(0),
    Decimal(100),
    "Percent weight/volume: no injectable stock is stronger than 100% w/v (docs/clinical/mixing.md).",
    low_open=True,
)

PLANNED_ANAESTHETIC_MG = Limit(
    "planned_anaesthetic_mg",
    "Planned anaesthetic total",
    "mg",
    Decimal(0),
    Decimal(5000),
    "Product choice: over eight times the highest cap of any dose rule (600 mg, docs/clinical/anaesthetic-limits.md), "
    "so only a typing error is refused (docs/clinical/limits.md).",
    low_open=True,
)

NEEDLE_DEPTH_MM = Limit(
    "needle_depth_mm",
    "Depth",
    "mm",
    Decimal(0),
    Decimal(200),
    "Product choice: spinal needles are at most about 150-178 mm long; 200 mm refuses centimetres typed as "
    "millimetres times ten (docs/clinical/limits.md).",
)

NEEDLE_GAUGE = Limit(
    "needle_gauge",
    "Needle gauge",
    "G",
    Decimal(18),
    Decimal(33),
    "Injection needles used in prolotherapy run from 18 G (drawing up) to 30-33 G (superficial); trials name "
    "27 G and 30 G (DOMAIN.md §4; docs/clinical/limits.md).",
    hint="choose a gauge between 18 and 33",
    whole=True,
)
# The gauges offered on the site form: the common ones of DOMAIN.md §4 and everyday practice, all inside NEEDLE_GAUGE.
COMMON_NEEDLE_GAUGES = (21, 22, 23, 25, 27, 30)

SESSION_MINUTES = Limit(
    "session_minutes",
    "Appointment length",
    "minutes",
    Decimal(5),
    Decimal(480),
    "Product choice: from a 5-minute review to a full 8-hour day (docs/clinical/limits.md).",
    hint="enter the length in minutes",
    whole=True,
)

BUFFER_MINUTES = Limit(
    "buffer_minutes",
    "Buffer around an appointment",
    "minutes",
    Decimal(0),
    Decimal(120),
    "Product choice: none up to two hours for a room turned over and notes written (docs/clinical/limits.md).",
    hint="enter the buffer in minutes, 0 for none",
    whole=True,
)

PAIN_NRS = Limit(
    "pain_nrs",
    "Pain score",
    "",
    Decimal(0),
    Decimal(10),
    "Numeric rating scale 0-10, 10 the worst (DOMAIN.md §8; LOINC 72514-3).",
    hint="choose a whole number from 0 (no pain) to 10 (worst)",
    whole=True,
)

PAIN_VAS = Limit(
    "pain_vas",
    "Pain score",
    "mm",
    Decimal(0),
    Decimal(100),
    "Visual analogue scale, 0-100 mm on a 100 mm line, 100 the worst (DOMAIN.md §8).",
    hint="choose a whole number from 0 (no pain) to 100 (worst)",
    whole=True,
)

ALL_LIMITS = (
    BODY_WEIGHT_KG,
    SITE_VOLUME_ML,
    SOLUTION_VOLUME_ML,
    CONCENTRATION_PCT,
    PLANNED_ANAESTHETIC_MG,
    NEEDLE_DEPTH_MM,
    NEEDLE_GAUGE,
    SESSION_MINUTES,
    BUFFER_MINUTES,
    PAIN_NRS,
    PAIN_VAS,
)
BY_KEY = {limit.key: limit for limit in ALL_LIMITS}

# Which limit holds a value, by the field name models and API schemas give it. A test walks every model field and every
# schema property: one with one of these names must carry exactly this limit, and one with bounds must be named here.
FIELD_LIMITS = {
    "weight_kg": BODY_WEIGHT_KG,
    "volume_ml": SITE_VOLUME_ML,
    "final_volume_ml": SOLUTION_VOLUME_ML,
    "target_pct": CONCENTRATION_PCT,
    "stock_pct": CONCENTRATION_PCT,
    "target_dextrose_pct": CONCENTRATION_PCT,
    "dextrose_stock_pct": CONCENTRATION_PCT,
    "target_anesthetic_pct": CONCENTRATION_PCT,
    "anesthetic_stock_pct": CONCENTRATION_PCT,
    "planned_mg": PLANNED_ANAESTHETIC_MG,
    "depth_mm": NEEDLE_DEPTH_MM,
    "needle_gauge": NEEDLE_GAUGE,
    "duration_minutes": SESSION_MINUTES,
    "buffer_before_minutes": BUFFER_MINUTES,
    "buffer_after_minutes": BUFFER_MINUTES,
}

if not set(COMMON_NEEDLE_GAUGES) <= {g for g in range(18, 34) if NEEDLE_GAUGE.contains(g)}:  # pragma: no cover
    raise ValueError("Every offered needle gauge must lie inside NEEDLE_GAUGE.")
