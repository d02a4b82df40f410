"""Model rows -> FHIR R4 resources, as plain dicts built directly (no model round-trips: this is the export's hot path).

Each mapper takes one row from `QuerySet.values(*FIELDS)` (the field list sits next to the mapper) and returns the
resource as a dict ready for orjson (UUIDs, dates and datetimes serialise natively; Decimals are turned into numbers
here). The tests validate every mapper's output with the fhir.resources R4B models; production does not, because the
output is built from trusted rows. Code systems and extensions are listed in docs/FHIR.md.
"""

import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.conf import settings

from prolotrack.domain import instruments
from prolotrack.domain.vocabulary import BodyRegion, Laterality
from prolotrack.fhir.questionnaire import answerable_items, to_questionnaire

# The product's own code systems and extensions live under one canonical base (docs/FHIR.md, "Code systems").
# The one canonical base of ProloTrack's own code systems, extensions, identifier systems and Questionnaires
# (docs/FHIR.md, "Code systems and extensions"): the setting PROLOTRACK_FHIR_CANONICAL_BASE, default below. inbound.py
# (the import side) reads the same codes back. Change it only before any export leaves the building: a re-import
# recognises its own codes by this base.
DEFAULT_BASE = "https://prolotrack.org/fhir"
BASE = str(
    getattr(settings, "PROLOTRACK_FHIR_CANONICAL_BASE", "")
    or os.environ.get("PROLOTRACK_FHIR_CANONICAL_BASE", "")
    or DEFAULT_BASE
).rstrip("/")
CS_PROCEDURE = f"{BASE}/CodeSystem/procedure"
CS_REGION = f"{BASE}/CodeSystem/body-region"
CS_LANDMARK = f"{BASE}/CodeSystem/landmark"
CS_AGENT = f"{BASE}/CodeSystem/agent"
CS_DRUG_CLASS = f"{BASE}/CodeSystem/drug-class"
CS_CONDITION_CATEGORY = f"{BASE}/CodeSystem/condition-category"
CS_SCREENING_FLAG = f"{BASE}/CodeSystem/screening-flag"
CS_INSTRUMENT = f"{BASE}/CodeSystem/instrument"
CS_ADVERSE_EVENT = f"{BASE}/CodeSystem/adverse-event-type"
CS_CARE_PLAN = f"{BASE}/CodeSystem/care-plan-category"
CS_PROCEDURE_CATEGORY = f"{BASE}/CodeSystem/procedure-category"
CS_ROUTE = f"{BASE}/CodeSystem/route"
CS_GUIDANCE = f"{BASE}/CodeSystem/guidance"
CS_RESPONSE_SOURCE = f"{BASE}/CodeSystem/response-source"
CS_APPOINTMENT_KIND = f"{BASE}/CodeSystem/appointment-kind"
EXT_LATERALITY = f"{BASE}/StructureDefinition/laterality"
EXT_MAP_POSITION = f"{BASE}/StructureDefinition/map-position"
EXT_INGREDIENT_LOT = f"{BASE}/StructureDefinition/ingredient-lot"
EXT_LAST_DOSE = f"{BASE}/StructureDefinition/last-dose-date"
EXT_BODY_STRUCTURE = f"{BASE}/StructureDefinition/body-structure"
EXT_NEEDLE_GAUGE = f"{BASE}/StructureDefinition/needle-gauge"
EXT_DEPTH = f"{BASE}/StructureDefinition/injection-depth"
EXT_LOT = f"{BASE}/StructureDefinition/lot-number"
EXT_RESPONSE_SOURCE = f"{BASE}/StructureDefinition/response-source"
EXT_TARGET_BODY_STRUCTURE = "http://hl7.org/fhir/StructureDefinition/procedure-targetBodyStructure"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
THO = "http://terminology.hl7.org/CodeSystem"
US_CORE_CS = "http://hl7.org/fhir/us/core/CodeSystem"  # US Core 3.1.1 (R4) code systems


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"system": system, "code": code}
    if display:
        c["display"] = display
    return c


def concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    cc: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if text:
        cc["text"] = text
    return cc


def ref(kind: str, uuid: Any) -> dict[str, str]:
    return {"reference": f"{kind}/{uuid}"}


def meta(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"versionId": str(row["version"]), "lastUpdated": row["updated_at"]}


