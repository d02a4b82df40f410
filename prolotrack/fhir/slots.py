"""FHIR `Slot`: the free slots of a `Schedule` (who offers which appointment type), computed by the booking app's
free-slot query under the staff rules (booking.queries.free_slots, docs/BOOKING.md), not read from rows.

A Slot exists while it is free: its id is the Schedule's id and its start in UTC (`<schedule id>-YYYYMMDDhhmm`), a
read answers it while it is still free and 404 once it is taken (or the hours changed). Search: `schedule`,
`start` (a window of at most 31 days, default the next 7), `status` (only `free` matches), `service-type`, `_id`,
`_count`, keyset paging by `_cursor` (the last slot's start and schedule), `_total`/`_summary=count`. No patient data:
reads and searches are not audited, as the staff directory's are not (docs/FHIR.md)."""

import re
import uuid as uuid_lib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils import timezone

from prolotrack.booking import queries as booking
from prolotrack.booking.models import TypeClinician
from prolotrack.clinics.http import FhirRequest
from prolotrack.clinics.roles import Permission
from prolotrack.fhir import mappers
from prolotrack.fhir.http import FhirError, fhir_actor
from prolotrack.fhir.search import DEFAULT_COUNT, MAX_COUNT, parse_date

# The widest window one search computes: a month (the free-slot query's benchmark, docs/PERFORMANCE.md).
MAX_DAYS = 31
DEFAULT_DAYS = 7
HORIZON = timedelta(days=booking.STAFF_DAYS_AHEAD + 1)
PARAMS = frozenset({"schedule", "start", "status", "service-type", "_id"})
CONTROL = frozenset({"_count", "_cursor", "_total", "_summary", "_format", "_pretty"})
_ID = re.compile(r"^([0-9a-f-]{36})-(\d{12})$")


@dataclass(frozen=True)
class FoundSlot:
    start: datetime
    end: datetime
    offer: TypeClinician

    @property
    def id(self) -> str:
        return slot_id(self.offer.uuid, self.start)

    def resource(self) -> dict[str, Any]:
        kind = self.offer.appointment_type
        return mappers.slot(self.id, self.offer.uuid, kind.kind, kind.name, self.start, self.end)


def slot_id(schedule_uuid: Any, start: datetime) -> str:
    return f"{schedule_uuid}-{start.astimezone(UTC):%Y%m%d%H%M}"


def parse_id(text: str) -> tuple[uuid_lib.UUID, datetime] | None:
    match = _ID.match(text.strip().lower())
    if not match:
        return None
    try:
        return uuid_lib.UUID(match.group(1)), datetime.strptime(match.group(2) + "+0000", "%Y%m%d%H%M%z")
    except ValueError:
        return None


def _offers(clinic: Any) -> Any:
    return TypeClinician.objects.filter(
        clinic=clinic, active=True, entered_in_error_at__isnull=True, appointment_type__active=True,
        appointment_type__entered_in_error_at__isnull=True,
    ).select_related("appointment_type", "clinician")  # fmt: skip


def compute(clinic: Any, offers: list[TypeClinician], low: datetime, high: datetime) -> list[FoundSlot]:
    """The free slots of the offers starting in [low, high), by start then schedule id: one free-slot query per
    appointment type (six statements each, whatever the number of clinicians)."""
    tz = clinic.tz
    first, last = low.astimezone(tz).date(), (high - timedelta(microseconds=1)).astimezone(tz).date()
    by_type: dict[int, dict[int, TypeClinician]] = defaultdict(dict)
    for offer in offers:
        by_type[offer.appointment_type_id][offer.clinician_id] = offer
    found: list[FoundSlot] = []
    for mine in by_type.values():
        kind = next(iter(mine.values())).appointment_type
        who = next(iter(mine.values())).clinician if len(mine) == 1 else None
        for free in booking.free_slots(clinic, kind, first, last, clinician=who):
            owner = mine.get(free.clinician.pk)
            if owner is not None and low <= free.start < high:
                found.append(FoundSlot(free.start, free.end, owner))
    found.sort(key=lambda s: (s.start, str(s.offer.uuid)))
    return found


def _window(values: list[str], tz: Any, now: datetime) -> tuple[datetime, datetime]:
    """The window of starts the `start` values ask for, from now at the earliest, at most MAX_DAYS long."""
    low: datetime | None = None
    high: datetime | None = None
    for value in values:
        asked = parse_date("start", value, tz)
        lows = {"eq": asked.start, "ge": asked.start, "gt": asked.end, "sa": asked.end}
        highs = {"eq": asked.end, "le": asked.end, "lt": asked.start, "eb": asked.start}
        if asked.prefix not in lows and asked.prefix not in highs:
            raise FhirError(
                400, f"start={value}: Slot.start takes eq, ge, gt, le, lt, sa or eb.", code="not-supported",
                expression=["start"],
            )  # fmt: skip
        if asked.prefix in lows:
            low = max(low or lows[asked.prefix], lows[asked.prefix])
        if asked.prefix in highs:
            high = min(high or highs[asked.prefix], highs[asked.prefix])
    low = max(low or now, now)
    high = high or low + timedelta(days=DEFAULT_DAYS)
    if high - low > timedelta(days=MAX_DAYS):
        raise FhirError(
            400, f"Ask for at most {MAX_DAYS} days of slots at a time (start=ge...&start=lt...).", code="too-costly",
            expression=["start"],
        )  # fmt: skip
    return low, high


