"""Cell suppression with complementary suppression for the figures researchers see (docs/DASHBOARD.md, "Researchers").

Pure functions. A table here is one partition of a set of courses into cells (each course in exactly one cell) with its
total. A figure is *disclosive* when it counts fewer than `threshold` courses and more than none. Primary suppression
hides each disclosive cell; complementary suppression then hides the smallest shown cells until the hidden cells
together count none or at least `threshold` courses, because the total minus the shown cells gives the hidden ones'
sum (the classic subtraction attack; Hundepool et al., *Statistical Disclosure Control*, Wiley 2012, ch. 5). When even
hiding every cell leaves the total disclosive, the total is hidden too.

With one partition and its total, every figure a reader can derive by adding and subtracting is the count of a union of
cells (shown cells, and the union of the hidden ones), so each is 0 or at least `threshold`: `derivable_sums` lists
them all and the tests check that claim for any input.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

from .errors import InputError

MIN_COURSES = 5


@dataclass(frozen=True)
class Suppressed:
    hidden: frozenset[str]
    total_hidden: bool


def disclosive(count: int, threshold: int = MIN_COURSES) -> bool:
    return 0 < count < threshold


def suppress(cells: Mapping[str, int], threshold: int = MIN_COURSES, force: Iterable[str] = ()) -> Suppressed:
    """Which cells (and whether the total) to hide so that no derivable sum is between 1 and threshold - 1.
    `force`: cells hidden anyway (hidden in a related table)."""
    if threshold < 1:
        raise InputError(f"The threshold must be at least 1 (got {threshold}).")
    for key, value in cells.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(f"Cell {key!r} must be a count of 0 or more (got {value!r}).")
    total = sum(cells.values())
    hidden = {key for key, value in cells.items() if disclosive(value, threshold)} | (set(force) & set(cells))
    shown = sorted((value, key) for key, value in cells.items() if key not in hidden and value > 0)
    while disclosive(sum(cells[k] for k in hidden), threshold) and shown:
        hidden.add(shown.pop(0)[1])
    total_hidden = disclosive(total, threshold) or disclosive(sum(cells[k] for k in hidden), threshold)
    if total_hidden:
        hidden = set(cells)
    return Suppressed(frozenset(hidden), total_hidden)


def derivable_sums(cells: Mapping[str, int], result: Suppressed) -> set[int]:
    """Every count a reader can derive from the shown cells and total: sums of subsets of the shown cells, and those
    plus the hidden cells' union (total minus shown) when the total is shown."""
    shown = [v for k, v in cells.items() if k not in result.hidden]
    hidden_sum = None if result.total_hidden else sum(v for k, v in cells.items() if k in result.hidden)
    sums: set[int] = set()
    for size in range(len(shown) + 1):
        for subset in combinations(shown, size):
            sums.add(sum(subset))
            if hidden_sum is not None:
                sums.add(sum(subset) + hidden_sum)
    return sums
