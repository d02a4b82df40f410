"""Which language a patient document is in, and which text of each clinic-editable part it prints
(domain/document_language.py; docs/LANGUAGES.md, "Documents")."""

import pytest

from prolotrack.domain.document_language import CLINIC, PRODUCT, PartText, document_language, part_text

OFFERED = ["en", "es"]


@pytest.mark.parametrize(
    ("asked", "preferred", "expected"),
    [
        (None, "es", "es"),  # the patient's preferred language by default
        (None, "en", "en"),
        ("", "es", "es"),  # an empty choice is no choice
        ("en", "es", "en"),  # staff override: English for a Spanish-preferring patient
        ("es", "en", "es"),  # staff override: Spanish for an English-preferring patient
        ("ES", "en", "es"),  # case does not matter
        ("fr", "es", "es"),  # a language not offered: the patient's
        ("fr", "de", "en"),  # neither offered: English
        (None, None, "en"),
        (None, "", "en"),
    ],
)
def test_the_document_language(asked, preferred, expected):
    assert document_language(asked, preferred, OFFERED) == expected


@pytest.mark.parametrize(
    ("language", "clinic_wrote", "product_has", "expected"),
    [
        ("es", {"es"}, {"en", "es"}, PartText("es", CLINIC)),  # the clinic's Spanish text
        ("es", {"en", "es"}, {"en", "es"}, PartText("es", CLINIC)),
        ("es", set(), {"en", "es"}, PartText("es", PRODUCT)),  # not written by the clinic: the shipped Spanish
        ("es", {"en"}, {"en", "es"}, PartText("es", PRODUCT)),  # an English edit does not replace the Spanish
        ("fr", set(), {"en", "es"}, PartText("en", PRODUCT)),  # nothing in French: English, the product's
        ("fr", {"en"}, {"en", "es"}, PartText("en", CLINIC)),  # ... or the clinic's English
        ("fr", {"fr"}, {"en", "es"}, PartText("fr", CLINIC)),  # a clinic may write a language the product lacks
        ("en", {"es"}, {"en", "es"}, PartText("en", PRODUCT)),  # a Spanish edit leaves English alone
        ("en", {"en"}, {"en"}, PartText("en", CLINIC)),
    ],
)
def test_which_text_of_a_part_is_printed(language, clinic_wrote, product_has, expected):
    assert part_text(language, clinic_wrote, product_has) == expected
