"""Overlapping appointments on the week's grid stand side by side (present.side_by_side): a table of days, each
block given as (start, minutes) and the lane and lane count expected."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from prolotrack.treatment.present import Visit, side_by_side


def block(hhmm: str, minutes: int) -> Visit:
    start = datetime(2026, 12, 9, int(hhmm[:2]), int(hhmm[3:]), tzinfo=UTC)
    return Visit(visit=None, start=start, end=start + timedelta(minutes=minutes))


def lanes(item: Visit) -> tuple[float, float] | None:
    """(left %, width %) from the rule, None for the whole width."""
    if not item.lane_css:
        return None
    parts = item.lane_css.replace("calc(", "").split("%")
    return float(parts[0].split()[-1]), float(parts[1].split("(")[-1].split()[-1])


CASES: list[tuple[str, list[tuple[str, int]], list[tuple[float, float] | None]]] = [
    ("one block keeps the whole width", [("09:00", 30)], [None]),
    ("back to back blocks of an hour do not overlap", [("09:00", 60), ("10:00", 60)], [None, None]),
    ("two at once share the column", [("09:00", 60), ("09:00", 60)], [(50, 50), (0, 50)]),
    (
        "a chain of three: the third reuses the first lane",
        [("09:00", 60), ("09:30", 60), ("10:00", 60)],
        [(0, 50), (50, 50), (0, 50)],
    ),
    (
        "four at the busiest moment",
        [("08:30", 45), ("08:45", 60), ("09:00", 60), ("09:10", 60)],
        [(0, 25), (25, 25), (50, 25), (75, 25)],
    ),
    (
        "a 15-minute block takes the room it is drawn in (45 minutes), so the next one starting 30 minutes later "
        "sits beside it",
        [("09:00", 15), ("09:30", 30)],
        [(0, 50), (50, 50)],
    ),
    (
        "a group ends when nothing reaches the next block",
        [("09:00", 60), ("09:00", 60), ("11:00", 60)],
        [(50, 50), (0, 50), None],
    ),
]


@pytest.mark.parametrize(("case", "given", "expected"), CASES, ids=[c[0] for c in CASES])
def test_overlapping_blocks_stand_side_by_side(case: str, given: list[tuple[str, int]], expected: Any) -> None:
    items = [block(at, minutes) for at, minutes in given]
    side_by_side(items[1:] + items[:1])  # by start, whatever the order given (ties keep theirs)
    assert [lanes(i) for i in items] == expected
