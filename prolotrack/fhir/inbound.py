"""FHIR R4 resources coming in: validated at the edge, then mapped to the registry's fields (docs/FHIR-IMPORT.md).

Each resource is validated with the R4B models of fhir.resources (`model_validate` on the parsed dict: no second
JSON parse). A valid resource of a supported kind becomes a `Mapped` (the product's field values, the reference to
its patient, the key that finds the same record again on a re-import); anything else is skipped and counted by type.
Problems become `Issue`s with a FHIRPath expression, which the importer turns into an OperationOutcome.
"""

import gzip
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError as PydanticValidationError

from prolotrack.domain import concepts, limits
from prolotrack.domain.concepts import is_no_known_allergy
from prolotrack.fhir.mappers import BASE, weight_in_kg, weight_unit
from prolotrack.patients.models import (
    BodyRegion,
    ClinicalStatus,
    ConditionCategory,
    Laterality,
    MedicationClass,
    MedicationStatus,
    ScreeningFlag,
    Severity,
    Sex,
)

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
BODY_WEIGHT = "29463-7"  # LOINC: Body weight
PAIN_NRS = "72514-3"  # LOINC: Pain severity - 0-10 verbal numeric rating [Score] - Reported
PAIN_INSTRUMENT = "nrs_pain"

# ProloTrack's own code systems and extensions, as the read side writes them (prolotrack/fhir/mappers.py), so a
# resource exported by ProloTrack comes back exactly.
OWN_BASE = BASE  # the canonical base the read side writes (mappers.BASE)
CS_REGION = f"{OWN_BASE}/CodeSystem/body-region"
CS_DRUG_CLASS = f"{OWN_BASE}/CodeSystem/drug-class"
CS_CONDITION_CATEGORY = f"{OWN_BASE}/CodeSystem/condition-category"
CS_SCREENING_FLAG = f"{OWN_BASE}/CodeSystem/screening-flag"
EXT_LATERALITY = f"{OWN_BASE}/StructureDefinition/laterality"
EXT_LAST_DOSE = f"{OWN_BASE}/StructureDefinition/last-dose-date"

IMPORTED = ("Patient", "Condition", "AllergyIntolerance", "MedicationStatement", "Observation")


@dataclass
class Issue:
    """One OperationOutcome issue: severity, FHIR issue type code, what to fix, and where (FHIRPath)."""

    severity: str
    code: str
    diagnostics: str
    expression: str | None = None

    def as_fhir(self) -> dict[str, Any]:
        out: dict[str, Any] = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            out["expression"] = [self.expression]
        return out


class InboundError(Exception):
    """A resource that cannot be imported as it stands; carries the issues that say what to fix."""

    def __init__(self, issues: list[Issue], status: int = 422) -> None:
        super().__init__("; ".join(i.diagnostics for i in issues))
        self.issues = issues
        self.status = status


@dataclass
class Mapped:
    """A supported resource turned into the product's terms."""

    resource_type: str
    kind: str  # patient | weight | condition | medication | allergy | pain
    values: dict[str, Any]
    subject: str | None = None  # reference to the patient, as written in the resource
    identifiers: list[tuple[str, str]] = field(default_factory=list)  # Patient: (system, value) pairs
    notes: list[Issue] = field(default_factory=list)  # information for the response (e.g. a unit converted)
    derived: tuple[str, ...] = ()  # fields guessed rather than stated: an update never overwrites them
    fills_only: bool = False  # creates a record, never changes one it matches (a MedicationRequest)
    # A kept Observation: its effective[x] as written ({"value": …} or {"start": …, "end": …}), and the pain NRS
    # answer it also is ({"authored_on": date, "score": int}) or None.
    effective: dict[str, Any] = field(default_factory=dict)
    pain: dict[str, Any] | None = None


@dataclass
class Skip:
    """A valid resource that is not imported, and why (reported by type)."""

    resource_type: str
    reason: str


# --- validation ------------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def model_class(resource_type: str) -> Any:
    """The R4B model for a resource type, or None when R4B has no such resource."""
    if not isinstance(resource_type, str) or not re.fullmatch(r"[A-Z][A-Za-z]+", resource_type):
        return None
    try:
        cls = get_fhir_model_class(resource_type)
    except (KeyError, ValueError, ImportError, AttributeError):
        return None
    return cls if getattr(cls, "get_resource_type", lambda: None)() == resource_type else None


R4_SCHEMA = Path(__file__).parent / "r4" / "fhir.schema.json.gz"  # HL7's R4 JSON schema (tests/fixtures/README.md)


@cache
def r4_schema() -> Any:
    """The R4 JSON schema validator (jsonschema-rs, draft-06), compiled once per process (about 0.1 s)."""
    return jsonschema_rs.Draft6Validator(orjson.loads(gzip.decompress(R4_SCHEMA.read_bytes())))


def _path(base: str, loc: tuple[Any, ...]) -> str:
    out = base
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("__root__", "") or str(part).startswith("function-"):
            continue
        else:
            out += f".{part}"
    return out


