"""The treatment pages' forms: what a good submission writes, and that bad input is refused next to the field and
writes nothing."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from prolotrack.audit.models import RecordVersion
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services as patient_services
from prolotrack.treatment import services
from prolotrack.treatment.models import (
    AdverseEvent,
    ChecklistEntry,
    Course,
    InjectionSite,
    PreparedSolution,
    SessionStatus,
    TreatmentSession,
)
from prolotrack.treatment.tests.conftest import START

CHICAGO = ZoneInfo("America/Chicago")
HTMX = {"HTTP_HX_REQUEST": "true"}


def fresh(record):
    return record.__class__.objects.get(pk=record.pk)


def versions():
    return RecordVersion.objects.count()


# --- Courses ---------------------------------------------------------------------------------------------------


@pytest.fixture
def complaint(clinician, weighed_patient):
    with transaction.atomic():
        patient_services.add_child(
            actor_of(clinician),
            weighed_patient,
            "condition",
            {"category": "complaint", "description": "Left knee pain", "body_region": "knee", "laterality": "left"},
        )
    return weighed_patient


def test_start_a_course_is_prefilled_from_the_complaint(login, clinician, complaint):
    response = login(clinician).get(f"/patients/{complaint.uuid}/courses/new/")
    form = response.context["form"]
    assert (form["region"].value(), form["side"].value(), form["indication"].value()) == (
        "knee",
        "left",
        "Left knee pain",
    )
    assert form["clinician"].value() == "clinician"
    assert b"knee_oa_rabago" in response.content


def test_start_a_course_from_the_knee_template(login, clinician, complaint):
    response = login(clinician).post(
        f"/patients/{complaint.uuid}/courses/new/",
        {"protocol_id": "knee_oa_rabago", "region": "knee", "side": "left", "indication": "Knee OA",
         "start_on": "2026-11-02", "clinician": "clinician", "screening": ""},
    )  # fmt: skip
    course = Course.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/courses/{course.uuid}/"
    assert course.sessions.count() == 5 and course.clinician == clinician


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"indication": ""}, "indication", "This field is required."),
        ({"protocol_id": "tmj_refai"}, "region", "The template is for the temporomandibular"),
        ({"clinician": "nobody"}, "clinician", "Select a valid choice"),
        ({"start_on": "02/11/2026x"}, "start_on", "Enter a valid date."),
    ],
)
def test_a_bad_course_is_refused_next_to_the_field_and_writes_nothing(
    login, clinician, complaint, change, field, message
):
    data = {"protocol_id": "knee_oa_rabago", "region": "knee", "side": "left", "indication": "Knee OA",
            "start_on": "2026-11-02", "clinician": "clinician", "screening": "", **change}  # fmt: skip
    before = versions()
    response = login(clinician).post(f"/patients/{complaint.uuid}/courses/new/", data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Course.objects.exists() and versions() == before


def test_the_chart_loads_the_course_and_adverse_event_cards(login, clinician, course):
    client = login(clinician)
    chart = client.get(f"/patients/{course.patient.uuid}/")
    assert f"/patients/{course.patient.uuid}/treatment-cards/".encode() in chart.content
    cards = client.get(f"/patients/{course.patient.uuid}/treatment-cards/", **HTMX)
    text = cards.content.decode()
    assert "Knee osteoarthritis" in text and "Next:" in text and 'hx-swap-oob="true"' in text
    assert "Record an adverse event" in text


# --- Course page: booking, attendance, extra sessions, closing, timepoints -----------------------------------------


def test_booking_takes_the_time_in_the_clinic_time_zone(login, frontdesk, clinician, session):
    data = {"day": "2026-11-02", "time": "09:30", "clinician": "clinician", "duration_minutes": "30",
            "version": session.version}  # fmt: skip
    response = login(frontdesk).post(f"/sessions/{session.uuid}/appointment/", data)
    assert response.status_code == 302 and response["Location"].startswith("/calendar/?date=2026-11-02")
    booked = fresh(session)
    assert booked.starts_at == datetime(2026, 11, 2, 9, 30, tzinfo=CHICAGO)
    assert (booked.status, booked.duration_minutes, booked.clinician) == (SessionStatus.BOOKED, 30, clinician)


def test_booking_a_nurse_as_clinician_is_refused_and_writes_nothing(login, clinician, colleague, session):
    before = versions()
    data = {"day": "2026-11-02", "time": "09:30", "clinician": "colleague", "duration_minutes": "45",
            "version": session.version}  # fmt: skip
    response = login(clinician).post(f"/sessions/{session.uuid}/appointment/", data)
    assert response.status_code == 400
    assert "clinician" in response.context["book_form"].errors
    assert fresh(session).status == SessionStatus.PLANNED and versions() == before


def test_a_stale_booking_is_refused(login, clinician, session):
    data = {"day": "2026-11-02", "time": "09:30", "clinician": "clinician", "duration_minutes": "45",
            "version": session.version - 1}  # fmt: skip
    response = login(clinician).post(f"/sessions/{session.uuid}/appointment/", data)
    assert response.status_code == 400
    assert "after you opened it" in response.content.decode()


def test_a_no_show_needs_a_reason(login, frontdesk, session):
    client = login(frontdesk)
    response = client.post(f"/sessions/{session.uuid}/attendance/", {"status": "no_show", "version": session.version})
    assert response.status_code == 400 and "reason" in response.context["form"].errors
    assert fresh(session).status == SessionStatus.PLANNED
    response = client.post(
        f"/sessions/{session.uuid}/attendance/",
        {"status": "no_show", "reason": "did_not_attend", "version": session.version},
    )
    assert response.status_code == 302
    assert (fresh(session).status, fresh(session).status_reason) == (SessionStatus.NO_SHOW, "Did not attend")


def test_an_extra_session_and_stopping_the_course(login, clinician, course):
    client = login(clinician)
    assert client.post(f"/courses/{course.uuid}/sessions/add/", {"planned_on": "2027-05-01"}).status_code == 302
    assert course.sessions.filter(number=6, planned_on=date(2027, 5, 1)).exists()
    response = client.post(f"/courses/{course.uuid}/close/", {"reason": "", "version": 1})
    assert response.status_code == 400 and "reason" in response.context["form"].errors
    assert fresh(course).status == "open"
    response = client.post(
        f"/courses/{course.uuid}/close/",
        {"reason": "lost_to_follow_up", "details": "Moved to Leeds", "version": 1},
    )
    assert response.status_code == 302
    assert (fresh(course).status, fresh(course).stop_reason) == (
        "stopped",
        "Moved away or lost to follow-up: Moved to Leeds",
    )
    assert not course.sessions.filter(status="planned").exists()


def test_closing_a_new_course_shows_what_changes_and_cannot_call_it_completed(login, clinician, course):
    """The reported defect: one click closed a course with 0 sessions done as Completed, without reason or confirmation."""
    client = login(clinician)
    assert f'href="/courses/{course.uuid}/close/"' in client.get(f"/courses/{course.uuid}/").content.decode()
    page = client.get(f"/courses/{course.uuid}/close/")
    text = page.content.decode()
    assert page.status_code == 200 and fresh(course).status == "open"
    assert "closes as stopped early: 0 of 3 required sessions done" in text
    assert "5 sessions not yet done will be cancelled" in text and "0 reminders" in text
    assert "Planned sessions done" not in text  # a reason that does not fit the derived outcome is not offered
    # The old one-click form: completed, no reason.
    response = client.post(f"/courses/{course.uuid}/close/", {"status": "completed", "version": 1})
    assert response.status_code == 400 and fresh(course).status == "open"
    response = client.post(f"/courses/{course.uuid}/close/", {"reason": "plan_done", "version": 1})
    assert response.status_code == 400 and fresh(course).status == "open"
    response = client.post(f"/courses/{course.uuid}/close/", {"reason": "other", "details": "", "version": 1})
    assert response.status_code == 400 and "details" in response.context["form"].errors
    response = client.post(f"/courses/{course.uuid}/close/", {"reason": "patient_choice", "version": 1})
    assert response.status_code == 302 and fresh(course).status == "stopped"
    assert fresh(course).stop_reason == "Patient's choice"


def test_a_timepoint_moves_and_a_stale_one_is_refused(login, clinician, course):
    point = course.timepoints.order_by("due_on").last()
    client = login(clinician)
    response = client.post(f"/timepoints/{point.uuid}/", {"due_on": "2028-02-01", "version": point.version})
    assert response.status_code == 302 and fresh(point).due_on == date(2028, 2, 1)
    response = client.post(f"/timepoints/{point.uuid}/", {"due_on": "2028-03-01", "version": point.version})
    assert response.status_code == 400 and fresh(point).due_on == date(2028, 2, 1)
    response = client.post(f"/timepoints/{point.uuid}/", {"due_on": "not a date", "version": fresh(point).version})
    assert response.status_code == 400


def test_the_course_page_lists_the_plan_with_actions(login, clinician, course):
    text = login(clinician).get(f"/courses/{course.uuid}/").content.decode()
    assert text.count("Open session record") == 5
    assert "Book session 1" in text and "Close the course…" in text and "Outcome timepoints" in text


# --- Calendar ------------------------------------------------------------------------------------------------


@pytest.fixture
def booked(clinician, session):
    when = datetime(2026, 11, 4, 10, 0, tzinfo=CHICAGO)
    return services.book_session(actor_of(clinician), session, starts_at=when, clinician=clinician)


def test_the_week_and_the_day(login, clinician, booked):
    client = login(clinician)
    week = client.get("/calendar/?date=2026-11-04")
    assert week.context["days"][0].day == date(2026, 11, 2)  # Monday
    wednesday = week.context["days"][2]
    assert [a.session.uuid for a in wednesday.appointments] == [booked.uuid]
    # 10:00 in a 07:00-19:00 column is a quarter of the way down.
    assert wednesday.appointments[0].top == 25.0
    day = client.get("/calendar/?view=day&date=2026-11-04")
    assert day.context["count"] == 1 and "Lovelace, Ada" in day.content.decode() and "10:00" in day.content.decode()
    assert client.get("/calendar/?view=day&date=2026-11-05").context["count"] == 0
    # Times on the grid are bare clock times: the page says which zone they are in.
    assert "Times are clinic time (America/Chicago)" in week.content.decode()


def test_the_calendar_page_rows_say_what_the_sessions_say(booked):
    """The page reads values rows (queries.calendar_rows), the API model instances: the same sessions, same texts."""
    from django.utils import timezone

    from prolotrack.treatment import queries as treatment_queries

    clinic = booked.clinic
    day = timezone.localtime(booked.starts_at, clinic.tz).date()
    rows = treatment_queries.calendar_rows(clinic, day, 1)
    sessions = treatment_queries.calendar_sessions(clinic, day, 1)
    assert rows
    assert [
        (r.uuid, r.patient_uuid, r.family_name, r.given_name, r.indication, r.number, r.status, r.starts_at,
         r.duration_minutes, r.clinician, r.get_status_display())
        for r in rows
    ] == [
        (s.uuid, s.patient.uuid, s.patient.family_name, s.patient.given_name, s.course.indication, s.number, s.status,
         s.starts_at, s.duration_minutes, (s.clinician.get_full_name() or s.clinician.username) if s.clinician else "",
         s.get_status_display())
        for s in sessions
    ]  # fmt: skip


def test_the_calendar_prints_names_escaped_in_both_views(login, clinician, booked):
    """The appointments' links are printed by present.label_appointments, not the template: names are escaped there."""
    name = '<b onclick="x()">O\'Brien & Co</b>'
    patient_services.update_patient(actor_of(clinician), booked.patient, {"family_name": name}, expected_version=None)
    client = login(clinician)
    for view in ("week", "day"):
        text = client.get(f"/calendar/?view={view}&date=2026-11-04").content.decode()
        assert "&lt;b onclick=&quot;x()&quot;&gt;O&#x27;Brien &amp; Co&lt;/b&gt;, Ada" in text
        assert "<b onclick" not in text
    week = client.get("/calendar/?view=week&date=2026-11-04").content.decode()
    assert f'id="appt-{booked.uuid}"' in week and f"#appt-{booked.uuid} {{ top: 25.000%;" in week