def num(value: Any) -> Any:
    """A Decimal as a JSON number (int when whole, so 20 stays 20 rather than 20.0)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and value.is_integer():  # SQLite hands decimals back as floats (raw rows)
        return int(value)
    return value


def quantity(value: Any, unit: str, code: str | None = None) -> dict[str, Any]:
    return {"value": num(value), "unit": unit, "system": UCUM, "code": code or unit}


# Body weight units understood on import, as kg per unit (1 [lb_av] = 0.45359237 kg exactly, the international
# avoirdupois pound), and the unit a sent quantity is in (UCUM code, else the unit text lb/lbs/kg/g).
LB_TO_KG = Decimal("0.45359237")
KG_UNITS = {"kg": Decimal(1), "g": Decimal("0.001"), "[lb_av]": LB_TO_KG}


def weight_unit(sent: Mapping[str, Any]) -> str | None:
    unit = sent.get("code") if sent.get("system") == UCUM else None
    unit = unit or {"lb": "[lb_av]", "lbs": "[lb_av]"}.get(str(sent.get("unit") or ""))
    unit = unit or (sent.get("unit") if sent.get("unit") in KG_UNITS else None)
    return unit if unit in KG_UNITS else None


def weight_in_kg(sent: Mapping[str, Any]) -> Decimal | None:
    """A sent body weight quantity in kg to 0.1 kg (the registry's precision), or None if not a weight."""
    unit = weight_unit(sent)
    if unit is None or sent.get("value") is None or isinstance(sent.get("value"), bool):
        return None
    try:
        return (Decimal(str(sent["value"])) * KG_UNITS[unit]).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None


def codings_sent(r: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The codings an import kept on the record, as sent (system, code, display)."""
    return [dict(c) for c in r.get("codings") or []]


def notes(*texts: str) -> list[dict[str, str]]:
    return [{"text": t} for t in texts if t]


def _eie(row: Mapping[str, Any]) -> bool:
    return row["entered_in_error_at"] is not None


# ---------------------------------------------------------------- codes shared by several resources

REGION_LABELS = BodyRegion.label_map
# SNOMED CT laterality qualifiers (the values of the BodyStructure locationQualifier and our laterality extension).
LATERALITY = {
    "left": coding(SNOMED, "7771000", "Left"),
    "right": coding(SNOMED, "24028007", "Right"),
    "bilateral": coding(SNOMED, "51440002", "Right and left"),
}
SIDE_WORDS = {code: label.lower() for code, label in Laterality.label_map.items() if code != Laterality.NOT_APPLICABLE}


def body_site(region: str, side: str) -> dict[str, Any]:
    """A body region with its side: local region code, text, and the SNOMED laterality as an extension."""
    label = REGION_LABELS.get(region, region)
    word = SIDE_WORDS.get(side)
    site: dict[str, Any] = {
        "coding": [coding(CS_REGION, region, label)],
        "text": f"{label}, {word}" if word else label,
    }
    lat = LATERALITY.get(side)
    if lat is not None:
        site["extension"] = [{"url": EXT_LATERALITY, "valueCoding": lat}]
    return site


# ---------------------------------------------------------------- Patient

PATIENT_FIELDS = (
    "id", "uuid", "version", "updated_at", "entered_in_error_at", "clinic__uuid", "mrn", "given_name", "family_name",
    "date_of_birth", "sex", "email", "phone", "address_line", "city", "region", "postal_code", "country",
)  # fmt: skip
MR_TYPE = concept(V2_0203, "MR", "Medical record number")


def mrn_system(clinic_uuid: Any) -> str:
    return f"{BASE}/clinic/{clinic_uuid}/mrn"


def patient(r: Mapping[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": r["uuid"],
        "meta": meta(r),
        "identifier": [{"use": "usual", "type": MR_TYPE, "system": mrn_system(r["clinic__uuid"]), "value": r["mrn"]}],
        "active": r["entered_in_error_at"] is None,
        "name": [{"use": "official", "family": r["family_name"], "given": [r["given_name"]]}],
        "gender": r["sex"],
        "birthDate": r["date_of_birth"],
        "managingOrganization": ref("Organization", r["clinic__uuid"]),
    }
    telecom = []
    if r["phone"]:
        telecom.append({"system": "phone", "value": r["phone"]})
    if r["email"]:
        telecom.append({"system": "email", "value": r["email"]})
    if telecom:
        res["telecom"] = telecom
    if r["address_line"] or r["city"] or r["postal_code"]:
        address: dict[str, Any] = {}
        if r["address_line"]:
            address["line"] = [r["address_line"]]
        for key, field in (
            ("city", "city"),
            ("state", "region"),
            ("postalCode", "postal_code"),
            ("country", "country"),
        ):
            if r[field]:
                address[key] = r[field]
        res["address"] = [address]
    return res


# ---------------------------------------------------------------- Organization, Practitioner

ORGANIZATION_FIELDS = ("id", "uuid", "name", "created_at")


def organization(r: Mapping[str, Any]) -> dict[str, Any]:
    # A clinic is not versioned: version 1, last updated when created.
    return {
        "resourceType": "Organization",
        "id": r["uuid"],
        "meta": {"versionId": "1", "lastUpdated": r["created_at"]},
        "active": True,
        "type": [concept(f"{THO}/organization-type", "prov", "Healthcare Provider")],
        "name": r["name"],
    }


PRACTITIONER_FIELDS = (
    "id", "user__uuid", "user__first_name", "user__last_name", "user__username", "is_active", "created_at", "role",
)  # fmt: skip


def practitioner(r: Mapping[str, Any]) -> dict[str, Any]:
    name: dict[str, Any] = {"text": " ".join(p for p in (r["user__first_name"], r["user__last_name"]) if p)}
    if r["user__last_name"]:
        name["family"] = r["user__last_name"]
    if r["user__first_name"]:
        name["given"] = [r["user__first_name"]]
    if not name["text"]:
        name["text"] = r["user__username"]
    return {
        "resourceType": "Practitioner",
        "id": r["user__uuid"],
        "meta": {"versionId": "1", "lastUpdated": r["created_at"]},
        "active": r["is_active"],
        "name": [name],
    }


# ---------------------------------------------------------------- Condition, AllergyIntolerance, MedicationStatement

CLINICAL_FIELDS = ("id", "uuid", "version", "updated_at", "created_at", "entered_in_error_at", "patient__uuid")
CONDITION_FIELDS = (
    *CLINICAL_FIELDS, "category", "description", "screening_flag", "body_region", "laterality", "onset_date",
    "chronicity", "clinical_status", "prior_treatments", "note", "codings",
)  # fmt: skip
CONFIRMED = concept(f"{THO}/condition-ver-status", "confirmed")
CONDITION_EIE = concept(f"{THO}/condition-ver-status", "entered-in-error")
CONDITION_CLINICAL = {c: concept(f"{THO}/condition-clinical", c) for c in ("active", "resolved")}
CONDITION_CATEGORY = {
    "complaint": {
        "coding": [
            coding(f"{THO}/condition-category", "problem-list-item", "Problem List Item"),
            coding(CS_CONDITION_CATEGORY, "complaint", "Presenting complaint"),
        ]
    },
    "comorbidity": {
        "coding": [
            coding(f"{THO}/condition-category", "problem-list-item", "Problem List Item"),
            coding(CS_CONDITION_CATEGORY, "comorbidity", "Other condition"),
        ]
    },
}


def condition(r: Mapping[str, Any]) -> dict[str, Any]:
    eie = _eie(r)
    code: dict[str, Any] = {"text": r["description"]}
    sent = codings_sent(r)
    if r["screening_flag"]:
        sent.append(coding(CS_SCREENING_FLAG, r["screening_flag"]))
    if sent:
        code["coding"] = sent
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": r["uuid"],
        "meta": meta(r),
        # con-5: no clinicalStatus on a condition entered in error.
        **({} if eie else {"clinicalStatus": CONDITION_CLINICAL[r["clinical_status"]]}),
        "verificationStatus": CONDITION_EIE if eie else CONFIRMED,
        "category": [CONDITION_CATEGORY[r["category"]]],
        "code": code,
        "subject": ref("Patient", r["patient__uuid"]),
        "recordedDate": r["created_at"],
    }
    if r["body_region"]:
        res["bodySite"] = [body_site(r["body_region"], r["laterality"])]
    if r["onset_date"]:
        res["onsetDateTime"] = r["onset_date"]
    note = notes(
        f"Chronicity: {r['chronicity']}." if r["chronicity"] else "",
        f"Prior treatments: {r['prior_treatments']}" if r["prior_treatments"] else "",
        r["note"],
    )
    if note:
        res["note"] = note
    return res


ALLERGY_FIELDS = (*CLINICAL_FIELDS, "substance", "reaction", "severity", "note", "codings", "sent_reactions")
ALLERGY_ACTIVE = concept(f"{THO}/allergyintolerance-clinical", "active")
ALLERGY_CONFIRMED = concept(f"{THO}/allergyintolerance-verification", "confirmed")
ALLERGY_EIE = concept(f"{THO}/allergyintolerance-verification", "entered-in-error")


def allergy(r: Mapping[str, Any]) -> dict[str, Any]:
    eie = _eie(r)
    res: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": r["uuid"],
        "meta": meta(r),
        **({} if eie else {"clinicalStatus": ALLERGY_ACTIVE}),
        "verificationStatus": ALLERGY_EIE if eie else ALLERGY_CONFIRMED,
        "criticality": "high" if r["severity"] == "severe" else "low",
        "code": {"text": r["substance"], **({"coding": codings_sent(r)} if r.get("codings") else {})},
        "patient": ref("Patient", r["patient__uuid"]),
        "recordedDate": r["created_at"],
    }
    if r.get("sent_reactions"):  # as another system sent them (manifestation codings, severity...)
        res["reaction"] = [dict(reaction) for reaction in r["sent_reactions"]]
    elif r["reaction"]:
        res["reaction"] = [{"manifestation": [{"text": r["reaction"]}], "severity": r["severity"]}]
    if r["note"]:
        res["note"] = notes(r["note"])
    return res


MEDICATION_STATEMENT_FIELDS = (
    *CLINICAL_FIELDS, "name", "drug_class", "dose", "status", "last_dose_date", "note", "codings",
)  # fmt: skip
MEDICATION_REQUEST_FIELDS = (*MEDICATION_STATEMENT_FIELDS, "sent_request")
DRUG_CLASS_LABELS = {
    "nsaid": "NSAID",
    "anticoagulant": "Anticoagulant",
    "antiplatelet": "Antiplatelet",
    "corticosteroid": "Corticosteroid",
    "other": "Other",
}
DRUG_CLASS = {k: concept(CS_DRUG_CLASS, k, v) for k, v in DRUG_CLASS_LABELS.items()}


def medication_statement(r: Mapping[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": r["uuid"],
        "meta": meta(r),
        # Taking as needed is still taking: active, with Dosage.asNeededBoolean (the import reads it back as such).
        "status": "entered-in-error" if _eie(r) else ("stopped" if r["status"] == "stopped" else "active"),
        "category": DRUG_CLASS[r["drug_class"]],
        "medicationCodeableConcept": {"text": r["name"], **({"coding": codings_sent(r)} if r.get("codings") else {})},
        "subject": ref("Patient", r["patient__uuid"]),
        "dateAsserted": r["created_at"],
    }
    dosage = {"text": r["dose"]} if r["dose"] else {}
    if r["status"] == "as_needed":
        dosage["asNeededBoolean"] = True
    if dosage:
        res["dosage"] = [dosage]
    if r["last_dose_date"]:
        res["extension"] = [{"url": EXT_LAST_DOSE, "valueDate": r["last_dose_date"]}]
    if r["note"]:
        res["note"] = notes(r["note"])
    return res


REQUEST_STOPPED = {"completed", "stopped"}  # the request statuses the import reads as stopped (inbound.py)


def medication_request(r: Mapping[str, Any]) -> dict[str, Any]:
    """A medication that came in as an order: served back as that MedicationRequest (intent, status and authoredOn
    as sent while the chart's status still says what the sent status did; else the status from the chart)."""
    sent = r.get("sent_request") or {}
    sent_status = sent.get("status")
    if _eie(r):
        status = "entered-in-error"
    elif sent_status and (sent_status in REQUEST_STOPPED) == (r["status"] == "stopped"):
        status = sent_status
    else:
        status = "stopped" if r["status"] == "stopped" else "active"
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": r["uuid"],
        "meta": meta(r),
        "status": status,
        "intent": sent.get("intent") or "order",
        "category": [DRUG_CLASS[r["drug_class"]]],
        "medicationCodeableConcept": {"text": r["name"], **({"coding": codings_sent(r)} if r.get("codings") else {})},
        "subject": ref("Patient", r["patient__uuid"]),
    }
    if sent.get("authoredOn"):
        res["authoredOn"] = sent["authoredOn"]
    instruction = {"text": r["dose"]} if r["dose"] else {}
    if r["status"] == "as_needed":
        instruction["asNeededBoolean"] = True
    if instruction:
        res["dosageInstruction"] = [instruction]
    if r["last_dose_date"]:
        res["extension"] = [{"url": EXT_LAST_DOSE, "valueDate": r["last_dose_date"]}]
    if r["note"]:
        res["note"] = notes(r["note"])
    return res


# ---------------------------------------------------------------- Observation (weights; instrument scores)

WEIGHT_FIELDS = (*CLINICAL_FIELDS, "measured_on", "weight_kg", "note", "sent_quantity")
VITAL_SIGNS = [concept(f"{THO}/observation-category", "vital-signs", "Vital Signs")]
SURVEY = [concept(f"{THO}/observation-category", "survey", "Survey")]
BODY_WEIGHT = concept(LOINC, "29463-7", "Body weight", text="Body weight")


def weight_observation(r: Mapping[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": r["uuid"],
        "meta": meta(r),
        "status": "entered-in-error" if _eie(r) else "final",
        "category": VITAL_SIGNS,
        "code": BODY_WEIGHT,
        "subject": ref("Patient", r["patient__uuid"]),
        "effectiveDateTime": r["measured_on"],
        "valueQuantity": quantity(r["weight_kg"], "kg"),
    }
    sent = r.get("sent_quantity") or {}
    if sent and weight_in_kg(sent) == Decimal(str(r["weight_kg"])):
        # Sent in another unit (pounds, grams) or to more places than 0.1 kg: served back as sent while it is still
        # the weight recorded (weight_kg, what doses use); a weight edited since reads in kg.
        res["valueQuantity"] = dict(sent)
    if r["note"]:
        res["note"] = notes(r["note"])
    return res


RESPONSE_FIELDS = (
    *CLINICAL_FIELDS, "course__uuid", "instrument", "status", "answers", "score", "subscores", "authored_on",
    "completed_at", "source",
)  # fmt: skip
# LOINC codes of the instruments that have one in the product (DOMAIN.md §8, domain/scoring.py notes).
INSTRUMENT_LOINC = {
    "nrs_pain": coding(LOINC, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
}


def instrument_code(code: str) -> dict[str, Any]:
    codings = []
    if code in INSTRUMENT_LOINC:
        codings.append(INSTRUMENT_LOINC[code])
    codings.append(coding(CS_INSTRUMENT, code))
    return {"coding": codings, "text": code}


_INSTRUMENT_CODES: dict[str, dict[str, Any]] = {}


def _instrument_code(code: str) -> dict[str, Any]:
    found = _INSTRUMENT_CODES.get(code)
    if found is None:
        found = _INSTRUMENT_CODES[code] = instrument_code(code)
    return found


def score_observation(r: Mapping[str, Any]) -> dict[str, Any]:
    """The score of a completed questionnaire response as an Observation (same id as the response)."""
    return {
        "resourceType": "Observation",
        "id": r["uuid"],
        "meta": meta(r),
        "status": "entered-in-error" if _eie(r) else "final",
        "category": SURVEY,
        "code": _instrument_code(r["instrument"]),
        "subject": ref("Patient", r["patient__uuid"]),
        "effectiveDateTime": r["authored_on"],
        "valueQuantity": quantity(r["score"], "{score}"),
        "derivedFrom": [ref("QuestionnaireResponse", r["uuid"])],
    }


# Observations received from another system and kept as sent (patients.Observation): served back as they came.
KEPT_OBSERVATION_FIELDS = (*CLINICAL_FIELDS, "status", "resource")


def kept_observation(r: Mapping[str, Any]) -> dict[str, Any]:
    """The Observation as it was received: its own elements unchanged; id, meta.versionId and meta.lastUpdated are
    ProloTrack's, the subject points at the ProloTrack patient, and the status says entered-in-error once marked."""
    sent = r["resource"]
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": r["uuid"],
        "meta": {**(sent.get("meta") or {}), **meta(r)},
    }
    for name, value in sent.items():
        if name not in ("resourceType", "id", "meta"):
            res[name] = value
    res["status"] = "entered-in-error" if _eie(r) else r["status"]
    res["subject"] = {**(sent.get("subject") or {}), "reference": f"Patient/{r['patient__uuid']}"}
    return res


def questionnaire_id(instrument: str) -> str:
    """FHIR ids take no underscore: nrs_pain -> nrs-pain."""
    return instrument.replace("_", "-")


# The product's Questionnaires and their answer codes under the one canonical base (BASE): domain.instruments
# writes its own placeholder host, replaced here so every exported URL and system shares the base (docs/FHIR.md).
CS_ANSWER = f"{BASE}/CodeSystem/answer"


def questionnaire_url(instrument: str) -> str:
    return f"{BASE}/Questionnaire/{instrument}"


@lru_cache(maxsize=64)
def _questionnaire_items(instrument: str) -> tuple[tuple[str, str, tuple[tuple[str, dict[str, Any]], ...]], ...]:
    """(group linkId or "", its item linkIds with type and options) in the Questionnaire's order, for building a
    response that matches it."""
    if instrument not in instruments.DEFINITIONS:
        return ()
    out: list[tuple[str, str, tuple[tuple[str, dict[str, Any]], ...]]] = []
    for item in questionnaire(instrument)["item"]:
        if item["type"] == "group":
            out.append((item["linkId"], item.get("text", ""), tuple((i["linkId"], i) for i in item["item"])))
        else:
            out.append(("", "", ((item["linkId"], item),)))
    return tuple(out)


def _typed_answer(value: Any, item: Mapping[str, Any]) -> dict[str, Any] | None:
    """One answer as its Questionnaire item says: a choice as its answerOption's valueCoding (code = the stored
    value), an integer as valueInteger, a decimal as valueDecimal, a boolean as valueBoolean."""
    kind = item.get("type")
    if kind == "choice":
        for option in item.get("answerOption") or []:
            found = option.get("valueCoding") or {}
            if found.get("code") == str(value if not isinstance(value, bool) else int(value)):
                return {"valueCoding": dict(found)}
        return None  # a value the instrument does not offer: left out (the response says so by its absence)
    if kind == "integer" and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if value == int(value):
            return {"valueInteger": int(value)}
        return None
    if kind == "decimal" and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return {"valueDecimal": num(Decimal(str(value)))}
    if kind == "boolean" and isinstance(value, bool):
        return {"valueBoolean": value}
    return _answer(value)


def _answer(value: Any) -> dict[str, Any] | None:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float | Decimal):
        return {"valueDecimal": num(value) if isinstance(value, Decimal) else value}
    if isinstance(value, str):
        return {"valueString": value} if value else None
    return None


def questionnaire_response(r: Mapping[str, Any]) -> dict[str, Any]:
    status = "entered-in-error" if _eie(r) else ("completed" if r["status"] == "completed" else "in-progress")
    res: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": r["uuid"],
        "meta": meta(r),
        "questionnaire": questionnaire_url(r["instrument"]),
        "status": status,
        "subject": ref("Patient", r["patient__uuid"]),
        "authored": r["completed_at"] or r["authored_on"],
        "extension": [{"url": EXT_RESPONSE_SOURCE, "valueCoding": coding(CS_RESPONSE_SOURCE, r["source"])}],
    }
    if r["course__uuid"]:
        res["basedOn"] = [ref("CarePlan", r["course__uuid"])]
    items = _response_items(r["instrument"], r["answers"] or {})
    if items:
        res["item"] = items
    return res


def _response_items(instrument: str, stored: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The answers nested and typed as the instrument's Questionnaire has its items (groups, linkIds, choice as
    valueCoding), in its order; an item with no usable answer is left out (FHIR: no empty answer lists)."""
    structure = _questionnaire_items(instrument)
    if not structure:  # an instrument this build does not know: the stored answers as they are
        out = []
        for link_id, value in stored.items():
            answers = [a for a in (_answer(v) for v in (value if isinstance(value, list) else [value])) if a]
            if answers:
                out.append({"linkId": str(link_id), "answer": answers})
        return out
    out = []
    for group, text, members in structure:
        answered = []
        for link_id, item in members:
            if link_id not in stored or stored[link_id] is None:
                continue
            values = stored[link_id] if isinstance(stored[link_id], list) else [stored[link_id]]
            answers = [a for a in (_typed_answer(v, item) for v in values) if a is not None]
            if answers:
                answered.append({"linkId": link_id, "answer": answers})
        if not answered:
            continue
        if group:
            block: dict[str, Any] = {"linkId": group, "item": answered}
            if text:
                block["text"] = text
            out.append(block)
        else:
            out.extend(answered)
    return out


# ---------------------------------------------------------------- Questionnaire (fhir/questionnaire.py)


def questionnaire(code: str) -> dict[str, Any]:
    """An instrument as a Questionnaire (fhir/questionnaire.py: items; licensed item texts are not shipped)."""
    res = to_questionnaire(code)
    res["url"] = questionnaire_url(code)
    for item in answerable_items(res["item"]):
        for option in item.get("answerOption") or []:
            if "valueCoding" in option:
                option["valueCoding"]["system"] = CS_ANSWER
    res["meta"] = {"versionId": "1"}
    res["subjectType"] = ["Patient"]
    res["code"] = [INSTRUMENT_LOINC.get(code) or coding(CS_INSTRUMENT, code)]
    return res


# ---------------------------------------------------------------- CarePlan (course), Appointment and Procedure (session)

COURSE_FIELDS = (
    *CLINICAL_FIELDS, "protocol_id", "protocol_name", "indication", "region", "side", "status", "stop_reason",
    "started_on", "clinician__uuid", "note",
)  # fmt: skip
CARE_PLAN_STATUS = {"open": "active", "completed": "completed", "stopped": "revoked"}
# US Core CarePlan requires category assess-plan ("Assessment and Plan of Treatment", US Core 3.1.1 CarePlan
# profile, careplan-category CodeSystem); ProloTrack's own category says which kind of plan.
CARE_PLAN_CATEGORY = [
    concept(f"{US_CORE_CS}/careplan-category", "assess-plan", "Assessment and Plan of Treatment"),
    concept(CS_CARE_PLAN, "prolotherapy-course", "Course of prolotherapy"),
]


def care_plan(r: Mapping[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": r["uuid"],
        "meta": meta(r),
        "status": "entered-in-error" if _eie(r) else CARE_PLAN_STATUS[r["status"]],
        "intent": "plan",
        "category": CARE_PLAN_CATEGORY,
        "title": r["protocol_name"] or r["indication"],
        "description": f"{r['indication']} ({body_site(r['region'], r['side'])['text']})",
        "subject": ref("Patient", r["patient__uuid"]),
        "period": {"start": r["started_on"]},
        "created": r["created_at"],
    }
    if r["clinician__uuid"]:
        res["author"] = ref("Practitioner", r["clinician__uuid"])
    if r["protocol_id"]:
        res["instantiatesUri"] = [f"{BASE}/protocol/{r['protocol_id']}"]
    note = notes(r["note"], f"Stopped: {r['stop_reason']}" if r["stop_reason"] else "")
    if note:
        res["note"] = note
    return res


SESSION_FIELDS = (
    *CLINICAL_FIELDS, "course__uuid", "course__region", "course__side", "number", "planned_on", "starts_at",
    "duration_minutes", "clinician__uuid", "signed_by__uuid", "status", "status_reason", "vasovagal", "bleeding",
    "last_signs", "observation_note", "note", "signed_at",
)  # fmt: skip
APPOINTMENT_STATUS = {
    "planned": "proposed",
    "booked": "booked",
    "done": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}
SERVICE_TYPE = [concept(CS_PROCEDURE, "prolotherapy", "Prolotherapy")]


def appointment(r: Mapping[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": r["uuid"],
        "meta": meta(r),
        "status": "entered-in-error" if _eie(r) else APPOINTMENT_STATUS[r["status"]],
        "serviceType": SERVICE_TYPE,
        "description": f"Prolotherapy session {r['number']}",
        "participant": [{"actor": ref("Patient", r["patient__uuid"]), "required": "required", "status": "accepted"}],
    }
    if r["starts_at"]:
        starts = r["starts_at"]
        if isinstance(starts, str):  # the export's raw rows (Source.fetch_raw)
            starts = datetime.fromisoformat(starts)
        res["start"] = starts
        res["end"] = starts + timedelta(minutes=r["duration_minutes"])
        res["minutesDuration"] = r["duration_minutes"]
    else:
        res["requestedPeriod"] = [{"start": r["planned_on"], "end": r["planned_on"]}]
    if r["clinician__uuid"]:
        res["participant"].append({"actor": ref("Practitioner", r["clinician__uuid"]), "status": "accepted"})
    if r["status"] in ("cancelled", "no_show") and r["status_reason"]:
        res["cancelationReason"] = {"text": r["status_reason"]}
    return res


# --- The booking app (docs/FHIR.md, "Appointments, schedules and free slots") --------------------------------------

APPOINTMENT_KINDS = {
    "assessment": "New-patient assessment",
    "session": "Prolotherapy session",
    "follow_up": "Follow-up",
}
V2_0276 = f"{THO}/v2-0276"  # appointment reason codes (R4 Appointment.appointmentType, preferred binding)
V3_PARTICIPATION = f"{THO}/v3-ParticipationType"
BOOKED_STATUS = {"booked": "booked", "attended": "fulfilled", "cancelled": "cancelled", "no_show": "noshow"}
# A person who booked online and is not confirmed by the front desk yet has no Patient resource: the participant
# names no one (no name, no reference) until the front desk confirms or merges them (docs/FHIR.md).
PENDING_PERSON = "A person who booked online, not yet confirmed as a patient"


def service_type(kind: str, name: str) -> list[dict[str, Any]]:
    """An appointment type as Appointment/Schedule/Slot.serviceType: its kind as ProloTrack's code, its name as text."""
    return [concept(CS_APPOINTMENT_KIND, kind, APPOINTMENT_KINDS.get(kind), name)]


BOOKING_APPOINTMENT_FIELDS = (
    *CLINICAL_FIELDS, "appointment_type__name", "appointment_type__kind", "clinician__uuid", "room__name",
    "starts_at", "duration_minutes", "status", "status_reason",
)  # fmt: skip


def booked_appointment(r: Mapping[str, Any]) -> dict[str, Any]:
    """An appointment of the booking app (an assessment, a follow-up; not a course session)."""
    starts = r["starts_at"]
    if isinstance(starts, str):  # the export's raw rows (Source.fetch_raw)
        starts = datetime.fromisoformat(starts)
    follow_up = r["appointment_type__kind"] == "follow_up"
    if r["patient__uuid"]:
        person: dict[str, Any] = {"actor": ref("Patient", r["patient__uuid"])}
    else:
        person = {"actor": {"display": PENDING_PERSON}}
    participants = [
        {**person, "required": "required", "status": "accepted"},
        {"actor": ref("Practitioner", r["clinician__uuid"]), "required": "required", "status": "accepted"},
    ]
    if r["room__name"]:
        participants.append(
            {
                "type": [concept(V3_PARTICIPATION, "LOC", "location")],
                "actor": {"display": r["room__name"]},
                "status": "accepted",
            }
        )
    res: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": r["uuid"],
        "meta": meta(r),
        "status": "entered-in-error" if _eie(r) else BOOKED_STATUS[r["status"]],
        "serviceType": service_type(r["appointment_type__kind"], r["appointment_type__name"]),
        "appointmentType": concept(V2_0276, "FOLLOWUP" if follow_up else "ROUTINE"),
        "description": r["appointment_type__name"],
        "start": starts,
        "end": starts + timedelta(minutes=r["duration_minutes"]),
        "minutesDuration": r["duration_minutes"],
        "created": r["created_at"],
        "participant": participants,
    }
    if r["status"] in ("cancelled", "no_show") and r["status_reason"]:
        res["cancelationReason"] = {"text": r["status_reason"]}
    return res


