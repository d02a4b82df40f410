"""Every clinical vocabulary of the product, defined once, with the names people see (docs/clinical/vocabularies.md).

A vocabulary is a StrEnum whose members carry a display `label`; `Vocabulary.choices` lists (code, label) pairs the
way model fields and forms want them. Models, forms, API schemas, FHIR mapping and templates read these classes:
codes are stored, labels are shown, and the one template filter `label` turns any stored code into its display name.
Screening's enums live here too (domain/screening.py names them Side, Sedation, Pregnancy, Decision, MedicationClass
and AllergySeverity), as do the chart's problem-list choices (patients.ScreeningFlag): one class per code list.
"""

from collections.abc import Iterable
from enum import EnumType, StrEnum, nonmember
from typing import Any, cast

from .agents import Agent
from .anatomy import Region
from .mixing import Diluent
from .session import CHECKLIST, Answer


class _VocabularyType(EnumType):
    def _members(cls) -> "list[Vocabulary]":
        # Iterating an enum class yields its members (aliases left out); the metaclass cannot say so to the checker.
        return list(cast("Iterable[Vocabulary]", cls))

    @property
    def choices(cls) -> list[tuple[str, str]]:
        """Return (code, label) pairs in the declared order."""
        return [(member.value, member.label) for member in cls._members()]

    @property
    def values(cls) -> list[str]:
        """Return the codes in the declared order."""
        return [member.value for member in cls._members()]

    @property
    def labels(cls) -> list[str]:
        """Return the display names in the declared order."""
        return [member.label for member in cls._members()]

    @property
    def label_map(cls) -> dict[str, str]:
        """Return {code: label}."""
        return {member.value: member.label for member in cls._members()}


class Vocabulary(StrEnum, metaclass=_VocabularyType):
    """A clinical code list: members are `NAME = "code", "Label shown to people"`."""

    # Django templates must not call the class (it is callable, like every enum).
    do_not_call_in_templates = nonmember(True)
    label: str

    def __new__(cls, value: str, label: str = "") -> "Vocabulary":
        # label has a default only so that a lookup by code, Side("left"), type-checks; every member declares one.
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class Sex(Vocabulary):
    # FHIR administrative gender codes, so export needs no mapping table.
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


def _region(region: Region) -> tuple[str, str]:
    return region.value, region.label


class BodyRegion(Vocabulary):
    """The regions of the injection map (domain.anatomy.Region, DOMAIN.md §4) and "other" for the chart."""

    KNEE = _region(Region.KNEE)
    LUMBOPELVIC = _region(Region.LUMBOPELVIC)
    SHOULDER = _region(Region.SHOULDER)
    ELBOW = _region(Region.ELBOW)
    ANKLE_FOOT = _region(Region.ANKLE_FOOT)
    HIP = _region(Region.HIP)
    NECK_THORACIC = _region(Region.NECK_THORACIC)
    TMJ = _region(Region.TMJ)
    OTHER = "other", "Other"


class Laterality(Vocabulary):
    """The side of the body (screening's Side plus "not applicable" for the chart)."""

    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BILATERAL = "bilateral", "Both sides"
    MIDLINE = "midline", "Midline"
    NOT_APPLICABLE = "na", "Not applicable"


class Chronicity(Vocabulary):
    # Chronic pain = persisting or recurring for longer than 3 months (IASP; Treede et al., Pain 2015).
    ACUTE = "acute", "Acute (under 6 weeks)"
    SUBACUTE = "subacute", "Subacute (6 weeks to 3 months)"
    CHRONIC = "chronic", "Chronic (over 3 months)"


class ConditionCategory(Vocabulary):
    COMPLAINT = "complaint", "Presenting complaint"
    COMORBIDITY = "comorbidity", "Other condition"


class ClinicalStatus(Vocabulary):
    ACTIVE = "active", "Active"
    RESOLVED = "resolved", "Resolved"


class MedicationClass(Vocabulary):
    """Medication classes the screening rules act on (domain.screening.MedicationClass is this class)."""

    NSAID = "nsaid", "NSAID"
    ANTICOAGULANT = "anticoagulant", "Anticoagulant"
    ANTIPLATELET = "antiplatelet", "Antiplatelet"
    CORTICOSTEROID = "corticosteroid", "Corticosteroid"
    OTHER = "other", "Other"


