"""Server time of the pages that matter, at demo size or on a bench dataset (clinic, network).

Runs the Django app in-process (no network) and times each page with the test client: the number is the server's
own work (middleware, views, queries, templates), which is what the quality bar measures. Prints median and p95 per
page and the query count.

    .venv/bin/python bench/pages.py [--requests 60] [--data-dir bench/results/data]
    .venv/bin/python bench/pages.py --dataset [--data-dir bench/results/clinic] [--targets 20]
    DATABASE_URL=postgresql://... .venv/bin/python bench/pages.py --dataset

Without --dataset: its own SQLite database in a scratch folder, seeded with the demo clinic. With --dataset: the
bench clinic that bench/dataset.py made (SQLite in --data-dir, or the database of DATABASE_URL), read as its
clinician; each page is timed across --targets different patients, courses, sessions and weeks in turn (not one
record over and over, which would only measure the caches). The outcome part of the chart (the card the chart loads
by HTMX) is timed as its own request.
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
    parser.add_argument("--dataset", action="store_true", help="Use bench/dataset.py's bench clinic, not the demo.")
    parser.add_argument("--targets", type=int, default=20, help="With --dataset: records each page rotates over.")
    parser.add_argument("--out", default="pages.json", help="File name under bench/results for the figures.")
    parser.add_argument("--only", default="", help="Time only the pages whose name contains this text (e.g. calendar).")
    parser.add_argument(
        "--profile", action="store_true",
        help="After timing each page, profile --requests more of it (cProfile on the CPU clock) into "
        "bench/results/profile-<page>.txt: the functions by own and by cumulative time.",
    )  # fmt: skip
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

    from bench.server_cpu import backend_cpu_clock

    call_command("migrate", verbosity=0)
    import logging

    logging.getLogger("prolotrack.access").setLevel(logging.WARNING)  # one JSON line per request otherwise
    from prolotrack.clinics.models import Clinic, User
    from prolotrack.demo.seed import DEMO_CLINIC, seed_demo
    from prolotrack.patients.models import Patient
    from prolotrack.treatment.models import Course, TreatmentSession

    if args.dataset:
        from bench.dataset import BENCH_CLINIC

        clinic = Clinic.objects.filter(name=BENCH_CLINIC).first()
        if clinic is None:
            sys.exit("No bench clinic in this database: run bench/dataset.py first.")
        user = User.objects.get(username="bench_clinician")
    else:
        if not Clinic.objects.filter(name=DEMO_CLINIC).exists():
            started = time.perf_counter()
            seed_demo()
            print(f"seeded the demo clinic in {time.perf_counter() - started:.1f} s")
        clinic = Clinic.objects.get(name=DEMO_CLINIC)
        user = User.objects.get(username="clinician")
    n = args.targets if args.dataset else 1
    # Signed sessions spread over the clinic (every k-th by id), their courses and patients.
    signed = TreatmentSession.objects.filter(clinic=clinic, signed_at__isnull=False, number__gt=1)
    total = signed.count()
    step = max(1, total // n)
    ids = list(signed.order_by("id").values_list("id", flat=True)[::step][:n]) if args.dataset else []
    if ids:
        sessions = list(TreatmentSession.objects.filter(id__in=ids).select_related("course", "patient", "clinician"))
    else:
        sessions = [signed.order_by("-number", "id").first()]
    if args.dataset:
        courses = [s.course for s in sessions]
    else:
        course = Course.objects.filter(clinic=clinic, status="completed").order_by("id").first()
        courses = [course or sessions[0].course]
    patients = [s.patient for s in sessions]
    names = list(
        Patient.objects.filter(clinic=clinic)
        .order_by("id")
        .values_list("family_name", "mrn", "given_name")[:: max(1, Patient.objects.filter(clinic=clinic).count() // n)][
            :n
        ]
    )
    htmx = {"HX-Request": "true"}
    # (page, [urls], headers): each page's requests go round its urls.
    pages: list[tuple[str, list[str], dict[str, str]]] = [
        ("patient list", ["/patients/"], {}),
        (
            "patient search (name)",
            [f"/patients/?q={f}" for f, _, _ in names] if args.dataset else ["/patients/?q=an"],
            {},
        ),
        ("patient chart", [f"/patients/{p.uuid}/" for p in patients], {}),
        ("chart outcome card (HTMX)", [f"/patients/{p.uuid}/outcomes/" for p in patients], htmx),
        ("course", [f"/courses/{c.uuid}/" for c in courses], {}),
        ("session record (signed, with map)", [f"/sessions/{s.uuid}/" for s in sessions], {}),
        ("calendar (week)", [f"/calendar/?view=week&date={s.planned_on.isoformat()}" for s in sessions], {}),
        (
            "calendar (week, one clinician)",
            [f"/calendar/?view=week&date={s.planned_on}&clinician={s.clinician.username}" for s in sessions],
            {},
        ),
        ("calendar (day)", [f"/calendar/?view=day&date={s.planned_on.isoformat()}" for s in sessions], {}),
        (
            "calendar (day, one clinician)",
            [f"/calendar/?view=day&date={s.planned_on}&clinician={s.clinician.username}" for s in sessions],
            {},
        ),
        ("API session", [f"/api/sessions/{s.uuid}" for s in sessions], {}),
    ]
    if args.dataset:
        pages.insert(2, ("patient search (record number)", [f"/patients/?q={m[:6]}" for _, m, _ in names], {}))
        pages.insert(3, ("patient search (given and family)", [f"/patients/?q={g}+{f}" for f, _, g in names], {}))
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    # Past the second factor, as a good code on the log-in page leaves a session (docs/SECURITY.md).
    from prolotrack.accounts.testing import mark_verified

    mark_verified(client, user)
    from prolotrack.clinics.services import create_api_token

    token = create_api_token(user.memberships.get(clinic=clinic))
    api = {"Authorization": f"Bearer {token}"}
    # CPU of this process plus, on PostgreSQL, of the server backend serving its connection (same machine): on a
    # shared machine the wall time mostly measures the neighbours, the CPU time what the request costs.
    server_cpu = backend_cpu_clock(connection)

    results = []
    with override_settings(DEBUG=False):
        for name, urls, headers in [p for p in pages if args.only in p[0]]:
            extra = {**headers, **(api if urls[0].startswith("/api/") else {})}
            bad = ""
            for url in urls[:5] + urls[:1]:
                response = client.get(url, headers=extra)
                if response.status_code != 200:
                    bad = f"{name}: {url} answered {response.status_code}; skipped"
            if bad:
                print(bad)
                continue
            # Django clears its query log when a request starts, so count with an execute wrapper instead.
            query_counts = []
            for url in urls:
                counted: list[str] = []

                def count(execute, sql, params, many, context, counted=counted):  # type: ignore[no-untyped-def]
                    counted.append(sql)
                    return execute(sql, params, many, context)

                with connection.execute_wrapper(count):
                    client.get(url, headers=extra)
                query_counts.append(len(counted))
            times, cpus = [], []
            for i in range(args.requests):
                url = urls[i % len(urls)]
                started, cpu, server = time.perf_counter(), time.process_time(), server_cpu()
                client.get(url, headers=extra)
                times.append((time.perf_counter() - started) * 1000)
                cpus.append((time.process_time() - cpu + server_cpu() - server) * 1000)
            times.sort()
            cpus.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            results.append(
                {"page": name, "median_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1),
                 "max_ms": round(times[-1], 1), "cpu_median_ms": round(statistics.median(cpus), 1),
                 "cpu_p95_ms": round(cpus[max(0, int(len(cpus) * 0.95) - 1)], 1),
                 "queries": min(query_counts), "queries_max": max(query_counts), "records": len(urls)}
            )  # fmt: skip
            print(results[-1], f"load {os.getloadavg()[0]:.1f}", flush=True)
            if args.profile:
                _profile(name, lambda i, urls=urls, extra=extra: client.get(urls[i % len(urls)], headers=extra), args)
    width = max(len(r["page"]) for r in results)
    print(f"{'page':<{width}}  median ms  p95 ms  CPU median  CPU p95  queries")
    for r in results:
        spread = f"-{r['queries_max']}" if r["queries_max"] != r["queries"] else ""
        print(f"{r['page']:<{width}}  {r['median_ms']:>9}  {r['p95_ms']:>6}  {r['cpu_median_ms']:>10}  "
              f"{r['cpu_p95_ms']:>7}  {r['queries']:>7}{spread}")  # fmt: skip
    print(f"database: {connection.vendor}; load average {os.getloadavg()}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / args.out).write_text(json.dumps(results, indent=2))


def _profile(name: str, call, args) -> None:  # type: ignore[no-untyped-def]
    """cProfile on the CPU clock (a loaded machine's waits left out) over --requests requests of one page."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for i in range(args.requests):
        call(i)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    out.write(f"{name}: {args.requests} requests, CPU clock; load average {os.getloadavg()}\n")
    stats.sort_stats("tottime").print_stats(45)
    stats.sort_stats("cumulative").print_stats(90)
    slug = "".join(c if c.isalnum() else "-" for c in name).strip("-")
    path = ROOT / "bench" / "results" / f"profile-{slug}.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_text(out.getvalue())
    stats.dump_stats(path.with_suffix(".prof"))  # for pstats' print_callees
    print(f"profile: {path}", flush=True)


if __name__ == "__main__":
    main()
