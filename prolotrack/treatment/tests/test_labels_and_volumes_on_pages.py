"""Pages show the vocabulary's display names, never stored codes, and every volume with two decimals.

Defects: the site list showed "knee_front", the handouts page "Neck_thoracic only", the screening form "nsaid" and
"unknown"; volumes read "10 mL" next to "0.50 mL". Each table runs over every code of the vocabulary concerned.
"""

import html
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import transaction
from django.template import Context, Template
from django.template.loader import render_to_string

from prolotrack.clinics.testing import actor_of
from prolotrack.core import labels
from prolotrack.core.templatetags.prolo import ml
from prolotrack.domain.agents import Agent
from prolotrack.domain.anatomy import Region
from prolotrack.domain.protocols import TEMPLATES
from prolotrack.domain.vocabulary import (
    VOCABULARIES,
    AllergySeverity,
    Laterality,
    MedicationClass,
)
from prolotrack.patients import services as patient_services
from prolotrack.treatment import services
from prolotrack.treatment.maps import MAPS
from prolotrack.treatment.models import InjectionSite


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    """Return what a reader sees: text nodes only (codes in attributes such as CSS classes are fine)."""
    parser = _Text()
    parser.feed(page)
    return re.sub(r"\s+", " ", html.unescape(" ".join(parser.parts)))


def shows_code(text: str, code: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text) is not None


# --- The filters ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("2"), "2.00"),
        (Decimal("0.5"), "0.50"),
        (Decimal("0.50"), "0.50"),
        (Decimal("10.00"), "10.00"),
        ("3", "3.00"),
        ("1.005", "1.01"),
        (6, "6.00"),
        (None, ""),
        ("", ""),
        ("varies", "varies"),
    ],
)
def test_a_volume_always_shows_two_decimals(value, shown):
    assert ml(value) == shown


@pytest.mark.parametrize(
    ("name", "code", "label"),
    [(name, m.value, m.label) for name, vocabulary in VOCABULARIES.items() for m in vocabulary],
)
def test_the_label_filter_gives_every_code_its_display_name(name, code, label):
    rendered = Template("{% load prolo %}{{ code|label:name }}").render(Context({"code": code, "name": name}))
    assert html.unescape(rendered) == label


def test_every_injection_map_has_a_title_for_the_label_filter():
    assert {m.code: m.title for m in MAPS} == dict(labels.labels_of("body_map"))


def test_an_unknown_vocabulary_name_is_a_programming_error():
    with pytest.raises(KeyError, match="No vocabulary"):
        labels.label("knee", "bodyregion")


# --- The pages --------------------------------------------------------------------------------------------------


def _site(clinician, session, solution, body_map, side, volume=Decimal("0.5")):
    site, _ = services.add_site(
        actor_of(clinician),
        session.__class__.objects.get(pk=session.pk),
        solution=solution,
        body_map=body_map,
        x=Decimal("100"),
        y=Decimal("100"),
        side=side,
        volume_ml=volume,
        label="Tender point",
    )
    return site


def test_the_session_page_names_the_map_and_side_and_shows_volumes_with_two_decimals(
    login, clinician, session, solution
):
    for side in ("left", "right", "bilateral"):
        _site(clinician, session, solution, "knee_front", side)
    _site(clinician, session, solution, "knee_front", "midline", volume=Decimal("2"))
    text = visible_text(login(clinician).get(f"/sessions/{session.uuid}/").content.decode())
    assert not shows_code(text, "knee_front") and "Knee, front" in text
    for side in ("left", "right", "bilateral", "midline"):
        assert Laterality(side).label in text
    # The solution (10 mL), a 0.5 mL site and a 2 mL site, all read to the hundredth.
    assert "10.00 mL" in text and "0.50 mL" in text and "2.00 mL" in text
    assert not re.search(r"(?<![\d.])(10|2) mL", text)


@pytest.mark.parametrize("body_map", [m.code for m in MAPS])
def test_the_site_list_shows_each_maps_title_never_its_code(clinician, session, solution, body_map):
    # Rendered from stored rows: a site on each drawing the product has (the list does not check the region).
    site = InjectionSite(
        session=session,
        solution=solution,
        number=1,
        label="Tender point",
        side="left",
        body_map=body_map,
        x=Decimal(1),
        y=Decimal(1),
        volume_ml=Decimal("1.5"),
    )
    context = {"page": {"sites": [site]}, "session": session, "patient": session.patient, "can": set()}
    page = render_to_string("treatment/_site_list.html", context)
    text = visible_text(page)
    assert not shows_code(text, body_map) and labels.label(body_map, "body_map") in text
    assert "1.50 mL" in text


def test_the_handouts_page_names_each_region_never_its_code(login, admin_user):
    text = visible_text(login(admin_user).get("/handouts/").content.decode())
    for region in Region:
        if region.value.capitalize() != region.label:
            assert not shows_code(text, region.value) and not shows_code(text, region.value.capitalize()), region
    assert "Neck and thoracic spine only" in text and "Knee only" in text


def test_the_screening_form_names_each_medication_class_and_allergy_severity(login, clinician, patient):
    actor = actor_of(clinician)
    with transaction.atomic():
        for number, drug_class in enumerate(MedicationClass):
            patient_services.add_child(actor, patient, "medication", {"name": f"Drug {number}",
                                                                      "drug_class": drug_class.value})  # fmt: skip
        for severity in AllergySeverity:
            patient_services.add_child(actor, patient, "allergy", {"substance": f"Substance {severity.value}",
                                                                   "severity": severity.value})  # fmt: skip
    text = visible_text(login(clinician).get(f"/patients/{patient.uuid}/screening/new/").content.decode())
    for drug_class in MedicationClass:
        assert drug_class.label in text
        if drug_class is not MedicationClass.OTHER:  # "other" is also an English word
            assert not shows_code(text, drug_class.value), drug_class
    for severity in AllergySeverity:
        assert f"Substance {severity.value} · {severity.label}" in text


@pytest.mark.parametrize("protocol", [t.code for t in TEMPLATES])
def test_each_protocol_page_names_its_agents_and_regions(login, clinician, protocol):
    text = visible_text(login(clinician).get(f"/protocols/{protocol}/").content.decode())
    for agent in Agent:
        assert not shows_code(text, agent.value) or agent.value == agent.label.lower(), agent
    assert not any(shows_code(text, r.value) for r in Region if "_" in r.value)
    # Volumes per joint or site read to the hundredth ("6.00 mL per joint", not "6 mL").
    assert not re.search(r", \d+ mL per", text)
    if protocol == "knee_oa_rabago":
        assert "6.00 mL per joint" in text
