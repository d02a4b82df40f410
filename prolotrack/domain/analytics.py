"""Group outcome figures for the clinic dashboard and the patient trajectory (docs/DASHBOARD.md).

Pure functions over counts and scores: responder verdicts per course, proportions with Wilson score 95% confidence
intervals (Wilson 1927; Newcombe 1998, method 3), medians, questionnaire completion, adverse-event rates per session
and the course funnel. Small cells are suppressed so that a figure cannot point at one patient.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from statistics import NormalDist

from .errors import InputError
from .scoring import (
    DEFAULT_RESPONDER_RULE,
    Direction,
    Instrument,
    ResponderRule,
    change_from_baseline,
    check_score,
    pgic_responder,
)

# A cell (a group's denominator) below this is not shown: product default, at the low end of the small-cell rules
# statistical offices use (5 to 11); with 1-4 courses a rate would nearly identify the patients behind it.
MIN_CELL = 5
CONFIDENCE = 0.95


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"{what} must be a whole number of 0 or more (got {value!r}).")
    return value


def wilson_interval(successes: int, total: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Return the Wilson score interval (no continuity correction) for successes out of total."""
    successes = _count(successes, "Successes")
    total = _count(total, "Total")
    if total == 0:
        raise InputError("A confidence interval needs at least one case in the denominator.")
    if successes > total:
        raise InputError(f"Successes ({successes}) cannot exceed the total ({total}).")
    if not 0 < confidence < 1:
        raise InputError(f"Confidence must be between 0 and 1 (got {confidence!r}).")
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = successes / total
    z2 = z * z
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / denominator
    # The exact ends are 0 and 1 when nothing or everything succeeded; rounding error must not push them past.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == total else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Proportion:
    """Give a proportion with its 95% Wilson interval, or say it is suppressed (too few cases)."""

    numerator: int
    denominator: int
    suppressed: bool
    value: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, object]:
        """Return the figures as plain JSON values (suppressed cells carry no numbers at all)."""
        if self.suppressed:
            return {"n": None, "of": None, "rate": None, "low": None, "high": None, "suppressed": True}
        return {
            "n": self.numerator,
            "of": self.denominator,
            "rate": _round(self.value),
            "low": _round(self.low),
            "high": _round(self.high),
            "suppressed": False,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def proportion(successes: int, total: int, *, min_cell: int = MIN_CELL) -> Proportion:
    """Return successes/total with its Wilson 95% interval; suppressed when total is under min_cell."""
    successes = _count(successes, "Successes")
    total = _count(total, "Total")
    if successes > total:
        raise InputError(f"Successes ({successes}) cannot exceed the total ({total}).")
    if total == 0 or total < min_cell:
        return Proportion(successes, total, True, None, None, None)
    low, high = wilson_interval(successes, total)
    return Proportion(successes, total, False, successes / total, low, high)


# --- Responders ------------------------------------------------------------------------------------------------


class Basis(StrEnum):
    """Say what a course's responder verdict rests on."""

    SCORE = "score"  # change from baseline of the instrument at the latest follow-up
    PGIC = "pgic"  # the latest PGIC
    NONE = "none"  # not evaluable


@dataclass(frozen=True)
class CourseVerdict:
    """Give one course's responder verdict and what it rests on."""

    responder: bool | None
    basis: Basis
    improvement: Decimal | None = None
    percent: Decimal | None = None


def course_verdict(
    instrument: Instrument,
    scores: Sequence[Decimal],
    latest_pgic: Decimal | None = None,
    rule: ResponderRule = DEFAULT_RESPONDER_RULE,
) -> CourseVerdict:
    """Judge one course: the latest score against the baseline (first) score, or, without a pair, the latest PGIC."""
    if len(scores) >= 2:
        change = change_from_baseline(instrument, scores[0], scores[-1], rule)
        return CourseVerdict(change.responder, Basis.SCORE, change.improvement, change.percent)
    if latest_pgic is not None:
        return CourseVerdict(pgic_responder(latest_pgic), Basis.PGIC)
    return CourseVerdict(None, Basis.NONE)


@dataclass(frozen=True)
class ResponderCriteria:
    """Spell out a responder rule as thresholds, for a database query or a chart's MCID band."""

    higher_is_worse: bool
    absolute: Decimal | None
    percent: Decimal | None
    need_all: bool


def responder_criteria(instrument: Instrument, rule: ResponderRule = DEFAULT_RESPONDER_RULE) -> ResponderCriteria:
    """Return the thresholds a change must reach under the rule (the same test as scoring.change_from_baseline)."""
    if instrument.rates_change:
        raise InputError(f"{instrument.name} already rates change: it has no threshold relative to a baseline.")
    rule = ResponderRule(rule)
    absolute = instrument.mcid_absolute if rule is not ResponderRule.PERCENT else None
    percent = instrument.mcid_percent if rule is not ResponderRule.ABSOLUTE else None
    return ResponderCriteria(
        instrument.direction is Direction.HIGHER_IS_WORSE, absolute, percent, rule is ResponderRule.BOTH
    )


def responder_boundary(
    instrument: Instrument, baseline: Decimal, rule: ResponderRule = DEFAULT_RESPONDER_RULE
) -> Decimal | None:
    """Return the score a patient must reach (or pass) to count as a responder: the edge of the MCID band."""
    base = check_score(instrument, baseline, "Baseline score")
    criteria = responder_criteria(instrument, rule)
    needs = []
    if criteria.absolute is not None:
        needs.append(criteria.absolute)
    if criteria.percent is not None and base != 0:
        needs.append(base * criteria.percent / 100)
    if not needs:
        return None
    need = max(needs) if criteria.need_all else min(needs)
    # Not clipped to the scale: an edge beyond the scale means no score can reach the MCID from this baseline.
    return base - need if criteria.higher_is_worse else base + need


def sessions_to_mcid(
    instrument: Instrument,
    baseline: Decimal,
    follow_ups: Sequence[tuple[int, Decimal]],
    rule: ResponderRule = DEFAULT_RESPONDER_RULE,
) -> int | None:
    """Return the sessions done before the first follow-up score that reaches the MCID (None if none does).

    `follow_ups` holds (sessions done before the score, score) in time order, the baseline excluded.
    """
    for sessions_done, score in follow_ups:
        _count(sessions_done, "Sessions done")
        if change_from_baseline(instrument, baseline, score, rule).responder:
            return sessions_done
    return None


# --- Medians ---------------------------------------------------------------------------------------------------


def median(values: Iterable[int | Decimal]) -> Decimal | None:
    """Return the median (the mean of the two middle values for an even count), or None for no values."""
    ordered = sorted(Decimal(v) for v in values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def median_from_counts(counts: Mapping[int, int]) -> Decimal | None:
    """Return the median of a distribution given as {value: how many} (a database GROUP BY gives this)."""
    total = 0
    for value, count in counts.items():
        _count(count, f"Count of {value}")
        total += count
    if total == 0:
        return None
    ordered = sorted(counts.items())

    def nth(index: int) -> int:
        seen = 0
        for value, count in ordered:
            seen += count
            if index < seen:
                return value
        raise AssertionError("unreachable")

    if total % 2:
        return Decimal(nth(total // 2))
    return (Decimal(nth(total // 2 - 1)) + Decimal(nth(total // 2))) / 2


# --- Completion, adverse events, funnel --------------------------------------------------------------------------


def rates(
    numerators: Mapping[str, int], denominators: Mapping[str, int] | int, *, min_cell: int = MIN_CELL
) -> dict[str, Proportion]:
    """Return one proportion per key: numerator over its own denominator (or one shared denominator)."""
    keys = list(numerators) if isinstance(denominators, int) else list(denominators)
    out = {}
    for key in keys:
        of = denominators if isinstance(denominators, int) else denominators[key]
        out[key] = proportion(numerators.get(key, 0), of, min_cell=min_cell)
    return out


@dataclass(frozen=True)
class FunnelStage:
    """Give one stage of the course funnel: how many courses, and their share of the courses planned."""

    code: str
    label: str
    count: int
    share: float | None
    suppressed: bool = False

    def as_dict(self) -> dict[str, object]:
        """Return the stage as plain JSON values (a suppressed count carries no number)."""
        if self.suppressed:
            return {"stage": self.code, "label": self.label, "count": None, "share": None, "suppressed": True}
        return {
            "stage": self.code,
            "label": self.label,
            "count": self.count,
            "share": _round(self.share),
            "suppressed": False,
        }


FUNNEL_STAGES = (
    ("planned", "Courses planned"),
    ("started", "Started (a session done)"),
    ("completed", "Completed"),
    ("stopped", "Stopped early"),
    ("no_show", "With a no-show"),
)


def funnel(counts: Mapping[str, int], *, min_cell: int = MIN_CELL) -> tuple[FunnelStage, ...]:
    """Return the funnel in order, each stage as a share of the courses planned; counts of 1 to min_cell-1 hidden."""
    planned = _count(counts.get("planned", 0), "Courses planned")
    stages = []
    for code, label in FUNNEL_STAGES:
        count = _count(counts.get(code, 0), label)
        if count > planned:
            raise InputError(f"{label} ({count}) cannot exceed the courses planned ({planned}).")
        small = 0 < count < min_cell
        stages.append(FunnelStage(code, label, count, count / planned if planned else None, small))
    return tuple(stages)
