"""Clinical endpoints under /api: calculators, screening, protocol templates and schedules.

Thin: parse, check the role's permission, look records up inside the caller's clinic, call the domain or a
service, shape the answer. Domain refusals become 422 with the domain's message (prolotrack/api.py).
"""

from typing import Any
from uuid import UUID

from django.http import Http404
from ninja import Query, Router
from ninja.responses import Status

from prolotrack.audit.services import record_read
from prolotrack.clinical import calculators, planning, present, queries, services
from prolotrack.clinical.models import ScreeningRecord
from prolotrack.clinical.schemas import (
    LimitIn,
    LimitOut,
    MixIn,
    MixOut,
    OverrideIn,
    ProtocolOut,
    ScheduleOut,
    ScheduleParams,
    ScreeningIn,
    ScreeningOut,
)
from prolotrack.clinics.api_auth import api_require
from prolotrack.clinics.http import ApiRequest
from prolotrack.clinics.roles import Permission
from prolotrack.domain.errors import ScreeningError
from prolotrack.domain.screening import screen
from prolotrack.patients import queries as patient_queries
from prolotrack.patients.models import Patient

router = Router(tags=["clinical"])


@router.post(
    "/calculators/mix",
    response={200: MixOut},
    summary="Stock and diluent volumes for a solution (C1V1 = C2V2)",
    tags=["calculators"],
)
@api_require(Permission.CALCULATOR_USE)
def mix(request: ApiRequest, payload: MixIn) -> Any:
    result = calculators.mix_solution(
        calculators.MixRequest(
            final_volume_ml=payload.final_volume_ml,
            target_dextrose_pct=payload.target_dextrose_pct,
            dextrose_stock_pct=payload.dextrose_stock_pct,
            anesthetic=payload.anesthetic,
            target_anesthetic_pct=payload.target_anesthetic_pct,
            anesthetic_stock_pct=payload.anesthetic_stock_pct,
            diluent=payload.diluent,
            further_agents=[
                calculators.FurtherAgent(item.agent, item.target_pct, item.stock_pct) for item in payload.further_agents
            ],
        )
    )
    return present.mix_json(result)


@router.post(
    "/calculators/anesthetic-limit",
    response={200: LimitOut},
    summary="Maximum local anaesthetic dose for a weight, and the check of a planned amount",
    tags=["calculators"],
)
@api_require(Permission.CALCULATOR_USE)
def anesthetic_limit(request: ApiRequest, payload: LimitIn) -> Any:
    answer = calculators.anaesthetic_limit(
        calculators.LimitRequest(payload.drug, payload.with_epinephrine, payload.weight_kg, payload.planned_mg),
        request.clinic.config.anaesthetic_warn_fraction,
    )
    return present.limit_json(answer)


@router.post(
    "/screening/evaluate",
    response={200: ScreeningOut, 201: ScreeningOut},
    summary="Screen for a planned procedure: a registered patient (stored, 201) or facts given ad hoc (200)",
    tags=["screening"],
)
@api_require(Permission.SCREENING_RUN)
def evaluate_screening(request: ApiRequest, payload: ScreeningIn) -> Any:
    if (payload.patient_id is None) == (payload.patient is None):
        raise ScreeningError(
            "Give either patient_id (facts are read from the chart and the screening is stored) or patient "
            "(facts given here, nothing stored), not both and not neither."
        )
    procedure = planning.planned_procedure(
        day=payload.procedure.date,
        region=payload.procedure.region,
        side=payload.procedure.side,
        site=payload.procedure.site,
        agents=payload.procedure.agents,
        sedation=payload.procedure.sedation,
        landmarks=payload.procedure.landmarks,
    )
    if payload.patient_id is not None:
        try:
            patient = patient_queries.get_patient(request.clinic, payload.patient_id)
        except Patient.DoesNotExist:
            raise Http404("No such patient in this clinic.") from None
        record = services.screen_patient(
            request.actor, patient, procedure, day_of_flags=payload.day_of_flags, pregnancy=payload.pregnancy
        )
        return Status(201, present.screening_record_json(record))

    assert payload.patient is not None
    if payload.pregnancy is not None:
        raise ScreeningError("Ad hoc facts carry the pregnancy status in patient.pregnancy.")
    day_of = queries.parse_day_of_flags(payload.day_of_flags)
    facts = planning.adhoc_facts(payload.patient.dict(), [f.value for f in day_of])
    settings = services.screening_settings(request.clinic)
    result = screen(facts, procedure, settings)
    return present.screening_adhoc_json(
        result,
        procedure,
        day_of_flags=[f.value for f in day_of],
        pregnancy=facts.pregnancy.value,
        settings=settings,
    )


def _screening(request: ApiRequest, screening_id: UUID) -> ScreeningRecord:
    try:
        return queries.get_screening(request.clinic, screening_id)
    except ScreeningRecord.DoesNotExist:
        raise Http404("No such screening in this clinic.") from None


@router.get(
    "/screenings/{screening_id}",
    response={200: ScreeningOut},
    summary="Read a stored screening",
    tags=["screening"],
)
@api_require(Permission.SCREENING_RUN)
def get_screening(request: ApiRequest, screening_id: UUID) -> Any:
    record = _screening(request, screening_id)
    record_read(request.actor, "screening.viewed", record=record, patient_uuid=record.patient.uuid)
    return present.screening_record_json(record)


@router.post(
    "/screenings/{screening_id}/overrides",
    response={200: ScreeningOut},
    summary="Override one finding with a written reason (clinicians; send the version you read)",
    tags=["screening"],
)
@api_require(Permission.SCREENING_OVERRIDE)
def override(request: ApiRequest, screening_id: UUID, payload: OverrideIn) -> Any:
    actor = request.actor
    record = _screening(request, screening_id)
    record = services.override_finding(actor, record, payload.code, payload.reason, expected_version=payload.version)
    return present.screening_record_json(queries.get_screening(request.clinic, record.uuid))


@router.get(
    "/protocols",
    response={200: list[ProtocolOut]},
    summary="Protocol templates: the built-in trial templates and the clinic's own active ones",
    tags=["protocols"],
)
@api_require(Permission.PROTOCOL_VIEW)
def list_protocols(request: ApiRequest) -> Any:
    return [present.protocol_json(e) for e in queries.list_protocols(request.clinic)]


def _protocol(request: ApiRequest, protocol_id: str) -> queries.ProtocolEntry:
    try:
        return queries.find_protocol(request.clinic, protocol_id)
    except queries.ProtocolNotFound as error:
        raise Http404(str(error)) from None


@router.get(
    "/protocols/{protocol_id}",
    response={200: ProtocolOut},
    summary="One protocol template (built-in code or clinic template UUID)",
    tags=["protocols"],
)
@api_require(Permission.PROTOCOL_VIEW)
def get_protocol(request: ApiRequest, protocol_id: str) -> Any:
    return present.protocol_json(_protocol(request, protocol_id))


@router.get(
    "/protocols/{protocol_id}/schedule",
    response={200: ScheduleOut},
    summary="Sessions, outcome timepoints and reminders for a course starting on a date",
    tags=["protocols"],
)
@api_require(Permission.PROTOCOL_VIEW)
def protocol_schedule(request: ApiRequest, protocol_id: str, params: Query[ScheduleParams]) -> Any:
    entry = _protocol(request, protocol_id)
    plan, settings = planning.course_schedule(request.clinic, entry, params.start)
    return present.schedule_json(entry, plan, settings)
