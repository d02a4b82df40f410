"""Server time of the pages that matter, at demo size.

Runs the Django app in-process (no network), on its own SQLite database in a scratch folder seeded with the demo
clinic, and times each page with the test client: the number is the server's own work (middleware, views, queries,
templates), which is what the quality bar measures. Prints median and p95 per page and the query count.

    .venv/bin/python bench/pages.py [--requests 60] [--data-dir bench/results/data]
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=60, help="Timed requests per page (after 5 warm-up ones).")
    parser.add_argument(
        "--data-dir", default=str(ROOT / "bench" / "results" / "data"), help="Scratch folder for the database."
    )
    args = parser.parse_args()
    os.environ["PROLOTRACK_DATA_DIR"] = args.data_dir
    os.environ.setdefault("PROLOTRACK_DEMO_PASSWORD", "bench-password-1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0)
    from prolotrack.clinics.models import Clinic, User
    from prolotrack.demo.seed import DEMO_CLINIC, seed_demo
    from prolotrack.treatment.models import Course, TreatmentSession

    if not Clinic.objects.filter(name=DEMO_CLINIC).exists():
        started = time.perf_counter()
        seed_demo()
        print(f"seeded the demo clinic in {time.perf_counter() - started:.1f} s")

    clinic = Clinic.objects.get(name=DEMO_CLINIC)
    session = (
        TreatmentSession.objects.filter(clinic=clinic, signed_at__isnull=False, number__gt=1)
        .order_by("-number", "id")
        .first()
    )
    course = Course.objects.filter(clinic=clinic, status="completed").order_by("id").first() or session.course
    patient = session.patient
    pages = {
        "patient list": "/patients/",
        "patient search": "/patients/?q=an",
        "patient chart": f"/patients/{patient.uuid}/",
        "course": f"/courses/{course.uuid}/",
        "session record (signed, with map)": f"/sessions/{session.uuid}/",
        "calendar (week)": f"/calendar/?view=week&date={session.planned_on.isoformat()}",
        "API session": f"/api/sessions/{session.uuid}",
    }
    user = User.objects.get(username="clinician")
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    # Past the second factor, as a good code on the log-in page leaves a session (docs/SECURITY.md).
    from prolotrack.accounts.testing import mark_verified

    mark_verified(client, user)
    from prolotrack.clinics.services import create_api_token

    token = create_api_token(user.memberships.get(clinic=clinic))
    headers = {"Authorization": f"Bearer {token}"}
    results = []
    with override_settings(DEBUG=False):
        for name, url in pages.items():
            extra = headers if url.startswith("/api/") else {}
            for _ in range(5):
                response = client.get(url, headers=extra)
            if response.status_code != 200:
                print(f"{name}: {url} answered {response.status_code}; skipped")
                continue
            # Django clears its query log when a request starts, so count with an execute wrapper instead.
            counted: list[str] = []

            def count(execute, sql, params, many, context, counted=counted):  # type: ignore[no-untyped-def]
                counted.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                client.get(url, headers=extra)
            times = []
            for _ in range(args.requests):
                started = time.perf_counter()
                client.get(url, headers=extra)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            results.append(
                {"page": name, "median_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1),
                 "queries": len(counted)}
            )  # fmt: skip
    width = max(len(r["page"]) for r in results)
    print(f"{'page':<{width}}  median ms  p95 ms  queries")
    for r in results:
        print(f"{r['page']:<{width}}  {r['median_ms']:>9}  {r['p95_ms']:>6}  {r['queries']:>7}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "pages.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
