"""Every chart medication status goes out as FHIR and comes back as itself, whichever type carries it: "taking as
needed" is active with Dosage.asNeededBoolean, never "stopped" (it once went out as stopped)."""

from typing import Any

import pytest

from prolotrack.domain.vocabulary import MedicationStatus
from prolotrack.fhir.inbound import Mapped, _medication
from prolotrack.fhir.mappers import medication_request, medication_statement

ROW: dict[str, Any] = {
    "uuid": "6f1c1c4e-0000-4000-8000-000000000001",
    "version": 1,
    "updated_at": "2026-12-01T10:00:00+00:00",
    "created_at": "2026-12-01T10:00:00+00:00",
    "entered_in_error": False,
    "patient__uuid": "6f1c1c4e-0000-4000-8000-000000000002",
    "name": "Ibuprofen 400 mg",
    "drug_class": "nsaid",
    "dose": "400 mg",
    "last_dose_date": None,
    "note": "",
    "codings": [],
    "sent_request": {},
}

EXPECTED = {
    # chart status: (FHIR status, asNeededBoolean present)
    MedicationStatus.ACTIVE: ("active", False),
    MedicationStatus.AS_NEEDED: ("active", True),
    MedicationStatus.STOPPED: ("stopped", False),
}


def test_the_table_covers_every_status() -> None:
    assert set(EXPECTED) == set(MedicationStatus)


@pytest.mark.parametrize(
    "mapper,dosage_key", [(medication_statement, "dosage"), (medication_request, "dosageInstruction")]
)
@pytest.mark.parametrize("status", list(MedicationStatus))
def test_a_status_goes_out_and_comes_back_as_itself(
    mapper: Any, dosage_key: str, status: MedicationStatus, monkeypatch: Any
) -> None:
    monkeypatch.setattr("prolotrack.fhir.mappers.meta", lambda r: {"versionId": "1"})
    monkeypatch.setattr("prolotrack.fhir.mappers._eie", lambda r: False)
    resource = mapper({**ROW, "status": str(status)})
    fhir_status, as_needed = EXPECTED[status]
    assert resource["status"] == fhir_status
    assert any(d.get("asNeededBoolean") is True for d in resource.get(dosage_key, [])) is as_needed
    back = _medication(resource, resource["resourceType"])
    assert isinstance(back, Mapped)
    assert back.values["status"] == str(status)