def validate(resource: Any, where: str) -> list[Issue]:
    """Validate one resource (a parsed JSON object) against R4B; issues name the path under `where`."""
    if not isinstance(resource, dict):
        return [Issue("error", "structure", "Each resource must be a JSON object.", where)]
    resource_type = resource.get("resourceType")
    if not resource_type:
        return [Issue("error", "required", "The resource has no resourceType.", where)]
    if not isinstance(resource_type, str):
        return [Issue("error", "structure", "resourceType must be a string.", f"{where}.resourceType")]
    cls = model_class(resource_type)
    if cls is None:
        return [Issue("error", "not-supported", f"'{resource_type}' is not a FHIR R4 resource type.", where)]
    if resource_type not in MAPPERS and r4_schema().is_valid(resource):
        # A type ProloTrack skips (Encounter, Claim, ExplanationOfBenefit...: most of a Synthea bundle's bytes) is
        # checked against HL7's R4 JSON schema, about 30 times faster than the R4B models; only when the schema
        # refuses it do the models decide, with their messages, so nothing they accepted before is refused now.
        return []
    try:
        cls.model_validate(resource)
    except PydanticValidationError as exc:
        issues = []
        for err in exc.errors(include_url=False):
            message = err.get("msg", "invalid value").removeprefix("Value error, ")
            issues.append(Issue("error", "invalid", f"{message}", _path(where, tuple(err.get("loc", ())))))
        return issues or [Issue("error", "invalid", "The resource is not valid FHIR R4.", where)]
    except (ValueError, TypeError) as exc:
        return [Issue("error", "invalid", str(exc), where)]
    return []


# --- small readers -----------------------------------------------------------------------------------------------


def _codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, dict)]


def _concept_text(concept: Any) -> str:
    """The human words of a CodeableConcept: its text, else the first coding's display, else its code."""
    if not isinstance(concept, dict):
        return ""
    if (concept.get("text") or "").strip():
        return concept["text"].strip()
    for coding in _codings(concept):
        if (coding.get("display") or "").strip():
            return coding["display"].strip()
    for coding in _codings(concept):
        if (coding.get("code") or "").strip():
            return coding["code"].strip()
    return ""


_TOKEN_PART = re.compile(r"[^\s|\x00-\x1f\x7f]+")


def code_tokens(concept: Any, limit: int = 20) -> list[str]:
    """The codings of a CodeableConcept as "system|code", kept on the record for screening (domain/concepts.py)."""
    out: list[str] = []
    for coding in _codings(concept):
        system, code = str(coding.get("system") or ""), str(coding.get("code") or "")
        if system.startswith(OWN_BASE):
            continue  # ProloTrack's own codes are read into their fields (region, flag, class)
        if len(system) <= 200 and len(code) <= 60 and _TOKEN_PART.fullmatch(system) and _TOKEN_PART.fullmatch(code):
            token = f"{system}|{code}"
            if token not in out:
                out.append(token)
    return out[:limit]


MAX_CODINGS = 20  # patients.services.MAX_CODES
CODING_SIZES = {"system": 200, "code": 60, "display": 500}  # patients.services.CODING_KEYS


def sent_codings(concept: Any, path: str) -> list[dict[str, str]]:
    """Every coding of a CodeableConcept as sent (system, code, display), kept so the resource reads back with the
    same codes. ProloTrack's own codes are left out (read into their fields: region, flag, class; served from them).
    Other coding elements (version, userSelected, extensions) are not kept. Too many or too long: refused."""
    out: list[dict[str, str]] = []
    for i, item in enumerate(_codings(concept)):
        if str(item.get("system") or "").startswith(OWN_BASE):
            continue
        kept = {k: str(item[k]) for k in CODING_SIZES if isinstance(item.get(k), str) and item[k]}
        for key, size in CODING_SIZES.items():
            if len(kept.get(key, "")) > size:
                raise InboundError(
                    [Issue("error", "value", f"A coding's {key} longer than {size} characters is not kept.",
                           f"{path}.coding[{i}].{key}")]
                )  # fmt: skip
        if kept and kept not in out:
            out.append(kept)
    if len(out) > MAX_CODINGS:
        raise InboundError(
            [Issue("error", "value", f"{len(out)} codings: ProloTrack keeps at most {MAX_CODINGS}.", f"{path}.coding")]
        )
    return out


def _has_code(concept: Any, system: str, code: str) -> bool:
    return any(c.get("system") == system and c.get("code") == code for c in _codings(concept))


def _first_code(concept: Any, system: str) -> str:
    return next((c.get("code", "") for c in _codings(concept) if c.get("system") == system), "")


def _date(value: Any, path: str, *, required: bool = False, what: str = "date") -> date | None:
    """A full calendar date from a FHIR date or dateTime (the date part as written, no time-zone shift)."""
    if not value:
        if required:
            raise InboundError([Issue("error", "required", f"ProloTrack needs the {what}.", path)])
        return None
    text = str(value)
    if len(text) < 10:
        if required:
            raise InboundError(
                [
                    Issue(
                        "error", "value", f"The {what} '{text}' is partial: ProloTrack needs year, month and day.", path
                    )
                ]
            )
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise InboundError([Issue("error", "value", f"'{text}' is not a date.", path)]) from None


def _limit(value: str, size: int, path: str, what: str) -> str:
    if len(value) > size:
        raise InboundError(
            [Issue("error", "value", f"The {what} is {len(value)} characters; ProloTrack keeps at most {size}.", path)]
        )
    return value


def _reference(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("reference"), str):
        return value["reference"].strip() or None
    return None


def _notes(resource: dict[str, Any]) -> str:
    return "\n".join(n["text"].strip() for n in resource.get("note") or [] if (n.get("text") or "").strip())


def _status_code(concept: Any) -> str:
    for coding in _codings(concept):
        if coding.get("code"):
            return str(coding["code"])
    return ""


# --- Patient -----------------------------------------------------------------------------------------------------

# Identifier systems ProloTrack itself writes for the record number (the read side's Patient.identifier). A
# re-import of our own export matches on these before anything else.
OWN_MRN_SYSTEM_PREFIX = f"{OWN_BASE}/clinic/"


