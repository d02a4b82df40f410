"""FHIR Bulk export speed and memory, against a bare SELECT + orjson.dumps of the same rows, in the same run.

Uses the dataset of bench/dataset.py (run that first). The export side is the product's own job code
(`prolotrack.fhir.bulk.write_files`: keyset batches sized by bytes, rows mapped straight to FHIR JSON, one NDJSON file
per type); the bare side runs the same SELECTs (same columns and joins, from the same querysets) through a raw
cursor and writes `orjson.dumps(row)` lines, with no mapping. Both write files to a scratch folder. Prints resources
per second for each (wall clock, and per CPU second of this process, which other work on a shared machine does not
distort), their ratio, the resident memory sampled after every batch (flat means constant memory) and the peak. On
PostgreSQL it also reads the CPU of the server backend serving the export's connection (/proc/<pg_backend_pid>/stat,
same machine) and gives the rate per CPU second of both together.

    .venv/bin/python bench/fhir_export.py [--data-dir bench/results/clinic] [--rounds 3]
"""

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    """Resident memory now (Linux /proc), in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT / "bench" / "results" / "clinic"))
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of (bare, export); medians are reported.")
    parser.add_argument("--export-only", action="store_true", help="Skip the bare side (its PostgreSQL cursor holds a "
                        "whole table in memory: 1.2 GB for 1.26M injection sites).")  # fmt: skip
    args = parser.parse_args()
    os.environ["PROLOTRACK_DATA_DIR"] = args.data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    import django

    django.setup()
    import orjson
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    from bench.dataset import BENCH_CLINIC
    from bench.server_cpu import backend_cpu_clock
    from prolotrack.clinics.models import Clinic, Membership
    from prolotrack.fhir import bulk
    from prolotrack.fhir.models import ExportJob, ExportLevel
    from prolotrack.fhir.resources import EXPORT_TYPES, TYPES

    call_command("migrate", verbosity=0)  # a dataset made before the latest migrations
    clinic = Clinic.objects.filter(name=BENCH_CLINIC).first()
    if clinic is None:
        sys.exit(f"No bench clinic in {args.data_dir}: run bench/dataset.py first.")
    membership = Membership.objects.filter(clinic=clinic, role="admin").first()
    scratch = Path(tempfile.mkdtemp(prefix="fhir-export-bench-"))
    start_rss = rss_mb()
    load_at_start = os.getloadavg()[0]
    server_cpu = backend_cpu_clock(connection)  # CPU seconds of the PostgreSQL backend (0 on SQLite)

    def bare() -> tuple[int, float, float]:
        """Same SELECTs, raw cursor, orjson.dumps of each row tuple, one file per type."""
        n = 0
        began = time.perf_counter()
        cpu = time.process_time()
        for name in EXPORT_TYPES:
            rtype = TYPES[name]
            with open(scratch / f"bare-{name}.ndjson", "wb", buffering=1024 * 1024) as out:
                for source in rtype.sources:
                    qs = source.queryset(clinic)
                    if rtype.gone_when_eie and source.versioned:
                        qs = qs.filter(entered_in_error_at__isnull=True)
                    sql, params = qs.order_by("pk").values_list(*source.fields).query.sql_with_params()
                    with connection.cursor() as cursor:
                        cursor.execute(sql, params)
                        while rows := cursor.fetchmany(5000):
                            out.write(
                                b"\n".join([orjson.dumps(r, default=str) for r in rows]) + b"\n"
                            )  # Decimals on PostgreSQL
                            n += len(rows)
        return n, time.perf_counter() - began, time.process_time() - cpu

    # Resident memory sampled after every batch the writer produces (through its progress hook): flat = constant.
    samples: list[float] = []
    progress = bulk._progress

    def sampled_progress(job: object, text: str) -> None:
        samples.append(rss_mb())
        progress(job, text)

    bulk._progress = sampled_progress

    hashes: dict[str, str] = {}  # SHA-256 of each type's NDJSON: the same data gives the same bytes before and after

    def export() -> tuple[int, float, float, int, float]:
        job = ExportJob.objects.create(
            clinic=clinic,
            membership=membership,
            user=membership.user,
            level=ExportLevel.SYSTEM,
            types=list(EXPORT_TYPES),
            request_url="bench",
            status="running",
        )
        began = time.perf_counter()
        cpu = time.process_time()
        server = server_cpu()
        with override_settings(DATA_DIR=scratch, MEDIA_ROOT=scratch / "files"):  # the file store in the scratch folder
            output = bulk.write_files(job)
            elapsed = time.perf_counter() - began
            cpu = time.process_time() - cpu
            server = server_cpu() - server
            size = sum(o["size"] for o in output)
        n = sum(o["count"] for o in output)
        hashes.update({o["type"]: o["sha256"] for o in output})
        return n, elapsed, cpu, size, server

    bare_rates, export_rates, ratios, export_cpu_rates, cpu_ratios, server_cpus, both_rates = [], [], [], [], [], [], []
    counts = (0, 0)
    size = 0
    for round_no in range(1, args.rounds + 1):
        n_bare, t_bare, c_bare = bare() if not args.export_only else (1, 1.0, 1.0)
        n_export, t_export, c_export, size, s_export = export()
        counts = (n_bare, n_export)
        bare_rates.append(n_bare / t_bare)
        export_rates.append(n_export / t_export)
        ratios.append(t_export / t_bare)
        export_cpu_rates.append(n_export / c_export)
        cpu_ratios.append(c_export / c_bare)
        server_cpus.append(s_export)
        both_rates.append(n_export / (c_export + s_export))
        print(
            f"round {round_no}: bare {n_bare:,} rows in {t_bare:.2f} s ({n_bare / t_bare:,.0f}/s); "
            f"export {n_export:,} resources in {t_export:.2f} s ({n_export / t_export:,.0f}/s); "
            f"export/bare time {t_export / t_bare:.2f}x; per CPU second: export {n_export / c_export:,.0f}/s, "
            f"bare {n_bare / c_bare:,.0f}/s; export CPU {c_export:.1f} s, server backend CPU {s_export:.1f} s, "
            f"per CPU second of both {n_export / (c_export + s_export):,.0f}/s; RSS now {rss_mb():.0f} MB"
            + ("; bare side skipped, ignore its figures" if args.export_only else ""),
            flush=True,
        )
    result = {
        "data_dir": args.data_dir,
        "resources": counts[1],
        "bare_rows": counts[0],
        "ndjson_bytes": size,
        "export_resources_per_s_median": round(statistics.median(export_rates)),
        "bare_rows_per_s_median": round(statistics.median(bare_rates)),
        "export_over_bare_time_median": round(statistics.median(ratios), 2),
        "export_resources_per_cpu_s_median": round(statistics.median(export_cpu_rates)),
        "export_over_bare_cpu_median": round(statistics.median(cpu_ratios), 2),
        "server_backend_cpu_s_median": round(statistics.median(server_cpus), 1),
        "export_resources_per_cpu_s_with_server_median": round(statistics.median(both_rates)),
        "load_average_1m_at_start": load_at_start,
        "load_average_1m_at_end": os.getloadavg()[0],
        "rss_start_mb": round(start_rss, 1),
        "rss_during_export_min_mb": round(min(samples), 1),
        "rss_during_export_max_mb": round(max(samples), 1),
        "batches": len(samples) // args.rounds,
        "rss_end_mb": round(rss_mb(), 1),
        "peak_rss_mb": round(peak_mb(), 1),
        "sha256": hashes,
    }
    print(json.dumps(result, indent=2))
    import shutil

    shutil.rmtree(scratch, ignore_errors=True)  # the NDJSON written (GBs at clinic size and above)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "fhir_export.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
