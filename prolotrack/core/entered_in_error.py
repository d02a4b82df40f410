"""The one entered-in-error page of every record type: the form (core.forms.EnteredInErrorForm, a reason from
domain.reasons.ENTERED_IN_ERROR_REASONS, free text for "other"), the confirmation template (core/confirm.html) and
this renderer. Patients, chart entries, imaging studies and files, protocol templates and session items all use it.

The views stay thin: look the record up inside the clinic, bind the form, call their service with `form.text` (the
reason's label and the free text), and render with `render_page` when the form is new or refused.
"""

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from prolotrack.core.forms import EnteredInErrorForm

__all__ = ["EnteredInErrorForm", "bind", "render_page"]

KEEPS = "Nothing is deleted: it stays in the record, struck through, with your reason, who marked it and when."


def bind(request: HttpRequest, record: Any) -> EnteredInErrorForm:
    """The form, bound to the POST or opened at the record's current version."""
    return EnteredInErrorForm(request.POST if request.method == "POST" else None, initial={"version": record.version})


def render_page(
    request: HttpRequest,
    form: EnteredInErrorForm,
    *,
    record: Any,
    what: str,
    describe: str,
    back_url: str,
    patient: Any = None,
    crumbs: Sequence[tuple[str, str]] = (),
    changes: Sequence[str] = (),
    keeps: Sequence[str] = (),
) -> HttpResponse:
    already = (
        f"Already marked entered in error: {record.entered_in_error_reason}"
        if getattr(record, "is_entered_in_error", False)
        else ""
    )
    return render(
        request,
        "core/confirm.html",
        {
            "title": "Mark entered in error",
            "heading": f"Mark this {what} entered in error",
            "patient": patient,
            "crumbs": list(crumbs),
            "record": describe,
            "changes": [f"The {what} is marked entered in error and left out of what the pages add up.", *changes],
            "keeps": [KEEPS, *keeps],
            "form": form,
            "button": "Mark entered in error",
            "back_url": back_url,
            "already": already,
        },
        status=400 if form.errors else 200,
    )
