"""FHIR search: parameters to filters, keyset paging over one or more sources, `_include` (docs/FHIR.md, "Search").

Paging is keyset (by the rows' internal key, walking a type's sources in order), never OFFSET: `next`/`previous`
links carry an opaque cursor. The Bundle has a `total` (a COUNT) only when asked for: `_total=accurate|estimate`,
`_summary=count` (the total, no entries) or `_count=0`.
"""

import functools
import operator
import re
import uuid as uuid_lib
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone

from prolotrack.fhir import daterange
from prolotrack.fhir.http import FhirError
from prolotrack.fhir.resources import NOTHING, DateParam, Include, ResourceType, Source, any_of

DEFAULT_COUNT = 50
MAX_COUNT = 500
# Parameters the server understands on every type besides the type's own.
CONTROL = frozenset(
    {"_count", "_include", "_revinclude", "_sort", "_format", "_cursor", "_pretty", "_total", "_summary"}
)
# Resources a page's _revinclude may add (FHIR does not page included resources): beyond this, a warning says so.
MAX_REVINCLUDE = 1000

_PREFIX_RE = re.compile(r"^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(.*)$")


@dataclass(frozen=True)
class DateRange:
    prefix: str
    start: datetime
    end: datetime  # exclusive
    now: datetime | None = None  # the clock, for `ap`

    def q(self, param: DateParam, tz: ZoneInfo) -> Q:
        """The filter on a date, datetime or period (start and end fields) under FHIR's prefix semantics
        (daterange.py): a date field stands for its local day, a datetime for its instant, a period for its range."""
        now = self.now or timezone.now()
        clauses = daterange.conditions(self.prefix, daterange.Span(self.start, self.end), now)
        if param.end is not None or param.open_end:
            found = any_of([_all([_period_atom(param, atom, tz) for atom in clause]) for clause in clauses])
            if param.open_end:
                found &= Q(**{f"{param.field}__isnull": False})
        else:
            kind = "datetime" if param.is_datetime else "date"
            points = daterange.on_point(clauses, kind, tz)
            found = any_of([_all([Q(**{f"{param.field}__{op}": v}) for op, v in clause]) for clause in points])
            found &= Q(**{f"{param.field}__isnull": False})
        return found & param.only if param.only is not None else found


def _all(filters: list[Q]) -> Q:
    out = Q()
    for q in filters:
        out &= q
    return out


def _period_atom(param: DateParam, atom: daterange.Atom, tz: ZoneInfo) -> Q:
    which, op, value = atom
    if param.open_end and which == "end":  # never set: unbounded
        return Q() if op == "null" else NOTHING
    if param.open_end and not param.is_datetime and op in (">=", "<"):
        assert value is not None  # a date start: its local midnight, from the first day starting at or after value
        return Q(**{f"{param.field}__{'gte' if op == '>=' else 'lt'}": daterange.ceil_day(value, tz)})
    name = param.field if which == "start" else param.end
    if op == "null":
        return Q(**{f"{name}__isnull": True})
    if op == "set":
        return Q(**{f"{name}__isnull": False})
    lookup = {">=": "gte", "<": "lt", "<=": "lte", ">": "gt"}[op]
    return Q(**{f"{name}__{lookup}": value})


def parse_date(name: str, value: str, tz: ZoneInfo) -> DateRange:
    """A FHIR date search value (prefix + YYYY[-MM[-DD[Thh:mm[:ss][zone]]]]) as a half-open range."""
    match = _PREFIX_RE.match(value.strip())
    prefix = (match.group(1) if match else None) or "eq"
    try:
        span = daterange.span_of(match.group(2) if match else "", tz)
    except ValueError as error:
        if "is not a FHIR date" in str(error):
            raise FhirError(
                400, f"{name}={value}: write a date as [prefix]YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ.",
                code="invalid", expression=[name],
            ) from None  # fmt: skip
        raise FhirError(400, f"{name}={value} is not a real date.", code="invalid", expression=[name]) from None
    except OverflowError:
        raise FhirError(400, f"{name}={value} is out of range.", code="invalid", expression=[name]) from None
    assert span.start is not None and span.end is not None
    return DateRange(prefix, span.start, span.end)


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


@dataclass(frozen=True)
class Sort:
    """`_sort` on one key: a date parameter of the type or `_lastUpdated`, ascending or descending (`-date`)."""

    name: str
    descending: bool

    def field(self, source: Source) -> tuple[str, bool] | None:
        """(the source's field, whether it is a datetime) that the key sorts by; None: the source has no such
        element (its rows sort as without a value, last). A period sorts by its start."""
        if self.name == "_lastUpdated":
            return source.updated_path, True
        param = source.dates.get(self.name)
        if param is None:
            return None
        return param.field, param.is_datetime or param.end is not None


