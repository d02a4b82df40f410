"""The clinical pages do their job: live calculator, screening with overrides, protocol templates."""

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from prolotrack.audit.models import AuditEvent
from prolotrack.clinical.models import ProtocolTemplate, ScreeningRecord
from prolotrack.clinical.tests.conftest import PROCEDURE_DATE
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services as patient_services

HTMX = {"HTTP_HX_REQUEST": "true"}
DOMAIN_EXAMPLE = {
    "final_volume_ml": "10",
    "target_dextrose_pct": "15",
    "dextrose_stock_pct": "50",
    "anesthetic": "lidocaine",
    "target_anesthetic_pct": "0.5",
    "anesthetic_stock_pct": "2",
    "diluent": "0.9% sodium chloride",
}


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


# --- Calculator ----------------------------------------------------------------------------------------------


def test_the_calculator_page_has_both_forms_and_live_updates(client, login, clinician):
    login(clinician)
    body = text(client.get("/tools/calculator/"))
    assert 'hx-post="/tools/calculator/mix/"' in body
    assert 'hx-post="/tools/calculator/limit/"' in body
    assert 'hx-trigger="submit, input delay:400ms, change"' in body
    assert 'inputmode="decimal"' in body
    assert "Warning at 80% of the maximum (clinic setting; 80% is a product default" in body
    assert 'aria-current="page">Calculator</a>' in body


def test_a_plain_submit_shows_the_domain_md_example_in_the_page(client, login, clinician):
    login(clinician)
    response = client.post("/tools/calculator/mix/", DOMAIN_EXAMPLE)
    assert response.status_code == 200
    body = text(response)
    assert '<span class="vol">3.00 mL</span> <span class="what">Dextrose <b>50%</b> stock</span>' in body
    assert '<span class="vol">2.50 mL</span> <span class="what">Lidocaine <b>2%</b> stock</span>' in body
    assert '<span class="vol">4.50 mL</span> <span class="what">0.9% sodium chloride</span>' in body
    assert '<b class="amount">1.5 g</b> dextrose' in body
    assert '<b class="amount">50 mg</b> lidocaine' in body
    assert "<title>Calculator" in body


def test_a_decimal_comma_is_read_as_a_decimal_point(client, login, clinician):
    login(clinician)
    body = text(client.post("/tools/calculator/mix/", {**DOMAIN_EXAMPLE, "target_anesthetic_pct": "0,5"}, **HTMX))
    assert '<span class="vol">2.50 mL</span>' in body


def test_an_htmx_request_gets_the_result_panel_and_the_field_messages(client, login, clinician):
    login(clinician)
    response = client.post("/tools/calculator/mix/", {**DOMAIN_EXAMPLE, "target_dextrose_pct": "60"}, **HTMX)
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body
    assert (
        '<small class="error" id="err-id_target_dextrose_pct" hx-swap-oob="true">Target dextrose 60% is above the '
        "stock concentration 50%: choose a stronger stock or a lower target.</small>"
    ) in body
    assert '<small class="error" id="err-id_final_volume_ml" hx-swap-oob="true"></small>' in body
    assert "fix the fields marked in red" in body


def test_while_typing_missing_values_are_asked_for_not_shouted_about(client, login, clinician):
    login(clinician)
    body = text(client.post("/tools/calculator/mix/", {"final_volume_ml": "10", "dextrose_stock_pct": "50"}, **HTMX))
    assert "Fill in dextrose wanted (%) to see the volumes to draw." in body
    assert 'hx-swap-oob="true">Enter' not in body


def test_a_plain_submit_with_a_bad_value_shows_the_message_next_to_the_field(client, login, clinician):
    login(clinician)
    response = client.post("/tools/calculator/mix/", {**DOMAIN_EXAMPLE, "final_volume_ml": "-3"})
    assert response.status_code == 400
    body = text(response)
    assert 'class="field field-final_volume_ml has-error"' in body
    assert (
        '<small class="error" id="err-id_final_volume_ml">The final volume must be above zero (got -3 mL): enter '
        "the actual amount.</small>"
    ) in body
    assert 'value="-3"' in body


def test_a_word_for_a_number_is_explained(client, login, clinician):
    login(clinician)
    body = text(client.post("/tools/calculator/mix/", {**DOMAIN_EXAMPLE, "final_volume_ml": "ten"}, **HTMX))
    assert "Final volume (mL) &#x27;ten&#x27; is not a number: enter digits such as 2.5." in body


