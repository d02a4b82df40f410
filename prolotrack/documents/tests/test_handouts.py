"""Patient handouts: the product's texts, the NSAID stop date, region sections, the clinic's versions and reverts."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from prolotrack.audit.models import AuditEvent
from prolotrack.audit.services import AccessDenied, StaleEditError
from prolotrack.clinics.models import Clinic
from prolotrack.clinics.testing import actor_of
from prolotrack.documents import content, handouts, services
from prolotrack.documents.models import HandoutVersion
from prolotrack.documents.tests.conftest import pdf_text
from prolotrack.domain import claims
from prolotrack.treatment import services as treatment_services

# --- The texts --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", handouts.ALL_SECTIONS, ids=lambda s: s.code)
def test_every_product_text_is_valid_sourced_and_makes_no_unsupported_claim(spec):
    assert handouts.check_text(spec.default) == spec.default.strip()
    # Patients read the sources: published ones or a plain statement, never an internal file.
    assert spec.sources and all(".md" not in source and "DOMAIN" not in source for source in spec.sources)
    assert claims.find_overclaims(spec.default) == []


@pytest.mark.parametrize(
    ("session_day", "stop_days", "expected"),
    [
        (date(2026, 12, 10), 3, date(2026, 12, 7)),  # the product default (DOMAIN.md §6)
        (date(2026, 12, 10), 14, date(2026, 11, 26)),  # the long end of clinic practice
        (date(2027, 1, 2), 3, date(2026, 12, 30)),  # across a year
        (date(2028, 3, 1), 1, date(2028, 2, 29)),  # a leap day
        (date(2026, 12, 10), 0, None),  # a clinic that does not stop NSAIDs
    ],
)
def test_the_nsaid_stop_date_is_the_session_day_minus_the_clinic_setting(session_day, stop_days, expected):
    assert handouts.nsaid_stop_date(session_day, stop_days) == expected


@pytest.mark.parametrize(
    ("handout", "region", "sedation", "codes"),
    [
        (handouts.BEFORE, "knee", False, ["before.general"]),
        (handouts.BEFORE, "knee", True, ["before.general", "before.sedation"]),
        (handouts.AFTER, "knee", False, ["after.general"]),
        (handouts.AFTER, "neck_thoracic", False, ["after.general", "after.neck_thoracic"]),
        (handouts.AFTER, "lumbopelvic", False, ["after.general", "after.lumbopelvic"]),
        (handouts.EVIDENCE, "knee", False, ["evidence.general", "evidence.knee"]),
        (handouts.EVIDENCE, "lumbopelvic", False, ["evidence.general", "evidence.lumbopelvic"]),
        (handouts.EVIDENCE, "hip", False, ["evidence.general", "evidence.other"]),
        (handouts.EVIDENCE, None, False, ["evidence.general", "evidence.other"]),
    ],
)
def test_each_handout_takes_the_general_sections_and_those_of_the_region(handout, region, sedation, codes):
    assert [s.code for s in handouts.sections_for(handout, region, sedation=sedation)] == codes


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "The text is empty"),
        ("   \n ", "The text is empty"),
        ("Stop on {stop_date}.", "Unknown placeholder {stop_date}: use one of"),
        ("Stop on {nsaid_stop_date.", "unmatched"),
        ("Results are permanent.", "'permanent'"),
        ("An all-natural treatment.", "'all-natural'"),
        ("It will cure your knee.", "'cure'"),
        ("Eat a protein-rich meal.", "'protein-rich'"),
        ("Prolotherapy is safe and effective.", "'safe and effective'"),
        ("The solution is alcohol or phenol.", "'alcohol or phenol'"),
        ("Used for CENTURIES, all  natural.", "'all  natural', 'Used for CENTURIES'"),
        ("x" * 8001, "keep it under 8000"),
    ],
)
def test_a_clinic_text_is_refused_with_what_to_fix(body, message):
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("(", r"\(")):
        handouts.check_text(body)


def test_words_that_merely_contain_a_banned_one_are_fine():
    assert handouts.check_text("Keep the dressing secure; an accurate record.")


def test_text_becomes_escaped_html_with_headings_bullets_and_paragraphs():
    html = handouts.to_html("## Title <b>\n- one & two\n- three\n\nA paragraph\nwith two lines.")
    assert html == (
        "<h3>Title &lt;b&gt;</h3>\n<ul>\n<li>one &amp; two</li>\n<li>three</li>\n</ul>\n<p>A paragraph with two lines.</p>"
    )


# --- The clinic's versions --------------------------------------------------------------------------------------


def test_each_edit_is_a_new_version_with_who_and_when_and_a_revert_appends_too(clinician, admin_user):
    clinic = Clinic.objects.get(name="Alpha Clinic")
    assert content.clinic_texts(clinic)["before.general"].number == 0
    first = services.save_handout(
        actor_of(admin_user), "before.general", "- Stop NSAIDs from {nsaid_stop_date}.", expected_number=0,
        reason="Shorter",
    )  # fmt: skip
    second = services.save_handout(
        actor_of(clinician), "before.general", "- Stop NSAIDs from {nsaid_stop_date}, please.", expected_number=1
    )
    assert (first.number, first.created_by, second.number, second.created_by) == (1, admin_user, 2, clinician)
    current = content.clinic_texts(clinic)["before.general"]
    assert (current.number, current.body) == (2, "- Stop NSAIDs from {nsaid_stop_date}, please.")

    back_to_one = services.revert_handout(actor_of(clinician), "before.general", 1, expected_number=2)
    assert (back_to_one.number, back_to_one.reverted_from, back_to_one.body) == (3, 1, first.body)
    back_to_product = services.revert_handout(actor_of(clinician), "before.general", 0, expected_number=3)
    assert back_to_product.number == 4
    assert back_to_product.body == handouts.section("before.general").default
    assert list(HandoutVersion.objects.filter(section="before.general").values_list("number", flat=True)) == [
        4, 3, 2, 1,
    ]  # fmt: skip
    actions = list(
        AuditEvent.objects.filter(action__startswith="handout.").order_by("seq").values_list("action", flat=True)
    )
    assert actions == ["handout.edited", "handout.edited", "handout.reverted", "handout.reverted"]


def test_a_stale_edit_is_refused_and_saves_nothing(clinician, admin_user):
    services.save_handout(actor_of(admin_user), "after.general", "- First text.", expected_number=0)
    with pytest.raises(StaleEditError, match="saved version 1 of this text after you opened version 0"):
        services.save_handout(actor_of(clinician), "after.general", "- Second text.", expected_number=0)
    assert HandoutVersion.objects.filter(section="after.general").count() == 1


def test_bad_text_unknown_sections_and_missing_versions_are_refused(clinician):
    with pytest.raises(ValidationError) as error:
        services.save_handout(actor_of(clinician), "before.general", "Results are permanent.", expected_number=0)
    assert "permanent" in error.value.message_dict["body"][0]
    with pytest.raises(ValidationError):
        services.save_handout(actor_of(clinician), "before.nothing", "- Text.", expected_number=0)
    with pytest.raises(ValidationError, match="no version 7"):
        services.revert_handout(actor_of(clinician), "before.general", 7, expected_number=0)
    assert not HandoutVersion.objects.exists()


@pytest.mark.parametrize("persona", ["colleague", "frontdesk", "researcher"])
def test_only_clinicians_and_administrators_edit_handouts(persona, personas):
    with pytest.raises(AccessDenied):
        services.save_handout(actor_of(personas[persona]), "before.general", "- Text.", expected_number=0)


def test_a_clinic_edits_only_its_own_handouts(clinician, outsider):
    services.save_handout(actor_of(outsider), "before.general", "- Beta's own text.", expected_number=0)
    alpha = Clinic.objects.get(name="Alpha Clinic")
    assert content.clinic_texts(alpha)["before.general"].number == 0


# --- A handout for one patient ----------------------------------------------------------------------------------


def test_the_before_handout_gives_the_actual_nsaid_stop_date_for_the_next_session(clinician, course):
    clinic = Clinic.objects.get(name="Alpha Clinic")
    clinic.settings = {**clinic.settings, "nsaid_stop_days": 7}
    clinic.save()
    first = course.sessions.get(number=1)
    treatment_services.book_session(
        actor_of(clinician),
        first,
        starts_at=datetime(2026, 11, 2, 8, 15, tzinfo=ZoneInfo("America/Chicago")),
        clinician=clinician,
    )
    patient = course.patient
    patient.clinic.refresh_from_db()
    context = content.handout_context(patient, handouts.BEFORE)
    assert context["nsaid_stop_date"] == date(2026, 10, 26)
    text = pdf_text(content.handout_pdf(context))
    assert "Stop anti-inflammatory painkillers (NSAIDs) from Monday 26 October 2026." in text
    assert "from Monday 26 October 2026, which is 7 days before your session on Monday 2 November 2026" in text
    assert "light meal" in text and "Sources:" in text and "Clinic practice: a light meal" in text
    assert "DOMAIN" not in text and ".md" not in text
    assert "sedative" not in text


def test_a_session_with_sedation_adds_the_driver_paragraph(clinician, session):
    treatment_services.update_session_record(
        actor_of(clinician), session, {"sedation": "oral"}, expected_version=session.version
    )
    session.refresh_from_db()
    context = content.handout_context(session.patient, handouts.BEFORE, session)
    text = pdf_text(content.handout_pdf(context))
    assert "An adult must drive you home" in text
    assert "Stop anti-inflammatory painkillers (NSAIDs) from Friday 30 October 2026." in text  # 3 days: default


def test_the_after_handout_of_a_thoracic_course_warns_of_pneumothorax(clinician, weighed_patient):
    course = treatment_services.create_course(
        actor_of(clinician), weighed_patient, protocol_id="", indication="Thoracic facet pain",
        region="neck_thoracic", side="midline", start_on=date(2026, 12, 1), clinician=clinician,
    )  # fmt: skip
    context = content.handout_context(course.patient, handouts.AFTER)
    text = pdf_text(content.handout_pdf(context))
    assert "pneumothorax" in text and "Call emergency services straight away for chest pain" in text
    assert "getting worse rather than better, after about a week" in text


def test_the_evidence_handout_is_honest_about_the_region(clinician, course):
    text = pdf_text(content.handout_pdf(content.handout_context(course.patient, handouts.EVIDENCE)))
    assert "Rabago 2013" in text and "-0.44" in text and "high risk of bias" in text
    assert "does not help everyone" in text
    assert "experimental" in text


def test_a_clinic_edit_is_what_the_patient_gets(admin_user, course):
    services.save_handout(
        actor_of(admin_user), "evidence.knee", "## Knee\n- Our clinic's own summary for {patient_name}.",
        expected_number=0,
    )  # fmt: skip
    text = pdf_text(content.handout_pdf(content.handout_context(course.patient, handouts.EVIDENCE)))
    assert "Our clinic's own summary for Ada Lovelace." in text and "Clinic text, version 1." in text
    assert "In one trial (Rabago 2013)" not in text


def test_without_a_planned_session_the_stop_rule_is_given_in_days(patient):
    with transaction.atomic():
        context = content.handout_context(patient, handouts.BEFORE)
    assert context["nsaid_stop_date"] is None
    assert "3 days before your session" in str(context["parts"][0].html)


def test_two_saves_of_the_same_version_at_once_keep_one_and_refuse_the_other(clinician, monkeypatch):
    # The second writer read the same current number before the first committed (no expected number to catch it).
    services.save_handout(actor_of(clinician), "after.general", "- First.", expected_number=0)
    monkeypatch.setattr(services, "_current_number", lambda clinic, code, language: 0)
    with pytest.raises(StaleEditError, match="at the same moment"):
        services.save_handout(actor_of(clinician), "after.general", "- Second.", expected_number=None)
    assert list(HandoutVersion.objects.values_list("body", flat=True)) == ["- First."]
