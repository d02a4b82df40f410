"""Audited, versioned writes. Every service in the product writes through these.

Each helper must run inside the caller's `transaction.atomic()` block, so the
change, its version row and its audit row commit together or not at all.
"""

import ipaddress
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from prolotrack.audit.keys import ChainKeys, chain_keys
from prolotrack.audit.models import AuditChain, AuditEvent, RecordVersion

# The service errors live in core (the bottom layer); every service imports them from here with the helpers.
from prolotrack.core.errors import AccessDenied as AccessDenied
from prolotrack.core.errors import RecordClosedError as RecordClosedError
from prolotrack.core.errors import ServiceError as ServiceError
from prolotrack.core.errors import StaleEditError as StaleEditError
from prolotrack.core.records import ClinicalRecord, json_value, service_write
from prolotrack.domain.errors import DomainError, InputError
from prolotrack.domain.inputs import check_text
from prolotrack.domain.reasons import ENTERED_IN_ERROR_REASONS, classify


@dataclass(frozen=True)
class Actor:
    """Who acts, for which clinic, from where: passed to every service."""

    user: Any  # clinics.User or None for the system
    clinic: Any  # clinics.Clinic or None
    role: str = ""
    client_address: str | None = None
    channel: str = "web"
    # The OAuth client (a SMART app or backend service) acting through the user, recorded on each of its audit rows.
    client_id: str = ""

    @classmethod
    def system(cls, clinic: Any = None) -> "Actor":
        return cls(user=None, clinic=clinic, role="", client_address=None, channel="system")


R = TypeVar("R", bound=ClinicalRecord)


def _normalise_address(address: str | None) -> str | None:
    """One spelling per address, so the hash survives the database's own formatting: the spelling the column
    stores (`GenericIPAddressField` keeps an IPv4 address as written and cleans an IPv6 one with
    `clean_ipv6_address`, which writes an IPv4-mapped address as ::ffff:a.b.c.d and drops a zone such as %eth0).
    Hashing `ipaddress`'s own spelling (::ffff:a00:1) instead made such an event fail verification once stored."""
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    return parsed.compressed if parsed.version == 4 else clean_ipv6_address(address)