def mrn_identifier(identifiers: list[dict[str, Any]]) -> tuple[int, str, str] | None:
    """Which identifier is the record number: ProloTrack's own, else one typed MR (HL7 v2-0203), else the only one."""
    usable = [
        (i, ident.get("system") or "", ident["value"].strip())
        for i, ident in enumerate(identifiers)
        if isinstance(ident, dict) and isinstance(ident.get("value"), str) and ident["value"].strip()
    ]
    for entry in usable:
        if entry[1].startswith(OWN_MRN_SYSTEM_PREFIX):
            return entry
    for entry in usable:
        if _has_code(identifiers[entry[0]].get("type"), V2_IDENTIFIER_TYPE, "MR"):
            return entry
    if len(usable) == 1:
        return usable[0]
    return None


def _patient(resource: dict[str, Any], where: str) -> Mapped:
    issues: list[Issue] = []
    identifiers = resource.get("identifier") or []
    mrn = mrn_identifier(identifiers)
    names = [n for n in resource.get("name") or [] if isinstance(n, dict)]
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
    given = family = ""
    name_path = f"{where}.name"
    if name is not None:
        name_path = f"{where}.name[{names.index(name)}]"
        given = " ".join(g.strip() for g in name.get("given") or [] if g and g.strip())
        family = (name.get("family") or "").strip()
    if not given or not family:
        issues.append(
            Issue("error", "required", "ProloTrack needs a family name and at least one given name.", name_path)
        )
    values: dict[str, Any] = {"given_name": given, "family_name": family}
    try:
        values["date_of_birth"] = _date(
            resource.get("birthDate"), f"{where}.birthDate", required=True, what="date of birth"
        )
    except InboundError as exc:
        issues.extend(exc.issues)
    gender = resource.get("gender") or Sex.UNKNOWN
    if gender not in Sex.values:
        issues.append(
            Issue("error", "code-invalid", "gender must be male, female, other or unknown.", f"{where}.gender")
        )
    values["sex"] = gender
    telecom = [t for t in resource.get("telecom") or [] if isinstance(t, dict)]
    values["phone"] = next((t.get("value", "") for t in telecom if t.get("system") in ("phone", "sms")), "")
    values["email"] = next((t.get("value", "") for t in telecom if t.get("system") == "email"), "")
    addresses = [a for a in resource.get("address") or [] if isinstance(a, dict)]
    address = next((a for a in addresses if a.get("use") == "home"), addresses[0] if addresses else {})
    values["address_line"] = ", ".join(line.strip() for line in address.get("line") or [] if line and line.strip())
    values["city"] = address.get("city") or ""
    values["region"] = address.get("state") or ""
    values["postal_code"] = address.get("postalCode") or ""
    values["country"] = address.get("country") or ""
    if mrn is not None:
        values["mrn"] = mrn[2]
    if issues:
        raise InboundError(issues)
    pairs = [
        (ident.get("system") or "", ident["value"].strip())
        for ident in identifiers
        if isinstance(ident, dict) and isinstance(ident.get("value"), str) and ident["value"].strip()
    ]
    return Mapped("Patient", "patient", values, identifiers=pairs)


# Field -> FHIRPath, so a model validation error points at the FHIR element to fix.
PATIENT_PATHS = {
    "mrn": "identifier",
    "given_name": "name",
    "family_name": "name",
    "date_of_birth": "birthDate",
    "sex": "gender",
    "email": "telecom",
    "phone": "telecom",
    "address_line": "address",
    "city": "address",
    "region": "address",
    "postal_code": "address",
    "country": "address",
}


# --- Condition ---------------------------------------------------------------------------------------------------

# Words that name a region of the injection map (BodyRegion), searched in bodySite and the condition's own words.
REGION_WORDS: tuple[tuple[str, str], ...] = (
    (r"temporomandibular|\btmj\b|\bjaw\b", BodyRegion.TMJ),
    (r"\bknee|patell|menisc|\bacl\b|cruciate", BodyRegion.KNEE),
    (r"shoulder|rotator cuff|glenohumeral|acromio|supraspinatus|subacromial", BodyRegion.SHOULDER),
    (r"elbow|epicondyl", BodyRegion.ELBOW),
    (r"ankle|\bfoot\b|\bfeet\b|plantar|achilles|\bheel\b|\btoe", BodyRegion.ANKLE_FOOT),
    (r"\bhip\b|\bhips\b|trochanter|\bgroin\b", BodyRegion.HIP),
    (r"lumbar|low(er)? back|sacroiliac|\bsacr|pelvi|coccy|lumbosacral|\bbackache\b|back pain", BodyRegion.LUMBOPELVIC),
    (r"\bneck\b|cervical|thoracic|whiplash|trapezius", BodyRegion.NECK_THORACIC),
)
LATERALITY_CODES = {"7771000": Laterality.LEFT, "24028007": Laterality.RIGHT, "51440002": Laterality.BILATERAL}
LATERALITY_WORDS: tuple[tuple[str, str], ...] = (
    (r"\bbilateral\b|\bboth\b", Laterality.BILATERAL),
    (r"\bleft\b", Laterality.LEFT),
    (r"\bright\b", Laterality.RIGHT),
)

# Conditions that candidacy screening acts on (DOMAIN.md §5). Codes (SNOMED CT, ICD-10-CM) are read by
# domain/concepts.py, the one list screening also reads (concepts.problem_list_choice); careful words here fill the
# choice for a condition that came without a known code (never "prediabetes").
FLAG_WORDS: tuple[tuple[str, ScreeningFlag], ...] = (
    (r"(?<!pre)(?<!pre-)\bdiabetes\b|\bdiabetic\b", ScreeningFlag.DIABETES),
    (r"\bgout\b", ScreeningFlag.GOUT),
    (r"\bpregnan", ScreeningFlag.PREGNANCY),
    (r"ha?emophilia|von willebrand|coagulopathy|bleeding disorder", ScreeningFlag.BLEEDING_DISORDER),
    (r"immunosuppress|immunodeficien", ScreeningFlag.IMMUNOSUPPRESSION),
    (
        r"(prosthe|replacement|arthroplasty).*\b(knee|hip|shoulder|joint)|(knee|hip|joint).*(prosthe|arthroplasty)",
        ScreeningFlag.PROSTHETIC_JOINT,
    ),
    (r"(prosthetic|replacement|mechanical).*\bvalve", ScreeningFlag.PROSTHETIC_VALVE),
)


