"""The FHIR resource types served, each with its model source(s), mapper, permission and search parameters.

One table drives read, search, `_include`, the CapabilityStatement and Bulk export, so they cannot disagree.
A type may have several sources (Observation: weights, then questionnaire scores); paging walks them in order.
"""

import uuid as uuid_lib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db import connection, models
from django.db.models import Model, Q, QuerySet

from prolotrack.booking.models import Appointment as BookedAppointment
from prolotrack.booking.models import AppointmentStatus, TypeClinician
from prolotrack.clinics.models import Clinic, Membership
from prolotrack.clinics.roles import Permission
from prolotrack.consent.models import Consent
from prolotrack.documents.models import Document
from prolotrack.fhir import mappers as m
from prolotrack.fhir.models import Cohort
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.patients.models import Allergy, Condition, Medication, Observation, Patient, WeightMeasurement
from prolotrack.treatment.models import AdverseEvent, Course, InjectionSite, PreparedSolution, TreatmentSession

# orjson option for resources mapped from raw rows: SQLite's naive datetimes are UTC.
DUMP_OPTION = orjson.OPT_NAIVE_UTC
NOT_EIE = Q(entered_in_error_at__isnull=True)
EIE = Q(entered_in_error_at__isnull=False)
NOTHING = Q(pk__in=[])


def any_of(filters: list[Q]) -> Q:
    """OR of filters; an empty Q() (everything) wins (Django drops an empty Q() from `a | Q()`); none: nothing."""
    if not filters:
        return NOTHING
    if any(not q for q in filters):
        return Q()
    out = filters[0]
    for q in filters[1:]:
        out = out | q
    return out


def _status(mapping: Mapping[str, Q]) -> dict[str, Q]:
    """FHIR status code -> filter; live codes exclude records entered in error, which have their own code."""
    out = {code: q & NOT_EIE for code, q in mapping.items()}
    out["entered-in-error"] = EIE
    return out


@dataclass(frozen=True)
class DateParam:
    field: str
    is_datetime: bool = False
    # Only rows where the resource has the element searched (FHIR: a resource without it never matches a date
    # search), e.g. Procedure.performed[x] exists only for a session done.
    only: Q | None = None
    # A period: `field` is its start and `end` its (exclusive) end, None meaning unbounded (FHIR prefixes over
    # periods, daterange.py). Without `end` the field is one value: a date (its local day) or a datetime.
    end: str | None = None
    # A period that is never closed in what is served (CarePlan.period has a start only): its end is unbounded, and
    # `field` (a date or a datetime, as is_datetime says) is its start.
    open_end: bool = False


@dataclass(frozen=True)
class ParamFilter:
    """A search parameter of FHIR type `kind` (string | token): `build(value, modifier)` is the filter for one
    value (the comma-separated values of one parameter are ORed, repeated parameters ANDed); `modifiers` lists
    the modifiers it takes besides none."""

    kind: str
    build: Callable[[str, str | None], Q]
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """One model that yields resources of a type."""

    model: type[Model]
    fields: tuple[str, ...]
    mapper: Callable[[Mapping[str, Any]], dict[str, Any]]
    clinic_path: str = "clinic_id"
    id_path: str = "uuid"
    patient_path: str | None = "patient__uuid"
    updated_path: str = "updated_at"
    base: Q | None = None
    dates: Mapping[str, DateParam] = field(default_factory=dict)
    statuses: Mapping[str, Q] = field(default_factory=dict)
    status_param: str = "status"
    # (system or None, code) -> filter; a code not listed matches nothing from this source.
    code_filter: Callable[[str | None, str], Q | None] | None = None
    # Other search parameters: name -> ParamFilter (docs/FHIR.md, "Search").
    params: Mapping[str, "ParamFilter"] = field(default_factory=dict)
    # Extra lookups for a batch of rows (one query per batch), before mapping.
    enrich: Callable[[list[dict[str, Any]]], None] | None = None
    versioned: bool = True

    def queryset(self, clinic: Clinic) -> QuerySet:
        qs = self.model._default_manager.filter(**{self.clinic_path: clinic.pk})
        if self.base is not None:
            qs = qs.filter(self.base)
        return qs

    def fetch_raw(self, qs: QuerySet) -> list[dict[str, Any]]:
        """The rows of `qs.values(*self.fields)` through a raw cursor, skipping Django's per-value converters (the
        export's hot path: they cost more than the mapping). Values come decoded just enough for the mappers: ids
        as strings, JSON parsed, booleans as bools. SQLite gives datetimes naive (in UTC): dump the resources with
        `orjson.OPT_NAIVE_UTC` (DUMP_OPTION). On PostgreSQL the cursor loads with psycopg's compiled loaders
        (`_fast_loaders`): UUIDs as their text, numerics as floats, timestamps without Django's Python loader."""
        sql, params = qs.values(*self.fields).query.sql_with_params()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                _fast_loaders(cursor.cursor)
            cursor.execute(sql, params)
            raw = cursor.fetchall()
        fields = self.fields
        rows = [dict(zip(fields, r, strict=True)) for r in raw]
        for name, decode in _decoders(self, connection.vendor):
            for row in rows:
                value = row[name]
                if value is not None:
                    row[name] = decode(value)
        return rows

    def map_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.enrich is not None and rows:
            self.enrich(rows)
        mapper = self.mapper
        return [mapper(r) for r in rows]


