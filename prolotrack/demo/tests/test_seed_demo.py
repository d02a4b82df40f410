"""The demo clinic: enough realistic patients, two clinics, idempotent."""

from django.core.management import call_command
from django.db import transaction

from prolotrack.clinics.models import Clinic, Membership, User
from prolotrack.clinics.testing import actor_of
from prolotrack.demo.generator import generate_patients
from prolotrack.demo.seed import DEMO_CLINIC, SECOND_CLINIC, seed_demo
from prolotrack.patients import services
from prolotrack.patients.models import Allergy, Condition, Medication, Patient, WeightMeasurement


def test_the_generator_is_deterministic_for_a_seed():
    from datetime import date

    a = generate_patients(5, seed=1, today=date(2026, 1, 1))
    b = generate_patients(5, seed=1, today=date(2026, 1, 1))
    assert [s.patient for s in a] == [s.patient for s in b]
    assert a[0].patient != generate_patients(1, seed=2, today=date(2026, 1, 1))[0].patient


def test_seed_demo_creates_two_clinics_with_staff_and_at_least_200_patients(db, monkeypatch):
    monkeypatch.setenv("PROLOTRACK_DEMO_PASSWORD", "demo-pass-123")
    report = seed_demo(patients=200, second_clinic_patients=10, treatment=False)
    demo = Clinic.objects.get(name=DEMO_CLINIC)
    assert Patient.objects.filter(clinic=demo).count() == 200
    assert Patient.objects.filter(clinic__name=SECOND_CLINIC).count() == 10
    roles = dict(Membership.objects.filter(clinic=demo).values_list("user__username", "role"))
    assert {roles[u] for u in ("clinician", "nurse", "frontdesk", "admin", "researcher")} == {
        "clinician",
        "nurse",
        "frontdesk",
        "admin",
        "researcher",
    }
    assert User.objects.get(username="clinician").check_password("demo-pass-123")
    assert report.password_source == "PROLOTRACK_DEMO_PASSWORD"
    # Realistic content: every patient has a weight and a complaint; some have medications and allergies.
    assert WeightMeasurement.objects.filter(clinic=demo).values("patient").distinct().count() == 200
    assert Condition.objects.filter(clinic=demo, category="complaint").count() == 200
    assert Medication.objects.filter(clinic=demo, drug_class="nsaid").exists()
    assert Medication.objects.filter(clinic=demo, drug_class__in=["anticoagulant", "antiplatelet"]).exists()
    assert Allergy.objects.filter(clinic=demo).exists()


def test_a_second_run_keeps_what_was_entered(db, monkeypatch):
    monkeypatch.setenv("PROLOTRACK_DEMO_PASSWORD", "demo-pass-123")
    seed_demo(patients=20, second_clinic_patients=2, treatment=False)
    clinician = User.objects.get(username="clinician")
    patient = Patient.objects.filter(clinic__name=DEMO_CLINIC).first()
    with transaction.atomic():
        services.update_patient(
            actor_of_demo(clinician), patient, {"phone": "555-7777"}, expected_version=patient.version
        )
    seed_demo(patients=20, second_clinic_patients=2, treatment=False)
    patient.refresh_from_db()
    assert patient.phone == "555-7777"
    assert Patient.objects.filter(clinic__name=DEMO_CLINIC).count() == 20


def actor_of_demo(user):
    from prolotrack.audit.services import Actor

    membership = Membership.objects.get(user=user, clinic__name=DEMO_CLINIC)
    return Actor(user, membership.clinic, membership.role)


def test_without_a_configured_password_one_is_generated_and_reused(db, monkeypatch, settings, capsys):
    monkeypatch.delenv("PROLOTRACK_DEMO_PASSWORD", raising=False)
    call_command("seed_demo", "--patients", "3")
    first = capsys.readouterr().out
    password = (settings.DATA_DIR / "demo-password.txt").read_text().strip()
    assert f"password: {password}" in first
    call_command("seed_demo", "--patients", "3")
    assert f"password: {password}" in capsys.readouterr().out
    assert User.objects.get(username="admin").check_password(password)
    _ = actor_of


def test_demo_staff_log_in_with_the_password_and_administrators_set_up_a_second_factor(db, monkeypatch, client):
    monkeypatch.setenv("PROLOTRACK_DEMO_PASSWORD", "demo password for the test")
    seed_demo(patients=3, second_clinic_patients=1, treatment=False)
    assert not Clinic.objects.get(name=DEMO_CLINIC).config.second_factor_all_staff
    client.post("/accounts/login/", {"username": "clinician", "password": "demo password for the test"})
    assert client.get("/patients/").status_code == 200
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "admin", "password": "demo password for the test"})
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/second-factor/set-up/")


def test_a_demo_made_before_the_setting_gets_it_once_and_a_later_choice_is_kept(db, monkeypatch):
    monkeypatch.setenv("PROLOTRACK_DEMO_PASSWORD", "demo password for the test")
    older = Clinic.objects.create(name=DEMO_CLINIC, timezone="America/Chicago", settings={"nsaid_stop_days": 5})
    seed_demo(patients=3, second_clinic_patients=1, treatment=False)
    older.refresh_from_db()
    assert older.config.second_factor_all_staff is False and older.config.nsaid_stop_days == 5
    older.settings = {**older.settings, "second_factor_all_staff": True}
    older.save(update_fields=["settings"])
    seed_demo(patients=3, second_clinic_patients=1, treatment=False)
    older.refresh_from_db()
    assert older.config.second_factor_all_staff is True