def only_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    """The data, or a ValidationError naming every field the caller may not set."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        from django.core.exceptions import ValidationError

        raise ValidationError(dict.fromkeys(unknown, "This field cannot be set here."))
    return dict(data)


# Short free-text fields stored as CharField: like a TextField they may hold line breaks and tabs.
FREE_TEXT_NAMES = ("note", "notes", "reason", "comment", "description")


def _multiline(field: Any) -> bool:
    return isinstance(field, models.TextField) or field.name.endswith(FREE_TEXT_NAMES)


def check_text_fields(record: Any) -> None:
    """Refuse control characters in any text field of a record (one rule for pages, API, FHIR, imports and
    commands; domain/inputs.py). Free text (TextField, notes, reasons) may hold line breaks and tabs; names, codes
    and other one-line fields not."""
    from django.core.exceptions import ValidationError

    errors: dict[str, str] = {}
    for field in record._meta.concrete_fields:
        if not isinstance(field, models.CharField | models.TextField):
            continue
        value = getattr(record, field.attname)
        if not isinstance(value, str):
            continue
        try:
            check_text(value, str(field.verbose_name).capitalize(), multiline=_multiline(field))
        except InputError as error:
            errors[field.name] = str(error)
    if errors:
        raise ValidationError(errors)


def check_reason(reason: str) -> None:
    """A change reason is free text stored with the version: the same control-character rule."""
    from django.core.exceptions import ValidationError

    try:
        check_text(reason or "", "The reason", multiline=True)
    except InputError as error:
        raise ValidationError({"reason": str(error)}) from None


def validate(record: ClinicalRecord) -> None:
    """full_clean without a SELECT per foreign key: the database enforces those, and the services pass
    related objects they looked up inside the caller's clinic. Field, unique and constraint checks all run, and
    text fields are checked for control characters."""
    check_text_fields(record)
    relations = {f.name for f in record._meta.concrete_fields if f.is_relation}
    record.clean_fields(exclude=relations)
    record.clean()
    record.validate_unique()
    record.validate_constraints()


def _require_atomic() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("Audited writes must run inside transaction.atomic().")


def _lock_chain(key: str) -> AuditChain:
    """The chain's head, locked until the transaction ends (SELECT ... FOR UPDATE on PostgreSQL; SQLite has one
    writer at a time). One query once the chain exists; the first event of a clinic creates it (get_or_create is
    safe against a concurrent creator: the key is unique), then locks it."""
    try:
        return AuditChain.objects.select_for_update().get(key=key)
    except AuditChain.DoesNotExist:
        chain, _ = AuditChain.objects.get_or_create(key=key)
        return AuditChain.objects.select_for_update().get(pk=chain.pk)


def hold_clinic_chain(clinic_id: int) -> None:
    """Hold the clinic's audit chain until the transaction ends, as every audited write of the clinic does from its
    first audit event to its commit (a no-op for a transaction that already holds it). A table derived from the
    clinic's records and recomputed after this call sees every write committed before, and none commits meanwhile
    (analytics/facts.py)."""
    _require_atomic()
    _lock_chain(f"clinic:{clinic_id}")


def _chained_event(
    actor: Actor,
    key: str,
    clinic: Any,
    action: str,
    seq: int,
    prev_hash: str,
    record: Any,
    patient_uuid: uuid.UUID | None,
    detail: Mapping[str, Any] | None,
    keys: ChainKeys | None = None,
    address: str | None = None,
) -> AuditEvent:
    """The next event of a chain, its hash computed over its content and the previous hash (not saved). A batch
    passes the chain keys and the actor's normalised address, read once for all its events."""
    user = actor.user if actor.user is not None and actor.user.pk else None
    event = AuditEvent(
        chain_key=key,
        seq=seq,
        at=timezone.now(),
        clinic=clinic,
        user=user,
        username=user.get_username() if user else (detail or {}).get("username", ""),
        role=actor.role,
        action=action,
        record_type=record._meta.label_lower if record is not None else "",
        record_uuid=getattr(record, "uuid", None),
        patient_uuid=patient_uuid,
        client_address=address if keys is not None else _normalise_address(actor.client_address),
        channel=actor.channel,
        detail=_detail(actor, detail),
        prev_hash=prev_hash,
    )
    keys = keys if keys is not None else chain_keys()
    event.key_id = keys.current
    event.hash = event.compute_hash(keys.key(keys.current))
    return event


def _detail(actor: Actor, detail: Mapping[str, Any] | None) -> dict[str, Any]:
    out = {k: json_value(v) for k, v in (detail or {}).items()}
    if actor.client_id:
        out["client_id"] = actor.client_id
    return out


def record_event(
    actor: Actor,
    action: str,
    *,
    record: Any = None,
    patient_uuid: uuid.UUID | None = None,
    detail: Mapping[str, Any] | None = None,
    clinic: Any = None,
) -> AuditEvent:
    """Append one audit event to its clinic's hash chain."""
    _require_atomic()
    clinic = clinic if clinic is not None else actor.clinic
    key = f"clinic:{clinic.pk}" if clinic is not None else "system"
    chain = _lock_chain(key)
    if record is not None and patient_uuid is None and isinstance(record, ClinicalRecord):
        patient_uuid = record.patient_uuid()
    event = _chained_event(actor, key, clinic, action, chain.seq + 1, chain.last_hash, record, patient_uuid, detail)
    event.save()
    chain.seq = event.seq
    chain.last_hash = event.hash
    chain.save(update_fields=["seq", "last_hash"])
    return event


def _write_version(actor: Actor, record: ClinicalRecord, action: str, reason: str, changes: dict[str, Any]) -> None:
    RecordVersion.objects.create(
        record_type=record._meta.label_lower,
        record_uuid=record.uuid,
        version=record.version,
        clinic=record.clinic,
        patient_uuid=record.patient_uuid(),
        user=actor.user if actor.user is not None and actor.user.pk else None,
        at=record.updated_at,
        action=action,
        reason=reason,
        data=record.snapshot(),
        changes=changes,
    )


