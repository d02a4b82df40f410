"""Handouts in the patient's language (docs/LANGUAGES.md, "Documents"): the shipped Spanish texts, the language chosen
(the patient's preferred, or staff's choice), the fallback to the shipped translation and then English, the
clinic's edits per language, and Spanish characters in the PDF."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.testing import actor_of
from prolotrack.documents import content, handout_texts_es, handouts, services
from prolotrack.documents.models import HandoutVersion
from prolotrack.documents.tests.conftest import pdf_text
from prolotrack.domain import claims
from prolotrack.treatment import services as treatment_services

pytestmark = pytest.mark.django_db

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def prefers(patient, language):
    """Set the patient's preferred language through the service (as the edit form does)."""
    from django.db import transaction

    from prolotrack.patients.services import update_patient

    user = patient.clinic.memberships.filter(role="clinician").first().user
    with transaction.atomic():
        return update_patient(
            actor_of(user), patient, {"preferred_language": language}, expected_version=patient.version
        )


def structure(text):
    """The shape of a text: its headings, bullets and paragraphs counted, and its placeholders."""
    lines = [line for line in text.split("\n") if line.strip()]
    return (
        sum(line.startswith("## ") for line in lines),
        sum(line.startswith("- ") for line in lines),
        sorted(PLACEHOLDER.findall(text)),
    )


@pytest.mark.parametrize("spec", handouts.ALL_SECTIONS, ids=lambda s: s.code)
def test_every_section_ships_in_spanish_with_the_same_shape_and_no_overclaim(spec):
    spanish = handout_texts_es.TEXTS[spec.code]
    assert handouts.check_text(spanish) == spanish.strip()
    assert structure(spanish) == structure(spec.default)
    assert claims.find_overclaims(spanish) == []
    # The numbers of the English text are all in the Spanish (only words change).
    assert re.findall(r"\d+(?:\.\d+)?", spanish) == re.findall(r"\d+(?:\.\d+)?", spec.default)
    assert handouts.shipped(spec.code, "es") == spanish and handouts.shipped(spec.code, "en") == spec.default


def test_the_spanish_texts_cover_exactly_the_sections():
    assert set(handout_texts_es.TEXTS) == {s.code for s in handouts.ALL_SECTIONS}


@pytest.fixture
def booked(clinician, course):
    treatment_services.book_session(
        actor_of(clinician),
        course.sessions.get(number=1),
        starts_at=datetime(2026, 11, 2, 8, 15, tzinfo=ZoneInfo("America/Chicago")),
        clinician=clinician,
    )
    return course


def test_a_spanish_preferring_patient_gets_the_before_handout_in_spanish(booked):
    patient = prefers(booked.patient, "es")
    context = content.handout_context(patient, handouts.BEFORE)
    assert context["language"] == "es" and context["fallback_parts"] == []
    data = content.handout_pdf(context)
    text = pdf_text(data)
    assert "Antes de su sesión de proloterapia" in text and "Idioma de este documento: Español." in text
    assert "Para Ada Lovelace · Rodilla" in text
    # The stop date in Spanish words and order (3 days: the default), in the box and in the text.
    assert "Deje de tomar analgésicos antiinflamatorios (AINE) a partir del viernes, 30 de octubre de 2026." in text
    assert "Fecha de su sesión: lunes, 2 de noviembre de 2026." in text
    assert "Fecha en la que debe dejar de tomarlos: viernes, 30 de octubre de 2026." in text
    assert "Fuentes:" in text and "Práctica de las clínicas: comer algo ligero antes ayuda a evitar desmayos" in text
    assert "Página 1 de" in text and "generado el" in text
    # No English of the product's handout text is left.
    assert "Painkillers" not in text and "light meal" not in text and "Sources:" not in text


@pytest.mark.parametrize(
    ("preferred", "asked", "language", "words"),
    [
        ("es", None, "es", "Después de su sesión de proloterapia"),
        ("en", None, "en", "After your prolotherapy session"),
        ("en", "es", "es", "Después de su sesión de proloterapia"),  # staff override
        ("es", "en", "en", "After your prolotherapy session"),  # staff override
        ("es", "xx", "es", "Después de su sesión de proloterapia"),  # an unknown choice: the patient's
    ],
)
def test_the_language_is_the_patients_unless_staff_choose(booked, preferred, asked, language, words):
    patient = prefers(booked.patient, preferred)
    context = content.handout_context(patient, handouts.AFTER, language=asked)
    assert context["language"] == language
    assert words in pdf_text(content.handout_pdf(context))


def test_staff_choose_the_language_on_the_page_and_the_pdf_says_which(client, login, clinician, booked):
    patient = prefers(booked.patient, "es")
    client = login(clinician)
    url = f"/patients/{patient.uuid}/handouts/after/"
    page = client.get(url).content.decode()
    assert '<article class="handout-sheet" lang="es">' in page and "Qué es normal" in page
    assert "the patient's preferred language" in page and 'lang=en"' in page
    page = client.get(url, {"lang": "en"}).content.decode()
    assert '<article class="handout-sheet" lang="en">' in page and "What is normal" in page
    assert "the patient prefers Español" in page
    response = client.get(url, {"lang": "en", "format": "pdf"})
    assert "handout-after-en-" in response["Content-Disposition"]
    assert "Language of this document: English." in pdf_text(response.content)
    response = client.get(url, {"format": "pdf"})
    assert "handout-after-es-" in response["Content-Disposition"]
    assert "Idioma de este documento: Español." in pdf_text(response.content)
    languages = [e.detail.get("language") for e in AuditEvent.objects.filter(action="document.handout.after.viewed")]
    assert languages == ["es", "en", "en", "es"] or sorted(languages) == ["en", "en", "es", "es"]


