"""Patient registry endpoints under /api/patients."""

from types import GenericAlias
from typing import Any
from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from ninja import Query, Router
from ninja.responses import Status

from prolotrack.audit.services import record_disclosure, record_read
from prolotrack.clinics.api_auth import api_require
from prolotrack.clinics.http import ApiRequest
from prolotrack.clinics.roles import Permission
from prolotrack.patients import queries, services
from prolotrack.patients.models import Allergy, Condition, Medication, Patient, WeightMeasurement
from prolotrack.patients.schemas import (
    AllergyOut,
    ChartAllergyIn,
    ChartAllergyPatch,
    ChartConditionIn,
    ChartConditionPatch,
    ChartMedicationIn,
    ChartMedicationPatch,
    ChartWeightIn,
    ChartWeightPatch,
    ConditionOut,
    EnteredInErrorIn,
    MedicationOut,
    NoKnownAllergiesIn,
    PagedPatientSummary,
    PatientDetail,
    PatientIn,
    PatientPatch,
    SearchParams,
    WeightOut,
)
from prolotrack.patients.services import ChildModel

router = Router(tags=["patients"])


def _get(request: ApiRequest, patient_id: UUID) -> Patient:
    try:
        return queries.get_patient(request.clinic, patient_id)
    except Patient.DoesNotExist:
        raise Http404("No such patient in this clinic.") from None


def _detail(request: ApiRequest, patient: Patient) -> Patient:
    """The patient, with its clinical lists attached when the caller's role may see them."""
    membership = request.auth
    if not membership.can(Permission.PATIENT_VIEW_CLINICAL):
        return patient
    chart = queries.load_chart(patient)
    chart.patient.clinical_chart = chart
    return chart.patient


@router.get("", response=PagedPatientSummary, summary="Search patients by name, record number or date of birth")
@api_require(Permission.PATIENT_LIST)
def list_patients(request: ApiRequest, filters: Query[SearchParams]) -> Any:
    actor = request.actor
    found = queries.search_patients(request.clinic, filters.search)
    start = (filters.page - 1) * filters.page_size
    items = list(found[start : start + filters.page_size])
    # The trail names every patient the page showed (one event each, one insert).
    record_disclosure(actor, "patient.searched", items, detail={"search": filters.search[:100], "page": filters.page})
    return {"items": items, "count": found.count()}


@router.get("/{patient_id}", response={200: PatientDetail}, summary="Read one patient")
@api_require(Permission.PATIENT_VIEW_DEMOGRAPHICS)
def get_patient(request: ApiRequest, patient_id: UUID) -> Any:
    patient = _get(request, patient_id)
    record_read(request.actor, "patient.chart.viewed", record=patient, patient_uuid=patient.uuid)
    return _detail(request, patient)


@router.post("", response={201: PatientDetail}, summary="Register a patient")
@api_require(Permission.PATIENT_EDIT_DEMOGRAPHICS)
def create_patient(request: ApiRequest, payload: PatientIn) -> Any:
    patient = services.create_patient(request.actor, payload.dict())
    return Status(201, patient)


@router.patch(
    "/{patient_id}",
    response={200: PatientDetail},
    summary="Change a patient's demographics (send the version you read)",
)
@api_require(Permission.PATIENT_EDIT_DEMOGRAPHICS)
def update_patient(request: ApiRequest, patient_id: UUID, payload: PatientPatch) -> Any:
    patient = _get(request, patient_id)
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    reason = changes.pop("reason", "")
    patient = services.update_patient(request.actor, patient, changes, expected_version=version, reason=reason)
    return patient


# --- Chart lists: weights, conditions, medications, allergies ----------------------------------------------------
# The same services, permissions and audit actions as the chart pages (patients.views): add_child, edit_child,
# retire_child, confirm_no_known_allergies.

CHART_LISTS = (
    # kind, URL plural, model, create, patch and out schemas
    ("weight", "weights", WeightMeasurement, ChartWeightIn, ChartWeightPatch, WeightOut),
    ("condition", "conditions", Condition, ChartConditionIn, ChartConditionPatch, ConditionOut),
    ("medication", "medications", Medication, ChartMedicationIn, ChartMedicationPatch, MedicationOut),
    ("allergy", "allergies", Allergy, ChartAllergyIn, ChartAllergyPatch, AllergyOut),
)