class MedicationStatus(Vocabulary):
    ACTIVE = "active", "Taking"
    AS_NEEDED = "as_needed", "Taking as needed"
    STOPPED = "stopped", "Stopped"


class AllergySeverity(Vocabulary):
    """Severity of an allergic reaction as the chart records it (screening reads an unknown one as unknown)."""

    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class ScreeningAllergySeverity(Vocabulary):
    """Allergy severity as screening reads it, "unknown" included (domain.screening.AllergySeverity is this class)."""

    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"
    UNKNOWN = "unknown", "Severity not known"


class AdverseEventType(Vocabulary):
    # DOMAIN.md §7.
    PAIN_FLARE = "pain_flare", "Pain flare"
    BRUISING = "bruising", "Bruising"
    BLEEDING = "bleeding", "Bleeding"
    INFECTION = "infection", "Infection"
    ALLERGIC = "allergic_reaction", "Allergic reaction"
    NERVE_INJURY = "nerve_injury", "Nerve injury"
    PNEUMOTHORAX = "pneumothorax", "Pneumothorax"
    SPINAL_HEADACHE = "spinal_headache", "Spinal (dural puncture) headache"
    VASOVAGAL = "vasovagal", "Vasovagal reaction"
    LAST = "last", "Local anaesthetic systemic toxicity"
    OTHER = "other", "Other"


class AESeverity(Vocabulary):
    """Adverse-event severity grade (DOMAIN.md §7: grade severity and seriousness separately)."""

    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class Causality(Vocabulary):
    # WHO-UMC causality categories.
    CERTAIN = "certain", "Certain"
    PROBABLE = "probable", "Probable"
    POSSIBLE = "possible", "Possible"
    UNLIKELY = "unlikely", "Unlikely"
    UNASSESSABLE = "unassessable", "Unassessable"


class AEOutcome(Vocabulary):
    # FHIR AdverseEvent outcome codes.
    RESOLVED = "resolved", "Resolved"
    RECOVERING = "recovering", "Recovering"
    ONGOING = "ongoing", "Ongoing"
    RESOLVED_WITH_SEQUELAE = "resolvedWithSequelae", "Resolved with sequelae"
    FATAL = "fatal", "Fatal"
    UNKNOWN = "unknown", "Unknown"


class Guidance(Vocabulary):
    LANDMARK = "landmark", "Landmark (palpation)"
    ULTRASOUND = "ultrasound", "Ultrasound"


class SedationLevel(Vocabulary):
    """Planned sedation (domain.screening.Sedation is this class)."""

    NONE = "none", "None"
    ORAL = "oral", "Oral (anxiolytic)"


class PregnancyStatus(Vocabulary):
    """Pregnancy status on the procedure date (domain.screening.Pregnancy is this class)."""

    PREGNANT = "pregnant", "Pregnant"
    NOT_PREGNANT = "not_pregnant", "Not pregnant"
    UNKNOWN = "unknown", "Not known"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class ScreeningDecision(Vocabulary):
    """The screening outcome (domain.screening.Decision is this class)."""

    ELIGIBLE = "eligible", "Eligible"
    ELIGIBLE_WITH_CAUTIONS = "eligible_with_cautions", "Eligible with cautions"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"


class MapRegion(Vocabulary):
    """The regions a protocol template or a screening names (the injection map's regions, no "other")."""

    KNEE = _region(Region.KNEE)
    LUMBOPELVIC = _region(Region.LUMBOPELVIC)
    SHOULDER = _region(Region.SHOULDER)
    ELBOW = _region(Region.ELBOW)
    ANKLE_FOOT = _region(Region.ANKLE_FOOT)
    HIP = _region(Region.HIP)
    NECK_THORACIC = _region(Region.NECK_THORACIC)
    TMJ = _region(Region.TMJ)


class ScreeningSide(Vocabulary):
    """The sides screening plans for (domain.screening.Side is this class)."""

    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BILATERAL = "bilateral", "Both sides"
    MIDLINE = "midline", "Midline"


