"""The clinic settings page: every ClinicConfig setting shown and edited, validated, saved through the audited
service; questionnaires by region as checkboxes of the instruments this clinic can use."""

from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.config import ClinicConfig
from prolotrack.clinics.forms import FORM_NAME, GROUPS, INSTRUMENT_PREFIX, SETTINGS, settings_fingerprint
from prolotrack.clinics.models import Clinic
from prolotrack.clinics.testing import actor_of
from prolotrack.domain import instruments as domain
from prolotrack.domain.instruments import REGION_INSTRUMENTS
from prolotrack.outcomes import hooks as outcome_hooks
from prolotrack.outcomes import services as outcome_services
from prolotrack.outcomes.queries import instruments_for_timepoint
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.models import CourseTimepoint

URL = "/clinic/settings/"


def page_values(config: ClinicConfig | None = None, *, seen: dict | None = None, **changes: Any) -> dict[str, Any]:
    """What the page posts when nothing is changed (the clinic's values, or the defaults), with `changes`; `seen`
    is the stored settings the page was shown with ({} for a clinic on the defaults)."""
    config = config or ClinicConfig()
    values: dict[str, Any] = {"seen": settings_fingerprint(Clinic(settings=seen or {}))}
    for name in SETTINGS:
        value = getattr(config, name)
        values[FORM_NAME.get(name, name)] = int(value * 100) if name == "anaesthetic_warn_fraction" else value
    for region, codes in REGION_INSTRUMENTS.items():
        shown = config.outcome_instruments.get(region) or codes
        values[INSTRUMENT_PREFIX + region] = [c for c in shown if not domain.DEFINITIONS[c].licensed]
    values.update(changes)
    return values


def import_texts(user: Any, code: str) -> None:
    body = outcome_hooks.questionnaire_resource(code, None)
    for n, item in enumerate(body["item"], start=1):
        item["text"] = f"Licensed question {n}"
        for option in item.get("answerOption", []):
            option["valueCoding"]["display"] = f"Label {option['valueCoding']['code']}"
    with transaction.atomic():
        outcome_services.import_instrument_texts(
            actor_of(user), code, body, "Test licence 2026-001, single clinic, electronic use."
        )


# --- every setting is on the page ---------------------------------------------------------------------------------


def test_the_page_knows_every_clinic_setting():
    on_page = set(SETTINGS) | {"outcome_instruments"}
    assert on_page == {f.name for f in fields(ClinicConfig)}, "a ClinicConfig setting is missing from clinics/forms.py"
    assert sorted(name for _title, names in GROUPS for name in names) == sorted(SETTINGS)


def test_every_clinic_setting_is_on_the_page_with_its_default_and_source(login, admin_user):
    body = login(admin_user).get(URL).content.decode()
    for f in fields(ClinicConfig):
        if f.name == "outcome_instruments":
            for region in REGION_INSTRUMENTS:
                assert f'name="{INSTRUMENT_PREFIX}{region}"' in body, region
        else:
            assert f'name="{FORM_NAME.get(f.name, f.name)}"' in body, f.name
            assert SETTINGS[f.name].source.replace("'", "&#x27;") in body, f.name
    for section in ("Security", "Session and dosing", "Outcomes and questionnaires", "Reminders"):
        assert f">{section}</h2>" in body
    assert 'name="anaesthetic_warn_percent" value="80"' in body
    assert 'name="questionnaire_link_days" value="14"' in body
    assert "Default <b>14 days</b>" in body and "Gurol-Urganci" in body
    # Help texts are tied to their inputs for screen readers.
    assert 'aria-describedby="id_pre_procedure_days_helptext"' in body and 'id="id_pre_procedure_days_helptext"' in body


def test_posting_the_page_unchanged_changes_nothing(login, admin_user, clinic):
    response = login(admin_user).post(URL, page_values())
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.config == ClinicConfig()
    assert clinic.config.outcome_instruments == {}  # the defaults are not copied into the clinic
    assert AuditEvent.objects.get(action="clinic.settings.updated").detail["changes"] == {}


