"""Create the demo clinics, staff and patients through the ordinary services."""

import os
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from prolotrack.audit.services import Actor
from prolotrack.clinics.models import Clinic, Membership, User
from prolotrack.clinics.roles import Role
from prolotrack.clinics.services import update_clinic_settings
from prolotrack.demo.abn_seed import seed_abn
from prolotrack.demo.billing_seed import seed_billing
from prolotrack.demo.booking_seed import seed_booking
from prolotrack.demo.consent_seed import seed_consents
from prolotrack.demo.documents_seed import seed_documents
from prolotrack.demo.generator import generate_patients
from prolotrack.demo.intake_seed import seed_intake
from prolotrack.demo.messaging_seed import seed_messaging
from prolotrack.demo.outcomes_seed import seed_outcomes
from prolotrack.demo.treatment_seed import seed_treatment
from prolotrack.demo.waitlist_seed import seed_waitlist
from prolotrack.patients import services as patient_services

DEMO_CLINIC = "Demo Prolotherapy Clinic"
SECOND_CLINIC = "Riverside Sports Medicine"

STAFF = [
    # username, first, last, role, clinic
    ("clinician", "Maya", "Okafor", Role.CLINICIAN, DEMO_CLINIC),
    ("clinician2", "Daniel", "Reyes", Role.CLINICIAN, DEMO_CLINIC),
    ("nurse", "Grace", "Lindqvist", Role.NURSE, DEMO_CLINIC),
    ("frontdesk", "Sam", "Patel", Role.FRONT_DESK, DEMO_CLINIC),
    ("admin", "Alex", "Moreau", Role.ADMIN, DEMO_CLINIC),
    ("researcher", "Priya", "Natarajan", Role.RESEARCHER, DEMO_CLINIC),
    ("riverside_clinician", "Tom", "Hughes", Role.CLINICIAN, SECOND_CLINIC),
    ("riverside_admin", "Lena", "Fischer", Role.ADMIN, SECOND_CLINIC),
]


@dataclass
class SeedReport:
    password: str
    password_source: str
    created_patients: int
    usernames: list[str]


def demo_password(password_file: Path) -> tuple[str, str]:
    """The demo password: PROLOTRACK_DEMO_PASSWORD, else the one generated on first run, else a new one."""
    from_env = os.environ.get("PROLOTRACK_DEMO_PASSWORD", "")
    if from_env:
        return from_env, "PROLOTRACK_DEMO_PASSWORD"
    if password_file.exists():
        return password_file.read_text().strip(), str(password_file)
    password = secrets.token_urlsafe(12)
    password_file.parent.mkdir(parents=True, exist_ok=True)
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    return password, f"generated, saved in {password_file}"


def _clinic(name: str, tz: str) -> tuple[Clinic, bool]:
    return Clinic.objects.get_or_create(name=name, defaults={"timezone": tz})


def seed_demo(
    *, patients: int = 220, second_clinic_patients: int = 30, today: date | None = None, treatment: bool = True
) -> SeedReport:
    """Create what is missing of the demo; keep everything already there."""
    password, source = demo_password(Path(settings.DATA_DIR) / "demo-password.txt")
    created = 0
    with transaction.atomic():
        demo, demo_new = _clinic(DEMO_CLINIC, "America/Chicago")
        # The demo clinic's own date (after 18:00 in Chicago, UTC is already tomorrow).
        today = today or timezone.localdate(timezone=demo.tz)
        second, second_new = _clinic(SECOND_CLINIC, "Europe/London")
        clinics = {DEMO_CLINIC: demo, SECOND_CLINIC: second}
        users: dict[str, User] = {}
        for username, first, last, role, clinic_name in STAFF:
            user, _ = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@example.org"}
            )
            user.set_password(password)
            user.save(update_fields=["password"])
            Membership.objects.get_or_create(user=user, clinic=clinics[clinic_name], defaults={"role": role})
            users[username] = user
        for clinic in (demo, second):
            # A visitor tries several roles: staff log in with the password alone, administrators (always) with a
            # second factor they set up at their first log-in (README, "Demo accounts"). Set once, also on a demo
            # made before the setting existed; a later choice on the settings page is kept.
            if "second_factor_all_staff" not in (clinic.settings or {}):
                update_clinic_settings(Actor.system(clinic), clinic, {"second_factor_all_staff": False})
        if demo_new:
            created += _seed_patients(demo, users["clinician"], patients, seed=20261121, today=today)
            if treatment:
                seed_treatment(demo, today=today)
                seed_outcomes(demo, today=today)
                seed_consents(demo, today=today)
                # The diary (types, hours, online booking, follow-ups) before messaging, whose appointment examples
                # book into it.
                seed_booking(demo, today=today)
                seed_messaging(demo, today=today)  # after the other seeds: reminders for what they booked
                seed_documents(demo)  # visit summaries of the signed sessions, queued for the worker
        if treatment:
            # Also on a demo made before billing existed: a clinic that has a fee schedule is left as it is.
            seed_billing(demo, today=today)
            # An Original Medicare patient with a course and its signed ABN (after billing: the estimate needs fees).
            seed_abn(demo, today=today)
            # Appointment types, working hours and a few follow-ups (also on a demo made before booking existed).
            seed_booking(demo, today=today)
            # Three patients on the waitlist and the offers the scheduler sent them (after the booking setup).
            seed_waitlist(demo, today=today)
            # Two new-patient assessments with their pre-visit intake: one emailed, one sent back to review.
            seed_intake(demo, today=today)
        if second_new:
            created += _seed_patients(
                second, users["riverside_clinician"], second_clinic_patients, seed=7, today=today, locale="en_GB"
            )
    return SeedReport(
        password=password, password_source=source, created_patients=created, usernames=[s[0] for s in STAFF]
    )


def _seed_patients(clinic: Clinic, author: User, count: int, *, seed: int, today: date, locale: str = "en_US") -> int:
    actor = Actor(user=author, clinic=clinic, role=Role.CLINICIAN, client_address=None, channel="system")
    for spec in generate_patients(count, seed=seed, today=today, locale=locale):
        patient = patient_services.create_patient(actor, spec.patient)
        for kind, rows in (
            ("weight", spec.weights),
            ("condition", spec.conditions),
            ("medication", spec.medications),
            ("allergy", spec.allergies),
        ):
            for row in rows:
                patient_services.add_child(actor, patient, kind, row)
        # Most demo patients without allergies were asked at intake and have none; a few were never asked.
        if not spec.allergies and int(spec.patient["mrn"][-2:]) % 10:
            patient_services.confirm_no_known_allergies(actor, patient)
    return count