class ProblemListChoice(Vocabulary):
    """The chart's problem-list choices screening reads (domain/concepts.PROBLEM_LIST; DOMAIN.md §5).

    Stored on a condition as patients.Condition.screening_flag (patients.ScreeningFlag is this class); blank is none."""

    DIABETES = "diabetes", "Diabetes"
    BLEEDING_DISORDER = "bleeding_disorder", "Bleeding disorder"
    IMMUNOSUPPRESSION = "immunosuppression", "Immunosuppression"
    PROSTHETIC_JOINT = "prosthetic_joint", "Prosthetic joint"
    PROSTHETIC_VALVE = "prosthetic_valve", "Prosthetic heart valve"
    GOUT = "gout", "Gout"
    PREGNANCY = "pregnancy", "Pregnancy"
    # Read by screening at the planned site (region and side) or anywhere (domain/concepts.py PROBLEM_LIST).
    SKIN_INFECTION = "skin_infection", "Skin or soft-tissue infection"
    SYSTEMIC_INFECTION = "systemic_infection", "Systemic infection (sepsis, fever)"
    SEPTIC_JOINT = "septic_joint", "Septic joint"
    GOUT_FLARE = "gout_flare", "Acute gout or crystal flare"
    FRACTURE = "fracture", "Acute fracture"
    TUMOUR = "tumour", "Unexplained swelling or suspected tumour"


class ChecklistAnswer(Vocabulary):
    """An answer to a pre-procedure check (domain.session.Answer's codes)."""

    YES = Answer.YES.value, "Yes"
    NO = Answer.NO.value, "No"
    NOT_APPLICABLE = Answer.NOT_APPLICABLE.value, "Not applicable"


# The pre-procedure checks with the wording staff see (domain.session.CHECKLIST).
CHECKLIST_CHOICES = [(spec.item.value, spec.label) for spec in CHECKLIST]


class Modality(Vocabulary):
    ULTRASOUND = "ultrasound", "Ultrasound"
    MRI = "mri", "MRI"
    XRAY = "xray", "X-ray"
    CT = "ct", "CT"
    OTHER = "other", "Other"


class Feasibility(Vocabulary):
    FEASIBLE = "feasible", "Feasible"
    NOT_FEASIBLE = "not_feasible", "Not feasible"
    UNCERTAIN = "uncertain", "Uncertain"


# --- Pre-visit intake (docs/INTAKE.md): what a patient answers before a new-patient assessment --------------------


class PainDuration(Vocabulary):
    """How long the pain has lasted, in the patient's words; the codes are Chronicity's (IASP: chronic = over 3
    months, Treede et al., Pain 2015), so an accepted answer is the chart's chronicity as it stands."""

    ACUTE = "acute", "Less than 6 weeks"
    SUBACUTE = "subacute", "6 weeks to 3 months"
    CHRONIC = "chronic", "More than 3 months"


class TreatmentTried(Vocabulary):
    """Treatments a patient may have tried for the complaint (DOMAIN.md §1: prior conservative care)."""

    PHYSIOTHERAPY = "physiotherapy", "Physiotherapy or exercises"
    PAIN_MEDICINES = "pain_medicines", "Pain medicines"
    STEROID_INJECTION = "steroid_injection", "Steroid (cortisone) injection"
    PRP = "prp", "Platelet-rich plasma (PRP) injection"
    PROLOTHERAPY = "prolotherapy", "Prolotherapy before"
    SURGERY = "surgery", "Surgery"
    BRACE = "brace", "Brace, support or insoles"
    NONE = "none", "Nothing yet"


class ReportedAnswer(Vocabulary):
    """A patient's answer to a yes/no health question, with room for "not sure" (a clinician then asks)."""

    YES = "yes", "Yes"
    NO = "no", "No"
    UNSURE = "unsure", "Not sure"


class AllergyAnswer(Vocabulary):
    """Whether the patient has allergies: an explicit answer, never read from an empty list."""

    NONE = "none", "I have no known allergies"
    SOME = "some", "I have allergies"


class WeightUnit(Vocabulary):
    KG = "kg", "Kilograms (kg)"
    LB = "lb", "Pounds (lb)"


