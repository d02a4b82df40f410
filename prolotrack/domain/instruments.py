"""Outcome instruments as data: items, answer options, scoring and licence.

Range, direction and MCIDs come from `scoring.INSTRUMENTS` (the single source of those numbers); this module adds
what a questionnaire needs: its items and how answers become a score. Item texts ship only for instruments whose
texts are free to use (NRS, VAS, PGIC and the post-injection diary, DOMAIN.md §8). Licensed instruments (WOMAC,
KOOS, KOOS JR, ODI, QuickDASH, VISA-A, PRTEE) ship as structure and scoring with no item texts: a clinic imports
the texts under its own licence (as a FHIR Questionnaire: `prolotrack/fhir/questionnaire.py` builds and reads
that format at the edge). Sources and worked examples: docs/clinical/instruments.md.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from .errors import ScoringError
from .limits import PAIN_NRS, PAIN_VAS
from .scoring import Instrument, Licence
from .scoring import instrument as scoring_instrument

SCORE_STEP = Decimal("0.01")


class AnswerType(StrEnum):
    """Say what kind of answer an item takes."""

    INTEGER = "integer"  # a whole number between minimum and maximum (rating scales)
    DECIMAL = "decimal"  # a number between minimum and maximum
    CHOICE = "choice"  # one of the options
    BOOLEAN = "boolean"  # yes or no


@dataclass(frozen=True)
class Option:
    """One answer option: the value stored and scored, and its label (None when the label is licensed text)."""

    value: int | str
    label: str | None = None


@dataclass(frozen=True)
class Item:
    """One question: its linkId, its text (None when licensed), its answer type and options."""

    link_id: str
    text: str | None
    answer_type: AnswerType
    options: tuple[Option, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    required: bool = True
    group: str = ""  # subscale or day it belongs to
    low_label: str | None = None  # what the lowest value means (rating scales)
    high_label: str | None = None

    def values(self) -> tuple[int | str, ...]:
        """Return every value the item accepts (integer scales and choices)."""
        if self.options:
            return tuple(o.value for o in self.options)
        if self.answer_type is AnswerType.INTEGER and self.minimum is not None and self.maximum is not None:
            return tuple(range(self.minimum, self.maximum + 1))
        if self.answer_type is AnswerType.BOOLEAN:
            return (True, False)
        return ()


@dataclass(frozen=True)
class Scored:
    """The result of scoring one set of answers."""

    score: Decimal | None
    subscores: dict[str, Decimal | None]
    complete: bool
    missing: tuple[str, ...]  # linkIds of required items not answered
    message: str = ""  # why there is no score, in words a clinician can act on


@dataclass(frozen=True)
class Definition:
    """An instrument as data: items, scoring, range, direction, MCIDs (from scoring.INSTRUMENTS) and licence."""

    code: str
    title: str
    items: tuple[Item, ...]
    scoring_method: str
    licence_note: str
    source: str
    scorer: Callable[["Definition", dict[str, Any]], Scored] = field(repr=False)
    intro: str = ""
    subscales: tuple[tuple[str, str], ...] = ()  # (code, label)

    @property
    def instrument(self) -> Instrument:
        return scoring_instrument(self.code)

    @property
    def licensed(self) -> bool:
        return self.instrument.licence is Licence.LICENSED

    @property
    def minimum(self) -> Decimal:
        return self.instrument.minimum

    @property
    def maximum(self) -> Decimal:
        return self.instrument.maximum

    @property
    def direction(self) -> str:
        return self.instrument.direction.value

    @property
    def mcid_absolute(self) -> Decimal | None:
        return self.instrument.mcid_absolute

    @property
    def mcid_percent(self) -> Decimal | None:
        return self.instrument.mcid_percent

    def item(self, link_id: str) -> Item:
        for item in self.items:
            if item.link_id == link_id:
                return item
        raise ScoringError(f"{self.title} has no question '{link_id}'.")

    @property
    def link_ids(self) -> tuple[str, ...]:
        return tuple(i.link_id for i in self.items)


def _q(value: Decimal) -> Decimal:
    return value.quantize(SCORE_STEP, rounding=ROUND_HALF_UP)


# --- answer parsing ---------------------------------------------------------------------------------------------


def clean_answer(item: Item, value: Any) -> int | str | bool | Decimal | None:
    """Return the answer in its stored form, None when blank, or raise ScoringError saying what to fix."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    what = item.text or f"Question {item.link_id}"
    if item.answer_type is AnswerType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "yes", "1", "on"}:
            return True
        if text in {"false", "no", "0", "off"}:
            return False
        raise ScoringError(f"{what}: answer yes or no.")
    if item.answer_type is AnswerType.CHOICE and item.options and isinstance(item.options[0].value, str):
        text = str(value).strip()
        if text not in {o.value for o in item.options}:
            raise ScoringError(f"{what}: choose one of the options.")
        return text
    if isinstance(value, bool):
        raise ScoringError(f"{what}: answer with a number.")
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except ArithmeticError:
        raise ScoringError(f"{what}: answer with a number.") from None
    if not number.is_finite():
        raise ScoringError(f"{what}: answer with a number.")
    if item.answer_type is AnswerType.DECIMAL:
        if item.minimum is not None and not item.minimum <= number <= (item.maximum or number):
            raise ScoringError(f"{what}: answer between {item.minimum} and {item.maximum}.")
        return number
    if number != number.to_integral_value():
        raise ScoringError(f"{what}: answer with a whole number.")
    whole = int(number)
    allowed = item.values()
    if allowed and whole not in allowed:
        if item.options:
            raise ScoringError(f"{what}: choose one of the options ({', '.join(str(v) for v in allowed)}).")
        raise ScoringError(f"{what}: answer between {item.minimum} and {item.maximum}.")
    return whole


