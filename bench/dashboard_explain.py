"""Where the dashboard's time goes on a bench clinic: each statement of one computation timed, the slowest one run
again under a few PostgreSQL settings, then its EXPLAIN (ANALYZE, BUFFERS).

For the database of DATABASE_URL (or PROLOTRACK_DATA_DIR's SQLite; the settings step is PostgreSQL only) holding the
bench clinic of bench/dataset.py. One computation, not a distribution: see bench/dashboard.py for median and p95.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_size .venv/bin/python bench/dashboard_explain.py
"""

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
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from bench.dataset import BENCH_CLINIC
    from prolotrack.analytics import queries
    from prolotrack.clinical.queries import clinic_today
    from prolotrack.clinics.models import Clinic

    clinic = Clinic.objects.get(name=BENCH_CLINIC)
    statements: list[tuple[float, str, Any]] = []

    def timed(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        out = execute(sql, params, many, context)
        statements.append(((time.perf_counter() - began) * 1000, sql, params))
        return out

    began = time.perf_counter()
    with connection.execute_wrapper(timed):
        queries.dashboard(clinic, queries.Filters(), clinic_today(clinic))
    print(f"dashboard {(time.perf_counter() - began) * 1000:.0f} ms ({connection.vendor}, load {os.getloadavg()})")
    for ms, sql, _ in statements:
        print(f"{ms:9.1f} ms  {' '.join(sql.split())[:140]}")
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


if __name__ == "__main__":
    main()
