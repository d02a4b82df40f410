"""Forms of the treatment pages. They parse and check the shape of input; the services decide the rest.

Numbers are typed as text and read by the domain (a decimal comma is accepted, as typed on a tablet). Forms that
change a versioned record carry the version they were opened at, so a stale edit is refused, not applied.
"""

from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms

from prolotrack.clinical.forms import DecimalText, MixForm, day_of_flags_field
from prolotrack.clinical.models import PREGNANCY_CHOICES, REGION_CHOICES
from prolotrack.core.forms import ReasonForm
from prolotrack.domain.dates import AmbiguousLocalTime, NonexistentLocalTime, local_datetime
from prolotrack.domain.limits import (
    BODY_WEIGHT_KG,
    COMMON_NEEDLE_GAUGES,
    NEEDLE_DEPTH_MM,
    SESSION_MINUTES,
    SITE_VOLUME_ML,
)
from prolotrack.domain.reasons import AMENDMENT_REASONS, SESSION_CANCEL_REASONS, CloseError, choices, parse
from prolotrack.domain.session import CHECKLIST
from prolotrack.domain.stock import RecallQuestion
from prolotrack.domain.vocabulary import ChecklistAnswer, ScreeningSide, StockProduct
from prolotrack.patients.forms import DateInput
from prolotrack.treatment.models import (
    AdverseEventType,
    AEOutcome,
    AESeverity,
    Causality,
    Guidance,
    Sedation,
    SessionStatus,
)

SIDE_CHOICES = ScreeningSide.choices
AMENDMENT_HELP = "The note is signed: the original stays in its history. Add details (needed for 'Other')."


def _amendment_fields(form: forms.Form) -> None:
    """The signed note's amendment: a reason from the list (domain/reasons.py) and details, needed for 'other'."""
    form.fields["amendment_code"] = forms.ChoiceField(
        label="Reason for the amendment", choices=choices(AMENDMENT_REASONS), widget=forms.RadioSelect
    )
    form.fields["amendment_reason"].label = "Details"
    form.fields["amendment_reason"].required = False


def _amendment_text(form: forms.Form) -> str:
    """The reason as one string for the service ("code: details"), which checks it against the list."""
    code = form.cleaned_data.get("amendment_code") or ""
    details = (form.cleaned_data.get("amendment_reason") or "").strip()
    return f"{code}: {details}" if details else code


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


def _choices_of(users: list[Any]) -> list[tuple[str, str]]:
    return [(u.username, u.get_full_name() or u.username) for u in users]


class AmendableForm(forms.Form):
    """A form on the session record: once the note is signed it needs an amendment reason."""

    amendment_reason = forms.CharField(
        label="Reason for the amendment", required=False, max_length=500, help_text=AMENDMENT_HELP
    )

    prefix_id = ""

    def __init__(self, *args: Any, signed: bool = False, **kwargs: Any) -> None:
        if self.prefix_id:
            # Several forms share one page: each gets its own element ids (input names stay plain).
            kwargs.setdefault("auto_id", f"{self.prefix_id}-%s")
        super().__init__(*args, **kwargs)
        self.signed = signed
        if signed:
            _amendment_fields(self)
            self.fields["amendment_reason"].widget = forms.Textarea(attrs={"rows": 2})
        else:
            del self.fields["amendment_reason"]

    @property
    def reason(self) -> str:
        return _amendment_text(self) if self.signed else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.signed and data.get("amendment_code"):
            # The service checks it again; checked here too so the confirmation step never shows a reason it refuses.
            try:
                parse(AMENDMENT_REASONS, self.reason)
            except CloseError as error:
                self.add_error("amendment_reason", str(error))
        return data

    def changes(self) -> dict[str, Any]:
        raise NotImplementedError

    def differences(self, record: Any) -> list[tuple[str, str, str]]:
        """What saving would change on the record: (field label, before, after) as people read them, in form order."""
        found = []
        for name, after in self.changes().items():
            before = getattr(record, name)
            if _comparable(before) != _comparable(after):
                found.append(
                    (str(self[name].label), _shown(self.fields[name], before), _shown(self.fields[name], after))
                )
        return found

    def confirming(self) -> "AmendableForm":
        """The confirmation step's form: the typed values travel as hidden inputs; only the reason stays to choose."""
        for name, field in self.fields.items():
            if name not in ("amendment_code", "amendment_reason"):
                field.widget = forms.HiddenInput()
        self.order_fields([*(n for n in self.fields if not n.startswith("amendment_")), "amendment_code"])
        return self


