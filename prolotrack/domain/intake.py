"""Pre-visit intake: what a patient's answers propose for the chart, item by item (docs/INTAKE.md).

Nothing a patient writes goes straight into the clinical lists. `review_items(answers, reported_on)` turns the stored
answers of one intake into review items: each says what the patient reported (`summary`), what the chart entry would
be if a clinician accepts it (`values`, the fields of the patients services' `add_child`), and what screening would read
in it (`concept`: an NSAID, a bleeding disorder, a local anaesthetic allergy...). The lists that decide a concept are
domain/concepts.py's, never restated here. `missing(answers)` says which required answers are not given yet.

The one rule that matters most: "no known allergies" is proposed only from the patient's explicit answer; an empty
allergy list proposes nothing (DOMAIN.md §5: a missed local anaesthetic allergy is a contraindication).

Pure: no Django, no I/O, no clock (the day of the answers is passed in).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from . import instruments
from .concepts import DrugClass, allergy_concepts, condition_concept, is_no_known_allergy, medication_class
from .errors import DomainError
from .limits import BODY_WEIGHT_KG, PAIN_NRS
from .vocabulary import (
    AllergyAnswer,
    AllergySeverity,
    BodyRegion,
    ConditionCategory,
    Laterality,
    MedicationStatus,
    NamedMedicine,
    PainDuration,
    ProblemListChoice,
    ReportedAnswer,
    TreatmentTried,
    WeightUnit,
)

# Pounds to kilograms: the international avoirdupois pound, exactly 0.45359237 kg (NIST SP 811, Appendix B.8).
KG_PER_LB = Decimal("0.45359237")
TENTH = Decimal("0.1")

# Most allergies and other medicines one intake takes: room for a long list, and a bound on what is stored.
MAX_ALLERGIES = 8
MAX_OTHER_MEDICINES = 10


class IntakeError(DomainError):
    """An intake answer that cannot be used as given."""


class ItemKind(StrEnum):
    """What an accepted review item becomes on the chart."""

    CONDITION = "condition"
    MEDICATION = "medication"
    ALLERGY = "allergy"
    NO_KNOWN_ALLERGIES = "no_known_allergies"
    WEIGHT = "weight"
    QUESTIONNAIRE = "questionnaire"


@dataclass(frozen=True)
class ConditionQuestion:
    key: str
    choice: ProblemListChoice  # the chart's problem-list choice screening reads (concepts.PROBLEM_LIST)
    asked: str  # the question in the staff summary's words
    at_complaint: bool = False  # recorded at the complaint's region and side (a site-dependent concept)


# The conditions screening acts on (DOMAIN.md §5, docs/clinical/screening.md), asked in words a patient knows.
CONDITION_QUESTIONS: tuple[ConditionQuestion, ...] = (
    ConditionQuestion("pregnancy", ProblemListChoice.PREGNANCY, "Pregnant, or could be"),
    ConditionQuestion("diabetes", ProblemListChoice.DIABETES, "Diabetes"),
    ConditionQuestion("bleeding_disorder", ProblemListChoice.BLEEDING_DISORDER, "A bleeding or clotting disorder"),
    ConditionQuestion("prosthetic_joint", ProblemListChoice.PROSTHETIC_JOINT, "A joint replacement"),
    ConditionQuestion(
        "skin_infection",
        ProblemListChoice.SKIN_INFECTION,
        "A skin infection, open wound or redness where it hurts",
        at_complaint=True,
    ),
    ConditionQuestion(
        "systemic_infection", ProblemListChoice.SYSTEMIC_INFECTION, "A fever, or an infection being treated now"
    ),
)
CONDITION_KEYS = tuple(q.key for q in CONDITION_QUESTIONS)


@dataclass(frozen=True)
class ReviewItem:
    """One thing the patient reported, as a clinician reviews it."""

    key: str  # stable within one intake: "complaint", "medication:ibuprofen", "allergy:2", "weight"...
    kind: ItemKind
    summary: str  # what the patient said, in words
    values: Mapping[str, Any] = field(default_factory=dict)  # the chart entry an acceptance writes
    concept: str = ""  # what screening would read in it ("" for nothing)
    unsure: bool = False  # the patient answered "not sure": ask before accepting


def medicine_class(name: str, dose: str = "") -> DrugClass:
    """The screening class of a medicine the patient named: concepts.medication_class of its name and dose (an aspirin
    of 300 mg or more is an analgesic dose, i.e. an NSAID)."""
    return medication_class(f"{name} {dose}".strip())


def weight_kg(value: Decimal | str, unit: str) -> Decimal:
    """The weight in kg (to 0.1 kg) of a weight the patient gave in kg or lb, inside the one weight limit."""
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise IntakeError("Enter your weight as a number, e.g. 72.5.") from None
    if not number.is_finite():
        raise IntakeError("Enter your weight as a number, e.g. 72.5.")
    try:
        chosen = WeightUnit(unit)
    except ValueError:
        raise IntakeError("Choose kilograms or pounds.") from None
    kg = (number * KG_PER_LB if chosen is WeightUnit.LB else number).quantize(TENTH, rounding=ROUND_HALF_UP)
    if not BODY_WEIGHT_KG.contains(kg):
        low = BODY_WEIGHT_KG.low if chosen is WeightUnit.KG else (BODY_WEIGHT_KG.low / KG_PER_LB).quantize(Decimal(1))
        high = (
            BODY_WEIGHT_KG.high if chosen is WeightUnit.KG else (BODY_WEIGHT_KG.high / KG_PER_LB).quantize(Decimal(1))
        )
        raise IntakeError(f"A weight must be between {low} and {high} {chosen.value}: check the number and the unit.")
    return kg


def pain_now(value: Any) -> int:
    """A pain score 0-10 (the one NRS limit)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise IntakeError("Choose a number from 0 (no pain) to 10 (worst pain imaginable).") from None
    if not PAIN_NRS.contains(number):
        raise IntakeError("Choose a number from 0 (no pain) to 10 (worst pain imaginable).")
    return number


