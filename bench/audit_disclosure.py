"""The cost of naming every patient a page shows in the audit trail: `audit.services.record_disclosure` for 1 to 600
patients, each call in its own transaction and committed, as a page's is (docs/PERFORMANCE.md, "Pages audit every
patient they show (session 11)").

    .venv/bin/python bench/audit_disclosure.py --dataset --data-dir /tmp/clinic          # SQLite bench clinic
    DATABASE_URL=postgresql://... .venv/bin/python bench/audit_disclosure.py --dataset   # PostgreSQL
    .venv/bin/python bench/audit_disclosure.py                                          # the demo clinic

Prints, per number of patients, the wall and CPU time of the call (CPU: this process and, on PostgreSQL, the server
backend serving it: bench/server_cpu.py), median and p95, and the same for the patients named by uuid only
(`patients.queries.known_by_uuid`, as the calendar names its appointments' patients). The events are written for
real (action `bench.disclosure`): run it on a scratch copy, never on data that matters.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT / "bench" / "results" / "data"), help="The SQLite folder.")
    parser.add_argument("--dataset", action="store_true", help="Use bench/dataset.py's bench clinic, not the demo.")
    parser.add_argument("--sizes", default="0,1,50,100,250,500,600", help="Numbers of patients named per call.")
    parser.add_argument("--repeats", type=int, default=30, help="Timed calls per size (after 3 warm-up ones).")
    args = parser.parse_args()
    os.environ["PROLOTRACK_DATA_DIR"] = args.data_dir
    os.environ.setdefault("PROLOTRACK_DEMO_PASSWORD", "bench-password-1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.server_cpu import backend_cpu_clock
    from prolotrack.audit.services import Actor, record_disclosure
    from prolotrack.clinics.models import Clinic, User
    from prolotrack.patients.models import Patient
    from prolotrack.patients.queries import known_by_uuid

    call_command("migrate", verbosity=0)
    if args.dataset:
        from bench.dataset import BENCH_CLINIC

        clinic, username = Clinic.objects.filter(name=BENCH_CLINIC).first(), "bench_clinician"
        if clinic is None:
            sys.exit("No bench clinic in this database: run bench/dataset.py first.")
    else:
        from prolotrack.demo.seed import DEMO_CLINIC, seed_demo

        if not Clinic.objects.filter(name=DEMO_CLINIC).exists():
            seed_demo()
        clinic, username = Clinic.objects.get(name=DEMO_CLINIC), "clinician"
    user = User.objects.get(username=username)
    membership = user.memberships.get(clinic=clinic)
    actor = Actor(user=user, clinic=clinic, role=membership.role, client_address="127.0.0.1", channel="web")
    sizes = [int(n) for n in args.sizes.split(",")]
    patients = list(Patient.objects.filter(clinic=clinic).order_by("id")[: max(sizes)])
    server_cpu = backend_cpu_clock(connection)
    print(f"database: {connection.vendor}; {len(patients)} patients at most; load {os.getloadavg()[0]:.1f}")
    print("patients  named as  wall median  wall p95  CPU median  CPU p95 (ms)")
    for n in sizes:
        for how, shown in (("rows", patients[:n]), ("uuids", None)):
            if how == "uuids" and n == 0:
                continue
            walls, cpus = [], []
            for i in range(args.repeats + 3):
                started, cpu, server = time.perf_counter(), time.process_time(), server_cpu()
                named = shown if shown is not None else known_by_uuid(p.uuid for p in patients[:n])
                record_disclosure(actor, "bench.disclosure", named, detail={"start": "2026-12-07", "days": 7})
                if i >= 3:
                    walls.append((time.perf_counter() - started) * 1000)
                    cpus.append((time.process_time() - cpu + server_cpu() - server) * 1000)
            walls.sort()
            cpus.sort()
            p95 = max(0, int(len(walls) * 0.95) - 1)
            print(
                f"{n:>8}  {how:>8}  {statistics.median(walls):>11.2f}  {walls[p95]:>8.2f}  "
                f"{statistics.median(cpus):>10.2f}  {cpus[p95]:>7.2f}",
                flush=True,
            )
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