def test_the_calendar_filters_by_clinician_and_explains_a_bad_date(login, clinician, make_member, clinic, booked):
    make_member("other", "clinician", clinic)
    client = login(clinician)
    assert client.get("/calendar/?date=2026-11-04&clinician=other").context["count"] == 0
    assert client.get("/calendar/?date=2026-11-04&clinician=clinician").context["count"] == 1
    response = client.get("/calendar/?date=31.02.x")
    assert response.status_code == 200 and "is not a date" in response.context["problem"]


def test_unbooked_sessions_due_soon_are_listed_with_a_book_link(login, frontdesk, session, monkeypatch):
    monkeypatch.setattr("prolotrack.treatment.views.calendar.today", lambda request: START - timedelta(days=3))
    text = login(frontdesk).get("/calendar/").content.decode()
    assert f"/sessions/{session.uuid}/appointment/" in text
    assert "Knee osteoarthritis" not in text  # front desk sees who and when, not why


# --- The session record ----------------------------------------------------------------------------------------


def test_ticking_the_checklist_with_htmx_returns_the_checklist(login, colleague, session):
    response = login(colleague).post(
        f"/sessions/{session.uuid}/checklist/", {"item": "consent", "answer": "yes", "note": "on file"}, **HTMX
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="checklist"' in text and "ticked by Colleague" in text and 'id="blockers"' in text
    entry = ChecklistEntry.objects.get()
    assert (entry.item, entry.answer, entry.note, entry.created_by) == ("consent", "yes", "on file", colleague)


def test_a_checklist_item_without_an_answer_writes_nothing(login, clinician, session):
    response = login(clinician).post(f"/sessions/{session.uuid}/checklist/", {"item": "consent", "answer": ""})
    assert response.status_code == 400 and "Choose Yes, No or Not applicable." in response.content.decode()
    assert not ChecklistEntry.objects.exists()


FORMS = ("header_form", "observations_form", "rescreen_form", "solution_form", "site_form", "sign_form")


def test_a_signed_note_read_builds_none_of_the_forms_it_does_not_show(login, clinician, signed_session):
    """Reading a signed note builds no form; amending builds those it shows; an open note all of them
    (docs/PERFORMANCE.md, "The calendar's week and the session record (session 10)")."""
    client = login(clinician)
    read = client.get(f"/sessions/{signed_session.uuid}/")
    assert [read.context[name] for name in FORMS] == [None] * 6
    assert all(row["form"] is None for row in read.context["checklist_rows"])
    text = read.content.decode()
    assert "Signed and locked" in text and "Site 1:" in text and "<form" not in text.split('id="header"')[1]
    amend = client.get(f"/sessions/{signed_session.uuid}/?amend=1").context
    assert tuple(name for name in FORMS if amend[name] is not None) == FORMS[:2] + FORMS[3:5]


def test_an_open_note_builds_every_form(login, clinician, session):
    context = login(clinician).get(f"/sessions/{session.uuid}/").context
    assert all(context[name] is not None for name in FORMS)
    assert all(row["form"] is not None for row in context["checklist_rows"])


def test_rescreening_for_the_day_links_a_screening(login, clinician, session):
    response = login(clinician).post(f"/sessions/{session.uuid}/rescreen/", {"pregnancy": "not_applicable"})
    assert response.status_code == 302
    assert fresh(session).day_screening.procedure_date == session.planned_on


def test_the_weight_for_limits_is_updated_and_a_silly_one_refused(login, clinician, session):
    client = login(clinician)
    response = client.post(
        f"/sessions/{session.uuid}/details/", {"weight_kg": "4000", "sedation": "none", "version": session.version}
    )
    assert (
        response.status_code == 400
        and "Body weight 4000 kg is outside 2-400 kg: check the unit" in response.content.decode()
    )
    assert fresh(session).weight_kg is None
    response = client.post(
        f"/sessions/{session.uuid}/details/", {"weight_kg": "62,5", "sedation": "oral", "version": session.version}
    )
    assert response.status_code == 302
    assert (fresh(session).weight_kg, fresh(session).sedation) == (Decimal("62.5"), "oral")


SOLUTION = {
    "label": "a", "final_volume_ml": "10", "target_dextrose_pct": "15", "dextrose_stock_pct": "50",
    "dextrose_lot": "D50-1", "dextrose_expiry": "2027-06-30", "anesthetic": "lidocaine",
    "target_anesthetic_pct": "0.5", "anesthetic_stock_pct": "2", "anesthetic_lot": "LID-2",
    "diluent": "0.9% sodium chloride", "diluent_lot": "NS-3",
}  # fmt: skip


def test_a_solution_is_recorded_as_the_calculator_mixes_it(login, colleague, session):
    response = login(colleague).post(f"/sessions/{session.uuid}/solutions/", SOLUTION)
    assert response.status_code == 302
    solution = PreparedSolution.objects.get()
    parts = {c["agent"]: c for c in solution.components}
    assert solution.label == "A" and solution.diluent_volume_ml == Decimal("4.50")
    assert (parts["dextrose"]["stock_volume_ml"], parts["dextrose"]["lot"], parts["dextrose"]["expiry"]) == (
        "3.00", "D50-1", "2027-06-30",
    )  # fmt: skip
    assert (parts["lidocaine"]["stock_volume_ml"], parts["lidocaine"]["lot"]) == ("2.50", "LID-2")
    page = login(colleague).get(f"/sessions/{session.uuid}/").content.decode()
    assert "3.00 mL</b> dextrose 50%" in page


def test_the_solution_preview_gives_the_volumes_to_draw(login, clinician, session):
    response = login(clinician).post(f"/sessions/{session.uuid}/solutions/preview/", SOLUTION, **HTMX)
    text = response.content.decode()
    assert "3.00 mL" in text and "2.50 mL" in text and "4.50 mL" in text


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ({"target_dextrose_pct": "60"}, "target_dextrose_pct", "above the stock concentration"),
        ({"final_volume_ml": "ten"}, "final_volume_ml", ""),
        ({"dextrose_expiry": "2026-01-01"}, "dextrose_expiry", "expired on 2026-01-01"),
        ({"anesthetic_expiry": "2026-11-01"}, "anesthetic_expiry", "expired on 2026-11-01"),
        ({"label": ""}, "label", "required"),
    ],
)
def test_a_bad_solution_is_refused_and_writes_nothing(login, clinician, session, change, where, message):
    before = versions()
    response = login(clinician).post(f"/sessions/{session.uuid}/solutions/", {**SOLUTION, **change})
    assert response.status_code == 400
    form = response.context["solution_form"]
    errors = form.errors[where] if where else form.non_field_errors()
    assert errors and message in " ".join(errors)
    assert not PreparedSolution.objects.exists() and versions() == before


