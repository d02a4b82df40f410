"""The intake form's steps (patient-facing: every label and message is translatable) and the staff's send form.

Each step's form checks its own answers and gives them back as the JSON the intake stores (`answers()`); the choices
are the domain's vocabularies and the numbers the domain's limits (tests/test_one_home_for_forms.py).
"""

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from prolotrack.core.patient_words import REGION_WORDS, SIDE_WORDS
from prolotrack.domain import intake as domain
from prolotrack.domain.concepts import is_no_known_allergy
from prolotrack.domain.limits import PAIN_NRS
from prolotrack.domain.vocabulary import (
    AllergyAnswer,
    AllergySeverity,
    BodyRegion,
    Laterality,
    NamedMedicine,
    PainDuration,
    ReportedAnswer,
    TreatmentTried,
    WeightUnit,
)

OTHER_MEDICINE_ROWS = 4
ALLERGY_ROWS = 4


def _blank(choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", "—"), *choices]


# The choices in the patient's language: the domain's codes and order, with the domain's (English) labels marked for
# translation here, since the domain has no Django. Every code must have its words (a KeyError at import otherwise),
# and tests/test_one_home_for_forms.py holds the English to the domain's labels.
PATIENT_WORDS: dict[type, dict[str, Any]] = {
    BodyRegion: REGION_WORDS,
    Laterality: SIDE_WORDS,
    PainDuration: {
        "acute": _("Less than 6 weeks"),
        "subacute": _("6 weeks to 3 months"),
        "chronic": _("More than 3 months"),
    },
    TreatmentTried: {
        "physiotherapy": _("Physiotherapy or exercises"),
        "pain_medicines": _("Pain medicines"),
        "steroid_injection": _("Steroid (cortisone) injection"),
        "prp": _("Platelet-rich plasma (PRP) injection"),
        "prolotherapy": _("Prolotherapy before"),
        "surgery": _("Surgery"),
        "brace": _("Brace, support or insoles"),
        "none": _("Nothing yet"),
    },
    ReportedAnswer: {"yes": _("Yes"), "no": _("No"), "unsure": _("Not sure")},
    AllergyAnswer: {"none": _("I have no known allergies"), "some": _("I have allergies")},
    AllergySeverity: {"mild": _("Mild"), "moderate": _("Moderate"), "severe": _("Severe")},
    WeightUnit: {"kg": _("Kilograms (kg)"), "lb": _("Pounds (lb)")},
    NamedMedicine: {
        "ibuprofen": _("Ibuprofen (Advil, Motrin, Nurofen)"),
        "naproxen": _("Naproxen (Aleve)"),
        "diclofenac": _("Diclofenac (Voltaren), tablets or gel"),
        "celecoxib": _("Celecoxib (Celebrex)"),
        "aspirin": _("Aspirin"),
        "warfarin": _("Warfarin (Coumadin)"),
        "apixaban": _("Apixaban (Eliquis)"),
        "rivaroxaban": _("Rivaroxaban (Xarelto)"),
        "dabigatran": _("Dabigatran (Pradaxa)"),
        "edoxaban": _("Edoxaban (Savaysa, Lixiana)"),
        "heparin": _("Heparin or enoxaparin injections (Lovenox)"),
        "clopidogrel": _("Clopidogrel (Plavix)"),
        "prasugrel": _("Prasugrel (Effient)"),
        "ticagrelor": _("Ticagrelor (Brilinta)"),
    },
}


def patient_choices(vocabulary: Any) -> list[tuple[str, Any]]:
    """A vocabulary's (code, label) pairs with the labels in the patient's language."""
    words = PATIENT_WORDS[vocabulary]
    return [(code, words[code]) for code in vocabulary.values]


class StepForm(forms.Form):
    def answers(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def initial_from(cls, stored: dict[str, Any]) -> dict[str, Any]:
        return dict(stored)


class ComplaintForm(StepForm):
    description = forms.CharField(
        label=_("What brings you in? Describe the pain or problem in your own words."),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Tell us in a few words what brings you in.")},
    )
    region = forms.ChoiceField(
        label=_("Where is it?"),
        choices=patient_choices(BodyRegion),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose where it hurts (on the picture or in the list).")},
    )
    side = forms.ChoiceField(
        label=_("Which side?"), choices=patient_choices(Laterality), widget=forms.RadioSelect, required=False
    )
    duration = forms.ChoiceField(
        label=_("How long have you had it?"),
        choices=patient_choices(PainDuration),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how long you have had it.")},
    )
    pain_now = forms.IntegerField(
        label=_("How bad is the pain right now? 0 is no pain, 10 the worst pain imaginable."),
        min_value=int(PAIN_NRS.low),
        max_value=int(PAIN_NRS.high),
        error_messages={
            "required": _("Choose a number from 0 (no pain) to 10 (worst pain imaginable)."),
            "invalid": _("Choose a number from 0 (no pain) to 10 (worst pain imaginable)."),
            "min_value": _("Choose a number from 0 (no pain) to 10 (worst pain imaginable)."),
            "max_value": _("Choose a number from 0 (no pain) to 10 (worst pain imaginable)."),
        },
    )
    treatments = forms.MultipleChoiceField(
        label=_("What have you tried for it?"),
        choices=patient_choices(TreatmentTried),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    treatments_other = forms.CharField(label=_("Anything else you tried"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        tried = data.get("treatments") or []
        if TreatmentTried.NONE.value in tried and len(tried) > 1:
            self.add_error("treatments", gettext('"Nothing yet" cannot go with a treatment you tried: untick one.'))
        return data

    def answers(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "description": d["description"].strip(),
            "region": d["region"],
            "side": d.get("side") or "",
            "duration": d["duration"],
            "pain_now": d["pain_now"],
            "treatments": list(d.get("treatments") or []),
            "treatments_other": (d.get("treatments_other") or "").strip(),
        }


class MedicinesForm(StepForm):
    none = forms.BooleanField(label=_("I take no medicines at all"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for medicine in NamedMedicine:
            code = medicine.value
            self.fields[f"take_{code}"] = forms.BooleanField(label=PATIENT_WORDS[NamedMedicine][code], required=False)
            self.fields[f"dose_{code}"] = forms.CharField(label=_("Dose and how often"), max_length=120, required=False)
            self.fields[f"last_{code}"] = forms.DateField(
                label=_("Last taken (if you stopped)"),
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages={"invalid": _("Give the date as day, month and year.")},
            )
        for n in range(1, OTHER_MEDICINE_ROWS + 1):
            self.fields[f"other_name_{n}"] = forms.CharField(label=_("Medicine"), max_length=120, required=False)
            self.fields[f"other_dose_{n}"] = forms.CharField(
                label=_("Dose and how often"), max_length=120, required=False
            )

    def named_rows(self) -> list[dict[str, Any]]:
        return [
            {"take": self[f"take_{m.value}"], "dose": self[f"dose_{m.value}"], "last": self[f"last_{m.value}"]}
            for m in NamedMedicine
        ]

    def other_rows(self) -> list[dict[str, Any]]:
        return [
            {"name": self[f"other_name_{n}"], "dose": self[f"other_dose_{n}"]}
            for n in range(1, OTHER_MEDICINE_ROWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        taken = [m.value for m in NamedMedicine if data.get(f"take_{m.value}")]
        others = [n for n in range(1, OTHER_MEDICINE_ROWS + 1) if (data.get(f"other_name_{n}") or "").strip()]
        for m in NamedMedicine:
            filled = (data.get(f"dose_{m.value}") or "").strip() or data.get(f"last_{m.value}")
            if filled and not data.get(f"take_{m.value}"):
                self.add_error(f"take_{m.value}", gettext("Tick this medicine if you take it, or clear its dose."))
        for n in range(1, OTHER_MEDICINE_ROWS + 1):
            if (data.get(f"other_dose_{n}") or "").strip() and n not in others:
                self.add_error(f"other_name_{n}", gettext("Give the medicine's name for this dose."))
        if data.get("none") and (taken or others):
            self.add_error("none", gettext('You listed a medicine: untick "I take no medicines", or clear it.'))
        if not data.get("none") and not taken and not others:
            self.add_error("none", gettext("Tick the medicines you take, list others, or tick that you take none."))
        return data

    def answers(self) -> dict[str, Any]:
        d = self.cleaned_data
        named = {}
        for m in NamedMedicine:
            if d.get(f"take_{m.value}"):
                last = d.get(f"last_{m.value}")
                named[m.value] = {
                    "dose": (d.get(f"dose_{m.value}") or "").strip(),
                    "last_dose": last.isoformat() if last else "",
                }
        other = [
            {"name": d[f"other_name_{n}"].strip(), "dose": (d.get(f"other_dose_{n}") or "").strip()}
            for n in range(1, OTHER_MEDICINE_ROWS + 1)
            if (d.get(f"other_name_{n}") or "").strip()
        ]
        return {"none": bool(d.get("none")), "named": named, "other": other}

    @classmethod
    def initial_from(cls, stored: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {"none": stored.get("none", False)}
        for code, entry in (stored.get("named") or {}).items():
            initial[f"take_{code}"] = True
            initial[f"dose_{code}"] = entry.get("dose", "")
            initial[f"last_{code}"] = entry.get("last_dose", "")
        for n, entry in enumerate(stored.get("other") or [], start=1):
            initial[f"other_name_{n}"] = entry.get("name", "")
            initial[f"other_dose_{n}"] = entry.get("dose", "")
        return initial


class AllergiesForm(StepForm):
    answer = forms.ChoiceField(
        label=_("Do you have any allergies (to medicines, foods, latex or anything else)?"),
        choices=patient_choices(AllergyAnswer),
        widget=forms.RadioSelect,
        error_messages={"required": _('Choose "I have no known allergies" or "I have allergies".')},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, ALLERGY_ROWS + 1):
            self.fields[f"substance_{n}"] = forms.CharField(label=_("Allergic to"), max_length=120, required=False)
            self.fields[f"reaction_{n}"] = forms.CharField(label=_("What happens"), max_length=200, required=False)
            self.fields[f"severity_{n}"] = forms.ChoiceField(
                label=_("How bad"), choices=_blank(patient_choices(AllergySeverity)), required=False
            )

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"substance": self[f"substance_{n}"], "reaction": self[f"reaction_{n}"], "severity": self[f"severity_{n}"]}
            for n in range(1, ALLERGY_ROWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        listed = [n for n in range(1, ALLERGY_ROWS + 1) if (data.get(f"substance_{n}") or "").strip()]
        for n in range(1, ALLERGY_ROWS + 1):
            substance = (data.get(f"substance_{n}") or "").strip()
            if not substance:
                if (data.get(f"reaction_{n}") or "").strip() or data.get(f"severity_{n}"):
                    self.add_error(f"substance_{n}", gettext("Say what you are allergic to."))
                continue
            if is_no_known_allergy(substance):
                self.add_error(
                    f"substance_{n}",
                    gettext('This says you have no allergies: choose "I have no known allergies" above instead.'),
                )
            elif not data.get(f"severity_{n}"):
                self.add_error(f"severity_{n}", gettext("Choose how bad the reaction was (mild, moderate or severe)."))
        answer = data.get("answer")
        if answer == AllergyAnswer.NONE and listed:
            self.add_error(
                "answer", gettext('You listed an allergy: choose "I have allergies", or clear the allergy you listed.')
            )
        if answer == AllergyAnswer.SOME and not listed:
            self.add_error("substance_1", gettext("List at least one allergy."))
        return data

    def answers(self) -> dict[str, Any]:
        d = self.cleaned_data
        items = [
            {
                "substance": d[f"substance_{n}"].strip(),
                "reaction": (d.get(f"reaction_{n}") or "").strip(),
                "severity": d.get(f"severity_{n}") or "",
            }
            for n in range(1, ALLERGY_ROWS + 1)
            if (d.get(f"substance_{n}") or "").strip()
        ]
        return {"answer": d["answer"], "items": items if d["answer"] == AllergyAnswer.SOME else []}

    @classmethod
    def initial_from(cls, stored: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {"answer": stored.get("answer", "")}
        for n, entry in enumerate(stored.get("items") or [], start=1):
            for key in ("substance", "reaction", "severity"):
                initial[f"{key}_{n}"] = entry.get(key, "")
        return initial


# The questions in the patient's words (the staff summary's words are domain.intake.CONDITION_QUESTIONS).
CONDITION_LABELS = {
    "pregnancy": _("Are you pregnant, or could you be?"),
    "diabetes": _("Do you have diabetes?"),
    "bleeding_disorder": _("Do you have a bleeding or clotting disorder (for example haemophilia)?"),
    "prosthetic_joint": _("Do you have a joint replacement (an artificial hip, knee, shoulder...)?"),
    "skin_infection": _("Is there a skin infection, an open wound or redness where it hurts?"),
    "systemic_infection": _("Do you have a fever now, or an infection being treated (for example with antibiotics)?"),
}


class ConditionsForm(StepForm):
    prosthetic_joint_detail = forms.CharField(label=_("Which joint?"), max_length=120, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in domain.CONDITION_QUESTIONS:
            self.fields[question.key] = forms.ChoiceField(
                label=CONDITION_LABELS[question.key],
                choices=patient_choices(ReportedAnswer),
                widget=forms.RadioSelect,
                error_messages={"required": _("Choose yes, no or not sure.")},
            )

    def questions(self) -> list[Any]:
        return [self[q.key] for q in domain.CONDITION_QUESTIONS]

    def answers(self) -> dict[str, Any]:
        d = self.cleaned_data
        out: dict[str, Any] = {q.key: d[q.key] for q in domain.CONDITION_QUESTIONS}
        if d.get("prosthetic_joint_detail") and d.get("prosthetic_joint") != ReportedAnswer.NO:
            out["prosthetic_joint_detail"] = d["prosthetic_joint_detail"].strip()
        return out


class WeightForm(StepForm):
    weight_value = forms.CharField(label=_("Your weight"), max_length=10, required=False)
    unit = forms.ChoiceField(label=_("Unit"), choices=patient_choices(WeightUnit), initial=WeightUnit.KG.value)
    unknown = forms.BooleanField(label=_("I do not know my weight"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        value = (data.get("weight_value") or "").strip()
        if value and data.get("unknown"):
            self.add_error("unknown", gettext('You gave a weight: untick "I do not know", or clear the weight.'))
        elif not value and not data.get("unknown"):
            self.add_error("weight_value", gettext("Give your weight, or tick that you do not know it."))
        elif value and data.get("unit"):
            try:
                data["weight_kg_value"] = domain.weight_kg(value, data["unit"])
            except domain.IntakeError as error:
                self.add_error("weight_value", gettext(str(error)))
        return data

    def answers(self) -> dict[str, Any]:
        d = self.cleaned_data
        value = (d.get("weight_value") or "").strip().replace(",", ".")
        if not value:
            return {"unknown": True}
        return {"value": value, "unit": d["unit"]}

    @classmethod
    def initial_from(cls, stored: dict[str, Any]) -> dict[str, Any]:
        return {
            "weight_value": stored.get("value", ""),
            "unit": stored.get("unit", "kg"),
            "unknown": stored.get("unknown"),
        }


STEP_FORMS: dict[str, type[StepForm]] = {
    "complaint": ComplaintForm,
    "medicines": MedicinesForm,
    "allergies": AllergiesForm,
    "conditions": ConditionsForm,
    "weight": WeightForm,
}
