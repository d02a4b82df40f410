"""Writes for the clinical tools: stored screenings and their overrides, the clinic's protocol templates.

Each function checks the actor's permission, runs the domain (which refuses bad input before anything is written),
then saves in one transaction through audit.services, so the record, its version and its audit rows commit together.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from prolotrack.audit.services import (
    Actor,
    ServiceError,
    create_record,
    mark_entered_in_error,
    record_event,
    update_record,
)
from prolotrack.clinical import convert, queries
from prolotrack.clinical.models import ProtocolTemplate, ScreeningRecord
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.core.access import require_same_clinic
from prolotrack.domain.anatomy import landmark, parse_region
from prolotrack.domain.errors import DomainError, OverrideError, ProtocolError
from prolotrack.domain.protocols import TEMPLATES
from prolotrack.domain.screening import (
    MIN_OVERRIDE_REASON_CHARS,
    Override,
    PlannedProcedure,
    Pregnancy,
    ScreeningSettings,
    apply_overrides,
    screen,
)
from prolotrack.patients.models import Patient

# --- Screening -----------------------------------------------------------------------------------------------


def screening_settings(clinic: Any) -> ScreeningSettings:
    """The screening settings of a clinic (the NSAID stop window is a clinic setting; the rest are defaults)."""
    return ScreeningSettings(nsaid_stop_days=clinic.config.nsaid_stop_days)


def settings_json(settings: ScreeningSettings) -> dict[str, Any]:
    return {
        "nsaid_stop_days": settings.nsaid_stop_days,
        "medication_lookback_days": settings.medication_lookback_days,
        "nsaid_avoid_after_days": settings.nsaid_avoid_after_days,
        "min_override_reason_chars": MIN_OVERRIDE_REASON_CHARS,
    }


def screen_patient(
    actor: Actor,
    patient: Patient,
    procedure: PlannedProcedure,
    *,
    day_of_flags: Iterable[str] = (),
    pregnancy: str | None = None,
) -> ScreeningRecord:
    """Screen a patient of the actor's clinic from the registry's facts and store the result."""
    require_permission(actor, Permission.SCREENING_RUN)
    require_same_clinic(actor, patient)
    if patient.is_entered_in_error:
        raise ServiceError("This patient record was marked entered in error; screen the correct record.")
    if not isinstance(procedure, PlannedProcedure):
        raise ServiceError("Describe the planned procedure to screen for.")
    flags = queries.parse_day_of_flags(list(day_of_flags))
    if pregnancy not in (None, "") and pregnancy not in Pregnancy._value2member_map_:
        choices = ", ".join(p.value for p in Pregnancy)
        raise ValidationError({"pregnancy": f"Unknown pregnancy status '{pregnancy}': choose {choices}."})
    settings = screening_settings(actor.clinic)
    with transaction.atomic():
        found = queries.registry_facts(
            patient,
            flags,
            pregnancy or None,
            procedure_date=procedure.date,
            lookback_days=settings.medication_lookback_days,
        )
        # The domain refuses inconsistent input (a birth date after the procedure...) before anything is written.
        result = screen(found.facts, procedure, settings)
        record_event(
            actor,
            "patient.screening_facts.read",
            record=patient,
            detail={
                "medications": len(found.snapshot["medications"]),
                "allergies": len(found.snapshot["allergies"]),
                "flags": found.snapshot["flags"],
            },
        )
        record = ScreeningRecord(
            clinic=patient.clinic,
            patient=patient,
            procedure_date=procedure.date,
            region=procedure.region.value,
            side=procedure.side.value,
            site_description=procedure.site_description.strip(),
            agents=sorted(a.value for a in procedure.agents),
            sedation=procedure.sedation.value,
            day_of_flags=sorted(f.value for f in flags),
            pregnancy=found.facts.pregnancy.value,
            facts=found.snapshot,
            decision=result.decision.value,
            nsaid_stop_date=result.nsaid_stop_date,
            findings=[convert.finding_to_json(f) for f in result.findings],
            settings_used=settings_json(settings),
        )
        return create_record(
            actor,
            record,
            "screening.created",
            detail={"decision": result.decision.value, "findings": list(result.codes)},
        )


def override_finding(
    actor: Actor, screening: ScreeningRecord, code: str, reason: str, *, expected_version: int | None
) -> ScreeningRecord:
    """Record a clinician's written reason to proceed despite one finding, and recompute the decision."""
    require_permission(actor, Permission.SCREENING_OVERRIDE)
    require_same_clinic(actor, screening)
    if screening.is_entered_in_error:
        raise ServiceError("This screening was marked entered in error; screen the patient again.")
    if isinstance(reason, str):
        convert.refuse_control_characters(reason, "The reason", OverrideError)
    stored = convert.result_from_record(screening.findings, screening.decision, screening.procedure_date)
    # The domain refuses unknown codes, instructions, hard stops, a second override and a short reason.
    updated = apply_overrides(stored, [Override(code, reason)])
    clean_reason = updated.finding(code).override_reason or ""
    who = {
        "user": str(actor.user.uuid) if actor.user is not None else None,
        "name": str(actor.user) if actor.user is not None else "system",
        "role": actor.role,
        "at": timezone.now().isoformat(),
    }
    previous = {f["code"]: f.get("overridden_by") for f in screening.findings}
    findings = [convert.finding_to_json(f, who if f.code == code else previous.get(f.code)) for f in updated.findings]
    with transaction.atomic():
        return update_record(
            actor,
            screening,
            {"findings": findings, "decision": updated.decision.value},
            "screening.finding.overridden",
            expected_version=expected_version,
            reason=f"{code}: {clean_reason}",
        )


