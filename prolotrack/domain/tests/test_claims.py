"""The overclaim check: every listed claim is refused in any casing, spacing or punctuation; honest text passes."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain.claims import CLAIMS, OverclaimError, check_patient_text, find_overclaims, normalise

REFUSED = [
    ("Prolotherapy gives permanent relief.", "permanent"),
    ("A permanent, all-natural treatment used for centuries.", "permanent"),
    ("A permanent, all-natural treatment used for centuries.", "natural"),
    ("A permanent, all-natural treatment used for centuries.", "centuries"),
    ("It is 100% natural.", "natural"),
    ("Prolotherapy is safe and effective.", "safe_and_effective"),
    ("Safe, effective and quick.", "safe_and_effective"),
    ("The procedure is risk-free.", "safe_and_effective"),
    ("There are no side effects.", "safe_and_effective"),
    ("The solution is typically alcohol or phenol.", "alcohol_or_phenol"),
    ("It cures arthritis.", "cure"),
    ("Clinically proven to work.", "proven"),
    ("Guaranteed results in three sessions.", "guaranteed"),
    ("A miracle for bad knees.", "miracle"),
    ("The injections regrow cartilage.", "regrowth"),
    ("Also known as sclerotherapy.", "sclerotherapy"),
    ("Eat a protein-rich meal before you come.", "protein_meal"),
    ("Chronic conditions may not respond.", "chronic_no_response"),
    # Spanish, the other shipped patient language (docs/LANGUAGES.md).
    ("La proloterapia da un alivio permanente.", "permanent"),
    ("Un tratamiento 100 % natural.", "natural"),
    ("Es totalmente natural.", "natural"),
    ("Se usa desde hace siglos.", "centuries"),
    ("Es un tratamiento seguro y eficaz.", "safe_and_effective"),
    ("No tiene efectos secundarios: es sin riesgos.", "safe_and_effective"),
    ("Cura la artritis.", "cure"),
    ("Una curación para sus rodillas.", "cure"),
    ("Clínicamente probado.", "proven"),
    ("Resultados garantizados en tres sesiones.", "guaranteed"),
    ("¡Un milagro para sus rodillas!", "miracle"),
    ("Regenera el cartílago de la rodilla.", "regrowth"),
    ("También llamada escleroterapia.", "sclerotherapy"),
    ("Coma una comida rica en proteínas.", "protein_meal"),
]

ACCEPTED = [
    "Dextrose and the local anaesthetic are approved medicines, but not for this use.",
    "Keep the dressing secure; an accurate record is kept.",  # "secure" and "accurate" contain "cure"
    "Some people improve, some do not; no result is guaranteed.",
    "Eat a light meal beforehand.",
    "A natural healing response is the idea behind the injections.",
    "The evidence is mixed.",
    "Algunas personas mejoran y otras no; no se garantiza ningún resultado.",
    "Coma algo ligero antes de venir.",
    "La evidencia es variada. ¿Preguntas? ¡Llámenos!",
    "Procuramos su seguridad.",  # "procuramos" contains "cura"
    "",
]


@pytest.mark.parametrize(("text", "code"), REFUSED)
def test_each_overclaim_is_found_with_its_claim(text: str, code: str) -> None:
    assert code in {f.claim.code for f in find_overclaims(text)}
    with pytest.raises(OverclaimError) as caught:
        check_patient_text(text, "The consent template")
    message = str(caught.value)
    assert message.startswith("The consent template must not claim")
    assert "Reword the text" in message


@pytest.mark.parametrize("text", ACCEPTED)
def test_honest_text_passes(text: str) -> None:
    assert find_overclaims(text) == []
    assert check_patient_text(text) is None


def test_the_refusal_names_why_and_a_published_source_never_an_internal_file() -> None:
    with pytest.raises(OverclaimError) as caught:
        check_patient_text("Safe and effective.")
    message = str(caught.value)
    assert "FDA" in message and "21 CFR 202.1" in message
    assert ".md" not in message and "DOMAIN" not in message


def test_every_claim_has_a_reason_and_sources_and_phrases_in_normal_form() -> None:
    assert len({c.code for c in CLAIMS}) == len(CLAIMS)
    for claim in CLAIMS:
        assert claim.why and claim.sources and claim.phrases
        for phrase in claim.phrases:
            assert normalise(phrase).strip() == phrase
        for source in claim.sources:
            assert ".md" not in source and "DOMAIN" not in source


def test_the_issue_examples_are_refused() -> None:
    consent = "Prolotherapy is a permanent, all-natural treatment used for centuries."
    assert {f.claim.code for f in find_overclaims(consent)} == {"permanent", "natural", "centuries"}
    handout = "Prolotherapy is safe and effective. The solution is alcohol or phenol."
    assert {f.claim.code for f in find_overclaims(handout)} == {"safe_and_effective", "alcohol_or_phenol"}


ALL_PHRASES = [(claim.code, phrase) for claim in CLAIMS for phrase in claim.phrases]
# Each separator has at least one visible break between words (a soft hyphen alone would join them).
SEPARATORS = st.lists(
    st.sampled_from([" ", "  ", "\n", "\t", "-", "_", ",", ".", "/", "\u00a0", "\u2014", "\u00ad "]),
    min_size=1,
    max_size=3,
).map("".join)


def _recase(word: str, pattern: list[bool]) -> str:
    return "".join(ch.upper() if pattern[i % len(pattern)] else ch for i, ch in enumerate(word))


@given(
    st.sampled_from(ALL_PHRASES),
    st.lists(st.booleans(), min_size=1, max_size=8),
    SEPARATORS,
    st.sampled_from(["", "Note: ", "(", "“", "<b>"]),
    st.sampled_from(["", ".", "!", ")", "”", "</b>", " today."]),
    st.sampled_from(["", "\u200b"]),
)
def test_a_phrase_is_found_whatever_its_casing_spacing_and_punctuation(
    entry: tuple[str, str], casing: list[bool], separator: str, before: str, after: str, invisible: str
) -> None:
    code, phrase = entry
    written = separator.join(_recase(word, casing) for word in phrase.split(" "))
    written = written[:1] + invisible + written[1:]
    found = find_overclaims(f"{before}{written}{after}")
    assert code in {f.claim.code for f in found}


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_normalise_never_fails_and_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


SINGLE_WORDS = [(code, phrase) for code, phrase in ALL_PHRASES if " " not in phrase]


@given(st.sampled_from(SINGLE_WORDS), st.sampled_from(["x", "se", "pre", "un"]))
def test_a_phrase_inside_a_longer_word_is_not_a_match(entry: tuple[str, str], prefix: str) -> None:
    code, phrase = entry
    assert code not in {f.claim.code for f in find_overclaims(f"The {prefix}{phrase} one.")}
