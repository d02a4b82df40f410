"""Candidacy screening: contraindications, cautions and instructions for one planned procedure.

There is no formal guideline for prolotherapy candidacy (DOMAIN.md §5 ⚠️): the rules come from trial exclusions,
payer policies and clinic practice. Every finding carries a stable code, a plain-language reason, its source, and
whether a clinician may override it with a written reason. See docs/clinical/screening.md.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from . import sources
from .agents import LOCAL_ANAESTHETICS, Agent, parse_agent
from .anaesthetic import LAST_RISK_OVER_YEARS, LAST_RISK_UNDER_YEARS, last_age_risk
from .anatomy import Region, landmark, parse_region
from .concepts import AllergyConcept, ChartConcept, allergy_concepts, at_site, effective_class, is_no_known_allergy
from .dates import age_in_years
from .errors import OverrideError, ScreeningError
from .quantities import as_whole_days
from .vocabulary import MedicationClass as MedicationClass
from .vocabulary import PregnancyStatus, ScreeningAllergySeverity, ScreeningDecision, ScreeningSide, SedationLevel

# Product default: a reason shorter than this ("ok", "fine") records no clinical reasoning.
MIN_OVERRIDE_REASON_CHARS = 10


# Screening's code lists are the vocabularies (domain/vocabulary.py, the one home for clinical code lists), under the
# names the rules use.
Pregnancy = PregnancyStatus
AllergySeverity = ScreeningAllergySeverity
Side = ScreeningSide
Sedation = SedationLevel
Decision = ScreeningDecision


class Sex(StrEnum):
    """Record sex as entered in the patient registry."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class MedicationUse(StrEnum):
    """How the patient takes a medication, as the chart says."""

    REGULAR = "regular"  # taking it (the chart's "taking")
    AS_NEEDED = "as_needed"  # taken only when needed (PRN)
    STOPPED = "stopped"  # stopped for good: not taking, stopped, completed