def create_record(
    actor: Actor,
    record: R,
    action: str,
    *,
    reason: str = "",
    detail: Mapping[str, Any] | None = None,
    amendment: bool = False,
) -> R:
    """Save a new clinical record as version 1, with its version and audit rows.

    Adding to a locked parent (a site on a signed session) is allowed only as an amendment with a reason.
    """
    _require_atomic()
    if record.pk is not None:
        raise RuntimeError("create_record takes an unsaved record.")
    check_reason(reason)
    _check_lock(record, amendment, reason)
    now = timezone.now()
    user = actor.user if actor.user is not None and actor.user.pk else None
    record.created_at = record.updated_at = now
    record.created_by = record.updated_by = user
    record.version = 1
    validate(record)
    with service_write():
        record.save()
    _write_version(actor, record, action, reason, changes={})
    record_event(actor, action, record=record, patient_uuid=record.patient_uuid(), detail=detail)
    return record


def _validate_new(record: ClinicalRecord) -> None:
    """`validate` for a record about to be inserted, without the SELECT on its uuid: a fresh uuid4 is unique with
    overwhelming probability, and the column's UNIQUE index refuses a collision anyway (the insert fails and the
    caller's transaction rolls back). The same holds for a one-to-one link (a kept Observation's pain answer, a
    document's PDF): the services link a target they have just created, the column's UNIQUE index refuses a second
    link, and a SELECT per linked record made a bundle import cost a query per pain score. Every other unique field
    and constraint is still checked against the database."""
    check_text_fields(record)
    fields = record._meta.concrete_fields
    relations = {f.name for f in fields if f.is_relation}
    record.clean_fields(exclude=relations)
    record.clean()
    record.validate_unique(exclude={"uuid"} | {f.name for f in fields if f.one_to_one})
    record.validate_constraints()


def _unique_within(records: Sequence[ClinicalRecord]) -> None:
    """Refuse two records of the batch that one unique constraint forbids together (the database check in
    `_validate_new` sees only rows already saved)."""
    from django.core.exceptions import ValidationError
    from django.db.models import UniqueConstraint

    if not records:
        return
    meta = records[0]._meta
    for constraint in meta.total_unique_constraints:
        if not isinstance(constraint, UniqueConstraint) or not constraint.fields:
            continue
        # A unique constraint names concrete fields only (never a reverse relation), each with its column attribute.
        fields = [meta.get_field(name) for name in constraint.fields]
        names = [field.attname for field in fields if isinstance(field, models.Field)]
        seen: set[tuple[Any, ...]] = set()
        for record in records:
            key = tuple(getattr(record, name) for name in names)
            if any(value is None for value in key):
                continue
            if key in seen:
                own = [n for n in constraint.fields if not meta.get_field(n).is_relation]
                message = constraint.get_violation_error_message()
                raise ValidationError({own[-1]: message} if own else message)
            seen.add(key)


def create_records(
    actor: Actor,
    records: list[R],
    action: str,
    *,
    detail: Mapping[str, Any] | None = None,
    details: list[Mapping[str, Any] | None] | None = None,
) -> list[R]:
    """`create_record` for many new records of one model at once, inside the caller's transaction.

    Same result as calling `create_record` for each in order (version 1, a RecordVersion row each, one audit event
    each, chained in the same order with the same hashes), in a constant number of statements: the records, their
    versions and their events are bulk-inserted, and the clinic's audit chain is locked and updated once. Each
    record is validated like `validate` (field, clean, unique and constraint checks, and duplicates within the
    batch) except the SELECT on its fresh uuid (see `_validate_new`). A locked parent is refused as in
    `create_record` (no amendments here: add those one at a time with their reason). `details`, when given, is one
    detail per record (else `detail` for all).
    """
    _require_atomic()
    records = list(records)
    if not records:
        return records
    model = type(records[0])
    if any(type(r) is not model for r in records):
        raise RuntimeError("create_records takes records of one model; call it once per model.")
    if any(r.pk is not None for r in records):
        raise RuntimeError("create_records takes unsaved records.")
    if details is not None and len(details) != len(records):
        raise RuntimeError("details must hold one entry per record.")
    if len({r.uuid for r in records}) != len(records):
        raise RuntimeError("create_records was given two records with the same uuid.")
    now = timezone.now()
    user = actor.user if actor.user is not None and actor.user.pk else None
    for record in records:
        _check_lock(record, False, "")
        record.created_at = record.updated_at = now
        record.created_by = record.updated_by = user
        record.version = 1
        _validate_new(record)
    _unique_within(records)
    with service_write(), transaction.atomic():
        created = model.objects.bulk_create(records)
    if any(r.pk is None for r in created):  # every supported database returns the new keys (RETURNING)
        raise RuntimeError("The database did not return the new records' keys.")
    label = model._meta.label_lower
    _insert_rows(
        RecordVersion,
        [
            {
                "record_type": label,
                "record_uuid": record.uuid,
                "version": 1,
                "clinic_id": record.clinic_id,
                "patient_uuid": record.patient_uuid(),
                "user_id": user.pk if user is not None else None,
                "at": record.updated_at,
                "action": action,
                "reason": "",
                "data": record.snapshot(),
                "changes": {},
            }
            for record in created
        ],
    )
    record_events(
        actor,
        action,
        records=created,
        details=details if details is not None else [detail] * len(created),
    )
    return created


