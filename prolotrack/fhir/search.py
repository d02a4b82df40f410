"""FHIR search: parameters to filters, keyset paging over one or more sources, `_include` (docs/FHIR.md, "Search").

Paging is keyset (by the rows' internal key, walking a type's sources in order), never OFFSET: `next`/`previous`
links carry an opaque cursor. The Bundle has a `total` (a COUNT) only when asked for: `_total=accurate|estimate`,
`_summary=count` (the total, no entries) or `_count=0`.
"""

import re
import uuid as uuid_lib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.http import QueryDict

from prolotrack.fhir.http import FhirError
from prolotrack.fhir.resources import NOTHING, DateParam, Include, ResourceType, Source, any_of

DEFAULT_COUNT = 50
MAX_COUNT = 500
# Parameters the server understands on every type besides the type's own.
CONTROL = frozenset({"_count", "_include", "_format", "_cursor", "_pretty", "_total", "_summary"})

_DATE_RE = re.compile(
    r"^(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb|ap)?"
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass(frozen=True)
class DateRange:
    prefix: str
    start: datetime
    end: datetime  # exclusive

    def q(self, param: DateParam, tz: ZoneInfo) -> Q:
        """The filter on a date or datetime field (a date field compares the range's dates in the clinic's zone)."""
        found = self._q(param, tz)
        return found & param.only if param.only is not None else found

    def _q(self, param: DateParam, tz: ZoneInfo) -> Q:
        start: Any = self.start
        end: Any = self.end
        if not param.is_datetime:
            start = self.start.astimezone(tz).date()
            local_end = self.end.astimezone(tz)
            end = local_end.date() if local_end.time() == time(0) else local_end.date() + timedelta(days=1)
        f = param.field
        if self.prefix == "eq":
            return Q(**{f"{f}__gte": start, f"{f}__lt": end})
        if self.prefix == "ne":
            return ~Q(**{f"{f}__gte": start, f"{f}__lt": end}) & Q(**{f"{f}__isnull": False})
        if self.prefix == "ge":
            return Q(**{f"{f}__gte": start})
        if self.prefix == "gt":
            return Q(**{f"{f}__gte": end})
        if self.prefix == "le":
            return Q(**{f"{f}__lt": end})
        return Q(**{f"{f}__lt": start})  # lt


def parse_date(name: str, value: str, tz: ZoneInfo) -> DateRange:
    """A FHIR date search value (prefix + YYYY[-MM[-DD[Thh:mm[:ss][zone]]]]) as a half-open range."""
    match = _DATE_RE.match(value.strip())
    if not match:
        raise FhirError(
            400, f"{name}={value}: write a date as [prefix]YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ.",
            code="invalid", expression=[name],
        )  # fmt: skip
    g = match.groupdict()
    prefix = g["prefix"] or "eq"
    if prefix in ("sa", "eb", "ap"):
        raise FhirError(400, f"{name}: the prefix '{prefix}' is not supported; use eq, ne, gt, ge, lt or le.",
                        code="not-supported", expression=[name])  # fmt: skip
    zone: Any = tz
    if g.get("tz"):
        zone = ZoneInfo("UTC") if g["tz"] == "Z" else _offset(g["tz"])
    try:
        year = int(g["y"])
        if g["m"] is None:
            start = datetime(year, 1, 1, tzinfo=zone)
            end = datetime(year + 1, 1, 1, tzinfo=zone)
        elif g["d"] is None:
            month = int(g["m"])
            start = datetime(year, month, 1, tzinfo=zone)
            end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
        elif g["H"] is None:
            start = datetime(year, int(g["m"]), int(g["d"]), tzinfo=zone)
            end = start + timedelta(days=1)
        else:
            seconds = g["S"] is not None
            start = datetime(year, int(g["m"]), int(g["d"]), int(g["H"]), int(g["M"]), int(g["S"] or 0), tzinfo=zone)
            end = start + (timedelta(seconds=1) if seconds else timedelta(minutes=1))
    except ValueError:
        raise FhirError(400, f"{name}={value} is not a real date.", code="invalid", expression=[name]) from None
    return DateRange(prefix, start, end)


def _offset(text: str) -> Any:
    from datetime import timezone

    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _uuids(values: list[str], strip: str = "") -> list[uuid_lib.UUID]:
    out = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if strip and part.startswith(strip):
                part = part[len(strip) :]
            try:
                out.append(uuid_lib.UUID(part))
            except ValueError:
                continue  # an id that cannot exist matches nothing
    return out


def _tokens(values: list[str]) -> list[tuple[str | None, str]]:
    out = []
    for value in values:
        for part in value.split(","):
            system, bar, code = part.partition("|")
            out.append((system or None, code) if bar else (None, system))
    return out


@dataclass(frozen=True)
class Cursor:
    forward: bool
    source: int
    pk: int

    def encode(self) -> str:
        return f"{'a' if self.forward else 'b'}{self.source}.{self.pk}"

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        match = re.fullmatch(r"([ab])(\d{1,3})\.(\d{1,19})", text or "")
        if not match:
            raise FhirError(400, "_cursor is not one this server gave out: follow the Bundle's links.", code="invalid")
        return cls(match.group(1) == "a", int(match.group(2)), int(match.group(3)))


@dataclass
class SearchRequest:
    rtype: ResourceType
    filters: list[Q | None]  # per source; None = the source cannot match
    count: int
    cursor: Cursor | None
    includes: list[Include]
    include_names: list[str]
    used: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    total: bool = False  # the Bundle carries `total` (_total=accurate|estimate, _summary=count, _count=0)
    summary_count: bool = False  # _summary=count: the total only, no entries


def parse(rtype: ResourceType, params: QueryDict, tz: ZoneInfo, *, strict: bool) -> SearchRequest:
    """Turn the query string into one filter per source. Unknown parameters: 400 when strict, else ignored and
    reported (FHIR search, "handling" preference)."""
    sources = rtype.sources
    filters: list[Q | None] = [Q() for _ in sources]
    used: list[tuple[str, str]] = []
    ignored: list[str] = []
    date_names = {name for s in sources for name in s.dates}
    param_names = {name for s in sources for name in s.params}
    status_names = {s.status_param for s in sources if s.statuses}
    code_known = any(s.code_filter for s in sources)

    def narrow(i: int, q: Q | None) -> None:
        current = filters[i]
        if current is None:
            return
        filters[i] = None if q is None else current & q

    for name in params:
        values = list(params.getlist(name))
        if name in CONTROL:
            continue
        base_name, colon, modifier = name.partition(":")
        if base_name in param_names:
            for i, s in enumerate(sources):
                param = s.params.get(base_name)
                if param is None:
                    narrow(i, None)
                    continue
                if colon and modifier not in param.modifiers:
                    raise FhirError(
                        400, f"The modifier :{modifier} is not supported on {base_name} (FHIR search; see "
                        "/fhir/metadata).", code="not-supported", expression=[name],
                    )  # fmt: skip
                for value in values:
                    narrow(i, any_of([param.build(part, modifier or None) for part in _split(value)]))
            used += [(name, v) for v in values]
            continue
        if name == "_id":
            ids = _uuids(values)
            for i, s in enumerate(sources):
                narrow(i, Q(**{f"{s.id_path}__in": ids}))
        elif name == "_lastUpdated":
            for value in values:
                rng = parse_date(name, value, tz)
                for i, s in enumerate(sources):
                    narrow(i, rng.q(DateParam(s.updated_path, True), tz))
        elif name in rtype.patient_params and sources[0].patient_path:
            ids = _uuids(values, strip="Patient/")
            for i, s in enumerate(sources):
                narrow(i, Q(**{f"{s.patient_path}__in": ids}))
        elif name in date_names:
            for value in values:
                rng = parse_date(name, value, tz)
                for i, s in enumerate(sources):
                    date_param = s.dates.get(name)
                    narrow(i, rng.q(date_param, tz) if date_param else None)
        elif name in status_names:
            codes = [c.strip() for v in values for c in v.split(",")]
            for i, s in enumerate(sources):
                q = NOTHING
                for code in codes:
                    q = q | s.statuses.get(code, NOTHING)
                narrow(i, q if s.status_param == name else None)
        elif name == "code" and code_known:
            tokens = _tokens(values)
            for i, s in enumerate(sources):
                if s.code_filter is None:
                    narrow(i, None)
                    continue
                matched = [q for q in (s.code_filter(system, code) for system, code in tokens) if q is not None]
                if not matched:
                    narrow(i, None)
                else:
                    q = matched[0]
                    for more in matched[1:]:
                        q = q | more
                    narrow(i, q)
        else:
            if strict:
                raise FhirError(
                    400, f"Search parameter '{name}' is not supported on {rtype.name} (see /fhir/metadata).",
                    code="not-supported", expression=[name],
                )  # fmt: skip
            ignored.append(name)
            continue
        used += [(name, v) for v in values]

    include_names = params.getlist("_include")
    includes = []
    for inc in include_names:
        found = rtype.includes.get(inc)
        if found is None:
            if strict:
                raise FhirError(400, f"_include={inc} is not supported on {rtype.name}.", code="not-supported")
            ignored.append(f"_include={inc}")
            continue
        includes.append(found)
        used.append(("_include", inc))

    raw_count = params.get("_count")
    count = DEFAULT_COUNT
    if raw_count is not None:
        try:
            count = int(raw_count)
        except ValueError:
            raise FhirError(400, f"_count={raw_count}: give a whole number.", code="invalid") from None
        if count < 0:
            raise FhirError(400, "_count cannot be negative.", code="invalid")
        count = min(count, MAX_COUNT)
    total_mode = params.get("_total")
    if total_mode not in (None, "none", "estimate", "accurate"):
        raise FhirError(400, f"_total={total_mode}: use none, estimate or accurate.", code="invalid")
    summary = params.get("_summary")
    if summary not in (None, "false", "count"):
        if strict:
            raise FhirError(400, f"_summary={summary} is not supported: use count.", code="not-supported")
        ignored.append(f"_summary={summary}")
    summary_count = summary == "count"
    total = summary_count or total_mode in ("estimate", "accurate") or count == 0
    if total_mode:
        used.append(("_total", total_mode))
    if summary_count:
        used.append(("_summary", "count"))
    raw_cursor = params.get("_cursor")
    cursor = Cursor.decode(raw_cursor) if raw_cursor else None
    if cursor is not None and cursor.source >= len(sources):
        raise FhirError(400, "_cursor is not one this server gave out: follow the Bundle's links.", code="invalid")
    return SearchRequest(
        rtype,
        filters,
        0 if summary_count else count,
        cursor,
        includes,
        [n for n in include_names if n in rtype.includes],
        used,
        ignored,
        total,
        summary_count,
    )


def _split(value: str) -> list[str]:
    """The comma-separated values of one parameter (a backslash escapes a comma, FHIR search "Escaping")."""
    parts = re.split(r"(?<!\\),", value)
    return [part.replace("\\,", ",") for part in parts]


def total(search: SearchRequest, clinic: Any) -> int:
    """How many resources match (one COUNT per source that can match): asked for by _total, _summary=count or
    _count=0."""
    out = 0
    for q, s in zip(search.filters, search.rtype.sources, strict=True):
        if q is None:
            continue
        out += _live(search.rtype, s, s.queryset(clinic).filter(q)).count()
    return out


@dataclass
class Page:
    rows: list[tuple[int, dict[str, Any]]]  # (source index, row)
    more_before: bool
    more_after: bool


def fetch(search: SearchRequest, clinic: Any) -> Page:
    """One page of rows by keyset, with a look-ahead row instead of a COUNT."""
    sources = search.rtype.sources
    want = search.count + 1
    cursor = search.cursor
    forward = cursor is None or cursor.forward
    order = range(len(sources)) if forward else range(len(sources) - 1, -1, -1)
    found: list[tuple[int, dict[str, Any]]] = []
    for i in order:
        if cursor is not None and ((forward and i < cursor.source) or (not forward and i > cursor.source)):
            continue
        q = search.filters[i]
        if q is None or len(found) >= want:
            continue
        s = sources[i]
        qs = _live(search.rtype, s, s.queryset(clinic).filter(q))
        if cursor is not None and i == cursor.source:
            qs = qs.filter(pk__gt=cursor.pk) if forward else qs.filter(pk__lt=cursor.pk)
        qs = qs.order_by("pk" if forward else "-pk")
        found += [(i, row) for row in qs.values(*s.fields)[: want - len(found)]]
    more = len(found) > search.count
    found = found[: search.count]
    if forward:
        return Page(found, more_before=cursor is not None, more_after=more)
    found.reverse()
    return Page(found, more_before=more, more_after=True)


def _live(rtype: ResourceType, source: Source, qs: Any) -> Any:
    """Types with no entered-in-error status leave such records out (docs/FHIR.md)."""
    if rtype.gone_when_eie and source.versioned:
        return qs.filter(entered_in_error_at__isnull=True)
    return qs


def links(search: SearchRequest, page: Page, url: str) -> list[dict[str, str]]:
    """self, and next/previous where there are more rows that way."""
    base = [*search.used, ("_count", str(search.count))]

    def link(relation: str, cursor: Cursor | None) -> dict[str, str]:
        params = base + ([("_cursor", cursor.encode())] if cursor else [])
        return {"relation": relation, "url": f"{url}?{urlencode(params)}"}

    out = [link("self", search.cursor)]
    if page.rows:
        first_source, first = page.rows[0]
        last_source, last = page.rows[-1]
        if page.more_after:
            out.append(link("next", Cursor(True, last_source, last["id"])))
        if page.more_before:
            out.append(link("previous", Cursor(False, first_source, first["id"])))
    elif search.cursor is not None:
        # An empty page reached by a cursor: offer the way back.
        c = search.cursor
        out.append(
            link("previous" if c.forward else "next", Cursor(not c.forward, c.source, c.pk + (1 if c.forward else -1)))
        )
    return out