@dataclass(frozen=True)
class Medication:
    """Record a medication, its class, its last dose (None while it is still being taken) and how it is taken.

    A medication recorded as "other" whose name or code (RxNorm, ATC) names an NSAID, anticoagulant, antiplatelet or
    corticosteroid is screened as that class (concepts.medication_class).
    """

    name: str
    drug_class: MedicationClass
    last_dose: date | None = None
    use: MedicationUse = MedicationUse.REGULAR
    codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse a nameless medication and coerce the class."""
        if not isinstance(self.name, str) or not self.name.strip():
            raise ScreeningError("A medication has no name: enter the drug name or remove the line.")
        object.__setattr__(self, "codes", tuple(self.codes))
        recorded = _enum(MedicationClass, self.drug_class, f"class for {self.name}")
        object.__setattr__(self, "drug_class", MedicationClass(effective_class(recorded, self.name, self.codes)))
        object.__setattr__(self, "use", _enum(MedicationUse, self.use, f"use of {self.name}"))


@dataclass(frozen=True)
class Allergy:
    """Record an allergy: the substance, the reaction and its severity."""

    substance: str
    reaction: str = ""
    severity: AllergySeverity = AllergySeverity.UNKNOWN
    codes: tuple[str, ...] = ()  # SNOMED CT substance or RxNorm ingredient, as "system|code"
    since: date | None = None  # the day it was recorded on the chart

    def __post_init__(self) -> None:
        """Refuse an allergy without a substance and coerce the severity."""
        if not isinstance(self.substance, str) or not self.substance.strip():
            raise ScreeningError("An allergy has no substance: enter what the patient is allergic to.")
        object.__setattr__(self, "severity", _enum(AllergySeverity, self.severity, "allergy severity"))
        object.__setattr__(self, "codes", tuple(self.codes))

    @property
    def concepts(self) -> frozenset[AllergyConcept]:
        """Return what the allergy is to (local anaesthetic, dextrose, corn...); nothing for a "no known allergy"."""
        if is_no_known_allergy(self.substance, self.codes):
            return frozenset()
        return allergy_concepts(self.substance, self.codes)


@dataclass(frozen=True)
class ChartCondition:
    """An active condition on the chart that screening acts on (recognised by concepts.condition_concept)."""

    description: str
    concept: ChartConcept
    region: str = ""  # anatomy.Region value, "other", or "" when not recorded
    side: str = ""  # left, right, bilateral, midline, na, or ""
    since: date | None = None  # the day it was recorded on the chart
    onset: date | None = None

    def __post_init__(self) -> None:
        """Refuse a condition without words and coerce the concept."""
        if not isinstance(self.description, str) or not self.description.strip():
            raise ScreeningError("A chart condition has no description.")
        object.__setattr__(self, "concept", _enum(ChartConcept, self.concept, "chart concept"))

    @property
    def provenance(self) -> str:
        """Say where the finding came from: "Cellulitis of left knee, on the chart since 2026-11-30"."""
        text = self.description.strip()
        if self.onset is not None:
            text += f" (onset {self.onset.isoformat()})"
        if self.since is not None:
            text += f", on the chart since {self.since.isoformat()}"
        else:
            text += ", on the chart"
        return text


class RiskFlag(StrEnum):
    """Name a yes/no fact about the patient that screening rules read."""

    INFECTION_AT_SITE = "infection_at_site"
    SYSTEMIC_INFECTION = "systemic_infection"
    SEPTIC_JOINT = "septic_joint"
    ACUTE_GOUT_FLARE = "acute_gout_flare"
    ACUTE_FRACTURE = "acute_fracture"
    SUSPECTED_TUMOUR_AT_SITE = "suspected_tumour_at_site"
    BLEEDING_DISORDER = "bleeding_disorder"
    IMMUNOSUPPRESSION = "immunosuppression"
    DIABETES = "diabetes"
    PROSTHETIC_JOINT_OR_VALVE = "prosthetic_joint_or_valve"
    CORN_ALLERGY = "corn_allergy"


@dataclass(frozen=True)
class PatientFacts:
    """Hold what screening needs to know about the patient."""

    date_of_birth: date
    sex: Sex = Sex.UNKNOWN
    pregnancy: Pregnancy = Pregnancy.UNKNOWN
    medications: tuple[Medication, ...] = ()
    allergies: tuple[Allergy, ...] = ()
    flags: frozenset[RiskFlag] = field(default_factory=frozenset)  # ticked on the day (or set by a caller)
    conditions: tuple[ChartCondition, ...] = ()  # active conditions on the chart that screening acts on

    def __post_init__(self) -> None:
        """Coerce lists and text values, refusing unknown ones."""
        if not isinstance(self.date_of_birth, date) or isinstance(self.date_of_birth, datetime):
            raise ScreeningError("Record the patient's date of birth (a date) before screening.")
        object.__setattr__(self, "sex", _enum(Sex, self.sex, "sex"))
        object.__setattr__(self, "pregnancy", _enum(Pregnancy, self.pregnancy, "pregnancy status"))
        object.__setattr__(self, "medications", tuple(self.medications))
        object.__setattr__(self, "allergies", tuple(self.allergies))
        object.__setattr__(self, "conditions", tuple(self.conditions))
        if not all(isinstance(c, ChartCondition) for c in self.conditions):
            raise ScreeningError("Each chart condition must give its description and what it means to screening.")
        if not all(isinstance(m, Medication) for m in self.medications):
            raise ScreeningError("Each medication must give a name, a class and the last dose date (or none).")
        if not all(isinstance(a, Allergy) for a in self.allergies):
            raise ScreeningError("Each allergy must give the substance, the reaction and its severity.")
        object.__setattr__(self, "flags", frozenset(_enum(RiskFlag, f, "risk flag") for f in self.flags))


@dataclass(frozen=True)
class PlannedProcedure:
    """Describe the procedure being screened for."""

    date: date
    region: Region
    side: Side
    site_description: str
    agents: frozenset[Agent]
    sedation: Sedation = Sedation.NONE
    landmarks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Coerce text values and refuse a plan without agents or with landmarks of another region."""
        if not isinstance(self.date, date) or isinstance(self.date, datetime):
            raise ScreeningError("Give the procedure date (a date, without a time).")
        object.__setattr__(self, "region", parse_region(self.region))
        object.__setattr__(self, "side", _enum(Side, self.side, "side"))
        object.__setattr__(self, "sedation", _enum(Sedation, self.sedation, "sedation"))
        agents = frozenset(parse_agent(a, ScreeningError) for a in self.agents)
        if not agents:
            raise ScreeningError("List the agents planned (e.g. dextrose, lidocaine) so allergies can be checked.")
        object.__setattr__(self, "agents", agents)
        object.__setattr__(self, "landmarks", tuple(self.landmarks))
        for code in self.landmarks:
            if landmark(code).region is not self.region:
                raise ScreeningError(
                    f"Landmark {code} is not in the {self.region.label.lower()} region: pick sites of one region."
                )

    @property
    def anaesthetic_planned(self) -> bool:
        """Return True if any local anaesthetic is planned."""
        return bool(self.agents & LOCAL_ANAESTHETICS)