def _fast_loaders(cursor: Any) -> None:
    """Make a psycopg 3 cursor load the export's rows with psycopg's compiled (C) loaders, as the mappers take them
    from SQLite's raw rows too: a UUID as its text (the lowercase hyphenated form str(UUID) gives, without building a
    UUID object to format again), a numeric as a float (the mappers' `num` makes whole values ints, as from SQLite;
    float(text) is the same float as float(Decimal(text))), a timestamp with time zone by psycopg's own loader in the
    session's zone (UTC, as Django sets it) instead of Django's Python subclass, which parses each value with a
    regular expression. Profiled at 9,000 patients, loading values took 16.1 of the 50.6 µs of CPU a resource cost;
    2.8 µs with these (docs/PERFORMANCE.md, "Bulk export at 9,000 network-shape patients: where the time went")."""
    from psycopg.types.datetime import TimestamptzLoader
    from psycopg.types.numeric import FloatLoader
    from psycopg.types.string import TextLoader

    adapters = cursor.adapters
    adapters.register_loader("uuid", TextLoader)
    adapters.register_loader("numeric", FloatLoader)
    adapters.register_loader("timestamptz", TimestamptzLoader)


def _hyphenate(value: Any) -> Any:
    """SQLite keeps a UUID as 32 hex digits; FHIR ids are the hyphenated form."""
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return value


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


_DECODERS: dict[tuple[int, str], list[tuple[str, Callable[[Any], Any]]]] = {}


def _decoders(source: "Source", vendor: str) -> list[tuple[str, Callable[[Any], Any]]]:
    key = (id(source), vendor)
    found = _DECODERS.get(key)
    if found is None:
        found = []
        for name in source.fields:
            model: Any = source.model
            parts = name.split("__")
            for part in parts[:-1]:
                model = model._meta.get_field(part).related_model
            target = model._meta.get_field(parts[-1])
            if isinstance(target, models.JSONField):
                found.append((name, _json))
            elif vendor == "sqlite" and isinstance(target, models.UUIDField):
                found.append((name, _hyphenate))
            elif vendor == "sqlite" and isinstance(target, models.BooleanField):
                found.append((name, bool))
        _DECODERS[key] = found
    return found


@dataclass(frozen=True)
class Include:
    target: str  # resource type
    path: str  # row field holding the target's id