def site_data(solution, **change):
    data = {"map": "knee_front", "side": "right", "landmark": "knee.tibial_tuberosity", "x": "", "y": "",
            "solution": str(solution.uuid), "volume_ml": "0.5", "depth_mm": "", "needle_gauge": "27",
            "guidance": "landmark", "label": ""}  # fmt: skip
    data.update(change)
    return data


def test_a_site_from_a_landmark_with_htmx_updates_map_list_and_totals(login, colleague, session, solution):
    data = site_data(solution, landmark="knee.tibial_tuberosity", x="1", y="1")
    response = login(colleague).post(f"/sessions/{session.uuid}/sites/", data, **HTMX)
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="site-work"' in text and 'id="totals" hx-swap-oob="true"' in text and "Site 1 added" in text
    site = InjectionSite.objects.get()
    # The landmark goes where the drawing shows it, not where a stale point in the form said.
    assert (site.x, site.y, site.label, site.needle_gauge) == (Decimal("200"), Decimal("372"), "Tibial tuberosity", 27)


def test_a_free_point_with_a_plain_post_redirects_to_the_map(login, clinician, session, solution):
    data = site_data(solution, landmark="", x="120.5", y="300", label="Tender point below the joint line")
    response = login(clinician).post(f"/sessions/{session.uuid}/sites/", data)
    assert response.status_code == 302 and response["Location"].endswith("?map=knee_front#map")
    site = InjectionSite.objects.get()
    assert (site.landmark, site.x, site.side) == ("", Decimal("120.5"), "right")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"landmark": "", "x": "", "y": ""}, "No point chosen"),
        ({"landmark": "", "x": "900", "y": "10", "label": "x"}, "outside the Knee, front map"),
        ({"landmark": "", "x": "100", "y": "100", "label": ""}, "Name the site"),
        ({"landmark": "shoulder.supraspinatus"}, "is not drawn on the Knee, front map"),
        ({"volume_ml": "0"}, "Volume 0 mL is outside 0.01-60 mL"),
        ({"map": "nowhere"}, "Unknown map"),
        # 50 kg: plain lidocaine up to 225 mg; 45 mL of 0.5% is 225 mg, plus what is there already.
        ({"volume_ml": "46"}, "Not added: Lidocaine plain total 230 mg is above the maximum 225 mg"),
    ],
)
def test_a_bad_site_is_refused_next_to_the_form_and_writes_nothing(
    login, clinician, session, solution, change, message
):
    services.update_session_record(
        actor_of(clinician), fresh(session), {"weight_kg": Decimal(50)}, expected_version=None
    )
    before = versions()
    response = login(clinician).post(f"/sessions/{session.uuid}/sites/", site_data(solution, **change), **HTMX)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not InjectionSite.objects.exists() and versions() == before
    plain = login(clinician).post(f"/sessions/{session.uuid}/sites/", site_data(solution, **change))
    assert plain.status_code == 400 and message in plain.content.decode()


