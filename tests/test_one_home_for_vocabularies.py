"""Every clinical vocabulary lives in prolotrack/domain/vocabulary.py; model fields and API inputs take it from there.

The walk covers every model field with choices (Django's app registry): its (code, label) pairs must be exactly one of
the domain's vocabularies, or the field must be listed below as a workflow state of the product (not a clinical
vocabulary). A new field with its own choices tuple fails until its vocabulary is defined in the domain.
"""

from typing import Any

import pytest
from django.apps import apps

from prolotrack.domain import screening
from prolotrack.domain.anatomy import Region
from prolotrack.domain.vocabulary import (
    CHECKLIST_CHOICES,
    VOCABULARIES,
    AllergySeverity,
    BodyRegion,
    Laterality,
    MapRegion,
    MedicationClass,
    PregnancyStatus,
    ScreeningAllergySeverity,
    ScreeningDecision,
    ScreeningSide,
    SedationLevel,
    Vocabulary,
    display,
)

# Product workflow states and technical kinds: not clinical vocabularies, so they stay with their app.
WORKFLOW_STATES = {
    "clinics.Membership.role",  # the permission table, clinics/roles.py
    "imaging.ImagingFile.kind",  # file formats
    "treatment.Course.status",
    "booking.CourseLink.delivery",  # how staff gave a course's link (shown, or the outbox)
    "treatment.CourseTimepoint.kind",
    "treatment.TreatmentSession.status",
    "outcomes.QuestionnaireLink.delivery",
    "outcomes.QuestionnaireResponse.status",
    "outcomes.QuestionnaireResponse.source",
    "messaging.OutboxMessage.channel",
    "messaging.OutboxMessage.kind",
    "messaging.OutboxMessage.status",
    "messaging.MessageOptOut.channel",
    "messaging.MessageOptOut.kind",
    "messaging.PendingMessage.channel",
    "messaging.PendingMessage.kind",
    "messaging.PendingMessage.status",
    "documents.Document.kind",
    "documents.Document.status",
    "consent.Consent.scope",
    "consent.Consent.status",
    "fhir.ExportJob.level",
    "fhir.ExportJob.status",
    "research.ExportJob.date_mode",
    "research.ExportJob.status",
    "smart.SmartApp.kind",  # an OAuth client's kind: a person signs in, or a backend service
    # Billing's kinds and states: the practice's money, not clinical vocabularies (docs/BILLING.md).
    "billing.FeeItem.kind",
    "billing.Invoice.status",
    "billing.Payment.method",
    "billing.Refund.method",
    "billing.Coverage.payer",  # who pays (the ABN's input), not a clinical vocabulary
    "billing.AdvanceNotice.option",  # the three options of form CMS-R-131
    # Booking's kinds and states: the clinic's diary, not clinical vocabularies (docs/BOOKING.md).
    "booking.AppointmentType.kind",
    "booking.WeeklyPeriod.kind",
    "booking.Appointment.status",
    "booking.Appointment.source",  # who booked: staff, online, a link
    "booking.PendingPatient.status",  # an online booker's way to the front desk
    # The languages the product's patient pages are served in (settings.LANGUAGES), not a clinical vocabulary.
    "patients.Patient.preferred_language",
    "booking.PendingPatient.preferred_language",
    "documents.HandoutVersion.language",  # which language's version of a handout section (docs/LANGUAGES.md)
    "consent.ConsentTemplate.language",
    "consent.Consent.language",  # the language the consent form was read and signed in
    "booking.WaitlistEntry.status",  # the waitlist's states and an offer's outcome (docs/BOOKING.md, "Waitlist")
    "booking.WaitlistOffer.outcome",
    "booking.WaitlistEntry.source",  # who put the person on the waitlist: staff, the public page, a link
    # The pre-visit intake's states and how its link goes (docs/INTAKE.md).
    "intake.Intake.status",
    "intake.Intake.delivery",
}

DOMAIN_CHOICES = [list(v.choices) for v in VOCABULARIES.values()] + [list(CHECKLIST_CHOICES)]