@dataclass(frozen=True)
class ResourceType:
    name: str
    permission: Permission
    sources: tuple[Source, ...]
    # Types with no status that can say "entered-in-error" answer 410 Gone for such a record and leave it out of
    # search and export; the others serve it with that status (docs/FHIR.md, "Entered in error").
    gone_when_eie: bool = False
    patient_params: tuple[str, ...] = ("patient", "subject")
    includes: Mapping[str, Include] = field(default_factory=dict)
    in_patient_compartment: bool = True
    profile_note: str = ""

    def search_params(self) -> list[tuple[str, str]]:
        """(name, type) of every search parameter, for the CapabilityStatement."""
        params = [("_id", "token"), ("_lastUpdated", "date")]
        params += [(p, "reference") for p in self.patient_params if self.sources[0].patient_path]
        seen: set[str] = set()
        for source in self.sources:
            for name in source.dates:
                if name not in seen:
                    seen.add(name)
                    params.append((name, "date"))
        if any(s.statuses for s in self.sources):
            params.append((self.sources[0].status_param, "token"))
        if any(s.code_filter for s in self.sources):
            params.append(("code", "token"))
        for source in self.sources:
            for name, param in source.params.items():
                if name not in seen:
                    seen.add(name)
                    params.append((name, param.kind))
        return params


# ---------------------------------------------------------------- code filters and enrichers


def _weight_code(system: str | None, code: str) -> Q | None:
    return Q() if code == "29463-7" and system in (None, m.LOINC) else None


_LOINC_INSTRUMENT = {c["code"]: k for k, c in m.INSTRUMENT_LOINC.items()}


def _score_code(system: str | None, code: str) -> Q | None:
    if system in (None, m.LOINC) and code in _LOINC_INSTRUMENT:
        return Q(instrument=_LOINC_INSTRUMENT[code])
    if system in (None, m.CS_INSTRUMENT):
        return Q(instrument=code)
    return None


def _token_value(system: str | None, code: str) -> str:
    """A token as the kept Observation's token columns hold it: " system|code " (spaces as %20); code alone
    matches it in any system."""
    code = code.strip().replace(" ", "%20")
    return f" {system}|{code} " if system is not None else f"|{code} "


def _kept_code(system: str | None, code: str) -> Q | None:
    return Q(code_tokens__contains=_token_value(system, code))


def _token_in(column: str) -> Callable[[str, str | None], Q]:
    def build(value: str, modifier: str | None) -> Q:
        system, bar, code = value.partition("|")
        if not bar:
            return Q(**{f"{column}__contains": _token_value(None, value)})
        return Q(**{f"{column}__contains": _token_value(system, code)})

    return build


_OBSERVATION_STATUSES = ("registered", "preliminary", "final", "amended", "corrected", "unknown")


def _condition_code(system: str | None, code: str) -> Q | None:
    """Condition code: ProloTrack's screening flag (its own system), or a coding kept from an import (the
    condition's `codes`, "system|code"; compared ignoring case, as the JSON text is searched)."""
    code = code.strip()
    if not code:
        return None
    flag = Q(screening_flag=code)
    if system == m.CS_SCREENING_FLAG:
        return flag
    if system is not None:
        return Q(codes__icontains=f'"{system}|{code}"')
    return Q(codes__icontains=f'|{code}"') | flag


def _procedure_code(system: str | None, code: str) -> Q | None:
    if (system in (None, m.CS_PROCEDURE) and code == "prolotherapy") or (system in (None, m.HCPCS) and code == "M0076"):
        return Q()
    return None