@dataclass(frozen=True)
class SortCursor:
    """Where a sorted page ended: the last row's sort value (microseconds since the epoch; None = no value), source
    and key. The next page starts after it in the order (value, source, key), rows without a value last."""

    source: int
    pk: int
    value: int | None

    def encode(self) -> str:
        return f"s{self.source}.{self.pk}.{'n' if self.value is None else self.value}"

    @classmethod
    def decode(cls, text: str) -> "SortCursor":
        match = re.fullmatch(r"s(\d{1,3})\.(\d{1,19})\.(n|-?\d{1,20})", text or "")
        if not match:
            raise FhirError(400, "_cursor is not one this server gave out: follow the Bundle's links.", code="invalid")
        value = None if match.group(3) == "n" else int(match.group(3))
        return cls(int(match.group(1)), int(match.group(2)), value)


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
    revincludes: list[tuple[ResourceType, Include]] = field(default_factory=list)
    sort: Sort | None = None
    sort_cursor: SortCursor | None = None


@dataclass
class _Parsing:
    """What parse() builds up: one filter per source (None = the source cannot match), the parameters used (for the
    Bundle's links) and those ignored (reported in the Bundle), with the request's strictness."""

    rtype: ResourceType
    tz: ZoneInfo
    strict: bool
    filters: list[Q | None]
    used: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def sources(self) -> Any:
        return self.rtype.sources

    def narrow(self, i: int, q: Q | None) -> None:
        current = self.filters[i]
        if current is not None:
            self.filters[i] = None if q is None else current & q

    def unsupported(self, ignored_as: str, message: str, **error: Any) -> None:
        """Refuse (strict handling) or note as ignored (lenient)."""
        if self.strict:
            raise FhirError(400, message, code="not-supported", **error)
        self.ignored.append(ignored_as)


def _type_param(p: _Parsing, name: str, values: list[str]) -> None:
    """A search parameter of the type's own table (resources.py), with its modifiers."""
    base_name, colon, modifier = name.partition(":")
    for i, s in enumerate(p.sources):
        param = s.params.get(base_name)
        if param is None:
            p.narrow(i, None)
            continue
        if colon and modifier not in param.modifiers:
            raise FhirError(
                400, f"The modifier :{modifier} is not supported on {base_name} (FHIR search; see "
                "/fhir/metadata).", code="not-supported", expression=[name],
            )  # fmt: skip
        for value in values:
            p.narrow(i, any_of([param.build(part, modifier or None) for part in _split(value)]))


def _dates(p: _Parsing, name: str, values: list[str], path: Any) -> None:
    """A date parameter (or _lastUpdated when `path` names each source's field): each value narrows every source."""
    for value in values:
        rng = parse_date(name, value, p.tz)
        for i, s in enumerate(p.sources):
            date_param = path(s)
            p.narrow(i, rng.q(date_param, p.tz) if date_param else None)


def _statuses(p: _Parsing, name: str, values: list[str]) -> None:
    codes = [c.strip() for v in values for c in v.split(",")]
    for i, s in enumerate(p.sources):
        q = NOTHING
        for code in codes:
            q = q | s.statuses.get(code, NOTHING)
        p.narrow(i, q if s.status_param == name else None)


def _codes(p: _Parsing, values: list[str]) -> None:
    tokens = _tokens(values)
    for i, s in enumerate(p.sources):
        code_filter = s.code_filter
        matched = [] if code_filter is None else [code_filter(system, code) for system, code in tokens]
        matched = [q for q in matched if q is not None]
        p.narrow(i, functools.reduce(operator.or_, matched) if matched else None)


def _common_param(p: _Parsing, name: str, values: list[str]) -> bool:
    """The parameters every type answers (_id, _lastUpdated, patient, its dates, status, code); False: none of them."""
    sources = p.sources
    if name == "_id":
        ids = _uuids(values)
        for i, s in enumerate(sources):
            p.narrow(i, Q(**{f"{s.id_path}__in": ids}))
    elif name == "_lastUpdated":
        _dates(p, name, values, lambda s: DateParam(s.updated_path, True))
    elif name in p.rtype.patient_params and sources[0].patient_path:
        ids = _uuids(values, strip="Patient/")
        for i, s in enumerate(sources):
            p.narrow(i, Q(**{f"{s.patient_path}__in": ids}))
    elif name in {n for s in sources for n in s.dates}:
        _dates(p, name, values, lambda s: s.dates.get(name))
    elif name in {s.status_param for s in sources if s.statuses}:
        _statuses(p, name, values)
    elif name == "code" and any(s.code_filter for s in sources):
        _codes(p, values)
    else:
        return False
    return True