def test_the_further_agents_make_p2g(client, login, clinician):
    login(clinician)
    data = {
        **DOMAIN_EXAMPLE,
        "final_volume_ml": "20",
        "target_dextrose_pct": "12.5",
        "target_anesthetic_pct": "0.25",
        "anesthetic_stock_pct": "1",
        "glycerin_target_pct": "12.5",
        "glycerin_stock_pct": "50",
        "phenol_target_pct": "1",
        "phenol_stock_pct": "10",
    }
    body = text(client.post("/tools/calculator/mix/", data))
    assert '<span class="vol">2.00 mL</span> <span class="what">Phenol <b>10%</b> stock</span>' in body
    assert '<span class="vol">3.00 mL</span> <span class="what">0.9% sodium chloride</span>' in body
    assert '<details class="further" open>' in body


@pytest.mark.parametrize(
    ("planned", "css", "words"),
    [("50", "ok", "Within the limit: 16.7%"), ("250", "warn", "Near the limit: 83.4%"), ("320", "block", "Over")],
)
def test_the_limit_form_grades_the_planned_amount(client, login, clinician, planned, css, words):
    login(clinician)
    data = {"drug": "lidocaine", "with_epinephrine": "no", "weight_kg": "70", "planned_mg": planned}
    body = text(client.post("/tools/calculator/limit/", data, **HTMX))
    assert '<span class="big">300 mg</span>' in body
    assert "Lidocaine plain: 4.5 mg/kg × 70 kg = 315 mg, not over 300 mg" in body
    assert f'class="dose-status {css}"' in body
    assert words in body


def test_the_limit_for_50_kg_is_225_mg(client, login, clinician):
    login(clinician)
    body = text(
        client.post("/tools/calculator/limit/", {"drug": "lidocaine", "with_epinephrine": "no", "weight_kg": "50"})
    )
    assert '<span class="big">225 mg</span>' in body


def test_a_weight_beyond_the_chart_range_is_caught(client, login, clinician):
    login(clinician)
    body = text(
        client.post("/tools/calculator/limit/", {"drug": "lidocaine", "with_epinephrine": "no", "weight_kg": "401"})
    )
    assert "Body weight 401 kg is outside 2-400 kg: check the unit (kg, not lb or g) and re-enter it." in body


# --- Screening -----------------------------------------------------------------------------------------------

SCREEN_FORM = {
    "procedure_date": PROCEDURE_DATE.isoformat(),
    "region": "knee",
    "side": "left",
    "site_description": "medial knee",
    "agents": ["dextrose", "lidocaine"],
    "sedation": "none",
    "pregnancy": "not_pregnant",
}


def test_the_chart_offers_screening_and_lists_screenings(client, login, clinician, patient, make_screening):
    make_screening(patient)
    make_screening(patient, day_of_flags=("infection_at_site",), day=PROCEDURE_DATE + timedelta(days=7))
    login(clinician)
    body = text(client.get(f"/patients/{patient.uuid}/"))
    assert f'href="/patients/{patient.uuid}/screening/new/">Screen for a procedure</a>' in body
    rows = re.findall(r'<tr class="">.*?</tr>', body[body.index('id="screenings"') :])
    assert "2025-03-17" in rows[0] and "Not eligible" in rows[0]
    assert "2025-03-10" in rows[1] and "Eligible with cautions" in rows[1]


def test_front_desk_sees_no_screening_on_the_chart(client, login, frontdesk, patient, make_screening):
    make_screening(patient)
    login(frontdesk)
    body = text(client.get(f"/patients/{patient.uuid}/"))
    assert "Screen for a procedure" not in body
    assert 'id="screenings"' not in body


def test_the_screening_form_shows_what_it_reads_from_the_chart(client, login, clinician, patient, add):
    add(patient, "allergy", substance="Lidocaine", reaction="hives", severity="severe")
    add(patient, "medication", name="Warfarin", drug_class="anticoagulant")
    add(patient, "condition", description="Type 2 diabetes", screening_flag="diabetes", category="comorbidity")
    login(clinician)
    response = client.get(f"/patients/{patient.uuid}/screening/new/")
    body = text(response)
    assert "<b>Lidocaine</b> (hives) · Severe" in body
    assert "<b>Warfarin</b>" in body
    assert "Diabetes (chart: Type 2 diabetes, on the chart since " in body
    assert "Skin or soft-tissue infection at the injection site" in body
    assert AuditEvent.objects.filter(action="patient.screening_facts.viewed", patient_uuid=patient.uuid).exists()