SCHEDULE_FIELDS = (
    "id", "uuid", "version", "updated_at", "active", "appointment_type__uuid", "appointment_type__name",
    "appointment_type__kind", "appointment_type__active", "clinician__uuid", "clinician__first_name",
    "clinician__last_name", "clinician__username",
)  # fmt: skip


def schedule(r: Mapping[str, Any]) -> dict[str, Any]:
    """Who offers which appointment type (booking.TypeClinician) as a Schedule: its free slots are `Slot`s."""
    who = " ".join(p for p in (r["clinician__first_name"], r["clinician__last_name"]) if p) or r["clinician__username"]
    return {
        "resourceType": "Schedule",
        "id": r["uuid"],
        "meta": meta(r),
        "active": bool(r["active"] and r["appointment_type__active"]),
        "serviceType": service_type(r["appointment_type__kind"], r["appointment_type__name"]),
        "actor": [{**ref("Practitioner", r["clinician__uuid"]), "display": who}],
        "comment": f"{r['appointment_type__name']} with {who}. Free slots: Slot?schedule=Schedule/{r['uuid']}",
    }


def slot(slot_id: str, schedule_uuid: Any, kind: str, type_name: str, start: datetime, end: datetime) -> dict[str, Any]:
    """A free slot (computed from the working hours, not a row: docs/FHIR.md)."""
    return {
        "resourceType": "Slot",
        "id": slot_id,
        "schedule": ref("Schedule", schedule_uuid),
        "serviceType": service_type(kind, type_name),
        "status": "free",
        "start": start,
        "end": end,
    }


