"""Results as plain dicts of strings, shared by the API (schemas.py) and the pages, so both show the same numbers."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from prolotrack.clinical import convert
from prolotrack.clinical.calculators import ANAESTHETICS, MIXING_SOURCE, ROUNDING_RULE, LimitAnswer
from prolotrack.clinical.models import DECISION_CHOICES, ProtocolTemplate, ScreeningRecord
from prolotrack.clinical.queries import ProtocolEntry
from prolotrack.clinical.services import settings_json
from prolotrack.domain.agents import Agent
from prolotrack.domain.mixing import VOLUME_STEP, MixResult
from prolotrack.domain.protocols import Schedule, ScheduleSettings
from prolotrack.domain.quantities import fmt
from prolotrack.domain.screening import PlannedProcedure, ScreeningResult, ScreeningSettings

DECISION_LABELS = dict(DECISION_CHOICES)


def volume(value: Decimal) -> str:
    """A volume as a syringe reads it: two decimals, unless the value itself has more (never rounded here)."""
    stepped = value.quantize(VOLUME_STEP)
    return format(stepped, "f") if stepped == value else fmt(value)


def mix_json(result: MixResult) -> dict[str, Any]:
    components = []
    for line in result.components:
        if line.agent is Agent.DEXTROSE:
            role = "dextrose"
        elif line.agent in ANAESTHETICS:
            role = "anesthetic"
        else:
            role = "further"
        components.append(
            {
                "agent": line.agent.value,
                "label": line.agent.label,
                "role": role,
                "target_pct": fmt(line.target.percent),
                "stock_pct": fmt(line.stock.percent),
                "stock_volume_ml": volume(line.stock_volume_ml),
                "amount_mg": fmt(line.amount_mg),
                "amount_g": fmt(line.amount_g),
            }
        )
    return {
        "final_volume_ml": volume(result.final_volume_ml),
        "components": components,
        "diluent": result.diluent.value,
        "diluent_volume_ml": volume(result.diluent_volume_ml),
        "total_volume_ml": volume(result.total_volume_ml),
        "final_concentrations": [
            {
                "agent": item.agent.value,
                "percent": fmt(item.concentration.percent),
                "mg_per_ml": fmt(item.concentration.mg_per_ml),
            }
            for item in result.final_concentrations
        ],
        "rounding": ROUNDING_RULE,
        "source": MIXING_SOURCE,
    }


def limit_json(answer: LimitAnswer) -> dict[str, Any]:
    limit = answer.limit
    check = None
    if answer.check is not None:
        check = {
            "status": answer.check.status.value,
            "fraction": fmt(answer.check.combined_fraction),
            "percent": answer.percent,
            "warn_fraction": fmt(answer.warn_fraction),
            "message": answer.message,
            "advisories": list(answer.check.advisories),
        }
    return {
        "drug": limit.drug.value,
        "with_epinephrine": limit.with_epinephrine,
        "label": f"{limit.drug.label} {'with epinephrine' if limit.with_epinephrine else 'plain'}",
        "weight_kg": fmt(limit.weight_kg),
        "mg_per_kg": fmt(limit.mg_per_kg),
        "by_weight_mg": fmt(limit.mg_per_kg * limit.weight_kg),
        "cap_mg": None if limit.cap_mg is None else fmt(limit.cap_mg),
        "max_mg": fmt(limit.max_mg),
        "rule": limit.describe,
        "source": limit.source,
        "evidence": limit.evidence.value,
        "note": limit.note,
        "check": check,
    }


def _finding(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "overridden": data.get("override_reason") is not None}


def screening_record_json(record: ScreeningRecord) -> dict[str, Any]:
    return {
        "id": record.uuid,
        "stored": True,
        "version": record.version,
        "patient_id": record.patient.uuid,
        "decision": record.decision,
        "decision_label": DECISION_LABELS[record.decision],
        "procedure_date": record.procedure_date,
        "region": record.region,
        "side": record.side,
        "site": record.site_description,
        "agents": list(record.agents),
        "sedation": record.sedation,
        "day_of_flags": list(record.day_of_flags),
        "pregnancy": record.pregnancy,
        "nsaid_stop_date": record.nsaid_stop_date,
        "findings": [_finding(f) for f in record.findings],
        "settings": record.settings_used,
        "facts": record.facts,
        "created_at": record.created_at,
        "created_by": str(record.created_by) if record.created_by else None,
    }


def screening_adhoc_json(
    result: ScreeningResult,
    procedure: PlannedProcedure,
    *,
    day_of_flags: Iterable[str],
    pregnancy: str,
    settings: ScreeningSettings,
) -> dict[str, Any]:
    return {
        "id": None,
        "stored": False,
        "decision": result.decision.value,
        "decision_label": DECISION_LABELS[result.decision.value],
        "procedure_date": procedure.date,
        "region": procedure.region.value,
        "side": procedure.side.value,
        "site": procedure.site_description,
        "agents": sorted(a.value for a in procedure.agents),
        "sedation": procedure.sedation.value,
        "day_of_flags": sorted(day_of_flags),
        "pregnancy": pregnancy,
        "nsaid_stop_date": result.nsaid_stop_date,
        "findings": [_finding(convert.finding_to_json(f)) for f in result.findings],
        "settings": settings_json(settings),
    }


def protocol_json(entry: ProtocolEntry) -> dict[str, Any]:
    record: ProtocolTemplate | None = entry.record
    if record is None:
        template = entry.template
        assert template is not None
        return {
            "id": entry.id,
            "builtin": True,
            "code": template.code,
            "name": template.name,
            "indication": template.indication,
            "region": template.region.value,
            "source": template.source,
            "solutions": convert.solutions_to_json(template.solutions),
            "landmarks": list(template.landmarks),
            "sessions": convert.sessions_to_json(template.sessions),
            "notes": list(template.review),
            "based_on": None,
            "active": True,
            "version": None,
            "problem": "",
        }
    return {
        "id": entry.id,
        "builtin": False,
        "code": record.code,
        "name": record.name,
        "indication": record.indication,
        "region": record.region,
        "source": record.source,
        "solutions": record.solutions,
        "landmarks": record.landmarks,
        "sessions": record.sessions,
        "notes": [line for line in record.notes.splitlines() if line.strip()],
        "based_on": record.based_on or None,
        "active": record.active and not record.is_entered_in_error,
        "version": record.version,
        "problem": entry.problem,
    }


def schedule_json(entry: ProtocolEntry, plan: Schedule, settings: ScheduleSettings) -> dict[str, Any]:
    return {
        "protocol_id": entry.id,
        "template_code": plan.template_code,
        "start": plan.start,
        "settings": {
            "nsaid_stop_days": settings.nsaid_stop_days,
            "appointment_reminder_days": settings.appointment_reminder_days,
            "nsaid_reminders": settings.nsaid_reminders,
        },
        "sessions": [{"number": s.number, "date": s.date, "optional": s.optional} for s in plan.sessions],
        "timepoints": [
            {
                "code": t.code,
                "label": t.label,
                "kind": t.kind.value,
                "date": t.date,
                "optional": t.optional,
                "session_number": t.session_number,
            }
            for t in plan.timepoints
        ],
        "reminders": [
            {
                "kind": r.kind.value,
                "date": r.date,
                "message": r.message,
                "session_number": r.session_number,
                "timepoint_code": r.timepoint_code,
            }
            for r in plan.reminders
        ],
    }