def _comparable(value: Any) -> Any:
    """A value as stored, for comparing: text with its line ends and edges normalised, a number as a Decimal."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


def _shown(field: forms.Field, value: Any) -> str:
    """A value as people read it: the vocabulary's display name, Yes/No, "—" for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(field, forms.ChoiceField):
        # A ChoiceField holds its choices as a list of pairs once set (Django normalises them).
        return str(dict(cast("list[tuple[Any, Any]]", field.choices)).get(value, value))
    return str(value)


# --- Courses ---------------------------------------------------------------------------------------------------


class CourseForm(forms.Form):
    protocol_id = forms.ChoiceField(label="Protocol template", required=False)
    region = forms.ChoiceField(choices=[("", "Choose…"), *REGION_CHOICES], label="Body region")
    side = forms.ChoiceField(choices=[("", "Choose…"), *SIDE_CHOICES])
    indication = forms.CharField(max_length=200, help_text="In words, e.g. knee osteoarthritis, medial pain.")
    start_on = forms.DateField(widget=DateInput(), label="First session on")
    clinician = forms.ChoiceField(label="Treating clinician")
    screening = forms.ChoiceField(
        label="Screening to keep with the course",
        required=False,
        help_text="Optional: the screening this course was decided on.",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)

    def __init__(
        self, *args: Any, protocols: list[Any], clinicians: list[Any], screenings: list[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        builtin = [(p.id, p.name) for p in protocols if p.builtin]
        own = [(p.id, p.name) for p in protocols if not p.builtin]
        choices: list[Any] = [("", "None: a single session, planned by the clinician")]
        if builtin:
            choices.append(("Trial templates", builtin))
        if own:
            choices.append(("This clinic's templates", own))
        cast(forms.ChoiceField, self.fields["protocol_id"]).choices = choices
        # Each option says which region its template is for, so the page can fill the region in.
        regions = {p.id: p.template.region.value for p in protocols if p.template is not None}
        self.protocol_groups = [
            (group, [(value, text, regions.get(value, "")) for value, text in items])
            for group, items in (("Trial templates", builtin), ("This clinic's templates", own))
            if items
        ]
        cast(forms.ChoiceField, self.fields["clinician"]).choices = [("", "Choose…"), *_choices_of(clinicians)]
        cast(forms.ChoiceField, self.fields["screening"]).choices = [
            ("", "None"),
            *(
                (str(s.uuid), f"{s.procedure_date:%Y-%m-%d} · {s.get_region_display()} · {s.get_decision_display()}")
                for s in screenings
            ),
        ]


class AddSessionForm(forms.Form):
    planned_on = forms.DateField(widget=DateInput(), label="Planned for")


class TimepointForm(forms.Form):
    due_on = forms.DateField(widget=DateInput(), label="Due on")
    version = forms.IntegerField(widget=forms.HiddenInput)


# --- Booking -----------------------------------------------------------------------------------------------------


class BookForm(forms.Form):
    day = forms.DateField(widget=DateInput(), label="Date")
    time = forms.TimeField(widget=TimeInput(), label="Time (clinic time)")
    clinician = forms.ChoiceField(label="Clinician")
    duration_minutes = forms.IntegerField(
        min_value=int(SESSION_MINUTES.low), max_value=int(SESSION_MINUTES.high), initial=45, label="Minutes"
    )
    # Asked only for a time the clocks pass twice (01:30 on the autumn change): which of the two is meant.
    fold = forms.TypedChoiceField(
        choices=[("", "—"), ("0", "The first (before the clocks go back)"), ("1", "The second (after)")],
        coerce=int,
        empty_value=None,
        required=False,
        label="Which one",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, clinicians: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["clinician"]).choices = [("", "Choose…"), *_choices_of(clinicians)]

    def starts_at(self, zone: Any) -> Any:
        """The booked moment, or None with the error on the form: a time the clocks skip is refused, a time they
        pass twice needs `fold` (domain.dates.local_datetime)."""
        data = self.cleaned_data
        try:
            return local_datetime(data["day"], data["time"], zone, data.get("fold"))
        except AmbiguousLocalTime as error:
            self.add_error("fold", str(error))
            self.ambiguous = True
        except NonexistentLocalTime as error:
            self.add_error("time", str(error))
        return None


class AttendanceForm(ReasonForm):
    """The confirmation step of cancelling a session or marking a no-show: a reason from the list."""

    status = forms.ChoiceField(
        choices=[(SessionStatus.CANCELLED, "Cancelled"), (SessionStatus.NO_SHOW, "No-show")], widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("reasons", SESSION_CANCEL_REASONS)
        super().__init__(*args, **kwargs)


# --- The session record ----------------------------------------------------------------------------------------

CHECKLIST_LABELS = {spec.item.value: spec.label for spec in CHECKLIST}
ANSWER_CHOICES = ChecklistAnswer.choices


class ChecklistForm(AmendableForm):
    item = forms.ChoiceField(choices=list(CHECKLIST_LABELS.items()), widget=forms.HiddenInput)
    answer = forms.ChoiceField(choices=ANSWER_CHOICES, widget=forms.RadioSelect)
    note = forms.CharField(required=False, max_length=300)


class RescreenForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "rs-%s")
        super().__init__(*args, **kwargs)

    day_of_flags = day_of_flags_field()
    pregnancy = forms.ChoiceField(choices=PREGNANCY_CHOICES, label="Pregnancy status (ask today)")


class SessionHeaderForm(AmendableForm):
    prefix_id = "hdr"
    weight_kg = DecimalText(what="Weight (kg)", label="Weight used for limits (kg)")
    sedation = forms.ChoiceField(choices=Sedation.choices)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def changes(self) -> dict[str, Any]:
        data = {"sedation": self.cleaned_data["sedation"]}
        if self.cleaned_data.get("weight_kg") is not None:
            data["weight_kg"] = self.cleaned_data["weight_kg"].quantize(Decimal("0.1"))
        return data

    def clean_weight_kg(self) -> Decimal | None:
        value = self.cleaned_data.get("weight_kg")
        if value is not None and (problem := BODY_WEIGHT_KG.problem(value)) is not None:
            raise forms.ValidationError(problem)
        return value


class ObservationsForm(AmendableForm):
    prefix_id = "obs"
    vasovagal = forms.BooleanField(required=False, label="Vasovagal reaction")
    bleeding = forms.BooleanField(required=False, label="Bleeding beyond a drop")
    last_signs = forms.BooleanField(
        required=False, label="Signs of anaesthetic toxicity (numb lips, metallic taste, tinnitus, confusion)"
    )
    observation_note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label="Observations"
    )
    instructions_given = forms.BooleanField(required=False, label="Post-procedure instructions given")
    instructions_note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label="Instructions note"
    )
    note = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label="Note")
    version = forms.IntegerField(widget=forms.HiddenInput)

    FIELDS = (
        "vasovagal", "bleeding", "last_signs", "observation_note", "instructions_given", "instructions_note", "note",
    )  # fmt: skip

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class SolutionForm(MixForm):
    """The mixing calculator's form, plus the label, lots and expiry dates of what was drawn up."""

    label = forms.CharField(max_length=10, initial="A", help_text="As written on the syringe (A, B, …).")
    dextrose_lot = forms.CharField(required=False, max_length=60, label="Lot")
    dextrose_expiry = forms.DateField(required=False, widget=DateInput(), label="Expiry")
    anesthetic_lot = forms.CharField(required=False, max_length=60, label="Lot")
    anesthetic_expiry = forms.DateField(required=False, widget=DateInput(), label="Expiry")
    diluent_lot = forms.CharField(required=False, max_length=60, label="Diluent lot")
    with_epinephrine = forms.BooleanField(required=False, label="The anaesthetic contains epinephrine")
    amendment_reason = forms.CharField(
        label="Reason for the amendment", required=False, max_length=500, help_text=AMENDMENT_HELP
    )

    def __init__(self, *args: Any, signed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signed = signed
        self.expiry_fields: list[str] = []  # each component's expiry field, in the order components() gave them
        for agent in self.FURTHER:
            self.fields[f"{agent.value}_lot"] = forms.CharField(required=False, max_length=60, label="Lot")
            self.fields[f"{agent.value}_expiry"] = forms.DateField(required=False, widget=DateInput(), label="Expiry")
        if signed:
            _amendment_fields(self)
        else:
            del self.fields["amendment_reason"]
        self.link_errors()

    def further_rows(self) -> list[tuple[Any, ...]]:
        return [
            (
                a,
                self[f"{a.value}_target_pct"],
                self[f"{a.value}_stock_pct"],
                self[f"{a.value}_lot"],
                self[f"{a.value}_expiry"],
            )
            for a in self.FURTHER
        ]

    @property
    def reason(self) -> str:
        return _amendment_text(self) if self.signed else ""

    def components(self, mixed: Any) -> list[dict[str, Any]]:
        """The service's components, in the calculator's order, with the lot and expiry typed for each stock."""
        data = self.cleaned_data
        found = []
        self.expiry_fields = []
        for line in mixed.components:
            agent = line.agent.value
            if agent == "dextrose":
                key = "dextrose"
            elif agent == data.get("anesthetic"):
                key = "anesthetic"
            else:
                key = agent
            expiry: date | None = data.get(f"{key}_expiry")
            self.expiry_fields.append(f"{key}_expiry")
            found.append(
                {
                    "agent": agent,
                    "target_pct": str(line.target.percent),
                    "stock_pct": str(line.stock.percent),
                    "lot": (data.get(f"{key}_lot") or "").strip(),
                    "expiry": expiry,
                }
            )
        return found


class SiteForm(AmendableForm):
    """One injection. The map fills map, side, landmark, x and y; the rest is typed."""

    prefix_id = "site"
    map = forms.CharField(widget=forms.HiddenInput, max_length=40)
    side = forms.CharField(widget=forms.HiddenInput, max_length=10)
    landmark = forms.CharField(widget=forms.HiddenInput, required=False, max_length=60)
    x = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20)
    y = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20)
    solution = forms.ChoiceField(label="Solution")
    volume_ml = DecimalText(what="Volume (mL)", label="Volume (mL)")
    depth_mm = DecimalText(what="Depth (mm)", label="Depth (mm)")
    needle_gauge = forms.TypedChoiceField(
        label="Needle (G)",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *((str(g), f"{g} G") for g in COMMON_NEEDLE_GAUGES)],
    )
    guidance = forms.ChoiceField(choices=Guidance.choices, widget=forms.RadioSelect, initial=Guidance.LANDMARK)
    label = forms.CharField(
        required=False,
        max_length=120,
        label="Label",
        help_text="Optional for a landmark; describe a free point in a few words.",
    )

    def __init__(self, *args: Any, solutions: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["solution"]).choices = [(str(s.uuid), str(s)) for s in solutions]
        self.fields["volume_ml"].widget.attrs["data-map-focus"] = ""

    def clean_volume_ml(self) -> Decimal:
        value = self.cleaned_data.get("volume_ml")
        if value is None:
            raise forms.ValidationError("Enter the millilitres injected at this site, e.g. 0.5.")
        if (problem := SITE_VOLUME_ML.problem(value)) is not None:
            raise forms.ValidationError(problem)
        return value

    def clean_depth_mm(self) -> Decimal | None:
        value = self.cleaned_data.get("depth_mm")
        if value is not None and (problem := NEEDLE_DEPTH_MM.problem(value)) is not None:
            raise forms.ValidationError(problem)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("landmark") and (not data.get("x") or not data.get("y")):
            self.add_error(None, "No point chosen: tap a landmark or the drawing, then add the site.")
        return data


class SignForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    early_reason = forms.CharField(
        required=False,
        max_length=500,
        label="Reason for signing before the booked start",
        help_text="Only needed when signing earlier than the clinic allows before the session's start.",
    )


# --- Adverse events --------------------------------------------------------------------------------------------


class AdverseEventForm(forms.Form):
    event_type = forms.ChoiceField(choices=[("", "Choose…"), *AdverseEventType.choices], label="Type")
    onset_on = forms.DateField(widget=DateInput(), label="Onset")
    severity = forms.ChoiceField(choices=AESeverity.choices, widget=forms.RadioSelect)
    serious = forms.BooleanField(
        required=False,
        label="Serious (death, life-threatening, hospitalisation, disability, or needed intervention)",
    )
    causality = forms.ChoiceField(choices=[("", "Choose…"), *Causality.choices], label="Causality (WHO-UMC)")
    outcome = forms.ChoiceField(choices=AEOutcome.choices, initial=AEOutcome.ONGOING)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    session = forms.ChoiceField(required=False, label="After session")
    site = forms.ChoiceField(required=False, label="Injection site")
    solution = forms.ChoiceField(required=False, label="Solution")
    lot = forms.CharField(required=False, max_length=60, help_text="Filled from the solution's lots if left blank.")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    change_reason = forms.CharField(required=False, max_length=500, label="Reason for change")

    FIELDS = ("event_type", "onset_on", "severity", "serious", "causality", "outcome", "description", "lot")

    def __init__(self, *args: Any, sessions: list[Any], editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            for name in ("session", "site", "solution"):
                del self.fields[name]
            return
        del self.fields["change_reason"]
        del self.fields["version"]
        cast(forms.ChoiceField, self.fields["session"]).choices = [
            ("", "None"),
            *(
                (str(s.uuid), f"Session {s.number} on {s.planned_on:%Y-%m-%d} · {s.course.indication}")
                for s in sessions
            ),
        ]
        sites = [site for s in sessions for site in s.site_rows]
        solutions = [sol for s in sessions for sol in s.solution_rows]
        cast(forms.ChoiceField, self.fields["site"]).choices = [
            ("", "None"),
            *((str(site.uuid), f"Session {site.session.number}, site {site.number}: {site.label}") for site in sites),
        ]
        cast(forms.ChoiceField, self.fields["solution"]).choices = [
            ("", "None"),
            *((str(sol.uuid), f"Session {sol.session.number}, {sol}") for sol in solutions),
        ]

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class RecallForm(forms.Form):
    """A pharmacist's recall question: a product and its lot, or a product and an expiry window (domain/stock.py)."""

    product = forms.ChoiceField(choices=[("", "Choose the product"), *StockProduct.choices], label="Product")
    lot = forms.CharField(required=False, max_length=60, label="Lot", help_text="As printed on the recall notice.")
    expires_from = forms.DateField(required=False, widget=DateInput(), label="Expiring from")
    expires_to = forms.DateField(
        required=False, widget=DateInput(), label="Expiring to", help_text="Or every lot expiring in this window."
    )

    def question(self) -> RecallQuestion:
        data = self.cleaned_data
        return RecallQuestion(
            product=data["product"],
            lot=data.get("lot") or "",
            expires_from=data.get("expires_from"),
            expires_to=data.get("expires_to"),
        )