def test_screening_from_the_page_stores_it_and_shows_the_result(client, login, clinician, patient, add):
    add(patient, "allergy", substance="Lidocaine", reaction="hives", severity="severe")
    add(patient, "medication", name="Warfarin", drug_class="anticoagulant")
    login(clinician)
    response = client.post(f"/patients/{patient.uuid}/screening/new/", SCREEN_FORM)
    screening = ScreeningRecord.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.uuid}/screening/{screening.uuid}/"
    body = text(client.get(response["Location"]))
    assert '<section class="decision not_eligible"' in body
    assert '<p class="verdict">Not eligible</p>' in body
    contra = body[body.index('id="h-contraindication"') : body.index('id="h-caution"')]
    caution = body[body.index('id="h-caution"') : body.index('id="h-instruction"')]
    instruction = body[body.index('id="h-instruction"') :]
    assert "Allergy to a local anaesthetic" in contra and "Lidocaine (hives, severe)" in contra
    assert "Anticoagulant" in caution and "ASRA/ESRA" in caution
    assert "Light meal beforehand" in instruction
    assert body.index('class="findings contraindication"') < body.index('class="findings caution"')
    assert "Override with this reason" in caution
    assert AuditEvent.objects.filter(action="screening.viewed", record_uuid=screening.uuid).exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"agents": []}, "This field is required"),
        ({"region": "nose"}, "Select a valid choice"),
        ({"procedure_date": "1850-01-01"}, "check the year"),
        ({"day_of_flags": ["diabetes"]}, "Select a valid choice"),
    ],
)
def test_a_bad_screening_form_explains_and_stores_nothing(client, login, clinician, patient, changes, message):
    login(clinician)
    response = client.post(f"/patients/{patient.uuid}/screening/new/", {**SCREEN_FORM, **changes})
    assert response.status_code == 400
    assert message in text(response)
    assert not ScreeningRecord.objects.exists()


def test_a_clinician_overrides_a_caution_from_the_page(client, login, clinician, patient, add, make_screening):
    add(patient, "medication", name="Warfarin", drug_class="anticoagulant")
    screening = make_screening(patient)
    login(clinician)
    url = f"/patients/{patient.uuid}/screening/{screening.uuid}/"
    response = client.post(
        url + "override/",
        {"code": "caution.anticoagulant", "reason": "INR 2.1 yesterday, small needles.", "version": 1},
    )
    assert response.status_code == 302
    body = text(client.get(url))
    assert "Override recorded with your reason" in body
    assert "<b>Proceeding:</b> INR 2.1 yesterday, small needles." in body
    assert "Clinician (clinician)" in body
    screening.refresh_from_db()
    assert screening.version == 2


def test_a_short_override_reason_is_refused_next_to_the_finding(client, login, clinician, patient, add, make_screening):
    add(patient, "medication", name="Warfarin", drug_class="anticoagulant")
    screening = make_screening(patient)
    login(clinician)
    response = client.post(
        f"/patients/{patient.uuid}/screening/{screening.uuid}/override/",
        {"code": "caution.anticoagulant", "reason": "ok", "version": 1},
    )
    assert response.status_code == 400
    body = text(response)
    finding = body[body.index('id="caution.anticoagulant"') :]
    finding = finding[: finding.index("</article>")]
    assert "too short" in finding
    assert ">ok</textarea>" in finding
    screening.refresh_from_db()
    assert screening.version == 1


def test_a_hard_stop_says_why_it_cannot_be_overridden(client, login, clinician, patient, make_screening):
    screening = make_screening(patient, day_of_flags=("infection_at_site",))
    login(clinician)
    url = f"/patients/{patient.uuid}/screening/{screening.uuid}/"
    body = text(client.get(url))
    finding = body[body.index('id="contraindication.infection_at_site"') :]
    finding = finding[: finding.index("</article>")]
    assert "Hard stop: cannot be overridden." in finding
    assert "<textarea" not in finding
    forced = client.post(
        url + "override/",
        {"code": "contraindication.infection_at_site", "reason": "I know better than the screen.", "version": 1},
    )
    assert forced.status_code == 400
    assert "is a hard stop and cannot be overridden" in text(forced)


def test_a_nurse_sees_who_can_override(client, login, colleague, patient, add, make_screening):
    add(patient, "medication", name="Warfarin", drug_class="anticoagulant")
    screening = make_screening(patient)
    login(colleague)
    body = text(client.get(f"/patients/{patient.uuid}/screening/{screening.uuid}/"))
    assert "A clinician can override this with a written reason." in body
    assert "Override with this reason" not in body