def _ids(values: list[str], strip: str = "") -> list[str]:
    return [p.strip().removeprefix(strip) for v in values for p in v.split(",") if p.strip()]


def _narrow(clinic: Any, params: QueryDict, strict: bool, ignored: list[str]) -> tuple[list[TypeClinician], bool]:
    """The offers a search asks about, and whether anything can match (a status other than free cannot)."""
    offers = _offers(clinic)
    possible = True
    for name in params:
        values = params.getlist(name)
        if name == "schedule":
            wanted = [uuid_lib.UUID(t) for t in _ids(values, "Schedule/") if _uuid(t)]
            offers = offers.filter(uuid__in=wanted)
        elif name == "service-type":
            codes = [p.partition("|")[2] if "|" in p else p for p in _ids(values)]
            offers = offers.filter(appointment_type__kind__in=codes)
        elif name == "status":
            possible = possible and "free" in _ids(values)
        elif name == "_id":
            parsed = [parse_id(t) for t in _ids(values)]
            offers = offers.filter(uuid__in=[p[0] for p in parsed if p])
        elif name not in CONTROL and name != "start":
            if strict:
                raise FhirError(400, f"Search parameter '{name}' is not supported on Slot.", expression=[name])
            ignored.append(name)
    return list(offers), possible


def _uuid(text: str) -> bool:
    try:
        uuid_lib.UUID(text)
    except ValueError:
        return False
    return True


def _count(params: QueryDict) -> int:
    text = params.get("_count", "")
    if not text:
        return DEFAULT_COUNT
    if not text.isdigit():
        raise FhirError(400, "_count must be a whole number.", code="invalid", expression=["_count"])
    return min(int(text), MAX_COUNT)


def _after_cursor(found: list[FoundSlot], cursor: str) -> list[FoundSlot]:
    match = re.fullmatch(r"(\d{12})\.([0-9a-f-]{36})", cursor)
    if not match:
        raise FhirError(400, "_cursor is not one this server gave out: follow the Bundle's links.", code="invalid")
    key = (match.group(1), match.group(2))
    return [s for s in found if (f"{s.start.astimezone(UTC):%Y%m%d%H%M}", str(s.offer.uuid)) > key]


def search(request: FhirRequest, params: QueryDict, base_url: str, strict: bool) -> dict[str, Any]:
    """The searchset Bundle of free slots."""
    fhir_actor(request, Permission.SCHEDULE_VIEW)
    clinic = request.clinic
    ignored: list[str] = []
    offers, possible = _narrow(clinic, params, strict, ignored)
    now = timezone.now()
    low, high = _window(params.getlist("start"), clinic.tz, now)
    high = min(high, now + HORIZON)  # staff book up to two years ahead: nothing is free beyond
    found = compute(clinic, offers, low, high) if possible and offers and low < high else []
    if params.getlist("_id"):
        wanted = set(_ids(params.getlist("_id")))
        found = [s for s in found if s.id in wanted]
    total = len(found)
    cursor = str(params.get("_cursor") or "")
    if cursor:
        found = _after_cursor(found, cursor)
    count = _count(params)
    page, more = found[:count], len(found) > count
    kept = [(k, v) for k in params if k not in ("_cursor",) and k not in ignored for v in params.getlist(k)]
    links = [{"relation": "self", "url": f"{base_url}/Slot?{urlencode(kept)}"}]
    if more:
        last = page[-1]
        after = f"{last.start.astimezone(UTC):%Y%m%d%H%M}.{last.offer.uuid}"
        links.append({"relation": "next", "url": f"{base_url}/Slot?{urlencode([*kept, ('_cursor', after)])}"})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if params.get("_total") in ("accurate", "estimate") or params.get("_summary") == "count" or count == 0:
        bundle["total"] = total
    bundle["link"] = links
    if params.get("_summary") != "count":
        entries = [
            {"fullUrl": f"{base_url}/Slot/{s.id}", "resource": s.resource(), "search": {"mode": "match"}} for s in page
        ]
        if ignored:
            issues = [{"severity": "warning", "code": "not-supported", "diagnostics": f"Ignored on Slot: {n}."}
                      for n in ignored]  # fmt: skip
            entries.append(
                {"resource": {"resourceType": "OperationOutcome", "issue": issues}, "search": {"mode": "outcome"}}
            )
        bundle["entry"] = entries
    return bundle


def read(request: FhirRequest, resource_id: str) -> dict[str, Any]:
    """One slot while it is free; 404 once it is taken, or when no such slot was ever offered."""
    fhir_actor(request, Permission.SCHEDULE_VIEW)
    clinic = request.clinic
    parsed = parse_id(resource_id)
    offer = _offers(clinic).filter(uuid=parsed[0]).first() if parsed else None
    if parsed is None or offer is None:
        raise FhirError(404, f"No Slot with id {resource_id} in this clinic.")
    start = parsed[1]
    now = timezone.now()
    found = compute(clinic, [offer], start, start + timedelta(minutes=1)) if now <= start < now + HORIZON else []
    for free in found:
        if free.start == start:
            return free.resource()
    raise FhirError(
        404, f"Slot/{resource_id} is not free now (taken, or the hours changed): search Slot?schedule="
        f"Schedule/{offer.uuid} for the free ones.",
    )  # fmt: skip