# --- Protocol templates --------------------------------------------------------------------------------------

PROTOCOL_FIELDS = (
    "code",
    "name",
    "indication",
    "region",
    "solutions",
    "landmarks",
    "sessions",
    "source",
    "based_on",
    "notes",
    "active",
)
BUILTIN_CODES = frozenset(t.code for t in TEMPLATES)


def _only(data: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be set here."))
    return dict(data)


def validate_protocol(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the values in canonical form, or refuse what the domain cannot build, naming the field to fix.

    Canonical: agents by their code ("lignocaine" is stored as "lidocaine"), every concentration with its unit,
    sessions with unit and optional flag, the region by its code; so what is stored is what the domain read.
    """
    errors: dict[str, str] = {}
    if values.get("code") in BUILTIN_CODES:
        errors["code"] = "This code belongs to a built-in template: choose another (for example add _ours)."
    if values.get("based_on") and values["based_on"] not in BUILTIN_CODES:
        errors["based_on"] = f"Unknown built-in template '{values['based_on']}'."
    clean = dict(values)
    for name in ("code", "name", "indication", "source", "based_on", "notes"):
        if isinstance(values.get(name), str):
            try:
                convert.refuse_control_characters(values[name], name.capitalize(), ProtocolError)
            except DomainError as error:
                errors[name] = str(error)
    region = None
    try:
        region = parse_region(values.get("region"))
        clean["region"] = region.value
    except DomainError as error:
        errors["region"] = str(error)
    try:
        clean["solutions"] = convert.solutions_to_json(convert.solutions_from_json(values.get("solutions")))
    except DomainError as error:
        errors["solutions"] = str(error)
    try:
        clean["sessions"] = convert.sessions_to_json(convert.sessions_from_json(values.get("sessions")))
    except DomainError as error:
        errors["sessions"] = str(error)
    codes = values.get("landmarks")
    if not isinstance(codes, list):
        errors["landmarks"] = "Landmarks must be a list of landmark codes."
    else:
        try:
            for code in codes:
                site = landmark(code)
                if region is not None and site.region is not region:
                    raise DomainError(
                        f"{site.label} is in the {site.region.label.lower()} region, not the "
                        f"{region.label.lower()} region: pick sites of the template's region."
                    )
        except DomainError as error:
            errors["landmarks"] = str(error)
    if not errors:
        try:
            convert.build_protocol(
                code=values.get("code", ""),
                name=values.get("name", ""),
                indication=values.get("indication", ""),
                region=values.get("region"),
                solutions=values.get("solutions"),
                landmarks=values.get("landmarks"),
                sessions=values.get("sessions"),
                source=values.get("source", ""),
            )
        except DomainError as error:
            # What is left for the whole template is the order of the sessions.
            message = str(error).replace(f"Template {values.get('code', '')}: ", "")
            errors["sessions"] = message[:1].upper() + message[1:]
    if errors:
        raise ValidationError(errors)
    return clean


def create_protocol(actor: Actor, data: Mapping[str, Any]) -> ProtocolTemplate:
    """Add a protocol template to the actor's clinic."""
    require_permission(actor, Permission.PROTOCOL_MANAGE)
    values = validate_protocol(_only(data, PROTOCOL_FIELDS))
    duplicate = ValidationError({"code": "Another template of this clinic already has this code: choose another."})
    if ProtocolTemplate.objects.filter(clinic=actor.clinic, code=values.get("code")).exists():
        raise duplicate
    try:
        with transaction.atomic():
            record = ProtocolTemplate(clinic=actor.clinic, **values)
            return create_record(actor, record, "protocol.created")
    except IntegrityError:
        # Two people saving the same code at the same moment: the database constraint decides.
        raise duplicate from None


def update_protocol(
    actor: Actor, record: ProtocolTemplate, data: Mapping[str, Any], *, expected_version: int | None, reason: str = ""
) -> ProtocolTemplate:
    """Change a clinic template (a new version), refusing a stale edit; the code never changes."""
    require_permission(actor, Permission.PROTOCOL_MANAGE)
    require_same_clinic(actor, record)
    values = _only(data, PROTOCOL_FIELDS)
    if "code" in values and values["code"] != record.code:
        raise ValidationError({"code": "The code of a saved template cannot change: it identifies the template."})
    values.pop("code", None)
    merged = {name: getattr(record, name) for name in PROTOCOL_FIELDS}
    merged.update(values)
    clean = validate_protocol(merged)
    values = {name: clean[name] for name in values}
    with transaction.atomic():
        return update_record(
            actor, record, values, "protocol.updated", expected_version=expected_version, reason=reason
        )


def retire_protocol(
    actor: Actor, record: ProtocolTemplate, *, reason: str, expected_version: int | None = None
) -> ProtocolTemplate:
    """Mark a clinic template created by mistake as entered in error; it stays listed, struck through."""
    require_permission(actor, Permission.PROTOCOL_MANAGE)
    require_same_clinic(actor, record)
    with transaction.atomic():
        return mark_entered_in_error(
            actor, record, "protocol.entered_in_error", reason=reason, expected_version=expected_version
        )
