"""Writes to the patient registry. Each function is one transaction with its audit row."""

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from prolotrack.audit.services import (
    Actor,
    ServiceError,
    create_record,
    create_records,
    mark_entered_in_error,
    only_fields,
    record_event,
    update_record,
)
from prolotrack.clinics.models import Clinic
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.domain.concepts import NO_KNOWN_ALLERGY_SNOMED, is_no_known_allergy, split_token
from prolotrack.domain.errors import InputError
from prolotrack.domain.inputs import check_not_future
from prolotrack.patients.models import Allergy, Condition, Medication, Observation, Patient, WeightMeasurement

PATIENT_FIELDS = (
    "mrn",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "email",
    "phone",
    "address_line",
    "city",
    "region",
    "postal_code",
    "country",
    "preferred_language",
)

# Registering may also set the language of the patient's pages and messages (an online booker confirmed by the front
# desk brings theirs: docs/BOOKING.md, "Pending patients"); the demographics form does not show it yet.
REGISTER_FIELDS = (*PATIENT_FIELDS, "preferred_language")

# Child records of a patient: model, the fields a user may set, and the action-code stem.
ChildModel = type[WeightMeasurement] | type[Condition] | type[Medication] | type[Allergy]
CHILD_MODELS: dict[str, tuple[ChildModel, tuple[str, ...]]] = {
    "weight": (WeightMeasurement, ("measured_on", "weight_kg", "note")),
    "condition": (
        Condition,
        (
            "category",
            "description",
            "screening_flag",
            "body_region",
            "laterality",
            "onset_date",
            "chronicity",
            "clinical_status",
            "prior_treatments",
            "note",
            "codes",
        ),
    ),
    "medication": (Medication, ("name", "drug_class", "dose", "status", "last_dose_date", "note", "codes")),
    "allergy": (Allergy, ("substance", "reaction", "severity", "note", "codes")),
}
# What another system sent, kept to serve it back the same (FHIR import only; not a field of the forms or the API):
# the codings as sent, and a weight's quantity as sent when not in kg.
SENT_FIELDS: dict[str, tuple[str, ...]] = {
    "weight": ("sent_quantity",),
    "condition": ("codings",),
    "medication": ("codings", "sent_as", "sent_request"),
    "allergy": ("codings", "sent_reactions"),
}


# What the sent codings describe: when staff change one of these, the codings another system sent no longer name the
# entry, so the edit clears them (the version row keeps them) rather than serve old codes beside new words.
CODED_BY: dict[str, tuple[str, ...]] = {
    "condition": ("description", "codes"),
    "medication": ("name", "codes"),
    "allergy": ("substance", "codes"),
}
# Likewise an allergy's reactions as sent describe its reaction words and severity.
REACTIONS_BY = ("reaction", "severity")


