"""The whole treatment path in Chromium (issue 4): intake, screening with an override, a course from the knee OA
template, booking, the checklist, a solution, eight sites placed on the map, a refused overdose, signing, an
amendment and an adverse event. Screenshots go to test-artifacts/screenshots/treatment-*.png."""

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Page, expect

from prolotrack.audit.models import RecordVersion
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.consent.testing import sign_for_course
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Patient
from prolotrack.treatment import maps, services
from prolotrack.treatment.models import AdverseEvent, Course, InjectionSite, TreatmentSession
from tests.browser.conftest import SCREENSHOTS, log_in, shot

pytestmark = pytest.mark.browser

KNEE_FRONT = [
    "knee.quadriceps_tendon_superior_pole",
    "knee.retinaculum_lateral",
    "knee.retinaculum_medial",
    "knee.patellar_tendon_inferior_pole",
    "knee.intra_articular",
    "knee.coronary_lateral",
    "knee.coronary_medial",
    "knee.tibial_tuberosity",
]


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def intake(page: Page, patient: Patient) -> None:
    """Weight and an NSAID, then an anticoagulant (a caution to override), typed on the chart."""
    page.goto(f"/patients/{patient.uuid}/")
    weights = page.locator("section#weight")
    weights.get_by_text("Add weight").click()
    weights.get_by_label("Weight (kg)").fill("50")
    weights.get_by_role("button", name="Add").click()
    expect(page.locator(".msg-success")).to_have_text("The weight was added.")
    for name, drug_class in (("Ibuprofen", "NSAID"), ("Apixaban", "Anticoagulant")):
        medications = page.locator("section#medication")
        medications.get_by_text("Add medication").click()
        medications.get_by_label("Name", exact=True).fill(name)
        medications.get_by_label("Drug class").select_option(label=drug_class)
        medications.get_by_role("button", name="Add").click()
        expect(page.locator(".msg-success")).to_have_text("The medication was added.")
    allergies = page.locator("section#allergy")
    allergies.get_by_role("button", name="Confirm no known allergies").click()
    shot(page, "treatment-01-intake-chart")


def screen_and_override(page: Page, patient: Patient, today: str) -> None:
    page.goto(f"/patients/{patient.uuid}/screening/new/")
    page.get_by_label("Procedure date").fill(today)
    page.get_by_label("Body region").select_option(label="Knee")
    page.get_by_label("Side").select_option(label="Right")
    page.get_by_label("Site", exact=True).fill("right knee, medial and anterior")
    page.get_by_label("Dextrose").check()
    page.get_by_label("Lidocaine").check()
    page.get_by_label("Pregnancy status (ask today)").select_option(label="Not applicable")
    page.get_by_role("button", name="Screen", exact=True).click()
    caution = page.locator("article", has_text="Anticoagulant")
    caution.get_by_text("Override with a written reason…").click()
    caution.get_by_label("Why it is safe to proceed despite this").fill(
        "Superficial ligament sites only, 27 G needles, pressure after each; discussed with the patient."
    )
    caution.get_by_role("button", name="Override with this reason").click()
    expect(page.locator(".msg-success")).to_contain_text("Override recorded")
    shot(page, "treatment-02-screening-overridden")