@dataclass(frozen=True)
class ScreeningSettings:
    """Hold the clinic settings screening reads; every default is explained in docs/clinical/screening.md."""

    # DOMAIN.md §6: clinics vary from 2-3 days to 2 weeks; default 3 days.
    nsaid_stop_days: int = 3
    # Product default: a medication last taken within 14 days (the longest NSAID window in DOMAIN.md §6) is current.
    medication_lookback_days: int = 14
    # DOMAIN.md §6: days to 12 weeks after; None leaves the after-care advice to the clinic's handout.
    nsaid_avoid_after_days: int | None = None

    def __post_init__(self) -> None:
        """Refuse windows outside sensible bounds."""
        as_whole_days(self.nsaid_stop_days, "NSAID stop window", 0, 28, ScreeningError)
        as_whole_days(self.medication_lookback_days, "Medication look-back", 0, 365, ScreeningError)
        if self.nsaid_avoid_after_days is not None:
            as_whole_days(self.nsaid_avoid_after_days, "NSAID avoidance after the procedure", 1, 84, ScreeningError)


class Severity(StrEnum):
    """Grade a finding: contraindication (blocks), caution (clinician decides) or instruction (guidance)."""

    CONTRAINDICATION = "contraindication"
    CAUTION = "caution"
    INSTRUCTION = "instruction"


@dataclass(frozen=True)
class Finding:
    """Give one screening finding with its stable code, reason, source and override state."""

    code: str
    severity: Severity
    reason: str
    source: str
    overridable: bool
    override_reason: str | None = None

    @property
    def overridden(self) -> bool:
        """Return True once a clinician has overridden the finding with a reason."""
        return self.override_reason is not None


@dataclass(frozen=True)
class ScreeningResult:
    """Give the decision and every finding, contraindications first."""

    decision: Decision
    findings: tuple[Finding, ...]
    procedure_date: date
    nsaid_stop_date: date | None = None

    def finding(self, code: str) -> Finding:
        """Return the finding with this code."""
        for item in self.findings:
            if item.code == code:
                return item
        raise OverrideError(f"No finding '{code}' in this screening: override only a finding listed on the screen.")

    def by_severity(self, severity: Severity) -> tuple[Finding, ...]:
        """Return the findings of one severity."""
        return tuple(f for f in self.findings if f.severity is severity)

    @property
    def codes(self) -> tuple[str, ...]:
        """Return the finding codes, in order."""
        return tuple(f.code for f in self.findings)

    @property
    def blocking(self) -> tuple[Finding, ...]:
        """Return the contraindications that still block treatment."""
        return tuple(f for f in self.findings if f.severity is Severity.CONTRAINDICATION and not f.overridden)


@dataclass(frozen=True)
class Override:
    """Record a clinician's decision to proceed despite a finding, with the written reason."""

    code: str
    reason: str


# --- Allergy matching --------------------------------------------------------------------------------------

# What each allergy concept (concepts.py: SNOMED CT, RxNorm and words) means for the planned agents.
_AGENT_ALLERGIES: dict[Agent, AllergyConcept] = {
    Agent.DEXTROSE: AllergyConcept.DEXTROSE,
    Agent.GLYCERIN: AllergyConcept.GLYCERIN,
    Agent.PHENOL: AllergyConcept.PHENOL,
    Agent.SODIUM_MORRHUATE: AllergyConcept.SODIUM_MORRHUATE,
}

# --- Chart conditions ----------------------------------------------------------------------------------------