def _stale_sent(actor: Actor, record: Any, kind: str, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The sent fields a staff edit clears: {} for an import, or when the edit leaves what they describe alone."""
    if actor.channel == "fhir" or kind not in CODED_BY:
        return {}
    stale: dict[str, list[Any]] = {}
    described = {"codings": CODED_BY[kind], "sent_reactions": REACTIONS_BY if kind == "allergy" else ()}
    for sent, fields in described.items():
        if getattr(record, sent, None) and any(n in values and values[n] != getattr(record, n) for n in fields):
            stale[sent] = []
    return stale


def _fields(actor: Actor, kind: str) -> tuple[str, ...]:
    fields = CHILD_MODELS[kind][1]
    return fields + SENT_FIELDS[kind] if actor.channel == "fhir" else fields


MAX_CODES = 20
CODE_PATTERN = re.compile(r"^[^\s|\x00-\x1f\x7f]{0,200}\|[^\s|\x00-\x1f\x7f]{1,60}$")
CHANNEL_NAMES = {"web": "form", "api": "API", "fhir": "FHIR import", "system": "system"}

# Dates of things that already happened: none may be after the clinic's today, whatever the channel.
PAST_DATES = {"measured_on": "The measurement date", "onset_date": "Onset", "last_dose_date": "Last dose"}


def _check_past_dates(clinic: Any, values: Mapping[str, Any]) -> None:
    today = timezone.localdate(timezone=clinic.tz)
    errors = {}
    for name, what in PAST_DATES.items():
        day = values.get(name)
        if isinstance(day, date):
            try:
                check_not_future(day, today, what)
            except InputError as error:
                errors[name] = str(error)
    if errors:
        raise ValidationError(errors)


MRN_PATTERN = re.compile(r"^PT-(\d+)$")


def next_mrn(clinic: Any) -> str:
    """Next clinic-generated record number (PT-000001, …) for patients registered without one."""
    highest = 0
    for mrn in Patient.objects.filter(clinic=clinic, mrn__startswith="PT-").values_list("mrn", flat=True):
        match = MRN_PATTERN.match(mrn)
        if match:
            highest = max(highest, int(match.group(1)))
    return f"PT-{highest + 1:06d}"


def _locked_next_mrn(clinic: Any) -> str:
    """The next PT- number, with the clinic's row locked until the transaction ends: two registrations at once on
    PostgreSQL otherwise read the same highest number and the second was refused as a duplicate record number (found
    by bench/durability.py; SQLite's BEGIN IMMEDIATE already serialises them). FOR NO KEY UPDATE, not FOR UPDATE:
    it still serialises registrations, but leaves the row to the FOR KEY SHARE lock that PostgreSQL takes for every
    insert naming the clinic (an audit event, any record). With FOR UPDATE, a read's audit transaction holding the
    clinic's audit chain waited for the clinic row while the registration waited for the chain: deadlocks, 500s under
    bench/load.py (docs/PERFORMANCE.md, "Load")."""
    Clinic.objects.select_for_update(no_key=True).filter(pk=clinic.pk).first()
    return next_mrn(clinic)


def _blank(value: Any) -> bool:
    """No record number given: empty or spaces only. Python's str.strip() also strips control characters such as
    U+001F, which must reach the control-character check and be refused, not be replaced by a new number."""
    return not (value or "").strip(" \t\r\n")


def create_patient(actor: Actor, data: Mapping[str, Any]) -> Patient:
    """Register a patient in the actor's clinic."""
    require_permission(actor, Permission.PATIENT_EDIT_DEMOGRAPHICS)
    values = only_fields(data, REGISTER_FIELDS)
    try:
        with transaction.atomic():
            if _blank(values.get("mrn")):
                values["mrn"] = _locked_next_mrn(actor.clinic)
            patient = Patient(clinic=actor.clinic, **values)
            return create_record(actor, patient, "patient.created")
    except IntegrityError:
        raise ValidationError({"mrn": "Another patient in this clinic already has this record number."}) from None


def create_patients(actor: Actor, rows: list[Mapping[str, Any]]) -> list[Patient]:
    """`create_patient` for many patients at once (an import): same permission, fields and checks, written with
    `create_records` (one bulk insert, one audit-chain lock). A row without a record number gets the next PT-
    number, counting the numbers of the rows before it; a number already taken, in the clinic or twice in the
    rows, refuses them all."""
    require_permission(actor, Permission.PATIENT_EDIT_DEMOGRAPHICS)
    values = [only_fields(data, PATIENT_FIELDS) for data in rows]
    if not values:
        return []
    try:
        with transaction.atomic():
            if any(_blank(v.get("mrn")) for v in values):
                highest = int(_locked_next_mrn(actor.clinic).removeprefix("PT-")) - 1
                for v in values:
                    match = MRN_PATTERN.match(v.get("mrn") or "")
                    if match:
                        highest = max(highest, int(match.group(1)))
                for v in values:
                    if _blank(v.get("mrn")):
                        highest += 1
                        v["mrn"] = f"PT-{highest:06d}"
            patients = [Patient(clinic=actor.clinic, **v) for v in values]
            return create_records(actor, patients, "patient.created")
    except IntegrityError:
        raise ValidationError({"mrn": "Another patient in this clinic already has this record number."}) from None


def update_patient(
    actor: Actor, patient: Patient, data: Mapping[str, Any], *, expected_version: int | None, reason: str = ""
) -> Patient:
    """Change a patient's demographics, refusing a stale edit (`expected_version` None: a FHIR write without If-Match)."""
    require_permission(actor, Permission.PATIENT_EDIT_DEMOGRAPHICS)
    values = only_fields(data, PATIENT_FIELDS)
    if "mrn" in values and not (values["mrn"] or "").strip():
        raise ValidationError({"mrn": "A registered patient keeps a record number; it cannot be blank."})
    try:
        with transaction.atomic():
            return update_record(
                actor, patient, values, "patient.updated", expected_version=expected_version, reason=reason
            )
    except IntegrityError:
        raise ValidationError({"mrn": "Another patient in this clinic already has this record number."}) from None


def retire_patient(actor: Actor, patient: Patient, *, reason: str, expected_version: int | None = None) -> Patient:
    """Mark a patient registered by mistake (e.g. a duplicate) as entered in error."""
    require_permission(actor, Permission.RECORD_MARK_ERROR)
    with transaction.atomic():
        return mark_entered_in_error(
            actor, patient, "patient.entered_in_error", reason=reason, expected_version=expected_version
        )


def _clean_codes(values: dict[str, Any]) -> dict[str, Any]:
    """Refuse codes that are not a short list of "system|code" strings (they come from imports and the API)."""
    if "codes" not in values:
        return values
    codes = values["codes"]
    if codes is None:
        codes = []
    if not isinstance(codes, list | tuple) or len(codes) > MAX_CODES:
        raise ValidationError({"codes": f'Codes must be a list of at most {MAX_CODES} "system|code" values.'})
    for code in codes:
        if not isinstance(code, str) or not CODE_PATTERN.match(code):
            raise ValidationError({"codes": f"{code!r} is not a code: write it as system|code (no spaces)."})
    return {**values, "codes": list(dict.fromkeys(codes))}


CODING_KEYS = {"system": 200, "code": 60, "display": 500}  # longest kept, in characters
QUANTITY_KEYS = {"value", "unit", "system", "code"}


def _clean_sent(values: dict[str, Any]) -> dict[str, Any]:
    """Refuse codings that are not a short list of {system, code, display} strings, and a sent quantity that is not
    {value, unit, system, code} with a number value (both come from imports: what is served back as sent)."""
    if "codings" in values:
        codings = values["codings"] or []
        if not isinstance(codings, list | tuple) or len(codings) > MAX_CODES:
            raise ValidationError({"codings": f"Codings must be a list of at most {MAX_CODES} codings."})
        for item in codings:
            if (
                not isinstance(item, dict)
                or not item
                or not set(item) <= set(CODING_KEYS)
                or any(not isinstance(v, str) or len(v) > CODING_KEYS[k] for k, v in item.items())
            ):
                raise ValidationError({"codings": f"{item!r} is not a coding (system, code, display: short text)."})
        values = {**values, "codings": [dict(c) for c in codings]}
    if "sent_quantity" in values:
        sent = values["sent_quantity"] or {}
        if not isinstance(sent, dict) or not set(sent) <= QUANTITY_KEYS:
            raise ValidationError({"sent_quantity": "The sent quantity holds only value, unit, system and code."})
        if sent and (isinstance(sent.get("value"), bool) or not isinstance(sent.get("value"), int | float | str)):
            raise ValidationError({"sent_quantity": "The sent quantity needs a number value."})
        if any(not isinstance(sent[k], str) or len(sent[k]) > 200 for k in ("unit", "system", "code") if k in sent):
            raise ValidationError({"sent_quantity": "The sent quantity's unit, system and code are short text."})
        values = {**values, "sent_quantity": dict(sent)}
    if "sent_reactions" in values:
        values = {**values, "sent_reactions": _clean_reactions(values["sent_reactions"])}
    if values.get("sent_as") not in (None, "", "MedicationRequest"):
        raise ValidationError({"sent_as": "A medication is sent as a MedicationRequest, or as nothing else."})
    if "sent_request" in values:
        sent_request = values["sent_request"] or {}
        if (
            not isinstance(sent_request, dict)
            or not set(sent_request) <= SENT_REQUEST_KEYS
            or any(not isinstance(v, str) or len(v) > 40 for v in sent_request.values())
        ):
            raise ValidationError({"sent_request": "The order's elements are intent, status and authoredOn, as text."})
        values = {**values, "sent_request": dict(sent_request)}
    return values


SENT_REQUEST_KEYS = {"intent", "status", "authoredOn"}


MAX_REACTIONS = 20
MAX_REACTIONS_JSON = 20_000  # characters of JSON, all reactions together


def _clean_reactions(reactions: Any) -> list[dict[str, Any]]:
    """An allergy's reactions as sent: a short list of FHIR reaction objects, each with its manifestations."""
    reactions = reactions or []
    if (
        not isinstance(reactions, list | tuple)
        or len(reactions) > MAX_REACTIONS
        or any(not isinstance(r, dict) or not isinstance(r.get("manifestation"), list) for r in reactions)
    ):
        raise ValidationError(
            {"sent_reactions": f"Reactions must be a list of at most {MAX_REACTIONS}, each with its manifestations."}
        )
    if len(json.dumps(list(reactions), default=str)) > MAX_REACTIONS_JSON:
        raise ValidationError({"sent_reactions": f"The reactions are over {MAX_REACTIONS_JSON:,} characters."})
    return [dict(r) for r in reactions]


def is_no_known_allergy_entry(data: Mapping[str, Any]) -> bool:
    """Return True when an allergy entry is a "no known allergy" statement (SNOMED CT code, NKA, NKDA...)."""
    codes = data.get("codes") or []
    return is_no_known_allergy(str(data.get("substance") or ""), codes if isinstance(codes, list | tuple) else [])


def _nka_source(actor: Actor, data: Mapping[str, Any] | None) -> str:
    channel = CHANNEL_NAMES.get(actor.channel, actor.channel or "form")
    if not data:
        return f"{channel}: asked and confirmed"
    for value in data.get("codes") or []:
        _system, code = split_token(str(value))
        if code in NO_KNOWN_ALLERGY_SNOMED:
            return f"{channel}: SNOMED CT {code} {NO_KNOWN_ALLERGY_SNOMED[code]}"[:200]
    return f"{channel}: entry {str(data.get('substance') or '').strip()!r}"[:200]


def _who(actor: Actor) -> str:
    if actor.user is None:
        return "system"
    name = actor.user.get_full_name() if hasattr(actor.user, "get_full_name") else ""
    who = (name or str(actor.user)).strip()
    return (f"{who} ({actor.role})" if actor.role else who)[:200]


def add_child(actor: Actor, patient: Patient, kind: str, data: Mapping[str, Any]) -> Any:
    """Add a weight, condition, medication or allergy to a patient's record.

    An allergy entry that says "no known allergy" (NKA, NKDA, SNOMED CT 716186003...) is not an allergy: it sets the
    chart's "no known allergies" confirmation instead (refused while real allergies are recorded), and the patient
    is returned.
    """
    if kind == "allergy" and is_no_known_allergy_entry(data):
        return confirm_no_known_allergies(actor, patient, source=_nka_source(actor, data))
    return add_children(actor, kind, [(patient, data)])[0]


def add_children(actor: Actor, kind: str, rows: list[tuple[Patient, Mapping[str, Any]]]) -> list[Any]:
    """Add records of one kind to patients' records (one for `add_child`, many for an import), written with
    `create_records` in one go. A patient marked as having no known allergies who gets an allergy has the mark
    cleared."""
    model, _ = CHILD_MODELS[kind]
    fields = _fields(actor, kind)
    require_permission(actor, Permission.PATIENT_EDIT_CLINICAL)
    records = []
    for patient, data in rows:
        if patient.is_entered_in_error:
            raise ServiceError("This patient record was marked entered in error; add nothing to it.")
        if kind == "allergy" and is_no_known_allergy_entry(data):
            raise ValidationError(
                {
                    "substance": f"'{data.get('substance')}' says the patient has no known allergies; it is not an "
                    'allergy. Confirm "no known allergies" instead.'
                }
            )
        values = _clean_sent(_clean_codes(only_fields(data, fields)))
        _check_past_dates(patient.clinic, values)
        records.append(model(clinic=patient.clinic, patient=patient, **values))
    with transaction.atomic():
        created = create_records(actor, records, f"patient.{kind}.added")
        if kind == "allergy":
            # Read the confirmation from the database: the caller's patient objects may be older than this
            # transaction (an import that confirmed "no known allergies" earlier in the same bundle).
            confirmed = Patient.objects.filter(pk__in={p.pk for p, _ in rows}, no_known_allergies=True).order_by("pk")
            for patient in confirmed:
                update_record(
                    actor,
                    patient,
                    {
                        "no_known_allergies": False,
                        "no_known_allergies_at": None,
                        "no_known_allergies_by": "",
                        "no_known_allergies_source": "",
                    },
                    "patient.allergies.reviewed",
                    expected_version=None,
                    reason="An allergy was recorded.",
                )
                for row_patient, _ in rows:
                    if row_patient.pk == patient.pk:
                        row_patient.no_known_allergies = False
        return created


def confirm_no_known_allergies(
    actor: Actor, patient: Patient, *, expected_version: int | None = None, source: str = ""
) -> Patient:
    """Record that the patient was asked and has no known allergies: who, when and through which channel."""
    require_permission(actor, Permission.PATIENT_EDIT_CLINICAL)
    if patient.is_entered_in_error:
        raise ServiceError("This patient record was marked entered in error; add nothing to it.")
    active = patient.allergies.filter(entered_in_error_at__isnull=True)
    if active.exists():
        names = ", ".join(active.values_list("substance", flat=True))
        raise ServiceError(f"This patient has recorded allergies ({names}): mark them entered in error first if wrong.")
    with transaction.atomic():
        return update_record(
            actor,
            patient,
            {
                "no_known_allergies": True,
                "no_known_allergies_at": timezone.now(),
                "no_known_allergies_by": _who(actor),
                "no_known_allergies_source": (source or _nka_source(actor, None))[:200],
            },
            "patient.allergies.reviewed",
            expected_version=expected_version,
            reason="Asked: no known allergies.",
        )


def record_no_known_allergies(actor: Actor, patient: Patient, data: Mapping[str, Any]) -> Patient:
    """A "no known allergy" entry from any channel (form, API, FHIR or another import): confirm it on the chart.

    It never becomes an allergy. If real allergies are already recorded they win and the chart is unchanged (an
    audit event says the entry was not applied); a confirmation already in place is kept as it is.
    """
    require_permission(actor, Permission.PATIENT_EDIT_CLINICAL)
    patient = Patient.objects.get(pk=patient.pk)  # the current row: an allergy in the same import may have cleared it
    if patient.allergies.filter(entered_in_error_at__isnull=True).exists() or patient.no_known_allergies:
        with transaction.atomic():
            record_event(
                actor,
                "patient.allergies.nka_not_applied",
                record=patient,
                detail={"source": _nka_source(actor, data), "already_confirmed": patient.no_known_allergies},
            )
        return patient
    return confirm_no_known_allergies(actor, patient, source=_nka_source(actor, data))


def edit_child(
    actor: Actor, record: Any, kind: str, data: Mapping[str, Any], *, expected_version: int | None, reason: str = ""
) -> Any:
    """Change a weight, condition, medication or allergy, refusing a stale edit (None: a FHIR write without If-Match)."""
    fields = _fields(actor, kind)
    require_permission(actor, Permission.PATIENT_EDIT_CLINICAL)
    values = _clean_sent(_clean_codes(only_fields(data, fields)))
    values.update(_stale_sent(actor, record, kind, values))
    if kind == "allergy" and is_no_known_allergy_entry({**record.__dict__, **values}):
        raise ValidationError(
            {
                "substance": 'A "no known allergy" statement is not an allergy: mark this entry entered in error and '
                'confirm "no known allergies" instead.'
            }
        )
    _check_past_dates(record.clinic, values)
    with transaction.atomic():
        return update_record(
            actor, record, values, f"patient.{kind}.updated", expected_version=expected_version, reason=reason
        )


def retire_child(actor: Actor, record: Any, kind: str, *, reason: str, expected_version: int | None = None) -> Any:
    """Mark a weight, condition, medication or allergy as entered in error."""
    require_permission(actor, Permission.RECORD_MARK_ERROR)
    with transaction.atomic():
        return mark_entered_in_error(
            actor, record, f"patient.{kind}.entered_in_error", reason=reason, expected_version=expected_version
        )


# Observations received from another system (FHIR), kept as sent: the fields an import sets.
OBSERVATION_FIELDS = (
    "status",
    "code_text",
    "code_tokens",
    "category_tokens",
    "effective_text",
    "has_effective",
    "effective_start",
    "effective_end",
    "value_text",
    "resource",
    "pain_answer",
)


def add_observations(actor: Actor, rows: list[tuple[Patient, Mapping[str, Any]]]) -> list[Observation]:
    """Keep Observations received from another system on patients' records, as sent, in one go."""
    require_permission(actor, Permission.PATIENT_EDIT_CLINICAL)
    records = []
    for patient, data in rows:
        if patient.is_entered_in_error:
            raise ServiceError("This patient record was marked entered in error; add nothing to it.")
        records.append(Observation(clinic=patient.clinic, patient=patient, **only_fields(data, OBSERVATION_FIELDS)))
    with transaction.atomic():
        return create_records(actor, records, "patient.observation.added")


def edit_observation(
    actor: Actor, record: Observation, data: Mapping[str, Any], *, expected_version: int | None, reason: str = ""
) -> Observation:
    """Replace a kept Observation with a newer one from the same source (a re-import, PUT or PATCH), refusing a
    stale edit; the earlier one stays in the record's history. Its pain answer is never changed from here."""
    require_permission(actor, Permission.PATIENT_EDIT_CLINICAL)
    values = only_fields(data, OBSERVATION_FIELDS)
    if "pain_answer" in values and values["pain_answer"] != record.pain_answer:
        raise ServiceError("The pain answer an Observation holds is not changed by an update.")
    values.pop("pain_answer", None)
    with transaction.atomic():
        return update_record(
            actor, record, values, "patient.observation.updated", expected_version=expected_version, reason=reason
        )


def retire_observation(
    actor: Actor, record: Observation, *, reason: str, expected_version: int | None = None
) -> Observation:
    """Mark a kept Observation entered in error (and the pain answer it is, in the same transaction)."""
    require_permission(actor, Permission.RECORD_MARK_ERROR)
    with transaction.atomic():
        retired = mark_entered_in_error(
            actor, record, "patient.observation.entered_in_error", reason=reason, expected_version=expected_version
        )
        answer = record.pain_answer
        if answer is not None and answer.entered_in_error_at is None:
            mark_entered_in_error(actor, answer, "questionnaire_response.entered_in_error", reason=reason)
        return retired
