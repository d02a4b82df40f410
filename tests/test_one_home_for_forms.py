"""Every Django form field takes its choices from prolotrack/domain/vocabulary.py and its limits from
prolotrack/domain/limits.py, as model fields and API inputs do (test_one_home_for_vocabularies.py,
test_one_home_for_limits.py).

The walk imports every `forms` module of the project and reads the declared fields of every form class in it: a
choice field's (code, label) pairs must be one of the domain's vocabularies (or a part of one, in its order), unless
the field is listed below as a workflow choice of the product; a number field's bounds must be a limit of
limits.py, and a field named in limits.FIELD_LIMITS must carry exactly that limit (or, typed as text, be checked
by a clean_<name> method of its form, which the hypothesis tests of test_one_home_for_limits.py exercise).
"""

import importlib
import pkgutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django import forms

import prolotrack
from prolotrack.clinical import calculators
from prolotrack.domain import anaesthetic, limits
from prolotrack.domain.limits import FIELD_LIMITS
from prolotrack.domain.vocabulary import CHECKLIST_CHOICES, VOCABULARIES

# Workflow and product choices, not clinical vocabularies: their values belong to the app that uses them.
WORKFLOW_CHOICES = {
    "treatment.forms.AttendanceForm.status",  # a session's attendance: cancelled or no-show (SessionStatus)
    "treatment.forms.BookForm.fold",  # which of two clock times the autumn change repeats
    "accounts.forms.TokenForm.scopes",  # API token scopes (read / write / export)
    "accounts.forms.TokenForm.days",  # API token lifetimes
    "messaging.forms.OutboxFilterForm.status",  # outbox filters: message states, kinds and channels
    "messaging.forms.OutboxFilterForm.kind",
    "messaging.forms.OutboxFilterForm.channel",
    "research.forms.ExportForm.date_mode",  # export date handling (Safe Harbor years or shifted dates)
    "research.forms.ExportForm.indication",  # built from the clinic's own courses (research/vocabulary.py)
    "consent.forms.SignForm.witness_role",  # who witnessed: a role in the clinic
    "clinical.forms.ProtocolForm.session_unit",  # a protocol template's schedule unit (days or weeks)
    "clinical.forms.LimitForm.with_epinephrine",  # a yes/no question of the calculator
    "billing.forms.FeeItemForm.kind",  # a fee item's kind (billing.models.FeeKind): the practice's, not clinical
    "billing.forms.PaymentForm.method",  # payment methods (billing.models.PaymentMethod)
    "billing.forms.AddLineForm.item",  # the clinic's own fee schedule
    "billing.forms.CoverageForm.payer",  # who pays (billing.models.PayerType): the practice's, not clinical
    "billing.forms.AbnSignForm.option",  # the three options of form CMS-R-131 (billing.models.AbnOption)
    "booking.forms.TypeForm.kind",  # an appointment type's kind (booking.models.AppointmentKind)
    "booking.forms.PeriodForm.kind",  # working hours, a break (booking.models.PeriodKind)
    "booking.forms.PeriodForm.weekday",  # the days of the week
    "patients.forms.PatientForm.preferred_language",  # the languages patients are served in (settings.LANGUAGES)
    "consent.forms.SignForm.language",  # the language of the consent form read (domain.consent.LANGUAGES)
    "consent.forms.TemplateForm.language",
}
# Clinical choice lists the walk found outside domain/vocabulary.py that are not moved yet (found by this walk on
# 2026-12-07; each defined once, in the domain or beside its screening rules, but not as a Vocabulary). Listed so
# that nothing else can join them unnoticed; take one off when it moves.
NOT_YET_MOVED = {
    "clinical.forms.MixForm.diluent",  # domain/mixing.Diluent
    "treatment.forms.SolutionForm.diluent",
    "clinical.forms.ProtocolForm.landmarks",  # domain/anatomy landmarks of a region
    "clinical.forms.ScreeningForm.day_of_flags",  # clinical/queries.DAY_OF_FLAG_LABELS (domain.screening.RiskFlag)
    "treatment.forms.RescreenForm.day_of_flags",
    "imaging.forms.StudyForm.findings",  # imaging findings
}
# Bounds that are not clinical values: a research export's year window.
NON_CLINICAL_BOUNDS = {"research.forms.ExportForm.year_from", "research.forms.ExportForm.year_to"}
# Forms whose typed numbers go to a calculator that checks them against the domain's limits (clinical/calculators.py,
# domain/anaesthetic.py): the limit's constant must be named there.
CHECKED_BY_CALCULATOR = ("clinical.forms.MixForm", "clinical.forms.LimitForm", "treatment.forms.SolutionForm")

DOMAIN_CHOICES = [list(v.choices) for v in VOCABULARIES.values()] + [list(CHECKLIST_CHOICES)]
DOMAIN_LIMITS = [value for value in vars(limits).values() if isinstance(value, limits.Limit)]


def form_classes() -> list[tuple[str, type[forms.BaseForm]]]:
    found: dict[str, type[forms.BaseForm]] = {}
    for module_info in pkgutil.walk_packages(prolotrack.__path__, "prolotrack."):
        if module_info.name.rsplit(".", 1)[-1] != "forms" or ".tests" in module_info.name:
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, forms.BaseForm) and value.__module__ == module.__name__:
                found[f"{module.__name__.removeprefix('prolotrack.')}.{value.__name__}"] = value
    return sorted(found.items())