def choice_fields() -> list[tuple[str, Any]]:
    found = []
    for model in apps.get_models():
        if not model.__module__.startswith("prolotrack."):
            continue
        for field in model._meta.get_fields():
            if getattr(field, "choices", None):
                found.append((f"{model._meta.app_label}.{model.__name__}.{field.name}", field))
    return found


def test_the_walk_finds_the_clinical_fields():
    names = {name for name, _ in choice_fields()}
    assert {"patients.Condition.body_region", "treatment.AdverseEvent.severity", "patients.Allergy.severity"} <= names


@pytest.mark.parametrize(("name", "field"), choice_fields(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_model_choice_field_takes_its_vocabulary_from_the_domain(name, field):
    pairs = [(str(code), str(label)) for code, label in field.flatchoices]
    if name in WORKFLOW_STATES:
        assert pairs not in DOMAIN_CHOICES, f"{name} now holds a domain vocabulary: take it off the list"
        return
    assert pairs in DOMAIN_CHOICES, (
        f"{name} defines its own choices: use a vocabulary of prolotrack/domain/vocabulary.py"
    )


def test_a_field_with_its_own_choices_is_caught():
    from django.db import models

    field = models.CharField(max_length=10, choices=[("left", "Left"), ("right", "Right")])
    with pytest.raises(AssertionError, match="defines its own choices"):
        test_every_model_choice_field_takes_its_vocabulary_from_the_domain("patients.Example.side", field)


def test_the_listed_workflow_fields_exist():
    names = {name for name, _ in choice_fields()}
    assert names >= WORKFLOW_STATES


# --- The domain's own enums and the vocabularies agree --------------------------------------------------------------


@pytest.mark.parametrize(
    ("vocabulary", "enum"),
    [
        (MapRegion, Region),
        (ScreeningSide, screening.Side),
        (SedationLevel, screening.Sedation),
        (PregnancyStatus, screening.Pregnancy),
        (ScreeningDecision, screening.Decision),
        (MedicationClass, screening.MedicationClass),
        (ScreeningAllergySeverity, screening.AllergySeverity),
    ],
)
def test_each_screening_enum_is_its_vocabulary(vocabulary, enum):
    if enum is Region:  # the injection map's regions: MapRegion carries their codes and names
        assert [m.value for m in vocabulary] == [m.value for m in enum]
    else:
        assert enum is vocabulary, f"domain.screening.{enum.__name__} must be vocabulary.{vocabulary.__name__}"


def test_the_problem_list_choices_are_the_domain_vocabulary():
    from prolotrack.domain.concepts import PROBLEM_LIST
    from prolotrack.domain.vocabulary import ProblemListChoice
    from prolotrack.patients.models import Condition, ScreeningFlag

    assert ScreeningFlag is ProblemListChoice
    assert list(Condition._meta.get_field("screening_flag").flatchoices) == ProblemListChoice.choices
    assert set(PROBLEM_LIST) == set(ProblemListChoice.values)


def test_the_chart_vocabularies_extend_the_screening_ones():
    assert {r.value for r in Region} | {"other"} == {r.value for r in BodyRegion}
    assert {r.label for r in Region} <= {r.label for r in BodyRegion}
    assert {s.value for s in screening.Side} | {"na"} == {s.value for s in Laterality}
    # A chart severity is always one screening knows.
    assert {s.value for s in AllergySeverity} <= {s.value for s in screening.AllergySeverity}


@pytest.mark.parametrize("name", sorted(VOCABULARIES))
def test_every_code_has_a_display_name_that_is_not_the_code(name):
    vocabulary = VOCABULARIES[name]
    assert issubclass(vocabulary, Vocabulary)
    codes = [m.value for m in vocabulary]
    assert len(codes) == len(set(codes))
    for member in vocabulary:
        assert display(name, member.value) == member.label
        assert member.label and "_" not in member.label and member.label != member.value


def test_an_unknown_code_is_shown_as_given():
    assert display("body_region", "elsewhere") == "elsewhere"
    assert display("body_region", None) == ""