# The flag each chart concept stands for (pregnancy is a status, not a flag).
_CONCEPT_FLAGS: dict[ChartConcept, RiskFlag] = {
    c: RiskFlag(c.value) for c in ChartConcept if c.value in RiskFlag._value2member_map_
}
# Which finding each flag raises, so a finding from the chart can say where it came from.
_FINDING_FLAGS: dict[str, RiskFlag] = {
    "contraindication.infection_at_site": RiskFlag.INFECTION_AT_SITE,
    "contraindication.systemic_infection": RiskFlag.SYSTEMIC_INFECTION,
    "contraindication.septic_joint": RiskFlag.SEPTIC_JOINT,
    "contraindication.acute_gout_flare": RiskFlag.ACUTE_GOUT_FLARE,
    "contraindication.acute_fracture": RiskFlag.ACUTE_FRACTURE,
    "contraindication.suspected_tumour": RiskFlag.SUSPECTED_TUMOUR_AT_SITE,
    "caution.bleeding_disorder": RiskFlag.BLEEDING_DISORDER,
    "caution.diabetes": RiskFlag.DIABETES,
    "caution.immunosuppression": RiskFlag.IMMUNOSUPPRESSION,
    "caution.prosthetic_joint_or_valve": RiskFlag.PROSTHETIC_JOINT_OR_VALVE,
}
# Site-dependent concepts found elsewhere than the planned site: at most a caution (code, what it is).
ELSEWHERE_CAUTIONS: dict[ChartConcept, tuple[str, str]] = {
    ChartConcept.INFECTION: ("infection_elsewhere", "Skin or soft-tissue infection elsewhere"),
    ChartConcept.SEPTIC_JOINT: ("septic_joint_elsewhere", "Septic joint elsewhere"),
    ChartConcept.ACUTE_GOUT_FLARE: ("gout_flare_elsewhere", "Acute gout or crystal flare elsewhere"),
    ChartConcept.ACUTE_FRACTURE: ("fracture_elsewhere", "Acute fracture elsewhere"),
    ChartConcept.TUMOUR: ("tumour_elsewhere", "Unexplained swelling or tumour elsewhere"),
}

# Codes of contraindications that are hard stops: the fix is to treat the condition and screen again.
HARD_STOPS = frozenset(
    {
        "contraindication.infection_at_site",
        "contraindication.systemic_infection",
        "contraindication.septic_joint",
    }
)


def _describe_allergy(allergy: Allergy) -> str:
    details = [d for d in (allergy.reaction.strip(), allergy.severity.value) if d and d != "unknown"]
    since = f" on the chart since {allergy.since.isoformat()}" if allergy.since is not None else ""
    return allergy.substance.strip() + (f" ({', '.join(details)})" if details else "") + since


# --- Screening ---------------------------------------------------------------------------------------------


def screen(
    patient: PatientFacts, procedure: PlannedProcedure, settings: ScreeningSettings | None = None
) -> ScreeningResult:
    """Screen a patient for a planned procedure and return the decision with every finding."""
    if not isinstance(patient, PatientFacts) or not isinstance(procedure, PlannedProcedure):
        raise ScreeningError("Screening needs the patient's facts and the planned procedure.")
    settings = settings or ScreeningSettings()
    if patient.date_of_birth > procedure.date:
        raise ScreeningError(
            f"Date of birth {patient.date_of_birth.isoformat()} is after the procedure date "
            f"{procedure.date.isoformat()}: check both dates."
        )

    day_of = patient.flags
    from_chart, elsewhere = _chart_conditions(patient, procedure)
    pregnant_on_chart = [c for c in patient.conditions if c.concept is ChartConcept.PREGNANCY]
    patient = replace(
        patient,
        flags=patient.flags | {_CONCEPT_FLAGS[c] for c in from_chart},
        pregnancy=Pregnancy.PREGNANT if pregnant_on_chart else patient.pregnancy,
    )

    findings: list[Finding] = []
    findings += _contraindications(patient, procedure)
    findings += _cautions(patient, procedure, settings)
    nsaid_findings, stop_date = _nsaids(patient, procedure, settings)
    findings += nsaid_findings
    findings += _instructions(patient, procedure, settings)
    findings = [_with_provenance(f, from_chart, day_of, pregnant_on_chart) for f in findings]
    findings += _elsewhere_cautions(elsewhere, procedure)

    order = list(Severity)
    findings.sort(key=lambda f: order.index(f.severity))
    return ScreeningResult(
        decision=_decide(findings), findings=tuple(findings), procedure_date=procedure.date, nsaid_stop_date=stop_date
    )


def _planned_site(procedure: PlannedProcedure) -> str:
    site = procedure.site_description.strip() or procedure.region.label.lower()
    return f"{site}, {procedure.side.value}" if procedure.side.value not in site.lower() else site


def _chart_conditions(
    patient: PatientFacts, procedure: PlannedProcedure
) -> tuple[dict[ChartConcept, list[ChartCondition]], dict[ChartConcept, list[ChartCondition]]]:
    """Split the chart's conditions into those that count here (at the site, or anywhere) and those elsewhere."""
    counts: dict[ChartConcept, list[ChartCondition]] = {}
    elsewhere: dict[ChartConcept, list[ChartCondition]] = {}
    for condition in patient.conditions:
        if condition.concept is ChartConcept.PREGNANCY:
            continue
        here = not condition.concept.site_dependent or at_site(
            condition.region, condition.side, procedure.region.value, procedure.side.value
        )
        (counts if here else elsewhere).setdefault(condition.concept, []).append(condition)
    return counts, elsewhere


