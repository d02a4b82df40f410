"""Template helpers for imaging: the chart's Imaging card and labels for finding codes."""

from typing import Any

from django import template

from prolotrack.imaging import findings as catalogue
from prolotrack.imaging import queries

register = template.Library()


@register.inclusion_tag("imaging/_card.html", takes_context=True)
def imaging_card(context: Any, patient: Any) -> dict[str, Any]:
    """The patient's imaging studies for the chart (one query)."""
    return {"patient": patient, "studies": queries.patient_studies(patient), "can": context.get("can", set())}


@register.filter
def finding_label(code: str) -> str:
    return catalogue.label(code)


@register.filter
def filesize(size: int | None) -> str:
    """1.2 MB, 340 KB: for a file's size on the page."""
    if size is None:
        return ""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"