def record_events(
    actor: Actor,
    action: str,
    *,
    records: list[Any],
    details: list[Mapping[str, Any] | None],
    clinic: Any = None,
) -> list[AuditEvent]:
    """`record_event` for many records in order: one chain lock, the hashes chained in Python exactly as
    `record_event` chains them, one bulk insert of the events and one update of the chain's head.

    What every event of the batch shares (the actor, the action, the clinic, the key, and the detail when every
    record has the same) is worked out and prepared for the database once: a page naming 500 patients spent most of
    its audit time building model instances by keyword and preparing the same values again for each row
    (docs/PERFORMANCE.md, "Pages audit every patient they show (session 11)")."""
    _require_atomic()
    clinic = clinic if clinic is not None else actor.clinic
    key = f"clinic:{clinic.pk}" if clinic is not None else "system"
    chain = _lock_chain(key)
    seq, prev = chain.seq, chain.last_hash
    keys, address = chain_keys(), _normalise_address(actor.client_address)
    secret = keys.key(keys.current)
    user = actor.user if actor.user is not None and actor.user.pk else None
    shared: dict[str, Any] = {
        "id": None, "chain_key": key, "clinic_id": clinic.pk if clinic is not None else None,
        "user_id": user.pk if user else None, "role": actor.role, "action": action, "client_address": address,
        "channel": actor.channel, "key_id": keys.current, "hash": "",
    }  # fmt: skip
    names = [f.attname for f in AuditEvent._meta.concrete_fields]
    username = user.get_username() if user else None  # with no user, each event's detail may name one
    constant = {*shared, *(["username"] if user else [])} - {"id", "hash"}
    if details and all(d is details[0] for d in details):
        constant.add("detail")
    events: list[AuditEvent] = []
    rows: list[dict[str, Any]] = []
    last_detail, last_out = None, _detail(actor, None)
    for record, detail in zip(records, details, strict=True):
        seq += 1
        if detail is not last_detail:
            last_detail, last_out = detail, _detail(actor, detail)
        values = {
            **shared,
            "seq": seq,
            "at": timezone.now(),
            "username": username if user else (detail or {}).get("username", ""),
            "record_type": record._meta.label_lower if record is not None else "",
            "record_uuid": getattr(record, "uuid", None),
            "patient_uuid": record.patient_uuid() if isinstance(record, ClinicalRecord) else None,
            "detail": last_out,
            "prev_hash": prev,
        }
        event = AuditEvent(*[values[name] for name in names])  # by position: no keyword or relation handling
        event.hash = values["hash"] = prev = event.compute_hash(secret)
        events.append(event)
        rows.append(values)
    _insert_rows(AuditEvent, rows, constant=constant)
    chain.seq = seq
    chain.last_hash = prev
    chain.save(update_fields=["seq", "last_hash"])
    return events


