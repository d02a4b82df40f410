"""The questionnaire pages in the patient's language (issue 16; docs/LANGUAGES.md).

The order: the switch (?lang=, remembered in a cookie), else the link's patient's preferred language, else the
browser's Accept-Language, else English. Instrument texts are Spanish only for the shipped instruments.
"""

import re

import pytest
from django.conf import settings
from django.core.cache import cache

from prolotrack.clinics.testing import actor_of
from prolotrack.outcomes import hooks, services
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.treatment.testing import knee_course

from .conftest import START

COOKIE = settings.LANGUAGE_COOKIE_NAME


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _link(clinician, patient, timepoint, instruments=None):
    _, path = services.create_link(actor_of(clinician), patient, timepoint=timepoint, instruments=instruments)
    return path


@pytest.fixture
def spanish_patient(make_patient):
    return make_patient(given_name="Rosa", family_name="Quintero", preferred_language="es")


@pytest.fixture
def rosa_follow_up(clinician, spanish_patient):
    return knee_course(clinician, spanish_patient, START).timepoints.filter(kind="follow_up").order_by("due_on")[0]


def _lang(response) -> str:
    return re.search(r'<html lang="([a-z-]+)"', response.content.decode()).group(1)


def test_a_patient_whose_language_is_spanish_gets_the_pages_in_spanish(
    client, clinician, spanish_patient, rosa_follow_up
):
    path = _link(clinician, spanish_patient, rosa_follow_up)
    start = client.get(path)
    body = start.content.decode()
    assert start.status_code == 200 and _lang(start) == "es" and start["Content-Language"] == "es"
    assert "Unas preguntas sobre cómo se siente" in body and "Empezar" in body
    assert "A few questions" not in body
    assert "Intensidad del dolor (0-10)" in body  # the NRS's title, translated by the product (shipped instrument)
    # The expiry date in Spanish words and order ("lunes, 7 de diciembre de 2026, 09:00 CST").
    assert re.search(r"hasta el (lunes|martes|miércoles|jueves|viernes|sábado|domingo), \d+ de [a-z]+ de \d{4}", body)
    page = client.get(f"{path}1/").content.decode()
    assert "¿Qué tan fuerte es su dolor en este momento?" in page and "Sin dolor" in page
    assert "Guardar y continuar" in page and 'data-lower="Menos"' in page
    # A refused answer is explained in Spanish, next to its question, and nothing is saved.
    refused = client.post(f"{path}1/", {"now": "12", "action": "next"})
    assert refused.status_code == 400
    assert "Conteste con un número entero entre 0 y 10." in refused.content.decode()
    assert not QuestionnaireResponse.objects.exists()
    # PGIC options in Spanish on page 2, and the review lists the answers in Spanish.
    client.post(f"{path}1/", {"now": "6", "average_week": "5", "worst_week": "8", "action": "next"})
    assert "Muchísimo mejor" in client.get(f"{path}2/").content.decode()
    client.post(f"{path}2/", {"pgic": "2", "action": "review"})
    review = client.get(f"{path}review/").content.decode()
    assert "Revise y envíe sus respuestas" in review and "Mucho mejor" in review
    assert "Gracias" in client.post(f"{path}review/").content.decode()
    closed = client.get(path)
    assert closed.status_code == 410 and "Este enlace ya se usó" in closed.content.decode()


def test_the_switch_overrides_the_patient_and_is_remembered(client, clinician, spanish_patient, rosa_follow_up):
    path = _link(clinician, spanish_patient, rosa_follow_up)
    english = client.get(f"{path}?lang=en")
    assert _lang(english) == "en" and "A few questions about how you are doing" in english.content.decode()
    assert english.cookies[COOKIE].value == "en" and english.cookies[COOKIE]["samesite"] == "Lax"
    assert english.cookies[COOKIE]["path"] == path  # this link's pages only: not the next patient's on a tablet
    # The next page, without ?lang=, stays in the chosen language (the cookie), over the patient's Spanish.
    assert "Save and continue" in client.get(f"{path}1/").content.decode()
    back = client.get(f"{path}1/?lang=es")
    assert _lang(back) == "es" and "Guardar y continuar" in back.content.decode()
    assert "Cookie" in back["Vary"] and "Accept-Language" in back["Vary"]


def test_the_switch_is_on_every_patient_page_with_each_language_in_its_own_name(client, records_path):
    body = client.get(records_path).content.decode()
    switch = re.search(r'<nav class="lang-switch" aria-label="Language">(.*?)</nav>', body, re.S).group(1)
    assert f'href="{records_path}?lang=en" lang="en" hreflang="en" aria-current="true">English</a>' in switch
    assert f'href="{records_path}?lang=es" lang="es" hreflang="es">Español</a>' in switch
    assert 'aria-label="Idioma"' in client.get(f"{records_path}?lang=es").content.decode()


def test_without_a_choice_or_a_preference_the_browser_language_decides(client, records_path):
    # The patient fixture (Ada) prefers English (the default) but that is the record's default, so Accept-Language
    # is only reached for a page with no known patient: an unknown token.
    spanish = client.get("/q/not-a-real-token/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")
    assert spanish.status_code == 404 and _lang(spanish) == "es"
    assert "No se encontró el enlace" in spanish.content.decode()
    french = client.get("/q/not-a-real-token/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert _lang(french) == "en" and "Link not found" in french.content.decode()
    # A known patient's preferred language (English here) comes before the browser's.
    known = client.get(records_path, HTTP_ACCEPT_LANGUAGE="es")
    assert _lang(known) == "en"


def test_a_licensed_instrument_stays_in_its_licensed_text_and_the_spanish_page_says_so(
    client, clinician, spanish_patient, rosa_follow_up
):
    questionnaire = hooks.questionnaire_resource("koos_jr", None)
    for n, item in enumerate(questionnaire["item"], start=1):
        item["text"] = f"Licensed item {n}"
    statement = "Mapi Research Trust licence ML-2026-001, single clinic, electronic use."
    services.import_instrument_texts(actor_of(clinician), "koos_jr", questionnaire, statement)
    path = _link(clinician, spanish_patient, rosa_follow_up)
    start = client.get(path).content.decode()
    assert "Este cuestionario tiene licencia" in start
    page = client.get(f"{path}3/").content.decode()  # nrs_pain, pgic, koos_jr
    assert "Licensed item 1" in page and "Este cuestionario tiene licencia" in page
    english = client.get(f"{path}3/?lang=en").content.decode()
    assert "Licensed item 1" in english and "This questionnaire is licensed" not in english


@pytest.fixture
def records_path(clinician, patient, follow_up):
    return _link(clinician, patient, follow_up)
