"""Free slots through the database (prolotrack/booking/queries.py `free_slots`) for a month of 10 clinicians (issue 16:
<= 50 ms server time): the read of hours, breaks, time off, holidays, appointments and course sessions, the mapping
onto the domain's inputs, the domain function and the room filter, all timed together.

The same clinic as bench/slots.py (America/Chicago, 31 days from Monday 19 October 2026 across the 1 November change
of clocks; 10 clinicians Monday to Friday 08:00-12:00 and 13:00-18:00, two also Saturday 09:00-13:00, a 15-minute
break each afternoon, four with a week off, one clinic holiday), written as rows: the setup through the booking
services, the held time (seeded like bench/slots.py, --fill) as Appointment rows and, one in three, as booked
TreatmentSession rows of a course, inserted in bulk. A fresh database in its own folder each run (SQLite by default;
PostgreSQL when DATABASE_URL is set, which it empties first). Times `free_slots` for a 30-minute type with a
10-minute buffer on the 15-minute grid, all clinicians ("first available") and one clinician, "now" fixed at
2026-10-19 07:30 local: wall time, CPU time of this process and the number of SQL statements.

    .venv/bin/python bench/slots_db.py [--runs 50] [--clinicians 10] [--days 31] [--fill 0.7]
"""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ZONE = ZoneInfo("America/Chicago")
FIRST = date(2026, 10, 19)
NOW = datetime(2026, 10, 19, 7, 30, tzinfo=ZONE)
HOLIDAY = date(2026, 11, 26)