PROLOTHERAPY_CODE = {
    "coding": [coding(CS_PROCEDURE, "prolotherapy", "Prolotherapy"), coding(HCPCS, "M0076", "Prolotherapy")],
    "text": "Prolotherapy",
}
# R4's procedure-category value set is an example binding (SNOMED CT: surgical, diagnostic, counselling...) with no
# concept for an injection therapy: ProloTrack's own category until a terminologist reviews a SNOMED CT choice.
PROCEDURE_CATEGORY = concept(CS_PROCEDURE_CATEGORY, "therapeutic-injection", "Therapeutic injection")
PROCEDURE_STATUS = {
    "planned": "preparation",
    "booked": "preparation",
    "done": "completed",
    "cancelled": "not-done",
    "no_show": "not-done",
}
COMPLICATIONS = (
    ("vasovagal", "Vasovagal reaction"),
    ("bleeding", "Bleeding"),
    ("last_signs", "Signs of local anaesthetic systemic toxicity"),
)


def procedure(r: Mapping[str, Any], site_uuids: list[Any] | None = None) -> dict[str, Any]:
    """One session as a Procedure; `site_uuids` are the session's injection sites (BodyStructure ids)."""
    res: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": r["uuid"],
        "meta": meta(r),
        "status": "entered-in-error" if _eie(r) else PROCEDURE_STATUS[r["status"]],
        "category": PROCEDURE_CATEGORY,
        "code": PROLOTHERAPY_CODE,
        "subject": ref("Patient", r["patient__uuid"]),
        "basedOn": [ref("CarePlan", r["course__uuid"])],
        "bodySite": [body_site(r["course__region"], r["course__side"])],
    }
    if r["status"] == "done":
        res["performedDateTime"] = r["starts_at"] or r["planned_on"]
    elif r["status"] in ("cancelled", "no_show"):
        res["statusReason"] = {"text": r["status_reason"] or ("No-show" if r["status"] == "no_show" else "Cancelled")}
    performer = r["signed_by__uuid"] or r["clinician__uuid"]
    if performer:
        res["performer"] = [{"actor": ref("Practitioner", performer)}]
    complications = [{"text": label} for field, label in COMPLICATIONS if r[field]]
    if complications:
        res["complication"] = complications
    note = notes(r["observation_note"], r["note"])
    if note:
        res["note"] = note
    if site_uuids:
        res["extension"] = [
            {"url": EXT_TARGET_BODY_STRUCTURE, "valueReference": ref("BodyStructure", s)} for s in site_uuids
        ]
    return res


