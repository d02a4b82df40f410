"""Forms of the clinical pages. Numbers are parsed by the domain (a decimal comma is accepted, as typed on a tablet)."""

import re
from decimal import Decimal
from typing import Any

from django import forms

from prolotrack.clinical import calculators
from prolotrack.clinical.models import PREGNANCY_CHOICES, REGION_CHOICES, SEDATION_CHOICES, SIDE_CHOICES
from prolotrack.clinical.queries import DAY_OF_FLAG_LABELS, DAY_OF_FLAGS
from prolotrack.domain.agents import Agent
from prolotrack.domain.anatomy import LANDMARKS, Region
from prolotrack.domain.errors import InputError
from prolotrack.domain.mixing import Diluent
from prolotrack.domain.protocols import OffsetUnit
from prolotrack.domain.quantities import as_decimal
from prolotrack.patients.forms import DateInput


class DecimalText(forms.CharField):
    """A number typed as text and read exactly by the domain ("2,5" and "2.5" are the same)."""

    def __init__(self, *, what: str, **kwargs: Any) -> None:
        self.what = what
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        # A numeric keypad on tablets, without the browser's own number rules (which refuse a decimal comma).
        return {**super().widget_attrs(widget), "inputmode": "decimal", "autocomplete": "off"}

    def clean(self, value: Any) -> Decimal | None:
        text = super().clean(value)
        if not text:
            return None
        try:
            return as_decimal(text, self.what)
        except InputError as error:
            raise forms.ValidationError(str(error)) from None


# --- Calculators ---------------------------------------------------------------------------------------------

ANAESTHETIC_CHOICES = [("", "None"), *((a.value, a.label) for a in calculators.ANAESTHETICS)]
DILUENT_CHOICES = [(d.value, d.value.capitalize()) for d in Diluent]


