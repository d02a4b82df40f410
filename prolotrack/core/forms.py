"""Helpers shared by the pages' forms."""

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from prolotrack.domain.reasons import ENTERED_IN_ERROR_REASONS, CloseError, Reason, choices, find, reason_text


def apply_errors(form: Any, error: Exception) -> None:
    """Put a service error on the form so the user sees what to fix: next to the field it names, else above the form.

    A message about a hidden input (such as the map's point) goes above the form, where it can be read.
    """
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            shown = name in form.fields and not form.fields[name].widget.is_hidden
            form.add_error(name if shown else None, errors)
    elif isinstance(error, ValidationError):
        form.add_error(None, error.messages)
    else:
        form.add_error(None, str(error))


def form_copy(record: Any) -> Any:
    """A fresh copy of the record for a ModelForm to change: a refused form then leaves the page's record as read."""
    return type(record)._default_manager.get(pk=record.pk)


class ReasonForm(forms.Form):
    """The confirmation step of an irreversible action: a reason from a list, free text where "other", the version.

    `reasons` is one of the lists in domain/reasons.py (or domain/course.py); `outcome` narrows it to the reasons
    that fit. The service checks the same rule again (reason_text), so the API gets it too."""

    reason = forms.ChoiceField(
        widget=forms.RadioSelect, label="Reason", error_messages={"required": "Choose a reason from the list."}
    )
    details = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Details",
        help_text="Needed when the reason is 'Other' (at least 5 characters); optional otherwise.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, reasons: tuple[Reason, ...], outcome: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reasons = tuple(r for r in reasons if outcome is None or r.outcomes is None or outcome in r.outcomes)
        self.outcome = outcome
        cast(forms.ChoiceField, self.fields["reason"]).choices = choices(self.reasons)
        self.text = ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "reason" in data:
            try:
                self.text = reason_text(self.reasons, data["reason"], data.get("details") or "", outcome=self.outcome)
            except CloseError as error:
                chosen = find(self.reasons, data["reason"])
                self.add_error("details" if chosen is not None and chosen.needs_text else "reason", str(error))
        return data


class EnteredInErrorForm(ReasonForm):
    """The one entered-in-error form of every record type (patients, chart entries, imaging, session items)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("reasons", ENTERED_IN_ERROR_REASONS)
        super().__init__(*args, **kwargs)
