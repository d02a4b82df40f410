"""A Spanish-speaking patient answers a questionnaire link on a 390 px phone, in Spanish (issue 16).

The link opens in Spanish because of the patient's preferred language; the switch is reached by keyboard and turns
the page English and back. Screenshots in test-artifacts/screenshots/q-es-*.png.
"""

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from prolotrack.clinics.testing import actor_of
from prolotrack.outcomes import services
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.treatment import services as treatment_services

from .conftest import PHONE, shot
from .test_pain_scale import set_scale


@pytest.fixture
def phone(browser: Browser, live_server: Any, watch_csp: Any) -> Iterator[Page]:
    context = watch_csp(browser.new_context(viewport=PHONE, base_url=live_server.url, is_mobile=True, has_touch=True))
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def spanish_link(clinician, make_patient) -> str:
    rosa = make_patient(given_name="Rosa", family_name="Quintero", preferred_language="es")
    course = treatment_services.create_course(
        actor_of(clinician), rosa, protocol_id="knee_oa_rabago", indication="Knee osteoarthritis",
        region="knee", side="right", start_on=date(2026, 11, 2), clinician=clinician,
    )  # fmt: skip
    follow_up = course.timepoints.filter(kind="follow_up").order_by("due_on").first()
    _, path = services.create_link(actor_of(clinician), rosa, timepoint=follow_up, delivery="qr")
    return path


def _no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


def test_a_spanish_speaking_patient_answers_in_spanish_on_a_phone(phone: Page, spanish_link: str) -> None:
    phone.goto(spanish_link, timeout=60_000)  # the first request imports every app's URLs
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    expect(phone.get_by_role("heading", name="Unas preguntas sobre cómo se siente")).to_be_visible()
    expect(phone.get_by_text("Quintero")).to_have_count(0)
    switch = phone.get_by_role("navigation", name="Idioma")
    expect(switch.get_by_role("link", name="Español")).to_have_attribute("aria-current", "true")
    _no_horizontal_scroll(phone)
    shot(phone, "q-es-1-start-phone")

    # The switch by keyboard: Tab from the top of the page reaches "English" before the page's own links.
    phone.keyboard.press("Tab")
    expect(switch.get_by_role("link", name="English")).to_be_focused()
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", name="A few questions about how you are doing")).to_be_visible()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    phone.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
    expect(phone.get_by_role("heading", name="Unas preguntas sobre cómo se siente")).to_be_visible()

    phone.get_by_role("link", name="Empezar").click()
    expect(phone.get_by_role("heading", name="Intensidad del dolor (0-10)")).to_be_visible()
    now = phone.get_by_role("group", name="¿Qué tan fuerte es su dolor en este momento?")
    expect(now.locator("output")).to_have_text("Sin contestar: mueva el control deslizante o use − y +")
    set_scale(now, 6)
    set_scale(phone.get_by_role("group", name="En promedio, ¿qué tan fuerte fue su dolor en los últimos 7 días?"), 5)
    set_scale(
        phone.get_by_role("group", name="En su peor momento, ¿qué tan fuerte fue su dolor en los últimos 7 días?"), 8
    )
    expect(now.get_by_role("button", name="Más")).to_be_visible()
    _no_horizontal_scroll(phone)
    shot(phone, "q-es-2-nrs-phone")
    phone.get_by_role("button", name="Guardar y continuar").click()

    expect(phone.get_by_role("heading", name="Cambio general desde que empezó el tratamiento")).to_be_visible()
    phone.get_by_role("radio", name="Mucho mejor", exact=True).check()
    _no_horizontal_scroll(phone)
    shot(phone, "q-es-3-pgic-phone")
    phone.get_by_role("button", name="Guardar y revisar").click()

    expect(phone.get_by_role("heading", name="Revise y envíe sus respuestas")).to_be_visible()
    shot(phone, "q-es-4-review-phone")
    phone.get_by_role("button", name="Enviar mis respuestas").click()
    expect(phone.get_by_role("heading", name="Gracias")).to_be_visible()
    scores = {r.instrument: (r.status, str(r.score)) for r in QuestionnaireResponse.objects.all()}
    assert scores == {"nrs_pain": ("completed", "5.00"), "pgic": ("completed", "2.00")}
