"""A clinic-size benchmark dataset, fast: patients with their whole treatment history, in a separate SQLite file.

Sizes follow QUALITY.md: "clinic" = 10,000 patients, "network" = 100,000 (run that one on PostgreSQL). Each patient
gets 1-2 conditions, 2-4 weights, medications and allergies for some, and 70 % a course (a few two) of 3-6 sessions
with the course's timepoints; done sessions carry a prepared solution (dextrose + lidocaine with lots) and 4-10
injection sites on the region's map; ~4 % of done sessions an adverse event; pain NRS at baseline, each session and
follow-ups, and the region's instrument at baseline and follow-ups. Synthetic, from a fixed seed.

Rows are written with bulk_create inside `service_write()` (no version or audit rows: acceptable for benchmark data
only, never for real records); on PostgreSQL with COPY instead (ids reserved from the table's sequence first), which
is what makes the network size possible. The database is `<data-dir>/prolotrack.sqlite3` (PROLOTRACK_DATA_DIR), or
the one DATABASE_URL names, migrated first.

The "network" size also has a denser history per patient, so that 100,000 patients carry about 5M injection sites
and 2M questionnaire responses (issue 17): most treated patients have two or three courses, 4-10 sites a session as in the clinic,
and the region's instrument at every timepoint.

    .venv/bin/python bench/dataset.py [--size clinic|network|small] [--patients N] [--data-dir bench/results/clinic]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_size .venv/bin/python bench/dataset.py --size network \
        [--max-minutes 20]

On PostgreSQL each block of 1,000 patients is its own transaction, so --max-minutes can stop after the block that
crosses the time (the size reached is printed); on SQLite the whole dataset is one transaction.

At the end of `generate` the dashboard's per-course facts of the clinic are rebuilt (`analytics.facts.rebuild`, what `manage.py
course_facts --rebuild` runs), since the rows bypassed the services that keep them. Prints the row counts and the time
taken. A data dir that already holds the bench clinic is kept unless --fresh.
Importable: `generate(clinic, patients=..., seed=...)` after django.setup() (used by bench/fhir_export.py).
"""

import argparse
import itertools
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


class Shape:
    """How much history each patient gets (the clinic shape is the original one; the network one is denser)."""

    def __init__(
        self,
        *,
        treated: float,
        more_courses: tuple[float, ...],
        sites: tuple[int, int],
        every_tp: bool,
        patients_per_clinician: int,
    ):
        self.treated = treated  # share of patients with a course
        self.more_courses = more_courses  # chance of a 2nd, 3rd... course (each after the one before)
        self.sites = sites  # injection sites per done session (min, max)
        self.instrument_every_timepoint = every_tp  # the region's instrument at sessions too, not only baseline/FU
        # One clinician for so many patients: their sessions fill about two thirds of a clinician's working week in
        # the busiest weeks (bench/README.md, "The bench clinic's clinicians and their week").
        self.patients_per_clinician = patients_per_clinician


SHAPES = {
    "small": Shape(treated=0.7, more_courses=(0.15,), sites=(4, 10), every_tp=False, patients_per_clinician=1_250),
    "clinic": Shape(treated=0.7, more_courses=(0.15,), sites=(4, 10), every_tp=False, patients_per_clinician=1_250),
    "network": Shape(treated=0.85, more_courses=(0.9, 0.6), sites=(4, 10), every_tp=True, patients_per_clinician=450),
}
BENCH_CLINIC = "Bench Prolotherapy Clinic"
BATCH = 2000

DATA = Path(__file__).resolve().parent / "data"


