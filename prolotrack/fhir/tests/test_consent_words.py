"""The SMART consent page names each FHIR type the server serves in staff's words (prolotrack/domain/smart_scopes.py)."""

from prolotrack.domain.smart_scopes import RECORDS, describe
from prolotrack.fhir.resources import TYPES


def test_every_served_type_has_words_on_the_consent_page() -> None:
    assert set(TYPES) - set(RECORDS) == set()
    for name in TYPES:
        assert name not in describe(f"patient/{name}.rs"), name