def test_a_site_is_marked_entered_in_error_with_a_reason(login, clinician, ready_session):
    site = InjectionSite.objects.filter(session=ready_session).first()
    client = login(clinician)
    url = f"/sessions/{ready_session.uuid}/site/{site.uuid}/entered-in-error/"
    response = client.post(url, {"reason": "other", "details": "no", "version": site.version})
    assert response.status_code == 400 and not fresh(site).is_entered_in_error
    response = client.post(url, {"reason": "duplicate", "details": "Charted twice", "version": site.version})
    assert response.status_code == 302
    assert fresh(site).entered_in_error_reason == "Duplicate of another record: Charted twice"
    page = client.get(f"/sessions/{ready_session.uuid}/")
    assert page.context["totals"].injections == 7


def test_signing_shows_the_blockers_then_signs(login, clinician, session, solution):
    client = login(clinician)
    response = client.post(f"/sessions/{session.uuid}/sign/", {"version": fresh(session).version})
    text = response.content.decode()
    assert response.status_code == 400 and "Not signed." in text and "Checklist not ticked" in text
    assert fresh(session).signed_at is None


def test_a_signed_note_changes_only_by_amendment_with_a_reason(login, clinician, colleague, ready_session):
    client = login(clinician)
    assert client.post(f"/sessions/{ready_session.uuid}/sign/", {"version": ready_session.version}).status_code == 302
    signed = fresh(ready_session)
    assert signed.signed_by == clinician and signed.status == SessionStatus.DONE
    page = client.get(f"/sessions/{ready_session.uuid}/").content.decode()
    assert "Signed and locked" in page and 'id="site-form"' not in page and "?amend=1" in page
    amend_page = client.get(f"/sessions/{ready_session.uuid}/?amend=1").content.decode()
    assert 'id="site-form"' in amend_page and "Reason for the amendment" in amend_page
    assert 'value="late_entry"' in amend_page and "Adding something left out" in amend_page

    data = {"note": "Soreness at site 3 before leaving.", "instructions_given": "on", "version": signed.version}
    response = client.post(f"/sessions/{ready_session.uuid}/observations/", data)
    assert response.status_code == 400 and fresh(ready_session).note == ""
    # Free text alone is not a reason from the list; "other" needs its words.
    response = client.post(
        f"/sessions/{ready_session.uuid}/observations/", {**data, "amendment_reason": "Told me on the way out."}
    )
    assert response.status_code == 400 and fresh(ready_session).note == ""
    response = client.post(f"/sessions/{ready_session.uuid}/observations/", {**data, "amendment_code": "other"})
    assert response.status_code == 400 and "at least 5 characters" in response.content.decode()
    amendment = {**data, "amendment_code": "omission", "amendment_reason": "Told me on the way out."}
    response = client.post(f"/sessions/{ready_session.uuid}/observations/", amendment)
    # The confirmation step first (test_amendment_confirmation.py): nothing is saved until confirmed.
    assert response.status_code == 200 and fresh(ready_session).note == ""
    response = client.post(f"/sessions/{ready_session.uuid}/observations/", {**amendment, "confirm": "yes"})
    assert response.status_code == 302 and fresh(ready_session).note == "Soreness at site 3 before leaving."
    solution = PreparedSolution.objects.get()
    response = client.post(
        f"/sessions/{ready_session.uuid}/sites/",
        site_data(solution, amendment_code="late_entry", amendment_reason="Missed charting the pes anserinus."),
    )
    assert response.status_code == 302
    page = client.get(f"/sessions/{ready_session.uuid}/").content.decode()
    assert (
        "Note changed" in page and "Adding something left out: Told me on the way out." in page and "Site added" in page
    )
    # A nurse records but does not amend a signed note.
    nurse = login(colleague).post(
        f"/sessions/{ready_session.uuid}/observations/", {**data, "version": fresh(ready_session).version}
    )
    assert nurse.status_code == 400 and fresh(ready_session).note == "Soreness at site 3 before leaving."


