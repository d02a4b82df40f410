"""Trajectory charts drawn by matplotlib (Agg, Figure objects, never pyplot's global state).

Stable entry points for pages and documents (the progress report PDF uses them):

- `trajectory_svg(patient, instrument_code) -> str`: an SVG document (text kept as text, so it scales and reads).
- `trajectory_png(patient, instrument_code, dpi=150) -> bytes`: the same chart as PNG.

Neither audits: the caller that shows the chart to someone audits that read. A chart without scores says so.
"""

import io
import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from prolotrack.domain.scoring import Direction
from prolotrack.outcomes.trajectory import Series, SessionMark, Trajectory, patient_trajectory

INK = "#1f2933"
LINE = "#1d4ed8"
SESSION = "#9aa5b1"
BAND = "#16a34a"
# rc_context changes matplotlib's process-wide settings for the duration of a save: serialise the saves.
_SAVE_LOCK = threading.Lock()
SVG_RC: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "prolotrack"}  # keys checked by matplotlib


def series_figure(series: Series | None, sessions: tuple[SessionMark, ...], *, title: str = "") -> Figure:
    """Draw one instrument's scores over time, sessions as vertical lines, the MCID band relative to baseline."""
    figure = Figure(figsize=(6.4, 2.8), layout="constrained")
    # Any: matplotlib's annotations take floats where its date converters take the dates plotted here.
    axes: Any = figure.add_subplot()
    axes.set_title(title or (series.name if series else "Scores"), fontsize=10, color=INK, loc="left", pad=14)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8, colors=INK)
    if series is None or not series.points:
        axes.text(0.5, 0.5, "No scores recorded yet", ha="center", va="center", transform=axes.transAxes, color=INK)
        axes.set_xticks([])
        axes.set_yticks([])
        return figure

    inst = series.instrument
    days = [p.day for p in series.points]
    scores = [float(p.score) for p in series.points]
    first = min([*days, *(m.day for m in sessions)])
    last = max([*days, *(m.day for m in sessions)])
    pad = timedelta(days=max(3, (last - first).days // 20))
    axes.set_xlim(first - pad, last + pad)

    if inst is not None:
        axes.set_ylim(float(inst.minimum), float(inst.maximum))
        if inst.direction is Direction.HIGHER_IS_WORSE:
            axes.set_ylabel(f"{inst.maximum:g} = worst", fontsize=8, color=INK)
        else:
            axes.set_ylabel(f"{inst.maximum:g} = best", fontsize=8, color=INK)
        if inst.rates_change:
            # PGIC already rates change: 1-2 ("very much" / "much improved") is the responder zone.
            axes.axhspan(0.5, 2.5, color=BAND, alpha=0.12, lw=0, label="Responder zone (PGIC 1-2)")
            axes.set_ylim(float(inst.maximum) + 0.5, float(inst.minimum) - 0.5)
        elif series.boundary is not None:
            base = float(series.points[0].score)
            edge = float(series.boundary)
            axes.axhline(base, color=INK, lw=0.8, ls="--", label=f"Baseline {_num(series.points[0].score)}")
            axes.axhspan(min(base, edge), max(base, edge), color=BAND, alpha=0.12, lw=0, label="Short of the MCID")
            axes.axhline(edge, color=BAND, lw=1, label=f"MCID reached at {_num(series.boundary)}")

    for index, mark in enumerate(sessions):
        axes.axvline(mark.day, color=SESSION, lw=1, ls=":", label="Session" if index == 0 else None)
        axes.annotate(
            f"S{mark.number}",
            (mark.day, 1),
            xycoords=("data", "axes fraction"),
            fontsize=7,
            color=SESSION,
            ha="center",
            va="bottom",
        )
    axes.plot(days, scores, color=LINE, marker="o", ms=4, lw=1.6, label="Score")
    locator = AutoDateLocator(minticks=3, maxticks=7)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def _num(value: Decimal) -> str:
    """A score as written on a chart: 8 not 8.00, 5.6 not 5.60."""
    text = format(value.normalize(), "f")
    return text


def figure_svg(figure: Figure) -> str:
    """Render a figure as an SVG document."""
    buffer = io.StringIO()
    with _SAVE_LOCK, matplotlib.rc_context(SVG_RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def figure_png(figure: Figure, dpi: int = 150) -> bytes:
    """Render a figure as PNG bytes."""
    buffer = io.BytesIO()
    with _SAVE_LOCK:
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def chart_for(trajectory: Trajectory, instrument_code: str) -> Figure:
    """The figure of one instrument in a trajectory already loaded."""
    series = trajectory.series_for(instrument_code)
    title = series.name if series else instrument_code
    return series_figure(series, trajectory.sessions, title=title)


def trajectory_svg(patient: Any, instrument_code: str) -> str:
    """The patient's latest course's chart of one instrument, as SVG text."""
    return figure_svg(chart_for(patient_trajectory(patient), instrument_code))


def trajectory_png(patient: Any, instrument_code: str, dpi: int = 150) -> bytes:
    """The patient's latest course's chart of one instrument, as PNG bytes."""
    return figure_png(chart_for(patient_trajectory(patient), instrument_code), dpi=dpi)