# --- each number: valid, invalid, audited -----------------------------------------------------------------------

NEW_VALUES = {
    "idle_timeout_minutes": 20,
    "nsaid_stop_days": 7,
    "min_injections_per_session": 1,
    "max_injections_per_session": 20,
    "non_responder_after_sessions": 4,
    "questionnaire_link_days": 21,
    "appointment_reminder_days": 3,
    "pre_procedure_days": 10,
    "questionnaire_overdue_days": 5,
    "send_window_start_hour": 9,
    "send_window_end_hour": 18,
    "sign_early_margin_minutes": 30,
    "research_min_k": 11,
    "research_min_l": 3,
    "research_dp_epsilon_tenths": 5,
    "contact_phone": "(312) 555-0100",
    "contact_email": "desk@alpha.example",
    "second_factor_all_staff": False,
    "address": "12 Main Street, Springfield, IL 62701",
    "npi": "1234567893",
    "tax_id": "123456789",
}


def test_the_sending_window_is_on_the_page_with_its_default_and_source(login, admin_user):
    page = login(admin_user).get(URL).content.decode()
    assert "Send emails and text messages from this hour" in page and "8:00" in page and "20:00" in page
    assert "47 CFR 64.1200(c)(1)" in page


def test_a_sending_window_that_closes_before_it_opens_is_refused(login, admin_user, clinic):
    response = login(admin_user).post(URL, page_values(send_window_start_hour=20, send_window_end_hour=8))
    assert response.status_code == 400 and "closes (8:00) before it opens (20:00)" in response.content.decode()
    clinic.refresh_from_db()
    assert clinic.config.send_window_start_hour == 8


@pytest.mark.parametrize(("name", "value"), NEW_VALUES.items())
def test_each_setting_saves_and_is_audited(login, admin_user, clinic, name, value):
    response = login(admin_user).post(URL, page_values(**{name: value}))
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert getattr(clinic.config, name) == value
    event = AuditEvent.objects.get(action="clinic.settings.updated")
    assert event.detail["changes"][name][1] == value
    assert event.user == admin_user
    assert "Clinic settings saved." in login(admin_user).get(URL).content.decode()


def test_the_warning_percentage_saves_as_a_fraction(login, admin_user, clinic):
    assert login(admin_user).post(URL, page_values(anaesthetic_warn_percent=85)).status_code == 302
    clinic.refresh_from_db()
    assert clinic.config.anaesthetic_warn_fraction == Decimal("0.85")
    event = AuditEvent.objects.get(action="clinic.settings.updated")
    assert event.detail["changes"]["anaesthetic_warn_fraction"][1] == "0.85"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("idle_timeout_minutes", 0, "Enter at least 1 minute."),
        ("idle_timeout_minutes", 241, "Enter at most 240 minutes."),
        ("nsaid_stop_days", 29, "Enter at most 28 days."),
        ("anaesthetic_warn_percent", 49, "Enter at least 50%."),
        ("anaesthetic_warn_percent", 101, "Enter at most 100%."),
        ("anaesthetic_warn_percent", "eighty", "Enter a whole number of percent from 50 to 100"),
        ("anaesthetic_warn_percent", "", "Enter a whole number from 50 to 100."),
        ("non_responder_after_sessions", 21, "Enter at most 20 sessions."),
        ("questionnaire_link_days", 0, "Enter at least 1 day."),
        ("questionnaire_link_days", 61, "Enter at most 60 days."),
        ("questionnaire_link_days", "two weeks", "Enter a whole number of days from 1 to 60"),
        ("questionnaire_link_days", "", "Enter a whole number from 1 to 60."),
        ("appointment_reminder_days", 15, "Enter at most 14 days."),
        ("appointment_reminder_days", "1.5", "Enter a whole number of days from 1 to 14"),
        ("pre_procedure_days", 29, "Enter at most 28 days."),
        ("pre_procedure_days", 0, "Enter at least 1 day."),
        ("questionnaire_overdue_days", 61, "Enter at most 60 days."),
        ("questionnaire_overdue_days", -1, "Enter at least 1 day."),
        ("npi", "1234567890", "does not match the check digit"),
        ("npi", "123456789", "An NPI is 10 digits"),
        ("tax_id", "12-345678", "is 9 digits"),
    ],
)
def test_a_bad_value_is_refused_with_a_message_and_nothing_is_saved(login, admin_user, clinic, name, value, message):
    # Another setting changed in the same post must not be saved either.
    response = login(admin_user).post(URL, page_values(**({"nsaid_stop_days": 5} | {name: value})))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and "Nothing was saved" in body
    clinic.refresh_from_db()
    assert clinic.settings == {}
    assert not AuditEvent.objects.filter(action="clinic.settings.updated").exists()


