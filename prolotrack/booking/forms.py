"""Forms of the booking pages: parse and show; the services check every rule again (docs/BOOKING.md)."""

from typing import Any, cast

from django import forms
from django.conf import settings

from prolotrack.booking.models import WEEKDAY_NAMES, AppointmentKind, PeriodKind
from prolotrack.booking.services import BUFFER_MINUTES, TYPE_NAME_LIMIT
from prolotrack.domain.vocabulary import Sex


def _choices(form: forms.Form, name: str, choices: list[tuple[Any, str]]) -> None:
    cast(forms.ChoiceField, form.fields[name]).choices = choices


WEEKDAYS = list(enumerate(WEEKDAY_NAMES))


def patient_languages() -> list[tuple[str, str]]:
    """The languages patients read besides the default one (settings.LANGUAGES): a type may be named in each."""
    return [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


class TypeForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=AppointmentKind.choices)
    duration_minutes = forms.IntegerField(label="Length (minutes)", min_value=5, max_value=480)
    buffer_before_minutes = forms.IntegerField(
        label="Buffer before (minutes)",
        required=False,
        min_value=BUFFER_MINUTES[0],
        max_value=BUFFER_MINUTES[1],
        help_text="Empty: none.",
    )
    buffer_after_minutes = forms.IntegerField(
        label="Buffer after (minutes)",
        required=False,
        min_value=BUFFER_MINUTES[0],
        max_value=BUFFER_MINUTES[1],
        help_text="Clean-up, notes.",
    )
    bookable_online = forms.BooleanField(required=False, label="Patients may book it online")
    fee_item = forms.ChoiceField(required=False, label="Fee item", help_text="Optional: from the fee schedule.")

    def __init__(self, *args: Any, fee_items: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fee_items = {str(f.uuid): f for f in fee_items}
        _choices(self, "fee_item", [("", "None")] + [(str(f.uuid), f.code) for f in fee_items])
        # The name patients read in each other language (docs/LANGUAGES.md): right after the default name.
        fields = list(self.fields.items())
        for code, language in reversed(patient_languages()):
            fields.insert(
                1,
                (
                    f"name_{code}",
                    forms.CharField(
                        max_length=TYPE_NAME_LIMIT,
                        required=False,
                        label=f"Name in {language} ({code})",
                        help_text=f"What patients reading in {language} see. Blank: they see the name above.",
                    ),
                ),
            )
        self.fields = dict(fields)

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["names"] = {code: data.pop(f"name_{code}", "") or "" for code, _language in patient_languages()}
        data["fee_item"] = self.fee_items.get(data.get("fee_item") or "")
        for name in ("buffer_before_minutes", "buffer_after_minutes"):
            data[name] = data.get(name) or 0
        return data


class OffersForm(forms.Form):
    clinicians = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, label="Offered by")
    online = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Bookable online with"
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, clinicians: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {str(c.uuid): c for c in clinicians}
        choices = [(str(c.uuid), str(c)) for c in clinicians]
        _choices(self, "clinicians", choices)
        _choices(self, "online", choices)


class RoomForm(forms.Form):
    name = forms.CharField(max_length=60, label="Room")
    allow_double_booking = forms.BooleanField(required=False, label="May be double-booked")


class PeriodForm(forms.Form):
    clinician = forms.ChoiceField()
    kind = forms.ChoiceField(choices=PeriodKind.choices, initial=PeriodKind.HOURS)
    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int)
    starts = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), label="From")
    ends = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), label="To")
    room = forms.ChoiceField(required=False, help_text="Working hours only; empty: no room.")

    def __init__(self, *args: Any, clinicians: Any = (), rooms: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {str(c.uuid): c for c in clinicians}
        self.room_rows = {str(r.uuid): r for r in rooms}
        _choices(self, "clinician", [(str(c.uuid), str(c)) for c in clinicians])
        _choices(self, "room", [("", "None")] + [(str(r.uuid), r.name) for r in rooms])


class TimeOffForm(forms.Form):
    clinician = forms.ChoiceField(required=False, help_text="Empty: a clinic holiday, for everyone.")
    first_day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: Any, clinicians: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {str(c.uuid): c for c in clinicians}
        people = [(str(c.uuid), str(c)) for c in clinicians]
        _choices(self, "clinician", [("", "Whole clinic (holiday)"), *people])


# --- Pending patients (docs/BOOKING.md, "Pending patients") -------------------------------------------------------


class ConfirmPendingForm(forms.Form):
    """Confirm an online booker as a new patient: the sex for the chart (the booking does not ask it)."""

    sex = forms.ChoiceField(choices=Sex.choices, widget=forms.RadioSelect, label="Sex, to record on the chart")
    not_a_duplicate = forms.BooleanField(
        required=False,
        label="I checked: none of the matching patients above is this person",
        help_text="Needed when the check finds a strong match.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, strong: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not strong:
            del self.fields["not_a_duplicate"]


class MergePendingForm(forms.Form):
    """Merge an online booker into a patient: add a contact detail the chart lacks, only when ticked."""

    add_email = forms.BooleanField(required=False)
    add_phone = forms.BooleanField(required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
    patient_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, offer: dict[str, str] | None = None, **kwargs: Any) -> None:
        """`offer`: the details that may be added (name -> the typed value); the others are not shown."""
        super().__init__(*args, **kwargs)
        offer = offer or {}
        for name in ("email", "phone"):
            if name in offer:
                self.fields[f"add_{name}"].label = f"Add the {name} typed online to the chart: {offer[name]}"
            else:
                del self.fields[f"add_{name}"]
