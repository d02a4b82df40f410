"""Reads of the audit trail: chain verification, a patient's accounting of disclosures."""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from prolotrack.audit.keys import chain_keys
from prolotrack.audit.models import AuditChain, AuditEvent

AUDIT_PAGE_SIZE = 50


def events_page(
    clinic: Any,
    *,
    page: int,
    user: Any = None,
    patient_uuid: UUID | None = None,
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    nothing: bool = False,
) -> tuple[list[AuditEvent], bool]:
    """One page of the clinic's audit trail, newest first, filtered; and whether a next page exists.

    Pages without a COUNT over the whole history: one extra row says whether there is a next page. `nothing` (a filter
    that did not validate) shows no event rather than all of them."""
    events = AuditEvent.objects.filter(clinic=clinic).select_related("user")
    if nothing:
        events = events.none()
    if user is not None:
        events = events.filter(user=user)
    if patient_uuid:
        events = events.filter(patient_uuid=patient_uuid)
    if action:
        events = events.filter(action__startswith=action.strip())
    if date_from:
        events = events.filter(at__gte=datetime.combine(date_from, time.min, tzinfo=clinic.tz))
    if date_to:
        events = events.filter(at__lte=datetime.combine(date_to, time.max, tzinfo=clinic.tz))
    size = AUDIT_PAGE_SIZE
    rows = list(events.order_by("-at", "-seq")[(page - 1) * size : page * size + 1])
    return rows[:size], len(rows) > size


def verify_chains(batch: int = 5000, using: str = "default") -> tuple[list[str], int]:
    """Walk each chain in order, recomputing hashes (HMAC-SHA256 under the row's key, or plain SHA-256 for rows written
    before keyed chains); return the problems found and the rows checked. An unkeyed row after a keyed one is a
    problem (a rewrite that dropped the key). `using` names another database (a restored backup, ops/backup.py)."""
    problems: list[str] = []
    checked = 0
    keys = chain_keys()
    for chain in AuditChain.objects.using(using).order_by("key"):
        previous = "0" * 64
        expected_seq = 1
        last_seq = 0
        keyed_from = None
        while True:
            events = AuditEvent.objects.using(using).filter(chain_key=chain.key, seq__gt=last_seq)
            rows = list(events.order_by("seq")[:batch])
            if not rows:
                break
            for event in rows:
                checked += 1
                if event.seq != expected_seq:
                    problems.append(f"{chain.key}: event {expected_seq} is missing (next is {event.seq}).")
                if event.prev_hash != previous:
                    problems.append(f"{chain.key}: event {event.seq} does not follow the event before it.")
                if event.key_id:
                    keyed_from = keyed_from or event.seq
                    key = keys.key(event.key_id)
                    if key is None:
                        problems.append(
                            f"{chain.key}: event {event.seq} is keyed with {event.key_id!r}, which the key file does "
                            "not hold: it cannot be verified (restore that key to the file)."
                        )
                    elif event.compute_hash(key) != event.hash:
                        problems.append(f"{chain.key}: event {event.seq} was altered after it was written.")
                else:
                    if keyed_from is not None:
                        problems.append(
                            f"{chain.key}: event {event.seq} has no key although event {keyed_from} before it has "
                            "(rewritten without the key)."
                        )
                    elif event.compute_hash() != event.hash:
                        problems.append(f"{chain.key}: event {event.seq} was altered after it was written.")
                previous = event.hash
                expected_seq = event.seq + 1
                last_seq = event.seq
        if last_seq != chain.seq or previous != chain.last_hash:
            problems.append(f"{chain.key}: the chain head says {chain.seq} events, the table ends at {last_seq}.")
    return problems, checked


@dataclass
class Verification:
    problems: list[str]
    checked: int
    checkpoint: Any = None  # the checkpoint verified against, if any
    notes: list[str] = field(default_factory=list)


def verify(all_checkpoints: bool = False) -> Verification:
    """The chains, then the latest signed checkpoint (or every one): what `manage.py verify_audit_chain` reports."""
    from prolotrack.audit import checkpoints

    problems, checked = verify_chains()
    result = Verification(problems, checked)
    files = checkpoints.checkpoint_files()
    if not files:
        result.notes.append(
            f"No checkpoint in {checkpoints.directory()}: a truncated tail cannot be detected until one is written "
            "(manage.py audit_checkpoint, or the scheduler)."
        )
        return result
    previous = None
    for path in files if all_checkpoints else files[-1:]:
        try:
            found = checkpoints.read_checkpoint(path)
        except checkpoints.CheckpointError as error:
            result.problems.append(str(error))
            continue
        if previous is not None:
            for key, head in previous.chains.items():
                if int(found.chains.get(key, {}).get("seq", -1)) < int(head["seq"]):
                    result.problems.append(f"{key}: checkpoint {path.name} is behind the checkpoint before it.")
        result.problems += checkpoints.check_against(found)
        result.checkpoint = previous = found
    return result


DISCLOSURE_COLUMNS = (
    "when",
    "who",
    "role",
    "what_happened",
    "record_type",
    "record_id",
    "channel",
    "client_address",
    "details",
    "audit_event",
)


def csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP CSV injection: a leading = + - @ is quoted)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


_cell = csv_cell


def disclosure_rows(clinic: Any, patient_uuid: Any) -> list[list[str]]:
    """A patient's accounting of disclosures (HIPAA 45 CFR 164.528) from the audit trail: every event naming the
    patient (who read or changed what, when, through which channel), oldest first, times in the clinic's zone."""
    import json

    tz = clinic.tz
    events = AuditEvent.objects.filter(clinic=clinic, patient_uuid=patient_uuid).order_by("at", "seq")
    return [
        [
            _cell(event.at.astimezone(tz).isoformat(timespec="seconds")),
            _cell(event.username or "system"),
            _cell(event.role),
            _cell(event.action),
            _cell(event.record_type),
            _cell(event.record_uuid),
            _cell(event.channel),
            _cell(event.client_address),
            _cell(json.dumps(event.detail, sort_keys=True, default=str) if event.detail else ""),
            _cell(f"{event.chain_key}#{event.seq}"),
        ]
        for event in events.iterator(chunk_size=2000)
    ]