class NamedMedicine(Vocabulary):
    """The blood thinners and anti-inflammatories the intake asks about by name (docs/INTAKE.md); each one's screening
    class is domain/concepts.py's (medication_class of its name), never restated here."""

    IBUPROFEN = "ibuprofen", "Ibuprofen (Advil, Motrin, Nurofen)"
    NAPROXEN = "naproxen", "Naproxen (Aleve)"
    DICLOFENAC = "diclofenac", "Diclofenac (Voltaren), tablets or gel"
    CELECOXIB = "celecoxib", "Celecoxib (Celebrex)"
    ASPIRIN = "aspirin", "Aspirin"
    WARFARIN = "warfarin", "Warfarin (Coumadin)"
    APIXABAN = "apixaban", "Apixaban (Eliquis)"
    RIVAROXABAN = "rivaroxaban", "Rivaroxaban (Xarelto)"
    DABIGATRAN = "dabigatran", "Dabigatran (Pradaxa)"
    EDOXABAN = "edoxaban", "Edoxaban (Savaysa, Lixiana)"
    HEPARIN = "heparin", "Heparin or enoxaparin injections (Lovenox)"
    CLOPIDOGREL = "clopidogrel", "Clopidogrel (Plavix)"
    PRASUGREL = "prasugrel", "Prasugrel (Effient)"
    TICAGRELOR = "ticagrelor", "Ticagrelor (Brilinta)"


class ReviewDecision(Vocabulary):
    """What a clinician did with one item a patient reported (docs/INTAKE.md, "Review")."""

    ACCEPTED = "accepted", "Accepted into the chart"
    EDITED = "edited", "Edited and accepted into the chart"
    REJECTED = "rejected", "Not taken into the chart"


# The agents of a solution (domain.agents.Agent, whose label is the name clinicians see).
# The functional enum API, which the checker reads against Vocabulary.__new__(value, label): hence the cast.
AgentName: type[Vocabulary] = cast(Any, Vocabulary)(
    "AgentName", [(agent.name, (agent.value, agent.label)) for agent in Agent]
)

DILUENT_LABELS = {
    Diluent.SODIUM_CHLORIDE_0_9: "Sodium chloride 0.9% (saline)",
    Diluent.STERILE_WATER: "Sterile water for injection",
}
# The stocks a solution records a lot for (lot recall, domain/stock.py): the agents, then the diluents.
StockProduct: type[Vocabulary] = cast(Any, Vocabulary)(
    "StockProduct",
    [
        *((agent.name, (agent.value, agent.label)) for agent in Agent),
        *((diluent.name, (diluent.value, DILUENT_LABELS[diluent])) for diluent in Diluent),
    ],
)

# Every vocabulary by the name templates use: {{ code|label:"body_region" }}.
VOCABULARIES: dict[str, type[Vocabulary]] = {
    "sex": Sex,
    "body_region": BodyRegion,
    "map_region": MapRegion,
    "laterality": Laterality,
    "screening_side": ScreeningSide,
    "chronicity": Chronicity,
    "condition_category": ConditionCategory,
    "clinical_status": ClinicalStatus,
    "medication_class": MedicationClass,
    "medication_status": MedicationStatus,
    "allergy_severity": AllergySeverity,
    "screening_allergy_severity": ScreeningAllergySeverity,
    "adverse_event_type": AdverseEventType,
    "ae_severity": AESeverity,
    "causality": Causality,
    "ae_outcome": AEOutcome,
    "guidance": Guidance,
    "sedation": SedationLevel,
    "pregnancy": PregnancyStatus,
    "decision": ScreeningDecision,
    "screening_flag": ProblemListChoice,
    "checklist_answer": ChecklistAnswer,
    "agent": AgentName,
    "stock_product": StockProduct,
    "modality": Modality,
    "feasibility": Feasibility,
    "pain_duration": PainDuration,
    "treatment_tried": TreatmentTried,
    "reported_answer": ReportedAnswer,
    "allergy_answer": AllergyAnswer,
    "weight_unit": WeightUnit,
    "named_medicine": NamedMedicine,
    "review_decision": ReviewDecision,
}


def display(vocabulary: str, code: object) -> str:
    """Return the display name of a code in the named vocabulary; an unknown code is shown as given."""
    cls = VOCABULARIES[vocabulary]
    text = "" if code is None else str(code)
    return cls.label_map.get(text, text)