# --- Adverse events --------------------------------------------------------------------------------------------

EVENT = {"event_type": "bruising", "onset_on": "2026-11-03", "severity": "mild", "causality": "probable",
         "outcome": "ongoing", "description": "Bruise at the medial joint line."}  # fmt: skip


def test_an_adverse_event_from_the_session_is_linked_and_takes_the_lots(login, colleague, signed_session):
    client = login(colleague)
    form = client.get(f"/patients/{signed_session.patient.uuid}/adverse-events/new/?session={signed_session.uuid}")
    solution = PreparedSolution.objects.get()
    assert form.context["form"]["solution"].value() == str(solution.uuid)
    response = client.post(
        f"/patients/{signed_session.patient.uuid}/adverse-events/new/",
        {**EVENT, "session": str(signed_session.uuid), "solution": str(solution.uuid)},
    )
    assert response.status_code == 302 and response["Location"].endswith("#adverse-events")
    event = AdverseEvent.objects.get()
    assert (event.session, event.solution, event.lot) == (signed_session, solution, "D50-2231, LID-88")


def test_a_future_onset_is_refused_and_writes_nothing(login, clinician, ready_session):
    response = login(clinician).post(
        f"/patients/{ready_session.patient.uuid}/adverse-events/new/", {**EVENT, "onset_on": "2999-01-01"}
    )
    assert response.status_code == 400 and "cannot be in the future" in response.content.decode()
    assert not AdverseEvent.objects.exists()