def test_a_maximum_below_the_minimum_is_refused_on_the_maximum(login, admin_user, clinic):
    response = login(admin_user).post(URL, page_values(min_injections_per_session=10, max_injections_per_session=5))
    assert response.status_code == 400
    assert "The usual maximum (5) is below the usual minimum (10)" in response.content.decode()
    clinic.refresh_from_db()
    assert clinic.settings == {}


def test_the_page_shows_the_saved_values_and_marks_changed_ones(login, admin_user, clinic):
    with transaction.atomic():
        from prolotrack.clinics.services import update_clinic_settings

        update_clinic_settings(actor_of(admin_user), clinic, {"appointment_reminder_days": 1})
    body = login(admin_user).get(URL).content.decode()
    assert 'name="appointment_reminder_days" value="1"' in body
    assert body.count('<span class="tag">changed</span>') == 1


def test_a_save_over_another_administrators_later_change_is_refused(login, admin_user, make_member, clinic):
    from prolotrack.clinics.roles import Role
    from prolotrack.clinics.services import update_clinic_settings

    other = make_member("admin2", Role.ADMIN, clinic)
    client = login(admin_user)
    seen = client.get(URL).content.decode()
    assert f'name="seen" value="{settings_fingerprint(clinic)}"' in seen
    with transaction.atomic():
        update_clinic_settings(actor_of(other), clinic, {"nsaid_stop_days": 10})
    response = client.post(URL, page_values(idle_timeout_minutes=30))  # shown before the other change
    assert response.status_code == 400
    body = response.content.decode()
    assert "Another administrator changed these settings after you opened this page" in body
    assert f'<a href="{URL}">Reload the saved settings</a>' in body
    clinic.refresh_from_db()
    assert clinic.config.nsaid_stop_days == 10 and clinic.config.idle_timeout_minutes == 15


# --- questionnaires by region -------------------------------------------------------------------------------------


def test_only_questionnaires_the_clinic_can_use_are_offered(login, admin_user, clinician):
    client = login(admin_user)
    body = client.get(URL).content.decode()
    assert f'name="{INSTRUMENT_PREFIX}knee" value="nrs_pain"' in body
    assert f'name="{INSTRUMENT_PREFIX}knee" value="koos_jr"' not in body  # licensed, texts not imported
    assert "Also in this set, used once its texts are imported: KOOS JR." in body
    import_texts(clinician, "koos_jr")
    body = client.get(URL).content.decode()
    assert f'name="{INSTRUMENT_PREFIX}knee" value="koos_jr" id="id_{INSTRUMENT_PREFIX}knee_' in body
    assert f'name="{INSTRUMENT_PREFIX}hip" value="koos_jr"' in body  # usable for any region once imported
    tag = body.split(f'name="{INSTRUMENT_PREFIX}knee" value="koos_jr"')[1].split(">")[0]
    assert "checked" in tag  # ticked: the knee's default set has it


