"""Where the Bulk export's CPU goes, per resource and per phase, on the bench dataset (issue 17; docs/PERFORMANCE.md,
"Bulk export at 9,000 network-shape patients: where the time went").

Walks the first --limit rows of every exported source in keyset batches of 2,000, as `bulk.stream` does, timing each
phase on this process's CPU clock: building the SQL, executing and fetching, zipping rows into dicts and decoding JSON,
the per-batch lookups (`enrich`), the mappers, orjson, SHA-256. Nothing is written. --loaders django reads with Django's
cursor as it is (its Python timestamp loader, UUID objects, Decimals); --loaders fast with the export's
(`resources._fast_loaders`). --gc off turns the cyclic garbage collector off for the run (the export pauses it per
batch). Prints microseconds per resource for each type and in all, and the CPU of the server backend.

    DATABASE_URL=… .venv/bin/python bench/fhir_export_phases.py [--limit 20000] [--loaders fast|django] [--gc on|off]
"""

import argparse
import collections
import gc
import hashlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=20_000, help="Rows read from each source at most.")
    parser.add_argument("--loaders", choices=("fast", "django"), default="fast")
    parser.add_argument("--gc", choices=("on", "off"), default="on")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    import django

    django.setup()
    import orjson
    from django.db import connection

    from bench.dataset import BENCH_CLINIC
    from bench.server_cpu import backend_cpu_clock
    from prolotrack.clinics.models import Clinic
    from prolotrack.fhir import resources

    clinic = Clinic.objects.get(name=BENCH_CLINIC)
    clock = time.process_time

    backend_cpu = backend_cpu_clock(connection)

    if args.loaders == "django":
        resources._fast_loaders = lambda cursor: None  # the enrich lookups (Procedure's sites) read as Django does too
    if args.gc == "off":
        gc.disable()
    total: collections.Counter[str] = collections.Counter()
    count = 0
    server, began = backend_cpu(), clock()
    for name in resources.EXPORT_TYPES:
        rtype = resources.TYPES[name]
        spent: collections.Counter[str] = collections.Counter()
        n = 0
        for source in rtype.sources:
            qs = source.queryset(clinic)
            if rtype.gone_when_eie and source.versioned:
                qs = qs.filter(entered_in_error_at__isnull=True)
            last, size, taken = 0, 2000, 0
            while taken < args.limit:
                t0 = clock()
                sql, params = (
                    qs.filter(pk__gt=last).order_by("pk")[:size].values(*source.fields).query.sql_with_params()
                )
                t1 = clock()
                with connection.cursor() as cursor:
                    if connection.vendor == "postgresql":
                        resources._fast_loaders(cursor.cursor)
                    cursor.execute(sql, params)
                    raw = cursor.fetchall()
                t2 = clock()
                rows = [dict(zip(source.fields, r, strict=True)) for r in raw]
                for field, decode in resources._decoders(source, connection.vendor):
                    for row in rows:
                        if row[field] is not None:
                            row[field] = decode(row[field])
                t3 = clock()
                if not rows:
                    break
                if source.enrich is not None:
                    source.enrich(rows)
                t4 = clock()
                mapped = [source.mapper(r) for r in rows]
                t5 = clock()
                chunk = b"".join(
                    [orjson.dumps(r, option=resources.DUMP_OPTION | orjson.OPT_APPEND_NEWLINE) for r in mapped]
                )
                t6 = clock()
                hashlib.sha256(chunk).digest()
                t7 = clock()
                for phase, seconds in (("sql", t1 - t0), ("execute+fetch", t2 - t1), ("dicts+json", t3 - t2),
                                       ("enrich", t4 - t3), ("map", t5 - t4), ("orjson", t6 - t5), ("sha256", t7 - t6)):  # fmt: skip
                    spent[phase] += seconds
                n += len(rows)
                taken += len(rows)
                last = rows[-1]["id"]
                if len(rows) < size:
                    break
        if n:
            total += spent
            count += n
            phases = " ".join(f"{k} {1e6 * v / n:.1f}" for k, v in spent.items())
            print(f"{name:26s} {n:8,d}  {phases}  total {1e6 * sum(spent.values()) / n:.1f} µs/resource", flush=True)
    cpu, server = clock() - began, backend_cpu() - server
    phases = " ".join(f"{k} {1e6 * v / count:.1f}" for k, v in total.items())
    print(
        f"all {count:,} resources ({args.loaders} loaders, gc {args.gc}): {phases}  total {1e6 * sum(total.values()) / count:.1f} µs/resource"
    )
    print(f"process CPU {cpu:.1f} s = {count / cpu:,.0f} resources per CPU second; server backend CPU {server:.1f} s; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