def body_region(texts: list[str], sites: list[dict[str, Any]] | None = None) -> str:
    for site in sites or []:
        for coding in _codings(site):
            if coding.get("system") == CS_REGION and coding.get("code") in BodyRegion.values:
                return str(coding["code"])
    for text in texts:
        low = text.lower()
        for pattern, region in REGION_WORDS:
            if re.search(pattern, low):
                return str(region)
    return ""


def laterality(body_sites: list[dict[str, Any]], texts: list[str]) -> str:
    for site in body_sites:
        for extension in site.get("extension") or []:
            coding = extension.get("valueCoding") or {}
            if extension.get("url") == EXT_LATERALITY and coding.get("code") in LATERALITY_CODES:
                return str(LATERALITY_CODES[coding["code"]])
        for coding in _codings(site):
            if coding.get("system") == SNOMED and coding.get("code") in LATERALITY_CODES:
                return str(LATERALITY_CODES[coding["code"]])
    for text in texts:
        low = text.lower()
        for pattern, side in LATERALITY_WORDS:
            if re.search(pattern, low):
                return str(side)
    return ""


def screening_flag(concept: Any, text: str) -> str:
    for coding in _codings(concept):
        code = str(coding.get("code") or "")
        if coding.get("system") == CS_SCREENING_FLAG and code in ScreeningFlag.values:
            return code
        if choice := concepts.problem_list_choice(str(coding.get("system") or ""), code):
            return choice
    low = text.lower()
    for pattern, flag in FLAG_WORDS:
        if re.search(pattern, low):
            return str(flag)
    return ""


# SNOMED CT semantic tags (the words in brackets ending a fully specified name, SNOMED CT Editorial Guide,
# "Semantic Tags") whose concepts are never a clinical problem: social context, people, occupations, life style.
NON_CLINICAL_TAGS = frozenset(
    {"social concept", "person", "occupation", "life style", "ethnic group", "racial group", "religion/philosophy"}
)
# Concepts tagged "(finding)" or "(situation)" that record social circumstances or administration, not a clinical
# problem: the social determinants Synthea writes as Conditions from its PRAPARE screening module (descendants of
# 365448001 |Social and personal history finding| and 314529007, as published in the Synthea sample data).
SOCIAL_CODES: dict[str, str] = {
    "160903007": "Full-time employment",
    "160904001": "Part-time employment",
    "73438004": "Unemployed",
    "741062008": "Not in labor force",
    "224299000": "Received higher education",
    "224295006": "Only received primary school education",
    "5251000175109": "Received certificate of high school equivalency",
    "473461003": "Educated to high school level",
    "422650009": "Social isolation",
    "423315002": "Limited social contact",
    "73595000": "Stress",
    "706893006": "Victim of intimate partner abuse",
    "424393004": "Reports of violence in the environment",
    "266948004": "Has a criminal record",
    "160968000": "Risk activity involvement",
    "105531004": "Housing unsatisfactory",
    "32911000": "Homeless",
    "266934004": "Transport problem",
    "713458007": "Lack of access to transportation",
    "446654005": "Refugee",
    "314529007": "Medication review due",
}
_TAG = re.compile(r"\(([a-z /-]+)\)\s*$")


def social_context(concept: Any) -> str | None:
    """Why a Condition's code is a social or administrative fact rather than a clinical problem, or None."""
    for coding in _codings(concept):
        if coding.get("system") != SNOMED:
            continue
        code = str(coding.get("code") or "")
        if code in SOCIAL_CODES:
            return f"SNOMED CT {code} {SOCIAL_CODES[code]}: a social or administrative finding, not a clinical problem"
        tag = _TAG.search(coding.get("display") or "")
        if tag and tag.group(1) in NON_CLINICAL_TAGS:
            return f"SNOMED CT {code} has the semantic tag ({tag.group(1)}): not a clinical problem"
    tag = _TAG.search((concept or {}).get("text") or "") if isinstance(concept, dict) else None
    if tag and tag.group(1) in NON_CLINICAL_TAGS:
        return f"semantic tag ({tag.group(1)}): not a clinical problem"
    return None


CONDITION_ACTIVE = {"active", "recurrence", "relapse"}
CONDITION_RESOLVED = {"inactive", "remission", "resolved"}