def test_clinic_edits_are_kept_per_language(admin_user, booked):
    actor = actor_of(admin_user)
    patient = booked.patient
    services.save_handout(actor, "evidence.knee", "## Knee\n- Our own summary.", expected_number=0)
    # An English edit: English readers get it; Spanish readers still get the shipped Spanish, and staff are warned.
    patient = prefers(patient, "es")
    spanish = content.handout_context(patient, handouts.EVIDENCE)
    knee = next(p for p in spanish["parts"] if p.code == "evidence.knee")
    assert knee.number == 0 and knee.language == "es" and knee.edited_elsewhere == ("en",)
    assert "Artrosis de rodilla" in str(knee.html)
    assert "Our own summary." in pdf_text(
        content.handout_pdf(content.handout_context(patient, handouts.EVIDENCE, language="en"))
    )
    # The clinic writes its Spanish version (with ¿ ¡ and accents): Spanish readers get it; English is untouched.
    row = services.save_handout(
        actor,
        "evidence.knee",
        "## Rodilla\n- ¿Preguntas? ¡Llámenos! Resumen propio de la clínica: acción, está, qué, útil, niño, año.",
        expected_number=0,
        language="es",
    )
    assert (row.language, row.number) == ("es", 1)
    text = pdf_text(content.handout_pdf(content.handout_context(patient, handouts.EVIDENCE)))
    assert "¿Preguntas? ¡Llámenos! Resumen propio de la clínica: acción, está, qué, útil, niño, año." in text
    assert "Texto de la clínica, versión 1." in text
    english_text = pdf_text(content.handout_pdf(content.handout_context(patient, handouts.EVIDENCE, language="en")))
    assert "Our own summary." in english_text and "Clinic text, version 1." in english_text
    # Versions are numbered per language, and a revert to 0 restores the shipped text of that language.
    services.save_handout(actor, "evidence.knee", "## Knee\n- Second.", expected_number=1)
    reverted = services.revert_handout(actor, "evidence.knee", 0, expected_number=1, language="es")
    assert (reverted.language, reverted.number, reverted.body) == ("es", 2, handout_texts_es.TEXTS["evidence.knee"])
    assert list(
        HandoutVersion.objects.filter(section="evidence.knee")
        .order_by("language", "number")
        .values_list("language", "number")
    ) == [("en", 1), ("en", 2), ("es", 1), ("es", 2)]
    event = AuditEvent.objects.filter(action="handout.reverted").latest("id")
    assert event.detail["language"] == "es"


def test_a_stale_spanish_edit_is_refused_without_touching_english(admin_user):
    from prolotrack.audit.services import StaleEditError

    actor = actor_of(admin_user)
    services.save_handout(actor, "after.general", "- Uno.", expected_number=0, language="es")
    with pytest.raises(StaleEditError):
        services.save_handout(actor, "after.general", "- Dos.", expected_number=0, language="es")
    assert services.save_handout(actor, "after.general", "- One.", expected_number=0).number == 1


def test_a_spanish_overclaim_or_an_unknown_language_is_refused(admin_user):
    from django.core.exceptions import ValidationError

    actor = actor_of(admin_user)
    with pytest.raises(ValidationError, match="permanente"):
        services.save_handout(actor, "after.general", "- Un alivio permanente.", expected_number=0, language="es")
    with pytest.raises(ValidationError, match="Unknown language"):
        services.save_handout(actor, "after.general", "- Bonjour.", expected_number=0, language="fr")
    assert not HandoutVersion.objects.exists()


@override_settings(LANGUAGES=[("en", "English"), ("es", "Español"), ("fr", "Français")])
def test_a_language_without_a_shipped_text_falls_back_to_english_and_says_so(booked):
    # A clinic that offers French (settings.LANGUAGES) asks for it: the product ships no French handout text.
    context = content.handout_context(booked.patient, handouts.AFTER, language="fr")
    assert context["language"] == "fr"
    assert {p.language for p in context["parts"]} == {"en"}
    assert context["fallback_parts"] == [p.title for p in context["parts"]]
    text = pdf_text(content.handout_pdf(context))
    assert "Language of this document: Français." in text
    assert "These parts are in English because the clinic has no text for them in this language" in text
    assert "What is normal" in text


def test_the_editor_edits_one_language_at_a_time(client, login, admin_user):
    client = login(admin_user)
    page = client.get("/handouts/after.general/", {"lang": "es"}).content.decode()
    assert "Qué es normal" in page and 'name="lang" value="es"' in page and "Save as Español version 1" in page
    response = client.post(
        "/handouts/after.general/",
        {"lang": "es", "body": "## Normal\n- Texto de la clínica.", "expected_number": "0", "reason": "local"},
    )
    assert response.status_code == 302 and response["Location"].endswith("?lang=es")
    row = HandoutVersion.objects.get()
    assert (row.language, row.number, row.body) == ("es", 1, "## Normal\n- Texto de la clínica.")
    english = client.get("/handouts/after.general/").content.decode()
    assert "What is normal" in english and "Save as English version 1" in english
    listing = client.get("/handouts/").content.decode()
    assert "clinic version 1" in listing and "product text (version 0)" in listing
    assert client.get("/handouts/after.general/", {"lang": "fr"}).status_code == 404
