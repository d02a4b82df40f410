"""Names a clinic types, per patient language (domain/clinic_names.py): which name a reader sees, and what may be
stored."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain.clinic_names import NameRefused, base_language, clean_names, name_in

NAMES = {"es": "Consulta de seguimiento"}


@pytest.mark.parametrize(
    ("names", "language", "shown"),
    [
        (NAMES, "es", "Consulta de seguimiento"),
        (NAMES, "es-MX", "Consulta de seguimiento"),  # a regional code reads its language
        (NAMES, "ES_us", "Consulta de seguimiento"),
        (NAMES, "en", "Follow-up"),
        (NAMES, "fr", "Follow-up"),  # a language the clinic did not name it in
        (NAMES, None, "Follow-up"),
        (NAMES, "", "Follow-up"),
        ({}, "es", "Follow-up"),
        (None, "es", "Follow-up"),
        ({"es": "  "}, "es", "Follow-up"),  # blank is no name
        ({"es": 3}, "es", "Follow-up"),  # a stored value that is not text is never shown
    ],
)
def test_the_name_a_reader_sees(names, language, shown):
    assert name_in("Follow-up", names, language) == shown


@given(st.text(), st.dictionaries(st.text(max_size=5), st.text()), st.one_of(st.none(), st.text(max_size=8)))
def test_a_reader_always_sees_a_name(default, names, language):
    shown = name_in(default, names, language)
    assert shown == default or (shown in names.values() and shown.strip())


def clean(raw, offered=("en", "es")):
    return clean_names(raw, offered=offered, default_language="en", limit=100)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ({"es": "Consulta de seguimiento"}, {"es": "Consulta de seguimiento"}),
        ({"es": "  Consulta\tde  seguimiento "}, {"es": "Consulta de seguimiento"}),  # spaces collapsed
        ({"es": ""}, {}),  # blank: left out, the default name shows
        ({"es": None}, {}),
        ({}, {}),
        (None, {}),
        ({"es": "x" * 100}, {"es": "x" * 100}),  # the limit itself
    ],
)
def test_what_is_stored(raw, stored):
    assert clean(raw) == stored


@pytest.mark.parametrize(
    ("raw", "language", "words"),
    [
        ({"es": "x" * 101}, "es", "The name in es is at most 100 characters, not 101."),
        ({"es": "Consulta\x00"}, "es", "control characters (U+0000)"),
        ({"es": ["Consulta"]}, "es", "The name in es must be text."),
        ({"fr": "Suivi"}, None, "No patient language 'fr': the languages to translate into are es."),
        ({"en": "Follow up"}, None, "The name in en is the default name: change it there"),
        ({1: "x"}, None, "No patient language '1'"),
        ("Consulta", None, "pairs of a language code and a name"),
    ],
)
def test_what_is_refused(raw, language, words):
    with pytest.raises(NameRefused) as refused:
        clean(raw)
    assert words in str(refused.value) and refused.value.language == language


def test_a_clinic_with_one_language_has_nothing_to_translate():
    with pytest.raises(NameRefused, match="none: the clinic offers patients one language"):
        clean({"es": "Consulta"}, offered=("en",))


@pytest.mark.parametrize(("code", "base"), [("es", "es"), ("es-MX", "es"), ("pt_BR", "pt"), (None, ""), (" EN ", "en")])
def test_base_language(code, base):
    assert base_language(code) == base