def _census(name: str) -> tuple[list[str], list[float]]:
    """A name list of the U.S. Census Bureau's 1990 "Frequently Occurring Names" and each name's percent of people.

    Public domain (a work of the U.S. government); taken from the files `dist.all.last`, `dist.female.first` and
    `dist.male.first` as the PyPI package `names` 0.3.0 (MIT) ships them, the most frequent 10,000 surnames and 1,000
    given names of each sex (bench/data/README.md).
    """
    import gzip

    names, weights = [], []
    with gzip.open(DATA / f"census1990_{name}.txt.gz", "rt", encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                who, pct = line.split()
                names.append(who)
                weights.append(float(pct))
    return names, weights


def _surnames() -> tuple[list[str], list[float]]:
    """The 10,000 surnames with their real frequency (Smith 1.006 %); the 29 % of people whose name is rarer than the
    10,000th are spread evenly over the names ranked 5,001-10,000, so no name is more frequent than its rank says
    and the long tail stays long (each of those about 0.007 %)."""
    names, weights = _census("surnames")
    tail = max(0.0, 100.0 - sum(weights))
    for i in range(5000, len(names)):
        weights[i] += tail / (len(names) - 5000)
    return names, weights


FAMILY, FAMILY_WEIGHTS = _surnames()
GIVEN = {"female": _census("given_female"), "male": _census("given_male")}


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


# A clinician's working week (bench/README.md, "The bench clinic's clinicians and their week"): Monday to Friday,
# 08:00-12:00 and 13:00-17:00 clinic time (40 hours with patients), sessions of 45 minutes (the default length of a
# TreatmentSession) back to back on the quarter-hour grid: five each morning, five each afternoon, 50 a week.
SLOTS = tuple(dtime(8 + m // 60, m % 60) for m in (0, 45, 90, 135, 180)) + tuple(
    dtime(13 + m // 60, m % 60) for m in (0, 45, 90, 135, 180)
)
FULL_DAY = (1 << len(SLOTS)) - 1


class Diary:
    """Each clinician's booked slots by working day, so that no clinician holds two sessions at once or works
    outside the week above. A session planned on a Saturday or Sunday moves to the Monday after; when its course's
    clinician has no free slot that day a colleague with one takes it (a clinic's cover), and when nobody has, the
    next working day. Days are clinic days; the start is stored in UTC (the clinic's zone applied, so 08:00 stays
    08:00 across the changes of clocks)."""

    def __init__(self, clinicians: list[int], rng: random.Random, tz: Any):
        self.clinicians, self.rng, self.tz = clinicians, rng, tz
        self.used: dict[tuple[int, date], int] = {}  # a bit a slot
        self.covered = self.moved = 0

    def book(self, clinician: int, day: date) -> tuple[int, date, datetime]:
        """(clinician, day, start) of a free 45-minute slot for a session planned on `day` with `clinician`."""
        first = day
        while True:
            if day.weekday() >= 5:
                day += timedelta(days=7 - day.weekday())
            mask = self.used.get((clinician, day), 0)
            who = clinician
            if mask == FULL_DAY:
                who = next((c for c in self.clinicians if self.used.get((c, day), 0) != FULL_DAY), 0)
                if not who:
                    day += timedelta(days=1)
                    continue
                self.covered += 1
                mask = self.used.get((who, day), 0)
            if day != first and first.weekday() < 5:
                self.moved += 1
            free = [i for i in range(len(SLOTS)) if not mask >> i & 1]
            slot = free[self.rng.randrange(len(free))]
            self.used[(who, day)] = mask | 1 << slot
            return who, day, datetime.combine(day, SLOTS[slot], tzinfo=self.tz).astimezone(UTC)


def clinicians_of(clinic: Any, count: int) -> list[int]:
    """The ids of `count` clinicians of the clinic: those it has (the bench clinic's `bench_clinician`, whom the
    benches sign in as; a test's clinician), then bench_clinician_2 ... created as needed."""
    from prolotrack.clinics.models import Membership, User
    from prolotrack.clinics.roles import Role

    ids = list(
        User.objects.filter(memberships__clinic=clinic, memberships__role=Role.CLINICIAN)
        .order_by("id")
        .values_list("id", flat=True)[:count]
    )
    k = len(ids)
    while len(ids) < count:
        k += 1
        username = f"bench_clinician_{k}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, password=None, first_name="Clinician", last_name=str(k))
        Membership.objects.get_or_create(user=user, clinic=clinic, defaults={"role": Role.CLINICIAN})
        ids.append(user.pk)
    return ids


def _bulk(model: Any, rows: list[Any]) -> list[Any]:
    from django.db import connection

    from prolotrack.core.records import service_write

    if connection.vendor == "postgresql":
        return _copy(model, rows)
    with service_write():
        return model.objects.bulk_create(rows, batch_size=BATCH)


def _copy(model: Any, rows: list[Any]) -> list[Any]:
    """PostgreSQL: reserve ids from the table's sequence, then COPY the instances' field values (what bulk_create
    would insert: the same concrete fields, defaults already applied by the model's __init__)."""
    from django.db import connection
    from psycopg.types.json import Jsonb

    if not rows:
        return rows
    meta = model._meta
    fields = list(meta.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [r[0] for r in cursor.fetchall()]
    for obj, pk in zip(rows, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = "default"
    json_at = {i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"}
    attnames = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
    with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for obj in rows:
            values = [getattr(obj, a) for a in attnames]
            for i in json_at:
                values[i] = Jsonb(values[i])
            copy.write_row(values)
    return rows


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
    clinic: Any,
    *,
    patients: int,
    seed: int = 7,
    today: date | None = None,
    adverse_event_rate: float = 0.04,
    shape: Shape | None = None,
    deadline: float | None = None,
    block_done: Any = None,
    clinicians: int | None = None,
) -> dict[str, int]:
    """Write `patients` patients with their history into `clinic`; return row counts by model.

    `deadline` (a time.perf_counter() value): stop after the block of 1,000 patients that crosses it.
    `block_done()`: called after each block (the PostgreSQL generator commits there).
    `clinicians`: how many share the sessions (default: one for the shape's `patients_per_clinician`)."""
    from django.db import transaction

    from prolotrack.analytics import facts
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

    shape = shape or SHAPES["clinic"]
    rng = random.Random(seed)
    family_cum = list(itertools.accumulate(FAMILY_WEIGHTS))
    given_cum = {sex: (names, list(itertools.accumulate(w))) for sex, (names, w) in GIVEN.items()}
    today = today or date(2026, 6, 1)
    staff = clinicians_of(clinic, clinicians or max(1, round(patients / shape.patients_per_clinician)))
    diary = Diary(staff, rng, clinic.tz)
    region_maps = _maps_by_region()
    counts: dict[str, int] = {}
    start_mrn = Patient.objects.filter(clinic=clinic).count()

    who = staff[0]  # ids, not instances: setting a relation by instance is a third of the generator's time

    def stamp(day: date) -> dict[str, Any]:
        at = datetime.combine(day, dtime(15, 0), tzinfo=UTC)
        return {"clinic_id": clinic.pk, "created_at": at, "updated_at": at, "created_by_id": who, "updated_by_id": who}

    def add(name: str, n: int) -> None:
        counts[name] = counts.get(name, 0) + n

    for chunk_start in range(0, patients, 1000):
        if deadline is not None and time.perf_counter() > deadline:
            break
        if block_done is not None and chunk_start:
            block_done(counts)
        n = min(1000, patients - chunk_start)
        people = []
        for i in range(n):
            dob = date(rng.randint(1940, 2004), rng.randint(1, 12), rng.randint(1, 28))
            registered = today - timedelta(days=rng.randint(30, 3 * 365))
            number = start_mrn + chunk_start + i + 1
            sex = rng.choice(("female", "male"))
            people.append(
                Patient(
                    mrn=f"B{number:07d}",
                    given_name=rng.choices(given_cum[sex][0], cum_weights=given_cum[sex][1])[0],
                    family_name=rng.choices(FAMILY, cum_weights=family_cum)[0],
                    date_of_birth=dob,
                    sex=sex,
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
            if rng.random() < shape.treated:
                n_courses = 1
                for chance in shape.more_courses:
                    if rng.random() < 1 - chance:
                        break
                    n_courses += 1
                for c in range(n_courses):
                    started = registered + timedelta(days=14 + 200 * c)
                    if started.weekday() >= 5:  # courses start on a working day, any of the five alike
                        started += timedelta(days=7 - started.weekday() + rng.randrange(5))
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
                            clinician_id=staff[rng.randrange(len(staff))],
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
            booked = [
                diary.book(course.clinician_id, course.started_on + timedelta(days=gap * k)) for k in range(count)
            ]
            planned = [day for _, day, _ in booked]
            plans.append((course, planned))
            timepoints.append(
                CourseTimepoint(
                    course_id=course.pk, patient_id=course.patient_id, code="baseline", label="Baseline (first session)",
                    kind="baseline", due_on=planned[0], session_number=1, **stamp(course.started_on),
                )
            )  # fmt: skip
            for k, (clinician_id, day, when) in enumerate(booked, start=1):
                done = day < today
                status = ("done" if rng.random() < 0.95 else "no_show") if done else "booked"
                sessions.append(
                    TreatmentSession(
                        course=course,
                        patient=course.patient,
                        number=k,
                        planned_on=day,
                        starts_at=when,
                        clinician_id=clinician_id,
                        status=status,
                        weight_kg=Decimal("72.0"),
                        instructions_given=status == "done",
                        signed_at=when + timedelta(hours=1) if status == "done" else None,
                        signed_by_id=clinician_id if status == "done" else None,
                        **stamp(course.started_on),
                    )
                )
                if k > 1:
                    timepoints.append(
                        CourseTimepoint(
                            course_id=course.pk, patient_id=course.patient_id, code=f"session_{k}", label=f"Session {k}",
                            kind="session", due_on=day, session_number=k, **stamp(course.started_on),
                        )
                    )  # fmt: skip
            for code, label, days in FOLLOW_UPS:
                timepoints.append(
                    CourseTimepoint(
                        course_id=course.pk, patient_id=course.patient_id, code=code, label=label, kind="follow_up",
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
            for k in range(rng.randint(*shape.sites)):
                code, label, x, y = points[k % len(points)]
                jitter = (k // len(points)) * 9
                sites.append(
                    InjectionSite(
                        session_id=s.pk,
                        patient_id=s.patient_id,
                        solution_id=solution.pk,
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
                at_session = shape.instrument_every_timepoint or t.kind != "session"
                wanted = ["nrs_pain"] + ([instrument] if at_session and instrument != "nrs_pain" else [])
                for code in wanted:
                    score = Decimal(pain) if code == "nrs_pain" else Decimal(rng.randint(20, 80))
                    answered = datetime.combine(t.due_on, dtime(13, 30), tzinfo=UTC)
                    responses.append(
                        QuestionnaireResponse(
                            patient_id=course.patient_id,
                            course_id=course.pk,
                            timepoint_id=t.pk,
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
    # The dashboard's per-course facts, which the services keep and these rows bypassed (analytics/facts.py).
    began = time.perf_counter()
    with transaction.atomic():
        courses = facts.rebuild(clinic)
    print(f"dashboard facts of {courses:,} courses built in {time.perf_counter() - began:.1f} s", flush=True)
    print(f"{len(staff)} clinicians; sessions taken by a colleague (own day full): {diary.covered:,}; moved to a "
          f"later working day (everyone full): {diary.moved:,}", flush=True)  # fmt: skip
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="clinic")
    parser.add_argument("--patients", type=int, help="Override the size's patient count.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--clinicians",
        type=int,
        help="How many clinicians share the sessions (default: the size's patients per clinician).",
    )
    parser.add_argument("--data-dir", default=None, help="Folder of the SQLite file (default bench/results/<size>).")
    parser.add_argument("--fresh", action="store_true", help="Delete the data dir's database first (SQLite).")
    parser.add_argument("--max-minutes", type=float, help="PostgreSQL: stop after the block crossing this time.")
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
    from django.db import connection, transaction

    from prolotrack.patients.models import Patient

    call_command("migrate", verbosity=0)
    clinic = bench_clinic()
    if Patient.objects.filter(clinic=clinic).exists():
        print(f"{data_dir}: the bench clinic already has {Patient.objects.filter(clinic=clinic).count()} patients "
              "(use --fresh to start again).")  # fmt: skip
        return
    started = time.perf_counter()
    shape = SHAPES[args.size]
    wanted = args.patients or SIZES[args.size]
    if connection.vendor == "postgresql":
        # COPY in autocommit: each block of 1,000 patients is committed as it is written.
        deadline = started + args.max_minutes * 60 if args.max_minutes else None

        def progress(counts: dict[str, int]) -> None:
            print(f"{time.perf_counter() - started:7.1f} s  {counts.get('Patient', 0):>7,} patients, "
                  f"{counts.get('InjectionSite', 0):>9,} sites, {counts.get('QuestionnaireResponse', 0):>9,} "
                  f"responses; load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip

        counts = generate(
            clinic, patients=wanted, seed=args.seed, shape=shape, deadline=deadline, block_done=progress,
            clinicians=args.clinicians,
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with transaction.atomic():  # one commit: synchronous=FULL makes a commit per batch the slow part
            counts = generate(clinic, patients=wanted, seed=args.seed, shape=shape, clinicians=args.clinicians)
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    for name, n in counts.items():
        print(f"{name:24} {n:>10,}")
    print(
        f"{'rows':24} {total:>10,} in {elapsed:.1f} s ({total / elapsed:,.0f} rows/s) -> {connection.settings_dict['NAME']}"
    )
    if counts.get("Patient", 0) < wanted:
        print(f"stopped at the time limit: {counts.get('Patient', 0):,} of {wanted:,} patients")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            print(f"database size {cursor.fetchone()[0]}")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