def _condition(resource: dict[str, Any], where: str) -> Mapped | Skip:
    verification = _status_code(resource.get("verificationStatus"))
    if verification in ("entered-in-error", "refuted"):
        return Skip("Condition", f"verificationStatus {verification}")
    social = social_context(resource.get("code"))
    if social:
        return Skip("Condition", social)
    description = _concept_text(resource.get("code"))
    if not description:
        raise InboundError(
            [Issue("error", "required", "ProloTrack needs the condition's name (code).", f"{where}.code")]
        )
    _limit(description, 200, f"{where}.code", "condition's name")
    sites = [s for s in resource.get("bodySite") or [] if isinstance(s, dict)]
    site_texts = [_concept_text(s) for s in sites] + [
        c.get("display") or "" for s in sites for c in _codings(s) if c.get("display")
    ]
    region = body_region([*site_texts, description], sites)
    side = laterality(sites, [*site_texts, description]) if region else ""
    status = _status_code(resource.get("clinicalStatus")) or "active"
    if status not in CONDITION_ACTIVE | CONDITION_RESOLVED:
        raise InboundError(
            [Issue("error", "code-invalid", f"Unknown clinicalStatus '{status}'.", f"{where}.clinicalStatus")]
        )
    onset = resource.get("onsetDateTime") or (resource.get("onsetPeriod") or {}).get("start")
    onset_path = f"{where}.onsetDateTime" if resource.get("onsetDateTime") else f"{where}.onsetPeriod.start"
    categories = [_status_code(c) for c in resource.get("category") or []]
    own = [
        c["code"]
        for concept in resource.get("category") or []
        for c in _codings(concept)
        if c.get("system") == CS_CONDITION_CATEGORY and c.get("code") in ConditionCategory.values
    ]
    category = (
        own[0]
        if own
        else (
            ConditionCategory.COMPLAINT
            if region or ("problem-list-item" not in categories and "complaint" in categories)
            else ConditionCategory.COMORBIDITY
        )
    )
    chronicity, prior, texts = "", "", []
    for note in resource.get("note") or []:
        text = (note.get("text") or "").strip()
        found = re.fullmatch(r"Chronicity: (acute|subacute|chronic)\.", text)
        if found:
            chronicity = found.group(1)
        elif text.startswith("Prior treatments: "):
            prior = text.removeprefix("Prior treatments: ")
        elif text:
            texts.append(text)
    values = {
        "description": description,
        "category": str(category),
        "screening_flag": screening_flag(resource.get("code"), description),
        "body_region": region,
        "laterality": side,
        "onset_date": _date(onset, onset_path, what="onset date"),
        "clinical_status": str(ClinicalStatus.ACTIVE if status in CONDITION_ACTIVE else ClinicalStatus.RESOLVED),
        "note": "\n".join(texts),
        "codes": code_tokens(resource.get("code")),
        "codings": sent_codings(resource.get("code"), f"{where}.code"),
    }
    if chronicity:
        values["chronicity"] = chronicity
    if prior:
        values["prior_treatments"] = prior
    derived = () if own else ("category",)
    return Mapped("Condition", "condition", values, subject=_reference(resource.get("subject")), derived=derived)


CONDITION_PATHS = {
    "description": "code",
    "body_region": "bodySite",
    "laterality": "bodySite",
    "onset_date": "onsetDateTime",
    "clinical_status": "clinicalStatus",
    "note": "note",
}


# --- AllergyIntolerance ------------------------------------------------------------------------------------------

SEVERITY_ORDER: dict[str, int] = {Severity.MILD: 1, Severity.MODERATE: 2, Severity.SEVERE: 3}


def own_reactions(reaction: str, severity: str) -> list[dict[str, Any]]:
    """The reaction ProloTrack serves from an allergy's own fields (mappers.allergy without sent reactions)."""
    return [{"manifestation": [{"text": reaction}], "severity": severity}] if reaction else []


def _allergy(resource: dict[str, Any], where: str) -> Mapped | Skip:
    verification = _status_code(resource.get("verificationStatus"))
    if verification in ("entered-in-error", "refuted"):
        return Skip("AllergyIntolerance", f"verificationStatus {verification}")
    clinical = _status_code(resource.get("clinicalStatus"))
    if clinical in ("inactive", "resolved"):
        return Skip("AllergyIntolerance", f"clinicalStatus {clinical}")
    substance = _concept_text(resource.get("code"))
    codes = code_tokens(resource.get("code"))
    if is_no_known_allergy(substance, codes):
        # "No known allergy" (SNOMED CT 716186003, 409137002, 428607008; "NKA", "NKDA") is a confirmation that the
        # patient was asked, never an allergy: the importer sets the chart's confirmation (docs/FHIR-IMPORT.md).
        return Mapped(
            "AllergyIntolerance",
            "no_known_allergies",
            {"substance": substance[:120], "codes": codes},
            subject=_reference(resource.get("patient")),
        )
    if not substance:
        raise InboundError([Issue("error", "required", "ProloTrack needs the substance (code).", f"{where}.code")])
    _limit(substance, 120, f"{where}.code", "substance")
    reactions = [r for r in resource.get("reaction") or [] if isinstance(r, dict)]
    manifestations: list[str] = []
    severities: list[str] = []
    for reaction in reactions:
        for concept in reaction.get("manifestation") or []:
            text = _concept_text(concept)
            if text and text not in manifestations:
                manifestations.append(text)
        if reaction.get("severity") in SEVERITY_ORDER:
            severities.append(reaction["severity"])
    notes = [_notes(resource)] if _notes(resource) else []
    derived: tuple[str, ...] = ("severity",)
    if severities:
        derived = ()
        severity = max(severities, key=lambda s: SEVERITY_ORDER[s])
    elif resource.get("criticality") == "low":
        severity = Severity.MILD
    elif resource.get("criticality") == "high":
        severity = Severity.SEVERE
    else:
        # Unknown severity is recorded as severe until a clinician reviews it: the cautious reading.
        severity = Severity.SEVERE
        notes.append("Severity not stated in the imported record; recorded as severe until reviewed.")
    reaction_text = "; ".join(manifestations)
    if len(reaction_text) > 200:
        reaction_text = reaction_text[:199] + "…"
    note = " ".join(notes)
    _limit(note, 200, f"{where}.note", "note")
    values = {
        "substance": substance,
        "reaction": reaction_text,
        "severity": str(severity),
        "note": note,
        "codes": codes,
        "codings": sent_codings(resource.get("code"), f"{where}.code"),
        # Served back as sent (manifestation codings, severity, substance...) while reaction and severity stand;
        # not kept when they are only what ProloTrack serves from those two fields (its own export coming back).
        "sent_reactions": [] if reactions == own_reactions(reaction_text, str(severity)) else reactions,
    }
    return Mapped("AllergyIntolerance", "allergy", values, subject=_reference(resource.get("patient")), derived=derived)


