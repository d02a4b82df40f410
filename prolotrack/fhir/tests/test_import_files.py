"""`manage.py import_fhir`: NDJSON folders and Bundle files, batches, bad lines, dry runs, summary."""

import json
import shutil
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from prolotrack.audit.models import AuditEvent
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.patients.models import Condition, Medication, Patient, WeightMeasurement

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
NDJSON = FIXTURES / "ndjson"


def run(*args: Any) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_fhir", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_ndjson_folder_imports_with_references_and_summary(clinician: Any, clinic: Any) -> None:
    out, _ = run(NDJSON, "--user", "clinician", "--batch-size", "7")
    assert Patient.objects.filter(clinic=clinic).count() == 2
    assert WeightMeasurement.objects.filter(clinic=clinic).count() == 8
    assert QuestionnaireResponse.objects.filter(clinic=clinic, instrument="nrs_pain").count() == 8
    assert Condition.objects.filter(clinic=clinic).count() > 0
    assert Medication.objects.filter(clinic=clinic).count() > 0
    # References were Patient/<the other server's id>: each landed on its own patient.
    for patient in Patient.objects.filter(clinic=clinic):
        assert patient.weights.count() == 4
    assert "Patient" in out and "created" in out and "Claim" in out
    assert AuditEvent.objects.filter(channel="fhir", action="patient.created").count() == 2
    assert AuditEvent.objects.get(action="fhir.files.imported").detail["created"] > 2


def test_rerun_changes_nothing(clinician: Any, clinic: Any) -> None:
    run(NDJSON, "--user", "clinician")
    versions = sorted(Patient.objects.values_list("version", flat=True))
    out, _ = run(NDJSON, "--user", "clinician")
    assert Patient.objects.filter(clinic=clinic).count() == 2
    assert WeightMeasurement.objects.filter(clinic=clinic).count() == 8
    assert sorted(Patient.objects.values_list("version", flat=True)) == versions
    line = next(row for row in out.splitlines() if row.startswith("Patient "))
    assert line.split()[1:] == ["0", "0", "2", "0"]


def test_bad_lines_are_skipped_and_reported_with_file_and_line(clinician: Any, clinic: Any, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(NDJSON, folder)
    observations = (folder / "Observation.ndjson").read_text().splitlines()
    observations[2] = observations[2][:40]  # truncated JSON
    bad = json.loads(observations[4])
    bad["effectiveDateTime"] = "sometime"
    observations[4] = json.dumps(bad)
    orphan = json.loads(observations[0])
    orphan["subject"] = {"reference": "Patient/not-in-this-export"}
    observations.append(json.dumps(orphan))
    (folder / "Observation.ndjson").write_text("\n".join(observations) + "\n")
    with pytest.raises(CommandError, match="3 resource"):
        run(folder, "--user", "clinician", "--batch-size", "5")
    assert Patient.objects.filter(clinic=clinic).count() == 2
    # Every other line got in: one weight or pain score less for each refused line that was one.
    total = WeightMeasurement.objects.count() + QuestionnaireResponse.objects.count()
    assert total == 16 - sum(1 for i in (2, 4) if _is_kept(NDJSON, i))


def _is_kept(folder: Path, index: int) -> bool:
    line = json.loads((folder / "Observation.ndjson").read_text().splitlines()[index])
    return line["code"]["coding"][0]["code"] in ("29463-7", "72514-3")


def test_bad_line_report_text(clinician: Any, clinic: Any, tmp_path: Path) -> None:
    path = tmp_path / "Patient.ndjson"
    good = (NDJSON / "Patient.ndjson").read_text().splitlines()[0]
    broken = json.loads(good)
    broken["birthDate"] = "1970"
    path.write_text("\n".join([good, "{not json", json.dumps(broken)]) + "\n")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import_fhir", str(path), "--user", "clinician", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "Patient.ndjson:2: Not valid JSON" in text
    assert "Patient.ndjson:3: Patient.birthDate: The date of birth '1970' is partial" in text
    assert Patient.objects.filter(clinic=clinic).count() == 1


def test_dry_run_writes_nothing(clinician: Any, clinic: Any) -> None:
    out, _ = run(NDJSON, "--user", "clinician", "--dry-run")
    assert out.startswith("Dry run: nothing was written.")
    assert "Patient" in out
    assert Patient.objects.count() == 0
    assert not AuditEvent.objects.filter(channel="fhir").exists()


def test_bundle_file_is_all_or_nothing(clinician: Any, clinic: Any, tmp_path: Path) -> None:
    run(FIXTURES / "synthea_transaction.json", "--user", "clinician")
    assert Patient.objects.filter(clinic=clinic).count() == 3
    data = json.loads((FIXTURES / "synthea_transaction.json").read_text())
    for item in data["entry"]:
        if item["resource"]["resourceType"] == "Patient":
            item["resource"]["identifier"][1]["value"] += "-new"
    data["entry"][-1]["resource"]["recorded"] = "not a time"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data))
    with pytest.raises(CommandError):
        run(broken, "--user", "clinician")
    assert Patient.objects.filter(clinic=clinic).count() == 3


@pytest.mark.parametrize("who", ["colleague", "frontdesk", "researcher"])
def test_roles_without_fhir_import_are_refused(personas: Any, who: str) -> None:
    with pytest.raises(CommandError, match=r"fhir\.import"):
        run(NDJSON, "--user", personas[who].username)
    assert Patient.objects.count() == 0


def test_unknown_user_and_path(clinician: Any) -> None:
    with pytest.raises(CommandError, match="No user"):
        run(NDJSON, "--user", "nobody")
    with pytest.raises(CommandError, match="no such file"):
        run("/nonexistent/x.ndjson", "--user", "clinician")


def test_outsider_imports_into_their_own_clinic_only(outsider: Any, clinic: Any, other_clinic: Any) -> None:
    run(NDJSON, "--user", "outsider")
    assert Patient.objects.filter(clinic=other_clinic).count() == 2
    assert Patient.objects.filter(clinic=clinic).count() == 0


def test_odd_lines_are_reported_not_crashed_on(clinician: Any, clinic: Any, tmp_path: Path) -> None:
    path = tmp_path / "Odd.ndjson"
    lines = ['{"resourceType": ["Patient"]}', "[1, 2]", '"text"', "{}", '{"resourceType": "Nonsense"}', "", "null"]
    path.write_text("\n".join(lines) + "\n")
    out = StringIO()
    with pytest.raises(CommandError, match="6 resource"):
        call_command("import_fhir", str(path), "--user", "clinician", stdout=out, stderr=StringIO())
    assert "Odd.ndjson:1: " in out.getvalue() and "Odd.ndjson:7: " in out.getvalue()
    assert Patient.objects.count() == 0
