"""Outcome instruments, change from baseline, responders and the non-responder flag (DOMAIN.md §8).

Improvement is direction-aware: positive always means better. A responder reaches the instrument's minimal
clinically important difference (MCID), absolute and/or percent, combined by a configurable rule (default: either,
as Farrar 2001 reads "2 points or 30%"). Percent change is None when the baseline is 0. See docs/clinical/scoring.md.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from . import sources
from .errors import ScoringError
from .quantities import as_decimal, fmt
from .sources import Evidence
from .wording import change_words


class Direction(StrEnum):
    """Say which end of the scale is worse."""

    HIGHER_IS_WORSE = "higher_is_worse"
    HIGHER_IS_BETTER = "higher_is_better"


class Licence(StrEnum):
    """Say whether item texts may ship with the product or need the clinic's own licence."""

    SHIPPABLE = "shippable"
    LICENSED = "licensed"


@dataclass(frozen=True)
class Instrument:
    """Describe an outcome instrument: scale, direction, MCID, source, licence and how firm the MCID is."""

    code: str
    name: str
    minimum: Decimal
    maximum: Decimal
    direction: Direction
    mcid_absolute: Decimal | None
    mcid_percent: Decimal | None
    source: str
    licence: Licence
    evidence: Evidence
    whole_numbers: bool = False
    rates_change: bool = False
    note: str = ""


def _i(
    code: str,
    name: str,
    low: int,
    high: int,
    direction: Direction,
    mcid_abs: str | None,
    mcid_pct: str | None,
    source: str,
    licence: Licence,
    evidence: Evidence,
    *,
    whole: bool = False,
    rates_change: bool = False,
    note: str = "",
) -> Instrument:
    return Instrument(
        code,
        name,
        Decimal(low),
        Decimal(high),
        direction,
        None if mcid_abs is None else Decimal(mcid_abs),
        None if mcid_pct is None else Decimal(mcid_pct),
        source,
        licence,
        evidence,
        whole,
        rates_change,
        note,
    )


WORSE, BETTER = Direction.HIGHER_IS_WORSE, Direction.HIGHER_IS_BETTER
SHIP, LIC = Licence.SHIPPABLE, Licence.LICENSED

INSTRUMENTS: tuple[Instrument, ...] = (
    _i("nrs_pain", "Pain numeric rating scale (0-10)", 0, 10, WORSE, "2", "30", sources.FARRAR_2001, SHIP,
       Evidence.ESTABLISHED, whole=True, note="LOINC 72514-3."),
    _i("vas_pain", "Pain visual analogue scale (0-100 mm)", 0, 100, WORSE, "15", None, sources.OSTELO_2008_LOW_BACK, SHIP,
       Evidence.VARIES, note="The 15 mm MCID comes from low back pain; other conditions may differ."),
    _i("pgic", "Patient Global Impression of Change (1-7)", 1, 7, WORSE, None, None, sources.PGIC_FARRAR, SHIP,
       Evidence.ESTABLISHED, whole=True, rates_change=True,
       note="1 = very much improved, 2 = much improved, 4 = no change, 7 = very much worse. It is already a rating "
            "of change: responder = 1 or 2."),
    _i("womac", "WOMAC (normalised 0-100)", 0, 100, WORSE, "12", None, sources.WOMAC_MCID, LIC,
       Evidence.VARIES, note="Published 8-10 points (Angst 2002); 12 is used so responders are not overstated."),
    _i("koos", "KOOS subscale (0-100)", 0, 100, BETTER, "10", None, sources.KOOS_MCID, LIC,
       Evidence.UNVERIFIED, note="10 points (Paradowski 2004), a clinic setting; not re-checked against Roos & Lohmander 2003 ❓."),
    _i("koos_jr", "KOOS JR (0-100)", 0, 100, BETTER, "10", None, sources.KOOS_JR_MCID, LIC,
       Evidence.UNVERIFIED, note="10 points (Paradowski 2004), a clinic setting; not re-checked against Roos & Lohmander 2003 ❓."),
    _i("hoos", "HOOS subscale (0-100)", 0, 100, BETTER, "10", None, sources.KOOS_MCID, LIC,
       Evidence.UNVERIFIED, note="10 points (Paradowski 2004), a clinic setting; not re-checked against Roos & Lohmander 2003 ❓."),
    _i("faos", "FAOS subscale (0-100)", 0, 100, BETTER, "10", None, sources.KOOS_MCID, LIC,
       Evidence.UNVERIFIED, note="10 points (Paradowski 2004), a clinic setting; not re-checked against Roos & Lohmander 2003 ❓."),
    _i("odi", "Oswestry Disability Index (0-100%)", 0, 100, WORSE, "10", "30", sources.OSTELO_2008_LOW_BACK, LIC,
       Evidence.ESTABLISHED),
    _i("quickdash", "QuickDASH (0-100)", 0, 100, WORSE, "15.9", None, sources.QUICKDASH_MCID, LIC,
       Evidence.VARIES),
    _i("dash", "DASH (0-100)", 0, 100, WORSE, "10.8", None, sources.DASH_MCID, LIC, Evidence.VARIES),
    _i("visa_a", "VISA-A (0-100)", 0, 100, BETTER, None, None, "Robinson 2001, Br J Sports Med 35:335 (DOMAIN.md §8)",
       LIC, Evidence.UNVERIFIED, whole=True,
       note="DOMAIN.md §8 lists VISA-A as 'unverified: treat as licensed' and gives no MCID: judge response by PGIC."),
    _i("prtee", "PRTEE (0-100)", 0, 100, WORSE, None, None, "MacDermid 2007, PRTEE user manual (DOMAIN.md §8)", LIC,
       Evidence.UNVERIFIED,
       note="DOMAIN.md §8 lists PRTEE as 'unverified: treat as licensed' and gives no MCID: judge response by PGIC."),
    _i("diary", "Post-injection diary: worst pain of days 1-7 (0-10)", 0, 10, WORSE, None, None,
       "DOMAIN.md §7, §8 (post-injection flare diary)", SHIP, Evidence.ESTABLISHED, whole=True,
       note="A record of the days after an injection (pain, flare, bruising, medicines), not an outcome measure: "
            "no MCID."),
)  # fmt: skip