ALLERGY_PATHS = {
    "substance": "code", "reaction": "reaction", "severity": "reaction", "note": "note", "sent_reactions": "reaction",
}  # fmt: skip


# --- MedicationStatement -----------------------------------------------------------------------------------------

# A medication's class is read by domain/concepts.py (RxNorm ingredients, WHO ATC prefixes, ingredient and brand
# words, the aspirin dose rule), the one list screening also reads. A drug not listed is "other" and a clinician should
# review the list after an import.


def drug_class(concept: Any, name: str, category: Any = None) -> str:
    for coding in _codings(category):
        if coding.get("system") == CS_DRUG_CLASS and coding.get("code") in MedicationClass.values:
            return str(coding["code"])
    codings = _codings(concept)
    words = " ".join([name] + [c.get("display") or "" for c in codings])
    tokens = [concepts.token(str(c.get("system") or ""), str(c.get("code") or "")) for c in codings if c.get("code")]
    return str(concepts.medication_class(words, tokens).value)


MEDICATION_ACTIVE = {"active", "intended", "on-hold", "unknown"}
MEDICATION_STOPPED = {"completed", "stopped", "not-taken"}  # MedicationRequest: completed, stopped


def _dose_text(dosage: list[Any]) -> str:
    for item in dosage:
        if not isinstance(item, dict):
            continue
        if (item.get("text") or "").strip():
            return item["text"].strip()
        for dose_rate in item.get("doseAndRate") or []:
            quantity = dose_rate.get("doseQuantity") or {}
            if quantity.get("value") is not None:
                return f"{quantity['value']} {quantity.get('unit') or quantity.get('code') or ''}".strip()
    return ""


def contained(resource: dict[str, Any], reference: Any) -> dict[str, Any] | None:
    """The contained resource a local reference (`#med0309`) names, or None."""
    target = _reference(reference)
    if not target or not target.startswith("#"):
        return None
    for item in resource.get("contained") or []:
        if isinstance(item, dict) and item.get("id") == target[1:]:
            return item
    return None


def _medication(resource: dict[str, Any], where: str) -> Mapped | Skip:
    resource_type = resource.get("resourceType") or "MedicationStatement"
    status = resource.get("status") or "unknown"
    if status == "entered-in-error":
        return Skip(resource_type, "status entered-in-error")
    if resource_type == "MedicationRequest" and status in ("cancelled", "draft"):
        return Skip(resource_type, f"status {status}: an order never started is not on the medication list")
    concept = resource.get("medicationCodeableConcept")
    reference = resource.get("medicationReference")
    medication = contained(resource, reference)
    local = (_reference(reference) or "").startswith("#")
    if local and (medication is None or medication.get("resourceType") != "Medication"):
        raise InboundError(
            [
                Issue(
                    "error",
                    "not-found",
                    f"medicationReference {_reference(reference)} names no contained Medication.",
                    f"{where}.medicationReference",
                )
            ]
        )
    if medication is not None:
        concept = medication.get("code")
    name = _concept_text(concept)
    if not name and isinstance(reference, dict):
        name = (reference.get("display") or "").strip()
    if not name:
        raise InboundError(
            [
                Issue(
                    "error",
                    "required",
                    "ProloTrack needs the medicine's name: medicationCodeableConcept, or a medicationReference "
                    "with a display.",
                    f"{where}.medication",
                )
            ]
        )
    _limit(name, 120, f"{where}.medicationCodeableConcept", "medicine's name")
    dosage = resource.get("dosageInstruction" if resource_type == "MedicationRequest" else "dosage") or []
    dose = _dose_text(dosage)
    if len(dose) > 120:
        dose = dose[:119] + "…"
    period = resource.get("effectivePeriod") or {}
    stopped = status in MEDICATION_STOPPED
    # Dosage.asNeededBoolean (or an asNeeded reason): taken only when needed (PRN).
    as_needed = any(
        isinstance(d, dict) and (d.get("asNeededBoolean") is True or bool(d.get("asNeededCodeableConcept")))
        for d in dosage
    )
    last_dose = None
    own_last = next(
        (e.get("valueDate") for e in resource.get("extension") or [] if e.get("url") == EXT_LAST_DOSE), None
    )
    if own_last:
        last_dose = _date(own_last, f"{where}.extension")
    elif stopped:
        last_dose = _date(period.get("end") or resource.get("effectiveDateTime"), f"{where}.effectivePeriod.end")
    note = _notes(resource)
    _limit(note, 200, f"{where}.note", "note")
    values: dict[str, Any] = {
        "name": name,
        "drug_class": drug_class(concept, name, resource.get("category")),
        "dose": dose,
        "status": str(
            MedicationStatus.STOPPED
            if stopped
            else MedicationStatus.AS_NEEDED
            if as_needed
            else MedicationStatus.ACTIVE
        ),
        "last_dose_date": last_dose,
        "note": note,
        "codes": code_tokens(concept),
        "codings": sent_codings(concept, f"{where}.medicationCodeableConcept"),
    }
    notes = []
    if resource_type == "MedicationRequest":
        # Kept on the medication list (what screening reads) and served back as this MedicationRequest, with the
        # order's elements the chart has no field for (docs/FHIR-IMPORT.md, "MedicationStatement, MedicationRequest").
        values["sent_as"] = "MedicationRequest"
        values["sent_request"] = {
            key: resource[key] for key in ("intent", "status", "authoredOn") if isinstance(resource.get(key), str)
        }
        notes.append(
            Issue(
                "information",
                "informational",
                "A MedicationRequest is kept on the patient's medication list and served back as this "
                "MedicationRequest; a medicine already on the list is not changed by an order.",
                where,
            )
        )
    return Mapped(
        resource_type,
        "medication",
        values,
        subject=_reference(resource.get("subject")),
        notes=notes,
        fills_only=resource_type == "MedicationRequest",
    )