class CalculatorForm(forms.Form):
    """A calculator form: put the calculator's per-field messages next to the fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.link_errors()

    def link_errors(self) -> None:
        # Each input names the slot where its message appears, so a screen reader reads the message with it.
        for name, field in self.fields.items():
            field.widget.attrs["aria-describedby"] = f"err-id_{name}"

    def apply(self, error: calculators.CalculatorError) -> None:
        for field, message in error.errors.items():
            self.add_error(field if field in self.fields else None, message)


class MixForm(CalculatorForm):
    final_volume_ml = DecimalText(what="Final volume (mL)", label="Final volume (mL)")
    target_dextrose_pct = DecimalText(what="Target dextrose (%)", label="Dextrose wanted (%)")
    dextrose_stock_pct = DecimalText(what="Dextrose stock (%)", label="Dextrose stock (%)", initial="50")
    anesthetic = forms.ChoiceField(choices=ANAESTHETIC_CHOICES, required=False, label="Anaesthetic")
    target_anesthetic_pct = DecimalText(what="Target anaesthetic (%)", label="Anaesthetic wanted (%)")
    anesthetic_stock_pct = DecimalText(what="Anaesthetic stock (%)", label="Anaesthetic stock (%)")
    diluent = forms.ChoiceField(choices=DILUENT_CHOICES, required=False, initial=Diluent.SODIUM_CHLORIDE_0_9.value)

    FURTHER = calculators.FURTHER_AGENTS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for agent in self.FURTHER:
            name = agent.label.lower()
            self.fields[f"{agent.value}_target_pct"] = DecimalText(
                what=f"Target {name} (%)", label=f"{agent.label} wanted (%)"
            )
            self.fields[f"{agent.value}_stock_pct"] = DecimalText(what=f"{agent.label} stock (%)", label="Stock (%)")
        self.link_errors()

    def further_fields(self) -> list[tuple[Agent, Any, Any]]:
        return [(a, self[f"{a.value}_target_pct"], self[f"{a.value}_stock_pct"]) for a in self.FURTHER]

    def further_in_use(self) -> bool:
        return any(self.data.get(f"{a.value}_{part}_pct") for a in self.FURTHER for part in ("target", "stock"))

    def request(self) -> calculators.MixRequest:
        data = self.cleaned_data
        further = [
            calculators.FurtherAgent(a.value, data.get(f"{a.value}_target_pct"), data.get(f"{a.value}_stock_pct"))
            for a in self.FURTHER
            if data.get(f"{a.value}_target_pct") is not None or data.get(f"{a.value}_stock_pct") is not None
        ]
        return calculators.MixRequest(
            final_volume_ml=data.get("final_volume_ml"),
            target_dextrose_pct=data.get("target_dextrose_pct"),
            dextrose_stock_pct=data.get("dextrose_stock_pct"),
            anesthetic=data.get("anesthetic") or None,
            target_anesthetic_pct=data.get("target_anesthetic_pct"),
            anesthetic_stock_pct=data.get("anesthetic_stock_pct"),
            diluent=data.get("diluent") or None,
            further_agents=further,
        )


class LimitForm(CalculatorForm):
    drug = forms.ChoiceField(choices=ANAESTHETIC_CHOICES[1:], label="Anaesthetic", initial="lidocaine")
    with_epinephrine = forms.TypedChoiceField(
        choices=[("no", "Plain"), ("yes", "With epinephrine")],
        coerce=lambda value: value == "yes",
        initial="no",
        label="Form",
        widget=forms.RadioSelect,
    )
    weight_kg = DecimalText(what="Body weight (kg)", label="Weight (kg)")
    planned_mg = DecimalText(
        what="Planned total (mg)",
        label="Planned total this session (mg)",
        help_text="Optional: every syringe, skin wheals included.",
    )

    def request(self) -> calculators.LimitRequest:
        data = self.cleaned_data
        return calculators.LimitRequest(
            drug=data.get("drug"),
            with_epinephrine=data.get("with_epinephrine") is True,
            weight_kg=data.get("weight_kg"),
            planned_mg=data.get("planned_mg"),
        )


# --- Screening -----------------------------------------------------------------------------------------------

AGENT_CHOICES = [(a.value, a.label) for a in Agent]


def day_of_flags_field() -> forms.MultipleChoiceField:
    """The day-of-procedure findings (fever, a skin infection at the site, ...): the screening form and the session's
    re-screen ask the same question."""
    return forms.MultipleChoiceField(
        choices=[(f.value, DAY_OF_FLAG_LABELS[f]) for f in DAY_OF_FLAGS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Found today",
        help_text="Tick only what is present now.",
    )


class ScreeningForm(forms.Form):
    procedure_date = forms.DateField(widget=DateInput(), label="Procedure date")
    region = forms.ChoiceField(choices=[("", "Choose…"), *REGION_CHOICES], label="Body region")
    side = forms.ChoiceField(choices=[("", "Choose…"), *SIDE_CHOICES])
    site_description = forms.CharField(
        max_length=200, required=False, label="Site", help_text="In words, e.g. medial knee, pes anserinus."
    )
    agents = forms.MultipleChoiceField(
        choices=AGENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Agents planned",
        help_text="Every agent in any syringe, skin wheals included: allergies are checked against them.",
    )
    sedation = forms.ChoiceField(choices=SEDATION_CHOICES, initial="none")
    pregnancy = forms.ChoiceField(
        choices=PREGNANCY_CHOICES,
        initial="unknown",
        label="Pregnancy status (ask today)",
        help_text="A pregnancy recorded as a condition on the chart counts whatever is chosen here.",
    )
    day_of_flags = day_of_flags_field()


class OverrideForm(forms.Form):
    code = forms.CharField(widget=forms.HiddenInput, max_length=80)
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why it is safe to proceed",
        help_text="At least 10 characters, e.g. 'Allergist patch test 2024 negative for lidocaine.'",
    )


# --- Protocol templates --------------------------------------------------------------------------------------

SOLUTIONS_HELP = (
    "One solution a line: label | agents with % | volume in mL (blank if it varies) | per joint or site | note. "
    "Example: Intra-articular dextrose 25% | dextrose 25% | 6 | joint |"
)
_COMPONENT = re.compile(
    r"^(?P<agent>[A-Za-z][A-Za-z _-]*?)\s+(?P<value>[0-9]+(?:[.,][0-9]+)?)\s*(?P<unit>%|mg/ml)$", re.I
)


def solutions_to_text(solutions: list[dict[str, Any]]) -> str:
    lines = []
    for s in solutions:
        parts = ", ".join(
            f"{c['agent'].replace('_', ' ')} {c['value']}{'%' if c.get('unit', '%') == '%' else ' mg/mL'}"
            for c in s["components"]
        )
        volume = s.get("volume_ml") or ""
        lines.append(
            f"{s['label']} | {parts} | {volume} | {s.get('volume_per', 'site')} | {s.get('note', '')}".rstrip()
        )
    return "\n".join(lines)


def solutions_from_text(text: str) -> list[dict[str, Any]]:
    """Parse the solutions box into the stored JSON shape; the domain then validates the values."""
    solutions = []
    for number, raw in enumerate((line for line in text.splitlines() if line.strip()), start=1):
        cells = [cell.strip() for cell in raw.split("|")]
        if len(cells) < 2 or not cells[1]:
            raise forms.ValidationError(
                f"Line {number}: write at least 'label | agents with %' (for example 'Dextrose 15% | dextrose 15%')."
            )
        cells += [""] * (5 - len(cells))
        if len(cells) > 5:
            raise forms.ValidationError(f"Line {number}: at most 5 parts separated by '|'.")
        label, agents, volume, per, note = cells
        components = []
        # Agents are separated by "," or "+"; a comma between digits is a decimal comma ("0,5%").
        for part in re.split(r"\+|,(?=\s*[A-Za-z])", agents):
            match = _COMPONENT.match(part.strip())
            if not match:
                raise forms.ValidationError(
                    f"Line {number}: '{part.strip()}' is not an agent with a concentration, such as 'dextrose 25%' "
                    "or 'lidocaine 0.5%'."
                )
            unit = "%" if match["unit"] == "%" else "mg/mL"
            components.append(
                {"agent": match["agent"].strip(), "value": match["value"].replace(",", "."), "unit": unit}
            )
        solutions.append(
            {
                "label": label,
                "components": components,
                "volume_ml": volume.lower().removesuffix("ml").strip().replace(",", ".") or None,
                "volume_per": per or "site",
                "note": note,
            }
        )
    return solutions


def offsets_from_text(text: str, what: str) -> list[int]:
    values = [v for v in re.split(r"[,\s;]+", text or "") if v]
    offsets = []
    for value in values:
        if not value.isdigit():
            raise forms.ValidationError(f"{what}: '{value}' is not a whole number; write offsets like 0, 4, 8.")
        offsets.append(int(value))
    return offsets


def landmark_region(code: str) -> Region | None:
    return next((lm.region for lm in LANDMARKS if lm.code == code), None)


def _landmark_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    return [(region.label, [(lm.code, lm.label) for lm in LANDMARKS if lm.region is region]) for region in Region]


class ProtocolForm(forms.Form):
    """A clinic template, edited as plain fields; the service validates it by building the domain template."""

    code = forms.SlugField(max_length=60, help_text="Short unique name, letters, digits and _ (e.g. knee_oa_ours).")
    name = forms.CharField(max_length=120)
    indication = forms.CharField(max_length=200)
    region = forms.ChoiceField(choices=[("", "Choose…"), *REGION_CHOICES])
    solutions_text = forms.CharField(
        label="Solutions", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=SOLUTIONS_HELP
    )
    session_unit = forms.ChoiceField(
        choices=[(u.value, u.value.capitalize()) for u in OffsetUnit], initial="weeks", label="Sessions counted in"
    )
    planned_sessions = forms.CharField(
        max_length=200, label="Planned sessions", help_text="Offsets from the first session, e.g. 0, 4, 8."
    )
    optional_sessions = forms.CharField(
        max_length=200, required=False, label="Optional sessions (if needed)", help_text="e.g. 12, 16."
    )
    landmarks = forms.MultipleChoiceField(
        choices=_landmark_choices, widget=forms.CheckboxSelectMultiple, required=False, label="Typical landmarks"
    )
    source = forms.CharField(max_length=300, help_text="The trial, or the clinic's agreed protocol and its date.")
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Notes and points to review"
    )
    based_on = forms.CharField(widget=forms.HiddenInput, required=False, max_length=60)
    active = forms.BooleanField(required=False, initial=True, help_text="Inactive templates are kept but not offered.")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    change_reason = forms.CharField(max_length=500, required=False, label="Reason for change")

    # Service error keys -> the form field that shows them.
    FIELD_FOR = {"solutions": "solutions_text", "sessions": "planned_sessions"}

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = "The code of a saved template does not change."
        else:
            del self.fields["change_reason"]
            del self.fields["active"]

    def landmark_groups(self) -> list[tuple[str, list[Any], bool]]:
        """The landmark boxes by region; a region is shown open when it is the template's or has a box ticked."""
        region = self["region"].value()
        groups = []
        for item in Region:
            boxes = [box for box in self["landmarks"] if landmark_region(box.data["value"]) is item]
            is_open = item.value == region or any(box.data["selected"] for box in boxes)
            groups.append((item.label, boxes, is_open))
        return groups

    @staticmethod
    def initial_from(values: dict[str, Any]) -> dict[str, Any]:
        """Form values for stored (or built-in) template values."""
        sessions = values.get("sessions") or []
        unit = sessions[0]["unit"] if sessions else "weeks"
        return {
            **{k: values.get(k) for k in ("code", "name", "indication", "region", "source", "based_on", "active")},
            "notes": values.get("notes", ""),
            "solutions_text": solutions_to_text(values.get("solutions") or []),
            "session_unit": unit,
            "planned_sessions": ", ".join(str(s["offset"]) for s in sessions if not s["optional"]),
            "optional_sessions": ", ".join(str(s["offset"]) for s in sessions if s["optional"]),
            "landmarks": list(values.get("landmarks") or []),
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        try:
            data["solutions"] = solutions_from_text(data.get("solutions_text", ""))
        except forms.ValidationError as error:
            self.add_error("solutions_text", error)
        sessions = []
        unit = data.get("session_unit", "weeks")
        for field, optional in (("planned_sessions", False), ("optional_sessions", True)):
            try:
                offsets = offsets_from_text(data.get(field, ""), str(self.fields[field].label or field))
            except forms.ValidationError as error:
                self.add_error(field, error)
                continue
            sessions += [{"offset": o, "unit": unit, "optional": optional} for o in offsets]
        data["sessions"] = sessions
        return data

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {
            "code": data["code"],
            "name": data["name"],
            "indication": data["indication"],
            "region": data["region"],
            "solutions": data["solutions"],
            "landmarks": list(data.get("landmarks") or []),
            "sessions": data["sessions"],
            "source": data["source"],
            "based_on": data.get("based_on") or "",
            "notes": data.get("notes", ""),
        }
        if self.editing:
            values["active"] = bool(data.get("active"))
            del values["code"]
        return values

    def apply(self, error: Exception) -> None:
        messages = getattr(error, "message_dict", None)
        if messages is None:
            self.add_error(None, str(error) if not hasattr(error, "messages") else error.messages)
            return
        for key, texts in messages.items():
            field = self.FIELD_FOR.get(key, key)
            self.add_error(field if field in self.fields else None, texts)