# ---------------------------------------------------------------- BodyStructure and MedicationAdministration (sites)

SITE_FIELDS = (
    *CLINICAL_FIELDS, "session__uuid", "session__status", "session__signed_at", "session__starts_at",
    "session__planned_on", "solution__uuid", "created_by__uuid", "number", "landmark", "label", "side", "body_map",
    "x", "y", "volume_ml", "depth_mm", "needle_gauge", "guidance",
)  # fmt: skip


BODY_STRUCTURE_FIELDS = (
    "id", "uuid", "version", "updated_at", "entered_in_error_at", "patient__uuid", "number", "landmark", "label",
    "side", "body_map", "x", "y",
)  # fmt: skip


def _site_location(r: Mapping[str, Any]) -> dict[str, Any]:
    loc: dict[str, Any] = {"text": r["label"] or r["landmark"] or "Free point on the map"}
    if r["landmark"]:
        loc["coding"] = [coding(CS_LANDMARK, r["landmark"])]
    return loc


def body_structure(r: Mapping[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "BodyStructure",
        "id": r["uuid"],
        "meta": meta(r),
        "active": r["entered_in_error_at"] is None,
        "location": _site_location(r),
        "description": f"Injection site {r['number']}: {r['label']}" if r["label"] else f"Injection site {r['number']}",
        "patient": ref("Patient", r["patient__uuid"]),
        "extension": [
            {
                "url": EXT_MAP_POSITION,
                "extension": [
                    {"url": "map", "valueString": r["body_map"]},
                    {"url": "x", "valueDecimal": num(r["x"])},
                    {"url": "y", "valueDecimal": num(r["y"])},
                ],
            }
        ],
    }
    lat = LATERALITY.get(r["side"])
    if lat is not None:
        res["locationQualifier"] = [{"coding": [lat]}]
    return res


INJECTION_ROUTE = concept(CS_ROUTE, "injection", "Injection (periarticular, intra-articular or at an enthesis)")
GUIDANCE = {
    "landmark": concept(CS_GUIDANCE, "landmark", "Landmark (palpation)"),
    "ultrasound": concept(CS_GUIDANCE, "ultrasound", "Ultrasound"),
}


def medication_administration(r: Mapping[str, Any]) -> dict[str, Any]:
    if _eie(r):
        status = "entered-in-error"
    elif r["session__status"] == "done" or r["session__signed_at"]:
        status = "completed"
    else:
        status = "in-progress"
    extension: list[dict[str, Any]] = [{"url": EXT_BODY_STRUCTURE, "valueReference": ref("BodyStructure", r["uuid"])}]
    if r["needle_gauge"]:
        extension.append({"url": EXT_NEEDLE_GAUGE, "valueInteger": r["needle_gauge"]})
    if r["depth_mm"] is not None:
        extension.append({"url": EXT_DEPTH, "valueQuantity": quantity(r["depth_mm"], "mm")})
    res: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": r["uuid"],
        "meta": meta(r),
        "extension": extension,
        "status": status,
        "medicationReference": ref("Medication", r["solution__uuid"]),
        "subject": ref("Patient", r["patient__uuid"]),
        "partOf": [ref("Procedure", r["session__uuid"])],
        "effectiveDateTime": r["session__starts_at"] or r["session__planned_on"],
        "dosage": {
            "site": _site_location(r),
            "route": INJECTION_ROUTE,
            "method": GUIDANCE[r["guidance"]],
            "dose": quantity(r["volume_ml"], "mL"),
        },
    }
    if r["created_by__uuid"]:
        res["performer"] = [{"actor": ref("Practitioner", r["created_by__uuid"])}]
    return res