MEDICATION_PATHS = {
    "name": "medicationCodeableConcept",
    "drug_class": "medicationCodeableConcept",
    "dose": "dosage",
    "status": "status",
    "last_dose_date": "effectivePeriod",
    "note": "note",
}


# --- Observation -------------------------------------------------------------------------------------------------


def _observation(resource: dict[str, Any], where: str) -> Mapped | Skip:
    status = resource.get("status")
    code = resource.get("code")
    if status in ("entered-in-error", "cancelled"):
        return Skip("Observation", f"status {status}")
    subject = _reference(resource.get("subject"))
    if _has_code(code, LOINC, BODY_WEIGHT):
        return _weight(resource, where, subject)
    return _kept_observation(resource, where, subject)


def _weight(resource: dict[str, Any], where: str, subject: str | None) -> Mapped:
    effective = resource.get("effectiveDateTime") or (resource.get("effectivePeriod") or {}).get("start")
    effective = effective or resource.get("effectiveInstant") or resource.get("issued")
    when = _date(effective, f"{where}.effective", required=True, what="date of the observation")
    quantity = resource.get("valueQuantity")
    path = f"{where}.valueQuantity"
    if not isinstance(quantity, dict) or quantity.get("value") is None:
        raise InboundError([Issue("error", "required", "A body weight needs valueQuantity.", path)])
    unit = weight_unit(quantity)
    if unit is None:
        raise InboundError(
            [
                Issue(
                    "error",
                    "value",
                    f"Body weight in '{quantity.get('code') or quantity.get('unit')}' is not understood: "
                    "send UCUM kg, g or [lb_av].",
                    f"{path}.code",
                )
            ]
        )
    kg = weight_in_kg(quantity)
    if kg is None:
        raise InboundError([Issue("error", "value", "The weight is not a number.", f"{path}.value")])
    notes = []
    # A weight not in kg, or to more places than the registry's 0.1 kg, is kept as sent beside weight_kg (what doses
    # use) and served back as sent (mappers.weight_observation); one in kg to 0.1 kg is weight_kg itself.
    sent: dict[str, Any] = {}
    if unit != "kg" or Decimal(str(quantity["value"])) != kg:
        sent = {k: quantity[k] for k in ("value", "unit", "system", "code") if quantity.get(k) is not None}
        notes.append(
            Issue(
                "information",
                "informational",
                f"{quantity['value']} {unit} recorded as {kg} kg, served back as sent.",
                f"{path}",
            )
        )
    note = _limit(_notes(resource), 200, f"{where}.note", "note")
    return Mapped(
        "Observation",
        "weight",
        {"measured_on": when, "weight_kg": kg, "note": note, "sent_quantity": sent},
        subject=subject,
        notes=notes,
    )


# References an Observation's subject may hold that are not a patient: such an Observation is not on a patient's
# record, so it is skipped (reported), not refused.
NOT_PATIENT_SUBJECT = re.compile(r"^(?:.*/)?(Group|Device|Location|Organization|Practitioner|Medication|Substance)/")


def _tokens(concepts: list[Any]) -> str:
    """Every coding of the concepts as " system|code " (spaces in a code as %20), for token search."""
    tokens = []
    for concept in concepts:
        for c in _codings(concept):
            token = f"{c.get('system') or ''}|{c.get('code') or ''}".replace(" ", "%20")
            if c.get("code") and token not in tokens:
                tokens.append(token)
    return f" {' '.join(tokens)} " if tokens else ""


def _short(text: str, size: int = 200) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _value_text(resource: dict[str, Any]) -> str:
    """The value in words, for pages (the resource itself keeps it exactly)."""
    parts = []
    for holder in [resource, *(c for c in resource.get("component") or [] if isinstance(c, dict))]:
        label = "" if holder is resource else f"{_concept_text(holder.get('code'))}: "
        quantity = holder.get("valueQuantity")
        if isinstance(quantity, dict) and quantity.get("value") is not None:
            unit = quantity.get("unit") or quantity.get("code") or ""
            parts.append(f"{label}{quantity.get('comparator', '')}{quantity['value']} {unit}".strip())
        elif isinstance(holder.get("valueCodeableConcept"), dict):
            parts.append(label + _concept_text(holder["valueCodeableConcept"]))
        else:
            for name in ("valueString", "valueInteger", "valueBoolean", "valueDateTime", "valueTime"):
                if holder.get(name) is not None:
                    parts.append(f"{label}{holder[name]}")
                    break
    return _short("; ".join(p for p in parts if p))


def _kept_observation(resource: dict[str, Any], where: str, subject: str | None) -> Mapped | Skip:
    """Any other Observation: kept as it was sent (patients.Observation); a pain severity that is a whole number
    0-10 (LOINC 72514-3) is also the patient's pain NRS answer. Nothing is rounded or changed to fit."""
    if not subject:
        return Skip("Observation", "no subject: ProloTrack keeps observations on a patient's record")
    if NOT_PATIENT_SUBJECT.match(subject):
        return Skip("Observation", f"subject {subject} is not a patient")
    code = resource.get("code")
    stored = {k: v for k, v in resource.items() if k not in ("id", "meta")}
    meta = {k: v for k, v in (resource.get("meta") or {}).items() if k not in ("versionId", "lastUpdated")}
    if meta:
        stored["meta"] = meta
    effective: dict[str, Any] = {}
    if resource.get("effectiveDateTime") or resource.get("effectiveInstant"):
        effective = {"value": resource.get("effectiveDateTime") or resource.get("effectiveInstant")}
    elif isinstance(resource.get("effectivePeriod"), dict):
        period = resource["effectivePeriod"]
        if period.get("start") or period.get("end"):
            effective = {"start": period.get("start"), "end": period.get("end")}
    values: dict[str, Any] = {
        "status": str(resource.get("status") or "unknown"),
        "code_text": _short(_concept_text(code) or "(no code text)"),
        "code_tokens": _tokens([code]),
        "category_tokens": _tokens(list(resource.get("category") or [])),
        "value_text": _value_text(resource),
        "resource": stored,
    }
    notes: list[Issue] = []
    pain: dict[str, Any] | None = None
    if _has_code(code, LOINC, PAIN_NRS):
        pain, note = _pain_answer(resource, where)
        notes.append(note)
    return Mapped("Observation", "observation", values, subject=subject, notes=notes, effective=effective, pain=pain)


