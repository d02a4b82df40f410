"""Plain bar charts for any app (matplotlib, Agg, Figure objects only, never pyplot's global state).

The charts are for looking: every page that shows one puts the same figures in a table beside it (the exact values,
read by screen readers and copied by people). Values come in as numbers of any kind (a `Decimal` of money too) and are
drawn as floating point here, so the apps whose figures must stay exact (billing) hand over their numbers and never
do float arithmetic themselves. Import lazily: matplotlib loads on the first chart, not with the URL map.
"""

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

INK = "#1f2933"
MUTED = "#9aa5b1"
# Okabe-Ito: colours told apart with the common colour-vision deficiencies (Okabe & Ito, "Color Universal Design").
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
_SAVE_LOCK = threading.Lock()
SVG_RC: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "prolotrack"}


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Decimal | int]


def _num(value: Decimal | int) -> float:
    return float(value)


def stacked_bars(
    title: str, categories: Sequence[str | date], series: Sequence[Series], *, unit: str, empty: str = "No data"
) -> Figure:
    """Bars per category, the series stacked (positive parts above zero, negative parts below it)."""
    many = len(categories) > 14
    figure = Figure(figsize=(6.4, 3.2), layout="constrained")
    axes: Any = figure.add_subplot()
    axes.set_title(title, fontsize=11, color=INK, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=9, colors=INK)
    if not categories or not any(_num(v) for s in series for v in s.values):
        axes.text(0.5, 0.5, empty, ha="center", va="center", transform=axes.transAxes, color=INK)
        axes.set_xticks([])
        axes.set_yticks([])
        return figure
    positions = list(range(len(categories)))
    above = [0.0] * len(categories)
    below = [0.0] * len(categories)
    for index, one in enumerate(series):
        values = [_num(v) for v in one.values]
        if not any(values):
            continue
        bottoms = [above[i] if v >= 0 else below[i] for i, v in enumerate(values)]
        axes.bar(positions, values, bottom=bottoms, width=0.8, color=PALETTE[index % len(PALETTE)], label=one.name)
        for i, v in enumerate(values):
            if v >= 0:
                above[i] += v
            else:
                below[i] += v
    if min(below) < 0:
        axes.axhline(0, color=INK, lw=0.8)
    labels = [c.strftime("%d %b") if isinstance(c, date) else str(c) for c in categories]
    step = max(1, len(categories) // 12)
    axes.set_xticks(positions[::step], labels[::step], rotation=45 if many else 0, ha="right" if many else "center")
    axes.set_ylabel(unit, fontsize=8, color=INK)
    axes.legend(fontsize=9, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def bars(
    title: str, categories: Sequence[str], values: Sequence[Decimal | int], *, unit: str, labels: Sequence[str]
) -> Figure:
    """One bar per category, each labelled with its value as written (`labels`, e.g. "1,234.50")."""
    figure = Figure(figsize=(6.4, 3.0), layout="constrained")
    axes: Any = figure.add_subplot()
    axes.set_title(title, fontsize=11, color=INK, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=9, colors=INK)
    numbers = [_num(v) for v in values]
    positions = list(range(len(categories)))
    axes.bar(positions, numbers, width=0.6, color=PALETTE[0])
    top = max([*numbers, 0.0]) or 1.0
    axes.set_ylim(0, top * 1.2)
    for x, y, text in zip(positions, numbers, labels, strict=True):
        axes.text(x, y + top * 0.02, text, ha="center", va="bottom", fontsize=9, color=INK)
    axes.set_xticks(positions, list(categories))
    axes.set_ylabel(unit, fontsize=8, color=INK)
    return figure


def svg(figure: Figure) -> str:
    """The figure as an SVG document (text kept as text, so it scales and reads)."""
    buffer = io.StringIO()
    with _SAVE_LOCK, matplotlib.rc_context(SVG_RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def png(figure: Figure, dpi: int = 150) -> bytes:
    buffer = io.BytesIO()
    with _SAVE_LOCK:
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
