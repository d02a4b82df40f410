"""Template helpers for the clinical pages, and the chart's list of screenings."""

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone

from prolotrack.clinical import convert, queries
from prolotrack.domain.anatomy import landmark, parse_region
from prolotrack.domain.errors import DomainError

register = template.Library()


@register.inclusion_tag("clinical/_screenings_card.html", takes_context=True)
def screenings_card(context: Any, patient: Any) -> dict[str, Any]:
    """The patient's recent screenings, for the chart (one query)."""
    return {"patient": patient, "screenings": queries.patient_screenings(patient), "can": context.get("can", set())}


@register.filter
def sessions_summary(sessions: list[dict[str, Any]]) -> str:
    """'weeks 0, 4, 8 (+12, 16 if needed)' from stored session specs."""
    if not sessions:
        return ""
    unit = sessions[0]["unit"]
    planned = ", ".join(str(s["offset"]) for s in sessions if not s["optional"])
    optional = ", ".join(str(s["offset"]) for s in sessions if s["optional"])
    text = f"{unit} {planned}"
    if any(s["unit"] != unit for s in sessions):
        text = ", ".join(f"{s['offset']} {s['unit']}{' (if needed)' if s['optional'] else ''}" for s in sessions)
        return text
    return text + (f" (+{optional} if needed)" if optional else "")


@register.filter
def sessions_summary_specs(specs: Any) -> str:
    """The same summary for a domain template's session specs."""
    return sessions_summary(convert.sessions_to_json(specs))


@register.filter
def when(value: str | None) -> str:
    """An ISO date-time stored in JSON, in the active (clinic) time zone: 'YYYY-MM-DD HH:MM'."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%d %H:%M")


@register.filter
def flag_label(code: str) -> str:
    return queries.FLAG_LABELS.get(code, code.replace("_", " "))


@register.filter
def landmark_label(code: str) -> str:
    try:
        return landmark(code).label
    except DomainError:
        return code


@register.filter
def region_label(code: str) -> str:
    try:
        return parse_region(code).label
    except DomainError:
        return code


# Short headings for the finding codes of prolotrack/domain/screening.py (docs/clinical/screening.md).
FINDING_TITLES = {
    "contraindication.infection_at_site": "Infection at the injection site",
    "contraindication.systemic_infection": "Systemic infection",
    "contraindication.septic_joint": "Septic joint",
    "contraindication.acute_gout_flare": "Acute gout or crystal flare",
    "contraindication.acute_fracture": "Acute fracture",
    "contraindication.suspected_tumour": "Unexplained swelling or suspected tumour",
    "contraindication.allergy.local_anaesthetic": "Allergy to a local anaesthetic",
    "contraindication.allergy.dextrose": "Allergy to dextrose",
    "contraindication.allergy.glycerin": "Allergy to glycerin",
    "contraindication.allergy.phenol": "Allergy to phenol",
    "contraindication.allergy.sodium_morrhuate": "Allergy to sodium morrhuate",
    "caution.anticoagulant": "Anticoagulant",
    "caution.antiplatelet": "Antiplatelet",
    "caution.bleeding_disorder": "Bleeding disorder",
    "caution.pregnancy": "Pregnancy",
    "caution.diabetes": "Diabetes: glucose load",
    "caution.immunosuppression": "Immunosuppression",
    "caution.prosthetic_joint_or_valve": "Prosthetic joint or heart valve",
    "caution.corn_allergy": "Corn allergy (unverified)",
    "caution.last_age_risk": "Age: anaesthetic toxicity (LAST)",
    "caution.nsaid_within_window": "NSAID taken inside the stop window",
    "instruction.nsaid_stop": "Stop NSAIDs",
    "instruction.nsaid_after": "No NSAIDs after the procedure",
    "instruction.allergy_keep_out": "Keep the allergen out of every syringe",
    "instruction.pregnancy_status": "Ask about pregnancy",
    "instruction.light_meal": "Light meal beforehand",
    "instruction.driver": "Driver needed",
    "instruction.consent_pneumothorax": "Consent: pneumothorax",
    "instruction.consent_dural_puncture": "Consent: dural puncture headache",
    "instruction.consent_off_label": "Consent: off-label use and cost",
}


@register.filter
def code_label(code: str) -> str:
    """A heading for a finding code; unknown codes are spelled out from the code itself."""
    if code in FINDING_TITLES:
        return FINDING_TITLES[code]
    parts = code.split(".")[1:]
    if not parts:
        return code
    text = ": ".join(p.replace("_", " ") for p in parts)
    return text[:1].upper() + text[1:]
