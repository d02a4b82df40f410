"""Each clinic has a slug for its public addresses (/book/<slug>/): made from its name, unique, kept on rename."""

import pytest

from prolotrack.clinics.models import Clinic, unique_clinic_slug


@pytest.mark.parametrize(
    ("name", "taken", "slug"),
    [
        ("Riverside Prolotherapy", set(), "riverside-prolotherapy"),
        ("Riverside Prolotherapy", {"riverside-prolotherapy"}, "riverside-prolotherapy-2"),
        ("Riverside Prolotherapy", {"riverside-prolotherapy", "riverside-prolotherapy-2"}, "riverside-prolotherapy-3"),
        ("Clínica Señor Ñandú", set(), "clinica-senor-nandu"),
        ("!!!", set(), "clinic"),
        ("", {"clinic"}, "clinic-2"),
        ("A" * 80, set(), "a" * 50),
    ],
)
def test_slug_from_the_name(name, taken, slug):
    assert unique_clinic_slug(name, taken) == slug


@pytest.mark.django_db
def test_two_clinics_of_one_name_get_different_slugs_and_a_rename_keeps_it():
    first = Clinic.objects.create(name="Harbour Clinic", timezone="Pacific/Auckland")
    second = Clinic.objects.create(name="Harbour Clinic", timezone="Pacific/Auckland")
    assert (first.slug, second.slug) == ("harbour-clinic", "harbour-clinic-2")
    first.name = "Harbour Pain Clinic"
    first.save()
    first.refresh_from_db()
    assert first.slug == "harbour-clinic"