_BY_CODE: dict[str, Instrument] = {item.code: item for item in INSTRUMENTS}


def instrument(code: str) -> Instrument:
    """Return the instrument with this code."""
    try:
        return _BY_CODE[code]
    except (KeyError, TypeError):
        raise ScoringError(f"Unknown instrument '{code}': choose one of {', '.join(_BY_CODE)}.") from None


class ResponderRule(StrEnum):
    """Say how the absolute and percent MCIDs combine into one responder verdict."""

    EITHER = "either"
    BOTH = "both"
    ABSOLUTE = "absolute"
    PERCENT = "percent"


# Farrar 2001 counts a responder at 2 points OR 30%; the clinic may choose a stricter rule.
DEFAULT_RESPONDER_RULE = ResponderRule.EITHER
# Product default, not a published number: trials give 3-6 sessions (DOMAIN.md §4), so judge after the third.
DEFAULT_NON_RESPONDER_AFTER_SESSIONS = 3
PERCENT_STEP = Decimal("0.1")


def check_score(instrument: Instrument, score: object, what: str = "Score") -> Decimal:
    """Return the score as a Decimal, refusing one outside the instrument's range or not a whole number."""
    value = as_decimal(score, f"{instrument.name} {what.lower()}", ScoringError)
    if not instrument.minimum <= value <= instrument.maximum:
        raise ScoringError(
            f"{instrument.name} {what.lower()} {fmt(value)} is outside {fmt(instrument.minimum)}-"
            f"{fmt(instrument.maximum)}: re-enter the score."
        )
    if instrument.whole_numbers and value != value.to_integral_value():
        raise ScoringError(f"{instrument.name} takes whole numbers only (got {fmt(value)}): re-enter the score.")
    return value


@dataclass(frozen=True)
class Change:
    """Give the change from baseline: raw, direction-aware improvement, percent, and the responder verdicts."""

    instrument_code: str
    baseline: Decimal
    current: Decimal
    absolute: Decimal
    improvement: Decimal
    percent: Decimal | None
    responder_abs: bool | None
    responder_pct: bool | None
    responder: bool
    rule: ResponderRule


def _rule(rule: object) -> ResponderRule:
    if isinstance(rule, str) and rule in ResponderRule._value2member_map_:
        return ResponderRule(rule)
    raise ScoringError(f"Unknown responder rule '{rule}': choose {', '.join(r.value for r in ResponderRule)}.")