def _session_sites(rows: list[dict[str, Any]]) -> None:
    """Each session's live injection sites (BodyStructure ids), in one raw query per batch."""
    qs = (
        InjectionSite.objects.filter(session_id__in=[r["id"] for r in rows], entered_in_error_at__isnull=True)
        .order_by("session_id", "number")
        .values_list("session_id", "uuid")
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _fast_loaders(cursor.cursor)
        cursor.execute(sql, params)
        found = cursor.fetchall()
    by_session: dict[int, list[Any]] = {}
    for session_id, uuid in found:
        by_session.setdefault(session_id, []).append(_hyphenate(uuid))
    for r in rows:
        r["_sites"] = by_session.get(r["id"])


def _procedure(r: Mapping[str, Any]) -> dict[str, Any]:
    return m.procedure(r, r.get("_sites"))


def _clinical_dates(name: str, path: str, is_datetime: bool = False) -> dict[str, DateParam]:
    return {name: DateParam(path, is_datetime)}


PATIENT_INCLUDE = Include("Patient", "patient__uuid")


def _words(field_names: tuple[str, ...]) -> Callable[[str, str | None], Q]:
    """FHIR string search over name parts: by default a part (a word of the field) starts with the value,
    ignoring case; `:contains` anywhere; `:exact` a whole part, same case."""

    def build(value: str, modifier: str | None) -> Q:
        value = value.strip()
        if not value:
            return NOTHING
        q = Q(pk__in=[])
        for name in field_names:
            if modifier == "contains":
                q |= Q(**{f"{name}__icontains": value})
            elif modifier == "exact":
                q |= Q(**{name: value}) | Q(**{f"{name}__startswith": value + " "})
                q |= Q(**{f"{name}__endswith": " " + value}) | Q(**{f"{name}__contains": f" {value} "})
            else:
                q |= Q(**{f"{name}__istartswith": value}) | Q(**{f"{name}__icontains": " " + value})
        return q

    return build


def _identifier(value: str, modifier: str | None) -> Q:
    """Patient identifier: [system|]value against the record number; the system must be ProloTrack's own MRN
    system of this clinic (https://prolotrack.org/fhir/clinic/<clinic uuid>/mrn) or absent."""
    system, bar, code = value.partition("|")
    if not bar:
        return Q(mrn=value.strip())
    if not code:
        return NOTHING
    if system:
        prefix = f"{m.BASE}/clinic/"
        if not (system.startswith(prefix) and system.endswith("/mrn")):
            return NOTHING
        try:
            clinic_uuid = uuid_lib.UUID(system[len(prefix) : -len("/mrn")])
        except ValueError:
            return NOTHING
        return Q(mrn=code.strip(), clinic__uuid=clinic_uuid)
    return Q(mrn=code.strip())


def _telecom(*fields: str) -> Callable[[str, str | None], Q]:
    def build(value: str, modifier: str | None) -> Q:
        _, bar, code = value.partition("|")
        code = (code if bar else value).strip()
        if not code:
            return NOTHING
        q = Q(pk__in=[])
        for name in fields:
            q |= Q(**{f"{name}__iexact": code})
        return q

    return build


def _gender(value: str, modifier: str | None) -> Q:
    code = value.partition("|")[2] if "|" in value else value
    return Q(sex=code.strip())


THO = "http://terminology.hl7.org/CodeSystem"


def _category(codes: Mapping[tuple[str, str], Q]) -> ParamFilter:
    """`category` token search over the categories a mapper writes: (system, code) -> filter; `code` alone matches
    that code in any of the listed systems; anything else matches nothing."""

    def build(value: str, modifier: str | None) -> Q:
        system, bar, code = value.partition("|")
        if not bar:
            system, code = "", value
        return any_of(
            [
                found
                for (known_system, known_code), found in codes.items()
                if code.strip() == known_code and (not system or system == known_system)
            ]
        )

    return ParamFilter("token", build)


CONDITION_CATEGORY = _category(
    {
        (f"{THO}/condition-category", "problem-list-item"): Q(),
        (m.CS_CONDITION_CATEGORY, "complaint"): Q(category="complaint"),
        (m.CS_CONDITION_CATEGORY, "comorbidity"): Q(category="comorbidity"),
    }
)
VITAL_SIGNS_CATEGORY = _category({(f"{THO}/observation-category", "vital-signs"): Q()})
SURVEY_CATEGORY = _category({(f"{THO}/observation-category", "survey"): Q()})

PATIENT_PARAMS: dict[str, ParamFilter] = {
    "name": ParamFilter("string", _words(("given_name", "family_name")), ("exact", "contains")),
    "family": ParamFilter("string", _words(("family_name",)), ("exact", "contains")),
    "given": ParamFilter("string", _words(("given_name",)), ("exact", "contains")),
    "identifier": ParamFilter("token", _identifier),
    "phone": ParamFilter("token", _telecom("phone")),
    "email": ParamFilter("token", _telecom("email")),
    "telecom": ParamFilter("token", _telecom("phone", "email")),
    "gender": ParamFilter("token", _gender),
}

# ---------------------------------------------------------------- the table

TYPES: dict[str, ResourceType] = {}


def _register(rt: ResourceType) -> None:
    TYPES[rt.name] = rt


_register(
    ResourceType(
        "Patient",
        Permission.PATIENT_VIEW_DEMOGRAPHICS,
        (
            Source(
                Patient,
                m.PATIENT_FIELDS,
                m.patient,
                patient_path="uuid",
                dates=_clinical_dates("birthdate", "date_of_birth"),
                params=PATIENT_PARAMS,
            ),
        ),
        gone_when_eie=True,
        patient_params=(),
    )
)
_register(
    ResourceType(
        "Organization",
        Permission.PROTOCOL_VIEW,
        (
            Source(
                Clinic,
                m.ORGANIZATION_FIELDS,
                m.organization,
                clinic_path="pk",
                patient_path=None,
                updated_path="created_at",
                versioned=False,
            ),
        ),
        patient_params=(),
        in_patient_compartment=False,
    )
)
_register(
    ResourceType(
        "Practitioner",
        Permission.SCHEDULE_VIEW,
        (
            Source(
                Membership,
                m.PRACTITIONER_FIELDS,
                m.practitioner,
                id_path="user__uuid",
                patient_path=None,
                updated_path="created_at",
                versioned=False,
            ),
        ),
        patient_params=(),
        in_patient_compartment=False,
    )
)
_CLINICAL_STATUS = {"active": Q(clinical_status="active"), "resolved": Q(clinical_status="resolved")}
_register(
    ResourceType(
        "Condition",
        Permission.PATIENT_VIEW_CLINICAL,
        (
            Source(
                Condition,
                m.CONDITION_FIELDS,
                m.condition,
                dates={"onset-date": DateParam("onset_date"), "recorded-date": DateParam("created_at", True)},
                statuses={**{k: v & NOT_EIE for k, v in _CLINICAL_STATUS.items()}},
                status_param="clinical-status",
                code_filter=_condition_code,
                params={"category": CONDITION_CATEGORY},
            ),
        ),
        includes={"Condition:patient": PATIENT_INCLUDE, "Condition:subject": PATIENT_INCLUDE},
    )
)
_register(
    ResourceType(
        "AllergyIntolerance",
        Permission.PATIENT_VIEW_CLINICAL,
        (
            Source(
                Allergy,
                m.ALLERGY_FIELDS,
                m.allergy,
                dates=_clinical_dates("date", "created_at", True),
                statuses={"active": NOT_EIE},
                status_param="clinical-status",
            ),
        ),
        patient_params=("patient",),
        includes={"AllergyIntolerance:patient": PATIENT_INCLUDE},
    )
)
_register(
    ResourceType(
        "MedicationStatement",
        Permission.PATIENT_VIEW_CLINICAL,
        (
            Source(
                Medication,
                m.MEDICATION_STATEMENT_FIELDS,
                m.medication_statement,
                # A medicine that came as an order reads back as that MedicationRequest (below), not as both.
                base=~Q(sent_as="MedicationRequest"),
                statuses=_status({"active": Q(status="active"), "stopped": Q(status="stopped")}),
            ),
        ),
        includes={"MedicationStatement:patient": PATIENT_INCLUDE, "MedicationStatement:subject": PATIENT_INCLUDE},
    )
)
_register(
    ResourceType(
        "MedicationRequest",
        Permission.PATIENT_VIEW_CLINICAL,
        (
            Source(
                Medication,
                m.MEDICATION_REQUEST_FIELDS,
                m.medication_request,
                base=Q(sent_as="MedicationRequest"),
                statuses=_status(
                    {
                        "active": Q(status__in=("active", "as_needed")),
                        "stopped": Q(status="stopped", sent_request__status="stopped"),
                        "completed": Q(status="stopped", sent_request__status="completed"),
                    }
                ),
            ),
        ),
        patient_params=("patient", "subject"),
        includes={"MedicationRequest:patient": PATIENT_INCLUDE, "MedicationRequest:subject": PATIENT_INCLUDE},
    )
)
_register(
    ResourceType(
        "Observation",
        Permission.PATIENT_VIEW_CLINICAL,
        (
            Source(
                WeightMeasurement,
                m.WEIGHT_FIELDS,
                m.weight_observation,
                dates=_clinical_dates("date", "measured_on"),
                statuses=_status({"final": Q()}),
                code_filter=_weight_code,
                params={"category": VITAL_SIGNS_CATEGORY},
            ),
            Source(
                QuestionnaireResponse,
                m.RESPONSE_FIELDS,
                m.score_observation,
                # A pain answer that came as an Observation is served as that Observation (the third source).
                base=Q(status="completed", score__isnull=False, source_observation__isnull=True),
                dates=_clinical_dates("date", "authored_on"),
                statuses=_status({"final": Q()}),
                code_filter=_score_code,
                params={"category": SURVEY_CATEGORY},
            ),
            Source(
                Observation,
                m.KEPT_OBSERVATION_FIELDS,
                m.kept_observation,
                dates={
                    "date": DateParam("effective_start", True, only=Q(has_effective=True), end="effective_end"),
                },
                statuses=_status({code: Q(status=code) for code in _OBSERVATION_STATUSES}),
                code_filter=_kept_code,
                params={"category": ParamFilter("token", _token_in("category_tokens"))},
            ),
        ),
        includes={"Observation:patient": PATIENT_INCLUDE, "Observation:subject": PATIENT_INCLUDE},
    )
)
_register(
    ResourceType(
        "QuestionnaireResponse",
        Permission.OUTCOMES_VIEW,
        (
            Source(
                QuestionnaireResponse,
                m.RESPONSE_FIELDS,
                m.questionnaire_response,
                dates=_clinical_dates("authored", "authored_on"),
                statuses=_status({"completed": Q(status="completed"), "in-progress": Q(status="in_progress")}),
            ),
        ),
        includes={
            "QuestionnaireResponse:patient": PATIENT_INCLUDE,
            "QuestionnaireResponse:subject": PATIENT_INCLUDE,
            "QuestionnaireResponse:based-on": Include("CarePlan", "course__uuid"),
        },
    )
)
_register(
    ResourceType(
        "CarePlan",
        Permission.COURSE_VIEW,
        (
            Source(
                Course,
                m.COURSE_FIELDS,
                m.care_plan,
                # CarePlan.date is CarePlan.period, served with its start only: an open period from the start day.
                dates={"date": DateParam("started_on", open_end=True)},
                statuses=_status(
                    {"active": Q(status="open"), "completed": Q(status="completed"), "revoked": Q(status="stopped")}
                ),
            ),
        ),
        includes={"CarePlan:patient": PATIENT_INCLUDE, "CarePlan:subject": PATIENT_INCLUDE},
    )
)
_APPOINTMENT = {"proposed": "planned", "booked": "booked", "fulfilled": "done", "cancelled": "cancelled"}


def _references(*targets: tuple[str, str]) -> Callable[[str, str | None], Q]:
    """A reference search over (resource type, row path) pairs: `Type/<id>` matches that type's path, a bare id any
    of them; an id that cannot exist, or another type, matches nothing."""

    def build(value: str, modifier: str | None) -> Q:
        kind, slash, text = value.strip().rpartition("/")
        try:
            wanted = uuid_lib.UUID(text)
        except ValueError:
            return NOTHING
        return any_of([Q(**{path: wanted}) for name, path in targets if not slash or kind == name] or [NOTHING])

    return build


_ACTOR = ParamFilter("reference", _references(("Patient", "patient__uuid"), ("Practitioner", "clinician__uuid")))
_PRACTITIONER = ParamFilter("reference", _references(("Practitioner", "clinician__uuid")))


def _service_type(path: str | None) -> ParamFilter:
    """`service-type` token as each source serves it: an appointment kind of the booking app (ProloTrack's
    appointment-kind code system, or the code alone) in the row's `path`; without a path, a course session, served
    as ProloTrack's procedure `prolotherapy`."""

    def build(value: str, modifier: str | None) -> Q:
        system, _, code = value.partition("|") if "|" in value else ("", "", value)
        code = code.strip()
        if path is None:
            return Q() if code == "prolotherapy" and system in ("", m.CS_PROCEDURE) else NOTHING
        if system and system != m.CS_APPOINTMENT_KIND:
            return NOTHING
        return Q(**{path: code}) if code in m.APPOINTMENT_KINDS else NOTHING

    return ParamFilter("token", build)


_register(
    ResourceType(
        "Appointment",
        Permission.SCHEDULE_VIEW,
        (
            Source(
                TreatmentSession,
                m.SESSION_FIELDS,
                m.appointment,
                base=Q(starts_at__isnull=False) | Q(status__in=("planned", "cancelled")),
                dates=_clinical_dates("date", "starts_at", True),
                statuses=_status({**{k: Q(status=v) for k, v in _APPOINTMENT.items()}, "noshow": Q(status="no_show")}),
                params={"actor": _ACTOR, "practitioner": _PRACTITIONER, "service-type": _service_type(None)},
            ),
            # The booking app's appointments (assessments, follow-ups). An online hold (not verified yet, or a
            # waitlist offer not answered) is not an appointment yet: it becomes booked, or is cancelled.
            Source(
                BookedAppointment,
                m.BOOKING_APPOINTMENT_FIELDS,
                m.booked_appointment,
                base=~Q(status=AppointmentStatus.HELD),
                dates=_clinical_dates("date", "starts_at", True),
                statuses=_status({fhir: Q(status=own) for own, fhir in m.BOOKED_STATUS.items()}),
                params={
                    "actor": _ACTOR,
                    "practitioner": _PRACTITIONER,
                    "service-type": _service_type("appointment_type__kind"),
                },
            ),
        ),
        patient_params=("patient",),
        includes={
            "Appointment:patient": PATIENT_INCLUDE,
            "Appointment:actor": PATIENT_INCLUDE,
            "Appointment:practitioner": Include("Practitioner", "clinician__uuid"),
        },
    )
)
_register(
    ResourceType(
        "Schedule",
        Permission.SCHEDULE_VIEW,
        (
            Source(
                TypeClinician,
                m.SCHEDULE_FIELDS,
                m.schedule,
                patient_path=None,
                base=Q(entered_in_error_at__isnull=True, appointment_type__entered_in_error_at__isnull=True),
                # No patient data and no history served (as Practitioner): the offer's versions stay on its page.
                versioned=False,
                params={
                    "actor": ParamFilter("reference", _references(("Practitioner", "clinician__uuid"))),
                    "service-type": _service_type("appointment_type__kind"),
                },
            ),
        ),
        patient_params=(),
        includes={"Schedule:actor": Include("Practitioner", "clinician__uuid")},
        in_patient_compartment=False,
    )
)
_register(
    ResourceType(
        "Procedure",
        Permission.COURSE_VIEW,
        (
            Source(
                TreatmentSession,
                m.SESSION_FIELDS,
                _procedure,
                # Procedure.date is performed[x]: only a session done has it (mappers.procedure).
                dates={"date": DateParam("planned_on", only=Q(status="done"))},
                statuses=_status(
                    {
                        "preparation": Q(status__in=("planned", "booked")),
                        "completed": Q(status="done"),
                        "not-done": Q(status__in=("cancelled", "no_show")),
                    }
                ),
                code_filter=_procedure_code,
                enrich=_session_sites,
            ),
        ),
        includes={
            "Procedure:patient": PATIENT_INCLUDE,
            "Procedure:subject": PATIENT_INCLUDE,
            "Procedure:based-on": Include("CarePlan", "course__uuid"),
        },
    )
)
_register(
    ResourceType(
        "BodyStructure",
        Permission.COURSE_VIEW,
        (Source(InjectionSite, m.BODY_STRUCTURE_FIELDS, m.body_structure),),
        gone_when_eie=True,
        patient_params=("patient",),
        includes={"BodyStructure:patient": PATIENT_INCLUDE},
    )
)
_register(
    ResourceType(
        "Medication",
        Permission.COURSE_VIEW,
        (
            Source(
                PreparedSolution,
                m.SOLUTION_FIELDS,
                m.medication,
                statuses=_status({"active": Q()}),
            ),
        ),
        # Medication has no subject in FHIR; `patient` here filters by the patient the solution was mixed for.
        patient_params=("patient",),
    )
)
_register(
    ResourceType(
        "MedicationAdministration",
        Permission.COURSE_VIEW,
        (
            Source(
                InjectionSite,
                m.SITE_FIELDS,
                m.medication_administration,
                dates=_clinical_dates("effective-time", "session__planned_on"),
                statuses=_status(
                    {
                        "completed": Q(session__status="done") | Q(session__signed_at__isnull=False),
                        "in-progress": ~Q(session__status="done") & Q(session__signed_at__isnull=True),
                    }
                ),
            ),
        ),
        includes={
            "MedicationAdministration:patient": PATIENT_INCLUDE,
            "MedicationAdministration:subject": PATIENT_INCLUDE,
            "MedicationAdministration:partOf": Include("Procedure", "session__uuid"),
            "MedicationAdministration:part-of": Include("Procedure", "session__uuid"),
            "MedicationAdministration:medication": Include("Medication", "solution__uuid"),
        },
    )
)
_register(
    ResourceType(
        "AdverseEvent",
        Permission.COURSE_VIEW,
        (Source(AdverseEvent, m.ADVERSE_EVENT_FIELDS, m.adverse_event, dates=_clinical_dates("date", "onset_on")),),
        gone_when_eie=True,
        patient_params=("subject", "patient"),
        includes={"AdverseEvent:subject": PATIENT_INCLUDE, "AdverseEvent:patient": PATIENT_INCLUDE},
    )
)
_register(
    ResourceType(
        "Consent",
        Permission.DOCUMENT_VIEW,
        (
            Source(
                Consent,
                m.CONSENT_FIELDS,
                m.consent,
                dates=_clinical_dates("date", "created_at", True),
                statuses=_status(
                    {"draft": Q(status="draft"), "active": Q(status="signed"), "inactive": Q(status="withdrawn")}
                ),
            ),
        ),
        patient_params=("patient",),
        includes={"Consent:patient": PATIENT_INCLUDE},
    )
)
_register(
    ResourceType(
        "DocumentReference",
        Permission.DOCUMENT_VIEW,
        (
            Source(
                Document,
                m.DOCUMENT_FIELDS,
                m.document_reference,
                base=Q(status="ready"),
                dates=_clinical_dates("date", "generated_at", True),
                statuses=_status({"current": Q()}),
            ),
        ),
        includes={"DocumentReference:patient": PATIENT_INCLUDE, "DocumentReference:subject": PATIENT_INCLUDE},
    )
)
_register(
    ResourceType(
        "Group",
        Permission.COHORT_MANAGE,
        (Source(Cohort, m.GROUP_FIELDS, m.group, patient_path=None),),
        gone_when_eie=True,
        patient_params=(),
        in_patient_compartment=False,
    )
)

# Served from the instrument catalogue (domain.scoring), not the database: read and search by _id only.
STATIC_TYPES = ("Questionnaire",)
# Not in a patient compartment, but part of a system-level export.
SYSTEM_ONLY_TYPES = ("Organization", "Practitioner", "Schedule")
# Bulk export: every type, in this order (Group is the cohort itself, not exported).
EXPORT_TYPES = tuple(name for name in TYPES if name != "Group")
PATIENT_EXPORT_TYPES = tuple(name for name in EXPORT_TYPES if TYPES[name].in_patient_compartment)


def get_type(name: str) -> ResourceType | None:
    return TYPES.get(name)