def _with_provenance(
    finding: Finding,
    from_chart: dict[ChartConcept, list[ChartCondition]],
    day_of: frozenset[RiskFlag],
    pregnant_on_chart: list[ChartCondition],
) -> Finding:
    """Add to a finding raised by the chart where it came from (and what was ticked on the day)."""
    if finding.code == "caution.pregnancy" and pregnant_on_chart:
        on_chart = "; ".join(c.provenance for c in pregnant_on_chart)
        return replace(finding, reason=f"{finding.reason} From the chart: {on_chart}.")
    flag = _FINDING_FLAGS.get(finding.code)
    conditions = [c for concept, items in from_chart.items() if _CONCEPT_FLAGS[concept] is flag for c in items]
    if flag is None or not conditions:
        return finding
    on_chart = "; ".join(c.provenance for c in conditions)
    reason = f"{finding.reason} From the chart: {on_chart}."
    if any(c.concept.site_dependent and not c.region for c in conditions):
        reason += " No body region is recorded for it, so it counts as at the site: record where it is."
    if flag in day_of:
        reason += " Also ticked on the day."
    return replace(finding, reason=reason)


def _elsewhere_cautions(
    elsewhere: dict[ChartConcept, list[ChartCondition]], procedure: PlannedProcedure
) -> list[Finding]:
    out: list[Finding] = []
    for concept, (code, what) in ELSEWHERE_CAUTIONS.items():
        conditions = elsewhere.get(concept)
        if not conditions:
            continue
        on_chart = "; ".join(c.provenance for c in conditions)
        reason = (
            f"{what}: {on_chart}. It is not at the planned site ({_planned_site(procedure)}), so it is not a "
            "contraindication here; check it does not affect today's treatment and record why you proceed."
        )
        if concept in (ChartConcept.INFECTION, ChartConcept.SEPTIC_JOINT):
            reason += " Check for fever or spread: a systemic infection is a contraindication."
        out.append(_caution(code, reason))
    return out


def _contra(code: str, reason: str, source: str = sources.CANDIDACY) -> Finding:
    full = f"contraindication.{code}"
    return Finding(full, Severity.CONTRAINDICATION, reason, source, overridable=full not in HARD_STOPS)


def _caution(code: str, reason: str, source: str = sources.CANDIDACY) -> Finding:
    return Finding(f"caution.{code}", Severity.CAUTION, reason, source, overridable=True)


def _instruction(code: str, reason: str, source: str) -> Finding:
    return Finding(f"instruction.{code}", Severity.INSTRUCTION, reason, source, overridable=False)


def _contraindications(patient: PatientFacts, procedure: PlannedProcedure) -> list[Finding]:
    flags = patient.flags
    site = procedure.site_description.strip() or procedure.region.label.lower()
    out: list[Finding] = []
    if RiskFlag.INFECTION_AT_SITE in flags:
        out.append(
            _contra(
                "infection_at_site",
                f"Skin or soft-tissue infection at the injection site ({site}): a needle can carry it deeper. "
                "Treat the infection and screen again once it has resolved.",
            )
        )
    if RiskFlag.SYSTEMIC_INFECTION in flags:
        out.append(
            _contra(
                "systemic_infection",
                "Systemic infection: postpone injections until it has resolved, then screen again.",
            )
        )
    if RiskFlag.SEPTIC_JOINT in flags:
        out.append(
            _contra("septic_joint", "Septic joint: do not inject; treat it and screen again once it has resolved.")
        )
    if RiskFlag.ACUTE_GOUT_FLARE in flags:
        out.append(
            _contra(
                "acute_gout_flare",
                "Acute gout or crystal flare: postpone until the flare has settled. Override only if the clinician "
                "has excluded a flare at this site.",
            )
        )
    if RiskFlag.ACUTE_FRACTURE in flags:
        out.append(
            _contra(
                "acute_fracture",
                "Acute fracture: prolotherapy treats chronic ligament and tendon pain, not a fresh fracture. "
                "Override only if the fracture is not at or near the treated site.",
            )
        )
    if RiskFlag.SUSPECTED_TUMOUR_AT_SITE in flags:
        out.append(
            _contra(
                "suspected_tumour",
                f"Unexplained swelling or suspected tumour at the site ({site}): investigate before injecting. "
                "Override only with a documented benign diagnosis.",
            )
        )
    out += _allergy_contraindications(patient, procedure)
    return out


