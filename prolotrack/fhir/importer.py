"""Import FHIR resources into the registry: transaction Bundles (POST /fhir), single updates (PUT), NDJSON files.

Everything goes through the registry's service functions (versioned, audited on the actor's channel, "fhir" for
the REST API and the command). A Bundle is all-or-nothing: every entry is validated and mapped before the first
write, the writes run in one database transaction, and any refusal rolls all of them back. docs/FHIR-IMPORT.md.
"""

import re
import uuid as uuid_lib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from django.core.exceptions import ValidationError
from django.db import transaction

from prolotrack.audit.services import (
    AccessDenied,
    Actor,
    RecordClosedError,
    ServiceError,
    StaleEditError,
    record_event,
)
from prolotrack.clinics.roles import Permission, role_has
from prolotrack.fhir import daterange
from prolotrack.fhir.inbound import (
    PAIN_INSTRUMENT,
    SERVED_NOT_IMPORTED,
    InboundError,
    Issue,
    Mapped,
    Skip,
    field_path,
    map_resource,
    not_imported,
    validate,
)
from prolotrack.fhir.mappers import CS_INSTRUMENT
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.outcomes.services import record_response, record_responses
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Allergy, Condition, Medication, Observation, Patient, WeightMeasurement

MAX_ENTRIES = 10_000  # per Bundle; larger loads go through `manage.py import_fhir` (NDJSON, streamed in batches)

# resource type -> product kinds it can become, for PUT Type/<id> and Location headers
KIND_MODELS: dict[str, type[Patient] | type[Observation] | patient_services.ChildModel] = {
    "patient": Patient,
    "weight": WeightMeasurement,
    "condition": Condition,
    "medication": Medication,
    "allergy": Allergy,
    "observation": Observation,
}
TYPE_KINDS = {
    "Patient": ("patient",),
    "Condition": ("condition",),
    "AllergyIntolerance": ("allergy",),
    "MedicationStatement": ("medication",),
    "MedicationRequest": ("medication",),
    "Observation": ("weight", "observation"),
}
# What each kind needs beyond fhir.import: the registry's own permissions (its services check them again).
KIND_PERMISSIONS = {
    "patient": Permission.PATIENT_EDIT_DEMOGRAPHICS,
    "weight": Permission.PATIENT_EDIT_CLINICAL,
    "condition": Permission.PATIENT_EDIT_CLINICAL,
    "medication": Permission.PATIENT_EDIT_CLINICAL,
    "allergy": Permission.PATIENT_EDIT_CLINICAL,
    "no_known_allergies": Permission.PATIENT_EDIT_CLINICAL,
    "observation": Permission.PATIENT_EDIT_CLINICAL,
}
# A kept Observation that is also a pain NRS answer writes an outcomes answer too.
PAIN_PERMISSION = Permission.OUTCOMES_COLLECT
# Fields guessed from words and codes: filled when empty, never overwrite what a clinician set.
DERIVED = {
    "condition": ("category", "screening_flag", "body_region", "laterality"),
    "medication": ("drug_class",),
}
SUPPORTED_TEXT = (
    "ProloTrack imports Patient, Condition, AllergyIntolerance, MedicationStatement, MedicationRequest (on the "
    "medication list), and Observation (body weight, LOINC 29463-7, as a weight; any other on a patient kept as "
    "sent)"
)


# A MedicationRequest is an order; ProloTrack keeps the medication list (what is taken). The same rule everywhere (a
# single POST, a batch entry, a transaction, a file): the medicine goes on the list (screening reads it: Synthea writes
# medications only as requests) and the record reads back as the MedicationRequest it came as (Medication.sent_as),
# never as another type (docs/FHIR-IMPORT.md).


def _read_as(resource_type: str, record: Any) -> str:
    """The type a written record reads back as: a medication that came as an order is a MedicationRequest."""
    if isinstance(record, Medication):
        return "MedicationRequest" if record.sent_as == "MedicationRequest" else "MedicationStatement"
    return resource_type


class ImportFailure(Exception):
    """The import was refused; nothing was written. `issues` become the OperationOutcome."""

    def __init__(self, status: int, issues: list[Issue]) -> None:
        super().__init__("; ".join(i.diagnostics for i in issues))
        self.status = status
        self.issues = issues

    def outcome(self) -> dict[str, Any]:
        return {"resourceType": "OperationOutcome", "issue": [i.as_fhir() for i in self.issues]}


@dataclass
class Entry:
    """One resource to import, with how it was asked for."""

    index: int
    where: str  # FHIRPath of the resource, e.g. Bundle.entry[3].resource, or file.ndjson:12
    resource: dict[str, Any]
    method: str = "POST"
    url: str = ""
    full_url: str | None = None
    if_none_exist: str | None = None
    if_match: int | None = None
    mapped: Mapped | Skip | None = None
    target_id: str | None = None  # PUT Type/<id>
    conditional: str | None = None  # PUT Type?search
    problems: list[Issue] = field(default_factory=list)  # what is wrong with the entry's shape (400)
    answer: Any = None  # a kept Observation's pain answer already recorded (an earlier import), to link

    @property
    def written(self) -> Mapped:
        """The record this entry writes (entries reach the writers only once mapped)."""
        if not isinstance(self.mapped, Mapped):
            raise RuntimeError(f"{self.where} was not mapped to a record.")
        return self.mapped


@dataclass
class Outcome:
    """What happened to one entry."""

    resource_type: str
    result: str  # created | updated | unchanged | skipped | refused (a batch entry)
    status: str
    location: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    record: Any = None
    issues: list[Issue] = field(default_factory=list)
    reason: str = ""  # why a skipped entry was not imported

    def as_fhir(self) -> dict[str, Any]:
        response: dict[str, Any] = {"status": self.status}
        if self.location:
            response["location"] = self.location
        if self.etag:
            response["etag"] = self.etag
        if self.last_modified:
            response["lastModified"] = self.last_modified
        if self.issues:
            response["outcome"] = {"resourceType": "OperationOutcome", "issue": [i.as_fhir() for i in self.issues]}
        return {"response": response}


@dataclass
class Result:
    outcomes: list[Outcome]
    notes: list[Issue] = field(default_factory=list)
    bundle_type: str = "transaction-response"

    def counts(self) -> Counter[tuple[str, str]]:
        """(resource type, created|updated|unchanged|skipped|refused) -> count."""
        return Counter((o.resource_type, o.result) for o in self.outcomes)

    def skipped(self) -> Counter[str]:
        return Counter(o.resource_type for o in self.outcomes if o.result == "skipped")

    def skip_reasons(self) -> Counter[tuple[str, str]]:
        """(resource type, reason) -> how many entries were skipped for it."""
        return Counter((o.resource_type, o.reason) for o in self.outcomes if o.result == "skipped")

    def summary(self) -> dict[str, Any]:
        """An OperationOutcome: counts by type and result, skipped by type, and the notes."""
        issues = []
        for (resource_type, result), n in sorted(self.counts().items()):
            if result == "refused":
                issues.append(Issue("warning", "processing", f"{resource_type}: {n} refused (see its entry)."))
            elif result != "skipped":
                issues.append(Issue("information", "informational", f"{resource_type}: {n} {result}."))
        for (resource_type, reason), n in sorted(self.skip_reasons().items()):
            why = "not imported by ProloTrack" if reason in ("", "not imported") else _general(reason)
            issues.append(Issue("information", "not-supported", f"{resource_type}: {n} skipped ({why})."))
        issues.extend(self.notes)
        if not issues:
            issues.append(Issue("information", "informational", "The bundle had no entries."))
        return {"resourceType": "OperationOutcome", "issue": [i.as_fhir() for i in issues]}

    def response_bundle(self) -> dict[str, Any]:
        """The transaction-response Bundle; entry[0].response.outcome also carries the import summary."""
        entries = [o.as_fhir() for o in self.outcomes]
        if entries:
            own = entries[0]["response"].get("outcome", {}).get("issue", [])
            entries[0]["response"]["outcome"] = {
                "resourceType": "OperationOutcome",
                "issue": own + self.summary()["issue"],
            }
        return {
            "resourceType": "Bundle",
            "id": str(uuid_lib.uuid4()),
            "type": self.bundle_type,
            "entry": entries,
        }


