"""Between stored JSON and the domain's frozen dataclasses: protocol templates and screening results.

JSON shapes (stored on the models and returned by the API):

- solution: {"label": str, "components": [{"agent": "dextrose", "value": "25", "unit": "%"}],
             "volume_ml": "6" | null, "volume_per": "joint" | "site" | ..., "note": str}
- session:  {"offset": 0, "unit": "days" | "weeks" | "months", "optional": false}
- finding:  {"code", "severity", "reason", "source", "overridable", "override_reason": str | null,
             "overridden_by": {"user": uuid, "name": str, "role": str, "at": iso datetime} | null}

Everything read back from JSON goes through the domain constructors, so a malformed value raises a DomainError
with a message instead of being used.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from prolotrack.clinical.calculators import number_problem
from prolotrack.domain.agents import AgentConcentration, Concentration, parse_agent
from prolotrack.domain.anatomy import parse_region
from prolotrack.domain.errors import DomainError, OverrideError, ProtocolError
from prolotrack.domain.limits import CONCENTRATION_PCT, SITE_VOLUME_ML
from prolotrack.domain.protocols import OffsetUnit, ProtocolTemplate, SessionSpec, SolutionSpec
from prolotrack.domain.quantities import as_decimal, fmt
from prolotrack.domain.screening import Decision, Finding, ScreeningResult, Severity

MAX_SOLUTIONS = 10
MAX_SESSIONS = 52

# Control characters (NUL, escape codes...) are never part of clinical text, and PostgreSQL refuses NUL outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def refuse_control_characters(text: str, what: str, error: type[DomainError] = DomainError) -> str:
    """Return text unchanged, or refuse it if it holds control characters (a paste from another program)."""
    if _CONTROL.search(text):
        raise error(f"{what} contains an invisible control character: retype it instead of pasting.")
    return text


# --- Protocol templates --------------------------------------------------------------------------------------


def solutions_to_json(solutions: Iterable[SolutionSpec]) -> list[dict[str, Any]]:
    """Return solution specs as JSON-safe dicts."""
    return [
        {
            "label": spec.label,
            "components": [
                {"agent": c.agent.value, "value": fmt(c.concentration.value), "unit": c.concentration.unit.value}
                for c in spec.components
            ],
            "volume_ml": None if spec.volume_ml is None else fmt(spec.volume_ml),
            "volume_per": spec.volume_per,
            "note": spec.note,
        }
        for spec in solutions
    ]


def sessions_to_json(sessions: Iterable[SessionSpec]) -> list[dict[str, Any]]:
    """Return session specs as JSON-safe dicts."""
    return [{"offset": s.offset, "unit": s.unit.value, "optional": s.optional} for s in sessions]


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProtocolError(f"{what} must be an object with named fields.")
    return value


def _text(value: object, what: str, *, required: bool = True, max_length: int = 200) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ProtocolError(f"{what} must be text.")
    text = refuse_control_characters(value, what, ProtocolError).strip()
    if required and not text:
        raise ProtocolError(f"{what} is empty: fill it in.")
    if len(text) > max_length:
        raise ProtocolError(f"{what} is longer than {max_length} characters: shorten it.")
    return text


def solutions_from_json(data: object) -> tuple[SolutionSpec, ...]:
    """Return solution specs from JSON, refusing anything malformed with a message."""
    if not isinstance(data, list):
        raise ProtocolError("Solutions must be a list.")
    if len(data) > MAX_SOLUTIONS:
        raise ProtocolError(f"A template has at most {MAX_SOLUTIONS} solutions.")
    specs: list[SolutionSpec] = []
    for number, raw in enumerate(data, start=1):
        item = _mapping(raw, f"Solution {number}")
        label = _text(item.get("label"), f"Solution {number} label")
        components_raw = item.get("components")
        if not isinstance(components_raw, list) or not components_raw:
            raise ProtocolError(f"Solution {number} ({label}): list at least one agent with its concentration.")
        components: list[AgentConcentration] = []
        seen = set()
        for raw_component in components_raw:
            component = _mapping(raw_component, f"Solution {number} agent")
            agent = parse_agent(component.get("agent"), ProtocolError)
            if agent in seen:
                raise ProtocolError(f"Solution {number} ({label}) lists {agent.label.lower()} twice.")
            seen.add(agent)
            value = as_decimal(component.get("value"), f"{agent.label} concentration", ProtocolError)
            if problem := number_problem(value, f"{agent.label.lower()} concentration"):
                raise ProtocolError(f"Solution {number} ({label}): {problem}")
            concentration = Concentration(value, component.get("unit", "%"))
            if concentration.value <= 0 or not CONCENTRATION_PCT.contains(concentration.percent):
                raise ProtocolError(
                    f"Solution {number} ({label}): {agent.label.lower()} {concentration} must be "
                    f"{CONCENTRATION_PCT.span.replace(' %', '%')}."
                )
            components.append(AgentConcentration(agent, concentration))
        volume_raw = item.get("volume_ml")
        volume: Decimal | None = None
        if volume_raw not in (None, ""):
            volume = as_decimal(volume_raw, f"Solution {number} volume (mL)", ProtocolError)
            if problem := number_problem(volume, "volume", " mL"):
                raise ProtocolError(f"Solution {number} ({label}): {problem}")
            # A template's volume is given per joint or per site: one injection, so the site's limit.
            if (problem := SITE_VOLUME_ML.problem(volume)) is not None:
                raise ProtocolError(f"Solution {number} ({label}): {problem}")
        per = _text(item.get("volume_per", "site"), f"Solution {number} 'per'", max_length=40)
        note = _text(item.get("note", ""), f"Solution {number} note", required=False, max_length=500)
        specs.append(SolutionSpec(label, tuple(components), volume, per, note))
    return tuple(specs)


def sessions_from_json(data: object) -> tuple[SessionSpec, ...]:
    """Return session specs from JSON, refusing anything malformed with a message."""
    if not isinstance(data, list) or not data:
        raise ProtocolError("List the sessions: at least the first one, at offset 0.")
    if len(data) > MAX_SESSIONS:
        raise ProtocolError(f"A template has at most {MAX_SESSIONS} sessions.")
    specs: list[SessionSpec] = []
    for number, raw in enumerate(data, start=1):
        item = _mapping(raw, f"Session {number}")
        offset = item.get("offset")
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise ProtocolError(f"Session {number}: the offset must be a whole number, not {offset!r}.")
        if not 0 <= offset <= 520:
            raise ProtocolError(f"Session {number}: offset {offset} must be between 0 and 520.")
        try:
            unit = OffsetUnit(item.get("unit", "weeks"))
        except ValueError:
            raise ProtocolError(
                f"Session {number}: unknown unit {item.get('unit')!r}: use days, weeks or months."
            ) from None
        optional = item.get("optional", False)
        if not isinstance(optional, bool):
            raise ProtocolError(f"Session {number}: 'optional' must be true or false.")
        specs.append(SessionSpec(offset, unit, optional))
    return tuple(specs)


def build_protocol(
    *,
    code: str,
    name: str,
    indication: str,
    region: object,
    solutions: object,
    landmarks: object,
    sessions: object,
    source: str,
) -> ProtocolTemplate:
    """Return a domain template built (and so validated) from stored or submitted values."""
    if not isinstance(landmarks, list) or not all(isinstance(code, str) for code in landmarks):
        raise ProtocolError("Landmarks must be a list of landmark codes.")
    if len(set(landmarks)) != len(landmarks):
        raise ProtocolError("A landmark is listed twice: list each once.")
    return ProtocolTemplate(
        code=code,
        name=name,
        indication=indication,
        region=parse_region(region),
        solutions=solutions_from_json(solutions),
        landmarks=tuple(landmarks),
        sessions=sessions_from_json(sessions),
        source=source,
    )


def protocol_from_record(record: Any) -> ProtocolTemplate:
    """Return the domain template of a stored clinic template."""
    return build_protocol(
        code=record.code,
        name=record.name,
        indication=record.indication,
        region=record.region,
        solutions=record.solutions,
        landmarks=record.landmarks,
        sessions=record.sessions,
        source=record.source,
    )


def protocol_fields(template: ProtocolTemplate) -> dict[str, Any]:
    """Return a built-in template as the model's field values, for copying into a clinic template."""
    return {
        "code": template.code,
        "name": template.name,
        "indication": template.indication,
        "region": template.region.value,
        "solutions": solutions_to_json(template.solutions),
        "landmarks": list(template.landmarks),
        "sessions": sessions_to_json(template.sessions),
        "source": template.source,
        "notes": "\n".join(template.review),
    }


# --- Screening results ---------------------------------------------------------------------------------------


def finding_to_json(finding: Finding, overridden_by: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return one finding as stored with the screening."""
    return {
        "code": finding.code,
        "severity": finding.severity.value,
        "reason": finding.reason,
        "source": finding.source,
        "overridable": finding.overridable,
        "override_reason": finding.override_reason,
        "overridden_by": dict(overridden_by) if overridden_by else None,
    }


def result_from_record(findings: Sequence[Mapping[str, Any]], decision: str, procedure_date: date) -> ScreeningResult:
    """Return the domain result of a stored screening, so overrides go through the domain's rules."""
    try:
        items = tuple(
            Finding(
                code=f["code"],
                severity=Severity(f["severity"]),
                reason=f["reason"],
                source=f["source"],
                overridable=bool(f["overridable"]),
                override_reason=f.get("override_reason"),
            )
            for f in findings
        )
        return ScreeningResult(decision=Decision(decision), findings=items, procedure_date=procedure_date)
    except (KeyError, TypeError, ValueError):
        raise OverrideError("This stored screening cannot be read back: screen the patient again.") from None