def test_the_whole_treatment_path(
    new_page: Callable[..., Page], clinician: User, make_patient: Callable[..., Patient], add_record: Any
) -> None:
    patient = make_patient(given_name="Grace", family_name="Hopper", sex="female")
    today = timezone.localdate(timezone=patient.clinic.tz).isoformat()
    page = log_in(new_page(), clinician)
    intake(page, patient)
    screen_and_override(page, patient, today)

    # A course from the knee OA template, started on the chart.
    page.goto(f"/patients/{patient.uuid}/")
    courses = page.locator("section#courses")
    expect(courses).to_contain_text("No treatment course yet.")
    courses.get_by_role("link", name="Start a course").click()
    page.get_by_label("Protocol template").select_option("knee_oa_rabago")
    expect(page.get_by_label("Body region")).to_have_value("knee")
    page.get_by_label("Side").select_option(label="Right")
    page.get_by_label("Indication").fill("Knee osteoarthritis, medial pain")
    page.get_by_label("First session on").fill(today)
    page.get_by_label("Treating clinician").select_option("clinician")
    expect(page.get_by_label("Screening to keep with the course")).not_to_have_value("")
    shot(page, "treatment-03-start-course")
    page.get_by_role("button", name="Open the course").click()
    expect(page.locator(".msg-success")).to_contain_text("Course opened with 5 planned sessions.")
    course = Course.objects.get()
    assert (course.protocol_id, course.screening is not None) == ("knee_oa_rabago", True)
    plan = page.locator("section#plan tbody tr")
    expect(plan).to_have_count(5)
    shot(page, "treatment-04-course-plan")
    # No session is signed without the course's consent (issue 7). The card says so; signing on screen is driven in
    # tests/browser/test_consent.py, so here the consent is taken through the same service.
    expect(page.locator("#consent-card")).to_contain_text("No current treatment consent")
    sign_for_course(actor_of(clinician), course)

    # Book the first session for now, clinic time (to the minute): a note is signed only once its session is near or past
    # its start, so a fixed hour would fail whenever the suite runs earlier in the clinic's day.
    starts = timezone.localtime(timezone=patient.clinic.tz).strftime("%H:%M")
    first = plan.nth(0)
    first.get_by_text("Book", exact=True).click()
    first.get_by_label("Date").fill(today)
    first.get_by_label("Time (clinic time)").fill(starts)
    first.get_by_role("button", name="Book session 1").click()
    expect(page.locator(".msg-success")).to_contain_text("booked on")
    expect(plan.nth(0)).to_contain_text(starts)
    expect(plan.nth(0).locator(".status-badge")).to_have_text("Booked")
    shot(page, "treatment-05-session-booked")

    # The calendar shows it.
    page.get_by_role("link", name="Calendar", exact=True).click()
    expect(page.locator(".appt")).to_contain_text("Hopper, Grace")
    shot(page, "treatment-06-calendar-week")

    page.goto(f"/courses/{course.uuid}/")
    page.locator("section#plan tbody tr").nth(0).get_by_role("link", name="Open session record").click()
    expect(page.get_by_role("heading", name=re.compile("Hopper, Grace"))).to_be_visible()
    expect(page.locator("#totals")).to_contain_text("50 kg (chart)")
    shot(page, "treatment-07-session-empty")
    session = TreatmentSession.objects.get(course=course, number=1)

    # Checklist: each answer saves itself; who ticked it is shown. First with the keyboard alone: arrows move
    # through the answers, each one is saved, and focus stays on the answer.
    page.locator("#check-numbing").get_by_label("Yes", exact=True).focus()
    page.keyboard.press("Space")
    expect(page.locator("#check-numbing.is-ok")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#check-numbing").get_by_label("No", exact=True)).to_be_checked()
    expect(page.locator("#check-numbing").get_by_label("No", exact=True)).to_be_focused()
    expect(page.locator("#check-numbing .ticked-by")).to_contain_text("No · ticked by Clinician")
    for item, answer in (
        ("meal", "Yes"),
        ("consent", "Yes"),
        ("skin_prep", "Yes"),
        ("numbing", "Not applicable"),
        ("time_out", "Yes"),
    ):
        row = page.locator(f"#check-{item}")
        # Tick once the previous answer's swap has settled, as a person waits for the list to redraw.
        expect(page.locator(".htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)
        row.get_by_label(answer, exact=True).check()
        expect(page.locator(f"#check-{item}.is-ok")).to_be_visible()
        expect(page.locator(f"#check-{item} .ticked-by")).to_contain_text("ticked by Clinician")
    page.locator("#screening").get_by_role("button", name="Re-check screening").click()
    expect(page.locator(".msg-success")).to_contain_text("Screening re-checked")
    expect(page.locator("#screening")).to_contain_text("Anticoagulant")
    shot(page, "treatment-08-checklist-and-screening")

    # One solution: 10 mL of 15% dextrose with 0.5% lidocaine from D50 and 2% (DOMAIN.md §2).
    form = page.locator("form.solution-form")
    form.get_by_label("Final volume (mL)").fill("10")
    form.get_by_label("Dextrose wanted (%)").fill("15")
    form.locator("fieldset", has_text="Dextrose").get_by_label("Lot", exact=True).fill("D50-2231")
    form.get_by_label("Anaesthetic", exact=True).select_option("lidocaine")
    form.get_by_label("Anaesthetic wanted (%)").fill("0.5")
    form.get_by_label("Anaesthetic stock (%)").fill("2")
    preview = page.locator("#mix-preview")
    expect(preview.locator("ol.draw li").nth(0)).to_have_text(re.compile(r"3\.00 mL\s+Dextrose 50% stock"))
    expect(preview.locator("ol.draw li").nth(1)).to_have_text(re.compile(r"2\.50 mL\s+Lidocaine 2% stock"))
    expect(preview.locator("ol.draw li").nth(2)).to_have_text(re.compile(r"4\.50 mL\s+0\.9% sodium chloride"))
    shot(page, "treatment-09-solution-preview")
    form.get_by_role("button", name="Record solution").click()
    expect(page.locator(".msg-success")).to_contain_text("Solution A recorded")
    expect(page.locator("table.solutions")).to_contain_text("3.00 mL dextrose 50%")
    expect(page.locator("#totals")).to_contain_text("of max 225 mg lidocaine plain")

    # Eight sites, each by tapping a landmark on the drawing; the volume carries over to the next site.
    sites = page.locator("#sites tbody tr")
    for number, code in enumerate(KNEE_FRONT, start=1):
        # Tap once the previous swap has settled (the list below the map has just grown).
        expect(page.locator(".htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)
        page.locator(f'.map-target[data-landmark="{code}"] .map-target-hit').click()
        volume = page.locator("#site-form").get_by_label("Volume (mL)")
        expect(volume).to_be_focused()
        if number == 1:
            volume.fill("0.5")
            page.locator("#site-form").get_by_label("Needle (G)").select_option("27")
            shot(page, "treatment-10-first-landmark-chosen")
        if number % 2:
            page.locator("#site-form").get_by_role("button", name="Add site").click()
        else:
            volume.press("Enter")
        expect(sites).to_have_count(number)
        expect(page.locator(".site-added")).to_contain_text(f"Site {number} added")
    totals = page.locator("#totals")
    expect(totals).to_contain_text("8")
    expect(totals).to_contain_text("4.00 mL")
    expect(totals).to_contain_text("20 mg")
    expect(page.locator(".map-site")).to_have_count(8)
    shot(page, "treatment-11-eight-sites")

    # A large-volume site would take lidocaine over 225 mg for 50 kg: refused, said next to the form, nothing added.
    page.locator('.map-target[data-landmark="knee.intra_articular"] .map-target-hit').click()
    page.locator("#site-form").get_by_label("Volume (mL)").fill("45")
    page.locator("#site-form").get_by_role("button", name="Add site").click()
    refusal = page.locator("#site-form .errors.refusal")
    expect(refusal).to_contain_text("Not added:")
    expect(refusal).to_contain_text("above the maximum 225 mg")
    expect(sites).to_have_count(8)
    expect(page.locator("#site-form").get_by_label("Volume (mL)")).to_have_value("45")
    shot(page, "treatment-12-overdose-refused")
    assert InjectionSite.objects.filter(session=session).count() == 8

    # Observations, then signing.
    page.get_by_label("Post-procedure instructions given").check()
    page.locator("#observations").get_by_label("Note", exact=True).fill("Tolerated well.")
    page.get_by_role("button", name="Save observations").click()
    expect(page.locator(".msg-success")).to_contain_text("Observations saved")
    expect(page.locator("#blockers")).to_contain_text("Ready to sign")
    page.get_by_role("button", name="Sign the session note").click()
    expect(page.locator(".locked-banner")).to_contain_text("Signed and locked")
    expect(page.locator("#site-form")).to_have_count(0)
    shot(page, "treatment-13-signed")

    # An amendment needs a reason, and is listed with it.
    page.get_by_role("link", name="Amend").click()
    observations = page.locator("#observations")
    observations.get_by_label("Note", exact=True).fill("Tolerated well. Mild soreness at the medial coronary site.")
    observations.get_by_role("button", name="Save observations").click()
    expect(observations.locator(".error")).to_contain_text("required")
    observations.get_by_label("Adding something left out").check()
    observations.get_by_label("Details").fill("Soreness reported before leaving, not charted.")
    observations.get_by_role("button", name="Save observations").click()
    # The confirmation step: the field that changes, before and after; nothing saved until confirmed.
    expect(page.get_by_role("heading", level=1)).to_have_text("Amend the signed note")
    row = page.locator(".confirm-fields tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Note")
    expect(row.locator("td").first).to_have_text("Tolerated well.")
    expect(row.locator("td").last).to_have_text("Tolerated well. Mild soreness at the medial coronary site.")
    expect(page.get_by_label("Adding something left out")).to_be_checked()
    assert TreatmentSession.objects.get(pk=session.pk).note == "Tolerated well."
    shot(page, "treatment-14a-amendment-confirm")
    page.get_by_role("button", name="Save the amendment").click()
    expect(page.locator(".msg-success")).to_contain_text("Amendment saved")
    amendments = page.locator("#amendments")
    expect(amendments).to_contain_text("Note changed")
    expect(amendments).to_contain_text("Soreness reported before leaving, not charted.")
    shot(page, "treatment-14-amended")

    # An adverse event from the session page, linked to the session.
    page.locator("#adverse-events").get_by_role("link", name="Record an adverse event").click()
    page.get_by_label("Type").select_option(label="Bruising")
    page.get_by_label("Mild").check()
    page.get_by_label("Causality (WHO-UMC)").select_option(label="Probable")
    page.get_by_label("Description").fill("Bruise 2 cm at the medial joint line, no swelling.")
    shot(page, "treatment-15-adverse-event-form")
    page.get_by_role("button", name="Record the adverse event").click()
    expect(page.locator(".msg-success")).to_contain_text("Adverse event recorded: Bruising")
    expect(page.locator("#adverse-events")).to_contain_text("Bruising")
    event = AdverseEvent.objects.get()
    assert (event.session_id, event.lot) == (session.pk, "D50-2231")
    shot(page, "treatment-16-session-with-adverse-event")
    assert RecordVersion.objects.filter(record_uuid=session.uuid, action="treatment.session.amended").count() == 1


@pytest.fixture
def placed_session(clinician: User, make_patient: Callable[..., Patient]) -> TreatmentSession:
    """A knee session with a solution and the eight front-of-knee landmarks injected, a previous session's too."""
    patient = make_patient(given_name="Grace", family_name="Hopper")
    actor = actor_of(clinician)
    with transaction.atomic():
        patient_services.add_child(
            actor, patient, "weight", {"measured_on": date(2026, 1, 5), "weight_kg": Decimal(50)}
        )
    today = timezone.localdate(timezone=patient.clinic.tz)
    course = services.create_course(
        actor, patient, protocol_id="knee_oa_rabago", indication="Knee osteoarthritis", region="knee", side="right",
        start_on=today, clinician=clinician,
    )  # fmt: skip
    session = course.sessions.get(number=1)
    solution = services.add_solution(
        actor, session, label="A", final_volume_ml=Decimal(10),
        components=[{"agent": "dextrose", "target_pct": "15", "stock_pct": "50", "lot": "D50-1"},
                    {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2", "lot": "LID-2"}],
    )  # fmt: skip
    drawing = maps.body_map("knee_front")
    for code in KNEE_FRONT:
        x, y = maps.position(drawing, code, "right")
        services.add_site(
            actor, TreatmentSession.objects.get(pk=session.pk), solution=solution, body_map="knee_front",
            x=Decimal(str(x)), y=Decimal(str(y)), side="right", volume_ml=Decimal("0.5"), landmark=code,
        )  # fmt: skip
    return TreatmentSession.objects.get(pk=session.pk)


def test_the_session_page_on_a_tablet(tablet_page: Page, clinician: User, placed_session: TreatmentSession) -> None:
    page = log_in(tablet_page, clinician)
    page.goto(f"/sessions/{placed_session.uuid}/")
    expect(page.locator(".map-site")).to_have_count(8)
    no_sideways_scroll(page)
    shot(page, "treatment-17-session-tablet")
    # The totals stay in view while the map is used.
    page.locator("#map h2").scroll_into_view_if_needed()
    page.mouse.wheel(0, 300)
    page.wait_for_timeout(200)
    box = page.locator("#totals").bounding_box()
    assert box is not None and box["y"] <= 1, box
    page.screenshot(path=str(SCREENSHOTS / "treatment-18-session-tablet-viewport.png"))


def test_the_front_desk_books_from_the_calendar_on_a_tablet(
    tablet_page: Page, clinician: User, frontdesk: User, placed_session: TreatmentSession
) -> None:
    page = log_in(tablet_page, frontdesk)
    page.get_by_role("link", name="Calendar", exact=True).click()
    waiting = page.locator(".unbooked-list li", has_text="Hopper, Grace")
    expect(waiting).to_contain_text("session 1")
    expect(page.locator(".unbooked")).not_to_contain_text("Knee osteoarthritis")
    no_sideways_scroll(page)
    shot(page, "treatment-19-calendar-front-desk-tablet")
    waiting.get_by_role("link", name="Book").click()
    expect(page.get_by_role("heading", name="Session 1 · Hopper, Grace")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Knee osteoarthritis")
    page.get_by_label("Time (clinic time)").fill("14:15")
    page.get_by_label("Clinician").select_option("clinician")
    shot(page, "treatment-20-appointment-front-desk-tablet")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator(".msg-success")).to_contain_text("at 14:15 with Clinician")
    expect(page).to_have_url(re.compile(r"/calendar/"))
    expect(page.locator(".appt", has_text="Hopper, Grace")).to_contain_text("14:15")
    shot(page, "treatment-21-calendar-booked-tablet")
    assert TreatmentSession.objects.get(pk=placed_session.pk).status == "booked"