def _columns(model: type[models.Model]) -> list[Any]:
    """The columns an insert writes: every concrete field but the auto-incremented key."""
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _preparer(field: Any) -> Any:
    """A field's value as the database takes it: `get_db_prep_save` (what Django's insert compiler calls), with its
    result computed directly where it is plain: text, whole numbers and keys given as str or int (unchanged), a UUID
    (itself, or its hex where the database has no UUID type), an aware datetime (the backend's own adapter), a JSON
    object or list (the backend's own JSON adapter). Anything else takes the field's own path."""
    ops, native_uuid = connection.ops, connection.features.has_native_uuid_field
    if isinstance(field, models.CharField | models.TextField | models.IntegerField | models.ForeignKey):
        plain = "as is"
    elif isinstance(field, models.UUIDField):
        plain = "uuid"
    elif isinstance(field, models.DateTimeField):
        plain = "datetime"
    elif isinstance(field, models.JSONField):
        plain = "json"
    else:
        plain = ""

    def prepare(value: Any) -> Any:
        if value is None:
            return None
        kind = type(value)
        if plain == "as is" and kind in (str, int):
            return value
        if plain == "uuid" and kind is uuid.UUID:
            return value if native_uuid else value.hex
        if plain == "datetime" and kind is datetime and value.utcoffset() is not None:
            return ops.adapt_datetimefield_value(value)
        if plain == "json" and kind in (dict, list):
            return ops.adapt_json_value(value, field.encoder)
        return field.get_db_prep_save(value, connection)

    return prepare


def _insert_rows(model: type[models.Model], rows: list[dict[str, Any]], *, constant: Iterable[str] = ()) -> None:
    """Insert rows whose keys nobody reads back (version rows, audit events) with one `executemany` of prepared
    values: Django's bulk insert compiles the same statement value by value through its SQL compiler, which was
    most of a FHIR import's write time (docs/PERFORMANCE.md). `rows` map each column's attribute name to its value;
    values go through the field's own `get_db_prep_save`, so the database holds what `bulk_create` would write. The
    columns named in `constant` hold the same value in every row: prepared once, from the first row."""
    if not rows:
        return
    fields = _columns(model)
    quote = connection.ops.quote_name
    # Table and column names come from the model's own metadata, quoted by the backend; every value is a parameter.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    prepare = [(f.attname, _preparer(f)) for f in fields]
    same = set(constant)
    fixed = {name: prep(rows[0][name]) for name, prep in prepare if name in same}
    varying = [(i, name, prep) for i, (name, prep) in enumerate(prepare) if name not in fixed]
    template = [fixed.get(name) for name, _ in prepare]
    params = []
    for row in rows:
        values = template.copy()
        for i, name, prep in varying:
            values[i] = prep(row[name])
        params.append(values)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


MIN_AMENDMENT_REASON = 10


def _check_lock(record: ClinicalRecord, amendment: bool, reason: str) -> None:
    """Refuse a change to a locked record unless it is an amendment that says why."""
    locked = record.lock_reason()
    if locked is None:
        return
    if not amendment:
        raise RecordClosedError(locked)
    if len((reason or "").strip()) < MIN_AMENDMENT_REASON:
        raise ServiceError(
            f"An amendment needs a reason of at least {MIN_AMENDMENT_REASON} characters: say what was wrong."
        )


def _lock(record: R) -> R:
    return type(record).objects.select_for_update(no_key=True).get(pk=record.pk)


def update_record(
    actor: Actor,
    record: R,
    changes: Mapping[str, Any],
    action: str,
    *,
    expected_version: int | None,
    reason: str = "",
    amendment: bool = False,
) -> R:
    """Apply field changes to a clinical record if nobody saved it since `expected_version`.

    Returns the saved record. An edit that changes nothing writes nothing. A locked record (a signed note)
    changes only as an amendment with a reason; its earlier versions stay in RecordVersion.
    """
    _require_atomic()
    current = _lock(record)
    if current.is_entered_in_error:
        raise RecordClosedError("This record was marked entered in error and can no longer be changed.")
    check_reason(reason)
    _check_lock(current, amendment, reason)
    if expected_version is not None and current.version != expected_version:
        who = current.updated_by or "someone"
        when = timezone.localtime(current.updated_at).strftime("%Y-%m-%d %H:%M")
        raise StaleEditError(
            f"{who} saved this record at {when} after you opened it (version {current.version}, "
            f"you had version {expected_version}). Nothing was saved: reload to see their changes, then edit again."
        )
    diff: dict[str, list[Any]] = {}
    for name, value in changes.items():
        field = current._meta.get_field(name)
        if (
            not isinstance(field, models.Field)
            or not field.editable
            or name in ClinicalRecord.SNAPSHOT_EXCLUDE
            or name == "clinic"
        ):
            raise RuntimeError(f"{name} cannot be changed through update_record.")
        before = field.value_from_object(current)
        if before != value:
            diff[name] = [json_value(before), json_value(value)]
            setattr(current, name, value)
    if not diff:
        return current
    current.version += 1
    current.updated_at = timezone.now()
    current.updated_by = actor.user if actor.user is not None and actor.user.pk else None
    validate(current)
    with service_write():
        current.save()
    _write_version(actor, current, action, reason, changes=diff)
    record_event(actor, action, record=current, patient_uuid=current.patient_uuid(), detail={"fields": sorted(diff)})
    return current