# ---------------------------------------------------------------- Medication (prepared solution)

SOLUTION_FIELDS = (
    *CLINICAL_FIELDS, "session__uuid", "label", "final_volume_ml", "diluent", "diluent_volume_ml", "diluent_lot",
    "with_epinephrine", "components",
)  # fmt: skip
PER_100_ML = {"value": 100, "unit": "mL", "system": UCUM, "code": "mL"}


def _pct(value: Any) -> Any:
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else float(d)


def medication(r: Mapping[str, Any]) -> dict[str, Any]:
    components = r["components"] or []
    ingredients = []
    for c in components:
        agent = c["agent"]
        display = agent.replace("_", " ").capitalize()
        ingredient: dict[str, Any] = {
            "itemCodeableConcept": {"coding": [coding(CS_AGENT, agent, display)], "text": display},
            "isActive": True,
            # Percent weight/volume: g per 100 mL.
            "strength": {
                "numerator": {"value": _pct(c["target_pct"]), "unit": "g", "system": UCUM, "code": "g"},
                "denominator": PER_100_ML,
            },
        }
        if c.get("lot"):
            ingredient["extension"] = [{"url": EXT_INGREDIENT_LOT, "valueString": c["lot"]}]
        ingredients.append(ingredient)
    diluent: dict[str, Any] = {"itemCodeableConcept": {"text": r["diluent"]}, "isActive": False}
    if r["diluent_lot"]:
        diluent["extension"] = [{"url": EXT_INGREDIENT_LOT, "valueString": r["diluent_lot"]}]
    ingredients.append(diluent)
    text = ", ".join(f"{c['agent'].replace('_', ' ')} {c['target_pct']}%" for c in components)
    res: dict[str, Any] = {
        "resourceType": "Medication",
        "id": r["uuid"],
        "meta": meta(r),
        "code": {"text": f"Solution {r['label']}: {text} in {r['diluent']}, {num(r['final_volume_ml'])} mL"},
        "status": "entered-in-error" if _eie(r) else "active",
        "form": concept(CS_ROUTE, "solution-for-injection", "Solution for injection"),
        "amount": {
            "numerator": quantity(r["final_volume_ml"], "mL"),
            "denominator": {"value": 1, "unit": "syringe", "system": UCUM, "code": "1"},
        },
        "ingredient": ingredients,
    }
    # The batch is the main agent's lot (first component); every ingredient carries its own lot as an extension.
    first = next((c for c in components if c.get("lot")), None)
    if first is not None:
        batch: dict[str, Any] = {"lotNumber": first["lot"]}
        expiries = [c["expiry"] for c in components if c.get("expiry")]
        if expiries:
            batch["expirationDate"] = min(expiries)
        res["batch"] = batch
    return res