def change_from_baseline(
    instrument: Instrument,
    baseline: Decimal,
    current: Decimal,
    rule: ResponderRule = DEFAULT_RESPONDER_RULE,
) -> Change:
    """Compare a current score with the baseline and decide whether the change reaches the MCID."""
    if not isinstance(instrument, Instrument):
        raise ScoringError("Choose an outcome instrument.")
    if instrument.rates_change:
        raise ScoringError(f"{instrument.name} already rates change: use pgic_responder on the single score.")
    rule = _rule(rule)
    if rule is ResponderRule.PERCENT and instrument.mcid_percent is None:
        raise ScoringError(f"{instrument.name} has no percent MCID: choose the absolute or either rule.")
    if rule is ResponderRule.ABSOLUTE and instrument.mcid_absolute is None:
        raise ScoringError(f"{instrument.name} has no absolute MCID: choose the percent or either rule.")

    base = check_score(instrument, baseline, "Baseline score")
    now = check_score(instrument, current, "Current score")
    absolute = now - base
    improvement = -absolute if instrument.direction is Direction.HIGHER_IS_WORSE else absolute

    # Exact rational percent so that 30% of a baseline is compared without a rounding step.
    exact_pct = None if base == 0 else Fraction(improvement) * 100 / Fraction(base)
    percent = None
    if exact_pct is not None:
        percent = (Decimal(exact_pct.numerator) / Decimal(exact_pct.denominator)).quantize(
            PERCENT_STEP, rounding=ROUND_HALF_UP
        )

    responder_abs = None if instrument.mcid_absolute is None else improvement >= instrument.mcid_absolute
    responder_pct = None
    if instrument.mcid_percent is not None and exact_pct is not None:
        responder_pct = exact_pct >= Fraction(instrument.mcid_percent)

    # Criteria that cannot be computed (no MCID of that kind, or percent with a baseline of 0) are left out.
    available = [v for v in (responder_abs, responder_pct) if v is not None]
    if rule is ResponderRule.EITHER:
        responder = any(available)
    elif rule is ResponderRule.BOTH:
        responder = bool(available) and all(available)
    elif rule is ResponderRule.ABSOLUTE:
        responder = bool(responder_abs)
    else:
        responder = bool(responder_pct)

    return Change(
        instrument_code=instrument.code,
        baseline=base,
        current=now,
        absolute=absolute,
        improvement=improvement,
        percent=percent,
        responder_abs=responder_abs,
        responder_pct=responder_pct,
        responder=responder,
        rule=rule,
    )


PGIC_RESPONDER_SCORES = frozenset({Decimal(1), Decimal(2)})


def pgic_responder(score: Decimal) -> bool:
    """Return True when the PGIC score is 'much improved' (2) or 'very much improved' (1)."""
    value = check_score(instrument("pgic"), score)
    return value in PGIC_RESPONDER_SCORES


class ResponseStatus(StrEnum):
    """Say where a patient stands on the non-responder check."""

    TOO_EARLY = "too_early"
    NO_FOLLOW_UP = "no_follow_up"
    RESPONDING = "responding"
    NON_RESPONDER = "non_responder"


@dataclass(frozen=True)
class NonResponderCheck:
    """Give the non-responder verdict, why, and the latest change it rests on."""

    status: ResponseStatus
    non_responder: bool
    reason: str
    change: Change | None


def non_responder(
    instrument: Instrument,
    sessions_done: int,
    series: Sequence[Decimal],
    after_n_sessions: int = DEFAULT_NON_RESPONDER_AFTER_SESSIONS,
    rule: ResponderRule = DEFAULT_RESPONDER_RULE,
) -> NonResponderCheck:
    """Flag a patient whose latest score has not reached the MCID after the set number of sessions."""
    # `series` holds the patient's scores in time order, baseline first; only the first and the last are compared.
    if isinstance(sessions_done, bool) or not isinstance(sessions_done, int) or sessions_done < 0:
        raise ScoringError(f"Sessions done must be a whole number of 0 or more (got {sessions_done!r}).")
    if isinstance(after_n_sessions, bool) or not isinstance(after_n_sessions, int) or after_n_sessions < 1:
        raise ScoringError(f"'Judge response after N sessions' must be 1 or more (got {after_n_sessions!r}).")
    if not series:
        raise ScoringError("Record a baseline score before checking the response.")
    scores = [check_score(instrument, s) for s in series]
    change = change_from_baseline(instrument, scores[0], scores[-1], rule) if len(scores) > 1 else None
    if sessions_done < after_n_sessions:
        return NonResponderCheck(
            ResponseStatus.TOO_EARLY,
            False,
            f"{sessions_done} of {after_n_sessions} sessions done: too early to judge the response (clinic setting).",
            change,
        )
    if change is None:
        return NonResponderCheck(
            ResponseStatus.NO_FOLLOW_UP,
            False,
            "Only the baseline score is recorded: collect a follow-up score to judge the response.",
            None,
        )
    if change.responder:
        return NonResponderCheck(
            ResponseStatus.RESPONDING,
            False,
            f"Compared with baseline: {change_words(change.improvement)}; reaches the MCID.",
            change,
        )
    return NonResponderCheck(
        ResponseStatus.NON_RESPONDER,
        True,
        f"After {sessions_done} sessions the latest {instrument.name} score compared with baseline: "
        f"{change_words(change.improvement)}, short of the MCID: review the plan with the patient.",
        change,
    )