def test_a_changed_region_set_saves_is_audited_and_opens_those_questionnaires(
    login, admin_user, clinician, clinic, patient
):
    course = treatment_services.create_course(
        actor_of(clinician),
        patient,
        protocol_id="knee_oa_rabago",
        indication="Knee osteoarthritis",
        region="knee",
        side="right",
        start_on=date(2026, 11, 2),
        clinician=clinician,
    )
    follow_up = course.timepoints.filter(kind="follow_up").order_by("due_on").first()
    client = login(admin_user)
    response = client.post(URL, page_values(**{f"{INSTRUMENT_PREFIX}knee": ["nrs_pain", "vas_pain", "pgic"]}))
    assert response.status_code == 302
    clinic.refresh_from_db()
    # The licensed KOOS JR in the default knee set is kept, though this clinic cannot use it yet.
    assert clinic.config.outcome_instruments == {"knee": ["nrs_pain", "vas_pain", "pgic", "koos_jr"]}
    event = AuditEvent.objects.get(action="clinic.settings.updated")
    assert event.detail["changes"]["outcome_instruments"] == [{}, {"knee": ["nrs_pain", "vas_pain", "pgic", "koos_jr"]}]
    follow_up = CourseTimepoint.objects.select_related("course__clinic").get(pk=follow_up.pk)
    assert instruments_for_timepoint(follow_up) == ["nrs_pain", "vas_pain", "pgic"]
    # Back to the product's set: the override goes, so the region follows the defaults again.
    assert client.post(URL, page_values(seen=clinic.settings)).status_code == 302
    clinic.refresh_from_db()
    assert clinic.config.outcome_instruments == {}


def test_an_imported_licensed_questionnaire_can_be_chosen(login, admin_user, clinician, clinic):
    import_texts(clinician, "odi")
    # The page now ticks ODI for the lumbar spine (its default set has it): the form posts it back.
    body = login(admin_user).get(URL).content.decode()
    assert "checked" in body.split(f'name="{INSTRUMENT_PREFIX}lumbopelvic" value="odi"')[1].split(">")[0]
    values = page_values(
        **{
            f"{INSTRUMENT_PREFIX}shoulder": ["nrs_pain", "odi"],
            f"{INSTRUMENT_PREFIX}lumbopelvic": ["nrs_pain", "pgic", "odi"],
        }
    )
    assert login(admin_user).post(URL, values).status_code == 302
    clinic.refresh_from_db()
    assert clinic.config.outcome_instruments == {"shoulder": ["nrs_pain", "odi", "quickdash"]}


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        ([], "Tick at least one questionnaire for knee courses."),
        (["nrs_pain", "koos"], "koos is not a questionnaire this clinic can use"),
        (["nrs_pain", "bogus"], "bogus is not a questionnaire this clinic can use"),
    ],
)
def test_a_bad_region_set_is_refused_and_nothing_is_saved(login, admin_user, clinic, codes, message):
    response = login(admin_user).post(URL, page_values(**{f"{INSTRUMENT_PREFIX}knee": codes, "nsaid_stop_days": 9}))
    assert response.status_code == 400
    assert message in response.content.decode()
    clinic.refresh_from_db()
    assert clinic.settings == {}


# --- access -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("admin", 200),
        ("clinician", 403),
        ("colleague", 403),
        ("frontdesk", 403),
        ("researcher", 403),
        ("outsider", 403),
    ],
)
def test_access_by_persona(client, login, personas, clinic, persona, status):
    login(personas[persona])
    assert client.get(URL).status_code == status
    response = client.post(URL, page_values(questionnaire_link_days=30, **{f"{INSTRUMENT_PREFIX}knee": ["nrs_pain"]}))
    assert response.status_code == (302 if status == 200 else status)
    saved = Clinic.objects.get(pk=clinic.pk).config
    assert saved.questionnaire_link_days == (30 if status == 200 else 14)


def test_anonymous_is_sent_to_log_in(client, clinic):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
