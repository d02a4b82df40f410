"""A clinic-size benchmark dataset, fast: patients with their whole treatment history, in a separate SQLite file.

Sizes follow QUALITY.md: "clinic" = 10,000 patients, "network" = 100,000 (run that one on PostgreSQL). Each patient
gets 1-2 conditions, 2-4 weights, medications and allergies for some, and 70 % a course (a few two) of 3-6 sessions
with the course's timepoints; done sessions carry a prepared solution (dextrose + lidocaine with lots) and 4-10
injection sites on the region's map; ~4 % of done sessions an adverse event; pain NRS at baseline, each session and
follow-ups, and the region's instrument at baseline and follow-ups. Synthetic, from a fixed seed.

Rows are written with bulk_create inside `service_write()` (no version or audit rows: acceptable for benchmark data
only, never for real records). The database is `<data-dir>/prolotrack.sqlite3` (PROLOTRACK_DATA_DIR), migrated first.

    .venv/bin/python bench/dataset.py [--size clinic|network|small] [--patients N] [--data-dir bench/results/clinic]

Prints the row counts and the time taken. A data dir that already holds the bench clinic is kept unless --fresh.
Importable: `generate(clinic, patients=..., seed=...)` after django.setup() (used by bench/fhir_export.py).
"""

import argparse
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = {"small": 200, "clinic": 10_000, "network": 100_000}
BENCH_CLINIC = "Bench Prolotherapy Clinic"
BATCH = 2000

GIVEN = [
    "Ada",
    "Ben",
    "Cleo",
    "Dev",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivo",
    "Jas",
    "Kai",
    "Lea",
    "Max",
    "Noa",
    "Oli",
    "Pia",
    "Quin",
    "Ray",
    "Sia",
    "Tom",
    "Uma",
    "Vic",
    "Wes",
    "Yara",
    "Zed",
]
FAMILY = [
    "Smith",
    "Jones",
    "Patel",
    "Garcia",
    "Kim",
    "Nguyen",
    "Muller",
    "Rossi",
    "Silva",
    "Cohen",
    "Ito",
    "Okafor",
    "Novak",
    "Berg",
    "Walsh",
    "Dubois",
    "Lopez",
]

# (region, indication, instrument for the region, built-in protocol code) as in the demo clinic.
COMPLAINTS = (
    ("knee", "Knee osteoarthritis", "womac", "knee_oa_rabago"),
    ("lumbopelvic", "Chronic low back pain", "odi", "low_back_yelland"),
    ("elbow", "Lateral epicondylosis", "prtee", "lateral_epicondylosis_scarpone"),
    ("shoulder", "Rotator cuff tendinopathy", "quickdash", "rotator_cuff_bertrand"),
    ("ankle_foot", "Achilles tendinopathy", "visa_a", "achilles_yelland"),
    ("hip", "Greater trochanteric pain", "nrs_pain", ""),
)
COMORBIDITIES = (("Type 2 diabetes", "diabetes"), ("Hypertension", ""), ("Asthma", ""), ("Gout", "gout"))
MEDICATIONS = (("Ibuprofen", "nsaid", "400 mg as needed"), ("Apixaban", "anticoagulant", "5 mg twice daily"),
               ("Aspirin", "antiplatelet", "81 mg daily"), ("Metformin", "other", "500 mg twice daily"))  # fmt: skip
ALLERGIES = (("Penicillin", "rash", "moderate"), ("Latex", "hives", "mild"), ("Chlorhexidine", "", "severe"))
AE_TYPES = (("pain_flare", "mild"), ("bruising", "mild"), ("vasovagal", "moderate"), ("infection", "moderate"))
FOLLOW_UPS = (("follow_up_6w", "6 weeks after the last planned session", 42),
              ("follow_up_3m", "3 months after the last planned session", 91),
              ("follow_up_6m", "6 months after the last planned session", 182),
              ("follow_up_12m", "12 months after the last planned session", 365))  # fmt: skip


def _maps_by_region() -> dict[str, list[tuple[str, list[tuple[str, str, float, float]]]]]:
    """Each region's maps with their landmarks and positions (right side), from the product's own map catalogue."""
    from prolotrack.treatment import maps

    out: dict[str, list[tuple[str, list[tuple[str, str, float, float]]]]] = {}
    for body_map in maps.MAPS:
        points = []
        for landmark in maps.landmarks_on(body_map):
            x, y = maps.position(body_map, landmark.code, "right")
            points.append((landmark.code, landmark.label, x, y))
        if points:
            out.setdefault(body_map.region.value, []).append((body_map.code, points))
    return out