def _filters(p: _Parsing, params: QueryDict) -> None:
    param_names = {name for s in p.sources for name in s.params}
    for name in params:
        values = list(params.getlist(name))
        if name in CONTROL:
            continue
        if name.partition(":")[0] in param_names:
            _type_param(p, name, values)
        elif not _common_param(p, name, values):
            p.unsupported(
                name, f"Search parameter '{name}' is not supported on {p.rtype.name} (see /fhir/metadata).",
                expression=[name],
            )  # fmt: skip
            continue
        p.used += [(name, v) for v in values]


def _includes(p: _Parsing, params: QueryDict) -> list[Include]:
    includes = []
    for inc in params.getlist("_include"):
        found = p.rtype.includes.get(inc)
        if found is None:
            p.unsupported(f"_include={inc}", f"_include={inc} is not supported on {p.rtype.name}.")
            continue
        includes.append(found)
        p.used.append(("_include", inc))
    return includes


def _revincludes(p: _Parsing, params: QueryDict) -> list[tuple[ResourceType, Include]]:
    from prolotrack.fhir.resources import get_type

    revincludes = []
    for rev in params.getlist("_revinclude"):
        source_type = get_type(rev.partition(":")[0])
        found = source_type.includes.get(rev) if source_type else None
        if source_type is None or found is None or found.target != p.rtype.name:
            p.unsupported(f"_revinclude={rev}", f"_revinclude={rev} is not supported on {p.rtype.name}.")
            continue
        revincludes.append((source_type, found))
        p.used.append(("_revinclude", rev))
    return revincludes


def _sort(p: _Parsing, params: QueryDict) -> Sort | None:
    """One sort key: _lastUpdated or a date parameter of the type, "-" for descending."""
    sort = None
    sort_names = {"_lastUpdated", *(name for s in p.sources for name in s.dates)}
    for raw in params.getlist("_sort"):
        keys = [k.strip() for k in raw.split(",") if k.strip()]
        for position, key in enumerate(keys):
            wanted = Sort(key.lstrip("-"), key.startswith("-"))
            if wanted.name not in sort_names or position > 0 or sort is not None:
                why = "only one sort key is supported" if wanted.name in sort_names else "not a sort key here"
                p.unsupported(
                    f"_sort={key}",
                    f"_sort={raw}: {key} is {why} (sort keys on {p.rtype.name}: {', '.join(sorted(sort_names))}).",
                    expression=["_sort"],
                )
                continue
            sort = wanted
            p.used.append(("_sort", key))
    return sort


def _count(params: QueryDict) -> int:
    raw_count = params.get("_count")
    if raw_count is None:
        return DEFAULT_COUNT
    try:
        count = int(raw_count)
    except ValueError:
        raise FhirError(400, f"_count={raw_count}: give a whole number.", code="invalid") from None
    if count < 0:
        raise FhirError(400, "_count cannot be negative.", code="invalid")
    return min(count, MAX_COUNT)


def _totals(p: _Parsing, params: QueryDict, count: int) -> tuple[bool, bool]:
    """(the Bundle carries `total`, _summary=count: the total only)."""
    total_mode = params.get("_total")
    if total_mode not in (None, "none", "estimate", "accurate"):
        raise FhirError(400, f"_total={total_mode}: use none, estimate or accurate.", code="invalid")
    summary = params.get("_summary")
    if summary not in (None, "false", "count"):
        p.unsupported(f"_summary={summary}", f"_summary={summary} is not supported: use count.")
    summary_count = summary == "count"
    if total_mode:
        p.used.append(("_total", total_mode))
    if summary_count:
        p.used.append(("_summary", "count"))
    return summary_count or total_mode in ("estimate", "accurate") or count == 0, summary_count


def _cursors(params: QueryDict, sort: Sort | None, sources: int) -> tuple[Cursor | None, SortCursor | None]:
    raw_cursor = params.get("_cursor")
    cursor: Cursor | None = None
    sort_cursor: SortCursor | None = None
    if raw_cursor:
        if sort is not None:
            sort_cursor = SortCursor.decode(raw_cursor)
        else:
            cursor = Cursor.decode(raw_cursor)
    found_source = cursor.source if cursor else sort_cursor.source if sort_cursor else 0
    if found_source >= sources:
        raise FhirError(400, "_cursor is not one this server gave out: follow the Bundle's links.", code="invalid")
    return cursor, sort_cursor


def parse(rtype: ResourceType, params: QueryDict, tz: ZoneInfo, *, strict: bool) -> SearchRequest:
    """Turn the query string into one filter per source. Unknown parameters: 400 when strict, else ignored and
    reported (FHIR search, "handling" preference)."""
    p = _Parsing(rtype, tz, strict, [Q() for _ in rtype.sources])
    _filters(p, params)
    includes = _includes(p, params)
    revincludes = _revincludes(p, params)
    sort = _sort(p, params)
    count = _count(params)
    total, summary_count = _totals(p, params, count)
    cursor, sort_cursor = _cursors(params, sort, len(rtype.sources))
    include_names = [n for n in params.getlist("_include") if n in rtype.includes]
    return SearchRequest(
        rtype, p.filters, 0 if summary_count else count, cursor, includes, include_names, p.used, p.ignored, total,
        summary_count, revincludes, sort, sort_cursor,
    )  # fmt: skip


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
    if search.sort is not None:
        return _fetch_sorted(search, clinic)
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