def _general(reason: str) -> str:
    """A skip reason without the parts that differ per entry (values, paths), for the summary's counts."""
    return reason


# --- reading a Bundle --------------------------------------------------------------------------------------------

ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def parse_etag(value: str, where: str) -> int:
    """The version in an ETag or If-Match value (W/"3", "3" or 3)."""
    match = ETAG.match(value or "")
    if not match:
        raise ImportFailure(
            400, [Issue("error", "invalid", f"If-Match '{value}' is not a version ETag such as W/\"3\".", where)]
        )
    return int(match.group(1))


def _fail(status: int, code: str, message: str, where: str | None = None) -> ImportFailure:
    return ImportFailure(status, [Issue("error", code, message, where)])


def bundle_entries(bundle: Any, *, max_entries: int = MAX_ENTRIES) -> list[Entry]:
    """The entries of a transaction Bundle, checked for shape (400) and size (413) before anything else."""
    _, entries = parse_bundle(bundle, max_entries=max_entries, types=("transaction",))
    problems = [issue for entry in entries for issue in entry.problems]
    if problems:
        raise ImportFailure(400, problems)
    return entries


def parse_bundle(
    bundle: Any, *, max_entries: int = MAX_ENTRIES, types: tuple[str, ...] = ("transaction", "batch")
) -> tuple[str, list[Entry]]:
    """The Bundle's type and entries; each entry carries the problems of its own shape (`Entry.problems`)."""
    if not isinstance(bundle, dict):
        raise _fail(400, "structure", "The body must be a JSON object: a FHIR Bundle.")
    if bundle.get("resourceType") != "Bundle":
        raise _fail(400, "structure", f"POST /fhir takes a Bundle, not {bundle.get('resourceType')!r}.", "Bundle")
    kind = bundle.get("type")
    if kind not in types:
        wanted = " or ".join(repr(t) for t in types)
        raise _fail(422, "not-supported", f"Bundle type {kind!r} is not accepted here: send {wanted}.", "Bundle.type")
    raw = bundle.get("entry") or []
    if not isinstance(raw, list):
        raise _fail(400, "structure", "Bundle.entry must be a list.", "Bundle.entry")
    if len(raw) > max_entries:
        raise _fail(
            413,
            "too-costly",
            f"The bundle has {len(raw)} entries; at most {max_entries} are taken in one request. Split it, or "
            "import NDJSON with `manage.py import_fhir`.",
            "Bundle.entry",
        )
    full_urls: set[str] = set()
    return str(kind), [_entry(i, item, full_urls) for i, item in enumerate(raw)]


def _entry(i: int, item: Any, full_urls: set[str]) -> Entry:
    """One Bundle entry read for import; what is wrong with its shape goes to `problems` (400)."""
    where = f"Bundle.entry[{i}]"
    if not isinstance(item, dict):
        return Entry(i, where, {}, problems=[Issue("error", "structure", "Each entry must be a JSON object.", where)])
    resource = item.get("resource")
    request = item.get("request")
    if not isinstance(resource, dict):
        return Entry(
            i, where, {}, problems=[Issue("error", "required", "Each entry needs a resource.", f"{where}.resource")]
        )
    entry = Entry(i, f"{where}.resource", resource)
    problems = entry.problems
    if not isinstance(request, dict):
        problems.append(Issue("error", "required", "Each entry needs request (method and url).", f"{where}.request"))
        return entry
    method = entry.method = str(request.get("method") or "").upper()
    url = entry.url = str(request.get("url") or "")
    full_url = entry.full_url = item.get("fullUrl") if isinstance(item.get("fullUrl"), str) else None
    if full_url:
        if full_url in full_urls:
            problems.append(Issue("error", "duplicate", f"fullUrl {full_url} appears twice.", f"{where}.fullUrl"))
        full_urls.add(full_url)
    resource_type = resource.get("resourceType")
    if method not in ("POST", "PUT"):
        problems.append(
            Issue(
                "error",
                "not-supported",
                f"request.method {method or '(none)'} is not supported: ProloTrack imports with POST and PUT.",
                f"{where}.request.method",
            )
        )
        return entry
    base, _, query = url.partition("?")
    parts = base.strip("/").split("/")
    if parts[0] != resource_type:
        problems.append(
            Issue(
                "error",
                "invalid",
                f"request.url {url!r} does not name the resource's type {resource_type}.",
                f"{where}.request.url",
            )
        )
        return entry
    if method == "PUT":
        if query:
            entry.conditional = query
        elif len(parts) == 2 and parts[1]:
            entry.target_id = parts[1]
            if resource.get("id") not in (None, parts[1]):
                problems.append(
                    Issue(
                        "error",
                        "invalid",
                        f"resource.id {resource.get('id')!r} differs from the id in request.url {url!r}.",
                        f"{where}.resource.id",
                    )
                )
        else:
            problems.append(
                Issue("error", "invalid", "PUT needs request.url Type/<id> or Type?<search>.", f"{where}.request.url")
            )
    elif len(parts) != 1 or query:
        problems.append(Issue("error", "invalid", "POST takes request.url Type.", f"{where}.request.url"))
    if request.get("ifNoneExist"):
        entry.if_none_exist = str(request["ifNoneExist"])
    if request.get("ifMatch"):
        try:
            entry.if_match = parse_etag(str(request["ifMatch"]), f"{where}.request.ifMatch")
        except ImportFailure as exc:
            problems.extend(exc.issues)
    return entry


def read_entries(entries: Iterable[Entry]) -> None:
    """Validate (R4B) and map every entry; all problems at once (400 for malformed, 422 for unusable)."""
    issues: list[Issue] = []
    status = 422
    for entry in entries:
        problems = validate(entry.resource, entry.where)
        if problems:
            issues.extend(problems)
            if any(p.code == "structure" for p in problems):
                status = 400
            continue
        try:
            entry.mapped = map_resource(entry.resource, entry.where)
        except InboundError as exc:
            issues.extend(exc.issues)
    if issues:
        raise ImportFailure(status, issues)


# --- writing ------------------------------------------------------------------------------------------------------


