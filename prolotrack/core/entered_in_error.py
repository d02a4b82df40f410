"""The one entered-in-error page of every record type: the form (core.forms.EnteredInErrorForm, a reason from
domain.reasons.ENTERED_IN_ERROR_REASONS, free text for "other"), the confirmation template (core/confirm.html) and
this renderer. Patients, chart entries, imaging studies and files, protocol templates and session items all use it.

The views stay thin: look the record up inside the clinic and hand `flow` the record, the call of its service (given
`form.text`, the reason's label and the free text, and the version read) and the page's words. `flow` binds the form,
calls the service on a valid POST, shows a refusal next to the field it names (core.forms.apply_errors), and either
goes on with a message or renders the confirmation page.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from prolotrack.core.errors import ServiceError
from prolotrack.core.forms import EnteredInErrorForm, apply_errors

__all__ = ["EnteredInErrorForm", "Page", "bind", "flow", "render_page"]

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


@dataclass(frozen=True)
class Page:
    """The words of one record type's confirmation page (see render_page)."""

    what: str
    describe: str
    back_url: str
    patient: Any = None
    crumbs: Sequence[tuple[str, str]] = ()
    changes: Sequence[str] = ()
    keeps: Sequence[str] = ()


def flow(
    request: HttpRequest,
    record: Any,
    retire: Callable[[str, int], Any],
    *,
    done_url: str,
    done: str,
    page: Callable[[], Page],
) -> HttpResponse:
    """The whole entered-in-error step of any record type: `retire(reason, expected_version)` is its service; on
    success the user goes to `done_url` with the message `done`; otherwise the confirmation page (built by `page`)."""
    form = bind(request, record)
    if request.method == "POST" and form.is_valid():
        try:
            retire(form.text, form.cleaned_data["version"])
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, done)
            return redirect(done_url)
    shown = page()
    return render_page(
        request, form, record=record, what=shown.what, describe=shown.describe, back_url=shown.back_url,
        patient=shown.patient, crumbs=shown.crumbs, changes=shown.changes, keeps=shown.keeps,
    )  # fmt: skip