def clean_answers(definition: Definition, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Return the non-blank answers in stored form; refuse unknown questions and out-of-range values."""
    if not isinstance(answers, Mapping):
        raise ScoringError("Answers must map each question's linkId to its answer.")
    known = set(definition.link_ids)
    unknown = sorted(set(answers) - known)
    if unknown:
        raise ScoringError(f"{definition.title} has no question {', '.join(repr(u) for u in unknown)}.")
    clean: dict[str, Any] = {}
    for item in definition.items:
        if item.link_id in answers:
            value = clean_answer(item, answers[item.link_id])
            if value is not None:
                clean[item.link_id] = value
    return clean


def _missing(definition: Definition, answers: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(i.link_id for i in definition.items if i.required and i.link_id not in answers)


# --- scorers ----------------------------------------------------------------------------------------------------


def _single(definition: Definition, answers: dict[str, Any]) -> Scored:
    """One required item; the score is its value."""
    missing = _missing(definition, answers)
    if missing:
        return Scored(None, {}, False, missing, "Not answered yet.")
    return Scored(_q(Decimal(answers[definition.items[0].link_id])), {}, True, ())


def _nrs(definition: Definition, answers: dict[str, Any]) -> Scored:
    """Three 0-10 ratings; the score is the average pain over the last week (IMMPACT, Dworkin 2005)."""
    subscores = {k: (_q(Decimal(answers[k])) if k in answers else None) for k in ("now", "average_week", "worst_week")}
    missing = _missing(definition, answers)
    score = subscores["average_week"]
    return Scored(score, subscores, not missing, missing, "" if not missing else "Some ratings are not answered.")


def _sum_subscales(
    definition: Definition,
    answers: dict[str, Any],
    max_missing: Mapping[str, int],
) -> tuple[dict[str, Decimal | None], dict[str, int], list[str]]:
    """Per subscale: raw mean-substituted sum (None when too many items are missing), item count, messages."""
    sums: dict[str, Decimal | None] = {}
    counts: dict[str, int] = {}
    problems: list[str] = []
    for code, label in definition.subscales:
        items = [i for i in definition.items if i.group == code]
        answered = [Decimal(answers[i.link_id]) for i in items if i.link_id in answers]
        counts[code] = len(items)
        gap = len(items) - len(answered)
        if gap > max_missing.get(code, 0) or not answered:
            sums[code] = None
            problems.append(f"{label}: {gap} of {len(items)} unanswered")
        else:
            # Missing items are replaced by the mean of the answered items of the same subscale.
            sums[code] = sum(answered, Decimal(0)) / len(answered) * len(items)
    return sums, counts, problems


def _womac(definition: Definition, answers: dict[str, Any]) -> Scored:
    """WOMAC LK3.1: pain 0-20, stiffness 0-8, function 0-68; total 0-96 normalised to 0-100 (higher worse)."""
    sums, _, problems = _sum_subscales(definition, answers, WOMAC_MAX_MISSING)
    missing = _missing(definition, answers)
    subscores = {k: (None if v is None else _q(v)) for k, v in sums.items()}
    if any(v is None for v in sums.values()):
        return Scored(None, subscores, False, missing, "Too many questions unanswered: " + "; ".join(problems) + ".")
    total = sum((v for v in sums.values() if v is not None), Decimal(0))
    subscores["total_raw"] = _q(total)
    return Scored(_q(total * 100 / 96), subscores, True, missing)


def _koos(definition: Definition, answers: dict[str, Any]) -> Scored:
    """KOOS: each subscale 100 - mean(item) x 25 (100 best). The score is the Pain subscale; KOOS has no total."""
    subscores: dict[str, Decimal | None] = {}
    problems: list[str] = []
    for code, label in definition.subscales:
        items = [i for i in definition.items if i.group == code]
        answered = [Decimal(answers[i.link_id]) for i in items if i.link_id in answers]
        # KOOS user's guide: a subscale is scored when at least half of its items are answered (mean substitution).
        if len(answered) * 2 < len(items) or not answered:
            subscores[code] = None
            problems.append(f"{label}: {len(items) - len(answered)} of {len(items)} unanswered")
        else:
            subscores[code] = _q(100 - sum(answered, Decimal(0)) / len(answered) * 25)
    missing = _missing(definition, answers)
    complete = all(v is not None for v in subscores.values())
    message = "" if complete else "Too many questions unanswered: " + "; ".join(problems) + "."
    return Scored(subscores["pain"], subscores, complete, missing, message)


# KOOS JR raw sum (0-28, 0 = no difficulty) -> interval score (0-100, 100 = perfect knee health), from the
# KOOS JR scoring instructions (Lyman 2016, Hospital for Special Surgery). See docs/clinical/instruments.md.
KOOS_JR_INTERVAL: tuple[str, ...] = (
    "100.000", "91.975", "84.600", "79.914", "76.332", "73.342", "70.704", "68.284", "65.994", "63.776",
    "61.583", "59.381", "57.140", "54.840", "52.465", "50.012", "47.487", "44.905", "42.281", "39.625",
    "36.931", "34.174", "31.307", "28.251", "24.875", "20.941", "15.939", "8.291", "0.000",
)  # fmt: skip


def _koos_jr(definition: Definition, answers: dict[str, Any]) -> Scored:
    """KOOS JR: the raw sum of 7 items (0-4) converted by the published table; every item must be answered."""
    missing = _missing(definition, answers)
    if missing:
        return Scored(None, {}, False, missing, "KOOS JR needs all 7 answers to be scored.")
    raw = sum(int(answers[i]) for i in definition.link_ids)
    interval = Decimal(KOOS_JR_INTERVAL[raw])
    return Scored(_q(interval), {"raw": Decimal(raw), "interval": interval}, True, ())


ODI_MIN_SECTIONS = 8


def _odi(definition: Definition, answers: dict[str, Any]) -> Scored:
    """ODI 2.1a: sum of answered sections / (5 x sections answered) x 100 (Fairbank & Pynsent 2000)."""
    missing = _missing(definition, answers)
    answered = [int(answers[i]) for i in definition.link_ids if i in answers]
    if len(answered) < ODI_MIN_SECTIONS:
        return Scored(
            None,
            {},
            False,
            missing,
            f"ODI is scored when at least {ODI_MIN_SECTIONS} of 10 sections are answered ({len(answered)} so far).",
        )
    total = Decimal(sum(answered))
    return Scored(_q(total * 100 / (5 * len(answered))), {"sections_answered": Decimal(len(answered))}, True, missing)


def _quickdash(definition: Definition, answers: dict[str, Any]) -> Scored:
    """QuickDASH: ((sum of n answers / n) - 1) x 25, needs at least 10 of the 11 items."""
    missing = _missing(definition, answers)
    answered = [int(answers[i]) for i in definition.link_ids if i in answers]
    if len(answered) < 10:
        return Scored(None, {}, False, missing, "QuickDASH needs at least 10 of its 11 answers to be scored.")
    return Scored(_q((Decimal(sum(answered)) / len(answered) - 1) * 25), {}, True, missing)


def _visa_a(definition: Definition, answers: dict[str, Any]) -> Scored:
    """VISA-A: items 1-7 plus one of 8A, 8B or 8C (whichever applies); total 0-100, higher better."""
    core = [f"q{n}" for n in range(1, 8)]
    eights = [k for k in ("q8a", "q8b", "q8c") if k in answers]
    missing = tuple(k for k in core if k not in answers) + (() if eights else ("q8a",))
    if len(eights) > 1:
        raise ScoringError("VISA-A question 8: answer only one of 8A, 8B or 8C (the one that applies).")
    if missing:
        return Scored(None, {}, False, missing, "VISA-A needs an answer to every question to be scored.")
    total = sum(int(answers[k]) for k in core) + int(answers[eights[0]])
    return Scored(_q(Decimal(total)), {}, True, ())


def _prtee(definition: Definition, answers: dict[str, Any]) -> Scored:
    """PRTEE: pain (5 items, 0-50) + function (10 items, sum / 2, 0-50); total 0-100, higher worse."""
    missing = _missing(definition, answers)
    if missing:
        return Scored(None, {}, False, missing, "PRTEE needs an answer to every question to be scored.")
    pain = sum((Decimal(answers[i.link_id]) for i in definition.items if i.group == "pain"), Decimal(0))
    function = sum((Decimal(answers[i.link_id]) for i in definition.items if i.group == "function"), Decimal(0)) / 2
    return Scored(_q(pain + function), {"pain": _q(pain), "function": _q(function)}, True, ())


DIARY_DAYS = 7


def _diary(definition: Definition, answers: dict[str, Any]) -> Scored:
    """Post-injection diary: the score is the worst pain of the days answered; counts of flare and bruising days."""
    missing = _missing(definition, answers)
    pains = [int(answers[f"day{d}_pain"]) for d in range(1, DIARY_DAYS + 1) if f"day{d}_pain" in answers]
    subscores: dict[str, Decimal | None] = {
        f"day{d}_pain": Decimal(answers[f"day{d}_pain"]) if f"day{d}_pain" in answers else None
        for d in range(1, DIARY_DAYS + 1)
    }
    subscores["flare_days"] = Decimal(sum(1 for d in range(1, 8) if answers.get(f"day{d}_flare") is True))
    subscores["bruising_days"] = Decimal(sum(1 for d in range(1, 8) if answers.get(f"day{d}_bruising") is True))
    subscores["nsaid_days"] = Decimal(sum(1 for d in range(1, 8) if answers.get(f"day{d}_medication") == "nsaid"))
    score = Decimal(max(pains)) if pains else None
    return Scored(score, subscores, not missing, missing, "" if not missing else "Some days are not filled in yet.")


# --- definitions ------------------------------------------------------------------------------------------------


def _scale(link_id: str, low: int, high: int, *, group: str = "", text: str | None = None, **kw: Any) -> Item:
    return Item(link_id, text, AnswerType.INTEGER, (), low, high, group=group, **kw)


def _licensed(prefix: str, count: int, low: int, high: int, group: str = "", start: int = 1) -> tuple[Item, ...]:
    """Items of a licensed instrument: linkIds and answer values only, no texts."""
    return tuple(
        Item(f"{prefix}{n}", None, AnswerType.CHOICE, tuple(Option(v) for v in range(low, high + 1)), group=group)
        for n in range(start, start + count)
    )


NRS_LOW, NRS_HIGH = "No pain", "Worst pain imaginable"
NRS_MIN, NRS_MAX = int(PAIN_NRS.low), int(PAIN_NRS.high)

PGIC_OPTIONS = (
    Option(1, "Very much improved"),
    Option(2, "Much improved"),
    Option(3, "Minimally improved"),
    Option(4, "No change"),
    Option(5, "Minimally worse"),
    Option(6, "Much worse"),
    Option(7, "Very much worse"),
)

MEDICATION_OPTIONS = (
    Option("none", "None"),
    Option("paracetamol", "Paracetamol (acetaminophen)"),
    Option("nsaid", "An anti-inflammatory (e.g. ibuprofen, naproxen)"),
    Option("other", "Another pain medicine"),
)


def _diary_items() -> tuple[Item, ...]:
    items: list[Item] = []
    for d in range(1, DIARY_DAYS + 1):
        day = "the day of the injection" if d == 1 else f"day {d} after the injection"
        items += [
            _scale(f"day{d}_pain", NRS_MIN, NRS_MAX, group=f"day{d}", text=f"Your worst pain on {day} (0-10)",
                   low_label=NRS_LOW, high_label=NRS_HIGH),
            Item(f"day{d}_flare", f"Did the pain flare up on {day}?", AnswerType.BOOLEAN, group=f"day{d}",
                 required=False),
            Item(f"day{d}_bruising", f"Any bruising where you were injected on {day}?", AnswerType.BOOLEAN,
                 group=f"day{d}", required=False),
            Item(f"day{d}_medication", f"Which pain medicine did you take on {day}?", AnswerType.CHOICE,
                 MEDICATION_OPTIONS, group=f"day{d}", required=False),
        ]  # fmt: skip
    return tuple(items)


def _visa_items() -> tuple[Item, ...]:
    items = [Item(f"q{n}", None, AnswerType.CHOICE, tuple(Option(v) for v in range(0, 11))) for n in range(1, 7)]
    items.append(Item("q7", None, AnswerType.CHOICE, tuple(Option(v) for v in (0, 4, 7, 10))))
    items.append(Item("q8a", None, AnswerType.CHOICE, tuple(Option(v) for v in (0, 7, 14, 21, 30)), required=False))
    items.append(Item("q8b", None, AnswerType.CHOICE, tuple(Option(v) for v in (0, 4, 10, 14, 20)), required=False))
    items.append(Item("q8c", None, AnswerType.CHOICE, tuple(Option(v) for v in (0, 2, 5, 7, 10)), required=False))
    return tuple(items)


LICENCE_FREE = "Item texts free to use; shipped with the product (DOMAIN.md §8)."

# How many items of a WOMAC subscale may be unanswered and replaced by the mean of the others (see the docs page).
WOMAC_MAX_MISSING = {"pain": 1, "stiffness": 0, "function": 3}

DEFINITIONS: dict[str, Definition] = {
    d.code: d
    for d in (
        Definition(
            "nrs_pain",
            "Pain rating (0-10)",
            (
                _scale(
                    "now",
                    NRS_MIN,
                    NRS_MAX,
                    text="How bad is your pain right now?",
                    low_label=NRS_LOW,
                    high_label=NRS_HIGH,
                ),
                _scale(
                    "average_week",
                    NRS_MIN,
                    NRS_MAX,
                    text="On average, how bad was your pain over the last 7 days?",
                    low_label=NRS_LOW,
                    high_label=NRS_HIGH,
                ),
                _scale(
                    "worst_week",
                    NRS_MIN,
                    NRS_MAX,
                    text="At its worst, how bad was your pain over the last 7 days?",
                    low_label=NRS_LOW,
                    high_label=NRS_HIGH,
                ),
            ),
            "Three 0-10 ratings (now, average and worst over the last 7 days). The score is the average over the "
            "last 7 days; the other two are subscores.",
            LICENCE_FREE,
            "Farrar 2001; Dworkin 2005 (IMMPACT); LOINC 72514-3",
            _nrs,
            intro="Think about the pain in the area being treated. 0 means no pain, 10 the worst pain you can imagine.",
        ),
        Definition(
            "vas_pain",
            "Pain scale (0-100)",
            (
                Item(
                    "vas",
                    "How bad is your pain right now? Move to the point that matches it.",
                    AnswerType.INTEGER,
                    (),
                    int(PAIN_VAS.low),
                    int(PAIN_VAS.high),
                    low_label=NRS_LOW,
                    high_label=NRS_HIGH,
                ),
            ),
            "One 0-100 rating (mm on a 100 mm line); the score is the value.",
            LICENCE_FREE,
            "Ostelo 2008",
            _single,
        ),
        Definition(
            "pgic",
            "Overall change since treatment started",
            (
                Item(
                    "pgic",
                    "Since you started this treatment, how would you describe the change in your condition "
                    "(pain, activity, overall)?",
                    AnswerType.CHOICE,
                    PGIC_OPTIONS,
                ),
            ),
            "One 7-point rating of change (1 very much improved ... 7 very much worse); the score is the value. "
            "1 or 2 is a responder.",
            LICENCE_FREE,
            "Farrar 2001; Hurst & Bolton 2004",
            _single,
        ),
        Definition(
            "diary",
            "Diary of the 7 days after an injection",
            _diary_items(),
            "Day 1 to 7: worst pain (0-10), flare, bruising, pain medicine. The score is the worst pain of the "
            "days answered; subscores are each day's pain and the number of flare, bruising and NSAID days.",
            LICENCE_FREE,
            "DOMAIN.md §6 (NSAIDs avoided after), §7 (flare, bruising)",
            _diary,
            intro="Fill in one day at a time. You can come back to this page each day until the link expires.",
        ),
        Definition(
            "womac",
            "WOMAC",
            _licensed("p", 5, 0, 4, "pain")
            + _licensed("s", 2, 0, 4, "stiffness")
            + _licensed("f", 17, 0, 4, "function"),
            "24 items scored 0-4 (Likert LK3.1): pain 5 items (0-20), stiffness 2 (0-8), physical function 17 (0-68). "
            "Total 0-96 normalised to 0-100 (higher worse). A missing item is replaced by the mean of its subscale "
            "when at most 1 pain, 0 stiffness or 3 function items are missing.",
            "Licensed (WOMAC 3.1, Bellamy): import the item texts under the clinic's licence.",
            "Bellamy 1988; WOMAC 3.1 User Guide",
            _womac,
            subscales=(("pain", "Pain"), ("stiffness", "Stiffness"), ("function", "Physical function")),
        ),
        Definition(
            "koos",
            "KOOS",
            _licensed("P", 9, 0, 4, "pain")
            + _licensed("S", 7, 0, 4, "symptoms")
            + _licensed("A", 17, 0, 4, "adl")
            + _licensed("SP", 5, 0, 4, "sport_rec")
            + _licensed("Q", 4, 0, 4, "qol"),
            "42 items scored 0-4 in five subscales, each 100 - mean x 25 (100 = no problems). A subscale is scored "
            "when at least half its items are answered. No total; the score shown is the Pain subscale.",
            "Licensed (KOOS, Mapi Research Trust; fee for healthcare organisations): import the item texts.",
            "Roos 1998; KOOS User's Guide",
            _koos,
            subscales=(
                ("pain", "Pain"),
                ("symptoms", "Symptoms"),
                ("adl", "Daily living"),
                ("sport_rec", "Sport and recreation"),
                ("qol", "Knee-related quality of life"),
            ),
        ),
        Definition(
            "koos_jr",
            "KOOS JR",
            _licensed("j", 7, 0, 4),
            "7 items scored 0-4; the raw sum (0-28) is converted to an interval score 0-100 (100 = perfect knee "
            "health) by the published table. All 7 items are needed.",
            "Licensed (KOOS JR, Mapi Research Trust / HSS): import the item texts.",
            "Lyman 2016, Clin Orthop Relat Res 474:1472",
            _koos_jr,
        ),
        Definition(
            "odi",
            "Oswestry Disability Index",
            _licensed("s", 10, 0, 5),
            "10 sections scored 0-5: total / (5 x sections answered) x 100 %. Scored when at least 8 sections are "
            "answered (product rule; Fairbank 2000 shows the calculation with a section missing).",
            "Licensed (ODI 2.1a, Mapi Research Trust; fees for organisations): import the item texts.",
            "Fairbank & Pynsent 2000, Spine 25:2940",
            _odi,
        ),
        Definition(
            "quickdash",
            "QuickDASH",
            _licensed("q", 11, 1, 5),
            "11 items scored 1-5: ((sum / n) - 1) x 25, n = items answered; not scored when more than 1 is missing.",
            "Licensed (QuickDASH, Institute for Work & Health; commercial licence): import the item texts.",
            "Beaton 2005; Institute for Work & Health QuickDASH scoring",
            _quickdash,
        ),
        Definition(
            "visa_a",
            "VISA-A",
            _visa_items(),
            "Items 1-6 scored 0-10, item 7 0/4/7/10, item 8 one of 8A (0-30), 8B (0-20) or 8C (0-10), whichever "
            "applies. Total 0-100 (100 = no symptoms). Every question is needed.",
            "Treated as licensed (DOMAIN.md §8, 'unverified: treat as licensed'): import the item texts.",
            "Robinson 2001, Br J Sports Med 35:335",
            _visa_a,
        ),
        Definition(
            "prtee",
            "PRTEE",
            _licensed("p", 5, 0, 10, "pain") + _licensed("f", 10, 0, 10, "function"),
            "15 items scored 0-10: pain = sum of 5 items (0-50); function = sum of 10 items / 2 (0-50); total "
            "0-100 (higher worse). Every question is needed.",
            "Treated as licensed (DOMAIN.md §8, 'unverified: treat as licensed'): import the item texts.",
            "MacDermid 2007, PRTEE user manual",
            _prtee,
            subscales=(("pain", "Pain"), ("function", "Function")),
        ),
    )
}

SHIPPED = tuple(code for code, d in DEFINITIONS.items() if not d.licensed)
LICENSED = tuple(code for code, d in DEFINITIONS.items() if d.licensed)


def definition(code: str) -> Definition:
    """Return the instrument definition with this code."""
    try:
        return DEFINITIONS[code]
    except (KeyError, TypeError):
        raise ScoringError(f"Unknown instrument '{code}': choose one of {', '.join(DEFINITIONS)}.") from None


def score(code: str, answers: Mapping[str, Any]) -> Scored:
    """Score one set of answers: score, subscores, whether complete, and which required questions are missing."""
    found = definition(code)
    clean = clean_answers(found, answers)
    result = found.scorer(found, clean)
    if result.score is not None and not found.minimum <= result.score <= found.maximum:  # pragma: no cover
        raise ScoringError(f"{found.title} score {result.score} is outside its range.")
    return result


# --- region sets ---------------------------------------------------------------------------------------------------

# Which instruments a timepoint opens, by the course's region. A licensed instrument is used only when the clinic
# has imported its texts; PGIC is never asked at baseline (it rates change since treatment started).
# Sources: DOMAIN.md §8 (instrument per region) and issue 5's examples (knee: NRS + PGIC + KOOS JR; back: NRS + ODI).
REGION_INSTRUMENTS: dict[str, tuple[str, ...]] = {
    "knee": ("nrs_pain", "pgic", "koos_jr"),
    "hip": ("nrs_pain", "pgic", "womac"),
    "lumbopelvic": ("nrs_pain", "pgic", "odi"),
    "neck_thoracic": ("nrs_pain", "pgic"),
    "shoulder": ("nrs_pain", "pgic", "quickdash"),
    "elbow": ("nrs_pain", "pgic", "prtee"),
    "ankle_foot": ("nrs_pain", "pgic", "visa_a"),
    "tmj": ("nrs_pain", "pgic"),
    "other": ("nrs_pain", "pgic"),
}


def instruments_for(
    region: str,
    *,
    baseline: bool,
    licensed_available: Sequence[str] = (),
    overrides: Mapping[str, Sequence[str]] | None = None,
) -> tuple[str, ...]:
    """Return the instrument codes a timepoint opens: the region's set, licensed ones only when their texts are
    imported, and no PGIC at baseline."""
    chosen = tuple((overrides or {}).get(region) or REGION_INSTRUMENTS.get(region) or REGION_INSTRUMENTS["other"])
    out: list[str] = []
    for code in chosen:
        found = definition(code)
        if found.licensed and code not in licensed_available:
            continue
        if baseline and found.instrument.rates_change:
            continue
        if code not in out:
            out.append(code)
    return tuple(out)
