"""Where the dashboard's time goes on a bench clinic: each statement of one computation timed, the slowest one run
again under a few PostgreSQL settings, then its EXPLAIN (ANALYZE, BUFFERS).

For the database of DATABASE_URL (or PROLOTRACK_DATA_DIR's SQLite; the settings step is PostgreSQL only) holding the
bench clinic of bench/dataset.py. One computation, not a distribution: see bench/dashboard.py for median and p95.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_size .venv/bin/python bench/dashboard_explain.py \
        [--rounds 3] [--no-parallel] [--plan stored|window|joined] [--refresh 50]

--rounds N computes the whole dashboard N more times and prints each one's wall time, this process's CPU time and (on
PostgreSQL) the CPU time of the server backend serving the connection (read from /proc: same machine), which on a
shared machine say more than the wall time. --no-parallel sets max_parallel_workers_per_gather = 0 for the session,
so all the server's work is in that one backend. --plan chooses the dashboard's plan instead of the database's
default (analytics/queries.py: `stored`, the per-course facts the services keep, on both databases; `window`, the
statements PostgreSQL ran in session 8; `joined`, SQLite's until then), for a comparison on the same database in the
same conditions. --refresh N times what the kept facts add to a write: `analytics.facts.refresh_courses` of N courses
spread over the clinic, one at a time, each in its own transaction, rolled back (median and p95, wall and server CPU).
"""

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETTINGS = (
    "",
    "SET LOCAL work_mem = '64MB'",
    "SET LOCAL max_parallel_workers_per_gather = 0",
    "SET LOCAL work_mem = '64MB'; SET LOCAL max_parallel_workers_per_gather = 0",
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=0)
    parser.add_argument("--no-parallel", action="store_true")
    parser.add_argument("--plan", choices=["stored", "window", "joined"])
    parser.add_argument("--refresh", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from bench.dataset import BENCH_CLINIC
    from bench.server_cpu import backend_cpu_clock
    from prolotrack.analytics import queries
    from prolotrack.clinical.queries import clinic_today
    from prolotrack.clinics.models import Clinic

    if args.plan:
        vars(queries)["plan"] = lambda: args.plan  # the statements read it from their module
    clinic = Clinic.objects.get(name=BENCH_CLINIC)
    if connection.vendor == "postgresql" and args.no_parallel:
        with connection.cursor() as cursor:
            cursor.execute("SET max_parallel_workers_per_gather = 0")
    server_cpu = backend_cpu_clock(connection)

    statements: list[tuple[float, str, Any]] = []

    cpu_of: dict[str, float] = {}

    def timed(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        began, server = time.perf_counter(), server_cpu()
        out = execute(sql, params, many, context)
        statements.append(((time.perf_counter() - began) * 1000, sql, params))
        cpu_of[sql] = (server_cpu() - server) * 1000
        return out

    began = time.perf_counter()
    with connection.execute_wrapper(timed):
        queries.dashboard(clinic, queries.Filters(), clinic_today(clinic))
    print(f"dashboard {(time.perf_counter() - began) * 1000:.0f} ms ({connection.vendor}, load {os.getloadavg()})")
    for round_no in range(1, args.rounds + 1):
        began, cpu, server = time.perf_counter(), time.process_time(), server_cpu()
        queries.dashboard(clinic, queries.Filters(), clinic_today(clinic))
        wall, cpu, server = time.perf_counter() - began, time.process_time() - cpu, server_cpu() - server
        print(
            f"round {round_no}: wall {wall * 1000:.0f} ms, this process CPU {cpu * 1000:.0f} ms, server backend CPU "
            f"{server * 1000:.0f} ms (load {os.getloadavg()[0]:.1f})"
        )
    for ms, sql, _ in statements:
        print(f"{ms:9.1f} ms wall {cpu_of.get(sql, 0):7.0f} ms server CPU  {' '.join(sql.split())[:110]}")
    if args.refresh:
        _refresh(clinic, args.refresh, server_cpu)
    slowest = max(statements, key=lambda s: s[0])
    if connection.vendor == "postgresql":
        for setting in SETTINGS:
            with transaction.atomic(), connection.cursor() as cursor:
                for statement in filter(None, setting.split(";")):
                    cursor.execute(statement)
                began = time.perf_counter()
                cursor.execute(slowest[1], slowest[2])
                cursor.fetchall()
                print(f"{(time.perf_counter() - began) * 1000:9.0f} ms  slowest statement [{setting or 'defaults'}]")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest[1], slowest[2])
            print("\n".join(row[0] for row in cursor.fetchall()))


def _refresh(clinic: Any, n: int, server_cpu: Any) -> None:
    from django.db import transaction

    from prolotrack.analytics import facts
    from prolotrack.treatment.models import Course

    ids = list(Course.objects.filter(clinic=clinic).order_by("pk").values_list("pk", flat=True))
    picks = ids[:: max(1, len(ids) // n)][:n]
    walls, cpus = [], []
    for pk in picks:
        began, server = time.perf_counter(), server_cpu()
        with transaction.atomic():
            facts.refresh_courses(clinic.pk, [pk])
            transaction.set_rollback(True)
        walls.append((time.perf_counter() - began) * 1000)
        cpus.append((server_cpu() - server) * 1000)
    walls.sort()
    cpus.sort()
    p95 = max(0, int(len(picks) * 0.95) - 1)
    print(
        f"refresh of one course ({len(picks)} courses): wall median {walls[len(walls) // 2]:.1f} ms, p95 "
        f"{walls[p95]:.1f} ms; server CPU median {cpus[len(cpus) // 2]:.0f} ms, p95 {cpus[p95]:.0f} ms "
        f"(load {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