def _label(kind: Any, code: str) -> str:
    try:
        return str(kind(code).label)
    except ValueError:
        return code


def _complaint(answers: Mapping[str, Any]) -> list[ReviewItem]:
    c = answers.get("complaint") or {}
    if not c.get("description"):
        return []
    region = str(c.get("region") or "")
    side = str(c.get("side") or "")
    tried = [_label(TreatmentTried, t) for t in c.get("treatments") or [] if t != TreatmentTried.NONE]
    if c.get("treatments_other"):
        tried.append(str(c["treatments_other"]))
    pain = c.get("pain_now")
    note = f"Pain now {pain}/10, reported by the patient before the visit." if pain is not None else ""
    duration = str(c.get("duration") or "")
    values = {
        "category": ConditionCategory.COMPLAINT.value,
        "description": str(c["description"])[:200],
        "body_region": region if region in BodyRegion.values else "",
        "laterality": side if side in Laterality.values else "",
        "chronicity": duration if duration in PainDuration.values else "",
        "clinical_status": "active",
        "prior_treatments": "; ".join(tried),
        "note": note,
    }
    shown = (_label(BodyRegion, region) if region else "", _label(Laterality, side) if side else "")
    where = ", ".join(p for p in shown if p)
    parts = [str(c["description"]), f"({where})" if where else ""]
    if duration:
        parts.append(f"for {_label(PainDuration, duration).lower()}")
    if pain is not None:
        parts.append(f"; pain now {pain}/10")
    if tried:
        parts.append(f"; tried: {', '.join(tried)}")
    summary = " ".join(p for p in parts if p).replace(" ;", ";")
    return [ReviewItem("complaint", ItemKind.CONDITION, summary, values)]