def _bulk(model: Any, rows: list[Any]) -> list[Any]:
    from prolotrack.core.records import service_write

    with service_write():
        return model.objects.bulk_create(rows, batch_size=BATCH)


def bench_clinic() -> Any:
    """The bench clinic with a clinician and an administrator (created once)."""
    from prolotrack.clinics.models import Clinic, Membership, User
    from prolotrack.clinics.roles import Role

    clinic, created = Clinic.objects.get_or_create(name=BENCH_CLINIC, defaults={"timezone": "America/Chicago"})
    if created:
        for username, role in (("bench_clinician", Role.CLINICIAN), ("bench_admin", Role.ADMIN)):
            user = User.objects.create_user(username=username, password=None, first_name=username.title())
            Membership.objects.create(user=user, clinic=clinic, role=role)
    return clinic


def generate(
    clinic: Any, *, patients: int, seed: int = 7, today: date | None = None, adverse_event_rate: float = 0.04
) -> dict[str, int]:
    """Write `patients` patients with their history into `clinic`; return row counts by model."""
    from prolotrack.clinics.models import User
    from prolotrack.outcomes.models import QuestionnaireResponse
    from prolotrack.patients.models import Allergy, Condition, Medication, Patient, WeightMeasurement
    from prolotrack.treatment.models import (
        AdverseEvent,
        Course,
        CourseTimepoint,
        InjectionSite,
        PreparedSolution,
        TreatmentSession,
    )

    rng = random.Random(seed)
    today = today or date(2026, 6, 1)
    clinician = User.objects.filter(memberships__clinic=clinic, memberships__role="clinician").first()
    region_maps = _maps_by_region()
    counts: dict[str, int] = {}
    start_mrn = Patient.objects.filter(clinic=clinic).count()

    def stamp(day: date) -> dict[str, Any]:
        at = datetime.combine(day, dtime(15, 0), tzinfo=UTC)
        return {"clinic": clinic, "created_at": at, "updated_at": at, "created_by": clinician, "updated_by": clinician}

    def add(name: str, n: int) -> None:
        counts[name] = counts.get(name, 0) + n

    for chunk_start in range(0, patients, 1000):
        n = min(1000, patients - chunk_start)
        people = []
        for i in range(n):
            dob = date(rng.randint(1940, 2004), rng.randint(1, 12), rng.randint(1, 28))
            registered = today - timedelta(days=rng.randint(30, 3 * 365))
            number = start_mrn + chunk_start + i + 1
            people.append(
                Patient(
                    mrn=f"B{number:07d}",
                    given_name=rng.choice(GIVEN),
                    family_name=rng.choice(FAMILY),
                    date_of_birth=dob,
                    sex=rng.choice(("female", "male")),
                    email=f"patient{number}@example.org",
                    phone=f"+1 555 {number % 10_000_000:07d}",
                    city="Springfield",
                    country="US",
                    **stamp(registered),
                )
            )
        people = _bulk(Patient, people)
        add("Patient", len(people))

        weights, conditions, medications, allergies, courses = [], [], [], [], []
        course_plan: list[tuple[Any, tuple[str, str, str, str], date]] = []
        for p in people:
            registered = p.created_at.date()
            base = Decimal(rng.randint(550, 1100)) / 10
            for k in range(rng.randint(2, 4)):
                day = registered + timedelta(days=60 * k)
                if day > today:
                    break
                weights.append(
                    WeightMeasurement(
                        patient=p, measured_on=day, weight_kg=base + Decimal(rng.randint(-20, 20)) / 10, **stamp(day)
                    )
                )
            complaint = rng.choice(COMPLAINTS)
            side = rng.choice(("left", "right")) if complaint[0] not in ("lumbopelvic",) else "midline"
            conditions.append(
                Condition(
                    patient=p,
                    category="complaint",
                    description=complaint[1],
                    body_region=complaint[0],
                    laterality=side,
                    onset_date=registered - timedelta(days=rng.randint(120, 2000)),
                    chronicity="chronic",
                    prior_treatments="Physiotherapy; NSAIDs",
                    **stamp(registered),
                )
            )
            if rng.random() < 0.4:
                text, flag = rng.choice(COMORBIDITIES)
                conditions.append(
                    Condition(
                        patient=p, category="comorbidity", description=text, screening_flag=flag, **stamp(registered)
                    )
                )
            if rng.random() < 0.5:
                name, klass, dose = rng.choice(MEDICATIONS)
                medications.append(Medication(patient=p, name=name, drug_class=klass, dose=dose, **stamp(registered)))
            if rng.random() < 0.2:
                substance, reaction, severity = rng.choice(ALLERGIES)
                allergies.append(
                    Allergy(patient=p, substance=substance, reaction=reaction, severity=severity, **stamp(registered))
                )
            if rng.random() < 0.7:
                for c in range(1 if rng.random() < 0.85 else 2):
                    started = registered + timedelta(days=14 + 200 * c)
                    if started > today:
                        break
                    course_plan.append((p, complaint, started))
                    courses.append(
                        Course(
                            patient=p,
                            protocol_id=complaint[3],
                            protocol_name=complaint[1] + " protocol" if complaint[3] else "",
                            indication=complaint[1],
                            region=complaint[0],
                            side=side,
                            status="open",
                            started_on=started,
                            clinician=clinician,
                            **stamp(started),
                        )
                    )
        for model, rows in (
            (WeightMeasurement, weights),
            (Condition, conditions),
            (Medication, medications),
            (Allergy, allergies),
        ):
            add(model.__name__, len(_bulk(model, rows)))
        courses = _bulk(Course, courses)
        add("Course", len(courses))

        sessions, timepoints, plans = [], [], []
        for course in courses:
            count = rng.randint(3, 6)
            gap = 28 if course.region != "lumbopelvic" else 14
            planned = [course.started_on + timedelta(days=gap * k) for k in range(count)]
            plans.append((course, planned))
            timepoints.append(
                CourseTimepoint(
                    course=course, patient=course.patient, code="baseline", label="Baseline (first session)",
                    kind="baseline", due_on=planned[0], session_number=1, **stamp(course.started_on),
                )
            )  # fmt: skip
            for k, day in enumerate(planned, start=1):
                when = datetime.combine(day, dtime(14 + rng.randint(0, 6), 0), tzinfo=UTC)
                done = day < today
                status = ("done" if rng.random() < 0.95 else "no_show") if done else "booked"
                sessions.append(
                    TreatmentSession(
                        course=course,
                        patient=course.patient,
                        number=k,
                        planned_on=day,
                        starts_at=when,
                        clinician=clinician,
                        status=status,
                        weight_kg=Decimal("72.0"),
                        instructions_given=status == "done",
                        signed_at=when + timedelta(hours=1) if status == "done" else None,
                        signed_by=clinician if status == "done" else None,
                        **stamp(course.started_on),
                    )
                )
                if k > 1:
                    timepoints.append(
                        CourseTimepoint(
                            course=course, patient=course.patient, code=f"session_{k}", label=f"Session {k}",
                            kind="session", due_on=day, session_number=k, **stamp(course.started_on),
                        )
                    )  # fmt: skip
            for code, label, days in FOLLOW_UPS:
                timepoints.append(
                    CourseTimepoint(
                        course=course, patient=course.patient, code=code, label=label, kind="follow_up",
                        due_on=planned[-1] + timedelta(days=days), **stamp(course.started_on),
                    )
                )  # fmt: skip
        sessions = _bulk(TreatmentSession, sessions)
        timepoints = _bulk(CourseTimepoint, timepoints)
        add("TreatmentSession", len(sessions))
        add("CourseTimepoint", len(timepoints))

        solutions, done_sessions = [], []
        for s in sessions:
            if s.status != "done":
                continue
            pct = rng.choice(("12.5", "15", "20", "25"))
            dex_ml = (Decimal(pct) * 20 / 50).quantize(Decimal("0.01"))
            solutions.append(
                PreparedSolution(
                    session=s,
                    patient=s.patient,
                    label="A",
                    final_volume_ml=Decimal("20"),
                    diluent="sodium chloride 0.9%",
                    diluent_volume_ml=Decimal("20") - dex_ml - Decimal("5"),
                    diluent_lot=f"NS-{rng.randint(10, 99)}",
                    components=[
                        {"agent": "dextrose", "target_pct": pct, "stock_pct": "50", "stock_volume_ml": str(dex_ml),
                         "amount_mg": str(Decimal(pct) * 200), "lot": f"D50-{rng.randint(1000, 9999)}",
                         "expiry": (s.planned_on + timedelta(days=300)).isoformat()},
                        {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2", "stock_volume_ml": "5.00",
                         "amount_mg": "100.0", "lot": f"LID-{rng.randint(100, 999)}",
                         "expiry": (s.planned_on + timedelta(days=200)).isoformat()},
                    ],
                    **stamp(s.planned_on),
                )
            )  # fmt: skip
            done_sessions.append(s)
        solutions = _bulk(PreparedSolution, solutions)
        add("PreparedSolution", len(solutions))

        sites, events = [], []
        for s, solution in zip(done_sessions, solutions, strict=True):
            options = region_maps.get(s.course.region) or next(iter(region_maps.values()))
            map_code, points = options[0]
            for k in range(rng.randint(4, 10)):
                code, label, x, y = points[k % len(points)]
                jitter = (k // len(points)) * 9
                sites.append(
                    InjectionSite(
                        session=s,
                        patient=s.patient,
                        solution=solution,
                        number=k + 1,
                        landmark=code if jitter == 0 else "",
                        label=label if jitter == 0 else f"Fanning near site {k % len(points) + 1}",
                        side=s.course.side,
                        body_map=map_code,
                        x=Decimal(str(round(x + jitter, 1))),
                        y=Decimal(str(round(y + jitter, 1))),
                        volume_ml=Decimal("0.5"),
                        needle_gauge=27,
                        **stamp(s.planned_on),
                    )
                )
            if rng.random() < adverse_event_rate:
                kind, severity = rng.choice(AE_TYPES)
                events.append(
                    AdverseEvent(
                        patient=s.patient,
                        course=s.course,
                        session=s,
                        solution=solution,
                        lot=solution.components[0]["lot"],
                        event_type=kind,
                        onset_on=s.planned_on + timedelta(days=1),
                        severity=severity,
                        causality="probable",
                        outcome="resolved",
                        description=f"{kind.replace('_', ' ').capitalize()} after the session; settled.",
                        **stamp(s.planned_on + timedelta(days=2)),
                    )
                )
        add("InjectionSite", len(_bulk(InjectionSite, sites)))
        add("AdverseEvent", len(_bulk(AdverseEvent, events)))

        by_course: dict[int, list[Any]] = {}
        for t in timepoints:
            by_course.setdefault(t.course_id, []).append(t)
        responses = []
        for course, _planned in plans:
            instrument = next(c[2] for c in COMPLAINTS if c[0] == course.region)
            pain = rng.randint(5, 9)
            for t in by_course[course.pk]:
                if t.due_on > today:
                    continue
                pain = max(0, pain - rng.choice((0, 1, 1, 2)))
                wanted = ["nrs_pain"] + ([instrument] if t.kind != "session" and instrument != "nrs_pain" else [])
                for code in wanted:
                    score = Decimal(pain) if code == "nrs_pain" else Decimal(rng.randint(20, 80))
                    answered = datetime.combine(t.due_on, dtime(13, 30), tzinfo=UTC)
                    responses.append(
                        QuestionnaireResponse(
                            patient=course.patient,
                            course=course,
                            timepoint=t,
                            instrument=code,
                            status="completed",
                            answers={"pain": pain} if code == "nrs_pain" else {},
                            score=score,
                            authored_on=t.due_on,
                            completed_at=answered,
                            source="tablet",
                            **stamp(t.due_on),
                        )
                    )
        add("QuestionnaireResponse", len(_bulk(QuestionnaireResponse, responses)))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="clinic")
    parser.add_argument("--patients", type=int, help="Override the size's patient count.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", default=None, help="Folder of the SQLite file (default bench/results/<size>).")
    parser.add_argument("--fresh", action="store_true", help="Delete the data dir's database first.")
    args = parser.parse_args()
    data_dir = Path(args.data_dir or ROOT / "bench" / "results" / args.size)
    data_dir.mkdir(parents=True, exist_ok=True)
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"prolotrack.sqlite3{suffix}").unlink(missing_ok=True)
    os.environ["PROLOTRACK_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from prolotrack.patients.models import Patient

    call_command("migrate", verbosity=0)
    clinic = bench_clinic()
    if Patient.objects.filter(clinic=clinic).exists():
        print(f"{data_dir}: the bench clinic already has {Patient.objects.filter(clinic=clinic).count()} patients "
              "(use --fresh to start again).")  # fmt: skip
        return
    started = time.perf_counter()
    with transaction.atomic():  # one commit: synchronous=FULL makes a commit per batch the slow part
        counts = generate(clinic, patients=args.patients or SIZES[args.size], seed=args.seed)
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    for name, n in counts.items():
        print(f"{name:24} {n:>10,}")
    print(f"{'rows':24} {total:>10,} in {elapsed:.1f} s ({total / elapsed:,.0f} rows/s) -> {data_dir}")


if __name__ == "__main__":
    main()