def mark_entered_in_error(
    actor: Actor, record: R, action: str, *, reason: str, expected_version: int | None = None, amendment: bool = False
) -> R:
    """Retire a record created by mistake. It stays readable, with the reason, in its history."""
    _require_atomic()
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ServiceError("Say why this record was entered in error (at least 5 characters).")
    try:
        # One reason list for every channel (domain/reasons.py): free text is "other" with its words.
        reason = classify(ENTERED_IN_ERROR_REASONS, reason)
    except DomainError as error:
        raise ServiceError(str(error)) from None
    current = _lock(record)
    if current.is_entered_in_error:
        raise RecordClosedError("This record is already marked entered in error.")
    check_reason(reason)
    _check_lock(current, amendment, reason)
    if expected_version is not None and current.version != expected_version:
        raise StaleEditError("Someone changed this record after you opened it. Reload and try again.")
    current.entered_in_error_at = timezone.now()
    current.entered_in_error_reason = reason
    current.version += 1
    current.updated_at = current.entered_in_error_at
    current.updated_by = actor.user if actor.user is not None and actor.user.pk else None
    with service_write():
        current.save()
    _write_version(actor, current, action, reason, changes={"entered_in_error": [False, True]})
    record_event(actor, action, record=current, patient_uuid=current.patient_uuid(), detail={"reason": reason})
    return current


@transaction.atomic
def record_disclosure(
    actor: Actor, action: str, patients: Iterable[Any], *, detail: Mapping[str, Any] | None = None
) -> list[AuditEvent]:
    """Audit a read that showed several patients (a search, a list, a calendar): one event per patient shown, each
    naming its patient, written with `record_events` (one bulk insert, one chain lock). A read that showed nobody
    still leaves one event, so the search itself is on the trail.

    Each patient is a Patient instance; only its `uuid` is read (the event names the model and the uuid), so a page
    whose rows hold only the patients' uuids passes `patients.queries.known_by_uuid(...)`, made without a statement.
    A patient shown twice (two appointments in a week) is named once."""
    shown: dict[Any, Any] = {}
    for patient in patients:
        shown.setdefault(patient.uuid, patient)
    if not shown:
        return [record_event(actor, action, detail=detail)]
    return record_events(actor, action, records=list(shown.values()), details=[detail] * len(shown))


@transaction.atomic
def record_read(
    actor: Actor,
    action: str,
    *,
    record: Any,
    patient_uuid: uuid.UUID | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Audit a read of patient data in its own transaction."""
    return record_event(actor, action, record=record, patient_uuid=patient_uuid, detail=detail)


def export_disclosures(actor: Actor, patient: Any) -> str:
    """A patient's accounting of disclosures as CSV text (HIPAA 45 CFR 164.528). The export is audited first, in its
    own transaction, so the file lists itself."""
    import csv
    import io

    from prolotrack.audit.queries import DISCLOSURE_COLUMNS, disclosure_rows

    if actor.clinic is None or patient.clinic_id != actor.clinic.pk:
        raise ServiceError("That patient is not one of this clinic's.")
    with transaction.atomic():
        record_event(
            actor, "audit.disclosures.exported", record=patient, patient_uuid=patient.uuid, detail={"format": "csv"}
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(DISCLOSURE_COLUMNS)
    writer.writerows(disclosure_rows(actor.clinic, patient.uuid))
    return buffer.getvalue()
