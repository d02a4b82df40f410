"""The dashboard's charts and their data tables: one table per chart (the CSV), one matplotlib Figure drawn from it.

Agg backend and Figure objects only (never pyplot's global state). Suppressed cells appear in the table and on the
chart as "hidden (fewer than N)", never as a number.
"""

import csv
import io
import textwrap
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from prolotrack.analytics.queries import DIMENSIONS, EVENT_LABELS, KIND_LABELS, Dashboard
from prolotrack.domain.analytics import Proportion
from prolotrack.outcomes.charts import figure_png, figure_svg

INK = "#1f2933"
BAR = "#1d4ed8"
MUTED = "#9aa5b1"


@dataclass(frozen=True)
class Table:
    """A chart's data: title, what the value is, column headers and rows (suppressed values are None)."""

    name: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    kind: str  # "rate" (value, low, high in 0-1) or "count"
    note: str = ""


CHARTS = (
    *tuple(f"responders-{dim}" for dim, _ in DIMENSIONS),
    "sessions-to-mcid",
    "completion",
    "adverse-events",
    "funnel",
)
RATE_HEADERS = ("group", "responders", "evaluable", "rate", "ci_low", "ci_high", "suppressed")


def _rate_row(label: str, p: Proportion) -> tuple[Any, ...]:
    d = p.as_dict()
    return (label, d["n"], d["of"], d["rate"], d["low"], d["high"], d["suppressed"])


def table(board: Dashboard, name: str) -> Table:
    """The data behind one chart."""
    hidden = f"Cells with fewer than {board.min_cell} are hidden."
    if name.startswith("responders-"):
        dim = name.removeprefix("responders-")
        title = "Responders by " + dict(DIMENSIONS)[dim].lower()
        rows = tuple(_rate_row(r.label, r.rate) for r in board.groups[dim])
        return Table(name, title, RATE_HEADERS, rows, "rate", f"95% Wilson intervals. {hidden}")
    if name == "sessions-to-mcid":
        rows = tuple(
            (k, v if v >= board.min_cell else None, v < board.min_cell)
            for k, v in sorted(board.mcid_distribution.items())
        )
        median = board.median_sessions_to_mcid
        note = (
            f"Median {median:g} sessions. {hidden}" if median is not None else f"Too few courses for a median. {hidden}"
        )
        return Table(name, "Sessions done before the pain score reached the MCID", ("sessions", "courses", "suppressed"),
                     rows, "count", note)  # fmt: skip
    if name == "completion":
        rows = tuple(_rate_row(KIND_LABELS.get(k, "All timepoints"), p) for k, p in board.completion.items())
        return Table(name, "Questionnaires completed of those due", ("timepoint", "completed", "due", "rate",
                     "ci_low", "ci_high", "suppressed"), rows, "rate", f"95% Wilson intervals. {hidden}")  # fmt: skip
    if name == "adverse-events":
        rows = tuple(_rate_row(EVENT_LABELS.get(k, k), p) for k, p in board.adverse_events.items())
        return Table(name, f"Sessions with an adverse event, by type (of {board.sessions_done} sessions done)",
                     ("event_type", "sessions_with_event", "sessions_done", "rate", "ci_low", "ci_high",
                      "suppressed"), rows, "rate", f"95% Wilson intervals. {hidden}")  # fmt: skip
    if name == "funnel":
        rows = tuple(
            (s.label, None if s.suppressed else s.count, None if s.suppressed else _pct(s.share), s.suppressed)
            for s in board.funnel
        )
        return Table(name, "Course funnel", ("stage", "courses", "share_of_planned", "suppressed"), rows, "count",
                     f"Counts from 1 to {board.min_cell - 1} are hidden.")  # fmt: skip
    raise KeyError(name)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def table_csv(data: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(data.headers)
    for row in data.rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


def figure(data: Table, min_cell: int) -> Figure:
    """Draw a table: horizontal bars, with 95% interval whiskers for rates; hidden cells labelled, not drawn."""
    rows = list(data.rows)
    height = max(1.6, 0.42 * len(rows) + 1.0)
    fig = Figure(figsize=(5.6, height), layout="constrained")
    axes = fig.add_subplot()
    axes.set_title(data.title, fontsize=11, color=INK, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=9, colors=INK)
    if not rows:
        axes.text(0.5, 0.5, "No data for these filters", ha="center", va="center", transform=axes.transAxes)
        axes.set_xticks([])
        axes.set_yticks([])
        return fig
    labels = [textwrap.shorten(str(r[0]), width=30, placeholder="…") for r in rows]
    positions = list(range(len(rows)))[::-1]
    axes.set_yticks(positions, labels)
    axes.set_ylim(-0.6, len(rows) - 0.4)
    if data.kind == "rate":
        axes.set_xlim(0, 132)
        axes.set_xticks([0, 20, 40, 60, 80, 100])
        axes.set_xlabel(f"% (with 95% confidence interval)\n{data.note}", fontsize=8, color=INK)
        for y, row in zip(positions, rows, strict=True):
            rate, low, high, suppressed = row[3], row[4], row[5], row[6]
            if suppressed:
                axes.text(1, y, f"hidden (fewer than {min_cell})", va="center", fontsize=8, color=MUTED)
                continue
            axes.barh(y, rate * 100, color=BAR, alpha=0.85, height=0.6)
            axes.errorbar(rate * 100, y, xerr=[[rate * 100 - low * 100], [high * 100 - rate * 100]], fmt="none",
                          ecolor=INK, elinewidth=1, capsize=3)  # fmt: skip
            axes.text(high * 100 + 2, y, f"{rate * 100:.0f}% ({row[1]}/{row[2]})", va="center",
                      fontsize=8, color=INK)  # fmt: skip
    else:
        counts = [r[1] for r in rows]
        top = max([c for c in counts if c is not None and c > 0] or [1])
        axes.set_xlim(0, top * 1.25)
        axes.set_xlabel(f"courses\n{data.note}", fontsize=8, color=INK)
        for y, row in zip(positions, rows, strict=True):
            if row[1] is None:
                axes.text(0, y, f" hidden (fewer than {min_cell})", va="center", fontsize=8, color=MUTED)
                continue
            axes.barh(y, row[1], color=BAR, alpha=0.85, height=0.6)
            axes.text(row[1] + top * 0.02, y, str(row[1]), va="center", fontsize=8, color=INK)
    return fig


def chart_svg(board: Dashboard, name: str) -> str:
    return figure_svg(figure(table(board, name), board.min_cell))


def chart_png(board: Dashboard, name: str) -> bytes:
    return figure_png(figure(table(board, name), board.min_cell))