def _pain_answer(resource: dict[str, Any], where: str) -> tuple[dict[str, Any] | None, Issue]:
    """A 72514-3 Observation whose value is a whole number 0-10 is also a pain NRS answer; any other value is not
    (Synthea writes e.g. 0.18 or 3.0793): it is kept as the Observation only, never rounded."""
    value: Any = resource.get("valueInteger")
    path = f"{where}.valueInteger"
    if value is None and isinstance(resource.get("valueQuantity"), dict):
        value, path = resource["valueQuantity"].get("value"), f"{where}.valueQuantity.value"
    if value is None and resource.get("valueString") is not None:
        value, path = resource["valueString"], f"{where}.valueString"
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = None
    low, high = int(limits.PAIN_NRS.low), int(limits.PAIN_NRS.high)
    effective = resource.get("effectiveDateTime") or (resource.get("effectivePeriod") or {}).get("start")
    effective = effective or resource.get("effectiveInstant") or resource.get("issued")
    day = _date(effective, f"{where}.effective") if effective else None
    if (
        number is None
        or not number.is_finite()
        or number != number.to_integral_value()
        or not limits.PAIN_NRS.contains(number)
    ):
        return None, Issue(
            "information",
            "informational",
            f"LOINC 72514-3 value {value!r} at {path} is not a whole number from {low} to {high}, so it is not a "
            "pain NRS answer: kept as this Observation only, never rounded.",
            path,
        )
    if day is None:
        return None, Issue(
            "information",
            "informational",
            "A pain NRS value without a date (effective[x] or issued) is kept as this Observation only.",
            f"{where}.effective",
        )
    return {"authored_on": day, "score": int(number)}, Issue(
        "information",
        "informational",
        f"Kept as this Observation, and recorded as the patient's pain NRS answer ({int(number)}) for {day}.",
        where,
    )


WEIGHT_PATHS = {"measured_on": "effectiveDateTime", "weight_kg": "valueQuantity", "note": "note"}


# --- dispatch ----------------------------------------------------------------------------------------------------

MAPPERS = {
    "Patient": _patient,
    "Condition": _condition,
    "AllergyIntolerance": _allergy,
    "MedicationStatement": _medication,
    "MedicationRequest": _medication,
    "Observation": _observation,
}
FIELD_PATHS = {
    "patient": PATIENT_PATHS,
    "condition": CONDITION_PATHS,
    "allergy": ALLERGY_PATHS,
    "medication": MEDICATION_PATHS,
    "weight": WEIGHT_PATHS,
    "observation": {"resource": "", "status": "status", "code_text": "code"},
}


# Types the read side serves from ProloTrack's own records but an import does not create (docs/FHIR-IMPORT.md, "Types
# served but not imported"): taken in, each would read back as something it is not (another clinic's appendectomy as
# a prolotherapy session here, a hospital as this clinic). Skipped with this reason, never refused: a Synthea
# transaction holds them all, and its patients, conditions, allergies, medications and observations still get in.
SERVED_NOT_IMPORTED = {
    "Procedure": (
        "ProloTrack's Procedures are the prolotherapy sessions recorded in it; a procedure from another system would "
        "read back as a session that did not take place here"
    ),
    "CarePlan": (
        "ProloTrack's CarePlans are the treatment courses planned in it; a care plan from another system is not one "
        "of its courses"
    ),
    "DocumentReference": (
        "ProloTrack's DocumentReferences are the documents it generates (visit summaries, progress reports); a "
        "document from another system is not stored"
    ),
    "Practitioner": (
        "ProloTrack's Practitioners are the clinic's staff accounts, which the clinic's administrator adds; a "
        "practitioner from another system is not made staff (references to it are kept as written)"
    ),
    "Organization": (
        "ProloTrack's Organization is the clinic itself; an organization from another system is not kept "
        "(references to it are kept as written)"
    ),
}


def not_imported(resource_type: str) -> str:
    """Why a resource of a type without a mapper is skipped."""
    return SERVED_NOT_IMPORTED.get(resource_type, "not imported")


def map_resource(resource: dict[str, Any], where: str) -> Mapped | Skip:
    """Map a validated resource; Skip for a type or code ProloTrack does not keep. Raises InboundError."""
    resource_type = resource["resourceType"]
    mapper = MAPPERS.get(resource_type)
    if mapper is None:
        return Skip(resource_type, not_imported(resource_type))
    return mapper(resource, where)


def read(resource: Any, where: str) -> Mapped | Skip:
    """Validate then map one resource: the edge every import path goes through."""
    issues = validate(resource, where)
    if issues:
        raise InboundError(issues, status=400 if any(i.code == "structure" for i in issues) else 422)
    return map_resource(resource, where)


def field_path(kind: str, name: str, where: str) -> str:
    """The FHIR element behind a product field, for an error raised by the model's own validation."""
    element = FIELD_PATHS.get(kind, {}).get(name)
    return f"{where}.{element}" if element else where