def _values(model: ChildModel, data: dict[str, Any]) -> dict[str, Any]:
    """Schema values as the model stores them: an omitted or null text field is empty text, not NULL."""
    values = {}
    for name, value in data.items():
        field = model._meta.get_field(name)
        values[name] = "" if value is None and not field.null else value
    return values


def _child(patient: Patient, kind: str, record_id: UUID) -> Any:
    try:
        return queries.get_child(patient, kind, record_id)
    except ObjectDoesNotExist:
        raise Http404("No such record on this patient.") from None


def _chart_list_endpoints(kind: str, plural: str, model: ChildModel) -> tuple[Any, Any, Any, Any]:
    """The four endpoints of one chart list: list, add, change, mark entered in error."""

    @api_require(Permission.PATIENT_VIEW_CLINICAL)
    def list_records(request: ApiRequest, patient_id: UUID) -> Any:
        patient = _get(request, patient_id)
        record_read(request.actor, f"patient.{kind}.list.viewed", record=patient, patient_uuid=patient.uuid)
        return list(getattr(patient, plural).order_by(*(model._meta.ordering or ()), "id"))

    @api_require(Permission.PATIENT_EDIT_CLINICAL)
    def add_record(request: ApiRequest, patient_id: UUID, payload: Any) -> Any:
        patient = _get(request, patient_id)
        added = services.add_child(request.actor, patient, kind, _values(model, payload.dict()))
        if isinstance(added, Patient):
            # "NKA", "NKDA", SNOMED CT 716186003...: the chart's "no known allergies" confirmation, not an allergy
            # (docs/clinical/screening.md): answered with the patient, as POST .../no-known-allergies does.
            return Status(200, _detail(request, added))
        return Status(201, added)

    @api_require(Permission.PATIENT_EDIT_CLINICAL)
    def update_record(request: ApiRequest, patient_id: UUID, record_id: UUID, payload: Any) -> Any:
        record = _child(_get(request, patient_id), kind, record_id)
        changes = payload.dict(exclude_unset=True)
        version = changes.pop("version")
        reason = changes.pop("reason", "")
        return services.edit_child(
            request.actor, record, kind, _values(model, changes), expected_version=version, reason=reason
        )

    @api_require(Permission.RECORD_MARK_ERROR)
    def retire_record(request: ApiRequest, patient_id: UUID, record_id: UUID, payload: EnteredInErrorIn) -> Any:
        actor = request.actor
        record = _child(_get(request, patient_id), kind, record_id)
        return services.retire_child(actor, record, kind, reason=payload.reason, expected_version=payload.version)

    return list_records, add_record, update_record, retire_record


def _mount_chart_list(
    kind: str, plural: str, model: ChildModel, create_schema: type, patch_schema: type, out: type
) -> None:
    label = model._meta.verbose_name
    list_records, add_record, update_record, retire_record = _chart_list_endpoints(kind, plural, model)
    add_record.__annotations__["payload"] = create_schema
    update_record.__annotations__["payload"] = patch_schema
    base = f"/{{patient_id}}/{plural}"
    router.get(base, response={200: GenericAlias(list, (out,))}, operation_id=f"list_{plural}",
               summary=f"A patient's {label} list, including records entered in error")(list_records)  # fmt: skip
    nka = {200: PatientDetail} if kind == "allergy" else {}  # a "no known allergy" entry confirms it instead
    router.post(base, response={201: out, **nka}, operation_id=f"add_{kind}",
                summary=f"Add a {label}")(add_record)  # fmt: skip
    router.patch(f"{base}/{{record_id}}", response={200: out}, operation_id=f"update_{kind}",
                 summary=f"Change a {label} (send the version you read)")(update_record)  # fmt: skip
    router.post(f"{base}/{{record_id}}/entered-in-error", response={200: out},
                operation_id=f"retire_{kind}", summary=f"Mark a {label} entered in error, with why")(retire_record)  # fmt: skip


for _chart_list in CHART_LISTS:
    _mount_chart_list(*_chart_list)


@router.post(
    "/{patient_id}/no-known-allergies",
    response={200: PatientDetail},
    summary="Record that the patient was asked and has no known allergies (refused while allergies are recorded)",
)
@api_require(Permission.PATIENT_EDIT_CLINICAL)
def confirm_no_known_allergies(request: ApiRequest, patient_id: UUID, payload: NoKnownAllergiesIn) -> Any:
    patient = _get(request, patient_id)
    patient = services.confirm_no_known_allergies(request.actor, patient, expected_version=payload.version)
    return _detail(request, patient)
