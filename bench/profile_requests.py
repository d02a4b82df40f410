"""Where a request's time goes, beyond its queries (issue 17, "Serving").

Runs the app in-process (Django's test client, production settings: DEBUG off) on a copy of the load bench's demo
database (bench/load.py makes it), and for each request of the load mix measures, over --requests requests after a
warm-up: wall and CPU time per request, the number of queries and the time spent inside them (database time,
including the commit's fsync), the time in the audit write (`audit.services.record_event` and its commit). Then a
pyinstrument profile of all of them together, written to bench/results/profile.txt and .html.

    .venv/bin/python bench/profile_requests.py [--requests 100]

CPU time per request is the figure that decides throughput on a machine shared with other work: 2 cores give at most
2,000 / (CPU ms per request, server and client) requests per second.
"""

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
RESULTS = ROOT / "bench" / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    import load

    data_dir = RESULTS / "profile"
    load.prepare_sqlite(data_dir)
    env = load.server_env(data_dir)
    env["PROLOTRACK_ALLOWED_HOSTS"] = "testserver"  # Django's test client
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from prolotrack.accounts.testing import mark_verified
    from prolotrack.audit import services as audit_services
    from prolotrack.clinics.models import Clinic, User
    from prolotrack.clinics.services import create_api_token
    from prolotrack.demo.seed import DEMO_CLINIC
    from prolotrack.patients.models import Patient
    from prolotrack.treatment.models import TreatmentSession

    call_command("collectstatic", "--noinput", verbosity=0)
    clinic = Clinic.objects.get(name=DEMO_CLINIC)
    user = User.objects.get(username="clinician")
    token = create_api_token(user.memberships.get(clinic=clinic), "profile")
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    mark_verified(client, user)
    patient = Patient.objects.filter(clinic=clinic, mrn__startswith="PT-").order_by("id").first()
    session = TreatmentSession.objects.filter(clinic=clinic, signed_at__isnull=False).order_by("id").first()
    api = {"Authorization": f"Bearer {token}"}
    counter = iter(range(10**6))
    requests = {
        "GET chart page": lambda: client.get(f"/patients/{patient.uuid}/"),
        "GET session page": lambda: client.get(f"/sessions/{session.uuid}/"),
        "GET /api/patients/{id}": lambda: client.get(f"/api/patients/{patient.uuid}", headers=api),
        "GET /api/sessions/{id}": lambda: client.get(f"/api/sessions/{session.uuid}", headers=api),
        "GET /api/patients?search=": lambda: client.get("/api/patients?search=an", headers=api),
        "POST /api/patients": lambda: client.post(
            "/api/patients", {"given_name": f"Prof{next(counter)}", "family_name": "Bench", "sex": "female",
                              "date_of_birth": "1970-01-01"}, content_type="application/json", headers=api),
        "POST /api/patients/{id}/weights": lambda: client.post(
            f"/api/patients/{patient.uuid}/weights", {"measured_on": "2026-03-01", "weight_kg": "70.5", "note": ""},
            content_type="application/json", headers=api),
        "GET /livez (no database)": lambda: client.get("/livez"),
    }  # fmt: skip
    query_time = [0.0]
    queries = [0]

    def timed(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            query_time[0] += time.perf_counter() - started
            queries[0] += 1

    audit_time = [0.0]
    real_record = audit_services.record_event

    def record(*a, **k):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return real_record(*a, **k)
        finally:
            audit_time[0] += time.perf_counter() - started

    audit_services.record_event = record
    # Commit time: SQLite's COMMIT (with its fsync under synchronous=FULL) happens outside execute(); wrap it too.
    commit_time = [0.0]
    from django.db.backends.base.base import BaseDatabaseWrapper

    real_commit = BaseDatabaseWrapper._commit

    def commit(self):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return real_commit(self)
        finally:
            commit_time[0] += time.perf_counter() - started

    BaseDatabaseWrapper._commit = commit  # type: ignore[method-assign]
    rows = []
    for name, call in requests.items():
        for _ in range(5):
            answer = call()
        assert answer.status_code in (200, 201), (name, answer.status_code, answer.content[:300])
        walls, cpus = [], []
        query_time[0] = audit_time[0] = commit_time[0] = 0.0
        queries[0] = 0
        with connection.execute_wrapper(timed):
            for _ in range(args.requests):
                wall, cpu = time.perf_counter(), time.process_time()
                call()
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
        n = args.requests
        row = {
            "request": name,
            "wall_median_ms": round(1000 * statistics.median(walls), 2),
            "cpu_median_ms": round(1000 * statistics.median(cpus), 2),
            "queries": round(queries[0] / n, 1),
            "in_queries_ms": round(1000 * query_time[0] / n, 2),
            "commit_ms": round(1000 * commit_time[0] / n, 2),
            "audit_write_ms": round(1000 * audit_time[0] / n, 2),
        }
        row["beyond_queries_ms"] = round(1000 * statistics.mean(walls) - row["in_queries_ms"] - row["commit_ms"], 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    (RESULTS / "profile.json").write_text(json.dumps({"load_average": os.getloadavg(), "rows": rows}, indent=2))

    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    for name, call in requests.items():
        if "livez" in name:
            continue
        for _ in range(args.requests // 2):
            call()
    profiler.stop()
    (RESULTS / "profile.txt").write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    (RESULTS / "profile.html").write_text(profiler.output_html())
    print(f"profile: {RESULTS / 'profile.txt'}; load average {os.getloadavg()}")
    connection.close()
    shutil.rmtree(data_dir, ignore_errors=True)
    _ = sqlite3


if __name__ == "__main__":
    main()
