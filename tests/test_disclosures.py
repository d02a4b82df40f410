"""A patient's accounting of disclosures (HIPAA 45 CFR 164.528) as CSV: who read or changed what, when; for clinic
administrators only, from a button on the chart; the export is audited and lists itself."""

import csv
import io

import pytest
from django.db import transaction
from django.test import Client

from prolotrack.accounts.testing import mark_verified
from prolotrack.audit.models import AuditEvent
from prolotrack.audit.queries import DISCLOSURE_COLUMNS, _cell
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    mark_verified(client, user)
    return client


def _url(patient):
    return f"/audit/patients/{patient.uuid}/disclosures.csv"


def test_an_admin_downloads_who_read_or_changed_the_patient_and_when(
    admin_user, clinician, colleague, make_patient, clinic
):
    patient = make_patient(mrn="ACC-1")
    other = make_patient(mrn="ACC-2", given_name="Other")
    with transaction.atomic():
        services.update_patient(actor_of(colleague), patient, {"phone": "555-0101"}, expected_version=1)
    assert _client(clinician).get(f"/patients/{patient.uuid}/").status_code == 200  # a read, audited by the chart
    response = _client(admin_user).get(_url(patient))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "ACC-1" in response["Content-Disposition"] and response["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert tuple(rows[0]) == DISCLOSURE_COLUMNS
    body = [dict(zip(DISCLOSURE_COLUMNS, row, strict=True)) for row in rows[1:]]
    expected = list(AuditEvent.objects.filter(clinic=clinic, patient_uuid=patient.uuid).order_by("at", "seq"))
    assert [r["audit_event"] for r in body] == [f"{e.chain_key}#{e.seq}" for e in expected]
    who_what = [(r["who"], r["what_happened"]) for r in body]
    assert who_what[0] == ("clinician", "patient.created")
    assert ("colleague", "patient.updated") in who_what
    assert any(who == "clinician" and "view" in what for who, what in who_what), who_what
    # The export itself is on the trail and in its own report, naming the administrator.
    assert who_what[-1] == ("admin", "audit.disclosures.exported")
    assert all(r["when"].endswith(("-06:00", "-05:00")) for r in body)  # the clinic's zone (America/Chicago)
    # Nothing about another patient.
    assert str(other.uuid) not in response.content.decode()


def test_only_clinic_administrators_get_it_and_only_for_their_clinic(admin_user, clinician, make_patient, outsider):
    patient = make_patient(mrn="ACC-3")
    assert _client(clinician).get(_url(patient)).status_code == 403
    stranger = make_patient(by=outsider, mrn="ACC-4")
    assert _client(admin_user).get(_url(stranger)).status_code == 404
    assert not AuditEvent.objects.filter(action="audit.disclosures.exported").exists()


def test_the_chart_shows_the_button_to_administrators_only(admin_user, clinician, make_patient):
    patient = make_patient(mrn="ACC-5")
    label = "Accounting of disclosures (CSV)"
    assert label in _client(admin_user).get(f"/patients/{patient.uuid}/").content.decode()
    assert label not in _client(clinician).get(f"/patients/{patient.uuid}/").content.decode()


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+1", "'+1"), ("-2", "'-2"), ("@x", "'@x"), ("plain", "plain"), (None, "")],
)
def test_cells_never_start_a_spreadsheet_formula(value, cell):
    assert _cell(value) == cell