def _medicine(key: str, name: str, dose: str, last_dose: str) -> ReviewItem:
    drug_class = medicine_class(name, dose)
    values: dict[str, Any] = {
        "name": name[:120],
        "drug_class": drug_class.value,
        "dose": dose[:120],
        "status": MedicationStatus.ACTIVE.value,
        "last_dose_date": date.fromisoformat(last_dose) if last_dose else None,
        "note": "Reported by the patient before the visit.",
    }
    said = f"Takes {name}" + (f" {dose}" if dose else "") + (f", last dose {last_dose}" if last_dose else "")
    concept = "" if drug_class is DrugClass.OTHER else drug_class.value
    return ReviewItem(key, ItemKind.MEDICATION, said, values, concept)


def _medicines(answers: Mapping[str, Any]) -> list[ReviewItem]:
    m = answers.get("medicines") or {}
    items = []
    named = m.get("named") or {}
    for medicine in NamedMedicine:
        if medicine.value in named:
            entry = named[medicine.value] or {}
            name = medicine.label.split(" (")[0]
            items.append(
                _medicine(
                    f"medication:{medicine.value}",
                    name,
                    str(entry.get("dose") or ""),
                    str(entry.get("last_dose") or ""),
                )
            )
    for n, entry in enumerate(m.get("other") or [], start=1):
        if entry.get("name"):
            items.append(
                _medicine(
                    f"medication:other:{n}",
                    str(entry["name"]),
                    str(entry.get("dose") or ""),
                    str(entry.get("last_dose") or ""),
                )
            )
    return items


def _allergies(answers: Mapping[str, Any]) -> list[ReviewItem]:
    a = answers.get("allergies") or {}
    answer = a.get("answer")
    if answer == AllergyAnswer.NONE:
        # Only the explicit answer proposes "no known allergies".
        return [
            ReviewItem(
                "no_known_allergies",
                ItemKind.NO_KNOWN_ALLERGIES,
                'Answered "I have no known allergies".',
                {},
                "no_known_allergies",
            )
        ]
    if answer != AllergyAnswer.SOME:
        return []
    items = []
    for n, entry in enumerate(a.get("items") or [], start=1):
        substance = str(entry.get("substance") or "").strip()
        if not substance or is_no_known_allergy(substance):
            continue  # the form refuses these; a stored one proposes nothing rather than a false allergy
        severity = str(entry.get("severity") or "")
        reaction = str(entry.get("reaction") or "")
        values = {
            "substance": substance[:120],
            "reaction": reaction[:200],
            "severity": severity if severity in AllergySeverity.values else "",
            "note": "Reported by the patient before the visit.",
        }
        said = f"Allergic to {substance}" + (f": {reaction}" if reaction else "")
        if severity:
            said += f" ({_label(AllergySeverity, severity).lower()})"
        concept = ", ".join(sorted(c.value for c in allergy_concepts(substance)))
        items.append(ReviewItem(f"allergy:{n}", ItemKind.ALLERGY, said, values, concept))
    return items


def _conditions(answers: Mapping[str, Any]) -> list[ReviewItem]:
    c = answers.get("conditions") or {}
    complaint = answers.get("complaint") or {}
    items = []
    for question in CONDITION_QUESTIONS:
        answer = c.get(question.key)
        if answer not in (ReportedAnswer.YES, ReportedAnswer.UNSURE):
            continue
        unsure = answer == ReportedAnswer.UNSURE
        detail = str(c.get(f"{question.key}_detail") or "").strip()
        note = "The patient answered \u201cnot sure\u201d: ask before accepting." if unsure else ""
        if detail:
            note = f"{note} Patient's words: {detail}".strip()
        region = str(complaint.get("region") or "") if question.at_complaint else ""
        side = str(complaint.get("side") or "") if question.at_complaint else ""
        values = {
            "category": ConditionCategory.COMORBIDITY.value,
            "description": question.choice.label,
            "screening_flag": question.choice.value,
            "body_region": region if region in BodyRegion.values else "",
            "laterality": side if side in Laterality.values else "",
            "clinical_status": "active",
            "note": note[:1000],
        }
        concept = condition_concept(problem_choice=question.choice.value)
        said = f"{question.asked}: {_label(ReportedAnswer, str(answer)).lower()}" + (f" ({detail})" if detail else "")
        items.append(
            ReviewItem(
                f"condition:{question.key}",
                ItemKind.CONDITION,
                said,
                values,
                concept.value if concept else "",
                unsure,
            )
        )
    return items