def form_fields() -> list[tuple[str, str, Any, type[forms.BaseForm]]]:
    return [
        (f"{name}.{field_name}", field_name, field, cls)
        for name, cls in form_classes()
        for field_name, field in cls.base_fields.items()
    ]


def test_the_listed_fields_exist():
    names = {name for name, _, _, _ in form_fields()}
    assert names >= WORKFLOW_CHOICES | NOT_YET_MOVED | NON_CLINICAL_BOUNDS


def test_the_walk_finds_the_forms_it_is_about():
    names = {name for name, _, _, _ in form_fields()}
    assert {"treatment.forms.CourseForm.region", "treatment.forms.AdverseEventForm.severity"} <= names
    assert any(name.startswith("patients.forms.") for name in names)
    assert len(form_classes()) >= 20


def _pairs(field: Any) -> list[tuple[str, str]]:
    pairs = []
    for code, label in field.choices:
        if isinstance(label, list | tuple):  # an option group
            pairs += [(str(c), str(lab)) for c, lab in label]
        elif str(code) != "":  # the empty "Choose…" entry is the form's, not the vocabulary's
            pairs.append((str(code), str(label)))
    return pairs


def _is_part_of_a_vocabulary(pairs: list[tuple[str, str]]) -> bool:
    return any(pairs and all(p in vocabulary for p in pairs) for vocabulary in DOMAIN_CHOICES)


CHOICE_FIELDS = [f for f in form_fields() if isinstance(f[2], forms.ChoiceField) and _pairs(f[2])]


@pytest.mark.parametrize(
    ("name", "field_name", "field", "cls"), CHOICE_FIELDS, ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_form_choice_field_takes_its_vocabulary_from_the_domain(name, field_name, field, cls):
    pairs = _pairs(field)
    if field_name in FIELD_LIMITS:
        return  # a choice of limited numbers (needle gauges): the limits test below checks its values
    if name in NOT_YET_MOVED:
        return
    if name in WORKFLOW_CHOICES:
        assert not _is_part_of_a_vocabulary(pairs), f"{name} now holds a domain vocabulary: take it off the list"
        return
    assert _is_part_of_a_vocabulary(pairs), f"{name} defines its own choices: use prolotrack/domain/vocabulary.py"


def _bounds(field: Any) -> tuple[Decimal | None, Decimal | None]:
    low, high = getattr(field, "min_value", None), getattr(field, "max_value", None)
    return (None if low is None else Decimal(str(low)), None if high is None else Decimal(str(high)))


NUMBER_FIELDS = [
    f for f in form_fields() if isinstance(f[2], forms.IntegerField | forms.DecimalField | forms.FloatField)
]
LIMITED_NAMES = [f for f in form_fields() if f[1] in FIELD_LIMITS]


@pytest.mark.parametrize(
    ("name", "field_name", "field", "cls"), NUMBER_FIELDS, ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_form_number_field_takes_its_bounds_from_the_domain(name, field_name, field, cls):
    low, high = _bounds(field)
    if (low is None and high is None) or name in NON_CLINICAL_BOUNDS:
        return
    assert any((low, high) == (limit.low, limit.high) for limit in DOMAIN_LIMITS), (
        f"{name} has bounds {low}-{high} defined outside prolotrack/domain/limits.py"
    )


@pytest.mark.parametrize(
    ("name", "field_name", "field", "cls"), LIMITED_NAMES, ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_form_field_named_as_a_limited_value_carries_that_limit(name, field_name, field, cls):
    limit = FIELD_LIMITS[field_name]
    if issubclass(cls, forms.ModelForm) and field_name in {f.name for f in cls._meta.model._meta.fields}:
        # A model form's field is checked by the model's own validator on save (test_one_home_for_limits.py).
        model_field = cls._meta.model._meta.get_field(field_name)
        assert any(getattr(v, "key", None) == limit.key for v in model_field.validators), name
        assert _bounds(field) in ((None, None), (limit.low, limit.high)), name
    elif isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
        assert _bounds(field) == (limit.low, limit.high), f"{name} must carry limits.{limit.key.upper()}"
    elif isinstance(field, forms.ChoiceField):
        codes = [Decimal(code) for code, _ in _pairs(field)]
        assert codes and all(limit.contains(c) for c in codes), f"{name} offers values outside {limit.key}"
    elif name.rsplit(".", 1)[0] in CHECKED_BY_CALCULATOR:
        checked_in = (Path(calculators.__file__).read_text(), Path(anaesthetic.__file__).read_text())
        assert any(limit.key.upper() in text for text in checked_in), f"{name}: no calculator checks {limit.key}"
    else:
        assert callable(getattr(cls, f"clean_{field_name}", None)), f"{name} is typed as text: check {limit.key}"


def test_a_form_field_with_its_own_choices_or_bounds_is_caught():
    field = forms.ChoiceField(choices=[("left", "Left"), ("right", "Right side")])
    with pytest.raises(AssertionError, match="defines its own choices"):
        test_every_form_choice_field_takes_its_vocabulary_from_the_domain("x.Form.side", "side", field, forms.Form)
    number = forms.DecimalField(min_value=Decimal(2), max_value=Decimal(350))
    with pytest.raises(AssertionError, match="defined outside"):
        test_every_form_number_field_takes_its_bounds_from_the_domain("x.Form.weight", "weight", number, forms.Form)
    with pytest.raises(AssertionError, match="must carry"):
        test_every_form_field_named_as_a_limited_value_carries_that_limit(
            "x.F.weight_kg", "weight_kg", number, forms.Form
        )