def test_following_an_event_keeps_its_versions(login, clinician, signed_session):
    event = services.record_adverse_event(
        actor_of(clinician), signed_session.patient, {**EVENT, "onset_on": date(2026, 11, 3)}, session=signed_session
    )
    client = login(clinician)
    data = {**EVENT, "outcome": "resolved", "version": event.version, "change_reason": "Phone call day 5"}
    assert client.post(f"/adverse-events/{event.uuid}/", data).status_code == 302
    assert fresh(event).outcome == "resolved"
    stale = client.post(f"/adverse-events/{event.uuid}/", {**data, "outcome": "ongoing"})
    assert stale.status_code == 400 and fresh(event).outcome == "resolved"
    page = client.get(f"/adverse-events/{event.uuid}/").content.decode()
    assert "Phone call day 5" in page and "History of this event" in page


def test_a_cancelled_session_cannot_be_recorded_on(login, clinician, session, solution):
    services.set_attendance(actor_of(clinician), fresh(session), SessionStatus.CANCELLED, reason="patient_unwell")
    response = login(clinician).post(f"/sessions/{session.uuid}/sites/", site_data(solution), **HTMX)
    assert not InjectionSite.objects.exists()
    assert "nothing can be recorded" in login(clinician).get(f"/sessions/{session.uuid}/").content.decode()
    assert response.status_code == 200
    assert TreatmentSession.objects.get(pk=session.pk).status == SessionStatus.CANCELLED


def test_the_adverse_event_form_offers_only_sessions_done(login, clinician, signed_session):
    client = login(clinician)
    form = client.get(f"/patients/{signed_session.patient.uuid}/adverse-events/new/").context["form"]
    offered = {value for value, _ in form.fields["session"].choices if value}
    assert offered == {str(signed_session.uuid)}
    later = signed_session.course.sessions.get(number=2)
    response = client.post(
        f"/patients/{signed_session.patient.uuid}/adverse-events/new/", {**EVENT, "session": str(later.uuid)}
    )
    assert response.status_code == 400 and not AdverseEvent.objects.exists()