def _allergy_contraindications(patient: PatientFacts, procedure: PlannedProcedure) -> list[Finding]:
    out: list[Finding] = []
    anaesthetic_allergies = [a for a in patient.allergies if AllergyConcept.LOCAL_ANAESTHETIC in a.concepts]
    if anaesthetic_allergies and procedure.anaesthetic_planned:
        planned = ", ".join(sorted(a.value for a in procedure.agents & LOCAL_ANAESTHETICS))
        recorded = "; ".join(_describe_allergy(a) for a in anaesthetic_allergies)
        out.append(
            _contra(
                "allergy.local_anaesthetic",
                f"Allergy to a local anaesthetic recorded ({recorded}) and {planned} is planned. Remove the "
                "anaesthetic from every syringe, or override only if allergy testing has cleared this drug.",
            )
        )
    for agent, concept in _AGENT_ALLERGIES.items():
        matches = [a for a in patient.allergies if concept in a.concepts]
        if matches and agent in procedure.agents:
            recorded = "; ".join(_describe_allergy(a) for a in matches)
            out.append(
                _contra(
                    f"allergy.{agent.value}",
                    f"Allergy to {agent.label.lower()} recorded ({recorded}) and it is in the planned solution: "
                    "choose a solution without it, or override only if allergy testing has cleared it.",
                )
            )
    return out


def _current(medication: Medication, procedure_date: date, lookback_days: int) -> bool:
    if medication.use is MedicationUse.AS_NEEDED:
        return True  # may be taken any day: the stop instruction applies whatever the last dose
    if medication.use is MedicationUse.STOPPED and medication.last_dose is None:
        return False  # stopped, with no recent dose recorded
    return medication.last_dose is None or medication.last_dose >= procedure_date - timedelta(days=lookback_days)


def _names(medications: Iterable[Medication]) -> str:
    return ", ".join(m.name.strip() for m in medications)


def _cautions(patient: PatientFacts, procedure: PlannedProcedure, settings: ScreeningSettings) -> list[Finding]:
    flags = patient.flags
    lookback = settings.medication_lookback_days
    out: list[Finding] = []
    for drug_class, code, what in (
        (MedicationClass.ANTICOAGULANT, "anticoagulant", "Anticoagulant"),
        (MedicationClass.ANTIPLATELET, "antiplatelet", "Antiplatelet"),
    ):
        current = [
            m for m in patient.medications if m.drug_class is drug_class and _current(m, procedure.date, lookback)
        ]
        if current:
            out.append(
                _caution(
                    code,
                    f"{what} therapy ({_names(current)}): higher bleeding risk at the injection sites. Check the "
                    "drug's ASRA/ESRA bleeding-risk tier for the sites planned; do not stop it without the "
                    "prescriber. Record why you proceed.",
                    sources.ASRA_ESRA_2018,
                )
            )
    if RiskFlag.BLEEDING_DISORDER in flags:
        out.append(
            _caution(
                "bleeding_disorder",
                "Bleeding disorder: higher bleeding risk at the injection sites. Record why you proceed.",
                sources.ASRA_ESRA_2018,
            )
        )
    if patient.pregnancy is Pregnancy.PREGNANT:
        out.append(_caution("pregnancy", "Pregnant: the clinician decides whether to treat now and records why."))
    if RiskFlag.DIABETES in flags and Agent.DEXTROSE in procedure.agents:
        out.append(
            _caution(
                "diabetes",
                "Diabetes: the dextrose is a glucose load (a Rabago-style knee session holds about 2.6 g). "
                "Counsel the patient about blood glucose on the day.",
                f"{sources.CANDIDACY}; {sources.GLUCOSE_LOAD_KNEE}",
            )
        )
    if RiskFlag.IMMUNOSUPPRESSION in flags:
        out.append(
            _caution(
                "immunosuppression",
                "Immunosuppression: higher infection risk; be strict about aseptic technique and warn the patient "
                "to call about fever, redness or drainage.",
            )
        )
    if RiskFlag.PROSTHETIC_JOINT_OR_VALVE in flags:
        out.append(
            _caution(
                "prosthetic_joint_or_valve",
                "Prosthetic joint or heart valve: an infection would be serious; the clinician decides and "
                "records why.",
            )
        )
    corn = RiskFlag.CORN_ALLERGY in flags or any(AllergyConcept.CORN in a.concepts for a in patient.allergies)
    if corn and Agent.DEXTROSE in procedure.agents:
        out.append(
            _caution(
                "corn_allergy",
                "Corn allergy recorded and dextrose is planned: dextrose is often made from corn. Whether this "
                "matters is unverified; ask about past reactions to dextrose and record why you proceed.",
                sources.CORN_ALLERGY,
            )
        )
    if procedure.anaesthetic_planned and last_age_risk(patient.date_of_birth, procedure.date):
        age = age_in_years(patient.date_of_birth, procedure.date)
        band = f"under {LAST_RISK_UNDER_YEARS}" if age < LAST_RISK_UNDER_YEARS else f"over {LAST_RISK_OVER_YEARS}"
        out.append(
            _caution(
                "last_age_risk",
                f"Age {age} ({band}): higher risk of local anaesthetic systemic toxicity. Keep the anaesthetic dose "
                "low and watch the patient for up to 60 minutes.",
                sources.LAST_AGE_RISK,
            )
        )
    return out