# ---------------------------------------------------------------- AdverseEvent

ADVERSE_EVENT_FIELDS = (
    *CLINICAL_FIELDS, "session__uuid", "solution__uuid", "lot", "event_type", "onset_on", "severity", "serious",
    "causality", "outcome", "description",
)  # fmt: skip
AE_TYPE_LABELS = {
    "pain_flare": "Pain flare",
    "bruising": "Bruising",
    "bleeding": "Bleeding",
    "infection": "Infection",
    "allergic_reaction": "Allergic reaction",
    "nerve_injury": "Nerve injury",
    "pneumothorax": "Pneumothorax",
    "spinal_headache": "Spinal (dural puncture) headache",
    "vasovagal": "Vasovagal reaction",
    "last": "Local anaesthetic systemic toxicity",
    "other": "Other",
}
# WHO-UMC categories -> the FHIR causality assessment codes (same scale).
CAUSALITY = {
    "certain": "Certain",
    "probable": "Probably-Likely",
    "possible": "Possible",
    "unlikely": "Unlikely",
    "unassessable": "Unassessable-Unclassifiable",
}
SERIOUS = {
    True: concept(f"{THO}/adverse-event-seriousness", "serious", "Serious"),
    False: concept(f"{THO}/adverse-event-seriousness", "non-serious", "Non-serious"),
}