def _weight(answers: Mapping[str, Any], reported_on: date) -> list[ReviewItem]:
    w = answers.get("weight") or {}
    if not w.get("value"):
        return []
    unit = str(w.get("unit") or WeightUnit.KG.value)
    kg = weight_kg(str(w["value"]), unit)
    as_given = f"{w['value']} {unit}"
    note = "Reported by the patient before the visit" + (f" (as {as_given})." if unit != WeightUnit.KG else ".")
    values = {"measured_on": reported_on, "weight_kg": kg, "note": note}
    return [
        ReviewItem("weight", ItemKind.WEIGHT, f"Weight {as_given}" + (f" = {kg} kg" if unit != "kg" else ""), values)
    ]


def _questionnaires(answers: Mapping[str, Any]) -> list[ReviewItem]:
    items = []
    for code, given in (answers.get("questionnaires") or {}).items():
        if not given:
            continue
        found = instruments.definition(code)
        scored = instruments.score(code, given)
        state = "complete" if scored.complete else f"{len(scored.missing)} question(s) not answered"
        score = f", score {scored.score}" if scored.score is not None else ""
        items.append(
            ReviewItem(
                f"questionnaire:{code}",
                ItemKind.QUESTIONNAIRE,
                f"{found.title}: {state}{score}",
                {"instrument": code, "answers": dict(given)},
            )
        )
    return items


def review_items(answers: Mapping[str, Any], reported_on: date) -> list[ReviewItem]:
    """Every item a clinician reviews for one intake's answers, in the order the chart lists them."""
    return [
        *_complaint(answers),
        *_conditions(answers),
        *_medicines(answers),
        *_allergies(answers),
        *_weight(answers, reported_on),
        *_questionnaires(answers),
    ]


# The parts of the form a patient must answer before sending (docs/INTAKE.md): each needs an explicit answer, so
# "nothing given" is never read as "none".
def missing(answers: Mapping[str, Any]) -> list[str]:
    """The required parts not answered yet, as step names (complaint, medicines, allergies, conditions, weight)."""
    out = []
    c = answers.get("complaint") or {}
    if not (c.get("description") and c.get("region") and c.get("pain_now") is not None):
        out.append("complaint")
    m = answers.get("medicines") or {}
    if not (m.get("none") or m.get("named") or m.get("other")):
        out.append("medicines")
    a = answers.get("allergies") or {}
    if a.get("answer") not in AllergyAnswer.values or (a.get("answer") == AllergyAnswer.SOME and not a.get("items")):
        out.append("allergies")
    conditions = answers.get("conditions") or {}
    if any(conditions.get(k) not in ReportedAnswer.values for k in CONDITION_KEYS):
        out.append("conditions")
    w = answers.get("weight") or {}
    if not (w.get("value") or w.get("unknown")):
        out.append("weight")
    return out


def baseline_instruments(
    region: str,
    *,
    licensed_available: Sequence[str] = (),
    overrides: Mapping[str, Sequence[str]] | None = None,
) -> tuple[str, ...]:
    """The baseline questionnaires of the complaint's region: the outcomes region set at baseline (no PGIC), licensed
    ones only where the clinic imported their texts (instruments.instruments_for)."""
    return instruments.instruments_for(
        region if region in BodyRegion.values else "other",
        baseline=True,
        licensed_available=licensed_available,
        overrides=overrides,
    )