def _nsaids(
    patient: PatientFacts, procedure: PlannedProcedure, settings: ScreeningSettings
) -> tuple[list[Finding], date | None]:
    days = settings.nsaid_stop_days
    nsaids = [m for m in patient.medications if m.drug_class is MedicationClass.NSAID]
    # Stopped for good: nothing to stop. A last dose inside the window is still a fact the caution reports.
    current = [
        m
        for m in nsaids
        if m.use is not MedicationUse.STOPPED and _current(m, procedure.date, settings.medication_lookback_days)
    ]
    out: list[Finding] = []
    if days == 0:
        return out, None
    stop = procedure.date - timedelta(days=days)
    if current:
        names = ", ".join(
            m.name.strip() + (" (taken as needed)" if m.use is MedicationUse.AS_NEEDED else "") for m in current
        )
        reason = (
            f"Stop {names} from {stop.isoformat()} ({days} days before the procedure on "
            f"{procedure.date.isoformat()}): no NSAID on or after that date until the procedure."
        )
        if all(m.use is MedicationUse.AS_NEEDED for m in current):
            reason += " Taken only as needed, so this is an instruction, not a reason to postpone."
        out.append(_instruction("nsaid_stop", reason, sources.NSAID_WINDOW))
    # An as-needed NSAID raises the stop instruction only; a regular or recently stopped one dosed inside the
    # window raises the caution.
    inside = [
        m for m in nsaids if m.use is not MedicationUse.AS_NEEDED and m.last_dose is not None and m.last_dose >= stop
    ]
    if not current and not inside:
        return out, None
    if inside:
        doses = ", ".join(
            f"{m.name.strip()} on {m.last_dose.isoformat()}"
            + (" (stopped since)" if m.use is MedicationUse.STOPPED else "")
            for m in inside
            if m.last_dose
        )
        out.append(
            _caution(
                "nsaid_within_window",
                f"Last NSAID dose inside the {days}-day window that starts {stop.isoformat()} ({doses}). "
                "No trial shows NSAIDs reduce the effect: proceed or rebook, and record why.",
                sources.NSAID_WINDOW,
            )
        )
    return out, stop


def _instructions(patient: PatientFacts, procedure: PlannedProcedure, settings: ScreeningSettings) -> list[Finding]:
    out: list[Finding] = []
    if settings.nsaid_avoid_after_days is not None:
        until = procedure.date + timedelta(days=settings.nsaid_avoid_after_days)
        out.append(
            _instruction(
                "nsaid_after",
                f"Avoid NSAIDs for {settings.nsaid_avoid_after_days} days after the procedure (until "
                f"{until.isoformat()}); acetaminophen (paracetamol) is allowed for soreness.",
                sources.NSAID_AFTER,
            )
        )
    # A recorded allergy to an agent that is not planned still matters: it must stay out of every syringe.
    unplanned = _unplanned_allergies(patient, procedure)
    if unplanned:
        out.append(
            _instruction(
                "allergy_keep_out",
                f"Recorded allergy to {unplanned}, which is not planned: keep it out of every syringe, "
                "skin wheals included.",
                sources.CANDIDACY,
            )
        )
    if patient.pregnancy is Pregnancy.UNKNOWN and patient.sex is not Sex.MALE:
        out.append(
            _instruction(
                "pregnancy_status",
                "Pregnancy status is not recorded: ask and record it before treatment.",
                sources.CANDIDACY,
            )
        )
    out.append(
        _instruction(
            "light_meal",
            "Eat a light meal before the appointment: it lowers the chance of feeling faint.",
            sources.LIGHT_MEAL,
        )
    )
    if procedure.sedation is Sedation.ORAL:
        out.append(
            _instruction(
                "driver",
                "Oral sedation is planned: the patient must not drive and needs someone to take them home.",
                sources.SEDATION_DRIVER,
            )
        )
    chest_wall = procedure.region is Region.NECK_THORACIC or any(
        landmark(code).pneumothorax_risk for code in procedure.landmarks
    )
    if chest_wall:
        out.append(
            _instruction(
                "consent_pneumothorax",
                "Consent must cover pneumothorax (collapsed lung) after chest-wall or thoracic injections; tell the "
                "patient to call for chest pain or breathlessness.",
                sources.PNEUMOTHORAX,
            )
        )
    if procedure.region.is_spinal:
        out.append(
            _instruction(
                "consent_dural_puncture",
                "Consent must cover dural puncture headache after spinal injections; tell the patient to call for "
                "a headache that is worse on standing.",
                sources.DURAL_PUNCTURE,
            )
        )
    out.append(
        _instruction(
            "consent_off_label",
            "Consent must cover off-label use of the injected agents and that insurers usually do not pay for "
            "prolotherapy (Medicare does not cover it).",
            sources.CONSENT,
        )
    )
    return out


