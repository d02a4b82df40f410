"""FHIR import speed on real Synthea data as published: the 20 R4 transaction bundles of
prolotrack/fhir/tests/fixtures/synthea_r4 (fixtures/README.md), each POSTed to the transaction endpoint (POST /fhir,
bearer token, middleware, JSON parse, R4B validation, mapping, audited versioned writes) in-process with Django's
test client, on a fresh SQLite database in a scratch folder.

Prints resources per second by wall time and by this process's CPU time (the machine is shared: wall time includes
waiting for a core; CPU time is what the code costs). "Resources" counts every entry read and validated, including
those skipped by type (Encounter, Claim, ExplanationOfBenefit...).

On PostgreSQL (DATABASE_URL set; the database must exist and is migrated, each round adds a clinic) the database
server does part of the work in its own process, so this process's CPU time alone flatters the code: the bench also
reads the CPU time of the server process serving its connection (/proc/<pg_backend_pid>/stat, same machine) and
prints the rate per CPU second of both together.

    .venv/bin/python bench/fhir_import_synthea.py [--rounds 3] [--data-dir bench/results/fhir-import-synthea-data]
    .venv/bin/python bench/fhir_import_synthea.py --profile   # one more round under cProfile (CPU clock)
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/fhir_bench .venv/bin/python bench/fhir_import_synthea.py
"""

import argparse
import cProfile
import gzip
import json
import os
import pstats
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BUNDLES = ROOT / "prolotrack" / "fhir" / "tests" / "fixtures" / "synthea_r4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="Fresh databases to import the sample into.")
    parser.add_argument("--data-dir", default=str(ROOT / "bench" / "results" / "fhir-import-synthea-data"))
    parser.add_argument(
        "--profile", action="store_true", help="After the rounds, profile one more (cProfile, CPU clock): top 40."
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    os.environ["PROLOTRACK_DEBUG"] = "0"  # production: no SQL debug wrapper
    os.environ.setdefault("PROLOTRACK_SECRET_KEY", "bench-only-secret-key-not-used-for-anything-else-0123456789")
    os.environ.setdefault("PROLOTRACK_ALLOWED_HOSTS", "localhost,testserver")
    data_dir = Path(args.data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    os.environ["PROLOTRACK_DATA_DIR"] = str(data_dir)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    from prolotrack.clinics.models import Clinic, Membership, User
    from prolotrack.clinics.roles import Role
    from prolotrack.clinics.services import create_api_token

    bodies = [gzip.decompress(p.read_bytes()) for p in sorted(BUNDLES.glob("*.json.gz"))]
    resources = sum(len(json.loads(b)["entry"]) for b in bodies)
    print(f"sample: {len(bodies)} bundles, {resources} resources, {sum(map(len, bodies)) / 1e6:.1f} MB")

    def server_cpu() -> tuple[int, float]:
        """The PostgreSQL backend serving this connection, and its CPU seconds so far (0 on SQLite)."""
        if connection.vendor != "postgresql":
            return 0, 0.0
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    walls, cpus, servers = [], [], []
    for round_number in range(args.rounds + args.profile):
        profiler = cProfile.Profile(time.process_time) if round_number == args.rounds else None
        run = f"{os.getpid()}-{round_number}"  # a PostgreSQL database is kept between runs: names unique per run
        clinic = Clinic.objects.create(name=f"Bench Clinic {run}", timezone="UTC")
        user = User.objects.create_user(username=f"bench{run}")
        membership = Membership.objects.create(user=user, clinic=clinic, role=Role.CLINICIAN)
        headers = {"Authorization": f"Bearer {create_api_token(membership)}"}
        client = Client()
        if profiler is not None:
            profiler.enable()
        pid, started_server = server_cpu()
        started, started_cpu = time.perf_counter(), time.process_time()
        for body in bodies:
            response = client.post(
                "/fhir", data=body, content_type="application/fhir+json", headers=headers, secure=True
            )
            assert response.status_code == 200, (response.status_code, response.content[:500])
        if profiler is not None:
            profiler.disable()
            (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(ROOT / "bench" / "results" / "fhir_import_synthea.prof")  # for pstats / snakeviz
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            break
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
        end_pid, ended_server = server_cpu()
        assert end_pid == pid, "the database connection changed during the round: its server CPU is not comparable"
        servers.append(ended_server - started_server)
        server = f", {servers[-1]:.2f} s database server CPU" if pid else ""
        print(f"round {round_number + 1}: {walls[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU{server}")
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    both = statistics.median(c + s for c, s in zip(cpus, servers, strict=True))
    results = {
        "bundles": len(bodies),
        "resources": resources,
        "rounds": args.rounds,
        "median_wall_s": round(wall, 2),
        "median_cpu_s": round(cpu, 2),
        "resources_per_s": round(resources / wall),
        "resources_per_cpu_s": round(resources / cpu),
        "best_resources_per_s": round(resources / min(walls)),
        "median_cpu_with_server_s": round(both, 2),
        "resources_per_cpu_s_with_server": round(resources / both),
        "database": connection.vendor,
        "load_average_1min": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }
    for key, value in results.items():
        print(f"{key:24} {value}")
    out = ROOT / "bench" / "results" / "fhir_import_synthea.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
