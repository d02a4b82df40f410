"""Forms of the messaging pages: the outbox filters and a patient's message choices."""

from typing import Any

from django import forms

from prolotrack.messaging.models import Channel, MessageKind, MessageStatus


def _choices(enum: Any, everything: str) -> list[tuple[str, str]]:
    return [("", everything), *enum.choices]


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(choices=_choices(MessageStatus, "Any status"), required=False)
    kind = forms.ChoiceField(choices=_choices(MessageKind, "Any kind"), required=False)
    channel = forms.ChoiceField(choices=_choices(Channel, "Any channel"), required=False)
    date_from = forms.DateField(label="Due from", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="Due until", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("The 'due from' date is after the 'due until' date: swap them.")
        return data


class OptOutForm(forms.Form):
    """One checkbox per (kind, channel): ticked means the patient does NOT want it."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, grid: list[tuple[str, str, list[tuple[str, str]]]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.grid = grid
        for kind, kind_label, channels in grid:
            for channel, channel_label in channels:
                self.fields[f"{channel}__{kind}"] = forms.BooleanField(
                    required=False,
                    label=f"No {kind_label.lower()} by {channel_label.lower() if channel == 'email' else 'SMS'}",
                )

    def opted_out(self) -> set[tuple[str, str]]:
        pairs = set()
        for name, value in self.cleaned_data.items():
            if "__" in name and value:
                channel, kind = name.split("__", 1)
                pairs.add((channel, kind))
        return pairs

    def rows(self) -> list[dict[str, Any]]:
        """The grid for the template: a row per kind with its bound checkbox per channel."""
        out = []
        for kind, kind_label, channels in self.grid:
            cells = {channel: self[f"{channel}__{kind}"] for channel, _ in channels}
            out.append({"kind": kind, "label": kind_label, "email": cells.get("email"), "sms": cells.get("sms")})
        return out