def _micros(value: Any, tz: Any) -> int:
    """A sort value as microseconds since the epoch: a date is its local midnight."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0), tzinfo=tz)
    return int(value.timestamp() * 1_000_000)


def _after(source_index: int, fieldinfo: tuple[str, bool] | None, sort: Sort, cursor: SortCursor, tz: Any) -> Q:
    """The rows of one source that come after the cursor in (value, source, key) order, rows without a value last."""
    if source_index > cursor.source:
        ties = Q()
    elif source_index == cursor.source:
        ties = Q(pk__gt=cursor.pk)
    else:
        ties = NOTHING
    if fieldinfo is None:  # no value at all here: every row sorts with the rows without one
        return Q() if cursor.value is not None else ties
    name, is_datetime = fieldinfo
    if cursor.value is None:
        return Q(**{f"{name}__isnull": True}) & ties
    at = datetime.fromtimestamp(cursor.value / 1_000_000, tz=tz)
    beyond = "lt" if sort.descending else "gt"
    if is_datetime:
        same = Q(**{name: at})
        past = Q(**{f"{name}__{beyond}": at})
    else:
        # a date sorts as its local midnight
        midnight = at.astimezone(tz).time() == time(0)
        same = Q(**{name: daterange.floor_day(at, tz)}) if midnight else NOTHING
        bound = daterange.ceil_day(at, tz) if sort.descending else daterange.floor_day(at, tz)
        past = Q(**{f"{name}__{beyond}": bound})
    return past | (same & ties) | Q(**{f"{name}__isnull": True})


def _fetch_sorted(search: SearchRequest, clinic: Any) -> Page:
    """One page in `_sort` order across the type's sources: each source gives its next rows in order after the
    cursor, merged by (value, source, key); a look-ahead row says whether there is a next page."""
    from django.db.models import F, Value

    sort = search.sort
    assert sort is not None
    tz = clinic.tz
    want = search.count + 1
    found: list[tuple[tuple[Any, ...], int, dict[str, Any]]] = []
    for i, s in enumerate(search.rtype.sources):
        q = search.filters[i]
        if q is None:
            continue
        info = sort.field(s)
        qs = _live(search.rtype, s, s.queryset(clinic).filter(q))
        if search.sort_cursor is not None:
            qs = qs.filter(_after(i, info, sort, search.sort_cursor, tz))
        if info is None:
            rows = qs.order_by("pk").values(*s.fields, _sortkey=Value(None))[:want]
        else:
            column = F(info[0])
            order = column.desc(nulls_last=True) if sort.descending else column.asc(nulls_last=True)
            rows = qs.order_by(order, "pk").values(*s.fields, _sortkey=F(info[0]))[:want]
        for row in rows:
            value = row.pop("_sortkey")
            micros = None if value is None else _micros(value, tz)
            row["_sort_micros"] = micros
            key = (micros is None, 0 if micros is None else (-micros if sort.descending else micros), i, row["id"])
            found.append((key, i, row))
    found.sort(key=lambda item: item[0])
    page = [(i, row) for _, i, row in found[: search.count]]
    return Page(page, more_before=False, more_after=len(found) > search.count)


def _live(rtype: ResourceType, source: Source, qs: Any) -> Any:
    """Types with no entered-in-error status leave such records out (docs/FHIR.md)."""
    if rtype.gone_when_eie and source.versioned:
        return qs.filter(entered_in_error_at__isnull=True)
    return qs


def _sort_link(base: list[tuple[str, str]], url: str, relation: str, cursor: SortCursor) -> dict[str, str]:
    return {"relation": relation, "url": f"{url}?{urlencode([*base, ('_cursor', cursor.encode())])}"}


def links(search: SearchRequest, page: Page, url: str) -> list[dict[str, str]]:
    """self, and next/previous where there are more rows that way."""
    base = [*search.used, ("_count", str(search.count))]

    def link(relation: str, cursor: Cursor | None) -> dict[str, str]:
        params = base + ([("_cursor", cursor.encode())] if cursor else [])
        return {"relation": relation, "url": f"{url}?{urlencode(params)}"}

    if search.sort is not None:
        out = [link("self", None) if search.sort_cursor is None else _sort_link(base, url, "self", search.sort_cursor)]
        if page.rows and page.more_after:
            source, last = page.rows[-1]
            out.append(_sort_link(base, url, "next", SortCursor(source, last["id"], last["_sort_micros"])))
        return out
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