def adverse_event(r: Mapping[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "id": r["uuid"],
        "meta": meta(r),
        "actuality": "actual",
        "event": {
            "coding": [coding(CS_ADVERSE_EVENT, r["event_type"], AE_TYPE_LABELS.get(r["event_type"]))],
            "text": r["description"],
        },
        "subject": ref("Patient", r["patient__uuid"]),
        "date": r["onset_on"],
        "recordedDate": r["created_at"],
        "seriousness": SERIOUS[bool(r["serious"])],
        "severity": concept(f"{THO}/adverse-event-severity", r["severity"]),
        "outcome": concept(f"{THO}/adverse-event-outcome", r["outcome"]),
    }
    assessment = {"assessment": concept(f"{THO}/adverse-event-causality-assess", CAUSALITY[r["causality"]])}
    suspects = []
    if r["session__uuid"]:
        suspects.append({"instance": ref("Procedure", r["session__uuid"]), "causality": [assessment]})
    if r["solution__uuid"]:
        suspect: dict[str, Any] = {"instance": ref("Medication", r["solution__uuid"]), "causality": [assessment]}
        if r["lot"]:
            suspect["extension"] = [{"url": EXT_LOT, "valueString": r["lot"]}]
        suspects.append(suspect)
    if suspects:
        res["suspectEntity"] = suspects
    return res


# ---------------------------------------------------------------- Consent

CONSENT_FIELDS = (
    *CLINICAL_FIELDS, "course__uuid", "scope", "status", "template_version", "signed_at", "withdrawn_at",
    "withdrawal_reason", "pdf_sha256",
)  # fmt: skip
CONSENT_STATUS = {"draft": "draft", "signed": "active", "withdrawn": "inactive"}
CONSENT_SCOPE = {
    "treatment": concept(f"{THO}/consentscope", "treatment", "Treatment"),
    "research": concept(f"{THO}/consentscope", "research", "Research"),
}
CONSENT_CATEGORY = [concept(LOINC, "59284-0", "Patient Consent")]


def consent(r: Mapping[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Consent",
        "id": r["uuid"],
        "meta": meta(r),
        "status": "entered-in-error" if _eie(r) else CONSENT_STATUS[r["status"]],
        "scope": CONSENT_SCOPE[r["scope"]],
        "category": CONSENT_CATEGORY,
        "patient": ref("Patient", r["patient__uuid"]),
        "dateTime": r["signed_at"] or r["created_at"],
        "policyRule": {
            "text": f"Clinic consent form, version {r['template_version']}"
            if r["template_version"]
            else "Clinic consent form"
        },
    }
    if r["scope"] == "research":
        res["policyRule"] = concept(f"{THO}/consentpolicycodes", "hipaa-research", "HIPAA Research Authorization")
    provision: dict[str, Any] = {"type": "permit"}
    period: dict[str, Any] = {}
    if r["signed_at"]:
        period["start"] = r["signed_at"]
    if r["withdrawn_at"]:
        period["end"] = r["withdrawn_at"]
    if period:
        provision["period"] = period
    if r["course__uuid"]:
        provision["data"] = [{"meaning": "related", "reference": ref("CarePlan", r["course__uuid"])}]
    res["provision"] = provision
    return res


# ---------------------------------------------------------------- DocumentReference (generated PDFs)

DOCUMENT_FIELDS = (
    *CLINICAL_FIELDS, "course__uuid", "session__uuid", "kind", "status", "pdf_size", "generated_at",
    "generated_by__uuid", "template_version",
)  # fmt: skip
DOCUMENT_KINDS = {
    "visit_summary": ("34133-9", "Summary of episode note", "Visit summary"),
    "progress_patient": ("11506-3", "Progress note", "Progress report (for the patient)"),
    "progress_referrer": ("11506-3", "Progress note", "Progress report (for the referring doctor)"),
}
CS_DOCUMENT_KIND = f"{BASE}/CodeSystem/document-kind"
# US Core DocumentReference requires a category; both kinds are clinical notes (US Core 3.1.1
# us-core-documentreference-category: clinical-note).
DOCUMENT_CATEGORY = [concept(f"{US_CORE_CS}/us-core-documentreference-category", "clinical-note", "Clinical Note")]


def document_reference(r: Mapping[str, Any]) -> dict[str, Any]:
    """A ready generated PDF; its bytes are served at Binary/<same id> (bearer token, document.view)."""
    loinc, loinc_display, label = DOCUMENT_KINDS[r["kind"]]
    attachment: dict[str, Any] = {
        "contentType": "application/pdf",
        "url": f"Binary/{r['uuid']}",
        "title": f"{label}.pdf",
    }
    if r["pdf_size"]:
        attachment["size"] = r["pdf_size"]
    if r["generated_at"]:
        attachment["creation"] = r["generated_at"]
    res: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": r["uuid"],
        "meta": meta(r),
        "status": "entered-in-error" if _eie(r) else "current",
        "type": {"coding": [coding(LOINC, loinc, loinc_display), coding(CS_DOCUMENT_KIND, r["kind"], label)]},
        "category": DOCUMENT_CATEGORY,
        "subject": ref("Patient", r["patient__uuid"]),
        "date": r["generated_at"] or r["created_at"],
        "description": label,
        "content": [{"attachment": attachment}],
    }
    if r["generated_by__uuid"]:
        res["author"] = [ref("Practitioner", r["generated_by__uuid"])]
    related = []
    if r["course__uuid"]:
        related.append(ref("CarePlan", r["course__uuid"]))
    if r["session__uuid"]:
        related.append(ref("Procedure", r["session__uuid"]))
    if related:
        res["context"] = {"related": related}
    return res


# ---------------------------------------------------------------- Group (saved cohort)

GROUP_FIELDS = ("id", "uuid", "version", "updated_at", "entered_in_error_at", "name", "description", "patient_uuids")


def group(r: Mapping[str, Any]) -> dict[str, Any]:
    members = r["patient_uuids"] or []
    res: dict[str, Any] = {
        "resourceType": "Group",
        "id": r["uuid"],
        "meta": meta(r),
        "active": r["entered_in_error_at"] is None,
        "type": "person",
        "actual": True,
        "name": r["name"],
        "quantity": len(members),
        "member": [{"entity": ref("Patient", m)} for m in members],
    }
    return res


MAPPER = Callable[[Mapping[str, Any]], dict[str, Any]]
