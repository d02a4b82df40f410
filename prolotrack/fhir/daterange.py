"""FHIR date search over ranges (R4 search.html, "date" and "prefix"): pure Python, no Django.

Every date, dateTime, instant or Period stands for a range [start, end) implied by its precision: 2025-03 is the
whole month, 2025-03-04T10:00:00Z one second, a Period from its start to its end (an absent start or end is
unbounded). A search value is such a range too. A prefix compares the two ranges:

| prefix | matches when (search range S, target range T) |
|---|---|
| eq | S fully contains T |
| ne | not eq |
| gt | the range above S intersects T |
| lt | the range below S intersects T |
| ge | gt or eq |
| le | lt or eq |
| sa | T does not overlap S and the range above S contains T (T starts at or after S ends) |
| eb | T does not overlap S and the range below S contains T (T ends at or before S starts) |
| ap | T overlaps S widened on each side by 10% of the gap between now and S (FHIR's recommended approximation; 0 when S contains now) |

`matches` is the reference (the spec's words over intervals); `conditions` gives the same test as an OR of ANDs of
comparisons on the target's start and end, which `search.py` turns into database filters. A property test checks
that the two agree (tests/test_date_prefixes.py).
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


@dataclass(frozen=True)
class Span:
    """A half-open range [start, end); None is unbounded (a Period without a start or an end)."""

    start: datetime | None
    end: datetime | None


_VALUE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?P<f>\.\d+)?)?(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def span_of(text: str, tz: tzinfo) -> Span:
    """The range a FHIR date, dateTime or instant stands for, by its precision (a value without a zone is in `tz`).
    Raises ValueError for anything else."""
    match = _VALUE.match((text or "").strip())
    if not match:
        raise ValueError(f"{text!r} is not a FHIR date or dateTime")
    g = match.groupdict()
    zone: tzinfo = tz
    if g["tz"]:
        zone = UTC if g["tz"] == "Z" else _offset(g["tz"])
    year = int(g["y"])
    if g["m"] is None:
        start = datetime(year, 1, 1, tzinfo=zone)
        return Span(start, datetime(year + 1, 1, 1, tzinfo=zone))
    month = int(g["m"])
    if g["d"] is None:
        start = datetime(year, month, 1, tzinfo=zone)
        return Span(start, datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone))
    if g["H"] is None:
        start = datetime(year, month, int(g["d"]), tzinfo=zone)
        return Span(start, start + timedelta(days=1))
    start = datetime(year, month, int(g["d"]), int(g["H"]), int(g["M"]), int(g["S"] or 0), tzinfo=zone)
    if g["S"] is None:
        return Span(start, start + timedelta(minutes=1))
    if not g["f"]:
        return Span(start, start + timedelta(seconds=1))
    digits = g["f"][1:7]
    start = start.replace(microsecond=int(digits.ljust(6, "0")))
    return Span(start, start + timedelta(microseconds=10 ** (6 - len(digits))))


def _offset(text: str) -> tzinfo:
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


def period_span(start: str | None, end: str | None, tz: tzinfo) -> Span:
    """A FHIR Period as a range: from its start's beginning to its end's end (absent = unbounded)."""
    return Span(
        span_of(start, tz).start if start else None,
        span_of(end, tz).end if end else None,
    )


# One comparison on the target: (which end, operator, value). Operators: ">=", "<", "<=", ">", "null", "set".
Atom = tuple[str, str, datetime | None]


def approximate(search: Span, now: datetime) -> Span:
    """S widened on each side by 10% of the gap between now and S (FHIR search, prefix `ap`)."""
    assert search.start is not None and search.end is not None
    if search.end <= now:
        gap = now - search.end
    elif search.start > now:
        gap = search.start - now
    else:
        gap = timedelta(0)
    delta = gap / 10
    return Span(search.start - delta, search.end + delta)


# ---------------------------------------------------------------- the reference: the spec's words over intervals


def _lower(value: datetime | None) -> float | datetime:
    return float("-inf") if value is None else value


def _upper(value: datetime | None) -> float | datetime:
    return float("inf") if value is None else value


def _lt(a: float | datetime, b: float | datetime) -> bool:
    """a < b where either may be an infinity."""
    if isinstance(a, float) or isinstance(b, float):
        if a == b:
            return False
        return a == float("-inf") or b == float("inf")
    return a < b


def _le(a: float | datetime, b: float | datetime) -> bool:
    return a == b or _lt(a, b)


def _overlaps(a: Span, b: Span) -> bool:
    return _lt(_lower(a.start), _upper(b.end)) and _lt(_lower(b.start), _upper(a.end))


def _contains(outer: Span, inner: Span) -> bool:
    return _le(_lower(outer.start), _lower(inner.start)) and _le(_upper(inner.end), _upper(outer.end))


def matches(prefix: str, search: Span, target: Span, now: datetime) -> bool:
    """Whether a target range matches a search range under a prefix (the reference implementation)."""
    above = Span(search.end, None)
    below = Span(None, search.start)
    if prefix == "eq":
        return _contains(search, target)
    if prefix == "ne":
        return not _contains(search, target)
    if prefix == "gt":
        return _overlaps(above, target)
    if prefix == "lt":
        return _overlaps(below, target)
    if prefix == "ge":
        return _overlaps(above, target) or _contains(search, target)
    if prefix == "le":
        return _overlaps(below, target) or _contains(search, target)
    if prefix == "sa":
        return not _overlaps(search, target) and _contains(above, target)
    if prefix == "eb":
        return not _overlaps(search, target) and _contains(below, target)
    if prefix == "ap":
        return _overlaps(approximate(search, now), target)
    raise ValueError(f"unknown prefix {prefix}")


# ---------------------------------------------------------------- the same as comparisons on the target's ends


def conditions(prefix: str, search: Span, now: datetime) -> list[list[Atom]]:
    """The prefix's test as an OR of ANDs of comparisons on the target's start and end (None = unbounded)."""
    ps, pe = search.start, search.end
    eq: list[list[Atom]] = [[("start", "set", None), ("start", ">=", ps), ("end", "set", None), ("end", "<=", pe)]]
    gt: list[list[Atom]] = [[("end", "null", None)], [("end", ">", pe)]]
    lt: list[list[Atom]] = [[("start", "null", None)], [("start", "<", ps)]]
    if prefix == "eq":
        return eq
    if prefix == "ne":
        return [[("start", "null", None)], [("start", "<", ps)], [("end", "null", None)], [("end", ">", pe)]]
    if prefix == "gt":
        return gt
    if prefix == "lt":
        return lt
    if prefix == "ge":
        return gt + eq
    if prefix == "le":
        return lt + eq
    if prefix == "sa":
        return [[("start", "set", None), ("start", ">=", pe)]]
    if prefix == "eb":
        return [[("end", "set", None), ("end", "<=", ps)]]
    if prefix == "ap":
        wide = approximate(search, now)
        return [
            [("end", "null", None), ("start", "null", None)],
            [("end", "null", None), ("start", "<", wide.end)],
            [("end", ">", wide.start), ("start", "null", None)],
            [("end", ">", wide.start), ("start", "<", wide.end)],
        ]
    raise ValueError(f"unknown prefix {prefix}")


def evaluate(clauses: list[list[Atom]], target: Span) -> bool:
    """Apply `conditions` to a target range in Python (what the database filter does)."""

    def atom(which: str, op: str, value: datetime | None) -> bool:
        own = target.start if which == "start" else target.end
        if op == "null":
            return own is None
        if op == "set":
            return own is not None
        if own is None or value is None:
            return False
        return {">=": own >= value, "<": own < value, "<=": own <= value, ">": own > value}[op]

    return any(all(atom(*a) for a in clause) for clause in clauses)


# ---------------------------------------------------------------- a target that is one stored value


def ceil_day(value: datetime, tz: tzinfo) -> date:
    """The first local day starting at or after `value`."""
    local = value.astimezone(tz)
    return local.date() if local.time() == time(0) else local.date() + timedelta(days=1)


def floor_day(value: datetime, tz: tzinfo) -> date:
    return value.astimezone(tz).date()


# A comparison on one stored value: ("gte" | "lt", value); a clause with none always holds.
Point = tuple[str, date | datetime]


def on_point(clauses: list[list[Atom]], kind: str, tz: tzinfo) -> list[list[Point]]:
    """`conditions` for a target that is one stored value: a date (the local day it names, [d, d+1)) or a
    datetime (an instant t, [t, t+ε)). The value is never absent here (a row without it matches no date search):
    a clause needing an unbounded end cannot hold and is dropped; "set" always holds."""
    out: list[list[Point]] = []
    for clause in clauses:
        points: list[Point] = []
        possible = True
        for which, op, value in clause:
            if op == "null":
                possible = False
                break
            if op == "set":
                continue
            assert value is not None
            if kind == "datetime":
                # start = t, end = t + ε: start >= x, start < x, end <= x (t < x), end > x (t >= x).
                lookup = {("start", ">="): "gte", ("start", "<"): "lt", ("end", "<="): "lt", ("end", ">"): "gte"}
                points.append((lookup[(which, op)], value))
            elif which == "start":
                # start = local midnight of d: >= x holds from the first day starting at or after x.
                points.append(("gte" if op == ">=" else "lt", ceil_day(value, tz)))
            else:
                # end = midnight after d: <= x holds for days before the day x falls on; > x from that day on.
                points.append(("lt" if op == "<=" else "gte", floor_day(value, tz)))
        if possible:
            out.append(points)
    return out


def evaluate_point(clauses: list[list[Point]], value: date | datetime) -> bool:
    """Apply `on_point` to a stored value in Python (what the database filter does)."""
    return any(all(value >= v if op == "gte" else value < v for op, v in clause) for clause in clauses)