def test_the_screening_page_runs_a_constant_number_of_queries(client, login, clinician, patient, add, make_screening):
    small = make_screening(patient)
    for substance in ("Lidocaine", "Phenol", "Cod liver oil", "Corn"):
        add(patient, "allergy", substance=substance, severity="moderate")
    for name in ("Warfarin", "Clopidogrel", "Ibuprofen"):
        drug_class = {"Warfarin": "anticoagulant", "Clopidogrel": "antiplatelet", "Ibuprofen": "nsaid"}[name]
        add(patient, "medication", name=name, drug_class=drug_class, last_dose_date=PROCEDURE_DATE - timedelta(days=1))
    big = make_screening(patient, day_of_flags=("acute_fracture", "acute_gout_flare", "infection_at_site"))
    assert len(big.findings) > len(small.findings) + 6
    login(clinician)
    client.get(f"/patients/{patient.uuid}/screening/{small.uuid}/")  # warm caches (session, content types)
    counts = []
    for screening in (small, big):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/patients/{patient.uuid}/screening/{screening.uuid}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- Protocols -----------------------------------------------------------------------------------------------


def test_the_protocols_page_lists_built_in_and_clinic_templates(client, login, clinician, clinic_template):
    login(clinician)
    body = text(client.get("/protocols/"))
    assert "Knee osteoarthritis (Rabago)" in body
    assert "Rabago 2013, Ann Fam Med (DOMAIN.md §4)" in body
    assert "weeks 0, 4, 8 (+12, 16 if needed)" in body
    assert "Knee OA, our version" in body
    assert "weeks 0, 6 (+12 if needed)" in body
    assert 'href="/protocols/new/?from=knee_oa_rabago">Copy</a>' in body


def test_the_schedule_preview_answers_htmx_with_the_schedule_only(client, login, frontdesk):
    login(frontdesk)
    response = client.get("/protocols/", {"protocol": "knee_oa_rabago", "start": "2025-01-06"}, **HTMX)
    body = text(response)
    assert body.strip().startswith('<div id="schedule"')
    assert 'Session 3</td><td class="date"><b>Mon 2025-03-03</b>' in body
    assert '6 weeks after the last planned session</td><td class="date">2025-04-14' in body
    full = text(client.get("/protocols/knee_oa_rabago/", {"start": "2025-01-06"}))
    assert "<html" in full and "Mon 2025-02-03" in full


def test_a_bad_preview_date_is_explained(client, login, clinician):
    login(clinician)
    body = text(client.get("/protocols/knee_oa_rabago/", {"start": "someday"}))
    assert "&#x27;someday&#x27; is not a date: use YYYY-MM-DD." in body
    body = text(client.get("/protocols/knee_oa_rabago/", {"start": "2999-01-01"}))
    assert "check the year" in body


def test_copying_a_built_in_template_prefills_the_form(client, login, clinician):
    login(clinician)
    body = text(client.get("/protocols/new/", {"from": "knee_oa_rabago"}))
    assert 'value="knee_oa_rabago_ours"' in body
    assert "Intra-articular dextrose 25% | dextrose 25% | 6 | joint |" in body
    assert 'name="planned_sessions" value="0, 4, 8"' in body
    assert 'name="optional_sessions" value="12, 16"' in body
    assert 'value="knee.pes_anserinus" id="id_landmarks_0_5" checked' in body or re.search(
        r'value="knee.pes_anserinus"[^>]*checked', body
    )


PROTOCOL_FORM = {
    "code": "knee_oa_ours",
    "name": "Knee OA, our version",
    "indication": "Knee osteoarthritis",
    "region": "knee",
    "solutions_text": "Dextrose 25% with lidocaine | dextrose 25%, lignocaine 0,5% | 6 mL | joint | Our usual\n",
    "session_unit": "weeks",
    "planned_sessions": "0, 6",
    "optional_sessions": "12",
    "landmarks": ["knee.intra_articular", "knee.pes_anserinus"],
    "source": "Clinic protocol agreed 2025-02",
    "notes": "",
    "based_on": "knee_oa_rabago",
}