def _unplanned_allergies(patient: PatientFacts, procedure: PlannedProcedure) -> str:
    found: list[str] = []
    for allergy in patient.allergies:
        concepts = allergy.concepts
        if AllergyConcept.LOCAL_ANAESTHETIC in concepts and not procedure.anaesthetic_planned:
            found.append(_describe_allergy(allergy))
            continue
        for agent, concept in _AGENT_ALLERGIES.items():
            if concept in concepts and agent not in procedure.agents:
                found.append(_describe_allergy(allergy))
                break
    return "; ".join(found)


def _decide(findings: Sequence[Finding]) -> Decision:
    if any(f.severity is Severity.CONTRAINDICATION and not f.overridden for f in findings):
        return Decision.NOT_ELIGIBLE
    # An overridden contraindication stays a reason for care, so it never yields a plain ELIGIBLE.
    if any(f.severity in (Severity.CONTRAINDICATION, Severity.CAUTION) for f in findings):
        return Decision.ELIGIBLE_WITH_CAUTIONS
    return Decision.ELIGIBLE


def apply_overrides(
    result: ScreeningResult,
    overrides: Sequence[Override],
    *,
    min_reason_chars: int = MIN_OVERRIDE_REASON_CHARS,
) -> ScreeningResult:
    """Return the result with each named finding overridden by its written reason, and the decision recomputed."""
    if not isinstance(result, ScreeningResult):
        raise OverrideError("Apply overrides to a screening result.")
    by_code = {f.code: f for f in result.findings}
    reasons: dict[str, str] = {}
    for item in overrides:
        if not isinstance(item, Override):
            raise OverrideError("Each override must name a finding code and give a written reason.")
        finding = result.finding(item.code)
        if item.code in reasons:
            raise OverrideError(f"'{item.code}' is overridden twice: give one override with one reason.")
        if finding.severity is Severity.INSTRUCTION:
            raise OverrideError(f"'{item.code}' is an instruction, not a risk finding: there is nothing to override.")
        if not finding.overridable:
            raise OverrideError(
                f"'{item.code}' is a hard stop and cannot be overridden: treat the condition, update the patient's "
                "record and screen again."
            )
        if finding.overridden:
            raise OverrideError(f"'{item.code}' is already overridden ({finding.override_reason}).")
        reason = " ".join(item.reason.split()) if isinstance(item.reason, str) else ""
        if not reason:
            raise OverrideError(f"Write why you proceed despite '{item.code}': a reason is required.")
        if len(reason) < min_reason_chars:
            raise OverrideError(
                f"The reason for overriding '{item.code}' is too short ('{reason}'): write at least "
                f"{min_reason_chars} characters saying why treatment is safe."
            )
        reasons[item.code] = reason
    findings = tuple(
        replace(by_code[f.code], override_reason=reasons[f.code]) if f.code in reasons else f for f in result.findings
    )
    return replace(result, findings=findings, decision=_decide(findings))


_E = TypeVar("_E", bound=StrEnum)


def parse_code(kind: type[_E], value: object, what: str) -> _E:
    """Return the member of `kind` with this code (a member is returned as is), or refuse it naming the choices.

    The dataclasses here coerce their coded fields with it; callers holding stored text use it to hand them members.
    """
    return _enum(kind, value, what)


def _enum(kind: type[_E], value: object, what: str) -> _E:
    if isinstance(value, str) and value in kind._value2member_map_:
        return kind(value)
    choices = ", ".join(member.value for member in kind)
    raise ScreeningError(f"Unknown {what} '{value}': choose one of {choices}.")
