"""Server time of the clinic dashboard at clinic size (10,000 patients) on SQLite.

Builds (once) the clinic-size dataset of bench/dataset.py in its own scratch folder, then times, in-process with
Django's test client: the figures alone (`analytics.queries.dashboard`), `GET /api/dashboard`, the dashboard page,
the page filtered by an indication and a date range, and one chart as SVG and PNG. Prints median and p95 per target,
the query count, and the dataset's size.

    .venv/bin/python bench/dashboard.py [--requests 30] [--patients 10000] [--data-dir bench/results/dashboard]
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
sys.path.insert(0, str(ROOT / "bench"))


def _stats(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return round(statistics.median(times), 1), round(times[max(0, int(len(times) * 0.95) - 1)], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30, help="Timed requests per target (after 3 warm-up ones).")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--data-dir", default=str(ROOT / "bench" / "results" / "dashboard"))
    args = parser.parse_args()
    os.environ["PROLOTRACK_DATA_DIR"] = args.data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)

    import django

    django.setup()
    from dataset import bench_clinic, generate
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import override_settings

    from prolotrack.analytics import queries
    from prolotrack.clinical.queries import clinic_today
    from prolotrack.clinics.models import User
    from prolotrack.clinics.services import create_api_token
    from prolotrack.outcomes.models import QuestionnaireResponse
    from prolotrack.patients.models import Patient
    from prolotrack.treatment.models import Course, TreatmentSession

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)  # the page's figures cache (database cache by default)
    clinic = bench_clinic()
    if not Patient.objects.filter(clinic=clinic).exists():
        started = time.perf_counter()
        with transaction.atomic():
            generate(clinic, patients=args.patients)
        print(f"generated the clinic-size dataset in {time.perf_counter() - started:.1f} s")
    size = {
        "patients": Patient.objects.filter(clinic=clinic).count(),
        "courses": Course.objects.filter(clinic=clinic).count(),
        "sessions": TreatmentSession.objects.filter(clinic=clinic).count(),
        "responses": QuestionnaireResponse.objects.filter(clinic=clinic).count(),
    }
    print(", ".join(f"{k} {v:,}" for k, v in size.items()))

    user = User.objects.get(username="bench_clinician")
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    # Past the second factor, as a good code on the log-in page leaves a session (docs/SECURITY.md).
    from prolotrack.accounts.testing import mark_verified

    mark_verified(client, user)
    token = create_api_token(user.memberships.get(clinic=clinic))
    api = {"Authorization": f"Bearer {token}"}
    indication = Course.objects.filter(clinic=clinic).values_list("indication", flat=True).first()
    today = clinic_today(clinic)
    first = Course.objects.filter(clinic=clinic).order_by("started_on").values_list("started_on", flat=True).first()
    window = f"start={first.isoformat()}&end={today.isoformat()}&indication={indication.replace(' ', '+')}"
    # (url, headers, empty the cache first): the page computes its figures once and its chart images reuse them.
    targets = {
        "figures only (queries.dashboard)": None,
        "GET /api/dashboard": ("/api/dashboard", api, True),
        "GET /dashboard/ (page, figures computed)": ("/dashboard/", {}, True),
        "GET /dashboard/ filtered (indication, dates)": (f"/dashboard/?{window}", {}, True),
        "GET chart SVG after the page (figures cached)": ("/dashboard/charts/responders-indication.svg", {}, False),
        "GET chart PNG after the page (figures cached)": ("/dashboard/charts/responders-indication.png", {}, False),
        "GET chart SVG alone (figures computed)": ("/dashboard/charts/responders-indication.svg", {}, True),
    }
    results = []
    with override_settings(DEBUG=False):
        for name, target in targets.items():
            counted: list[str] = []

            def count(execute, sql, params, many, context, counted=counted):  # type: ignore[no-untyped-def]
                counted.append(sql)
                return execute(sql, params, many, context)

            def run(target=target) -> int:
                if target is None:
                    queries.dashboard(clinic, queries.Filters(), today)
                    return 200
                if target[2]:
                    cache.clear()
                return client.get(target[0], headers=target[1]).status_code

            for _ in range(3):
                status = run()
            if status != 200:
                print(f"{name}: answered {status}; skipped")
                continue
            with connection.execute_wrapper(count):
                run()
            times = []
            for _ in range(args.requests):
                started = time.perf_counter()
                run()
                times.append((time.perf_counter() - started) * 1000)
            median, p95 = _stats(times)
            results.append({"target": name, "median_ms": median, "p95_ms": p95, "queries": len(counted)})
    width = max(len(r["target"]) for r in results)
    print(f"{'target':<{width}}  median ms  p95 ms  queries")
    for r in results:
        print(f"{r['target']:<{width}}  {r['median_ms']:>9}  {r['p95_ms']:>6}  {r['queries']:>7}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "dashboard.json").write_text(json.dumps({"size": size, "results": results}, indent=2))


if __name__ == "__main__":
    main()