def test_creating_a_template_from_the_form(client, login, admin_user):
    login(admin_user)
    response = client.post("/protocols/new/", PROTOCOL_FORM)
    record = ProtocolTemplate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/protocols/{record.uuid}/"
    assert record.solutions == [
        {
            "label": "Dextrose 25% with lidocaine",
            "components": [
                {"agent": "dextrose", "value": "25", "unit": "%"},
                {"agent": "lidocaine", "value": "0.5", "unit": "%"},
            ],
            "volume_ml": "6",
            "volume_per": "joint",
            "note": "Our usual",
        }
    ]
    assert record.sessions == [
        {"offset": 0, "unit": "weeks", "optional": False},
        {"offset": 6, "unit": "weeks", "optional": False},
        {"offset": 12, "unit": "weeks", "optional": True},
    ]
    assert record.created_by == admin_user
    body = text(client.get(response["Location"]))
    assert "Template &#x27;Knee OA, our version&#x27; saved." in body
    assert "Pes anserinus" in body


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"planned_sessions": "0, four, 8"}, "planned_sessions", "&#x27;four&#x27; is not a whole number"),
        ({"planned_sessions": "4, 8"}, "planned_sessions", "The first session must be planned and at offset 0"),
        ({"optional_sessions": "2"}, "planned_sessions", "Session offsets must increase"),
        ({"solutions_text": "Just a label"}, "solutions_text", "write at least"),
        ({"solutions_text": "X | dextrose lots"}, "solutions_text", "is not an agent with a concentration"),
        ({"solutions_text": "X | kryptonite 5%"}, "solutions_text", "Unknown agent &#x27;kryptonite&#x27;"),
        ({"solutions_text": "X | dextrose 250%"}, "solutions_text", "at most 100%"),
        ({"landmarks": ["elbow.annular_ligament"]}, "landmarks", "not the knee region"),
        ({"code": "knee_oa_rabago"}, "code", "belongs to a built-in template"),
        ({"code": "has spaces"}, "code", "Enter a valid “slug”"),
    ],
)
def test_a_bad_template_form_shows_the_message_and_saves_nothing(client, login, clinician, changes, field, message):
    login(clinician)
    response = client.post("/protocols/new/", {**PROTOCOL_FORM, **changes})
    assert response.status_code == 400
    assert message in text(response)
    assert not ProtocolTemplate.objects.exists()


def test_editing_a_template_from_the_form_keeps_a_version(client, login, clinician, clinic_template):
    login(clinician)
    url = f"/protocols/{clinic_template.uuid}/edit/"
    form = text(client.get(url))
    assert 'name="code" value="knee_oa_ours"' in form and "disabled" in form
    data = {**PROTOCOL_FORM, "planned_sessions": "0, 4", "version": 1, "active": "on", "change_reason": "Shorter"}
    response = client.post(url, data)
    assert response.status_code == 302
    clinic_template.refresh_from_db()
    assert clinic_template.version == 2
    assert [s["offset"] for s in clinic_template.sessions] == [0, 4, 12]
    stale = client.post(url, {**data, "planned_sessions": "0, 5"})
    assert stale.status_code == 400
    assert "after you opened it" in text(stale)


def test_unticking_active_keeps_the_template_but_stops_offering_it(client, login, clinician, clinic_template):
    login(clinician)
    data = {**PROTOCOL_FORM, "planned_sessions": "0, 6", "version": 1}
    assert client.post(f"/protocols/{clinic_template.uuid}/edit/", data).status_code == 302
    clinic_template.refresh_from_db()
    assert clinic_template.active is False
    body = text(client.get("/protocols/"))
    assert "inactive · v2" in body


def test_marking_a_template_entered_in_error(client, login, clinician, clinic_template):
    login(clinician)
    url = f"/protocols/{clinic_template.uuid}/entered-in-error/"
    assert client.post(url, {"reason": "Created twice", "version": 1}).status_code == 400  # not from the list
    assert client.post(url, {"reason": "other", "details": "no", "version": 1}).status_code == 400
    response = client.post(url, {"reason": "duplicate", "details": "Created twice by mistake", "version": 1})
    assert response.status_code == 302
    clinic_template.refresh_from_db()
    assert clinic_template.is_entered_in_error
    body = text(client.get("/protocols/"))
    assert "Reason: Duplicate of another record: Created twice by mistake" in body
    assert client.get(f"/protocols/{clinic_template.uuid}/edit/").status_code == 302


def test_a_screening_says_when_allergies_were_never_asked(client, login, clinician, patient, make_screening):
    unasked = make_screening(patient)
    assert unasked.facts["allergies_asked"] is False
    login(clinician)
    body = text(client.get(f"/patients/{patient.uuid}/screening/{unasked.uuid}/"))
    assert "Allergies not yet asked." in body
    with transaction.atomic():
        patient_services.confirm_no_known_allergies(actor_of(clinician), patient)
    patient.refresh_from_db()
    asked = make_screening(patient)
    assert asked.facts["allergies_asked"] is True
    assert "Allergies not yet asked." not in text(client.get(f"/patients/{patient.uuid}/screening/{asked.uuid}/"))


def test_a_template_page_previews_a_course_starting_today(client, login, researcher):
    login(researcher)
    body = text(client.get("/protocols/knee_oa_rabago/"))
    assert "Course starting" in body
    assert "Session 3" in body
    assert "Copy to this clinic" not in body