def _changes(
    kind: str, current: Any, values: dict[str, Any], replace: bool, derived_too: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The fields to write: PUT replaces what FHIR carries; a re-import (POST) fills and corrects, never blanks."""
    out: dict[str, Any] = {}
    derived = DERIVED.get(kind, ()) + derived_too
    for name, value in values.items():
        now = current._meta.get_field(name).value_from_object(current)
        if name in derived and now not in ("", None, "other"):
            continue
        if not replace and value in ("", None, []):
            continue
        if now != value:
            out[name] = value
    return out


def _search(query: str, where: str) -> list[tuple[str, str]]:
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs:
        raise _fail(422, "invalid", f"The search {query!r} is empty.", where)
    return pairs


def _identifier_query(query: str, where: str) -> tuple[str | None, str]:
    """`identifier=[system|]value`, the only search a conditional reference, create or update may use here."""
    pairs = _search(query, where)
    if len(pairs) != 1 or pairs[0][0] != "identifier":
        raise _fail(
            422,
            "not-supported",
            f"Conditional search {query!r} is not supported: use identifier=system|value (Patient).",
            where,
        )
    value = pairs[0][1]
    if "|" in value:
        system, _, code = value.partition("|")
        return system or None, code
    return None, value


class Importer:
    """Writes mapped entries through the registry's services for one actor. Keeps what it has resolved, so an NDJSON
    import can span batches (Patient/<source id> references found in an earlier batch)."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.clinic = actor.clinic
        self.by_reference: dict[str, Patient] = {}  # fullUrl, Type/id and source references -> patient
        self.by_identifier: dict[str, dict[str, Patient]] = {}  # identifier value -> system -> patient
        self.children: dict[tuple[str, int], dict[Any, Any]] = {}  # (kind, patient pk) -> match key -> record
        # New records waiting to be written in one go (`flush`): patients, then children by kind.
        self.outcomes: dict[int, Outcome] = {}
        self.new_patients: list[tuple[Entry, dict[str, Any], list[Issue]]] = []
        self.new_keys: set[str] = set()  # identifier values and record numbers of the waiting patients
        self.new_children: dict[str, list[tuple[Entry, Patient, Any]]] = {}

    # -- permissions

    def check_permissions(self, entries: Iterable[Entry]) -> None:
        """Refuse (403) before writing anything when the role may not write some kind in the bundle."""
        missing: dict[str, set[str]] = {}
        for entry in entries:
            if isinstance(entry.mapped, Mapped):
                permissions = [KIND_PERMISSIONS[entry.mapped.kind]]
                if entry.mapped.pain is not None:
                    permissions.append(PAIN_PERMISSION)
                for permission in permissions:
                    if not role_has(self.actor.role, permission):
                        missing.setdefault(permission.value, set()).add(entry.mapped.resource_type)
        if missing:
            raise ImportFailure(
                403,
                [
                    Issue(
                        "error",
                        "forbidden",
                        f"Your role may not write {', '.join(sorted(types))} ({permission}); nothing was imported.",
                    )
                    for permission, types in sorted(missing.items())
                ],
            )

    # -- patients

    def _patient_by_mrn(self, mrn: str) -> Patient | None:
        return Patient.objects.filter(clinic=self.clinic, mrn=mrn).first()

    def _patient_by_uuid(self, value: str) -> Patient | None:
        try:
            key = uuid_lib.UUID(value)
        except ValueError:
            return None
        return Patient.objects.filter(clinic=self.clinic, uuid=key).first()

    def find_by_identifier(self, system: str | None, value: str) -> Patient | None:
        """A patient named by an identifier: one seen in this import (system compared), else the clinic's MRN."""
        seen = self.by_identifier.get(value, {})
        if system is None and seen:
            return next(iter(seen.values()))
        if system is not None and system in seen:
            return seen[system]
        return self._patient_by_mrn(value)

    def _register(self, entry: Entry, patient: Patient, *, new: bool = False) -> None:
        """Remember how the entry names its patient. A patient just created has no records yet: its match indexes
        start empty, without the query per kind that `prefetch` makes for a patient already in the clinic."""
        mapped = entry.mapped
        assert isinstance(mapped, Mapped)
        if new:
            for kind in MATCHED_KINDS:
                self.children.setdefault((kind, patient.pk), {})
        if entry.full_url:
            self.by_reference[entry.full_url] = patient
            match = re.search(r"(?:^|/)(Patient/[^/]+)$", entry.full_url)
            if match:
                self.by_reference[match.group(1)] = patient
        if entry.resource.get("id"):
            self.by_reference[f"Patient/{entry.resource['id']}"] = patient
        self.by_reference[f"Patient/{patient.uuid}"] = patient
        for pair in mapped.identifiers:
            self.by_identifier.setdefault(pair[1], {})[pair[0]] = patient

    def _write_patient(self, entry: Entry) -> Outcome | None:
        """The entry's outcome, or None when its patient waits to be created in one go (`flush_patients`)."""
        mapped = entry.mapped
        assert isinstance(mapped, Mapped)
        if self.new_patients and (entry.target_id or self.new_keys & _patient_keys(entry)):
            self.flush_patients()  # it may name a patient of this batch: find the saved one
        values = dict(mapped.values)
        existing: Patient | None = None
        replace = entry.method == "PUT"
        issues: list[Issue] = []
        if entry.target_id:
            existing = self._patient_by_uuid(entry.target_id)
            if existing is None:
                raise _fail(
                    404,
                    "not-found",
                    f"No Patient/{entry.target_id} in this clinic. ProloTrack assigns ids: POST the patient "
                    "(a re-import matches it by identifier), or PUT Patient?identifier=system|value.",
                    entry.where,
                )
        elif entry.conditional or entry.if_none_exist:
            system, value = _identifier_query(entry.conditional or entry.if_none_exist or "", entry.where)
            existing = self.find_by_identifier(system, value)
            if existing is not None and entry.if_none_exist and not entry.conditional:
                self._register(entry, existing)
                return self._outcome(mapped.resource_type, existing, "unchanged", "200 OK")
        elif values.get("mrn"):
            existing = self._patient_by_mrn(values["mrn"])
        if existing is None and not values.get("mrn"):
            issues.append(
                Issue(
                    "warning",
                    "informational",
                    "No record-number identifier (type MR, or the only identifier): a number was assigned, and a "
                    "re-import of this patient will register another one.",
                    f"{entry.where}.identifier",
                )
            )
        if not values.get("mrn"):
            values.pop("mrn", None)
        if existing is None:
            if not values.get("mrn"):
                self.flush_patients()  # the next PT- number counts the waiting patients' numbers
                patient = patient_services.create_patient(self.actor, values)
                self._register(entry, patient, new=True)
                return self._outcome("Patient", patient, "created", "201 Created", issues)
            self.new_patients.append((entry, values, issues))
            self.new_keys |= _patient_keys(entry)
            return None
        if existing.is_entered_in_error:
            raise _fail(
                409,
                "conflict",
                f"Patient {existing.mrn} was marked entered in error; it is not updated by an import.",
                entry.where,
            )
        changes = _changes("patient", existing, values, replace)
        patient = patient_services.update_patient(
            self.actor, existing, changes, expected_version=entry.if_match, reason="FHIR import"
        )
        self._register(entry, patient)
        result = "updated" if changes else "unchanged"
        return self._outcome("Patient", patient, result, "200 OK", issues)

    def flush_patients(self) -> None:
        """Create the waiting patients in one go; on a refusal, one at a time, so the refused entry is named."""
        waiting, self.new_patients, self.new_keys = self.new_patients, [], set()
        if not waiting:
            return
        try:  # the service's own transaction: a refusal leaves this one usable
            patients = patient_services.create_patients(self.actor, [values for _, values, _ in waiting])
        except (ValidationError, ServiceError):
            patients = [
                self._guard(entry, lambda _e, v=values: patient_services.create_patient(self.actor, v))
                for entry, values, _ in waiting
            ]
        for (entry, _, issues), patient in zip(waiting, patients, strict=True):
            self._register(entry, patient, new=True)
            self.outcomes[entry.index] = self._outcome("Patient", patient, "created", "201 Created", issues)

    def flush_children(self) -> None:
        """Create the waiting records of each kind in one go; on a refusal, one at a time, so the refused entry is
        named."""
        waiting, self.new_children = self.new_children, {}
        for kind, items in waiting.items():
            try:  # the service's own transaction: a refusal leaves this one usable
                records = self._create_children(kind, items)
            except (ValidationError, ServiceError):
                records = [
                    self._guard(entry, lambda e, k=kind, p=p: self._create_one(k, e, p)) for entry, p, _ in items
                ]
            for (entry, patient, key), record in zip(items, records, strict=True):
                mapped = entry.mapped
                assert isinstance(mapped, Mapped)
                self.children[(kind, patient.pk)][key] = record
                outcome = self._outcome(mapped.resource_type, record, "created", "201 Created", list(mapped.notes))
                self.outcomes[entry.index] = outcome

    def _create_children(self, kind: str, items: list[tuple[Entry, Patient, Any]]) -> list[Any]:
        if kind == "observation":
            return self._create_observations([(e, p) for e, p, _ in items], many=True)
        return patient_services.add_children(
            self.actor,
            kind,
            [(patient, e.written.values) for e, patient, _ in items],
        )

    def _create_one(self, kind: str, entry: Entry, patient: Patient) -> Any:
        mapped = entry.mapped
        assert isinstance(mapped, Mapped)
        if kind == "observation":
            return self._create_observations([(entry, patient)], many=False)[0]
        return patient_services.add_child(self.actor, patient, kind, mapped.values)

    def _create_observations(self, items: list[tuple[Entry, Patient]], *, many: bool) -> list[Any]:
        """Kept Observations, with the pain NRS answers some of them are (written first, through the outcomes
        service, as source "staff_paper": the closest the outcomes app has; the audit rows say channel fhir)."""
        new: list[tuple[Entry, Patient]] = []
        rows: list[tuple[Patient, dict[str, Any], Any]] = []
        for e, p in items:
            pain = e.written.pain
            if pain is not None and e.answer is None:
                new.append((e, p))
                rows.append((p, {PAIN_ITEM: pain["score"]}, pain["authored_on"]))
        if many:
            answers = record_responses(self.actor, PAIN_INSTRUMENT, rows, source="staff_paper") if rows else []
        else:
            answers = [
                record_response(self.actor, p, PAIN_INSTRUMENT, a, authored_on=day, source="staff_paper")
                for p, a, day in rows
            ]
        for (entry, _), answer in zip(new, answers, strict=True):
            entry.answer = answer
        return patient_services.add_observations(
            self.actor,
            [(p, {**e.written.values, "pain_answer": e.answer}) for e, p in items],
        )

    def _waiting(self, kind: str, patient: Patient, key: Any) -> Any:
        """The record a re-import matches, saving the waiting ones first when the match is one of them."""
        index = self._index(kind, patient)
        existing = index.get(key)
        if existing is _WAITING:
            self.flush_children()
            existing = index.get(key)
        return existing

    def _queue(self, entry: Entry, kind: str, patient: Patient, key: Any) -> None:
        self._index(kind, patient)[key] = _WAITING
        self.new_children.setdefault(kind, []).append((entry, patient, key))

    # -- children

    def resolve_subject(self, entry: Entry) -> Patient:
        mapped = entry.mapped
        assert isinstance(mapped, Mapped)
        ref = mapped.subject
        subject_path = f"{entry.where}.{'patient' if mapped.resource_type == 'AllergyIntolerance' else 'subject'}"
        if not ref:
            raise _fail(422, "required", f"A {mapped.resource_type} needs its patient (a reference).", subject_path)
        patient = self.by_reference.get(ref)
        if patient is None and ref.startswith("Patient?"):
            system, value = _identifier_query(ref.partition("?")[2], subject_path)
            patient = self.find_by_identifier(system, value)
            if patient is None:
                raise _fail(
                    422,
                    "not-found",
                    f"No patient matches the conditional reference {ref!r}, in this bundle or this clinic.",
                    subject_path,
                )
        if patient is None:
            match = re.fullmatch(r"Patient/([0-9a-fA-F-]{36})", ref)
            patient = self._patient_by_uuid(match.group(1)) if match else None
            if patient is not None:
                self.by_reference[ref] = patient
        if patient is None:
            raise _fail(
                422,
                "not-found",
                f"The reference {ref!r} resolves to no Patient in this bundle (fullUrl) or this clinic.",
                subject_path,
            )
        return patient

    def _index(self, kind: str, patient: Patient) -> dict[Any, Any]:
        if (kind, patient.pk) not in self.children:
            self.prefetch(kind, [patient])
        return self.children[(kind, patient.pk)]

    def prefetch(self, kind: str, patients: list[Patient]) -> None:
        """Load the children of many patients in one query (what a re-import matches against)."""
        todo = [p for p in patients if (kind, p.pk) not in self.children]
        if not todo:
            return
        for p in todo:
            self.children[(kind, p.pk)] = {}
        for record in _children(kind).filter(patient__in=todo).order_by("id"):
            self.children[(kind, record.patient_id)][_match_key(kind, record.__dict__)] = record

    def _write_child(self, entry: Entry) -> Outcome | None:
        mapped = entry.mapped
        assert isinstance(mapped, Mapped)
        kind = mapped.kind
        patient = self.resolve_subject(entry)
        if patient.is_entered_in_error:
            raise _fail(
                409, "conflict", "The patient was marked entered in error; nothing is added to it.", entry.where
            )
        if kind == "observation":
            return self._write_observation(entry, patient)
        if kind == "no_known_allergies":
            return self._write_no_known_allergies(entry, patient)
        model, _ = patient_services.CHILD_MODELS[kind]
        index = self._index(kind, patient)
        key = _match_key(kind, mapped.values)
        existing = None
        if entry.target_id:
            self.flush_children()  # the record named may be one of this batch
            try:
                existing = model.objects.get(clinic=self.clinic, uuid=uuid_lib.UUID(entry.target_id))
                if _read_as(mapped.resource_type, existing) != mapped.resource_type:
                    raise model.DoesNotExist  # a medicine reads as one type only (the one it came as)
            except (ValueError, model.DoesNotExist):
                raise _fail(
                    404,
                    "not-found",
                    f"No {mapped.resource_type}/{entry.target_id} in this clinic. ProloTrack assigns ids: POST it "
                    "(a re-import matches it by patient and content).",
                    entry.where,
                ) from None
            if existing.patient_id != patient.pk:
                raise _fail(422, "invalid", "The update names another patient than the record's own.", entry.where)
        elif entry.conditional:
            raise _fail(
                422,
                "not-supported",
                f"Conditional update of {mapped.resource_type} is not supported: POST it (matched by patient and "
                "content) or PUT it by id.",
                entry.where,
            )
        else:
            existing = self._waiting(kind, patient, key)
        if existing is None:
            self._queue(entry, kind, patient, key)
            return None
        if mapped.fills_only and entry.method != "PUT":
            # A MedicationRequest adds a medicine to the list; it never changes one already there (a statement or a
            # clinician's entry says more than an order does), so repeated requests and re-imports change nothing.
            return self._outcome(mapped.resource_type, existing, "unchanged", "200 OK", list(mapped.notes))
        if existing.is_entered_in_error:
            raise _fail(409, "conflict", "This record was marked entered in error; it is not updated.", entry.where)
        changes = _changes(kind, existing, mapped.values, entry.method == "PUT", mapped.derived)
        if isinstance(existing, Medication) and existing.sent_as and mapped.resource_type == "MedicationStatement":
            # The patient's statement about a medicine that came as an order says more than the order: the record
            # now reads back as that MedicationStatement.
            changes["sent_as"] = ""
        record = patient_services.edit_child(
            self.actor, existing, kind, changes, expected_version=entry.if_match, reason="FHIR import"
        )
        index.pop(_match_key(kind, existing.__dict__), None)
        index[_match_key(kind, record.__dict__)] = record
        result = "updated" if changes else "unchanged"
        return self._outcome(mapped.resource_type, record, result, "200 OK", list(mapped.notes))

    def _write_no_known_allergies(self, entry: Entry, patient: Patient) -> Outcome:
        """A "no known allergy" AllergyIntolerance sets the chart's confirmation (who, when, which code); a real
        allergy recorded for the patient (before, or later in this batch) wins."""
        mapped = entry.mapped
        assert isinstance(mapped, Mapped)
        self.flush_children()  # this batch's allergies so far are written first
        before = patient.version
        record = patient_services.record_no_known_allergies(self.actor, patient, mapped.values)
        changed = record.version != before
        message = (
            'A "no known allergy" record: kept as the chart\'s confirmation that the patient has no known '
            "allergies, not as an allergy."
            if changed
            else 'A "no known allergy" record: not applied, because the patient has recorded allergies or the '
            "confirmation is already on the chart."
        )
        note = Issue("information", "informational", message, entry.where)
        return self._outcome("Patient", record, "updated" if changed else "unchanged", "200 OK", [note])

    def _write_observation(self, entry: Entry, patient: Patient) -> Outcome | None:
        """A kept Observation (docs/FHIR-IMPORT.md, "Observations"): matched by code and effective time, created as
        sent, or replaced by a newer send (a new version); the pain NRS answer it is, if any, never changes here."""
        mapped = entry.mapped
        assert isinstance(mapped, Mapped)
        entry.answer = None  # found again below: a retried write must not link an answer a rollback removed
        values = mapped.values
        if "effective_text" not in values:
            values.update(observation_dates(mapped.effective, self.clinic.tz, entry.where))
        key = _match_key("observation", values)
        if entry.target_id:
            self.flush_children()  # the record named may be one of this batch
            try:
                existing = Observation.objects.select_related("pain_answer").get(
                    clinic=self.clinic, uuid=uuid_lib.UUID(entry.target_id)
                )
            except (ValueError, Observation.DoesNotExist):
                raise _fail(
                    404, "not-found", f"No Observation/{entry.target_id} in this clinic (ProloTrack assigns ids).",
                    entry.where,
                ) from None  # fmt: skip
            if existing.patient_id != patient.pk:
                raise _fail(422, "invalid", "The update names another patient than the record's own.", entry.where)
        elif entry.conditional:
            raise _fail(
                422, "not-supported",
                "Conditional update of an Observation is not supported: POST it (matched by patient, code and "
                "effective time) or PUT it by id.", entry.where,
            )  # fmt: skip
        else:
            existing = self._waiting("observation", patient, key)
        if existing is None:
            own = self._own_score(entry, patient)
            if own is not None:
                return own
            if mapped.pain is not None:
                found = self._pain_of_the_day(entry, patient)
                if isinstance(found, Outcome):
                    return found
            self._queue(entry, "observation", patient, key)
            return None
        if existing.is_entered_in_error:
            raise _fail(
                409, "conflict", "This Observation was marked entered in error; it is not updated.", entry.where
            )
        answer = existing.pain_answer
        before = None if answer is None else (answer.authored_on, _pain_rating(answer))
        after = None if mapped.pain is None else (mapped.pain["authored_on"], mapped.pain["score"])
        if before != after:
            raise _fail(
                409, "conflict",
                "This Observation " + ("is the patient's pain NRS answer" if answer else "is not a pain NRS answer")
                + "; an update may not change that or the answer (correct the answer in ProloTrack).", entry.where,
            )  # fmt: skip
        changes = {k: v for k, v in values.items() if getattr(existing, k) != v}
        record = patient_services.edit_observation(
            self.actor, existing, changes, expected_version=entry.if_match, reason="FHIR import"
        )
        self._index("observation", patient)[key] = record
        result = "updated" if changes else "unchanged"
        notes = [n for n in mapped.notes if n.severity != "information" or result != "unchanged"]
        return self._outcome("Observation", record, result, "200 OK", notes)

    def _own_score(self, entry: Entry, patient: Patient) -> Outcome | None:
        """ProloTrack's own score Observation coming back (its instrument code, derivedFrom its response, the same
        score): it is that response's Observation already, so nothing is written."""
        resource = entry.resource
        codes = [c for c in (resource.get("code") or {}).get("coding") or [] if isinstance(c, dict)]
        if not any(c.get("system") == CS_INSTRUMENT for c in codes):
            return None
        for ref in resource.get("derivedFrom") or []:
            target = str((ref or {}).get("reference") or "")
            match = re.fullmatch(r"QuestionnaireResponse/([0-9a-fA-F-]{36})", target)
            if not match:
                continue
            response = QuestionnaireResponse.objects.filter(
                clinic=self.clinic, patient=patient, uuid=match.group(1), status="completed",
                entered_in_error_at__isnull=True,
            ).first()  # fmt: skip
            value = (resource.get("valueQuantity") or {}).get("value")
            if response is not None and response.score is not None and value is not None and response.score == value:
                return self._outcome("Observation", response, "unchanged", "200 OK")
        return None

    def _pain_of_the_day(self, entry: Entry, patient: Patient) -> Outcome | None:
        """One pain NRS answer per patient and day. The same value already recorded (a patient's own answer, served
        as its score Observation) is this Observation coming back: unchanged. An earlier import's answer without
        its Observation is linked. Any other: the Observation is kept without becoming an answer (a note says so)."""
        mapped = entry.mapped
        assert isinstance(mapped, Mapped) and mapped.pain is not None
        day, score = mapped.pain["authored_on"], mapped.pain["score"]
        index = self._index("pain", patient)
        found = index.get(day)
        if found is None:
            index[day] = _WAITING
            return None
        if found is not _WAITING and _pain_rating(found) == score and not _linked(found):
            if found.status == "completed" and found.score is not None:
                return self._outcome("Observation", found, "unchanged", "200 OK")
            entry.answer = found
            index[day] = _WAITING
            return None
        mapped.notes = [
            Issue(
                "information", "informational",
                f"A pain NRS answer for {day} is already recorded"
                + ("" if found is _WAITING else f" ({_pain_rating(found)})")
                + ": kept as this Observation only, not as a second answer for the day.", entry.where,
            )
        ]  # fmt: skip
        mapped.pain = None
        return None

    # -- the whole thing

    def write(self, entries: list[Entry]) -> list[Outcome]:
        """Write every mapped entry (patients first, so references resolve); the caller holds the transaction."""
        _merge_requests(entries)
        outcomes: dict[int, Outcome] = {}
        for entry in entries:
            if isinstance(entry.mapped, Skip):
                outcomes[entry.index] = Outcome(
                    entry.mapped.resource_type,
                    "skipped",
                    "200 OK",
                    reason=entry.mapped.reason,
                    issues=[
                        Issue(
                            "information",
                            "not-supported",
                            f"Not imported ({entry.mapped.reason}). {SUPPORTED_TEXT}.",
                            entry.where,
                        )
                    ],
                )
        self.outcomes = outcomes
        self.new_patients, self.new_keys, self.new_children = [], set(), {}
        patients = [e for e in entries if isinstance(e.mapped, Mapped) and e.mapped.kind == "patient"]
        for entry in patients:
            outcome = self._guard(entry, self._write_patient)
            if outcome is not None:
                outcomes[entry.index] = outcome
        self.flush_patients()
        others = [e for e in entries if isinstance(e.mapped, Mapped) and e.mapped.kind != "patient"]
        # The patients this batch's records name (by fullUrl or Patient/<id>): their live records in one query per kind.
        named = (self.by_reference.get(e.written.subject or "") for e in others)
        known = list({p.pk: p for p in named if p is not None}.values())
        for kind in MATCHED_KINDS[:-1]:
            if any(e.written.kind == kind for e in others):
                self.prefetch(kind, known)
        if any(e.written.pain is not None for e in others):
            self.prefetch("pain", known)
        for entry in others:
            outcome = self._guard(entry, self._write_child)
            if outcome is not None:
                outcomes[entry.index] = outcome
        self.flush_children()
        self.outcomes = {}
        return [outcomes[e.index] for e in entries]

    def _guard(self, entry: Entry, write: Any) -> Any:
        """Run one write, turning a service refusal into an ImportFailure that names the entry."""
        kind = entry.mapped.kind if isinstance(entry.mapped, Mapped) else ""
        try:
            return write(entry)
        except ImportFailure:
            raise
        except ValidationError as exc:
            issues = []
            if hasattr(exc, "error_dict"):
                for name, messages in exc.message_dict.items():
                    for message in messages:
                        issues.append(Issue("error", "invalid", message, field_path(kind, name, entry.where)))
            else:
                issues = [Issue("error", "invalid", m, entry.where) for m in exc.messages]
            raise ImportFailure(422, issues) from None
        except StaleEditError as exc:
            raise _fail(412, "conflict", str(exc), entry.where) from None
        except AccessDenied as exc:
            raise _fail(403, "forbidden", str(exc), entry.where) from None
        except RecordClosedError as exc:
            raise _fail(409, "conflict", str(exc), entry.where) from None
        except ServiceError as exc:
            raise _fail(422, "business-rule", str(exc), entry.where) from None

    def _outcome(
        self,
        resource_type: str,
        record: Any,
        result: str,
        status: str,
        issues: list[Issue] | None = None,
        location_type: str | None = None,
    ) -> Outcome:
        return Outcome(
            resource_type,
            result,
            status,
            location=f"{location_type or _read_as(resource_type, record)}/{record.uuid}/_history/{record.version}",
            etag=f'W/"{record.version}"',
            last_modified=record.updated_at.isoformat(),
            record=record,
            issues=issues or [],
        )


_WAITING = object()  # in a match index: a record of this batch not written yet
MATCHED_KINDS = ("weight", "condition", "medication", "allergy", "observation", "pain")  # what `_match_key` knows


def _patient_keys(entry: Entry) -> set[str]:
    """Identifier values and the record number by which this patient entry may find, or be, a patient of its batch."""
    mapped = entry.mapped
    assert isinstance(mapped, Mapped)
    keys = {value for _, value in mapped.identifiers}
    if mapped.values.get("mrn"):
        keys.add(mapped.values["mrn"])
    for query in (entry.conditional, entry.if_none_exist):
        for _, value in parse_qsl(query or ""):
            keys.add(value.partition("|")[2] if "|" in value else value)
    return keys


def _merge_requests(entries: list[Entry]) -> None:
    """MedicationRequests for the same medicine and patient are one medication: taking if any of them is active
    (the cautious reading for screening), else stopped with the latest last dose."""
    stated = {
        (e.mapped.subject, (e.mapped.values.get("name") or "").casefold())
        for e in entries
        if isinstance(e.mapped, Mapped) and e.mapped.kind == "medication" and not e.mapped.fills_only
    }
    groups: dict[tuple[Any, str], list[Mapped]] = {}
    for entry in entries:
        mapped = entry.mapped
        if isinstance(mapped, Mapped) and mapped.fills_only:
            key = (mapped.subject, (mapped.values.get("name") or "").casefold())
            if key in stated:
                # The patient's MedicationStatement for the same medicine in this batch says more than an order:
                # it alone is written (and no record is created only for a statement to update it).
                entry.mapped = Skip(
                    "MedicationRequest", "a MedicationStatement for the same medicine in this bundle is kept instead"
                )
                continue
            groups.setdefault(key, []).append(mapped)
    for group in groups.values():
        if len(group) < 2:
            continue
        active = any(m.values["status"] == "active" for m in group)
        last = max((m.values["last_dose_date"] for m in group if m.values.get("last_dose_date")), default=None)
        sent_status = "active" if active else group[0].values["sent_request"].get("status", "stopped")
        for m in group:
            m.values["status"] = "active" if active else "stopped"
            m.values["last_dose_date"] = None if active else last
            m.values["sent_request"] = {**m.values["sent_request"], "status": sent_status}


def _match_key(kind: str, values: dict[str, Any]) -> Any:
    """What makes two records the same on a re-import (docs/FHIR-IMPORT.md, "Matching")."""
    if kind == "condition":
        return ((values.get("description") or "").casefold(), values.get("onset_date"))
    if kind == "medication":
        return (values.get("name") or "").casefold()
    if kind == "allergy":
        return (values.get("substance") or "").casefold()
    if kind == "weight":
        return values.get("measured_on")
    if kind == "pain":
        return values.get("authored_on")
    if kind == "observation":
        return (values.get("code_tokens"), values.get("effective_text"))
    raise KeyError(kind)


# The nrs_pain item a single reported 0-10 rating (LOINC 72514-3) is stored as: the instrument's score item (average
# pain over the last week, IMMPACT), the value the read side exports under 72514-3, so a round trip is lossless.
PAIN_ITEM = "average_week"


def _pain_rating(response: Any) -> int | None:
    value = (response.answers or {}).get(PAIN_ITEM)
    return None if value is None else int(value)


def _linked(response: Any) -> bool:
    """Whether a pain answer already is a kept Observation's."""
    try:
        return response.source_observation is not None
    except Observation.DoesNotExist:
        return False


def observation_dates(effective: dict[str, Any], tz: Any, where: str) -> dict[str, Any]:
    """A kept Observation's effective[x] as written and as the range it stands for (FHIR date search)."""
    try:
        if "value" in effective:
            span = daterange.span_of(effective["value"], tz)
            text = str(effective["value"])
        elif effective:
            span = daterange.period_span(effective.get("start"), effective.get("end"), tz)
            text = f"{effective.get('start') or ''}/{effective.get('end') or ''}"
        else:
            return {"effective_text": "", "has_effective": False, "effective_start": None, "effective_end": None}
    except ValueError as error:
        raise _fail(422, "value", str(error), f"{where}.effective") from None
    return {
        "effective_text": text[:80],
        "has_effective": True,
        "effective_start": span.start,
        "effective_end": span.end,
    }


def _children(kind: str) -> Any:
    """The live records of a kind that a re-import matches against."""
    if kind == "pain":
        return QuestionnaireResponse.objects.filter(
            instrument=PAIN_INSTRUMENT, entered_in_error_at__isnull=True
        ).select_related("source_observation")
    if kind == "observation":
        return Observation.objects.filter(entered_in_error_at__isnull=True).select_related("pain_answer")
    return KIND_MODELS[kind].objects.filter(entered_in_error_at__isnull=True)


def import_bundle(actor: Actor, bundle: Any, *, max_entries: int | None = None, dry_run: bool = False) -> Result:
    """Import a transaction Bundle all-or-nothing (ImportFailure, nothing written, on any problem), or a batch Bundle
    entry by entry (each entry's own status; the others are kept)."""
    kind, entries = parse_bundle(bundle, max_entries=max_entries or MAX_ENTRIES)
    if kind == "batch":
        return import_batch(actor, entries, dry_run=dry_run)
    problems = [issue for entry in entries for issue in entry.problems]
    if problems:
        raise ImportFailure(400, problems)
    read_entries(entries)
    importer = Importer(actor)
    importer.check_permissions(entries)
    return run(importer, entries, dry_run=dry_run, summary="fhir.bundle.imported")


class _DryRun(Exception):
    pass


def run(importer: Importer, entries: list[Entry], *, dry_run: bool = False, summary: str | None = None) -> Result:
    """Write validated, mapped entries in one transaction (rolled back at the end for a dry run)."""
    result: Result | None = None
    try:
        with transaction.atomic():
            outcomes = importer.write(entries)
            notes = [i for o in outcomes for i in o.issues if i.severity == "warning"]
            result = Result(outcomes, notes)
            if summary:
                audit_summary(importer.actor, summary, result.counts())
            if dry_run:
                raise _DryRun
    except _DryRun:
        importer.by_reference.clear()
        importer.by_identifier.clear()
        importer.children.clear()
    assert result is not None
    return result


def _batch_entry(actor: Actor, entry: Entry) -> Outcome:
    """One batch entry on its own: validated, mapped, written in its own savepoint; a refusal is its response."""
    resource_type = str(entry.resource.get("resourceType") or "Resource")
    try:
        if entry.problems:
            raise ImportFailure(400, entry.problems)
        read_entries([entry])
        importer = Importer(actor)  # no state shared between entries: a batch has no interdependencies
        importer.check_permissions([entry])
        with transaction.atomic():
            return importer.write([entry])[0]
    except ImportFailure as failure:
        return Outcome(
            resource_type, "refused", f"{failure.status} {HTTPStatus(failure.status).phrase}", issues=failure.issues
        )


def import_batch(actor: Actor, entries: list[Entry], *, dry_run: bool = False) -> Result:
    """A batch Bundle: each entry imported or refused on its own (FHIR: no references between batch entries, so a
    `urn:uuid:` reference to another entry is refused; `Patient/<id>` and `Patient?identifier=` references work)."""
    result: Result | None = None
    try:
        with transaction.atomic():
            outcomes = [_batch_entry(actor, entry) for entry in entries]
            notes = [i for o in outcomes if o.result != "refused" for i in o.issues if i.severity == "warning"]
            result = Result(outcomes, notes, bundle_type="batch-response")
            audit_summary(actor, "fhir.batch.imported", result.counts())
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    assert result is not None
    return result


def audit_summary(actor: Actor, action: str, counts: Counter[tuple[str, str]]) -> None:
    """One audit event for the whole import, with its counts by result (each record has its own event too)."""
    totals: Counter[str] = Counter()
    for (_, result), n in counts.items():
        totals[result] += n
    results = ("created", "updated", "unchanged", "skipped", "refused")
    record_event(actor, action, detail={k: totals[k] for k in results if k in totals or k != "refused"})


def update_resource(
    actor: Actor, resource_type: str, resource_id: str, resource: Any, *, if_match: int | None
) -> Outcome:
    """PUT [base]/<type>/<id>: update one record of this clinic, refusing a stale version (412)."""
    if not isinstance(resource, dict):
        raise _fail(400, "structure", "The body must be a JSON object: a FHIR resource.")
    if resource.get("resourceType") != resource_type:
        raise _fail(
            400,
            "invalid",
            f"The body is a {resource.get('resourceType')!r}, the URL names {resource_type}.",
            "resourceType",
        )
    if resource_type not in TYPE_KINDS:
        why = f" ({not_imported(resource_type)})" if resource_type in SERVED_NOT_IMPORTED else ""
        raise _fail(
            405 if resource_type else 404,
            "not-supported",
            f"{resource_type} cannot be updated here{why}. {SUPPORTED_TEXT}.",
        )
    if resource.get("id") != resource_id:
        raise _fail(
            400, "invalid", f"The resource's id must equal the id in the URL ({resource_id}).", f"{resource_type}.id"
        )
    entry = Entry(0, resource_type, resource, method="PUT", url=f"{resource_type}/{resource_id}", if_match=if_match)
    entry.target_id = resource_id
    read_entries([entry])
    if isinstance(entry.mapped, Skip):
        raise _fail(
            422,
            "not-supported",
            f"This {resource_type} is not kept by ProloTrack ({entry.mapped.reason}).",
            resource_type,
        )
    assert isinstance(entry.mapped, Mapped)
    if (
        resource_type == "Observation"
        and (wanted_uuid := _uuid_or_none(resource_id)) is not None
        and QuestionnaireResponse.objects.filter(clinic=actor.clinic, uuid=wanted_uuid).exists()
    ):
        raise _fail(
            405,
            "not-supported",
            "This Observation is the score of a questionnaire response, a patient's answer: correct it in ProloTrack, "
            "not by PUT.",
            resource_type,
        )
    if entry.mapped.kind == "no_known_allergies":
        raise _fail(
            422,
            "business-rule",
            'A "no known allergy" statement is not an allergy and cannot replace one: mark the allergy entered in '
            "error in ProloTrack, then POST the statement (it sets the chart's confirmation).",
            resource_type,
        )
    importer = Importer(actor)
    importer.check_permissions([entry])
    if entry.mapped.kind != "patient":
        # The record's own patient, unless the body names another (refused in _write_child).
        model: type[Observation] | patient_services.ChildModel = (
            Observation if entry.mapped.kind == "observation" else patient_services.CHILD_MODELS[entry.mapped.kind][0]
        )
        try:
            current = model.objects.select_related("patient").get(clinic=actor.clinic, uuid=uuid_lib.UUID(resource_id))
            if _read_as(resource_type, current) != resource_type:
                raise model.DoesNotExist  # a medicine reads as one type only (the one it came as)
        except (ValueError, model.DoesNotExist):
            raise _fail(404, "not-found", f"No {resource_type}/{resource_id} in this clinic.") from None
        importer.by_reference[f"Patient/{current.patient.uuid}"] = current.patient
    elif importer._patient_by_uuid(resource_id) is None:
        raise _fail(404, "not-found", f"No Patient/{resource_id} in this clinic.")
    return run(importer, [entry]).outcomes[0]


def _uuid_or_none(value: str) -> uuid_lib.UUID | None:
    try:
        return uuid_lib.UUID(value)
    except ValueError:
        return None


def retire_resource(actor: Actor, resource_type: str, resource_id: str, *, if_match: int | None) -> Any:
    """DELETE [base]/<type>/<id>: nothing is erased; the record is marked entered in error (kept in its history,
    audited), through the registry's own service. A stale If-Match is refused (412)."""
    kinds = TYPE_KINDS.get(resource_type)
    if kinds is None:
        why = f" ({not_imported(resource_type)})" if resource_type in SERVED_NOT_IMPORTED else ""
        raise _fail(
            405, "not-supported", f"{resource_type} cannot be deleted here{why}. {SUPPORTED_TEXT}.", resource_type
        )
    try:
        wanted = uuid_lib.UUID(resource_id)
    except ValueError:
        raise _fail(404, "not-found", f"No {resource_type}/{resource_id} in this clinic.") from None
    reason = "Deleted through the FHIR API (DELETE): marked entered in error."
    if (
        resource_type == "Observation"
        and QuestionnaireResponse.objects.filter(clinic=actor.clinic, uuid=wanted).exists()
    ):
        raise _fail(
            405, "not-supported",
            "A questionnaire score is a patient's answer: mark it entered in error in ProloTrack.",
            resource_type,
        )  # fmt: skip
    for kind in kinds:
        model = KIND_MODELS[kind]
        record = model.objects.filter(clinic=actor.clinic, uuid=wanted).first()
        if record is None or _read_as(resource_type, record) != resource_type:
            continue
        if record.entered_in_error_at is not None:
            return record  # FHIR: deleting a deleted resource succeeds
        if isinstance(record, Patient):  # the "patient" kind
            return patient_services.retire_patient(actor, record, reason=reason, expected_version=if_match)
        if isinstance(record, Observation):  # the "observation" kind
            return patient_services.retire_observation(actor, record, reason=reason, expected_version=if_match)
        return patient_services.retire_child(actor, record, kind, reason=reason, expected_version=if_match)
    raise _fail(404, "not-found", f"No {resource_type}/{resource_id} in this clinic.")


# --- files: NDJSON (Bulk export of another server) and JSON Bundles, for `manage.py import_fhir` -----------------

NDJSON_BATCH = 500  # resources written per transaction


@dataclass
class LineError:
    """A resource that was not imported: where it was (file:line) and why."""

    file: str
    line: int
    issues: list[Issue]

    def __str__(self) -> str:
        parts = [f"{i.expression + ': ' if i.expression else ''}{i.diagnostics}" for i in self.issues]
        return f"{self.file}:{self.line}: {'; '.join(parts)}"


@dataclass
class FileReport:
    """What an import of files did: (type, result) counts and the resources refused."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[LineError] = field(default_factory=list)
    resources: int = 0

    def add(self, outcomes: Iterable[Outcome]) -> None:
        for o in outcomes:
            self.counts[(o.resource_type, o.result)] += 1


class _Rollback(Exception):
    pass


def file_order(path: Any) -> tuple[int, str]:
    """Patients first, so the other files' references find them; then the rest by name."""
    name = str(getattr(path, "name", path))
    return (0 if name.split(".")[0].split("-")[0] == "Patient" else 1, name)


class FileImporter:
    """Streams NDJSON files (one resource a line) and JSON Bundles into the registry, in batches.

    NDJSON: each line is validated and mapped on its own; a bad line is skipped and reported with its file and line
    number, the rest of the file is imported. Lines are written in transactions of `batch_size`; when a batch is
    refused at write time it is retried line by line, so only the refused lines are left out. A JSON Bundle of type
    transaction is all-or-nothing, like POST /fhir/. A dry run does everything inside one transaction and rolls it back.
    """

    def __init__(self, actor: Actor, *, batch_size: int = NDJSON_BATCH, progress: Any = None) -> None:
        self.importer = Importer(actor)
        self.batch_size = batch_size
        self.report = FileReport()
        self.progress = progress  # callable(bytes_read) or None

    def run(self, paths: list[Any], *, dry_run: bool = False) -> FileReport:
        if not role_has(self.importer.actor.role, Permission.FHIR_IMPORT):
            raise AccessDenied("Your role does not allow FHIR import (fhir.import).")
        ordered = sorted(paths, key=file_order)
        if not dry_run:
            for path in ordered:
                self._file(path)
            with transaction.atomic():
                audit_summary(self.importer.actor, "fhir.files.imported", self.report.counts)
            return self.report
        try:
            with transaction.atomic():
                for path in ordered:
                    self._file(path)
                raise _Rollback
        except _Rollback:
            pass
        return self.report

    def _file(self, path: Any) -> None:
        name = str(getattr(path, "name", path))
        if name.endswith(".json"):
            self._bundle_file(path, name)
        else:
            self._ndjson_file(path, name)

    def _bundle_file(self, path: Any, name: str) -> None:
        import orjson

        with open(path, "rb") as handle:
            raw = handle.read()
        if self.progress:
            self.progress(len(raw))
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            self.report.errors.append(LineError(name, 1, [Issue("error", "structure", f"Not valid JSON: {error}.")]))
            return
        count = len(data.get("entry") or []) if isinstance(data, dict) else 0
        self.report.resources += count
        try:
            entries = bundle_entries(data)
            read_entries(entries)
            self.importer.check_permissions(entries)
            with transaction.atomic():
                self.report.add(self.importer.write(entries))
        except ImportFailure as failure:
            self.report.errors.append(LineError(name, 1, failure.issues))

    def _ndjson_file(self, path: Any, name: str) -> None:
        import orjson

        batch: list[tuple[int, Entry]] = []
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if self.progress:
                    self.progress(len(raw))
                if not raw.strip():
                    continue
                self.report.resources += 1
                try:
                    resource = orjson.loads(raw)
                except orjson.JSONDecodeError as error:
                    self._error(name, number, [Issue("error", "structure", f"Not valid JSON: {error}.")])
                    continue
                where = resource.get("resourceType") if isinstance(resource, dict) else None
                entry = Entry(number, str(where or "Resource"), resource)
                if isinstance(resource, dict) and isinstance(resource.get("id"), str):
                    entry.full_url = f"{resource.get('resourceType')}/{resource['id']}"
                try:
                    read_entries([entry])
                    self.importer.check_permissions([entry])
                except ImportFailure as failure:
                    self._error(name, number, failure.issues)
                    continue
                batch.append((number, entry))
                if len(batch) >= self.batch_size:
                    self._write(name, batch)
                    batch = []
        if batch:
            self._write(name, batch)

    def _write(self, name: str, batch: list[tuple[int, Entry]]) -> None:
        entries = [entry for _, entry in batch]
        try:
            with transaction.atomic():
                outcomes = self.importer.write(entries)
            self.importer.children.clear()  # each batch loads what it matches against: memory stays flat
        except ImportFailure:
            self._forget(entries)
            outcomes = []
            for number, entry in batch:  # find the refused lines; write the others
                try:
                    with transaction.atomic():
                        outcomes.extend(self.importer.write([entry]))
                except ImportFailure as failure:
                    self._forget([entry])
                    self._error(name, number, failure.issues)
        self.report.add(outcomes)

    def _forget(self, entries: list[Entry]) -> None:
        """Drop what a rolled-back write left in the importer's memory (patients and children it had created)."""
        ids = {p.pk for p in Patient.objects.filter(pk__in=[p.pk for p in self.importer.by_reference.values()])}
        for key in [k for k, p in self.importer.by_reference.items() if p.pk not in ids]:
            del self.importer.by_reference[key]
        for systems in self.importer.by_identifier.values():
            for system in [s for s, p in systems.items() if p.pk not in ids]:
                del systems[system]
        self.importer.children.clear()

    def _error(self, name: str, number: int, issues: list[Issue]) -> None:
        self.report.errors.append(LineError(name, number, issues))
