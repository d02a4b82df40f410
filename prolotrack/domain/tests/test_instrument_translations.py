"""The shipped instruments in Spanish: every text translated, licensed instruments never (DOMAIN.md §8)."""

import pytest

from prolotrack.domain import instrument_translations as tr
from prolotrack.domain import instruments


@pytest.mark.parametrize("code", instruments.SHIPPED)
@pytest.mark.parametrize("language", tr.LANGUAGES)
def test_every_text_of_a_shipped_instrument_has_its_translation(code, language):
    found = instruments.definition(code)
    missing = [t for t in tr.texts_of(found) if t not in tr.PHRASES[language]]
    assert missing == []
    translated, texts_language = tr.localized(code, language)
    assert texts_language == language
    assert not set(tr.texts_of(translated)) & set(tr.texts_of(found)) - {"No"}  # nothing left in English


@pytest.mark.parametrize("code", instruments.LICENSED)
def test_a_licensed_instrument_is_never_translated_by_the_product(code):
    found, texts_language = tr.localized(code, "es")
    assert found is instruments.definition(code) and texts_language == "en"
    assert tr.texts_of(found) == [found.title]  # no item or option text in the code at all


def test_the_translation_changes_words_only_never_scoring(language="es"):
    for code in instruments.SHIPPED:
        english, (spanish, _) = instruments.definition(code), tr.localized(code, language)
        assert [(i.link_id, i.values(), i.required, i.minimum, i.maximum) for i in english.items] == [
            (i.link_id, i.values(), i.required, i.minimum, i.maximum) for i in spanish.items
        ]
        assert spanish.scorer is english.scorer and spanish.scoring_method == english.scoring_method


def test_english_and_unknown_languages_get_the_english_texts():
    assert tr.localized("pgic", "en") == (instruments.definition("pgic"), "en")
    assert tr.localized("pgic", "fr") == (instruments.definition("pgic"), "en")


def test_the_diary_days_read_naturally_in_spanish():
    diary, _ = tr.localized("diary", "es")
    texts = {i.link_id: i.text for i in diary.items}
    assert texts["day1_pain"] == "Su peor dolor el día de la inyección (0-10)"
    assert texts["day3_flare"] == "¿Tuvo un aumento repentino del dolor el día 3 después de la inyección?"
