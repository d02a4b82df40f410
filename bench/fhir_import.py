"""FHIR import speed: transaction Bundles and NDJSON, validated with fhir.resources R4B, written through the services.

Runs in-process on its own SQLite database in a scratch folder (created fresh each run), with Synthea-style data from
prolotrack/fhir/tests/fixtures/synthea.py. Prints resources per second for:

- validation alone (per resource `model_validate` on the parsed dict, the path the importer takes), against the whole
  Bundle through `Bundle.model_validate` and `Bundle.model_validate_json` (the slow paths);
- a transaction Bundle imported all-or-nothing (validate + map + audited versioned writes), first time and again
  (the re-import matches every record and writes nothing);
- the same resources as NDJSON files through `manage.py import_fhir`'s FileImporter.

"Resources" counts every entry read and validated, including the ones skipped by type (Encounter, Claim...);
"records written" counts rows the registry kept. Both are printed.

    .venv/bin/python bench/fhir_import.py [--patients 100] [--data-dir bench/results/fhir-import-data]
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


CPU: dict[str, float] = {}


def timed(fn, repeat: int = 1, name: str = ""):  # type: ignore[no-untyped-def]
    """Median wall time of `repeat` runs; the CPU time this process used is kept under `name` (the machine is
    shared: wall time includes waiting for a core, CPU time is what the code costs)."""
    times, cpu = [], []
    result = None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    if name:
        CPU[name] = statistics.median(cpu)
    return result, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=100, help="Synthea-style patients in the bundle.")
    parser.add_argument("--data-dir", default=str(ROOT / "bench" / "results" / "fhir-import-data"))
    args = parser.parse_args()
    data_dir = Path(args.data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    os.environ["PROLOTRACK_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    os.environ["PROLOTRACK_DEBUG"] = "0"  # production: no SQL debug wrapper
    os.environ.setdefault("PROLOTRACK_SECRET_KEY", "bench-only-secret-key-not-used-for-anything-else-0123456789")
    os.environ.setdefault("PROLOTRACK_ALLOWED_HOSTS", "localhost")

    import django

    django.setup()
    import orjson
    from django.core.management import call_command
    from django.db import connection
    from fhir.resources.R4B.bundle import Bundle

    call_command("migrate", verbosity=0)
    from prolotrack.audit.services import Actor
    from prolotrack.clinics.models import Clinic, Membership, User
    from prolotrack.clinics.roles import Role
    from prolotrack.fhir import importer, inbound
    from prolotrack.fhir.tests.fixtures.synthea import ndjson_files, transaction_bundle

    clinic = Clinic.objects.create(name="Bench Clinic", timezone="UTC")
    user = User.objects.create_user(username="bench")  # no password: it never signs in
    Membership.objects.create(user=user, clinic=clinic, role=Role.CLINICIAN)
    actor = Actor(user=user, clinic=clinic, role=Role.CLINICIAN, client_address=None, channel="fhir")

    bundle = transaction_bundle(patients=args.patients, seed=2026)
    raw = orjson.dumps(bundle)
    n = len(bundle["entry"])
    print(f"bundle: {args.patients} patients, {n} resources, {len(raw) / 1e6:.1f} MB")
    results: dict[str, object] = {"patients": args.patients, "resources": n, "bytes": len(raw)}

    def per_resource() -> None:
        for i, entry in enumerate(bundle["entry"]):
            assert not inbound.validate(entry["resource"], f"Bundle.entry[{i}].resource")

    def rate(key: str, count: int, wall: float) -> None:
        results[f"{key}_per_s"] = round(count / wall)
        results[f"{key}_per_cpu_s"] = round(count / CPU[key]) if CPU.get(key) else None

    _, t = timed(per_resource, 3, "validate_per_resource")
    rate("validate_per_resource", n, t)
    _, t = timed(lambda: Bundle.model_validate(orjson.loads(raw)), 3, "bundle_model_validate")
    rate("bundle_model_validate", n, t)
    _, t = timed(lambda: Bundle.model_validate_json(raw), 3, "bundle_model_validate_json")
    rate("bundle_model_validate_json", n, t)

    def first() -> importer.Result:
        return importer.import_bundle(actor, orjson.loads(raw))

    result, t = timed(first, 1, "bundle_import")
    written = sum(1 for o in result.outcomes if o.result in ("created", "updated"))
    results["bundle_import_s"] = round(t, 2)
    rate("bundle_import", n, t)
    results["bundle_records_written"] = written
    results["bundle_records_written_per_s"] = round(written / t)
    result, t = timed(lambda: importer.import_bundle(actor, orjson.loads(raw)), 1, "bundle_reimport")
    assert not any(o.result == "created" for o in result.outcomes), "a re-import created records"
    rate("bundle_reimport", n, t)

    folder = data_dir / "ndjson"
    folder.mkdir()
    for resource_type, rows in ndjson_files(transaction_bundle(patients=args.patients, seed=2027)).items():
        (folder / f"{resource_type}.ndjson").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    paths = sorted(folder.iterdir())
    lines = sum(len(p.read_bytes().splitlines()) for p in paths)

    def ndjson() -> importer.FileReport:
        return importer.FileImporter(actor).run(paths)

    report, t = timed(ndjson, 1, "ndjson_import")
    assert not report.errors, report.errors[:3]
    written = sum(v for (_, r), v in report.counts.items() if r in ("created", "updated"))
    results["ndjson_resources"] = lines
    rate("ndjson_import", lines, t)
    results["ndjson_records_written_per_s"] = round(written / t)
    results["database"] = connection.vendor
    results["load_average_1min"] = os.getloadavg()[0]
    results["cpus"] = os.cpu_count()

    for key, value in results.items():
        print(f"{key:36} {value}")
    out = ROOT / "bench" / "results" / "fhir_import.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