def _stats(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return round(statistics.median(times), 2), round(times[max(0, int(len(times) * 0.95) - 1)], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--clinicians", type=int, default=10)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--fill", type=float, default=0.7)
    parser.add_argument("--data-dir", default=str(ROOT / "bench" / "results" / "slots_db"))
    args = parser.parse_args()
    shutil.rmtree(args.data_dir, ignore_errors=True)
    Path(args.data_dir).mkdir(parents=True)
    os.environ["PROLOTRACK_DATA_DIR"] = args.data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from prolotrack.audit.services import Actor
    from prolotrack.booking import queries, services
    from prolotrack.booking.models import Appointment, AppointmentKind, PeriodKind
    from prolotrack.clinics.models import Clinic, Membership, User
    from prolotrack.clinics.roles import Role
    from prolotrack.core.records import service_write
    from prolotrack.patients import services as patient_services
    from prolotrack.treatment.models import SessionStatus, TreatmentSession
    from prolotrack.treatment.testing import knee_course

    if connection.vendor == "postgresql":
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    clinic = Clinic.objects.create(name="Bench clinic", timezone="America/Chicago")
    admin_user = User.objects.create_user(username="bench-admin")
    Membership.objects.create(user=admin_user, clinic=clinic, role=Role.ADMIN)
    admin = Actor(user=admin_user, clinic=clinic, role=Role.ADMIN)
    team = []
    for n in range(args.clinicians):
        user = User.objects.create_user(username=f"clinician-{n:02d}", first_name="Clinician", last_name=f"{n:02d}")
        Membership.objects.create(user=user, clinic=clinic, role=Role.CLINICIAN)
        team.append(user)
    kind = services.create_appointment_type(
        admin, {"name": "Follow-up", "kind": "follow_up", "duration_minutes": 30, "buffer_after_minutes": 10}
    )
    session_type = services.create_appointment_type(
        admin, {"name": "Prolotherapy session", "kind": AppointmentKind.SESSION, "duration_minutes": 45}
    )
    services.set_offers(admin, kind, team)
    services.set_offers(admin, session_type, team)
    hours_of: dict[int, list[tuple[int, clock, clock]]] = {}
    for n, who in enumerate(team):
        hours = [(d, clock(8), clock(12)) for d in range(5)] + [(d, clock(13), clock(18)) for d in range(5)]
        if n < 2:
            hours.append((5, clock(9), clock(13)))
        hours_of[who.pk] = hours
        for weekday, starts, ends in hours:
            services.add_weekly_period(admin, who, weekday=weekday, starts=starts, ends=ends)
        for weekday in range(5):
            services.add_weekly_period(
                admin, who, weekday=weekday, starts=clock(15), ends=clock(15, 15), kind=PeriodKind.BREAK
            )
        if n % 3 == 0:
            off = FIRST + timedelta(days=7 * (n % 4) + 2)
            services.add_time_off(admin, clinician=who, first_day=off, last_day=off + timedelta(days=6))
    services.add_time_off(admin, first_day=HOLIDAY, last_day=HOLIDAY)
    with transaction.atomic():
        patient = patient_services.create_patient(
            Actor(user=team[0], clinic=clinic, role=Role.CLINICIAN),
            {"given_name": "Bench", "family_name": "Patient", "date_of_birth": date(1960, 1, 1), "sex": "female"},
        )
    course = knee_course(team[0], patient, FIRST - timedelta(days=30))
    rng = random.Random(16)
    appointments, sessions = [], []
    for who in team:
        for offset in range(args.days):
            day = FIRST + timedelta(days=offset)
            for weekday, starts, ends in hours_of[who.pk]:
                if weekday != day.weekday():
                    continue
                cursor = datetime.combine(day, starts, ZONE)
                end = datetime.combine(day, ends, ZONE)
                while cursor < end:
                    minutes = rng.choice([30, 30, 45, 60])
                    length = timedelta(minutes=minutes)
                    if cursor + length <= end and rng.random() < args.fill:
                        after = rng.choice([0, 5, 10, 15])
                        if rng.random() < 1 / 3:
                            sessions.append(
                                TreatmentSession(
                                    clinic=clinic,
                                    course=course,
                                    patient=patient,
                                    number=100 + len(sessions),
                                    planned_on=day,
                                    starts_at=cursor,
                                    duration_minutes=minutes,
                                    clinician=who,
                                    status=SessionStatus.BOOKED,
                                )
                            )
                        else:
                            appointments.append(
                                Appointment(
                                    clinic=clinic,
                                    patient=patient,
                                    appointment_type=kind,
                                    clinician=who,
                                    starts_at=cursor,
                                    duration_minutes=minutes,
                                    buffer_after_minutes=after,
                                )
                            )
                        cursor += length + timedelta(minutes=after)
                    else:
                        cursor += timedelta(minutes=15)
    with transaction.atomic(), service_write():
        Appointment.objects.bulk_create(appointments, batch_size=500)
        TreatmentSession.objects.bulk_create(sessions, batch_size=500)
    last = FIRST + timedelta(days=args.days - 1)
    targets = {f"all {args.clinicians} clinicians, {args.days} days": None, f"one clinician, {args.days} days": team[0]}
    results = []
    for name, who in targets.items():
        for _ in range(3):
            queries.free_slots(clinic, kind, FIRST, last, clinician=who, now=NOW)
        with CaptureQueriesContext(connection) as captured:
            queries.free_slots(clinic, kind, FIRST, last, clinician=who, now=NOW)
        times, cpu = [], []
        for _ in range(args.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            slots = queries.free_slots(clinic, kind, FIRST, last, clinician=who, now=NOW)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        if os.environ.get("BENCH_PROFILE") and who is None:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.runcall(lambda: [queries.free_slots(clinic, kind, FIRST, last, now=NOW) for _ in range(20)])
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        median, p95 = _stats(times)
        cpu_median, cpu_p95 = _stats(cpu)
        results.append(
            {
                "target": name,
                "median_ms": median,
                "p95_ms": p95,
                "cpu_median_ms": cpu_median,
                "cpu_p95_ms": cpu_p95,
                "statements": len(captured.captured_queries),
                "slots": len(slots),
            }
        )
    print(
        f"{connection.vendor}: {args.clinicians} clinicians, {len(appointments)} appointments and {len(sessions)} "
        f"course sessions over {args.days} days from {FIRST}, {args.runs} runs"
    )
    for r in results:
        print(
            f"{r['target']:<32} wall median {r['median_ms']:>6} ms p95 {r['p95_ms']:>6} ms; "
            f"CPU median {r['cpu_median_ms']:>6} ms p95 {r['cpu_p95_ms']:>6} ms; {r['statements']} statements; "
            f"{r['slots']} slots"
        )
    out = ROOT / "bench" / "results"
    (out / f"slots_db_{connection.vendor}.json").write_text(
        json.dumps(
            {"appointments": len(appointments), "sessions": len(sessions), "results": results},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
